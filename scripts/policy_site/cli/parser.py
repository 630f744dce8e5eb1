"""The `policy` command line's verbs and options: parsing only. A verb's code is imported when it runs
(`module:function` below), so `policy build` loads no mail code and `policy notify` no site code."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .verbs import AddVerb, verb_adder, verb_group

EPILOG = "Run `policy VERB --help` for the options of each verb."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy", description="Publish a privacy policy kept as YAML in git: "
                                     "validation, versions, diffs, site, feeds and email notices.", epilog=EPILOG)
    parser.add_argument("--config", default="mkdocs.yml", help="the site's mkdocs.yml (default: %(default)s)")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    verb = verb_adder(parser.add_subparsers(dest="verb", metavar="VERB"))

    p = verb("check", "check_verb:cmd_check",
             "Validate policy/ and its history; list every problem as file:line:column.")
    p.add_argument("--allow-shallow", action="store_true", help="accept a shallow git clone")
    p.add_argument("--strict-translations", action="store_true",
                   help="stale or missing translated sections are errors, not warnings")
    p.add_argument("--pull-request", action="store_true",
                   help="count notice periods from today, as merging publishes the new version (the default when "
                        "GITHUB_EVENT_NAME is pull_request)")
    p = verb("build", "site_verbs:cmd_build", "Build the site (pages, archive, feeds, JSON) into site/.")
    p.add_argument("--site-dir", help="output folder (default: site_dir of mkdocs.yml, normally site/)")
    p.add_argument("--allow-shallow", action="store_true",
                   help="build from a shallow clone; the site then says its history is incomplete")
    p.add_argument("--accept-rewrite", action="append", default=[], metavar="VERSION",
                   help="build although the published text of VERSION was rewritten in git history; its pages then "
                        "say so (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true", help="show MkDocs' progress messages")
    p = verb("serve", "site_verbs:cmd_serve", "Preview the site with live reload; unpublished edits show as a draft.")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on (default: %(default)s)")
    p.add_argument("--subscriptions-url", metavar="URL",
                   help="preview the subscribe form against a local `policy subscriptions serve`, like "
                        "http://127.0.0.1:8080/ (start it with POLICY_PREVIEW_ORIGINS=http://127.0.0.1:8000)")
    p = verb("versions", "history_verbs:cmd_versions", "List the published versions, newest first.")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON (as /versions.json lists them)")
    p = verb("diff", "history_verbs:cmd_diff",
             "Show the section-level change between two versions (of one document: --document ID in a library) "
             "(default: last published → working tree).")
    p.add_argument("from_version", nargs="?", metavar="FROM", help="a published version (default: the latest)")
    p.add_argument("to_version", nargs="?", metavar="TO", help="a published version or 'working' (default)")
    p.add_argument("--format", choices=("text", "markdown", "html", "json", "docx"), default="text",
                   help="output format; markdown is meant for a pull-request comment, docx is a Word document with "
                        "tracked changes and needs -o (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of the standard output")
    p.add_argument("--always", action="store_true",
                   help="with --format markdown: write a comment body even when nothing changed (by default it is "
                        "empty then, and the workflow posts no comment)")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    _proof_verbs(verb)
    _init_verbs(verb)
    _translate_verb(verb)
    _notice_verb(verb)
    _import_verb(verb)
    p = verb("demo", "site_verbs:cmd_demo",
             "Create a demo repository with five versions, build it and fill the outbox.")
    p.add_argument("directory", metavar="DIR", help="a new folder for the demo repository")
    _mail_verbs(verb)
    _subscriptions_verb(verb)
    return parser


def _proof_verbs(verb: AddVerb) -> None:
    p = verb("verify", "proof_verbs:cmd_verify",
             "Check a published site (a folder, a downloaded copy or its URL) or an evidence archive: every file "
             "against its sha256, every version's text against its content hash, every timestamp token.")
    p.add_argument("target", nargs="?", default="site", metavar="DIR|URL|FILE.zip",
                   help="a built site, a copy of one, its http(s) address, or an evidence .zip (default: %(default)s)")
    p.add_argument("--ca", metavar="FILE", help="the timestamp authority's root certificate(s), PEM: tokens must "
                   "chain to it (without it: the system's roots; tokens that do not chain to them are counted as "
                   "unchecked, their hashes are still checked)")
    p = verb("evidence", "proof_verbs:cmd_evidence",
             "Write one zip archive proving what version VERSION said, when it was published and who was told.")
    p.add_argument("version", metavar="VERSION", help="a published version")
    p.add_argument("-o", "--output", metavar="FILE.zip", help="the archive (default: evidence-VERSION.zip)")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    p.add_argument("--with-addresses", action="store_true",
                   help="list the recipients' addresses (by default each is a salted sha256)")


def _init_verbs(verb: AddVerb) -> None:
    p = verb("init", "init:cmd_init",
             "Create a new policy project: mkdocs.yml, a starter policy, .gitignore, the publishing workflow, git "
             "init.")
    p.add_argument("directory", metavar="DIR", help="a new (or empty) folder")
    p.add_argument("--title", help="title of the policy (default: Privacy policy)")
    p.add_argument("--organisation", help="name of the organisation")
    p.add_argument("--contact", help="an email address or an https:// contact page")
    p.add_argument("--site-url", dest="site_url", help="address of the published site, like https://privacy.example.org/")
    _package_option(p)


def _package_option(p: Any) -> None:
    p.add_argument("--package", metavar="SPEC",
                   help="what the generated workflow installs, as a pip requirement (default: this installation's "
                        "own origin, e.g. policy-site==0.1.0 or policy-site @ git+https://…@COMMIT)")


def _translate_verb(verb: AddVerb) -> None:
    p = verb("translate", "translate:cmd_translate",
             "Scaffold a translation of a document (policy translate [DOCUMENT] LANG), or show where every translation "
             "stands (--status).")
    p.add_argument("names", nargs="*", metavar="[DOCUMENT] LANG", help="the language (and, in a library, the "
                                                                       "document first)")
    p.add_argument("--status", action="store_true",
                   help="print every section's status (current, stale, untranslated, missing)")
    p.add_argument("--source-version", metavar="V", help="an existing translation whose files lack source_version "
                                                         "(brought in by hand): write V into them")
    p.add_argument("--dated", metavar="YYYY-MM-DD", help="as --source-version, with the version of the original "
                                                         "published last on or before that day")


def _notice_verb(verb: AddVerb) -> None:
    p = verb("notice", "notice:cmd_notice",
             "Render a version's legal notice for every account holder (no unsubscribe, no list headers), for your own "
             "mail system to send.")
    p.add_argument("version", nargs="?", help="the version (default: the newest published)")
    p.add_argument("--document", metavar="ID", help="the document, in a library of several (policy/library.yaml)")
    p.add_argument("--format", choices=("eml", "text", "html"), default="eml",
                   help="a whole message without To (eml, the default), or the text or HTML part alone")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (mode 0600) instead of standard output")


def _import_verb(verb: AddVerb) -> None:
    p = verb("import", "import_verb:cmd_import",
             "Import an existing policy (Markdown, HTML or Word .docx) into policy/, or the git history of one into a "
             "new project.")
    p.add_argument("file", nargs="?", metavar="FILE", help="the document: .md, .html or .docx")
    p.add_argument("--force", action="store_true", help="replace the policy.yaml and sections/ already in policy/")
    p.add_argument("--organisation", help="name of the organisation (default: from policy.yaml or mkdocs.yml)")
    p.add_argument("--document", metavar="ID", action="append",
                   help="add the file as document ID of a library (policy/ID/, listed in policy/library.yaml); with "
                        "--git: ID=PATH[,OLDER_PATH…], repeated, one per document of a library to import")
    p.add_argument("--existing-as", metavar="NAME", help="with --document, in a project of one document: make it a "
                                                         "library, its document moved to policy/NAME/ (old URLs "
                                                         "redirect)")
    p.add_argument("--contact", help="an email address or an https:// contact page (default: as for --organisation)")
    history = p.add_argument_group("a whole history, into a new project (or a library an import made)")
    history.add_argument("--git", metavar="REPO", help="a git repository holding the document")
    history.add_argument("--path", action="append", default=[], metavar="PATH",
                         help="the document's path in REPO; repeat for older paths git does not see as renames")
    history.add_argument("--ref", metavar="REF", help="branch, tag or commit whose history is read (default: HEAD)")
    history.add_argument("--versions", choices=("date", "sequence"),
                         help="numbers: date = 2023.1, 2023.2 … per year of the commit (default); "
                              "sequence = 1.0, 2.0 …")
    history.add_argument("--manifest", metavar="FILE",
                         help="the documents of a library to import (YAML: title, documents: [{id, title, paths}])")
    history.add_argument("--translation", metavar="ID/LANG=PATH", action="append", default=[],
                         help="with --document ID=PATH: the history of the document's translation into LANG, "
                              "PATH[,OLDER_PATH…] in REPO (repeatable)")
    history.add_argument("--title", help="with --manifest or --document ID=PATH: the library's title (default: the "
                                         "manifest's, else the first document's)")
    history.add_argument("--into", metavar="DIR", help="a new folder for the project, or a library an earlier "
                                                       "import of several documents made (only new revisions are "
                                                       "added)")
    history.add_argument("--site-url", dest="site_url",
                         help="address of the published site, like https://privacy.example.org/")
    _package_option(history)


def _subscriptions_verb(verb: AddVerb) -> None:
    action = verb_group(verb, "subscriptions", "The subscription service: a small web service where readers "
                                               "subscribe (with a confirmation mail), change their preferences "
                                               "and unsubscribe.")
    a = action("serve", "subscriptions_verb:cmd_serve",
               "Serve the subscription service (needs POLICY_UNSUBSCRIBE_SECRET and subscriptions_url in mkdocs.yml; "
               "the store, mail and limits as in the README).")
    a.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    a.add_argument("--port", type=int, default=8080, help="the port to listen on (default: %(default)s)")


def _mail_verbs(verb: AddVerb) -> None:
    action = verb_group(verb, "subscribers", "Manage the subscribers of the email notices (kept in SQLite, "
                                             "outside the site: POLICY_SUBSCRIBERS_DB or subscribers_db; or in "
                                             "PostgreSQL: POLICY_DATABASE_URL).")

    a = action("add", "mail_verbs:cmd_add",
               "Subscribe an address (re-subscribes a removed one, updates the name and any preference given).")
    a.add_argument("email", help="the address, like name@example.org")
    a.add_argument("--name", help="the name shown in the To header")
    a.add_argument("--documents", metavar="IDS", help="in a library: the documents, like privacy,terms, or all "
                                                      "(the default for a new subscriber)")
    a.add_argument("--changes", choices=("material", "all"),
                   help="material changes only (the default for a new subscriber), or all: minor ones too")
    a.add_argument("--language", metavar="CODE", help="a translation's language, like de: notices link to the "
                                                      "translated pages (empty: the original's)")
    a.add_argument("--subscribed", metavar="TIME", help="when the reader subscribed, like 2026-01-31T12:00:00Z (a "
                                                        "list moved from elsewhere; default: now). Versions published "
                                                        "before it are not sent, but the last upcoming one")
    a = action("remove", "mail_verbs:cmd_remove", "Unsubscribe an address; its undelivered notices are cancelled.")
    a.add_argument("email", nargs="?", help="the address")
    a.add_argument("--token", help="the token of an unsubscribe link instead of the address "
                                   "(checked with POLICY_UNSUBSCRIBE_SECRET)")
    a.add_argument("--erase", action="store_true", help="delete the address and its delivery records entirely")
    a = action("list", "mail_verbs:cmd_list",
               "List the subscribers: address, date subscribed, documents, kinds of change, language, date confirmed, "
               "name.")
    a.add_argument("--all", action="store_true", help="include removed subscribers")
    a = action("count", "mail_verbs:cmd_count", "Print the number of active subscribers.")
    a.add_argument("--all", action="store_true", help="also count removed subscribers")
    a = action("import", "mail_verbs:cmd_import",
               "Import a CSV file (columns email[,name], header optional). Any bad row: every bad row is listed with "
               "its line number and nothing is imported.")
    a.add_argument("file", help="the CSV file, UTF-8; - for standard input")
    a = action("export", "mail_verbs:cmd_export",
               "Write the subscribers as CSV (email,name,subscribed,documents,changes,language,confirmed), readable by "
               "import.")
    a.add_argument("--all", action="store_true", help="include removed subscribers, with status columns")
    a.add_argument("--output", "-o",
                   help="write to this file (mode 0600, replaced atomically) instead of standard output")
    a = action("migrate", "mail_verbs:cmd_migrate",
               "Move the SQLite store (subscribers, pending subscriptions, the delivery ledger, the Message-ID key) "
               "into an empty PostgreSQL database, in one transaction; the SQLite file is left as it was.")
    a.add_argument("--to", required=True, metavar="URL", help="the PostgreSQL database, postgresql://USER:PASSWORD@"
                                                              "HOST:5432/DATABASE (it must be empty)")
    p = verb("notify", "mail_verbs:cmd_notify",
             "Email every published version not announced yet to the active subscribers, and retry deferred messages "
             "(SMTP from POLICY_SMTP_URL, else the outbox).")
    p.add_argument("--dry-run", action="store_true", help="render and count the messages; send and record nothing")
    p.add_argument("--rate", type=_positive(float), metavar="PER_SECOND",
                   help="send at most this many per second (on PostgreSQL: all workers together; give each the same)")
    p.add_argument("--connections", type=_positive(int), default=1, metavar="N",
                   help="SMTP connections at once for this worker (default: %(default)s); a kill re-sends at most one "
                        "message per connection")
    p.add_argument("--max-attempts", type=_positive(int), default=5, metavar="N",
                   help="give up on a recipient after N temporary (4xx) refusals (default: %(default)s)")
    p.add_argument("--status", action="store_true", help="show what the ledger recorded per version; send nothing")
    p.add_argument("--accept-rewrite", action="append", metavar="VERSION",
                   help="accept that the history now publishes other text under an announced VERSION (recorded in "
                        "the ledger; the version is not announced again); repeatable")


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        value = kind(text)  # argparse reports a ValueError as "invalid float value: …"
        if value <= 0:
            raise argparse.ArgumentTypeError("must be more than 0")
        return value
    parse.__name__ = kind.__name__
    return parse


class _Version(argparse.Action):
    """--version: the installed distribution's version, read only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from importlib import metadata
        try:
            version = metadata.version("policy-site")
        except metadata.PackageNotFoundError:  # run from a source tree without installing
            from .. import __version__ as version
        print(f"policy {version}")
        parser.exit()
