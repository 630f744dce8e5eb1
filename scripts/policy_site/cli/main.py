"""The `policy` command line: argument parsing, and every user mistake as one clean line and an exit code."""

from __future__ import annotations

import os
import sys

from ..errors import UserError
from .parser import build_parser


def _quiet_stdout() -> None:
    """After the reader of our output went away (`policy versions | head -1`): no more writes, no traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        status = args.handler(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # like any Unix tool stopped by SIGPIPE
    except UserError as exc:
        print(f"policy {args.verb}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"policy {args.verb}: interrupted", file=sys.stderr)
        return 130
