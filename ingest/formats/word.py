"""DOCX: paragraphs and tables in document order; one page per section (`section`: the path of
"Heading N" paragraphs above it); each table rendered by `tables`, rows with their headers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats import tables
from ingest.formats.base import UnreadableFileError
from ingest.formats.sections import Outline, prose


def load(path: Path, data: bytes, size: int) -> list[Document]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        return _pages(document, size)
    except Exception as exc:  # zipfile, zlib, lxml and python-docx errors on a damaged file
        raise UnreadableFileError(f"corrupt DOCX ({exc})") from exc


def _pages(document: Any, size: int) -> list[Document]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    pages: list[Document] = []
    outline, number = Outline(), 0
    lines: list[str] = []
    for block in document.iter_inner_content():
        level = _heading_level(block) if isinstance(block, Paragraph) else 0
        if isinstance(block, Table) or level:
            pages += prose(lines, outline, {})
            lines = []
        if isinstance(block, Table):
            number += 1
            pages += _table(block, number, outline, size)
            continue
        if level:
            outline.enter(level, tables.clean(block.text))
        lines.append(block.text)
    return pages + prose(lines, outline, {})


def _heading_level(paragraph: Any) -> int:
    """1-9 for a "Heading N" paragraph (the style or one based on it), else 0."""
    style = paragraph.style
    while style is not None:
        name = style.name or ""
        if name.startswith("Heading ") and name[8:].isdigit():
            return int(name[8:])
        style = style.base_style
    return 0


def _table(table: Any, number: int, outline: Outline, size: int) -> list[Document]:
    from docx.oxml.ns import qn

    rows: list[list[str | None]] = []
    header_rows, in_header = 0, True
    for row in table.rows:
        cells, seen = [], None
        for cell in row.cells:  # a cell merged across columns comes once per column it spans
            cells.append(None if cell._tc is seen else cell.text)
            seen = cell._tc
        rows.append(cells)
        props = row._tr.trPr
        in_header = in_header and props is not None and props.find(qn("w:tblHeader")) is not None
        header_rows += in_header
    return tables.render(rows, size, header_rows or None, title=outline.path,
                         metadata={**outline.metadata(), "table": number})
