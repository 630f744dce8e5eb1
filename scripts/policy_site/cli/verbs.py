"""Registering sub-commands: every verb (and sub-verb) gets --help, --config and its handler the same way."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
AddVerb = Callable[[str, Handler, str], argparse.ArgumentParser]


def verb_adder(subparsers: argparse._SubParsersAction) -> AddVerb:
    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--config", default=argparse.SUPPRESS, help="the site's mkdocs.yml")
        parser.set_defaults(handler=handler)
        return parser

    return add
