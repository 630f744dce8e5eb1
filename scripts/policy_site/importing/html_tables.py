"""HTML tables → DTable: the grid of a `<table>` (cells spanning rows or columns split, short rows padded, header
rows, `<th>` row headers, the caption), and blocks flattened into lines where a cell cannot hold them."""

from __future__ import annotations

from collections.abc import Callable

from bs4 import Tag

from .doc import BREAK, DBlock, DCell, DCellValue, DList, DTable, Para, Run, plain


def own_id(value: object) -> str | None:
    """An element's id as the old page linked to it (GitHub prefixes the ids it renders)."""
    text = str(value or "").strip()
    return text.removeprefix("user-content-") or None


def read_table(tag: Tag, line: int, cell: Callable[[Tag, str | None], DCellValue],
               inline: Callable[[Tag], list[Run]], note: Callable[[int, str], None]) -> DTable | None:
    """A table element as a DTable: cells read by `cell` (with the row's id for a row's first cell), the caption
    by `inline`; spans split into empty cells, short rows padded, the first of several header rows the header,
    `<th>` row headers."""
    rows_el = [tr for tr in tag.find_all("tr") if tr.find_parent("table") is tag]
    grid: list[list[DCellValue]] = []
    heads: list[list[bool]] = []
    carry: dict[int, int] = {}  # column → rows still covered by a rowspan above
    spans = False
    for tr in rows_el:
        row: list[DCellValue] = []
        row_anchor = own_id(tr.get("id"))
        is_head: list[bool] = []
        for element in tr.find_all(["td", "th"], recursive=False):
            while carry.get(len(row), 0) > 0:
                carry[len(row)] -= 1
                row.append([])
                is_head.append(False)
            colspan, rowspan = _span(element.get("colspan")), _span(element.get("rowspan"))
            spans = spans or colspan > 1 or rowspan > 1
            for n in range(colspan):
                if rowspan > 1:
                    carry[len(row)] = rowspan - 1
                row.append(cell(element, row_anchor if not row else None) if n == 0 else [])
                is_head.append(element.name == "th")
        while carry.get(len(row), 0) > 0:
            carry[len(row)] -= 1
            row.append([])
            is_head.append(False)
        if row:
            grid.append(row)
            heads.append(is_head)
    if not grid:
        return None
    if spans:
        note(line, "table cells spanning several rows or columns were split; the extra cells are empty")
    width = max(len(r) for r in grid)
    if any(len(r) != width for r in grid):
        note(line, "table rows of different lengths were padded with empty cells")
    grid = [r + [[] for _ in range(width - len(r))] for r in grid]
    heads = [h + [False] * (width - len(h)) for h in heads]
    thead = tag.find("thead")
    header_rows = len([tr for tr in rows_el if thead and tr.find_parent("thead") is thead]) or \
        (1 if all(heads[0]) and len(grid) > 1 else 0)
    if header_rows > 1:
        note(line, "a table header of several rows: the first is the header, the others rows")
    header = grid[0] if header_rows else None
    rows = grid[1:] if header_rows else grid
    row_headers = bool(rows) and all(h[0] for h in heads[1 if header_rows else 0:])
    caption_tag = tag.find("caption")
    caption = inline(caption_tag) if caption_tag else None
    return DTable(rows, line, header, caption if caption and plain(caption).strip() else None, row_headers)


def _span(value: object) -> int:
    try:
        return max(1, min(int(str(value)), 50))
    except (TypeError, ValueError):
        return 1


def flatten(block: DBlock) -> list[Run]:
    """A block as one text: a list's items and a table's rows one line each."""
    runs: list[Run] = []
    if isinstance(block, Para):
        return list(block.runs)
    if isinstance(block, DList):
        for item in block.items:
            if runs:
                runs.append(BREAK)
            runs += flatten_all(item)
    else:
        for row in ([block.header] if block.header else []) + block.rows:
            if runs:
                runs.append(BREAK)
            for n, cell in enumerate(row):
                runs += ([Run(" ")] if n else []) + (flatten_all(cell.blocks) if isinstance(cell, DCell) else cell)
    return runs


def flatten_all(blocks: list[DBlock]) -> list[Run]:
    """Blocks as one text, a line for each."""
    runs: list[Run] = []
    for block in blocks:
        if runs:
            runs.append(BREAK)
        runs += flatten(block)
    return runs
