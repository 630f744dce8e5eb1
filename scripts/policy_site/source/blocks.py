"""The blocks of a section's body, from YAML: paragraphs, lists nested to any depth, tables.

    - A paragraph is text (inline Markdown; a line ending in a backslash breaks the line).
    - bullets: [...] / numbered: [...] — each item is text, or {body: [blocks]} for an item of several
      paragraphs, nested lists or a table.
    - table: {caption?, header?: [cells], rows: [[cells], ...], row_headers?: true} — a cell is inline text
      (empty cells are "" ), or {body: [paragraphs and lists of one-line items]}; every row as long as the
      header (or the first row).
    - Any of them may carry an anchor of its own, an id on the page that links from elsewhere can use:
      {text: …, anchor: personal-info} for a paragraph, {bullets: [...], anchor: …}, {table: {...}, anchor: …};
      an item or a cell {text: …, anchor: …} or {body: [...], anchor: …}.

Subsections (`section: {...}`) are read by the loader, which hands everything else to `text_block`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import yaml

from .model import Cell, CellValue, Item, ItemList, ListItem, Paragraph, Table, TextBlock
from .reader import NULL, Reader, kind_of, shown

LIST_KINDS = ("bullets", "numbered")
TABLE_FIELDS = {"caption": False, "header": False, "rows": True, "row_headers": False}
ITEM_FIELDS = {"text": False, "body": False, "anchor": False}
BLOCK_KINDS = ("text", *LIST_KINDS, "table")
SHAPES = ("a paragraph (text), or a mapping with one key: bullets: [...], numbered: [...], table: {rows: ...} "
          "or section: {id, title, body} (a paragraph, list or table may add anchor: …, a paragraph then written "
          "{text: …, anchor: …})")


def block_key(node: yaml.Node) -> str | None:
    """The one key of a block mapping ('bullets', 'table', 'section', …), or None when it is not one."""
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1 and isinstance(node.value[0][0], yaml.ScalarNode):
        return str(node.value[0][0].value)
    return None


def anchored_kind(node: yaml.Node) -> str | None:
    """The kind of a block mapping with an anchor or written `{text: …}` ('text', 'bullets', …), else None."""
    if not isinstance(node, yaml.MappingNode) or not all(isinstance(k, yaml.ScalarNode) for k, _ in node.value):
        return None
    keys = [str(k.value) for k, _ in node.value]
    kinds = [k for k in keys if k != "anchor"]
    if len(kinds) == 1 and kinds[0] in BLOCK_KINDS and len(keys) <= 2 and ("anchor" in keys or kinds[0] == "text"):
        return kinds[0]
    return None


def colon_in_text(node: yaml.Node) -> str | None:
    """Advice when a mapping is text with a colon followed by a space (`- Note: …` reads as a field named Note),
    else None."""
    if not (isinstance(node, yaml.MappingNode) and len(node.value) == 1):
        return None
    key, value = node.value[0]
    if not (isinstance(key, yaml.ScalarNode) and not key.style and isinstance(value, yaml.ScalarNode)):
        return None
    if key.value in (*LIST_KINDS, "table", "section", "body") or re.fullmatch(r"[a-z_]+", key.value):
        return None  # a field name, mistyped or misplaced: the mapping's own message says which fields fit
    name = shown(key)
    return (f"'{name}: …' reads as a field named '{name}', because a colon followed by a space inside text needs "
            "quotes: put the whole text in double quotes")


def text_block(reader: Reader, node: yaml.Node, where: str = "a body block") -> TextBlock | None:
    """A paragraph, a list or a table; None (with the problem recorded) when it is none of them."""
    if isinstance(node, yaml.ScalarNode):
        text = reader.text(node, "paragraph")
        return Paragraph(text) if text is not None else None
    kind = anchored_kind(node)
    if kind is not None:
        fields = reader.mapping(node, "an anchored block", {kind: True, "anchor": False}) or {}
        anchor = reader.anchor(fields["anchor"]) if "anchor" in fields else None
        if kind == "text":
            inner: TextBlock | None = Paragraph(text) if (text := reader.text(fields[kind], "paragraph")) else None
        else:
            inner = _list(reader, fields[kind], kind) if kind in LIST_KINDS else _table(reader, fields[kind])
        if inner is None or ("anchor" in fields and anchor is None):
            return None
        return replace(inner, anchor=anchor)
    key = block_key(node)
    if key in LIST_KINDS:
        return _list(reader, node.value[0][1], key)
    if key == "table":
        return _table(reader, node.value[0][1])
    if key == "section":
        reader.problem(node, f"a subsection cannot stand inside a list item; {where} holds paragraphs, lists "
                             "and tables")
    else:
        reader.problem(node, colon_in_text(node) or
                       f"{where} must be {SHAPES}; found {kind_of(node) if key is None else repr(key)}")
    return None


def _list(reader: Reader, node: yaml.Node, key: str) -> ItemList | None:
    items: list[Item | None] = []
    for item in reader.sequence(node, f"{key} list") or []:
        items.append(_item(reader, item, key))
    if not items or None in items:
        return None
    return ItemList(key == "numbered", tuple(i for i in items if i is not None))


def _item(reader: Reader, node: yaml.Node, key: str) -> Item | None:
    if isinstance(node, yaml.ScalarNode):
        return reader.text(node, f"{key} item")
    advice = colon_in_text(node)
    if advice:
        reader.problem(node, advice)
        return None
    fields = reader.mapping(node, f"a {key} item of several blocks or with an anchor", ITEM_FIELDS)
    body = _body(reader, node, fields, f"a {key} item", "a block of a list item")
    if body is None or fields is None:
        return None
    anchor = reader.anchor(fields["anchor"]) if "anchor" in fields else None
    if "anchor" in fields and anchor is None:
        return None
    if len(body) == 1 and isinstance(body[0], Paragraph) and not body[0].anchor and anchor is None \
            and "text" in fields:
        return body[0].text  # {text: …} alone is a plain item
    return ListItem(body, anchor)


def _body(reader: Reader, node: yaml.Node, fields: dict[str, yaml.Node] | None, what: str,
          where: str) -> tuple[TextBlock, ...] | None:
    """The blocks of an item or a cell: `text: …` (one paragraph) or `body: [...]`, exactly one of them."""
    if fields is None:
        return None
    if ("text" in fields) == ("body" in fields):
        reader.problem(node, f"{what} needs either text: … (one paragraph) or body: [...] (several blocks), "
                             "not both")
        return None
    if "text" in fields:
        text = reader.text(fields["text"], f"{what}'s text")
        return (Paragraph(text),) if text is not None else None
    body = [text_block(reader, block, where) for block in reader.sequence(fields["body"], f"{what}'s body") or []]
    if not body or None in body:
        return None
    return tuple(b for b in body if b is not None)


def _cell(reader: Reader, node: yaml.Node) -> CellValue | None:
    """A cell: text, "" or ~ (empty), or {text | body, anchor?} whose body holds paragraphs and lists of one-line
    items (anything else would not fit a cell)."""
    if isinstance(node, yaml.ScalarNode) and (node.tag == NULL or (node.style and not node.value)):
        return ""
    if not isinstance(node, yaml.MappingNode):
        return reader.text(node, "table cell")
    fields = reader.mapping(node, "a table cell of several blocks or with an anchor", ITEM_FIELDS)
    body = _body(reader, node, fields, "a table cell", "a block of a table cell")
    if body is None or fields is None:
        return None
    for block in body:
        if isinstance(block, Table) or getattr(block, "anchor", None) or (
                isinstance(block, ItemList) and not all(isinstance(i, str) for i in block.items)):
            reader.problem(node, "a table cell holds paragraphs and lists of one-line items (no table, no item of "
                                 "several blocks, no anchor inside): put the anchor on the cell")
            return None
    anchor = reader.anchor(fields["anchor"]) if "anchor" in fields else None
    if "anchor" in fields and anchor is None:
        return None
    if len(body) == 1 and isinstance(body[0], Paragraph) and anchor is None:
        return body[0].text  # one text: a plain cell
    return Cell(tuple(b for b in body if isinstance(b, (Paragraph, ItemList))), anchor)


def _cells(reader: Reader, node: yaml.Node, what: str) -> tuple[CellValue, ...] | None:
    if not isinstance(node, yaml.SequenceNode):
        reader.problem(node, f"{what} must be a list of cells like [Cookie, Purpose, Expires]; found {kind_of(node)}")
        return None
    cells = [_cell(reader, cell) for cell in node.value]
    if not cells:
        reader.problem(node, f"{what} has no cells")
        return None
    return None if None in cells else tuple(c if c is not None else "" for c in cells)


def _table(reader: Reader, node: yaml.Node) -> Table | None:
    fields = reader.mapping(node, "table", TABLE_FIELDS)
    if fields is None or "rows" not in fields:
        return None
    caption = reader.text(fields["caption"], "table caption", one_line=True) if "caption" in fields else None
    header = _cells(reader, fields["header"], "the table's header") if "header" in fields else None
    row_headers = reader.boolean(fields["row_headers"], "row_headers") if "row_headers" in fields else False
    rows: list[tuple[CellValue, ...] | None] = []
    width = len(header) if header else None
    for n, row_node in enumerate(reader.sequence(fields["rows"], "table rows") or [], start=1):
        row = _cells(reader, row_node, f"row {n} of the table")
        if row is not None and width is not None and len(row) != width:
            reader.problem(row_node, f"row {n} of the table has {len(row)} cell{'s' if len(row) != 1 else ''}; "
                                     f"{'the header has' if header else 'the first row has'} {width}: every row "
                                     "needs as many (write \"\" for an empty cell)")
            row = None
        width = width if width is not None else (len(row) if row else None)
        rows.append(row)
    if ("header" in fields and header is None) or row_headers is None or not rows or None in rows:
        return None
    return Table(caption, header, tuple(r for r in rows if r is not None), bool(row_headers))
