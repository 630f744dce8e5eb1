"""What a generation hands to MkDocs: where the pages are, the nav, and what to say. Small and picklable, as
`policy build` may generate in another process (cli/build_fork.py); this module imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Generated:
    pages_dir: Path
    nav: list[dict[str, str]]
    is_library: bool
    # Material's language switcher: (code, the language's own name), the controlling language first; empty
    # without translations
    languages: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: tuple[int, int] | None = None  # generated files (and feed entries) reused, rendered
    # each Markdown page written or kept by this generation → the sha256 of its bytes (the page cache's keys)
    pages: dict[str, str] = field(default_factory=dict)
