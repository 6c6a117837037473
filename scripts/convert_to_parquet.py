"""Convert aidata packs into the partitioned Parquet dataset (same code as ``aivj ingest``).

python scripts/convert_to_parquet.py INPUT... --output DIR [--sample N] [--strict]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from aivj.ingest.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
