"""Change feeds: /atom.xml and /rss.xml (feedgen), /feed.json (JSON Feed 1.1), /sections/<id>/atom.xml.

One entry per published version, upcoming ones included, newest publication first, capped by feed_limit.
Everything that could change between two builds of the same history is derived from git, never from the
clock: entry ids come from the site URL and the version, `published` is the publishing commit's time,
`updated` the latest amendment's (the build time, i.e. SOURCE_DATE_EPOCH, only outside git), and a
feed's `updated` is its newest entry's. Text and HTML pieces come
from templates/feeds/; XML-illegal control characters are removed before anything reaches feedgen or JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from feedgen.feed import FeedGenerator

from ..diff.redline import RedlineBlock, Span, spans
from ..errors import UserError
from ..source import inline
from ..source.inline import Word, words_from_runs
from ..source.model import Policy
from .data import dumps
from .dates import iso
from .gencache import GeneratedFiles
from .inputs import DocumentInputs
from .model import SiteModel, VersionEntry
from .output import OutputTree
from .page_inputs import FeedEntry, family
from .render import environment, render_template, resolver

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_TYPE, RSS_TYPE = "application/atom+xml", "application/rss+xml"
# XML 1.0 forbids C0 controls other than tab, newline and carriage return, surrogates and U+FFFE/U+FFFF;
# DEL and carriage return are dropped too (tab and newline are kept).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
EXCERPT_BLOCKS, EXCERPT_CONTEXT, EXCERPT_WORDS = 2, 4, 12


def clean(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry."""
    return _ILLEGAL.sub("", text)


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    title: str
    summary_html: str
    summary_text: str
    content_html: str
    published: datetime
    updated: datetime
    kind: str = "material"  # material | minor | editorial: a category of the entry


@dataclass(frozen=True)
class Feed:
    title: str
    subtitle: str
    home_url: str
    author: dict[str, str]
    icon: str | None
    items: list[Item]
    updated: datetime


def _cut(words: list[Word], keep: str) -> list[Word]:
    """Some words of a run: keep='head' the first few, 'tail' the last, 'both' either end, 'change' a longer head."""
    n = EXCERPT_WORDS if keep == "change" else EXCERPT_CONTEXT
    gap: Word = ("…", (), False)
    if keep == "both" and len(words) > 2 * n:
        return words[:n] + [gap] + words[-n:]
    if keep in ("head", "change") and len(words) > n:
        return words[:n] + [gap]
    if keep == "tail" and len(words) > n:
        return [gap] + words[-n:]
    return words


def _short_spans(block_spans: tuple[Span, ...]) -> tuple[Span, ...]:
    groups: list[tuple[str, list[Word]]] = []
    for span in block_spans:
        words = list(words_from_runs([(span.text, span.marks, span.glue)]))
        if groups and groups[-1][0] == span.op:
            groups[-1][1].extend(words)
        else:
            groups.append((span.op, words))
    out: list[Span] = []
    last = len(groups) - 1
    for i, (op, words) in enumerate(groups):
        keep = "change" if op != "equal" else "both" if 0 < i < last else "tail" if i == 0 else "head"
        out += spans(_cut(words, keep), op)
    return tuple(out)


def _short(block: RedlineBlock) -> RedlineBlock:
    """A block with long runs cut (a table row cell by cell)."""
    return RedlineBlock(block.kind, block.status, _short_spans(block.spans),
                        tuple(_short_spans(cell) for cell in block.cells))


def excerpt(blocks: Iterable[RedlineBlock]) -> tuple[list[RedlineBlock], int]:
    """A short redline: the first changed blocks, a few words of context, long insertions and deletions cut,
    '…' where unchanged blocks were skipped; and how many more changed blocks were left out."""
    out: list[RedlineBlock] = []
    more = 0
    skipped = False
    for block in blocks:
        if block.status == "equal":
            skipped = True
            continue
        if len(out) >= EXCERPT_BLOCKS + sum(1 for b in out if b.status == "gap"):
            more += 1
            continue
        if skipped and out:
            out.append(RedlineBlock(block.kind, "gap", (Span("equal", "…"),)))
        out.append(_short(block))
        skipped = False
    return out, more


