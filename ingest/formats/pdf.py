"""PDF: the text of each page, `page` in the metadata, and each ruled table apart, rendered by
`tables` (rows with their headers, `table` and `page` in the metadata); scanned pages OCR'd
(`ocr`), and the outline entry that covers a page as its `section`.

Chosen by measurement (README, Evals): pypdfium2 reads a page's text fastest, but gives a
table as a run of words; pdfplumber finds a table from its drawn cell borders and recovers its
cells, at some 10 times the cost. So only a page whose drawn lines form a grid (`_draws_a_grid`)
goes through pdfplumber, which reads its text without the tables' characters, so that no cell is
there twice; any other page, rules and underlines included, is read by pypdfium2. pypdf checks
the file first, as before.
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
# A page goes through pdfplumber when it draws a grid: rules (at least MIN_RULE points long,
# under THIN points wide) crossing at GRID or more heights and GRID or more places across, as
# the borders of a table of two or more rows and columns do. MAX_SEGMENTS bounds the look at
# one path, MAX_CROSSINGS the pairs of rules tried (past it, pdfplumber looks).
GRID = 3
MIN_RULE = 6.0
THIN = 2.0
MAX_SEGMENTS = 10_000
MAX_CROSSINGS = 250_000


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
    pages: list[Document] = []
    ruled = {index for index in range(len(document)) if _draws_a_grid(document[index])}
    opened: Any = _plumber(data) if ruled else contextlib.nullcontext()
    with opened as plumber:
        for index in range(len(document)):
            if index in ruled:
                pages += _ruled_page(plumber.pages[index], index + 1, size,
                                     first_table=_count_tables(pages) + 1)
            else:
                pages.append(Document(page_content=_text(document[index]),
                                      metadata={"page": index + 1}))
    return pages


def _plumber(data: bytes) -> Any:
    import pdfplumber

    return pdfplumber.open(io.BytesIO(data))


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


def _draws_a_grid(page: Any) -> bool:
    """Whether the page's drawn lines could be a ruled table: horizontal and vertical rules
    (lines or rectangle edges) crossing at `GRID` or more heights and `GRID` or more places
    across. A rule under a heading, an underline or a box around a note is no grid: such a page
    is read by pypdfium2 alone (pdfplumber, which finds tables from the same lines, would find
    none, or a one-cell table)."""
    rows, columns = _axis_rules(page)
    if len({y for y, _, _ in rows}) < GRID or len({x for x, _, _ in columns}) < GRID:
        return False
    if len(rows) * len(columns) > MAX_CROSSINGS:  # vector art: let pdfplumber look
        return True
    crossings = {(x, y) for y, left, right in rows for x, bottom, top in columns
                 if left - THIN <= x <= right + THIN and bottom - THIN <= y <= top + THIN}
    return len({x for x, _ in crossings}) >= GRID and len({y for _, y in crossings}) >= GRID


def _axis_rules(page: Any) -> tuple[set[tuple[int, int, int]], set[tuple[int, int, int]]]:
    """The page's horizontal rules as (y, left, right) and vertical ones as (x, bottom, top),
    in whole points, each once (cells drawn as rectangles share their edges)."""
    import pypdfium2.raw as pdfium

    rows: set[tuple[int, int, int]] = set()
    columns: set[tuple[int, int, int]] = set()
    for obj in page.get_objects(filter=(pdfium.FPDF_PAGEOBJ_PATH,)):
        for (x0, y0), (x1, y1) in _rules(obj):
            if abs(y1 - y0) < THIN and abs(x1 - x0) >= MIN_RULE:
                rows.add((round((y0 + y1) / 2), round(min(x0, x1)), round(max(x0, x1))))
            elif abs(x1 - x0) < THIN and abs(y1 - y0) >= MIN_RULE:
                columns.add((round((x0 + x1) / 2), round(min(y0, y1)), round(max(y0, y1))))
    return rows, columns


Point = tuple[float, float]


def _rules(obj: Any) -> list[tuple[Point, Point]]:
    """The straight segments of a path object, on the page; a thin object (a line drawn as a
    filled rectangle, as underlines are) is one segment along its middle."""
    import ctypes

    import pypdfium2.raw as pdfium

    left, bottom, right, top = obj.get_bounds()
    if top - bottom < THIN:
        return [((left, (top + bottom) / 2), (right, (top + bottom) / 2))]
    if right - left < THIN:
        return [(((left + right) / 2, bottom), ((left + right) / 2, top))]
    a, b, c, d, e, f = obj.get_matrix().get()
    x, y = ctypes.c_float(), ctypes.c_float()
    segments: list[tuple[Point, Point]] = []
    start = last = (0.0, 0.0)
    for index in range(min(pdfium.FPDFPath_CountSegments(obj), MAX_SEGMENTS)):
        segment = pdfium.FPDFPath_GetPathSegment(obj, index)
        pdfium.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium.FPDFPathSegment_GetType(segment)
        if kind == pdfium.FPDF_SEGMENT_MOVETO:
            start = point
        elif kind == pdfium.FPDF_SEGMENT_LINETO:
            segments.append((last, point))
        if pdfium.FPDFPathSegment_GetClose(segment):
            segments.append((point, start))
        last = point
    return segments


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
