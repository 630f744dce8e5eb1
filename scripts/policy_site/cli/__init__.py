"""The `policy` command line (`policy`, `python -m policy_site`)."""

from .main import main

__all__ = ["main"]
