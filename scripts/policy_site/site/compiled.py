"""Compiled templates kept between renders: in memory for one `policy serve` session, on disk between builds.

MkDocs makes a new Jinja environment for every rebuild, so every rebuild compiles Material's ~50 templates
again (~0.2 s). Under serve the plugin gives each new theme environment this cache (Jinja's own bytecode-cache
interface): a template whose source, name and environment options are unchanged reuses the code object compiled
by an earlier rebuild of the same process. Nothing is written to disk and nothing is read from it: the code
objects never leave the process that compiled them. Jinja checks the source checksum itself.

Between builds (`compiled_templates`) compiled templates are kept on disk like Python keeps its .pyc files:
compiling Material's templates and ours is a third of a one-version build (~0.26 s), and the same template
compiles to the same code in every project. The store is the user's cache folder (`$XDG_CACHE_HOME/policy-site/
templates`, else `~/.cache/policy-site/templates`), shared by every project and clone; when that cannot be used
(no home, not private to the user), the project's cache folder. It is never inside site/. An entry is named by
the template's name, its source's checksum and the environment options compiled code depends on, so a template
compiled with autoescaping is never reused without it; a loaded entry takes the file name of the template that
asked for it (what tracebacks and `Template.filename` show). The folder keeps at most ~2,000 entries, the least
recently used removed first. A folder that cannot be written, a damaged or foreign entry only cost the compiling.
A folder someone else owns or may write to is never read: its entries are code.
"""

from __future__ import annotations

import os
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from types import CodeType

import jinja2
import jinja2.meta
from jinja2.bccache import Bucket, BytecodeCache

from ..keys import digest

KEEP = 2000  # entries kept in the folder; past that, the least recently used go down to half


def _options(env: jinja2.Environment) -> tuple:
    """The environment options compiled code depends on."""
    return (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline, env.optimized,
            repr(env.autoescape), tuple(sorted(env.extensions)))


class MemoryBytecode(BytecodeCache):
    """Jinja's bytecode cache, in memory only."""

    def __init__(self) -> None:
        self.code: dict[tuple, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self.code.get((_options(bucket.environment), bucket.key))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self.code[(_options(bucket.environment), bucket.key)] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        self.code.clear()


def _located(code: CodeType, filename: str) -> CodeType:
    """code (and the functions in it) as compiled from filename."""
    if code.co_filename == filename:
        return code
    consts = tuple(_located(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


class DiskBytecode(BytecodeCache):
    """Compiled templates in a folder, one file per (name, source, options); never failing a build."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pruned = False

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        checksum = self.get_source_checksum(source)
        key = digest(name, checksum, repr(_options(environment)))
        bucket = Bucket(environment, key, checksum)
        self._load(bucket, filename or "<template>")
        return bucket

    def _path(self, bucket: Bucket) -> Path:
        return self.directory / f"{bucket.key}.jinja"

    def _load(self, bucket: Bucket, filename: str) -> None:
        path = self._path(bucket)
        try:
            with open(path, "rb") as file:
                bucket.load_bytecode(file)
            if bucket.code is not None:
                bucket.code = _located(bucket.code, filename)
        except Exception:  # noqa: BLE001 - a missing, damaged or foreign entry: the template is compiled again
            bucket.reset()
            return
        if bucket.code is not None:
            try:
                os.utime(path)  # recently used (pruning removes the least recently used)
            except OSError:
                pass

    def load_bytecode(self, bucket: Bucket) -> None:  # Jinja's interface; get_bucket loads with the file name
        self._load(bucket, "<template>")

    def dump_bytecode(self, bucket: Bucket) -> None:
        temporary = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not self.pruned:
                self.pruned = True
                prune(self.directory)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                bucket.write_bytecode(file)
            os.replace(temporary, self._path(bucket))
        except (OSError, TypeError, ValueError):
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def prune(directory: Path, keep: int = KEEP) -> None:
    """Past `keep` entries, remove the least recently used down to half of it."""
    with os.scandir(directory) as found:
        entries = [e for e in found if e.name.endswith(".jinja")]
    if len(entries) <= keep:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for entry in entries[:len(entries) - keep // 2]:
        Path(entry.path).unlink(missing_ok=True)


@lru_cache(maxsize=4)
def user_folder(xdg_cache_home: str | None, home: str | None) -> Path | None:
    """The user's folder of compiled templates, created private (0700), or None when it cannot be used."""
    base = xdg_cache_home or ""
    if not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        home = home or os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    folder = Path(base) / "policy-site" / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        found = os.lstat(folder)
    except OSError:
        return None
    private = (stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
               and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
    return folder if private else None


def precompile(env: jinja2.Environment, names: list[str]) -> int:
    """Compile the templates names and those they name (extends, include, import with a constant name) into
    env's bytecode cache, unless the first is there already (then the rest most likely are too). Returns how many
    were compiled. For a process that would otherwise wait: `policy build` while its generation runs."""
    cache = env.bytecode_cache
    if cache is None or env.loader is None:
        return 0
    queue, seen, compiled = list(names), set(names), 0
    while queue:
        name = queue.pop(0)
        try:
            source, filename, _ = env.loader.get_source(env, name)
            bucket = cache.get_bucket(env, name, filename, source)
            if bucket.code is not None:
                if compiled == 0 and name == names[0]:
                    return 0
                continue
            tree = env.parse(source, name, filename)
            bucket.code = env.compile(tree, name, filename)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError):
            continue
        cache.set_bucket(bucket)
        compiled += 1
        for found in jinja2.meta.find_referenced_templates(tree):
            if found is not None and found not in seen:
                seen.add(found)
                queue.append(found)
    return compiled


def compiled_templates(cache_dir: Path) -> BytecodeCache:
    """The compiled templates (ours and the theme's): the user's folder, else cache_dir/templates."""
    folder = user_folder(os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"))
    return DiskBytecode(folder or cache_dir / "templates")
