"""PDF: the text of each page, `page` in the metadata, and each ruled table apart, rendered by
`tables` (rows with their headers, `table` and `page` in the metadata). pdfplumber finds the
tables from their drawn cell borders; the page's text is read without the tables' characters,
so no cell is there twice. (Chosen by measurement over pypdf and pypdfium2: see README, Evals.)
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats import tables
from ingest.formats.base import UnreadableFileError

CAPTION_HEIGHT = 36  # points above a table searched for its caption line ("Table 2: ...")


def load(path: Path, data: bytes, size: int) -> list[Document]:
    import pdfplumber

    _check(data)
    pages: list[Document] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                pages += _page(page, number, size, first_table=_count_tables(pages) + 1)
    except UnreadableFileError:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc
    return pages


def _check(data: bytes) -> None:
    """Refuse an encrypted or unparsable PDF with the reason, before the slower table pass."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFileError("encrypted PDF; decrypt it first (e.g. qpdf --decrypt)")
        for page in reader.pages:  # loops and bad objects show here, not when opening
            page.get_contents()
    except UnreadableFileError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (loops, bad objects)
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc


def _count_tables(pages: list[Document]) -> int:
    return len({p.metadata["table"] for p in pages if "table" in p.metadata})


def _page(page: Any, number: int, size: int, first_table: int) -> list[Document]:
    """The page's text outside its tables, then each table's pages."""
    found = page.find_tables()
    boxes = [t.bbox for t in found]
    text = page.filter(lambda obj: not _inside(obj, boxes)).extract_text() if boxes \
        else page.extract_text()
    pages = [Document(page_content=text or "", metadata={"page": number})]
    for table_number, table in enumerate(found, start=first_table):
        pages += tables.render(table.extract(), size, title=_caption(page, table.bbox),
                               metadata={"page": number, "table": table_number})
    return pages


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    if obj.get("object_type") != "char":
        return False
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _caption(page: Any, bbox: tuple[float, float, float, float]) -> str:
    """The last line of text just above the table: its caption, if it has one."""
    top = bbox[1]
    if top <= 1:
        return ""
    above = page.crop((0, max(0.0, top - CAPTION_HEIGHT), page.width, top)).extract_text()
    lines = [line.strip() for line in (above or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""
