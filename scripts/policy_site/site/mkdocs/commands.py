"""MkDocs' own commands as `policy build` and `policy serve` run them: MkDocs' logging on stderr, a build of a
loaded configuration, the live-reload server, and MkDocs' own errors (Abort) as one line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...errors import UserError


def setup_logging(verbose: bool) -> None:
    """MkDocs' messages on stderr: warnings (and with verbose, everything), in MkDocs' own format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False


def build(config: Any, dirty: bool) -> None:
    """MkDocs' build of a loaded configuration (into config.site_dir)."""
    from mkdocs.commands.build import build as mkdocs_build
    mkdocs_build(config, dirty=dirty)


def serve(config_file: str, dev_addr: str) -> None:
    """MkDocs' live-reload server, with its messages."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    setup_logging(False)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    mkdocs_serve(config_file=config_file, dev_addr=dev_addr, livereload=True)


@contextmanager
def build_errors() -> Iterator[None]:
    """MkDocs stopping a build (Abort: strict warnings, a configuration error) as one line."""
    from mkdocs.exceptions import Abort
    try:
        yield
    except Abort as exc:
        raise UserError(f"build stopped: {exc}") from None
