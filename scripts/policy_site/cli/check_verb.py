"""`policy check`: the policy, its history, redirects, notice periods and translations, every problem at once."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import UserError
from .project_args import project_settings, shown_policy_dir


def cmd_check(args: argparse.Namespace) -> int:
    from ..history.checks import run_check
    settings = project_settings(args)
    translated = _translated(settings)
    if translated:  # the translation check builds each document's model: its diffs come from the parse cache,
        from ..diff import sections  # noqa: F401 - which holds them only for a process that knows their classes
    checked = run_check(settings.policy_dir, shown_policy_dir(settings), args.allow_shallow or
                        bool(settings["allow_shallow"]), settings.cache_dir,
                        lambda document: settings.days("notice_days", document), settings.build_time.date(),
                        args.pull_request or os.environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request"))
    from ..site.redirects import problems as redirect_problems
    bad_redirects = redirect_problems(settings["redirects"])
    if bad_redirects:
        raise UserError("\n".join(f"mkdocs.yml {p}" for p in bad_redirects))
    for doc in checked:
        for warning in doc.warnings + _editorial_warning(doc.history, doc.policy):
            print(f"warning: {warning}", file=sys.stderr)
    if translated:
        _translation_check(settings, translated, checked, args.strict_translations)
    for doc in checked:  # what this check parsed and diffed, for the next check or build (one cache: saved once)
        doc.history.save_cache()
    summaries = [f"{doc.document + ' ' if doc.document else ''}version {doc.policy.version}, effective "
                 f"{doc.policy.effective}, {_count(len(doc.policy.section_ids()), 'section')}"
                 for doc in checked]
    count = f"{len(checked)} documents: " if len(checked) > 1 else ""
    print(f"policy check: OK — {count}{'; '.join(summaries)}")
    return 0


def _translated(settings) -> tuple | None:
    """The project's layout and each document's folder, when one of them has a translation (else None: nothing
    to check)."""
    from ..source.project import read_layout
    from ..source.translations import languages
    layout = read_layout(settings.policy_dir)
    folders = {d: layout.folder(settings.policy_dir, d) for d in layout.documents}
    return (layout, folders) if any(languages(folder) for folder in folders.values()) else None


def _translation_check(settings, translated: tuple, checked, strict: bool) -> None:
    """Stale and missing translated sections: warnings, or errors with --strict-translations."""
    from ..site.model import build_model
    from ..site.translations import load_translations
    layout, folders = translated
    models = [build_model(settings, doc.history, document=doc.document, prefix=layout.prefix(doc.document))
              for doc in checked if doc.history.versions]
    lines = []
    for t in load_translations(models, folders, shown_policy_dir(settings)):
        where = f"{t.model.document + ' ' if t.model.document else ''}{t.language}"
        for s in t.statuses:
            if s.status == "stale":
                lines.append(f"translation {where}: section '{s.id}' is stale (it translates version "
                             f"{s.source_version}; the original changed since): update it and its source_version")
            elif s.status == "untranslated":
                lines.append(f"translation {where}: section '{s.id}' is untranslated (its words are still the "
                             f"original's): translate it, or add `translated: true` to keep these words")
            elif s.status == "missing":
                lines.append(f"translation {where}: section '{s.id}' is missing: translate it (policy translate "
                             f"--status lists every section)")
    if lines and strict:
        raise UserError("\n".join(lines + [f"{len(lines)} translation problem{'s' if len(lines) != 1 else ''} "
                                           "(--strict-translations)"]))
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _editorial_warning(history, policy) -> list[str]:
    """A new version whose text reads exactly like the last published one is editorial: say so."""
    from ..diff.sections import diff_policies
    from ..source.model import version_key
    if not history.from_git or not history.versions:
        return []
    latest = history.versions[-1]
    if version_key(policy.version) <= version_key(latest.version):
        return []
    diff = diff_policies(latest.latest_text, policy)
    if diff.visible:
        return []
    return [f"version {policy.version} reads exactly like version {latest.version} (only whitespace, layout, "
            f"{diff.unseen} changed): it will be published as an editorial version and not emailed. If you "
            f"meant to change the text, check that your edit was saved."]
