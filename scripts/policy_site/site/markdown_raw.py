"""A Markdown extension for the generated pages: HTML a template made whole goes into the page as it is.

Python-Markdown finds a raw HTML block by running an HTML parser over it to see where it ends. The archive's
table of a 300-version policy, or the compare form's lists of versions, are made whole by our templates (every
value escaped there), and parsing them again took a noticeable part of each rebuild (the archive is rendered
again for every new version). A region of lines between `<!-- policy:raw -->` and `<!-- /policy:raw -->` is put
in Python-Markdown's HTML stash before its own block parser runs, as that parser stores a raw block, and written
out unchanged. Without this extension (a plain `mkdocs build` of the generated folder) the markers are HTML
comments and the block is found as before.
"""

from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

START, END = "<!-- policy:raw -->", "<!-- /policy:raw -->"
_REGION = re.compile(r"^<!-- policy:raw -->\n(.*?)\n<!-- /policy:raw -->$", re.S | re.M)


class _Stash(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if START not in text:
            return lines
        return _REGION.sub(lambda m: f"\n\n{self.md.htmlStash.store(m.group(1))}\n\n", text).split("\n")


class RawHtmlExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(_Stash(md), "policy_raw_html", 25)  # after whitespace (30), before html_block (20)


def makeExtension(**kwargs: object) -> RawHtmlExtension:  # noqa: N802 - how Python-Markdown loads an extension
    return RawHtmlExtension(**kwargs)
