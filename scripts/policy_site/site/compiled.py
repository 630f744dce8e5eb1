"""Compiled theme templates kept in memory for the length of one `policy serve` session.

MkDocs makes a new Jinja environment for every rebuild, so every rebuild compiles Material's ~50 templates
again (~0.2 s). Under serve the plugin gives each new theme environment this cache (Jinja's own bytecode-cache
interface): a template whose source, name and environment options are unchanged reuses the code object compiled
by an earlier rebuild of the same process. Nothing is written to disk and nothing is read from it: the code
objects never leave the process that compiled them. Jinja checks the source checksum itself.
"""

from __future__ import annotations

from types import CodeType

import jinja2
from jinja2.bccache import Bucket, BytecodeCache


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
