"""`python -m comparison`: see `comparison.cli`."""

from comparison.cli import main

raise SystemExit(main())
