"""`policy translate [DOCUMENT] LANG`: scaffold a translation; `policy translate --status`: where each one stands.

The scaffold copies the version in force of the original into translations/LANG/ — policy.yaml (title, summary,
introduction) and one file per section — each with the source_version it translates, for a translator to replace
the words and keep the ids. `--status` prints, for every translation (or the ones named), each section's status:
current, stale (the original changed since its source_version), untranslated (the scaffold's copy of the original's
words, not translated yet) or missing.

A translation folder brought in by hand, whose files do not say which version they translate:
`policy translate [DOCUMENT] LANG --source-version V` (or `--dated YYYY-MM-DD`: the version published last on or
before that day) writes source_version into every file that lacks it; without either it refuses, never assuming
the version in force.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import date
from pathlib import Path

import yaml

from ..errors import UserError
from ..source.model import section_to_data
from ..source.translations import LANGUAGE, TRANSLATIONS_DIR, languages

HEADER = ("# Translation into {language} of version {version} of \"{title}\": replace the words, keep every id,\n"
          "# the structure and source_version (the version of the original this file translates).\n"
          "# Until its words differ from the original's, the site shows the original and calls it untranslated\n"
          "# (add `translated: true` to a section whose translation reads exactly as the original).\n")


def _dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def _models(args: argparse.Namespace):
    from ..site.generate import load_models
    from .project_args import project_settings as _settings
    settings = _settings(args)
    layout, models = load_models(settings)
    return settings, layout, models


def _pick(layout, models, document: str | None):
    if document is None:
        if layout.is_library:
            raise UserError(f"this library holds several documents; write `policy translate DOCUMENT LANG` "
                            f"({', '.join(layout.documents)})")
        return models[0]
    found = next((m for m in models if m.document == document), None)
    if found is None or not layout.is_library:
        known = ", ".join(layout.documents) if layout.is_library else "this project holds one document: omit it"
        raise UserError(f"no document '{document}' ({known})")
    return found


def scaffold(settings, layout, model, language: str) -> Path:
    folder = layout.folder(settings.policy_dir, model.document) / TRANSLATIONS_DIR / language
    if folder.exists():
        raise UserError(f"{folder} exists already: edit it, or remove it to start again (nothing was written)")
    current = model.current
    policy = current.policy
    meta: dict = {"title": policy.title, "summary": policy.summary}
    if policy.introduction:
        meta["introduction"] = list(policy.introduction)
    meta["source_version"] = current.version
    header = HEADER.format(language=language, version=current.version, title=policy.title)
    with tempfile.TemporaryDirectory(dir=folder.parent.parent) as tmp:
        staging = Path(tmp) / language
        (staging / "sections").mkdir(parents=True)
        (staging / "policy.yaml").write_text(header + _dump(meta), encoding="utf-8")
        for section in policy.sections:
            data = section_to_data(section)
            data["source_version"] = current.version
            (staging / "sections" / f"{section.id}.yaml").write_text(header + _dump(data), encoding="utf-8")
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), folder)
    return folder


def _lacking(folder: Path) -> list[tuple[Path, str]]:
    """The translation's files without source_version (policy.yaml first), with their text; UserError for a file
    that is not a YAML mapping."""
    out = []
    for path in [folder / "policy.yaml", *sorted((folder / "sections").glob("*.yaml"))]:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise UserError(f"{path} is not readable YAML; fix it first (nothing was written)") from None
        if not isinstance(data, dict):
            raise UserError(f"{path} is not a mapping of fields; fix it first (nothing was written)")
        if "source_version" not in data:
            out.append((path, text))
    return out


def _chosen_version(model, args: argparse.Namespace) -> str:
    """The published version --source-version names, or the one published last on or before --dated's day."""
    if args.source_version:
        found = model.history.find(args.source_version)
        if found is None:
            listed = ", ".join(v.version for v in model.history.versions)
            raise UserError(f"--source-version {args.source_version}: no such published version of the original "
                            f"({listed}); nothing was written")
        return found.version
    try:
        day = date.fromisoformat(args.dated)
    except ValueError:
        raise UserError(f"--dated {args.dated!r}: give a day like 2020-12-31 (nothing was written)") from None
    published = [v for v in model.history.versions if v.published is not None and v.published.date() <= day]
    if not model.history.from_git:
        raise UserError("--dated needs the git history of the original (this folder is not a git checkout); give "
                        "--source-version V instead (nothing was written)")
    if not published:
        first = model.history.versions[0]
        when = first.published.date().isoformat() if first.published else "?"
        raise UserError(f"--dated {day}: no version of the original was published yet on that day (the first, "
                        f"{first.version}, on {when}); nothing was written")
    return published[-1].version