_family = family  # (the rule's name in the tests)
FEED_TEMPLATES = ("feeds/entry.html.j2", "feeds/text.j2")


class FeedBuilder:
    """Items and feeds of one site model, rendered from templates/feeds/."""

    def __init__(self, model: SiteModel, files: GeneratedFiles | None = None) -> None:
        self.model = model
        self.files = files  # where entries rendered by the last build are kept (site/gencache.py)
        self.inputs = files.inputs(model) if files is not None else DocumentInputs(model)
        self.parents: dict[int, tuple[Policy, dict[str, str | None]]] = {}
        self.settings = model.settings
        env = environment(model.settings.template_dirs, model.settings.site_url,
                          model.settings.cache_dir, model.settings["controlling_language"])
        self.env = env
        self.text = env.overlay(autoescape=False).get_template("feeds/text.j2").module
        limit = model.settings["feed_limit"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise UserError(f"feed_limit in mkdocs.yml must be a whole number of at least 1, not {limit!r}")
        self.limit = limit
        fallback = model.settings.build_time  # only for versions without a commit (built outside git)
        self.dates = {e.version: (e.published.published or fallback, e.published.updated or fallback)
                      for e in model.entries}

    def txt(self, macro: str, *args: Any) -> str:
        return clean(str(getattr(self.text, macro)(*args)).strip())

    def item(self, entry: VersionEntry, section_id: str | None = None, section_title: str | None = None) -> Item:
        """The entry of a version: in the main feeds (section_id None) or in one section's feed (the section
        and its subsections)."""
        version = self.inputs.version(entry)
        given = FeedEntry(version, section_id, section_title, self.inputs.settings)

        def content() -> str:
            return clean(render_template(self.env, FEED_TEMPLATES[0], given.context(excerpt)).strip())

        if self.files is not None:
            content_html = self.files.entry_html(self.files.key(FEED_TEMPLATES[0], given), content)
        else:
            content_html = content()
        fragment = f"#change-{section_id}" if section_id else ""
        link = clean(self.settings.url(entry.site_changes_path) + fragment)
        published, updated = self.dates[entry.version]
        return Item(id=clean(self.settings.url(entry.feed_id_path) + fragment), url=link,
                    title=self.txt("entry_title", version), summary_html=clean(inline.to_html(
                        entry.policy.summary, resolver(self.settings.url(), self.settings.url(entry.site_path)))),
                    summary_text=clean(inline.to_text(entry.policy.summary)), content_html=content_html,
                    published=published, updated=updated, kind=entry.kind)

    def feed(self, title: str, subtitle: str, home_url: str, items: list[Item]) -> Feed:
        org = self.model.current.policy.organisation
        author = {"name": clean(org.name)}
        contact = clean(org.contact)
        author["email" if "@" in contact and not contact.startswith(("http:", "https:")) else "uri"] = contact
        icon = self.settings["feed_icon"]
        if icon and not re.match(r"^https?://", icon):
            icon = self.settings.url(icon)
        newest = max((i.updated for i in items), default=max(u for _, u in self.dates.values()))
        return Feed(clean(title), clean(subtitle), clean(home_url), author, clean(icon) if icon else None, items,
                    newest)

    def main(self) -> Feed:
        items = [self.item(e) for e in self.model.newest_first[: self.limit]]
        title = self.settings["feed_title"] or self.txt("feed_title", self.inputs.document)
        subtitle = self.settings["feed_subtitle"] or self.txt("feed_subtitle", self.inputs.document)
        return self.feed(title, subtitle, self.model.url(""), items)

    def _parent(self, policy: Policy | None) -> dict[str, str | None]:
        """Each section id's parent id in a policy (memoised: consecutive versions share their texts)."""
        if policy is None:
            return {}
        hit = self.parents.get(id(policy))
        if hit is None or hit[0] is not policy:
            hit = self.parents[id(policy)] = (policy, {p.section.id: p.parent for p in policy.walk()})
        return hit[1]

    def _ancestors(self, policy: Policy | None, section_id: str) -> list[str]:
        parents, found = self._parent(policy), []
        parent = parents.get(section_id)
        while parent is not None and parent not in found:
            found.append(parent)
            parent = parents.get(parent)
        return found

    def touched(self, entry: VersionEntry) -> set[str]:
        """The section ids whose feed has this version: s is in it when a change of the version, or of one of its
        amendments, is in _family(new, old, s) — the change's own id, an ancestor of it in the old text, or an
        ancestor y in the new text, or an old-text ancestor of such a y (the order _family walks the texts in)."""
        pairs = [(entry.policy, entry.previous.policy if entry.previous else None, entry.diff.changed)]
        pairs += [(a.after, a.before, d.changed) for a, d in entry.amendments]
        ids: set[str] = set()
        for new, old, changed in pairs:
            for change in changed:
                ids.add(change.id)
                ids.update(self._ancestors(old, change.id))
                for above in self._ancestors(new, change.id):
                    ids.add(above)
                    ids.update(self._ancestors(old, above))
        return ids

    def section(self, section_id: str, touched: dict[int, set[str]] | None = None) -> Feed:
        """One section's feed; touched: each version's touched() ids, when already known."""
        entries, title, feed_title, subtitle, home = self._section_parts(section_id, touched)
        return self.feed(feed_title, subtitle, home, [self.item(e, section_id, title) for e in entries])

    def _section_parts(self, section_id: str, touched: dict[int, set[str]] | None
                       ) -> tuple[list[VersionEntry], str, str, str, str]:
        """A section feed's versions (newest first, capped), the section's title, the feed's title, subtitle and
        home page."""
        found = touched if touched is not None else {id(e): self.touched(e) for e in self.model.entries}
        entries = [e for e in self.model.newest_first if section_id in found[id(e)]]
        title = next((p.section.title for e in self.model.newest_first for p in e.published.latest_text.walk()
                      if p.section.id == section_id), section_id)
        present = section_id in self.model.current.policy.section_ids()
        home = self.model.url(f"#{section_id}") if present or not entries else \
            self.model.url(entries[0].changes_path) + f"#change-{section_id}"
        base = self.settings["feed_title"] or self.txt("feed_title", self.inputs.document)
        return (entries[: self.limit], title, self.txt("section_feed_title", base, title),
                self.txt("section_feed_subtitle", title), home)

    def section_atom(self, section_id: str, self_url: str, touched: dict[int, set[str]]
                     ) -> tuple[str, Callable[[], bytes]]:
        """The key of a section's Atom feed (site/gencache.py: everything it shows) and how to make it."""
        entries, title, feed_title, subtitle, home = self._section_parts(section_id, touched)
        org = self.model.current.policy.organisation
        given = ["section feed", self_url, section_id, title, feed_title, subtitle, home, org.name, org.contact,
                 self.inputs.settings, None if entries else max(u for _, u in self.dates.values()),
                 [[self.inputs.version(e), self.dates[e.version]] for e in entries]]
        key = self.files.key(FEED_TEMPLATES, given) if self.files is not None else ""
        return key, lambda: atom_xml(self.feed(feed_title, subtitle, home,
                                               [self.item(e, section_id, title) for e in entries]), self_url)


def _generator(feed: Feed, self_url: str, self_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(feed.title)
    fg.subtitle(feed.subtitle)  # also the RSS channel description
    fg.author(feed.author)
    if "email" in feed.author:
        fg.managingEditor(f"{feed.author['email']} ({feed.author['name']})")
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=feed.home_url, rel="alternate", type="text/html")  # last link: feedgen's RSS <link>
    fg.generator("policy-site")
    if feed.icon:
        if self_type == RSS_TYPE:
            fg.image(url=feed.icon, title=feed.title, link=feed.home_url)  # would also set Atom's 2:1 logo
        else:
            fg.icon(feed.icon)
    fg.updated(feed.updated)  # also RSS lastBuildDate: the newest entry's time, never the clock
    for item in feed.items:  # already newest first; 'append' keeps that order
        fe = fg.add_entry(order="append")
        fe.guid(item.id, permalink=True)
        fe.title(item.title)
        fe.category(term=item.kind, label=f"{item.kind} change")
        # one link only: feedgen 1.0 drops rel/type of entry links, and two untyped links would both be
        # rel="alternate" (RFC 4287 4.1.1 forbids that); the version's full text is linked from the content
        fe.link(href=item.url, rel="alternate")
        fe.summary(item.summary_html, type="html")  # also the RSS description
        fe.content(item.content_html, type="html")  # RSS content:encoded
        fe.published(item.published)
        fe.updated(item.updated)
    return fg


def atom_xml(feed: Feed, self_url: str) -> bytes:
    return _generator(feed, self_url, ATOM_TYPE).atom_str(pretty=True)


def rss_xml(feed: Feed, self_url: str) -> bytes:
    return _generator(feed, self_url, RSS_TYPE).rss_str(pretty=True)


def json_feed(feed: Feed, self_url: str) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with the standard library."""
    author: dict[str, str] = {"name": feed.author["name"]}
    if "uri" in feed.author or "email" in feed.author:
        author["url"] = feed.author.get("uri") or "mailto:" + feed.author["email"]
    data: dict[str, Any] = {"version": JSON_FEED_VERSION, "title": feed.title, "home_page_url": feed.home_url,
                            "feed_url": self_url, "description": feed.subtitle}
    if feed.icon:
        data["icon"] = data["favicon"] = feed.icon
    data["authors"] = [author]
    data["items"] = [{"id": i.id, "url": i.url, "title": i.title, "content_html": i.content_html,
                      "summary": i.summary_text, "date_published": iso(i.published),
                      "date_modified": iso(i.updated), "tags": [f"{i.kind} change"]} for i in feed.items]
    text = dumps(data)
    # the same JSON, but inert even if a browser sniffs it as HTML
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _render_feed(render: Callable[[Feed, str], str | bytes], feed: Callable[[], Feed], url: str) -> str | bytes:
    return render(feed(), url)


def write_feeds(model: SiteModel, out: OutputTree, files: GeneratedFiles | None = None) -> None:
    """Write atom.xml, rss.xml, feed.json and sections/<id>/atom.xml for every section id ever published."""
    builder = FeedBuilder(model, files)
    url, prefix = model.url, model.prefix
    made: list[Feed] = []

    def main() -> Feed:  # made once, for whichever of the three files is written
        if not made:
            made.append(builder.main())
        return made[0]
    renderers: dict[str, Callable[[Feed, str], str | bytes]] = {"atom.xml": atom_xml, "rss.xml": rss_xml,
                                                                 "feed.json": json_feed}
    for name, render in renderers.items():
        made_by = partial(_render_feed, render, main, url(name))
        if files is not None:  # written again only when the document changed
            fallback = None if model.history.from_git else model.settings.build_time  # (dates outside git)
            given = ["feed", name, url(name), files.inputs(model).document, fallback]
            files.file(prefix + name, files.key(FEED_TEMPLATES, given), made_by)
        else:
            out.write(prefix + name, made_by())
    touched = {id(e): builder.touched(e) for e in model.entries}
    for section_id in model.section_ids:
        path = f"sections/{section_id}/atom.xml"
        key, make = builder.section_atom(section_id, url(path), touched)
        if files is not None:  # a section's feed is written again only when one of its versions changed
            files.file(prefix + path, key, make)
        else:
            out.write(prefix + path, make())
