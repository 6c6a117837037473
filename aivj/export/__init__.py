"""Hand-over to the web app: ``pairs-quality.v0.json`` for a pack, and the network as ONNX.

The model, its loading, a pack's pairs and the ONNX exporter are ``aivj.inference``'s; here
``gate`` decides the scoring path a version may ship on, ``pack_export`` scores a pack (rendering
it first when it can), ``pairs_quality`` writes the browser's file, ``cli`` is ``aivj export``.
"""
