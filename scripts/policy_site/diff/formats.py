"""`policy diff` output: plain text, Markdown for a pull-request comment (diff/comment.py), HTML, or JSON."""

from __future__ import annotations

import html
import json

from .comment import as_markdown
from .redline_render import redline_html, redline_text
from .sections import PolicyDiff, diff_to_data

FORMATS = ("text", "markdown", "html", "json")


def as_text(d: PolicyDiff, from_label: str, to_label: str) -> str:
    lines = [f"Policy changes from {from_label} to {to_label}", ""]
    if not d.visible and d.old is not None:
        lines += ["  editorial version: the text reads exactly as before", ""]
    for m in d.meta:
        lines.append(f"  {m.field}: {m.old} -> {m.new}")
    if d.introduction:
        lines += ["  introduction: modified", _indent(redline_text(d.introduction, changed_only=True))]
    for s in d.changed:
        lines.append(f"  {s.kind:<22} {s.path_label} [{s.id}]")
        if "renamed" in s.kinds:
            lines.append(f"      title: [-{s.old_title}-] {{+{s.new_title}+}}")
        if s.move:
            lines.append(f"      {s.move}")
        if s.redline:
            lines.append(_indent(redline_text(s.redline, changed_only=True)))
    if not d.changed and not d.meta and not d.introduction:
        lines.append("  no changes")
    lines += ["", d.summary]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def as_html(d: PolicyDiff, from_label: str, to_label: str) -> str:
    parts = [f"<h2>Policy changes from {html.escape(from_label)} to {html.escape(to_label)}</h2>",
             f"<p>{html.escape(d.summary)}</p>", "<ul>"]
    parts += [f"<li>{html.escape(s.path_label)}: {html.escape(s.kind)}</li>" for s in d.changed]
    parts.append("</ul>")
    for s in d.changed:
        if s.redline or s.move:
            parts.append(f"<h3>{html.escape(s.path_label)}</h3>")
            if s.move:
                parts.append(f"<p>{html.escape(s.move)}</p>")
            parts.append(str(redline_html(s.redline)))
    return "\n".join(parts) + "\n"


def render_diff(d: PolicyDiff, fmt: str, from_label: str, to_label: str, full_url: str | None = None) -> str:
    if fmt == "json":
        return json.dumps(diff_to_data(d), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return as_markdown(d, from_label, to_label, full_url)
    return {"text": as_text, "html": as_html}[fmt](d, from_label, to_label)
