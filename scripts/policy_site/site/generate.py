"""Build the site's source folder from the policy's git history: pages, JSON, feeds and assets (no MkDocs here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..history.versions import Reading, read_documents
from ..keys import digest
from ..pipes import Claims, call_beside, collect_from_now
from ..settings import Settings, require_site_url
from ..source.model import Policy
from ..source.project import Layout, load_project
from ..source.translations import languages
from .choices import Choices, choices
from .data import policy_json, versions_json
from .feeds import write_feeds
from .gencache import GeneratedFiles
from .generated import Generated
from .library import write_library
from .model import SiteModel, build_model
from .output import OutputTree
from .page_types import library_nav, nav
from .pages import translated_pages, write_pages
from .pdf import pdf_records, prune_durable, write_pdfs
from .redirects import redirect_pages
from .rewrites import Source, check_rewrites, previous_build
from .timestamps import TOKEN, attach_timestamps
from .translation_reuse import kept, translation_key
from .translations import TranslatedDocument, language_name, load_translations
from .word.files import write_word_files


@dataclass
class GeneratedSite:
    pages_dir: Path
    models: list[SiteModel]  # one per document, in the library's order
    nav: list[dict[str, str]]
    layout: Layout
    languages: list[str] = field(default_factory=list)  # the translations' languages
    files: GeneratedFiles | None = None  # what was rendered and what reused from the last build
    written: dict[str, str] = field(default_factory=dict)  # every file written or kept → the sha256 of its bytes

    @property
    def model(self) -> SiteModel:
        return self.models[0]

    @property
    def warnings(self) -> list[str]:
        return [w for m in self.models for w in m.history.warnings]

    def save(self) -> None:
        """Keep the parse cache and the record of generated files for the next build (generate_site(save=False)
        leaves this to its caller)."""
        self.model.history.save_cache()  # one cache for all documents
        if self.files is not None:
            self.files.save()

    def summary(self, controlling_language: str) -> Generated:
        """What MkDocs needs of it."""
        switcher = [(code, language_name(code)) for code in [controlling_language, *self.languages]]
        return Generated(self.pages_dir, self.nav, self.layout.is_library, switcher if self.languages else [],
                         self.warnings, (self.files.reused, self.files.rendered) if self.files is not None else None,
                         {path: sha for path, sha in self.written.items() if path.endswith(".md")})


Project = tuple[Layout, dict[str, Policy]]  # what source.project.load_project returns


def load_models(settings: Settings, project: Project | None = None, save: bool = True,
                reading: Reading | None = None) -> tuple[Layout, list[SiteModel]]:
    """Validate the working tree (unless `project` is what load_project just returned for settings.policy_dir),
    read every document's history (begun already: `reading`), and decide what the site shows; `save`: the parse
    cache too."""
    require_site_url(settings.site_url)
    layout, working = project or load_project(settings.policy_dir)  # PolicyInvalid before anything is written
    views = [(d, d, d == layout.formerly_single) for d in layout.documents]
    histories = read_documents(settings.policy_dir, views, allow_shallow=bool(settings["allow_shallow"]),
                               cache_dir=settings.cache_dir, reading=reading)
    models = [build_model(settings, histories[d], working[d] if settings.draft else None, d, layout.prefix(d))
              for d in layout.documents]
    for model in models:
        model.formerly_single = model.document == layout.formerly_single
    if save:
        histories[layout.documents[0]].save_cache()  # one cache for all documents
    return layout, models


def load_model(settings: Settings) -> SiteModel:
    """The site model of a single-document project (the first document of a library)."""
    return load_models(settings)[1][0]


def _announced_for(model: SiteModel, hashes: Mapping[str, tuple[str, str | None]]
                   ) -> dict[str, tuple[str, str | None]]:
    """The announced texts of one document, from names such as '1.1' or 'terms/1.1' (notify.run names them)."""
    if not model.document or model.formerly_single:
        return {name: text for name, text in hashes.items() if "/" not in name}
    mark = model.document + "/"
    return {name[len(mark):]: text for name, text in hashes.items() if name.startswith(mark)}


def _translations(layout: Layout, models: list[SiteModel], settings: Settings, out: OutputTree,
                  files: GeneratedFiles, offered: Choices) -> list[str]:
    """The translations' pages; returns their languages. A translation whose document and files are as in the last
    build keeps its page and translation.json without being read (site/translation_reuse.py)."""
    folders = {d: layout.folder(settings.policy_dir, d) for d in layout.documents}
    keys = {(m.document, language): translation_key(files, m, offered, folders[m.document], language)
            for m in models for language in languages(folders[m.document])}
    found = {pair: kept(files, model, pair[1], keys[pair]) for model in models
             for pair in keys if pair[0] == model.document}
    marks: dict[tuple[str, str], tuple] = {}

    def write(doc: TranslatedDocument, name: str, text: str) -> None:
        key = keys[(doc.model.document, doc.language)]
        if key is None:
            out.write(doc.prefix + name, text)
            return
        marks.setdefault((doc.model.document, doc.language), files.mark())
        files.file(doc.prefix + name, digest(key, name), partial(lambda t: t, text))

    read = {(t.model.document, t.language): t
            for t in load_translations(models, folders, skip=lambda m, lang: found[(m.document, lang)] is not None)}
    docs = [doc for pair in keys if (doc := read.get(pair) or found[pair]) is not None]
    translated_pages(docs, out, files, write)
    for pair, mark in marks.items():
        files.remember_document(f"{pair[1]}/{layout.prefix(pair[0])}", keys[pair], mark)
    return sorted({language for _, language in keys})

def _document(model: SiteModel, out: OutputTree, offered: Choices, files: GeneratedFiles) -> None:
    """Every file of one document: its pages, each version's policy.json, its feeds (all kept as they are when
    nothing they show changed: gencache.GeneratedFiles.fingerprint) and versions.json (it holds the build time)."""
    fingerprint = files.fingerprint(model, offered)
    if not files.reuse_document(model.prefix, fingerprint):
        mark = files.mark()
        write_pages(model, out, offered=offered, files=files)
        for entry in model.entries:
            files.file(entry.site_path + "policy.json", digest(files.scope(model, entry), "policy.json"),
                       partial(policy_json, model, entry))
            if entry.timestamp is not None:
                files.file(entry.site_path + TOKEN, digest(files.scope(model, entry), TOKEN),
                           partial(lambda token: token, entry.timestamp.token))
        write_word_files(model, files)
        write_feeds(model, out, files)
        if model.settings["pdf"]:
            write_pdfs(model, files)
        files.remember_document(model.prefix, fingerprint, mark)
    out.write(model.prefix + "versions.json", versions_json(model, pdf_records(model, files)))


Task = Callable[[], list[str] | None]  # a part of the writing; the translations' part returns their languages


def _take(tasks: list[Task], numbers: Iterable[int]) -> list[str]:
    """Run these tasks (the claims: those nobody took yet), in turn; the languages, if the translations were
    among them."""
    found: list[str] = []
    for number in numbers:
        found = tasks[number]() or found
    return found


def _beside(tasks: list[Task], claims: Claims, out: OutputTree, files: GeneratedFiles) -> tuple:
    """In the forked process: tasks in turn, then what it wrote, for the first process."""
    before, mark = set(out.written), files.mark()
    languages = _take(tasks, claims)
    return languages, {p: s for p, s in out.written.items() if p not in before}, files.since(mark)


def _write_shared(tasks: list[Task], out: OutputTree, files: GeneratedFiles) -> list[str]:
    """The tasks shared with a forked process, each run by whichever is free first; the translations' languages.
    Whatever fails, the forked process has ended before this returns or raises (it writes in the same folder)."""
    claims = Claims(len(tasks))
    try:
        waiting = call_beside(partial(_beside, tasks, claims, out, files))
        try:
            mine = _take(tasks, claims)
        except BaseException:
            for _ in claims:  # leave it nothing more to start
                pass
            with suppress(Exception):
                waiting()
            raise
        theirs, written, taken = waiting()
    finally:
        claims.close()
    out.written.update(written)
    files.merge(taken)
    return mine or theirs


def generate_site(settings: Settings, announced: Sequence[Source] = (), project: Project | None = None,
                  save: bool = True, beside: bool = False, reading: Reading | None = None) -> GeneratedSite:
    """Write every generated source file of the site into settings.pages_dir.

    announced: more sources of published content hashes, besides the previous build's versions.json, that the
    history must still match (site/rewrites.py); nothing is written when it does not. project: the working tree
    as load_project just read and validated it (`policy build` does so before MkDocs starts). save=False: the
    caches for the next build are left to GeneratedSite.save (nothing in this build reads them). beside: the
    writing is shared with a forked process (the translations, the library's pages, each document: each taken by
    whichever process is free), in a process that runs no thread (build_fork's child). reading: the history's
    reading, begun already (history.versions.begin_reading).
    """
    layout, models = load_models(settings, project, save, reading)
    if beside:  # build_fork's child: the history and models live to the end, the pages' garbage need not
        collect_from_now()
    for model in models:
        previous, shown, unreadable = previous_build(settings.site_dir, model.prefix, model.formerly_single)
        if unreadable:
            model.history.warnings.append(unreadable)
        mine = [(label, _announced_for(model, hashes)) for label, hashes in announced]
        check_rewrites(model, [previous, *mine], settings["accept_rewrite"], shown)
    if not settings.draft:
        attach_timestamps(settings, models)  # asks the authority for new versions' tokens (timestamp_url)
    out = OutputTree(settings.pages_dir)
    offered = choices(settings, layout, {m.document: m.current.policy.title for m in models})  # the follow pages
    files = GeneratedFiles(settings, out)  # what the last build generated, reused where its key still matches
    # the library's pages read only the models, unless its old addresses copy a document's files
    aside = layout.is_library and not layout.formerly_single
    tasks: list[Task] = [partial(_translations, layout, models, settings, out, files, offered)]  # the longest first
    if aside:
        tasks.append(partial(write_library, layout, models, out, offered, files))
    first = len(tasks)
    tasks += [partial(_document, model, out, offered, files) for model in models]
    folders = [layout.folder(settings.policy_dir, d) for d in layout.documents]
    if beside and (aside or any(languages(folder) for folder in folders)):  # else a fork costs more than it saves
        translated_into = _write_shared(tasks, out, files)
    else:  # the documents, the library's pages, the translations: the order one process always wrote them in
        translated_into = _take(tasks, [*range(first, len(tasks)), *reversed(range(first))])
    if layout.is_library and not aside:
        write_library(layout, models, out, offered, files)
    assets: dict[str, Path] = {}
    for folder in reversed(settings.template_dirs):  # the project's own files win
        if (folder / "assets").is_dir():
            assets.update({p.relative_to(folder / "assets").as_posix(): p
                           for p in (folder / "assets").rglob("*") if p.is_file()})
    for name, path in sorted(assets.items()):
        out.write("assets/" + name, path.read_bytes())
    for name, page in redirect_pages(settings["redirects"], settings.url(), out.written).items():
        out.write(name, page)
    out.finish()
    prune_durable(settings.cache_dir, sum(1 for path in out.written if path.endswith(".pdf")))
    site = GeneratedSite(settings.pages_dir, models, library_nav() if layout.is_library else nav(models[0]), layout,
                         translated_into, files, out.written)
    if save:
        files.save()  # the parse cache was saved by load_models
    return site
