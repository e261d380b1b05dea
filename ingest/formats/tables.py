"""The one renderer of a table: header cells and rows into chunk-sized pages in which every row
carries its column headers, so that a chunk holding a row answers "what was X in 2023?" alone.

Each row is written as "header: value" pairs (`PAIRS`), measured against Markdown rows under a
repeated header row (`MARKDOWN`) on the table-QA set's dev half (see README, Evals). Every page
starts with the table's title, so a table that spans pages keeps saying which table it is.
Cells come in as the format reads them: `None` is a cell covered by a merged neighbour (its
header takes the text of the cell on its left), "" an empty cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.documents import Document

from ingest.formats.base import groups

PAIRS = "pairs"
MARKDOWN = "markdown"
STYLE = PAIRS

Cell = str | None
_NUMBER = re.compile(r"^[-+−]?[$€£¥]?\d[\d,.\s]*%?$")


def clean(cell: object) -> str:
    """A cell's text on one line: runs of whitespace (newlines too) become one space."""
    return " ".join(str(cell).split()) if cell is not None else ""


def looks_like_header(row: Sequence[Cell], below: Sequence[Cell] | None) -> bool:
    """A first row is a header when most of its cells are filled and each reads as a label:
    text, or a number shaped unlike the one below it (a year above a population)."""
    cells = [clean(c) for c in row]
    under = [clean(c) for c in below or []] + [""] * len(cells)
    filled = [(c, u) for c, u in zip(cells, under, strict=False) if c]
    if len(filled) < max(1, (len(cells) + 1) // 2) or cells == under[:len(cells)]:
        return False
    return all(not _NUMBER.match(c) or _shape(c) != _shape(u) for c, u in filled)


def _shape(cell: str) -> str:
    return re.sub(r"\d", "9", cell)


def header_names(rows: Sequence[Sequence[Cell]], width: int) -> list[str]:
    """One name per column from the header rows, joined top to bottom ("Population 2020").

    A merged cell (None) spreads the text on its left; an unnamed column is "column N"; a
    name repeated down the rows (a cell merged vertically) is kept once.
    """
    names: list[list[str]] = [[] for _ in range(width)]
    for row in rows:
        left = ""
        for column in range(width):
            cell = row[column] if column < len(row) else ""
            text = left if cell is None else clean(cell)
            left = text
            if text and (not names[column] or names[column][-1] != text):
                names[column].append(text)
    return [" ".join(parts) or f"column {n}" for n, parts in enumerate(names, start=1)]


def render(
    rows: Sequence[Sequence[Cell]],
    size: int,
    header_rows: int | None = None,
    title: str = "",
    metadata: dict[str, object] | None = None,
    style: str | None = None,
) -> list[Document]:
    """Pages of whole rows, each row with its headers, each page starting with `title`.

    `header_rows`: how many leading rows are the header (None: the first one if it looks like
    a header, else none, and the columns are "column 1", "column 2"...). Empty rows are dropped;
    `first_row`/`last_row` count body rows from 1. `metadata` is added to every page.
    `style`: `PAIRS` or `MARKDOWN` (default `STYLE`).
    """
    rows = [list(r) for r in rows if any(clean(c) for c in r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    if header_rows is None:
        header_rows = int(len(rows) > 1 and looks_like_header(rows[0], rows[1]))
    names = header_names(rows[:header_rows], width)
    body = [[clean(c) for c in r] + [""] * (width - len(r)) for r in rows[header_rows:]]
    if not body:  # a header alone is still the table's content
        body, names = [names], [f"column {n}" for n in range(1, width + 1)]
    if (style or STYLE) == MARKDOWN:
        head = "\n".join(filter(None, [title, _markdown(names), _markdown(["---"] * width)]))
        lines = [_markdown(r) for r in body]
    else:
        head, lines = title, [_pairs(names, r) for r in body]
    pages = groups(lines, size, head, "row")
    for page in pages:
        page.metadata.update(metadata or {})
    return pages


def _markdown(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _pairs(names: Sequence[str], cells: Sequence[str]) -> str:
    return "; ".join(f"{name}: {cell}" for name, cell in zip(names, cells, strict=True) if cell)
