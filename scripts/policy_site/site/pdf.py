"""The PDFs of the site: one of each version's text and one of each version's changes (the word-level redline).

Each is HTML rendered from templates/pdf/ (the text as on the site: numbered headings, paragraphs, lists, tables
with lists in cells, links made absolute), with a print stylesheet whose running header and footer name the
document, the version, its effective and publication dates, the publication commit and the content hash, turned
into PDF/A-3b by WeasyPrint. A version's PDF carries its policy files as YAML (policy.yaml and sections/<id>.yaml,
written from the published text: they parse back to the same content hash) and manifest.json (each attached
file's sha256, the content hash, the commit).

Same input, same bytes: the PDF's dates are the publication commit's time (a version outside git:
SOURCE_DATE_EPOCH when set, else its effective date), its file identifier is derived from its HTML and
attachments, and nothing else varies. A PDF is made once: site/gencache keeps it in the generated folder while
its version's state is unchanged, and the durable cache (<cache_dir>/pdf/<sha256 of exactly its inputs>.pdf)
keeps it across cold builds, since WeasyPrint takes about a second a version. This module does not import MkDocs.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from ..diff.redline_render import redline_html
from ..keys import PDF_LIBRARIES, digest
from ..source.files import POLICY_FILE, SECTIONS_DIR
from ..source.model import Policy, section_to_data
from .gencache import GeneratedFiles
from .model import SiteModel, VersionEntry
from .render import environment, resolver
from .translations import TranslatedDocument, language_name, merged

FORMAT = "policy-site pdf 1"
DURABLE = "pdf"  # the durable cache's folder in cache_dir
KEPT_PER_PDF = 2  # the durable cache keeps at most this many PDFs per PDF of the site (and at least KEPT_AT_LEAST),
KEPT_AT_LEAST = 50  # the least recently used removed first: a template edit or a new WeasyPrint makes every PDF anew
STALE_TEMPORARY_S = 3600  # a half-written entry of a build killed this long ago is removed


def pdf_name(model: SiteModel, entry: VersionEntry) -> str:
    """The file name of a version's PDF ('policy-1.0.pdf', 'terms-2.0.pdf' in a library)."""
    return f"{model.document or 'policy'}-{entry.version}.pdf"


def version_pdf_path(model: SiteModel, entry: VersionEntry) -> str:
    """Where a version's PDF lives, under its document's folder ('versions/1.0/policy-1.0.pdf')."""
    return entry.path + pdf_name(model, entry)


def changes_pdf_path(model: SiteModel, entry: VersionEntry) -> str:
    """Where the PDF of a version's changes lives ('changes/1.0/policy-1.0-changes.pdf')."""
    return entry.changes_path + pdf_name(model, entry).removesuffix(".pdf") + "-changes.pdf"


def translation_pdf_path(doc: TranslatedDocument) -> str:
    """Where a translation's PDF lives, beside its page ('de/policy-1.1-de.pdf': the version in force)."""
    return doc.prefix + pdf_name(doc.model, doc.model.current).removesuffix(".pdf") + f"-{doc.language}.pdf"


def has_changes_pdf(entry: VersionEntry) -> bool:
    """Whether a version's changes have a PDF: a redline, against the version before it (the first has none)."""
    return entry.previous is not None


