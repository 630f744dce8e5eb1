"""Compiled templates kept between renders: in memory for one `policy serve` session, on disk between builds.

MkDocs makes a new Jinja environment for every rebuild, so every rebuild compiles Material's ~50 templates
again (~0.2 s). Under serve the plugin gives each new theme environment this cache (Jinja's own bytecode-cache
interface): a template whose source, name and environment options are unchanged reuses the code object compiled
by an earlier rebuild of the same process. Nothing is written to disk and nothing is read from it: the code
objects never leave the process that compiled them. Jinja checks the source checksum itself.

Between builds (`compiled_templates`) the compiled code of our templates and the theme's is kept under the
project's cache folder (never inside site/), keyed by name, file and the same environment options, so a
template compiled with autoescaping is never reused without it. A folder that cannot be written or a damaged
file only costs the compilation.
"""

from __future__ import annotations

from pathlib import Path
from types import CodeType

import jinja2
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache


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


class _DiskBytecode(FileSystemBytecodeCache):
    """Jinja's file-system bytecode cache, keyed by the environment's options too, and never failing a build."""

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        return super().get_bucket(environment, f"{name}\0{_options(environment)!r}", filename, source)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def compiled_templates(cache_dir: Path) -> BytecodeCache:
    """The compiled templates kept in cache_dir/templates (ours and the theme's)."""
    return _DiskBytecode(str(cache_dir / "templates"))
