"""`python -m policy_site.bench` (what `make bench` runs)."""

import sys

from .sites import main

sys.exit(main())
