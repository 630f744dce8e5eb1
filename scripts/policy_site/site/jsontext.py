"""JSON as the site publishes it (versions.json, policy.json, feeds, the manifest): one writer, light to import."""

from __future__ import annotations

import orjson


def dumps(data: object, compact: bool = False) -> str:
    """JSON text, UTF-8 as it is, indented by two spaces unless compact: what json.dumps(…, ensure_ascii=False,
    indent=2) writes, by orjson (json's indentation runs its slow pure-Python encoder)."""
    option = orjson.OPT_APPEND_NEWLINE | (0 if compact else orjson.OPT_INDENT_2)
    return orjson.dumps(data, option=option).decode("utf-8")
