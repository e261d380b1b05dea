"""Spreadsheets (XLSX, ODS): each sheet's used range as one table, rendered by `tables`, with
`sheet` and `table` (the sheet's number) in the metadata. Formulas give their cached values."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats import tables
from ingest.formats.base import UnreadableFileError

MAX_REPEAT = 1000  # an ODS row or cell "repeated" a million times is an empty tail, not data
_ODS_CELLS = {("urn:oasis:names:tc:opendocument:xmlns:table:1.0", name)
              for name in ("table-cell", "covered-table-cell")}


def load_xlsx(path: Path, data: bytes, size: int) -> list[Document]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = [(sheet.title, [[_text(v) for v in row] for row in sheet.iter_rows(
                values_only=True)]) for sheet in book.worksheets]
        finally:
            book.close()
    except Exception as exc:  # zipfile, lxml and openpyxl errors on a damaged file
        raise UnreadableFileError(f"corrupt XLSX ({exc})") from exc
    return _pages(sheets, size)


def load_ods(path: Path, data: bytes, size: int) -> list[Document]:
    from odf.opendocument import load
    from odf.table import Table

    try:
        document = load(io.BytesIO(data))
        sheets = [(str(t.getAttribute("name")), list(_ods_rows(t)))
                  for t in document.spreadsheet.getElementsByType(Table)]
    except Exception as exc:  # zipfile and xml errors on a damaged file
        raise UnreadableFileError(f"corrupt ODS ({exc})") from exc
    return _pages(sheets, size)


def _pages(sheets: Iterable[tuple[str, list[list[str]]]], size: int) -> list[Document]:
    pages: list[Document] = []
    for number, (name, rows) in enumerate(sheets, start=1):
        rows = [r for r in rows if any(r)]
        title, rows = _title_row(rows)
        pages += tables.render(rows, size, title=" — ".join(filter(None, [name, title])),
                               metadata={"sheet": name, "table": number})
    return pages


def _title_row(rows: list[list[str]]) -> tuple[str, list[list[str]]]:
    """A first row holding one cell above a wider table is its title, not its header."""
    if len(rows) > 1 and sum(map(bool, rows[0])) == 1 and sum(map(bool, rows[1])) > 1:
        return next(c for c in rows[0] if c), rows[1:]
    return "", rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return tables.clean(value)


def _ods_rows(table: object) -> Iterator[list[str]]:
    from odf.table import TableRow

    for row in table.getElementsByType(TableRow):  # type: ignore[attr-defined]
        cells = _ods_cells(row)
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        for _ in range(min(repeat, MAX_REPEAT) if any(cells) else 1):
            yield cells


def _ods_cells(row: object) -> list[str]:
    from odf import teletype
    from odf.namespaces import TEXTNS

    cells: list[str] = []
    for cell in row.childNodes:  # type: ignore[attr-defined]
        if getattr(cell, "qname", None) not in _ODS_CELLS:
            continue
        text = " ".join(teletype.extractText(p) for p in cell.childNodes
                        if getattr(p, "qname", None) == (TEXTNS, "p"))
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        cells += [tables.clean(text)] * min(repeat, MAX_REPEAT)
    while cells and not cells[-1]:
        cells.pop()
    return cells
