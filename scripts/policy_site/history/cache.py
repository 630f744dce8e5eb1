"""The parse cache: parsed policies and their diffs keyed by the blob ids of their files, kept between builds.

One JSON file, `parsed.json` in the cache folder, written through policy_site.codec: reading it can only build
registered dataclasses, never run code. It records the format version and a fingerprint of this package's
code; a cache written by other code is rebuilt silently. A corrupt, truncated, foreign or newer-format file is
rebuilt too, with a one-line note on stderr: never trusted, never a traceback. Entries holding classes this
process did not register (diffs, during `policy check`) are kept for the processes that use them.
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from .. import codec
from ..errors import DamagedCache
from ..keys import code_fingerprint

FORMAT = "policy-site parse cache"
VERSION = 5
FILE_NAME = "parsed.json"


def _damaged(path: Path, detail: str) -> DamagedCache:
    """A value read from the file only when used (codec.Lazy) turned out malformed: one line, not a traceback."""
    return DamagedCache(f"the parse cache {path} is damaged ({detail[:120]}); delete it and run the command again")


class ParseCache:
    """Values keyed by blob-derived keys, loaded from and saved to one file in the cache folder."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / FILE_NAME if directory else None
        self.entries: dict[str, Any] = {}
        self.foreign: dict[str, Any] = {}  # entries with classes this process has not registered: kept as they are
        self.dirty = False
        self._read: tuple[Any, Any, list[object], dict[str, Any]] | None = None  # tables and raw entries as read
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            data = orjson.loads(path.read_bytes())  # 3× json's speed: the warm build reads the whole file
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise codec.CodecError("not a policy-site parse cache")
            if not isinstance(data.get("version"), int) or data["version"] > VERSION:
                raise codec.CodecError(f"format {data.get('version')!r} is newer than this tool's ({VERSION})")
            if data["version"] != VERSION or data.get("code") != code_fingerprint():
                self.dirty = True  # written by another version of this tool: rebuilt without a word
                return
            entries = data.get("entries")
            if not isinstance(entries, dict):
                raise codec.CodecError("no entries")
            decoder = codec.Decoder(data.get("classes"), data.get("objects"), partial(_damaged, path))
            for key, raw in entries.items():
                value, foreign = decoder.value(raw)
                (self.foreign if foreign else self.entries)[key] = value
            self._read = (data["classes"], data["objects"], decoder.objects, entries)
        except Exception as exc:  # noqa: BLE001 - an unusable cache is rebuilt, whatever is wrong with it
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            print(f"policy: note: the parse cache {path} is unusable ({reason}); rebuilding it", file=sys.stderr)
            self.entries, self.foreign, self.dirty = {}, {}, True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        # Entries are never changed once made (their keys are blob ids): those read from the file are written back
        # as they were read, with the tables they refer to, and only the new ones are encoded.
        read = self._read
        encoder = codec.Encoder.resume(read[0], read[1], read[2]) if read else codec.Encoder()
        old = read[3] if read else {}
        entries: dict[str, Any] = {}
        skipped: set[str] = set()
        for key, value in sorted(self.entries.items()) + sorted(self.foreign.items()):
            if key in old:
                entries[key] = old[key]
            elif key not in entries:
                try:
                    entries[key] = encoder.value(value)
                except TypeError as exc:  # a class nobody registered: a bug, but no reason to fail the build
                    skipped.add(str(exc))
        for reason in sorted(skipped):
            print(f"policy: note: some values were not cached ({reason})", file=sys.stderr)
        data = {"format": FORMAT, "version": VERSION, "code": code_fingerprint(), "classes": encoder.classes,
                "objects": encoder.objects, "entries": entries}
        try:
            text = orjson.dumps(data, default=codec.to_json)  # UTF-8 and compact, like json's C encoder, 5× as fast
        except orjson.JSONEncodeError as exc:  # a value JSON cannot hold (an integer beyond 64 bits): not cached
            print(f"policy: note: the parse cache was not saved ({exc})", file=sys.stderr)
            self.dirty = False
            return
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")  # two builds at once never share a half-written file
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(text)
            tmp.replace(self.path)
            self._read = None  # the tables just written hold more than those read
        except OSError as exc:  # a cache is an optimisation: a full disk or read-only folder costs time, not the build
            tmp.unlink(missing_ok=True) if tmp.parent.is_dir() else None
            print(f"policy: note: the parse cache was not saved ({self.path.parent}: {exc.strerror or exc}); "
                  "the next build parses the history again", file=sys.stderr)
        self.dirty = False