def source_date() -> datetime | None:
    """SOURCE_DATE_EPOCH as a time (UTC), when set (reproducible-builds.org); a value that is not a number is
    ignored."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(value), UTC) if value.isdigit() else None


def pdf_date(entry: VersionEntry) -> datetime:
    """The date a version's PDFs carry: its publication (so that a PDF, once made, never changes: a later
    build's SOURCE_DATE_EPOCH is not its date); a version outside git: SOURCE_DATE_EPOCH, else its effective
    date."""
    found = entry.published.published or source_date()
    if found is None:
        effective: date = entry.policy.effective
        found = datetime(effective.year, effective.month, effective.day, tzinfo=UTC)
    return found.astimezone(UTC).replace(microsecond=0)


def _dump(data: object) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110).encode("utf-8")


def policy_files(policy: Policy) -> dict[str, bytes]:
    """A version's policy files as YAML (the format `policy check` reads), keyed by their path in the policy
    folder: they parse back to the same text (the same content hash)."""
    meta: dict[str, Any] = {"title": policy.title, "version": policy.version, "effective": policy.effective,
                            "summary": policy.summary,
                            **({"change": policy.change} if policy.change != "material" else {}),
                            "organisation": {"name": policy.organisation.name,
                                             "contact": policy.organisation.contact}}
    if policy.introduction:
        meta["introduction"] = list(policy.introduction)
    meta["sections"] = [s.id for s in policy.sections]
    files = {POLICY_FILE: _dump(meta)}
    for section in policy.sections:
        files[f"{SECTIONS_DIR}/{section.id}.yaml"] = _dump(section_to_data(section))
    return files


def manifest(model: SiteModel, entry: VersionEntry, files: dict[str, bytes]) -> bytes:
    """manifest.json: what the PDF is of, and the sha256 of every other file attached to it."""
    commit = entry.published.commit
    return (json.dumps({
        "document": model.document or None, "title": entry.policy.title, "version": entry.version,
        "effective": entry.policy.effective.isoformat(), "content_hash": entry.content_hash,
        "commit": commit.sha if commit else None,
        "published": commit.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if commit else None,
        "files": [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in sorted(files.items())],
    }, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@lru_cache(maxsize=1)
def software() -> str:
    """The versions of what writes the bytes of a PDF (a new one may write other bytes)."""
    from importlib import metadata
    found = []
    for name in PDF_LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} none")
    return ", ".join(found)


class PdfMaker:
    """Renders the PDFs of one document's versions (one environment, one stylesheet, for the whole build)."""

    def __init__(self, model: SiteModel) -> None:
        settings = model.settings
        self.model = model
        self.env = environment(settings.template_dirs, settings.site_url, settings.cache_dir,
                               settings["controlling_language"])
        self.language = settings["controlling_language"]
        loader = self.env.loader
        assert loader is not None
        self.style = loader.get_source(self.env, "pdf/print.css")[0]
        self.durable = settings.cache_dir / DURABLE
        self.software = software()
        self.env.filters["redline"] = jinja2.pass_context(
            lambda context, blocks, labels=True: redline_html(blocks, True, context.get("resolve"), collapse=False))

    def _facts(self, entry: VersionEntry, what: str) -> dict[str, str]:
        policy, commit = entry.policy, entry.published.commit
        when = pdf_date(entry)
        parts = [policy.title, f"Version {entry.version}", f"effective {policy.effective.isoformat()}"]
        if entry.published.published:
            parts.append(f"published {entry.published.published.astimezone(UTC):%Y-%m-%d}")
        footer = ([f"commit {commit.short}"] if commit else []) + [f"content sha256 {entry.content_hash}"]
        return {"organisation": policy.organisation.name, "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "description": f"{what} of {policy.title}, version {entry.version}",
                "header": " · ".join(parts), "footer": " · ".join(footer), "meta": " · ".join(parts[1:] + footer)}

    def version(self, entry: VersionEntry) -> bytes:
        """The PDF of a version's text, with its policy files and manifest attached."""
        site = self.model.settings.url()
        html = self.env.get_template("pdf/version.html.j2").render(
            policy=entry.policy, language=self.language, facts=self._facts(entry, "The text"), style=Markup(self.style),
            resolve=resolver(site))
        files = {"policy/" + name: data for name, data in policy_files(entry.policy).items()}
        files["manifest.json"] = manifest(self.model, entry, files)
        return self.render(html, files, pdf_date(entry))

    def changes(self, entry: VersionEntry) -> bytes:
        """The PDF of a version's changes: the summary, the changed sections and the redline."""
        page = self.model.url(entry.path)
        html = self.env.get_template("pdf/changes.html.j2").render(
            diff=entry.diff, entry=entry, language=self.language, facts=self._facts(entry, "The changes"),
            style=Markup(self.style), resolve=resolver(self.model.settings.url(), anchors=page))
        return self.render(html, {}, pdf_date(entry))

    def translation(self, doc: TranslatedDocument) -> bytes:
        """The PDF of a translation's page (the version in force, translated where its translation is current),
        with the original version's policy files and manifest attached: the original's text controls."""
        entry = doc.model.current
        policy, languages = merged(doc)
        controlling = self.language
        facts = self._facts(entry, f"The {language_name(doc.language, True)} translation")
        facts["header"] = f"{policy.title} · " + facts["header"]
        facts["meta"] += f" · translation into {language_name(doc.language, True)}"
        html = self.env.get_template("pdf/translation.html.j2").render(
            doc=doc, policy=policy, languages=languages, original=entry, language=doc.language,
            original_language=controlling, controlling=language_name(controlling, True),
            pending=[s for s in doc.statuses if s.status != "current"], language_name=language_name,
            facts=facts, style=Markup(self.style), resolve=resolver(self.model.settings.url()))
        files = {"policy/" + name: data for name, data in policy_files(entry.policy).items()}
        files["manifest.json"] = manifest(self.model, entry, files)
        return self.render(html, files, pdf_date(entry))

    def render(self, html: str, files: dict[str, bytes], when: datetime) -> bytes:
        """The PDF of html with files attached, from the durable cache when it holds one made of exactly these
        inputs."""
        inputs = digest(FORMAT, self.software, html, when.isoformat(),
                        {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())})
        cached = self.durable / f"{inputs}.pdf"
        try:
            found = cached.read_bytes()
        except OSError:
            pass
        else:
            try:
                os.utime(cached)  # used now: the last to be removed (prune_durable)
            except OSError:
                pass  # a cache folder that cannot be written: the entry is still good
            return found
        data = write_pdf(html, files, when, inputs)
        if not gc.isenabled():  # the generation's child runs without the collector (cli/build_fork.py), and a PDF
            gc.collect(0)  # leaves ~10 MB in cycles: the youngest generation is what it made
        try:
            self.durable.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            temporary.replace(cached)
        except OSError:
            pass  # a cache that cannot be written costs time, not the build
        return data


