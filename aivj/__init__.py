"""AIVJ Coupling Lab subsystems beyond training: the ``aivj`` command line and the packages it drives.

``aivj.milk`` (preset parsing, features), ``aivj.ingest`` (aidata importers), ``aivj.refinery``
(projectM renders and labels), ``aivj.registry`` (versioned models), ``aivj.export`` (web app JSON, ONNX).
Training itself lives in the top-level ``coupling``, ``datamodules`` and ``callbacks`` packages.
"""

__version__ = "0.1.0"
