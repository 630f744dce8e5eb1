"""Markdown pages of the site, rendered from the Jinja2 templates in templates/pages/."""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable, Collection
from functools import partial
from typing import Any

import jinja2

from ..diff.sections import diff_policies, path_labels
from ..keys import digest
from ..source.model import Section
from ..source.project import Layout
from .choices import Choices
from .gencache import GeneratedFiles
from .model import Draft, SiteModel, VersionEntry
from .notice_terms import NoticeTerms
from .output import OutputTree
from .page_types import ARCHIVE, CHANGES, COMPARE, CURRENT, DRAFT, FOLLOW, LATEST_CHANGES, VERSION, PageType
from .pdf import changes_pdf_path, translation_pdf_path, version_pdf_path, write_translation_pdf
from .render import environment
from .translations import TranslatedDocument, language_name, merged, translation_json, with_language
from .word.files import word_path


def linker(page_path: str, prefix: str = "") -> Callable[[str], str]:
    """Relative link from a page ('versions/1.0/') to a path of the same document ('changes/1.0/', 'atom.xml',
    ''), or, starting with '/', to a path from the site's root ('/assets/compare.js'); prefix is where the
    document's pages live ('' or 'terms/')."""
    here = posixpath.join("/", prefix + page_path)

    def link(target: str) -> str:
        base = here if here.endswith("/") else posixpath.dirname(here)
        relative = posixpath.relpath(posixpath.join("/", target if target.startswith("/") else prefix + target), base)
        if relative == ".":
            return "./"
        is_folder = target == "" or target.endswith("/")
        return relative + ("/" if is_folder and not relative.endswith("/") else "")

    return link


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


def _anchors_on(site_path: Callable[[str], str], page: str) -> Callable[[str], str]:
    """Links of a redline: '#section' anchors point to the version's own page; site paths as everywhere."""
    return lambda href: page + href if href.startswith("#") else site_path(href)


def _no_word(entry: VersionEntry) -> None:
    """The Word redlines are turned off (`word: false`): none to link."""
    return None


def write_pages(model: SiteModel, out: OutputTree, only: Collection[str] | None = None,
                offered: Choices | None = None, files: GeneratedFiles | None = None) -> None:
    """Every page, or only the pages at the paths in `only` (site/preview.py: the ones a draft edit touches).

    offered: what the follow page's subscribe form offers (when subscriptions_url is set); files: the record of
    the last build (site/gencache.py): the pages of one version (its text, its changes, and the latest changes at
    changes/) are rendered only when that version's state or the templates changed.
    """
    env = environment(model.settings.template_dirs, model.settings.site_url, model.settings.cache_dir,
                      model.settings["controlling_language"])
    env.globals["subscription"] = offered or Choices()
    env.globals["section_md"] = SectionCache(env)
    env.globals["path_labels"] = path_labels
    env.globals.update(pdf_path=partial(version_pdf_path, model), changes_pdf_path=partial(changes_pdf_path, model))
    env.globals["word_path"] = word_path if model.settings["word"] else _no_word
    site_path: Callable[[str], str] = env.globals["resolve"]  # type: ignore[assignment]

    prefix = model.prefix

    def page(kind: PageType, path: str, of: VersionEntry | None = None, whole: bool = False,
             **context: object) -> None:
        """Render a page; `of`: the version whose state is all the page shows, `whole`: a page that shows the
        whole document (either can then be reused while what it shows is unchanged)."""
        if only is not None and prefix + path not in only:
            return

        template = kind.template

        def render() -> str:
            return env.get_template(f"pages/{template}").render(site=model, link=linker(path, prefix),
                                                                page_path=path, **context)
        if files is not None and (of is not None or whole):
            key = digest(files.scope(model, of), template, path) if of is not None else \
                files.document(model, template, path, env.globals["subscription"])
            files.file(prefix + path + "index.md", key, render)
        else:
            out.write(prefix + path + "index.md", render())

    current = model.current
    shown = model.draft.policy if model.draft else current.policy
    page(CURRENT, "", whole=not model.draft, policy=shown, entry=None if model.draft else current,
         draft=model.draft, warnings=model.history.shallow)
    page(ARCHIVE, ARCHIVE.at(), whole=True)
    page(FOLLOW, FOLLOW.at(), whole=True)
    for entry in model.entries:
        page(VERSION, entry.path, entry, entry=entry)
        page(CHANGES, entry.changes_path, entry, entry=entry, diff=entry.diff, version=entry.version,
             draft=None, alias=False, resolve=_anchors_on(site_path, linker(entry.changes_path, prefix)(entry.path)))
    latest = model.latest
    page(LATEST_CHANGES, LATEST_CHANGES.at(), latest, entry=latest, diff=latest.diff, version=latest.version,
         draft=None, alias=True, resolve=_anchors_on(site_path, linker(LATEST_CHANGES.at(), prefix)(latest.path)))
    if DRAFT.exists(model):  # under serve: also before the first edit ("no edits yet")
        draft = model.draft or Draft(latest.published.latest_text,
                                     diff_policies(latest.published.latest_text, latest.published.latest_text))
        page(DRAFT, DRAFT.at(), entry=None, diff=draft.diff, version="draft",
             draft=draft, alias=False, resolve=_anchors_on(site_path, linker(DRAFT.at(), prefix)("")))
    if COMPARE.exists(model):
        page(COMPARE, COMPARE.at(), whole=True)


def library_pages(layout: Layout, models: list[SiteModel], out: OutputTree, offered: Choices | None = None) -> None:
    """The library's own pages: `/` (every document with its version in force) and `/follow/`."""
    settings = models[0].settings
    env = environment(settings.template_dirs, settings.site_url, settings.cache_dir, settings["controlling_language"])
    env.globals["subscription"] = offered or Choices()
    terms = NoticeTerms.of(settings, [m.document for m in models])
    for template, path in (("library.md.j2", ""), ("library_follow.md.j2", "follow/")):
        text = env.get_template(f"pages/{template}").render(layout=layout, documents=models, link=linker(path),
                                                            page_path=path, settings=settings, terms=terms)
        out.write(path + "index.md", text)


def translated_pages(docs: list[Any], out: OutputTree,
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
    for doc in docs:
        if not isinstance(doc, TranslatedDocument):
            continue
        pdf = write_translation_pdf(doc, out.write) if settings["pdf"] else {}
        text = env.get_template("pages/translated.md.j2").render(
            doc=doc, site=doc.model, link=linker("", doc.prefix), page_path="", original_path="/" + doc.model.prefix,
            date_language=doc.language, pdf_file=translation_pdf_path(doc).removeprefix(doc.prefix) if pdf else None)
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
            mine = [doc for doc in docs if doc.language == language]
            text = env.get_template("pages/translated_library.md.j2").render(
                language=language, documents=mine, link=linker(f"{language}/"), page_path=f"{language}/",
                date_language=language)
            out.write(f"{language}/index.md", text)
