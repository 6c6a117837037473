"""The template market (``aivj market``, docs/market.md): elite pairs packaged as templates.

``config`` (conf/market/default.yaml), ``store`` (bundles on disk, the ranking, who sees what),
``texts`` (.milk text by content hash), ``previews`` (animated WebP from the frame cache),
``similarity`` (nearest templates on the standardised feature space), ``build`` (the library from
the dataset's elite pairs), ``uploads`` (validate, score, place), ``app`` (the FastAPI service and
its web page).
"""
