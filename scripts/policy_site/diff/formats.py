"""Redlines as HTML and plain text; `policy diff` as text, Markdown (a PR comment), HTML or JSON."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from markupsafe import Markup, escape

from .redline import RedlineBlock
from .sections import PolicyDiff, diff_to_data

_LABEL = {"insert": "inserted", "delete": "deleted"}
_TAG = {"insert": "ins", "delete": "del"}


def redline_html(blocks: Iterable[RedlineBlock]) -> Markup:
    """Redline blocks as HTML: <ins>/<del> with visually hidden labels for screen readers."""
    out: list[str] = []
    open_list: str | None = None
    for block in blocks:
        if block.kind != open_list:
            if open_list:
                out.append(f"</{open_list}>")
            open_list = block.kind if block.kind in ("ul", "ol") else None
            if open_list:
                out.append(f'<{open_list} class="redline">')
        words = []
        for piece in block.pieces:
            if piece.op == "equal":
                words.append(str(escape(piece.text)))
            else:
                tag = _TAG[piece.op]
                words.append(f'<{tag}><span class="visually-hidden">[{_LABEL[piece.op]}: </span>'
                             f'{escape(piece.text)}<span class="visually-hidden">]</span></{tag}>')
        cls = f' class="redline-{block.status}"' if block.status != "equal" else ""
        tag = "li" if open_list else "p"
        out.append(f"<{tag}{cls}>{' '.join(words)}</{tag}>")
    if open_list:
        out.append(f"</{open_list}>")
    return Markup("\n".join(out))


def redline_text(blocks: Iterable[RedlineBlock], changed_only: bool = False) -> str:
    """Redline as plain text in git's word-diff style: [-deleted-] {+inserted+}."""
    lines = []
    for block in blocks:
        if changed_only and block.status == "equal":
            continue
        words = [p.text if p.op == "equal" else (f"[-{p.text}-]" if p.op == "delete" else f"{{+{p.text}+}}")
                 for p in block.pieces]
        lines.append(("- " if block.kind == "ul" else "1. " if block.kind == "ol" else "") + " ".join(words))
    return "\n".join(lines)


def _label(version: str | None) -> str:
    return f"version {version}" if version else "nothing"


def as_text(d: PolicyDiff, from_label: str, to_label: str) -> str:
    lines = [f"Policy changes from {from_label} to {to_label}", ""]
    for m in d.meta:
        lines.append(f"  {m.field}: {m.old} -> {m.new}")
    if d.introduction:
        lines += ["  introduction: modified", _indent(redline_text(d.introduction, changed_only=True))]
    for s in d.changed:
        number = s.new_number or s.old_number or ""
        lines.append(f"  {s.kind:<22} {number} {s.title} [{s.id}]".rstrip())
        if "renamed" in s.kinds:
            lines.append(f"      title: [-{s.old_title}-] {{+{s.new_title}+}}")
        if s.redline:
            lines.append(_indent(redline_text(s.redline, changed_only=True)))
    if not d.changed and not d.meta and not d.introduction:
        lines.append("  no changes")
    lines += ["", f"{len(d.changed)} section(s) changed, {d.unchanged_count} unchanged."]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def _md(text: str) -> str:
    return html.escape(text).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def as_markdown(d: PolicyDiff, from_label: str, to_label: str) -> str:
    """GitHub-flavoured Markdown for a pull-request comment; redlines as HTML <ins>/<del>."""
    out = [f"### Privacy policy: {_md(from_label)} → {_md(to_label)}", ""]
    if d.new.summary:
        out += [f"**Summary:** {_md(d.new.summary)}", ""]
    for m in d.meta:
        out.append(f"- **{_md(m.field)}**: ~~{_md(m.old)}~~ → {_md(m.new)}")
    if d.changed:
        out += ["", "| Section | Change |", "| --- | --- |"]
        for s in d.changed:
            out.append(f"| {_md((s.new_number or s.old_number or '') + ' ' + s.title).strip()} (`{s.id}`) | {s.kind} |")
    out += ["", f"{len(d.changed)} section(s) changed, {d.unchanged_count} unchanged.", ""]
    for s in d.changed:
        if s.redline or "renamed" in s.kinds:
            out += ["<details>", f"<summary>{html.escape(s.title)} — {s.kind}</summary>", ""]
            if "renamed" in s.kinds:
                out.append(f"<p>Title: <del>{html.escape(s.old_title or '')}</del> → "
                           f"<ins>{html.escape(s.new_title or '')}</ins></p>")
            out += [str(redline_html([b for b in s.redline if b.status != "equal"])), "", "</details>", ""]
    return "\n".join(out)


def as_html(d: PolicyDiff, from_label: str, to_label: str) -> str:
    parts = [f"<h2>Policy changes from {html.escape(from_label)} to {html.escape(to_label)}</h2>", "<ul>"]
    parts += [f"<li>{html.escape(s.title)}: {html.escape(s.kind)}</li>" for s in d.changed]
    parts.append("</ul>")
    for s in d.changed:
        if s.redline:
            parts += [f"<h3>{html.escape(s.title)}</h3>", str(redline_html(s.redline))]
    return "\n".join(parts) + "\n"


def render_diff(d: PolicyDiff, fmt: str, from_label: str, to_label: str) -> str:
    if fmt == "json":
        return json.dumps(diff_to_data(d), ensure_ascii=False, indent=2) + "\n"
    return {"text": as_text, "markdown": as_markdown, "html": as_html}[fmt](d, from_label, to_label)
