"""``python -m faultray_lab.cli``: the command line."""

from . import main

raise SystemExit(main())
