"""`python -m policy_site` runs the `policy` command line."""

import sys

from .cli import main

sys.exit(main())
