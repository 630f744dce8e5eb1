"""MkDocs hooks of this project's own documentation (`make docs`, mkdocs.docs.yml; not part of the package).

The README is the documentation's home page: it is added to the docs as index.md, its links into docs/ made
relative to the docs, and the docs' links to ../README.md pointed at it. Nothing else changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

README = Path(__file__).resolve().parents[1] / "README.md"


def on_files(files: Files, config: Any) -> Files:
    text = README.read_text(encoding="utf-8")
    text = re.sub(r"\]\(docs/", "](", text)
    files.append(File.generated(config, "index.md", content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return re.sub(r"\]\(\.\./README\.md", "](index.md", markdown)
