"""``aivj pipeline`` as a script: ``python scripts/run_full_training.py --dry-run`` (aivj/pipeline/cli.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from aivj.pipeline.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
