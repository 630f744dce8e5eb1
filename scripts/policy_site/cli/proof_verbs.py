"""`policy verify` (a site, a copy of one, its URL, or an evidence archive) and `policy evidence VERSION`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from .project_args import document_history


def cmd_verify(args: argparse.Namespace) -> int:
    from ..proof.verify import load_roots, reader_for, summary, verify_archive, verify_site
    ca = Path(args.ca) if args.ca else None
    reader, archive = reader_for(args.target)
    report = verify_archive(reader, ca) if archive else verify_site(reader, ca)
    if report.problems:
        for problem in report.problems:
            print(f"{reader.label.rstrip('/')}/{problem}" if not archive else f"{reader.label}: {problem}")
        print(f"policy verify: {len(report.problems)} mismatch(es) in {reader.label}")
        return 1
    print("policy verify: " + summary(report, reader.label, archive, load_roots(ca)[1] if report.tokens else ""))
    return 0


def _policy_files(root: Path, commit: str, folder: Path) -> dict[str, bytes]:
    """The YAML files of the policy folder at the publishing commit, by their path inside it."""
    from ..history import git as gitcmd
    relative = folder.resolve().relative_to(root.resolve()).as_posix()
    names = [n for n in gitcmd.tree_files(root, commit, relative) if n.endswith((".yaml", ".yml"))]
    found = gitcmd.read_files(root, [f"{commit}:{n}" for n in names])
    return {n[len(relative) + 1:] if relative != "." else n: data
            for n in names if (data := found[f"{commit}:{n}"]) is not None}


def cmd_evidence(args: argparse.Namespace) -> int:
    from ..history import git as gitcmd
    from ..notify.campaign import read_campaign
    from ..proof.evidence import Inputs, archive_files, write_archive
    from ..site.model import build_model
    from ..site.timestamps import TOKEN, attach_timestamps
    from ..source.project import read_layout
    from ..state import database_location
    settings, history, document, folder, prefix = document_history(args)
    layout = read_layout(settings.policy_dir)
    model = build_model(settings, history, document=document, prefix=prefix)
    entry = next((e for e in model.entries if e.version == args.version), None)
    if entry is None or entry.published.commit is None:
        known = ", ".join(e.version for e in model.entries if e.published.commit)
        raise UserError(f"no version '{args.version}' published in git{f' in {document}' if document else ''}; "
                        f"published: {known or 'none'}")
    pages = settings.site_dir / entry.site_path
    if not (pages / "index.html").is_file():
        raise UserError(f"{pages / 'index.html'} is missing: run `policy build` first (the archive holds the "
                        f"version's page as published)")
    attach_timestamps(settings, [model], stamp=False)
    token = (pages / TOKEN).read_bytes() if (pages / TOKEN).is_file() else \
        entry.timestamp.token if entry.timestamp else None
    commit = entry.published.commit
    root = gitcmd.repository_root(settings.policy_dir)
    source = settings.policy_dir if entry.published.at_root else folder
    key = entry.version if not document or document == layout.formerly_single else f"{document}/{entry.version}"
    inputs = Inputs(
        title=entry.policy.title, version=entry.version, document=document, content_hash=entry.content_hash,
        commit=commit, signature=gitcmd.signature(root, commit.sha),
        policy_files=_policy_files(root, commit.sha, source),
        policy_json=(pages / "policy.json").read_bytes() if (pages / "policy.json").is_file() else None,
        page=(pages / "index.html").read_bytes(),
        pdfs={p.name: p.read_bytes() for p in sorted(pages.glob("*.pdf"))}, token=token,
        campaign=read_campaign(database_location(settings), key), page_url=settings.url(entry.site_path))
    target = Path(args.output or f"evidence-{document + '-' if document else ''}{entry.version}.zip")
    files = archive_files(inputs, args.with_addresses)
    try:
        write_archive(files, target)
    except OSError as exc:
        raise UserError(f"{target}: cannot be written ({exc.strerror or exc}); choose another -o FILE") from None
    campaign = inputs.campaign
    told = f"{campaign.counts.get('sent', 0)} sent, {campaign.counts.get('failed', 0)} failed" if campaign \
        else "never announced"
    print(f"policy evidence: {target}: version {entry.version}, {len(files) + 1} files, "
          f"{'a timestamp token' if token else 'no timestamp token'}, notices {told}")
    return 0
