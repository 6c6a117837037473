"""``python -m aivj ...`` = the ``aivj`` console command."""

from aivj.cli import main

raise SystemExit(main())
