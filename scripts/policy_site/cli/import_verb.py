"""`policy import`: an existing policy into the project (FILE: Markdown, HTML or Word .docx), or the git
history of one into a new project (--git REPO --path PATH --into DIR). Prints what could not be represented
faithfully, with source positions."""

from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import date
from email.utils import parseaddr
from pathlib import Path

import yaml

from ..errors import UserError
from ..source.model import Organisation
from .init import _ask, _validate, create_project, starter_policy
from .workflow_package import workflow_package


def _untouched_starter(policy_dir: Path) -> bool:
    """Whether policy_dir holds exactly the starter policy `policy init` wrote (nothing of anyone's to lose)."""
    try:
        meta = yaml.safe_load((policy_dir / "policy.yaml").read_text(encoding="utf-8"))
        context = {"title": meta["title"], "organisation": meta["organisation"]["name"],
                   "contact": meta["organisation"]["contact"], "effective": str(meta["effective"])}
        expected = starter_policy(context)
        actual = {p.relative_to(policy_dir).as_posix(): p.read_text(encoding="utf-8")
                  for p in policy_dir.rglob("*") if p.is_file() and p.relative_to(policy_dir).parts[0] != "schema"}
    except (OSError, yaml.YAMLError, KeyError, TypeError, UnicodeDecodeError):
        return False
    return actual == expected


def _organisation(args: argparse.Namespace, policy_dir: Path, site_name: str, email_from: str | None) -> Organisation:
    """--organisation/--contact, else the project's policy.yaml, else mkdocs.yml's email_from (its name, its address)
    or site_name."""
    name, contact = args.organisation, args.contact
    try:
        meta = yaml.safe_load((policy_dir / "policy.yaml").read_text(encoding="utf-8"))
        org = meta.get("organisation") if isinstance(meta, dict) else None
        if isinstance(org, dict):
            name = name or (org.get("name") if isinstance(org.get("name"), str) else None)
            contact = contact or (org.get("contact") if isinstance(org.get("contact"), str) else None)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        pass
    name = name or (parseaddr(email_from)[0] if email_from else None) or site_name
    contact = contact or (parseaddr(email_from)[1] if email_from else None)
    if not name or not contact:
        raise UserError("the organisation's name and contact are not known from policy/policy.yaml or mkdocs.yml; "
                        "pass --organisation NAME --contact ADDRESS")
    if "@" not in contact and not contact.startswith(("https://", "http://")):
        raise UserError(f"--contact must be an email address or an https:// page, not {contact!r}")
    return Organisation(" ".join(name.split()), contact.strip())


def _print_notes(lines: list[str], heading: str) -> None:
    if lines:
        print(f"{heading} ({len(lines)}):")
        print("\n".join(lines))


def _import_file(args: argparse.Namespace) -> int:
    from ..importing.single import convert_file, occupied, read_source
    from ..site.mkdocs.plugin import load_settings
    if args.path or args.into or args.ref or args.versions:
        raise UserError("--path, --into, --ref and --versions go with --git REPO; to import one file: "
                        "policy import FILE")
    if args.manifest or args.title:
        raise UserError("--manifest and --title go with --git REPO (the histories of several documents)")
    if args.document and len(args.document) > 1:
        raise UserError("policy import FILE takes one --document ID (the document the file becomes)")
    args.document = args.document[0] if args.document else None
    if args.existing_as and not args.document:
        raise UserError("--existing-as goes with --document ID (the document the file becomes)")
    name, data = read_source(Path(args.file))
    settings = load_settings(Path(args.config))
    policy_dir = settings.policy_dir
    held = occupied(policy_dir)
    starter = bool(held) and _untouched_starter(policy_dir)
    if args.document:
        from ..importing.library import plan_document
        folder, documents, existing_as = plan_document(policy_dir, args.document, args.existing_as,
                                                       bool(held) and not starter, args.force)
        first = policy_dir / documents[0]  # where the organisation is read from: the first document, if any
        known = first if (first / "policy.yaml").is_file() else policy_dir
    else:
        if (policy_dir / "library.yaml").is_file():
            raise UserError(f"{policy_dir} holds a library of documents: name the one this file becomes with "
                            "--document ID (nothing was written)")
        if held and not args.force and not starter:
            raise UserError(f"{policy_dir} already holds a policy ({', '.join(held)}); add --force to replace "
                            "policy.yaml and sections/ (schema/ is kept); nothing was written")
        folder, known = policy_dir, policy_dir
    organisation = _organisation(args, known, settings.site_name, settings["email_from"])
    imported = convert_file(name, data, organisation, date.today(), "First published version")
    if args.document:
        _install_document(policy_dir, folder, imported.files, documents, existing_as, starter, settings.site_name)
    else:
        from ..importing.single import install
        install(policy_dir, imported.files)
    _report_file(args, name, imported, folder)
    return 0


