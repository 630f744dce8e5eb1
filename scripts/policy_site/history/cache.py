"""The parse cache: parsed policies and their diffs keyed by the blob ids of their files, kept between builds."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

CACHE_FORMAT = 5


class ParseCache:
    """Values keyed by blob-derived keys, loaded from and saved to one file in the cache folder."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / "parsed.pickle" if directory else None
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                version, entries = pickle.loads(self.path.read_bytes())
                if version == CACHE_FORMAT:
                    self.entries = entries
            except Exception:  # a stale or damaged cache is rebuilt, never trusted
                self.entries = {}

    def save(self) -> None:
        if self.path and self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps((CACHE_FORMAT, self.entries), protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(self.path)
