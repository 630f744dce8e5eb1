"""`policy import --git REPO --manifest FILE --into DIR` (or `--document ID=PATH[,OLDER…]` and
`--translation ID/LANG=PATH[,OLDER…]`, repeated): the histories of several documents and their translations into a
library — a new project, or one an earlier such import made (then only the revisions not imported yet are added)."""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from pathlib import Path

from ..errors import UserError
from ..history import git as gitcmd
from ..importing.library_history import (
    LibraryPlan,
    Manifest,
    existing_library,
    from_options,
    plan_library,
    read_manifest,
    replay_library,
)
from ..importing.report import RENAMED_ANCHORS, anchor_lines
from ..source.model import Organisation, version_key
from .import_verb import _organisation, _print_notes
from .init import _ask, _validate, create_project
from .workflow_package import workflow_package


def _manifest(args: argparse.Namespace) -> Manifest:
    if args.file:
        raise UserError("give either FILE or --git REPO, not both")
    if args.manifest and (args.document or args.translation):
        raise UserError("give the documents either in --manifest FILE or as --document ID=PATH, not both")
    if args.translation and not args.document:
        raise UserError("--translation ID/LANG=PATH goes with --git and --document ID=PATH")
    if args.path:
        raise UserError("with --manifest or --document ID=PATH, each document's paths go there, not in --path")
    if not args.into:
        raise UserError("--git needs --into DIR: a new folder for the library, or a library an earlier import made")
    manifest = (read_manifest(Path(args.manifest)) if args.manifest
                else from_options(args.document, None, args.translation))
    return replace(manifest, title=" ".join(args.title.split())) if args.title else manifest


def _remove(target: Path, existed: bool) -> None:
    """A failed import into a new folder: the folder as it was (gone, or empty)."""
    if existed:
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    else:
        shutil.rmtree(target, ignore_errors=True)


def import_library_history(args: argparse.Namespace) -> int:
    started = time.monotonic()
    manifest = _manifest(args)
    target = Path(args.into).resolve()
    if target.exists() and not target.is_dir():
        raise UserError(f"{target} is a file; --into takes a folder (nothing was written)")
    continuing = target.exists() and any(target.iterdir())
    versions = args.versions or "date"
    if continuing:
        from ..site.mkdocs.plugin import load_settings
        listed, imported = existing_library(target, manifest)
        settings = load_settings(target / "mkdocs.yml")
        organisation = _organisation(args, target / "policy" / listed[0], settings.site_name, settings["email_from"])
        known = dict(settings["redirects"] or {})
    else:
        values = _ask(argparse.Namespace(title="(from the documents)", organisation=args.organisation,
                                         contact=args.contact, site_url=args.site_url))
        _validate(dict(values))
        package = workflow_package(args.package)
        organisation = Organisation(values["organisation"], values["contact"])
        listed, imported, known = [], {}, {}
    result = plan_library(Path(args.git), args.ref or "HEAD", manifest, versions, organisation, imported)
    first = manifest.documents[0].id
    title = manifest.title or result.plans[first].kept[-1].policy.title
    redirects: dict[str, str] = {}
    for document, planned in result.plans.items():
        for old in planned.redirects:
            redirects.setdefault(old, f"/{document}/")
    if not result.steps:
        print(f"policy import: nothing new in {result.repo} for {', '.join(result.plans)}; {target} is unchanged "
              f"(time: {time.monotonic() - started:.2f} s)")
        return 0
    if continuing:
        before = gitcmd.head_commit(target) or ""
        try:
            written = replay_library(target, result, listed, title)
        except BaseException:
            gitcmd.restore(target, before)
            raise
    else:
        values["title"] = title
        existed = target.exists()
        try:
            create_project(target, values, package, redirects)
            (target / "policy" / "policy.yaml").unlink()  # the starter policy: the library's documents replace it
            shutil.rmtree(target / "policy" / "sections")
            written = replay_library(target, result, listed, title)
        except BaseException:
            _remove(target, existed)
            raise
    _report(args, target, result, len(written), continuing, time.monotonic() - started)
    if continuing:
        _print_notes([f"  {old} → {new}" for old, new in redirects.items() if old not in known],
                     "Redirects (from redirect_from) not in mkdocs.yml yet: add them to the policy plugin's redirects")
    else:
        _print_notes([f"  {old} → {new}" for old, new in redirects.items()],
                     "Redirects written to mkdocs.yml (legacy URLs from redirect_from)")
    print(f"Next: cd {target} && policy check && policy build")
    return 0


def _report(args: argparse.Namespace, target: Path, result: LibraryPlan, written: int, continuing: bool,
            elapsed: float) -> None:
    print(f"policy import: {len(result.plans)} documents from {result.repo} → {target} "
          f"({'continued: only revisions not imported before' if continuing else 'a new library'})")
    new = {key: 0 for key in [*result.plans, *result.translations]}
    for document, _ in result.steps:
        new[document] += 1
    for document, planned in result.plans.items():
        last = planned.kept[-1].policy
        print(f"  {document}: {planned.read} revisions read, {len(planned.kept)} versions "
              f"({result.done[document]} imported before, {new[document]} new), {len(planned.skipped)} skipped; "
              f"versions {planned.kept[0].policy.version} … {last.version}, latest effective "
              f"{last.effective.isoformat()}")
    for key, planned in result.translations.items():
        document, _, language = key.split("/")
        dated = sorted({p.policy.version for p in planned.kept}, key=version_key)
        print(f"  {document} in {language}: {planned.read} revisions read, {len(planned.kept)} translated revisions "
              f"({result.done[key]} imported before, {new[key]} new), {len(planned.skipped)} skipped; translating "
              f"versions {', '.join(dated) or '-'} (the original's version in force at each commit)")
    print(f"  commits written: {written} (interleaved by commit date); numbered by {args.versions or 'date'}; "
          f"time: {elapsed:.2f} s")
    for document, planned in result.plans.items():
        if not continuing:
            _print_notes([f"  {r.sha[:10]} {r.message.splitlines()[0] if r.message else ''}: {why}"
                          for r, why in planned.skipped], f"{document}: skipped")
        _print_notes([f"  {line}" for line in planned.renames], f"{document}: renames followed")
        if not continuing:
            _print_notes([f"  {r.sha[:10]} {why}" for r, why in planned.editorial],
                         f"{document}: editorial versions (published, nobody emailed)")
        _print_notes([f"  {line}" for line in planned.clamped], f"{document}: effective dates kept from going "
                                                                 "backwards")
        _print_notes(anchor_lines(planned.renamed_anchors), f"{document}: {RENAMED_ANCHORS}")
        _print_notes([f"  {place}: {message}" for message, place in planned.notes.items()],
                     f"{document}: not represented faithfully — check these (each where first seen)")
    for key, planned in result.translations.items():
        document, _, language = key.split("/")
        if not continuing:
            _print_notes([f"  {r.sha[:10]} {r.message.splitlines()[0] if r.message else ''}: {why}"
                          for r, why in planned.skipped], f"{document} in {language}: skipped")
        _print_notes([f"  {line}" for line in planned.renames], f"{document} in {language}: renames followed")
        _print_notes([f"  {place}: {message}" for message, place in planned.notes.items()],
                     f"{document} in {language}: check these (each where first seen)")