def _install_document(policy_dir: Path, folder: Path, files: dict[str, bytes], documents: list[str],
                      existing_as: str | None, starter: bool, title: str) -> None:
    """The imported document into policy/ID/, the project's own document moved (existing_as), library.yaml."""
    from ..importing.library import move_single, one_level_down, write_library
    from ..importing.single import install
    install(folder, {path: one_level_down(data) for path, data in files.items()}, schema=False)
    if starter:  # the untouched starter of `policy init`: nothing of anyone's
        (policy_dir / "policy.yaml").unlink(missing_ok=True)
        shutil.rmtree(policy_dir / "sections", ignore_errors=True)
    if existing_as:
        move_single(policy_dir, existing_as)
    if not (policy_dir / "schema").exists():
        from ..settings import builtin_templates
        shutil.copytree(builtin_templates() / "schema", policy_dir / "schema")
    write_library(policy_dir, documents, title, existing_as)


def _report_file(args: argparse.Namespace, name: str, imported, policy_dir: Path) -> None:
    from ..importing.report import RENAMED_ANCHORS, anchor_lines, effective_line, note_lines
    policy = imported.converted.policy
    count = len(policy.walk())
    where = os.path.relpath(policy_dir)
    print(f"policy import: {args.file} → {where}/ — \"{policy.title}\", {len(policy.sections)} sections "
          f"({count} with subsections), effective {policy.effective.isoformat()}")
    if imported.content:
        print(f"Content: the page's {imported.content}; the navigation, header, footer, sidebars and banners around "
              "it were left out")
    print("Effective date:")
    print(effective_line(name, imported.effective, policy.effective.isoformat(), imported.where))
    notes = note_lines(name, imported.converted.notes, imported.where)
    if imported.effective is None:  # the date of today is not the document's: never "faithful"
        notes.insert(0, f"  {name}: the document names no effective date; today's was used (set `effective` in "
                        "policy.yaml)")
    _print_notes(notes, "Not represented faithfully — check these")
    if not notes:
        print("Everything in the document was represented faithfully.")
    _print_notes(anchor_lines(imported.converted.renamed_anchors),
                 RENAMED_ANCHORS[0].upper() + RENAMED_ANCHORS[1:])
    if args.document:
        print(f"Library: {os.path.relpath(policy_dir.parent / 'library.yaml')} lists the documents; "
              f"{args.document}'s pages are under /{args.document}/")
    print("Summary: \"First published version\" (policy.yaml's summary, shown to readers): write your own")
    print("Next: policy check, policy build, then commit policy/ (git add policy && git commit)")


def _import_history(args: argparse.Namespace) -> int:
    from ..importing.history import plan, replay
    from ..importing.report import RENAMED_ANCHORS, anchor_lines
    started = time.monotonic()
    if args.file:
        raise UserError("give either FILE or --git REPO, not both")
    if not args.path or not args.into:
        raise UserError("--git needs --path PATH (the document in that repository) and --into DIR (a new folder)")
    target = Path(args.into).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists and is not empty; choose a new folder for the project (nothing was written)")
    values = _ask(argparse.Namespace(title="(from the document)", organisation=args.organisation,
                                     contact=args.contact, site_url=args.site_url))
    _validate(dict(values))
    package = workflow_package(args.package)
    result = plan(Path(args.git), args.ref or "HEAD", args.path, args.versions or "date",
                  Organisation(values["organisation"], values["contact"]))
    values["title"] = result.kept[-1].policy.title
    existed = target.exists()
    try:
        create_project(target, values, package, result.redirects)
        written = replay(target, result, str(result.repo))
    except BaseException:
        if existed:
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        else:
            shutil.rmtree(target, ignore_errors=True)
        raise
    elapsed = time.monotonic() - started
    last = result.kept[-1].policy
    print(f"policy import: {len(written)} versions of {args.path[0]} from {result.repo} → {target}")
    print(f"  revisions read: {result.read}; commits written: {len(written)}; skipped: {len(result.skipped)}; "
          f"time: {elapsed:.2f} s")
    print(f"  versions {result.kept[0].policy.version} … {last.version} (numbered by {args.versions or 'date'}); "
          f"latest effective {last.effective.isoformat()}")
    _print_notes([f"  {r.sha[:10]} {r.message.splitlines()[0] if r.message else ''}: {why}"
                  for r, why in result.skipped], "Skipped")
    _print_notes([f"  {line}" for line in result.renames], "Renames followed")
    _print_notes([f"  {old} → {new}" for old, new in result.redirects.items()],
                 "Redirects written to mkdocs.yml (legacy URLs from redirect_from)")
    _print_notes([f"  {line}" for line in result.clamped], "Effective dates kept from going backwards")
    _print_notes([f"  {r.sha[:10]} {why}" for r, why in result.editorial],
                 "Editorial versions (the text reads as before; only its effective date or anchors changed)")
    _print_notes(anchor_lines(result.renamed_anchors),
                 RENAMED_ANCHORS[0].upper() + RENAMED_ANCHORS[1:])
    _print_notes([f"  {place}: {message}" for message, place in result.notes.items()],
                 "Not represented faithfully — check these (each where first seen)")
    print(f"Next: cd {target} && policy check && policy build")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.git and (args.manifest or args.document or args.translation):
        from .import_library import import_library_history
        return import_library_history(args)
    if args.git:
        if args.title:
            raise UserError("--title names a library: it goes with --manifest FILE or --document ID=PATH")
        return _import_history(args)
    if args.translation:
        raise UserError("--translation ID/LANG=PATH goes with --git REPO and --document ID=PATH")
    if not args.file:
        raise UserError("give the file to import (policy import FILE), or --git REPO --path PATH --into DIR")
    return _import_file(args)
