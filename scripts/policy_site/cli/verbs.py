"""Registering sub-commands: every verb (and sub-verb) gets --help, --config and its handler the same way."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
# a handler, or where it is: "module:function" in this package's cli folder, imported when the verb runs
AddVerb = Callable[[str, Handler | str, str], argparse.ArgumentParser]


def _lazy(where: str) -> Handler:
    module, function = where.split(":")

    def handler(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"{__package__}.{module}"), function)(args)
    return handler


def verb_adder(subparsers: argparse._SubParsersAction) -> AddVerb:
    def add(name: str, handler: Handler | str, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--config", default=argparse.SUPPRESS, help="the site's mkdocs.yml")
        parser.set_defaults(handler=_lazy(handler) if isinstance(handler, str) else handler)
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
