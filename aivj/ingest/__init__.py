"""Ingestion of the user's aidata packs into the presets/pairs Parquet layout.

``sources`` finds the layouts and resolves preset paths, ``readers`` reads each manifest kind,
``labels`` reads eval.jsonl / pair_summary_v2.csv, ``convert`` checks every row (quarantine with a
reason), ``tables`` builds and writes the tables, ``splits`` assigns splits by content hash,
``registry`` remembers parsed files for incremental runs, ``cli`` is ``aivj ingest``.
"""
