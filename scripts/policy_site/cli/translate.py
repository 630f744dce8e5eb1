"""`policy translate [DOCUMENT] LANG`: scaffold a translation; `policy translate --status`: where each one stands.

The scaffold copies the version in force of the original into translations/LANG/ — policy.yaml (title, summary,
introduction) and one file per section — each with the source_version it translates, for a translator to replace
the words and keep the ids. `--status` prints, for every translation (or the ones named), each section's status:
current, stale (the original changed since its source_version), untranslated (the scaffold's copy of the original's
words, not translated yet) or missing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
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
    from .site_verbs import _settings
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
    settings, layout, models = _models(args)
    model = _pick(layout, models, names[0] if len(names) == 2 else None)
    folder = scaffold(settings, layout, model, language)
    count = len(model.current.policy.sections)
    print(f"policy translate: {folder} holds version {model.current.version} to translate ({count} sections); "
          f"translate the words, keep the ids, then `policy check` and `policy build` (its page: /{language}/"
          f"{model.prefix})")
    others = [lang for lang in languages(folder.parent) if lang != language]
    if others:
        print(f"policy translate: other translations of this document: {', '.join(others)}")
    return 0
