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
    languages: list[str] = field(default_factory=list)  # the translations' languages
    warnings: list[str] = field(default_factory=list)
    counts: tuple[int, int] | None = None  # generated files (and feed entries) reused, rendered
