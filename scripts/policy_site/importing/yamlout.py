"""Policy → the files of the YAML format (policy.yaml, sections/<id>.yaml), as `policy init` writes them: the
schema line first, keys in the documented order, lists indented, text over several lines in literal blocks
(`|`), short table rows on one line."""

from __future__ import annotations

from datetime import date

import yaml

from ..source.files import POLICY_FILE, SECTIONS_DIR
from ..source.model import Policy, section_to_data

POLICY_SCHEMA = "# yaml-language-server: $schema=schema/policy.schema.json\n"
SECTION_SCHEMA = "# yaml-language-server: $schema=../schema/section.schema.json\n"


class _Row(list):
    """A table row written on one line: [Cookie, Purpose, Expires]."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "- item" indented under its key, as the README shows


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value and not any(line != line.rstrip(" ") for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Row, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _short(row: list) -> bool:
    """A row of short one-line text cells (a cell of paragraphs and lists, or with an anchor, is a mapping: the
    row is then written out in full)."""
    return all(isinstance(c, str) and "\n" not in c for c in row) and len(", ".join(row)) <= 90


def _rows(data: object) -> object:
    """Table rows and headers of short one-line cells as _Row (one line each); everything else as it is."""
    if isinstance(data, dict):
        out: dict = {}
        for key, value in data.items():
            if key == "table" and isinstance(value, dict):
                table = dict(value)
                for name in ("header", "rows"):
                    if name not in table:
                        continue
                    rows = table[name] if name == "rows" else [table[name]]
                    short = [_Row(r) if _short(r) else r for r in rows]
                    table[name] = short if name == "rows" else short[0]
                out[key] = table
            else:
                out[key] = _rows(value)
        return out
    if isinstance(data, list):
        return [_rows(v) for v in data]
    return data


def dump(data: object) -> str:
    return yaml.dump(_rows(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)


def policy_files(policy: Policy) -> dict[str, bytes]:
    """The files of the policy, keyed by their path in the policy folder."""
    meta: dict = {"title": policy.title, "version": policy.version, "effective": policy.effective,
                  "summary": policy.summary,
                  **({"change": policy.change} if policy.change != "material" else {}),
                  "organisation": {"name": policy.organisation.name, "contact": policy.organisation.contact}}
    if policy.introduction:
        meta["introduction"] = list(policy.introduction)
    meta["sections"] = [s.id for s in policy.sections]
    files = {POLICY_FILE: (POLICY_SCHEMA + dump(meta)).encode("utf-8")}
    for section in policy.sections:
        data = section_to_data(section)
        files[f"{SECTIONS_DIR}/{section.id}.yaml"] = (SECTION_SCHEMA + dump(data)).encode("utf-8")
    return files


_Dumper.add_representer(date, lambda d, v: d.represent_scalar("tag:yaml.org,2002:timestamp", v.isoformat()))
