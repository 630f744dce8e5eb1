"""Markdown pages of the site, rendered from the Jinja2 templates in templates/pages/."""

from __future__ import annotations

import html
from collections.abc import Callable, Collection
from functools import partial
from typing import Any

import jinja2

from ..diff.sections import path_labels
from ..source.model import Section
from ..source.project import Layout
from .choices import Choices
from .gencache import GeneratedFiles
from .inputs import DocumentInputs, Version
from .model import SiteModel
from .output import OutputTree
from .page_inputs import Translated, TranslatedLibraryPage, TranslatedPage
from .page_types import LIBRARY_PAGE_TYPES, PAGE_TYPES
from .pdf import translation_pdf_path, write_translation_pdf
from .render import environment, render_template
from .translation_reuse import KeptTranslation
from .translations import TranslatedDocument, language_name, merged, translation_json, with_language


class SectionCache:
    """Renders each top-level section once per build: most sections are the same object in many versions."""

    def __init__(self, env: jinja2.Environment) -> None:
        module: Any = env.get_template("pages/_macros.md.j2").module
        self.macro = module.section_text
        self.memo: dict[tuple, tuple[Section, str]] = {}

    def __call__(self, section: Section, numbers: dict[str, str | None], depth: int) -> str:
        key = (id(section), numbers.get(section.id), depth)
        hit = self.memo.get(key)
        if hit is None or hit[0] is not section:
            hit = self.memo[key] = (section, self.macro(section, numbers, depth))
        return hit[1]


def _pdf_path(entry: Version) -> str:
    return entry.pdf_path


def _changes_pdf_path(entry: Version) -> str:
    return entry.changes_pdf_path


def _word_path(entry: Version) -> str | None:
    """The Word redline of a version's changes (None: the first version, or `word: false`)."""
    return entry.word_path


def page_environment(model: SiteModel) -> jinja2.Environment:
    """The environment a document's pages render in: its globals are functions of what they are given only."""
    settings = model.settings
    env = environment(settings.template_dirs, settings.site_url, settings.cache_dir, settings["controlling_language"])
    env.globals.update(section_md=SectionCache(env), path_labels=path_labels, pdf_path=_pdf_path,
                       changes_pdf_path=_changes_pdf_path, word_path=_word_path)
    return env


def write_pages(model: SiteModel, out: OutputTree, only: Collection[str] | None = None,
                offered: Choices | None = None, files: GeneratedFiles | None = None) -> None:
    """Every page of the table of page types (site/page_types.py), or only the pages at the paths in `only`
    (site/preview.py: the ones a draft edit touches). Each renders its input (site/inputs.py) and nothing else.

    offered: what the follow page's subscribe form offers (when subscriptions_url is set); files: the record of
    the last build (site/gencache.py): a page is rendered only when its key — its input, its templates and the
    software — is not the one its file was made with.
    """
    env = page_environment(model)
    inputs = files.inputs(model, offered) if files is not None else DocumentInputs(model, offered)
    for kind in PAGE_TYPES:
        if not kind.exists(model):
            continue
        for entry in model.entries if kind.per_version else [None]:
            path = kind.at(entry.version if entry is not None else "")
            if only is not None and model.prefix + path not in only:
                continue
            page = kind.input(inputs, path, entry)
            name = f"pages/{kind.template}"
            render = partial(render_template, env, name, page.context())
            if files is not None:
                files.file(model.prefix + path + "index.md", files.key(name, page), render)
            else:
                out.write(model.prefix + path + "index.md", render())


def library_pages(layout: Layout, models: list[SiteModel], out: OutputTree, offered: Choices | None = None,
                  files: GeneratedFiles | None = None) -> None:
    """The library's own pages (LIBRARY_PAGE_TYPES): `/` (every document with its version in force), `/follow/`;
    files: where the documents' inputs are built once a build."""
    settings = models[0].settings
    env = environment(settings.template_dirs, settings.site_url, settings.cache_dir, settings["controlling_language"])
    inputs = [files.inputs(model) if files is not None else DocumentInputs(model, offered) for model in models]
    for kind in LIBRARY_PAGE_TYPES:
        page = kind.input(layout.title, inputs, kind.at(), offered or Choices())
        out.write(kind.at() + "index.md", render_template(env, f"pages/{kind.template}", page.context()))


def translated_pages(docs: list[TranslatedDocument | KeptTranslation], out: OutputTree,
                     files: GeneratedFiles | None = None,
                     write: Callable[[TranslatedDocument, str, str], None] | None = None) -> None:
    """Each translation's page at /LANG/ (/LANG/<document>/ in a library), with its translation.json; and in a
    library, /LANG/ listing the documents translated into LANG. docs: TranslatedDocuments, and in their place the
    translations kept as the last build wrote them (site/translation_reuse.KeptTranslation: listed, not rendered).
    write: how a translation's own files are written (through the record of generated files), else out.write."""
    if not docs:
        return
    settings = docs[0].model.settings
    env = environment(settings.template_dirs, settings.site_url, settings.cache_dir, settings["controlling_language"])
    env.globals.update(section_md=SectionCache(env), path_labels=path_labels, merged=merged,
                       with_language=with_language, language_name=language_name)
    inputs: dict[int, DocumentInputs] = {}
    shown: list[Translated] = []
    for doc in docs:
        of = files.inputs(doc.model) if files is not None else \
            inputs.setdefault(id(doc.model), DocumentInputs(doc.model))
        if isinstance(doc, KeptTranslation):  # kept as the last build wrote it: listed below, not rendered
            shown.append(Translated.kept(doc, of))
            continue
        pdf = write_translation_pdf(doc, out.write) if settings["pdf"] else {}
        shown.append(Translated.of(doc, of))
        page = TranslatedPage.of(shown[-1], translation_pdf_path(doc).removeprefix(doc.prefix) if pdf else None)
        text = render_template(env, "pages/translated.md.j2", page.context())
        if write is not None and not pdf:
            write(doc, "index.md", text)
            write(doc, "translation.json", translation_json(doc))
        else:
            out.write(doc.prefix + "index.md", text)
            out.write(doc.prefix + "translation.json", translation_json(doc, pdf))
    for language in sorted({doc.language for doc in docs}):  # Material's language switcher reads <lang>/sitemap.xml
        urls = [settings.url(doc.prefix) for doc in docs if doc.language == language]
        if any(doc.model.document for doc in docs):
            urls.insert(0, settings.url(f"{language}/"))
        out.write(f"{language}/sitemap.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                  + "".join(f"  <url><loc>{html.escape(u)}</loc></url>\n" for u in urls) + "</urlset>\n")
    if any(doc.model.document for doc in docs):
        for language in sorted({doc.language for doc in docs}):
            listed = TranslatedLibraryPage.of(language, [t for t in shown if t.language == language])
            out.write(f"{language}/index.md", render_template(env, "pages/translated_library.md.j2", listed.context()))
