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


def verb_group(verb: AddVerb, name: str, help_text: str) -> AddVerb:
    """A verb made of actions (`policy subscribers add …`): alone, it prints its help and exits with 2.
    Returns the adder of its actions."""
    parser = verb(name, lambda args: _print_help(parser), help_text)
    return verb_adder(parser.add_subparsers(dest="action", metavar="ACTION"))


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
