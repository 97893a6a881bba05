"""``python -m quarter_hour``."""

from .cli import main

raise SystemExit(main())
