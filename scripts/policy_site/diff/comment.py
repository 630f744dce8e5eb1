"""`policy diff --format markdown`: a pull-request comment that always fits GitHub's 65,536-character limit.

First a summary table of every changed section (with its context and kind, and where a moved section went),
then each section's redline in a collapsible <details> block. When the whole would not fit, the longest
redlines are cut (at block boundaries, the cut said in words) until it does, and the comment links to the
full redline on the site. Text from the YAML is escaped for Markdown and HTML, and @mentions, #references
and images in it are made inert, so a policy edit can never ping people or pull in content.
"""

from __future__ import annotations

import html
import re

from .redline import RedlineBlock
from .redline_render import redline_html
from .sections import PolicyDiff, SectionChange

LIMIT = 65_536
BUDGET = 60_000  # leaves room for what GitHub or the workflow adds around the body
_MD_SPECIALS = re.compile(r"([\\`*_\[\]|~]|!(?=\[))")
_MENTION = re.compile(r"([@#])(?=[\w-])")


def md_text(text: str) -> str:
    """Text that GitHub Markdown shows literally: punctuation escaped, HTML escaped, mentions broken."""
    escaped = _MD_SPECIALS.sub(r"\\\1", html.escape(" ".join(text.split()), quote=False))
    return _MENTION.sub(lambda m: m.group(1) + "\u200b", escaped)


def _html_text(text: str) -> str:
    return _MENTION.sub(lambda m: m.group(1) + "\u200b", html.escape(text))


def _kind(change: SectionChange) -> str:
    kind = change.kind
    if change.move:
        kind += f" — {change.move}"
    return kind


def _table(d: PolicyDiff, budget: int) -> list[str]:
    rows = ["| Section | Change |", "| --- | --- |"]
    used = sum(len(r) + 1 for r in rows)
    for n, change in enumerate(d.changed):
        row = f"| {md_text(change.path_label)} (`{change.id}`) | {md_text(_kind(change))} |"
        if used + len(row) + 1 > budget:
            rows.append(f"| … and {len(d.changed) - n} more sections | |")
            break
        rows.append(row)
        used += len(row) + 1
    return rows


def _details(change: SectionChange, blocks: list[RedlineBlock], cut: int, url: str | None) -> str:
    out = ["<details>", f"<summary>{_html_text(change.path_label)} — {html.escape(change.kind)}</summary>", ""]
    if "renamed" in change.kinds:
        out.append(f"<p>Title: <del>{_html_text(change.old_title or '')}</del> → "
                   f"<ins>{_html_text(change.new_title or '')}</ins></p>")
    if change.move:
        out.append(f"<p>{html.escape(change.move)}</p>")
    if blocks:
        out.append(_inert(str(redline_html(blocks, labels=False))))
    if cut:
        where = f' See the <a href="{html.escape(url)}">full redline</a>.' if url else ""
        out.append(f"<p><em>… {cut} more changed paragraph{'s' if cut != 1 else ''} not shown here.{where}</em></p>")
    out += ["", "</details>", ""]
    return "\n".join(out)


def _inert(markup: str) -> str:
    """Break @mentions and #references in the text between tags (never inside a tag's attributes)."""
    return re.sub(r">([^<]*)<", lambda m: ">" + _MENTION.sub(lambda n: n.group(1) + "\u200b", m.group(1)) + "<",
                  markup)


def _fit(changes: list[SectionChange], budget: int, url: str | None) -> list[str]:
    """Every section's details; the longest redline halved (and the cut said) until the total fits."""
    shown = [[b for b in c.redline if b.status != "equal"] for c in changes]
    full = [len(blocks) for blocks in shown]
    parts = [_details(c, blocks, 0, url) for c, blocks in zip(changes, shown)]

    def total() -> int:
        return sum(len(p) + 1 for p in parts)

    while total() > budget:
        cuttable = [i for i in range(len(parts)) if shown[i]]
        if not cuttable:
            break
        i = max(cuttable, key=lambda k: (len(parts[k]), -k))
        shown[i] = shown[i][: len(shown[i]) // 2]
        parts[i] = _details(changes[i], shown[i], full[i] - len(shown[i]), url)
    dropped = 0
    while parts and total() + 200 > budget:
        parts.pop()
        dropped += 1
    if dropped:
        parts.append(f"<p><em>… {dropped} more changed section{'s' if dropped != 1 else ''} not shown here."
                     f"{' See the full redline: ' + html.escape(url) if url else ''}</em></p>")
    return parts


def as_markdown(d: PolicyDiff, from_label: str, to_label: str, full_url: str | None = None) -> str:
    """GitHub-flavoured Markdown for a pull-request comment, at most LIMIT characters."""
    out = [f"### {md_text(d.new.title)}: {md_text(from_label)} → {md_text(to_label)}", ""]
    if d.new.summary:
        out += [f"**Summary:** {md_text(d.new.summary)}", ""]
    if not d.visible and d.old is not None:
        out += [f"**Editorial version:** the text reads exactly as before (only {d.unseen} changed).", ""]
    for m in d.meta:
        out.append(f"- **{md_text(m.field)}**: ~~{md_text(m.old)}~~ → {md_text(m.new)}")
    if d.introduction:
        out.append("- **Introduction**: modified")
    if out[-1]:  # a table right after a list item is read as that item's text (cmark-gfm): a blank line ends the list
        out.append("")
    head = "\n".join(out)
    table = _table(d, BUDGET // 3) if d.changed else []
    tail = ["", d.summary, ""]
    if full_url:
        tail += [f"Full redline: {full_url}", ""]
    fixed = "\n".join([head, *table, *tail])
    with_details = [c for c in d.changed if c.redline or "renamed" in c.kinds or c.move]
    if d.introduction:
        intro = SectionChange("introduction", ("modified",), "Introduction", "Introduction", redline=d.introduction)
        with_details.insert(0, intro)
    body = _fit(with_details, BUDGET - len(fixed), full_url)
    text = "\n".join([fixed, *body])
    return text if len(text) <= LIMIT else text[: LIMIT - 200].rsplit("\n", 1)[0] + "\n\n… (cut to fit)\n"
