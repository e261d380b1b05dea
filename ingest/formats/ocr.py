"""OCR, offline: scanned PDF pages and image files read by RapidOCR, whose ONNX models ship in
its wheel (nothing is downloaded). OCR'd pages carry `ocr: True` and `page` in the metadata.

The engine is loaded once per process, on the first page that needs it; a text-only PDF never
loads it. The angle classifier is off: on upright scans it turned whole lines upside down and
lost them (4 of 34 lines on a test page), and a scanner or camera page is upright.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats.base import NoTextError, UnreadableFileError

DPI = 200  # renders 11 pt text ~30 px high: read best of 150/200/300 on the test page
MAX_SIDE = 4000  # pixels; the engine's own default (2000) shrinks a 200 dpi page and loses lines
MIN_CHARS = 20  # a page with less text than this and a large image is a scan
MIN_IMAGE_SHARE = 0.5  # ... where images cover at least this share of the page
PARAGRAPH_GAP = 1.5  # a step down between lines over this many usual steps starts a paragraph
INSTALL = "pip install rapidocr-onnxruntime"
# A number with a letter o read for a zero ("2oo billion"): digits and o's, starting with a digit.
O_FOR_ZERO = re.compile(r"\b\d[\doO]*[oO][\doO]*\b")

Box = list[list[float]]  # four corner points of a text line, as RapidOCR gives them


class NoOcrEngineError(UnreadableFileError):
    """A scanned page or an image, and no OCR engine to read it."""

    def __init__(self) -> None:
        super().__init__(f"no text layer, and no OCR engine to read it ({INSTALL})",
                         fix=INSTALL)


@functools.cache
def engine() -> Any:
    """The OCR engine, loaded once per process."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise NoOcrEngineError() from exc
    return RapidOCR(max_side_len=MAX_SIDE)


def read_image(image: Any) -> str:
    """The text of a PIL image: lines top to bottom, a blank line between paragraphs."""
    import numpy as np

    result, _ = engine()(np.asarray(image.convert("RGB")), use_cls=False)
    return join_lines([(box, text) for box, text, _score in result or []])


def join_lines(lines: list[tuple[Box, str]]) -> str:
    """Recognised lines as text: a blank line where the step down from the line above is
    paragraph-sized (over `PARAGRAPH_GAP` times the page's median step)."""
    if not lines:
        return ""
    tops = [box[0][1] for box, _ in lines]
    steps = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    usual = sorted(s for s in steps if s > 0) or [1.0]
    limit = PARAGRAPH_GAP * usual[len(usual) // 2]
    out = [lines[0][1]]
    for step, (_, text) in zip(steps, lines[1:], strict=True):
        out.append(("\n\n" if step > limit else "\n") + text)
    return zeros("".join(out).strip())


def zeros(text: str) -> str:
    """`text` with the o's of a number read as zeros ("2oo" -> "200"; "2of" stays)."""
    return O_FOR_ZERO.sub(lambda m: m.group().replace("o", "0").replace("O", "0"), text)


def fill_empty_pages(data: bytes, pages: list[Document]) -> list[Document]:
    """`pages` of a PDF (one or more documents per `page` number), the documents of each page
    that is a scan (under `MIN_CHARS` of text, mostly image) replaced by one of its OCR'd text.
    Without an engine, a PDF with a scanned page raises `NoOcrEngineError`."""
    text: dict[int, int] = {}  # page number -> characters of text its documents hold
    for index, page in enumerate(pages):
        number = int(page.metadata.get("page", index + 1))
        text[number] = text.get(number, 0) + len(page.page_content.strip())
    thin = [number for number, chars in text.items() if chars < MIN_CHARS]
    if not thin:
        return pages  # the common case: no renderer opened, no engine loaded
    read = _read_scans(data, thin)
    filled: list[Document] = []
    for index, page in enumerate(pages):
        number = int(page.metadata.get("page", index + 1))
        if number not in read:
            filled.append(page)
        elif read[number] is not None:  # the first document of the page: the page's OCR text
            filled.append(Document(page_content=read[number] or "",
                                   metadata={**page.metadata, "ocr": True}))
            read[number] = None
    return filled


def _read_scans(data: bytes, numbers: list[int]) -> dict[int, str | None]:
    """The OCR'd text of the pages (numbered from 1) that are mostly image, by number; pages
    where OCR finds nothing are left out."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc
    try:
        read: dict[int, str | None] = {}
        for number in numbers:
            page = pdf[number - 1] if 0 < number <= len(pdf) else None
            if page is not None and image_share(page) >= MIN_IMAGE_SHARE:
                if text := read_image(page.render(scale=DPI / 72).to_pil()):
                    read[number] = text
        return read
    finally:
        pdf.close()


def image_share(page: Any) -> float:
    """How much of a pypdfium2 page its images cover (0 to 1, overlaps counted twice)."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    area = 0.0
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        area += max(right - left, 0) * max(top - bottom, 0)
    return min(area / (width * height), 1.0) if width and height else 0.0


def load_image(path: Path, data: bytes, size: int) -> list[Document]:
    """An image file (a multi-page TIFF gives one page per frame), read by OCR."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableFileError(f"corrupt or unsupported image ({exc})") from exc
    pages = [
        Document(page_content=read_image(frame), metadata={"page": number, "ocr": True})
        for number, frame in enumerate(frames, start=1)
    ]
    if not any(p.page_content.strip() for p in pages):
        raise NoTextError("no text found in the image (OCR read none: a photo?)")
    return pages