def fill_source_version(folder: Path, model, args: argparse.Namespace) -> int:
    """source_version written into the files of an existing translation that lack it; refused (one line, nothing
    written) without --source-version or --dated."""
    lacking = _lacking(folder)
    named = ", ".join(str(p.relative_to(folder)) for p, _ in lacking[:3]) + (" …" if len(lacking) > 3 else "")
    if not args.source_version and not args.dated:
        if not lacking:
            raise UserError(f"{folder} exists already: edit it, or remove it to start again (nothing was written)")
        raise UserError(f"{folder}: {named} say no source_version; name the version of the original they translate "
                        "with --source-version V or --dated YYYY-MM-DD (the version published then); nothing was "
                        "written")
    version = _chosen_version(model, args)
    if not lacking:
        print(f"policy translate: every file of {folder} has a source_version already; nothing was written")
        return 0
    updated = []
    for path, text in lacking:
        new = (text if text.endswith("\n") or not text else text + "\n") + f"source_version: \"{version}\"\n"
        if not isinstance(loaded := yaml.safe_load(new), dict) or loaded.get("source_version") != version:
            raise UserError(f"{path}: source_version cannot be added at its end (write it by hand); nothing was "
                            "written")
        updated.append((path, new))
    for path, new in updated:
        path.write_text(new, encoding="utf-8")
    how = f"published on or before {args.dated}" if args.dated else "given"
    print(f"policy translate: source_version {version} ({how}) written into {len(updated)} files of {folder}: "
          f"{named}; then `policy translate --status`")
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    from ..site.translations import load_translations
    names = list(args.names)
    if args.status:
        settings, layout, models = _models(args)
        docs = load_translations(models, {d: layout.folder(settings.policy_dir, d) for d in layout.documents})
        wanted = set(names)
        shown = [d for d in docs if not wanted or d.language in wanted or d.model.document in wanted]
        if not shown:
            print("no translations" + (f" matching {', '.join(names)}" if names else ""))
            return 0
        print(f"{'document':<12} {'language':<9} {'section':<32} {'status':<8} source_version")
        for doc in shown:
            for s in doc.statuses:
                print(f"{doc.model.document or '-':<12} {doc.language:<9} {s.id:<32} {s.status:<8} "
                      f"{s.source_version or '-'}")
        return 0
    if len(names) not in (1, 2):
        raise UserError("write `policy translate LANG`, or `policy translate DOCUMENT LANG` in a library")
    language = names[-1]
    if not LANGUAGE.match(language):
        raise UserError(f"'{language}' is not a language code like de, fr, pt-BR")
    if args.source_version and args.dated:
        raise UserError("give either --source-version V or --dated YYYY-MM-DD, not both")
    settings, layout, models = _models(args)
    model = _pick(layout, models, names[0] if len(names) == 2 else None)
    existing = layout.folder(settings.policy_dir, model.document) / TRANSLATIONS_DIR / language
    if existing.exists():
        return fill_source_version(existing, model, args)
    if args.source_version or args.dated:
        raise UserError(f"--source-version and --dated are for a translation whose files lack source_version; "
                        f"{existing} does not exist (`policy translate` alone scaffolds it)")
    folder = scaffold(settings, layout, model, language)
    count = len(model.current.policy.sections)
    print(f"policy translate: {folder} holds version {model.current.version} to translate ({count} sections); "
          f"translate the words, keep the ids, then `policy check` and `policy build` (its page: /{language}/"
          f"{model.prefix})")
    others = [lang for lang in languages(folder.parent) if lang != language]
    if others:
        print(f"policy translate: other translations of this document: {', '.join(others)}")
    return 0
