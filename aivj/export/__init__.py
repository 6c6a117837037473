"""Hand-over to the web app: ``pairs-quality.v0.json`` for a pack, and the network as ONNX.

``manifest`` reads a pack's pairs (manifest.jsonl or pairs-manifest.v0.json) and resolves their
files; ``model`` loads a registry version or checkpoint; ``pairs_quality`` scores and calibrates;
``onnx_export`` writes and checks the ONNX file; ``cli`` is ``aivj export``.
"""
