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
    print(render_diff(diff_policies(old, new), args.format, old_label, new_label, full_url), end="")
    return 0