def prune_durable(cache_dir: Path, in_site: int) -> int:
    """Bound the durable cache: at most KEPT_PER_PDF × the PDFs the site has (and KEPT_AT_LEAST), the least
    recently made or used removed first, and half-written entries of killed builds. Nothing when the site has no
    PDF (the option is off: the cache is left for when it is on again). Returns how many files it removed; a file
    that cannot be removed is left (a cache that cannot be written costs space, not the build)."""
    if in_site <= 0:
        return 0
    entries: list[tuple[int, str]] = []
    stale: list[str] = []
    try:
        with os.scandir(cache_dir / DURABLE) as found:
            for entry in found:
                try:
                    mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                except OSError:
                    continue
                if entry.name.endswith(".pdf") and entry.is_file(follow_symlinks=False):
                    entries.append((mtime, entry.path))
                elif entry.name.endswith(".tmp") and time.time_ns() - mtime > STALE_TEMPORARY_S * 10**9:
                    stale.append(entry.path)
    except OSError:
        return 0
    entries.sort(reverse=True)  # the newest first
    removed = 0
    for path in stale + [path for _, path in entries[max(KEPT_AT_LEAST, KEPT_PER_PDF * in_site):]]:
        try:
            os.unlink(path)
            removed += 1
        except OSError:
            pass
    return removed


def write_pdf(html: str, files: dict[str, bytes], when: datetime, identity: str) -> bytes:
    """PDF/A-3b of html (WeasyPrint), with files attached; identity (hex) becomes the file identifier."""
    import weasyprint  # imported when a PDF is made: it takes a quarter of a second

    naive = when.astimezone(UTC).replace(tzinfo=None)
    attachments = [weasyprint.Attachment(string=data, name=name, created=naive, modified=naive,
                                         relationship="Data" if name == "manifest.json" else "Source",
                                         description=name)
                   for name, data in sorted(files.items())]
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_no_fetch).render()
    found = document.write_pdf(pdf_variant="pdf/a-3b", attachments=attachments,
                               pdf_identifier=bytes.fromhex(identity[:32]))
    assert isinstance(found, bytes)
    return found


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    """WeasyPrint fetches nothing: the HTML holds everything it shows (a link in the text stays a link)."""
    raise ValueError(f"not fetched: {url[:80]}")


def write_pdfs(model: SiteModel, files: GeneratedFiles) -> None:
    """Each version's PDF and the PDF of its changes, made only when its version's state, the templates or what
    writes PDFs changed (and then from the durable cache when made of the same inputs before)."""
    made: list[PdfMaker] = []

    def maker() -> PdfMaker:
        if not made:
            made.append(PdfMaker(model))
        return made[0]

    writes = software()
    for entry in model.entries:
        scope = files.scope(model, entry)
        facts = [FORMAT, writes, pdf_date(entry).isoformat()]
        files.file(model.prefix + version_pdf_path(model, entry),
                   digest(scope, files.templates("pdf/version.html.j2", "pdf/print.css"), "version pdf", facts),
                   lambda entry=entry: maker().version(entry))  # type: ignore[misc]
        if has_changes_pdf(entry):
            files.file(model.prefix + changes_pdf_path(model, entry),
                       digest(scope, files.templates("pdf/changes.html.j2", "pdf/print.css"), "changes pdf", facts),
                       lambda entry=entry: maker().changes(entry))  # type: ignore[misc]


def pdf_records(model: SiteModel, files: GeneratedFiles) -> dict[str, dict[str, str]]:
    """What versions.json says of each version's PDFs (by version): their URLs and sha256."""
    found: dict[str, dict[str, str]] = {}
    for entry in model.entries:
        path = model.prefix + version_pdf_path(model, entry)
        if path in files.new:
            found[entry.version] = {"pdf_url": model.url(version_pdf_path(model, entry)),
                                    "pdf_sha256": files.new[path][1]}
            changes = model.prefix + changes_pdf_path(model, entry)
            if changes in files.new:
                found[entry.version].update(changes_pdf_url=model.url(changes_pdf_path(model, entry)),
                                            changes_pdf_sha256=files.new[changes][1])
    return found


def write_translation_pdf(doc: TranslatedDocument, write: Callable[[str, bytes], None]) -> dict[str, str]:
    """A translation's PDF (made again only when its inputs changed: the durable cache), written by write(path,
    data); what translation.json says of it."""
    data = PdfMaker(doc.model).translation(doc)
    path = translation_pdf_path(doc)
    write(path, data)
    return {"pdf_url": doc.model.settings.url(path), "pdf_sha256": hashlib.sha256(data).hexdigest()}
