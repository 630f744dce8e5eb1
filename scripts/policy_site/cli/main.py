"""The `policy` command line: argument parsing, and every user mistake as one clean line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from ..errors import UserError
from .import_verb import add_import_verb
from .init import add_init_verb
from .mail_verbs import add_verbs
from .notice import add_notice_verb
from .site_verbs import cmd_build, cmd_check, cmd_demo, cmd_diff, cmd_serve, cmd_versions
from .subscriptions_verb import add_subscriptions_verb
from .translate import add_translate_verb
from .verbs import verb_adder

EPILOG = "Run `policy VERB --help` for the options of each verb."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy", description="Publish a privacy policy kept as YAML in git: "
                                     "validation, versions, diffs, site, feeds and email notices.", epilog=EPILOG)
    parser.add_argument("--config", default="mkdocs.yml", help="the site's mkdocs.yml (default: %(default)s)")
    parser.add_argument("--version", action="version", version=f"policy {_version()}")
    verb = verb_adder(parser.add_subparsers(dest="verb", metavar="VERB"))

    p = verb("check", cmd_check, "Validate policy/ and its history; list every problem as file:line:column.")
    p.add_argument("--allow-shallow", action="store_true", help="accept a shallow git clone")
    p.add_argument("--strict-translations", action="store_true",
                   help="stale or missing translated sections are errors, not warnings")
    p.add_argument("--pull-request", action="store_true",
                   help="count notice periods from today, as merging publishes the new version (the default when "
                        "GITHUB_EVENT_NAME is pull_request)")
    p = verb("build", cmd_build, "Build the site (pages, archive, feeds, JSON) into site/.")
    p.add_argument("--site-dir", help="output folder (default: site_dir of mkdocs.yml, normally site/)")
    p.add_argument("--allow-shallow", action="store_true",
                   help="build from a shallow clone; the site then says its history is incomplete")
    p.add_argument("--accept-rewrite", action="append", default=[], metavar="VERSION",
                   help="build although the published text of VERSION was rewritten in git history; its pages then "
                        "say so (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true", help="show MkDocs' progress messages")
    p = verb("serve", cmd_serve, "Preview the site with live reload; unpublished edits show as a draft.")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on (default: %(default)s)")
    p = verb("versions", cmd_versions, "List the published versions, newest first.")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON (as /versions.json lists them)")
    p = verb("diff", cmd_diff, "Show the section-level change between two versions "
                               "(of one document: --document ID in a library) "
                               "(default: last published → working tree).")
    p.add_argument("from_version", nargs="?", metavar="FROM", help="a published version (default: the latest)")
    p.add_argument("to_version", nargs="?", metavar="TO", help="a published version or 'working' (default)")
    p.add_argument("--format", choices=("text", "markdown", "html", "json"), default="text",
                   help="output format; markdown is meant for a pull-request comment (default: %(default)s)")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    add_init_verb(verb)
    add_translate_verb(verb)
    add_notice_verb(verb)
    add_import_verb(verb)
    p = verb("demo", cmd_demo, "Create a demo repository with five versions, build it and fill the outbox.")
    p.add_argument("directory", metavar="DIR", help="a new folder for the demo repository")
    add_verbs(verb)
    add_subscriptions_verb(verb)
    return parser


def _version() -> str:
    try:
        return metadata.version("policy-site")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        from .. import __version__
        return __version__


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
