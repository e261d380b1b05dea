"""PDF: the text of each page, `page` in the metadata, and each ruled table apart, rendered by
`tables` (rows with their headers, `table` and `page` in the metadata); scanned pages OCR'd
(`ocr`), and the outline entry that covers a page as its `section`.

Chosen by measurement (README, Evals): pypdfium2 reads a page's text fastest, but gives a
table as a run of words; pdfplumber finds a table from its drawn cell borders and recovers its
cells, at some 10 times the cost. So a page that draws no lines is read by pypdfium2, and only
a page with drawn lines goes through pdfplumber, which reads its text without the tables'
characters, so that no cell is there twice. pypdf checks the file first, as before.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats import ocr, sections, tables
from ingest.formats.base import UnreadableFileError

CAPTION_HEIGHT = 36  # points above a table searched for its caption line ("Table 2: ...")


def load(path: Path, data: bytes, size: int) -> list[Document]:
    import pypdfium2

    reader = _check(data)
    try:
        document = pypdfium2.PdfDocument(data)
        try:
            pages = _pages(document, data, size)
        finally:
            document.close()
    except Exception as exc:  # pdfium and pdfminer errors on a damaged file
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc
    return sections.pdf_outline(reader, ocr.fill_empty_pages(data, pages))


def _pages(document: Any, data: bytes, size: int) -> list[Document]:
    import pdfplumber

    pages: list[Document] = []
    ruled = {index for index in range(len(document)) if _draws_lines(document[index])}
    opened: Any = pdfplumber.open(io.BytesIO(data)) if ruled else contextlib.nullcontext()
    with opened as plumber:
        for index in range(len(document)):
            if index in ruled:
                pages += _ruled_page(plumber.pages[index], index + 1, size,
                                     first_table=_count_tables(pages) + 1)
            else:
                pages.append(Document(page_content=_text(document[index]),
                                      metadata={"page": index + 1}))
    return pages


def _check(data: bytes) -> Any:
    """The file's pypdf reader (for its outline); an encrypted or unparsable PDF is refused
    with the reason, as pypdf sees it."""
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
    return reader


def _draws_lines(page: Any) -> bool:
    import pypdfium2.raw as pdfium

    return next(iter(page.get_objects(filter=(pdfium.FPDF_PAGEOBJ_PATH,))), None) is not None


def _text(page: Any) -> str:
    text = page.get_textpage().get_text_range()
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "")


def _count_tables(pages: list[Document]) -> int:
    return len({p.metadata["table"] for p in pages if "table" in p.metadata})


def _ruled_page(page: Any, number: int, size: int, first_table: int) -> list[Document]:
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
