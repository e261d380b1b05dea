"""HTML: the main text of a page, without scripts, styles, navigation or forms; one page per
section (`section`: the heading path above it); each `<table>` rendered apart by `tables`
(headers from `<th>` rows, else the first row if it looks like one), kept out of the prose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats import tables
from ingest.formats.base import decode
from ingest.formats.sections import Outline, prose

_MARK = "\ue000"  # a private-use character: brackets the stand-ins for headings and tables
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript",
                     "form", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    # a page that marks its main content says where the article is; else take the whole body
    body = soup.find("main") or soup.find("article") or soup.body or soup
    found = [t for t in body.find_all("table") if t.find_parent("table") is None]
    for number, table in enumerate(found, start=1):
        table.replace_with(soup.new_string(f"{_MARK}T{number}{_MARK}"))
    for heading in body.find_all(_HEADINGS):
        text = tables.clean(heading.get_text(" "))
        heading.insert_before(soup.new_string(f"{_MARK}H{heading.name[1]}{text}{_MARK}"))
    meta: dict[str, object] = {"title": title} if title else {}
    return _pages(body.get_text("\n"), found, meta, size)


def _pages(text: str, found: list[Any], meta: dict[str, object], size: int) -> list[Document]:
    """Prose lines grouped by section, with each table's pages where the table stood."""
    pages: list[Document] = []
    outline, lines = Outline(), []
    for line in (line.strip() for line in text.splitlines()):
        if not (line.startswith(_MARK) and line.endswith(_MARK)):
            lines += [line] if line else []
            continue
        pages += prose(lines, outline, meta)
        lines = []
        kind, rest = line[1], line[2:-1]
        if kind == "H":
            outline.enter(int(rest[0]), rest[1:])
        else:
            number = int(rest)
            pages += _table(found[number - 1], number, outline, meta, size)
    return pages + prose(lines, outline, meta)


def _table(table: Any, number: int, outline: Outline, meta: dict[str, object],
           size: int) -> list[Document]:
    caption = table.find("caption")
    title = tables.clean(caption.get_text(" ")) if caption else ""
    rows, header_rows = _grid(table)
    return tables.render(rows, size, header_rows or None,
                         title=title or outline.path or str(meta.get("title", "")),
                         metadata={**meta, **outline.metadata(), "table": number})


def _grid(table: Any) -> tuple[list[list[str | None]], int]:
    """The table's rows with row and column spans laid out (a spanned cell is None after its
    first column, and repeats its text down the rows), and how many leading rows are all `<th>`."""
    rows: list[list[str | None]] = []
    spans: dict[int, tuple[int, str | None]] = {}  # column -> (rows still covered, text)
    header_rows, in_header = 0, True
    for tr in (tr for tr in table.find_all("tr") if tr.find_parent("table") is table):
        row: list[str | None] = []
        cells = tr.find_all(["td", "th"], recursive=False)
        for cell in [*cells, None]:
            while len(row) in spans:  # columns held by a cell spanning down from above
                left, value = spans.pop(len(row))
                if left > 1:
                    spans[len(row)] = (left - 1, value)
                row.append(value)
            if cell is None:
                break
            text = tables.clean(cell.get_text(" "))
            for i in range(_span(cell, "colspan")):
                value = text if i == 0 else None
                if _span(cell, "rowspan") > 1:
                    spans[len(row)] = (_span(cell, "rowspan") - 1, value)
                row.append(value)
        rows.append(row)
        in_header = in_header and bool(cells) and all(c.name == "th" for c in cells)
        header_rows += in_header
    return rows, header_rows


def _span(cell: Any, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, 1)), 1000))
    except (TypeError, ValueError):
        return 1
