"""`policy versions` and `policy diff`: one document's published versions, and the change between two of them."""

from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from .project_args import document_history, shown_policy_dir


def cmd_versions(args: argparse.Namespace) -> int:
    from ..site.data import dumps, version_record
    from ..site.model import build_model
    settings, history, document, _, prefix = document_history(args)
    model = build_model(settings, history, document=document, prefix=prefix)
    if args.json:
        from ..site.timestamps import attach_timestamps
        attach_timestamps(settings, [model], stamp=False)  # the tokens kept in the project, as versions.json lists
        from ..settings import require_site_url
        require_site_url(settings.site_url)
        print(dumps([version_record(model, e) for e in model.newest_first]), end="")
        return 0
    print(f"{'version':<9} {'status':<11} {'effective':<11} {'published':<11} {'commit':<11} summary")
    for e in model.newest_first:
        published = e.published.published.strftime("%Y-%m-%d") if e.published.published else "-"
        commit = e.published.commit.short if e.published.commit else "-"
        amended = f" (amended {len(e.amendments)}x)" if e.amendments else ""
        print(f"{e.version:<9} {e.status:<11} {e.policy.effective.isoformat():<11} {published:<11} {commit:<11} "
              f"{e.policy.summary}{amended}")
    for warning in history.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from ..diff.formats import render_diff
    from ..diff.sections import diff_policies
    from ..source.loader import load_policy
    settings, history, document, folder, prefix = document_history(args)

    def pick(name: str | None, default_working: bool):
        if name is None and default_working or name in ("working", "draft"):
            shown = f"{shown_policy_dir(settings)}/{document}" if document else shown_policy_dir(settings)
            return load_policy(folder, shown), "the working tree"
        version = history.find(name) if name else history.versions[-1]
        if version is None:
            known = ", ".join(v.version for v in history.versions)
            raise UserError(f"no published version '{name}'; published: {known}, or 'working'")
        return version.policy, f"version {version.version}"

    old, old_label = pick(args.from_version, False)
    new, new_label = pick(args.to_version, True)
    full_url = None
    if settings.site_url:
        published = history.find(new.version)
        if published is None or published.policy != new:  # the working tree: its page after publication
            full_url = settings.url(f"{prefix}changes/{new.version}/")
        else:
            full_url = settings.url(f"{prefix}compare/?from={old.version}&to={new.version}")
    if old == new:  # the same text and version: nothing to review (a version bump alone is an editorial version)
        said = f"no change: {new_label} is {old_label} (version {new.version}), word for word"
        if args.format == "markdown" and not args.always:
            print(f"policy diff: {said}; no comment body (--always writes one)", file=sys.stderr)
            return 0
        if args.format in ("text", "markdown"):
            print(f"No change: {new_label} is {old_label} (version {new.version}), word for word.")
            return 0
    diff = diff_policies(old, new)
    if args.format == "docx":
        return _write_docx(args, settings, history, diff, old_label, new_label)
    text = render_diff(diff, args.format, old_label, new_label, full_url)
    if args.output:
        _write(args.output, text.encode("utf-8"))
    else:
        print(text, end="")
    return 0


def _write_docx(args: argparse.Namespace, settings, history, diff, old_label: str, new_label: str) -> int:
    """The Word redline (site/word/redline.py) into -o FILE: by the organisation, dated the newer version's publication
    (a text not published as it is, the working tree's: its effective date), so the same input gives the same
    bytes."""
    from datetime import UTC, datetime, time

    from ..site.word.redline import default_resolve, redline_docx
    if not args.output or args.output == "-":
        raise UserError("policy diff --format docx writes a Word file: give it with -o FILE (like -o redline.docx)")
    new = diff.new
    published = history.find(new.version)
    when = published.published if published is not None and published.policy == new else None
    stamp = when or datetime.combine(new.effective, time(0), UTC)
    data = redline_docx(diff, new.organisation.name, stamp, old_label, new_label,
                        default_resolve(settings.site_url), settings["controlling_language"], published=when)
    _write(args.output, data)
    print(f"policy diff: wrote {args.output} ({len(diff.changed)} changed sections, tracked changes by "
          f"{new.organisation.name})", file=sys.stderr)
    return 0


def _write(path: str, data: bytes) -> None:
    """A file written whole or not at all."""
    import os
    from pathlib import Path
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{path} is a folder; give -o a file name")
    if not target.parent.is_dir():
        raise UserError(f"{target.parent}: no such folder; create it or give -o another path")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
