"""PDF: the text of each page, `page` in the metadata; scanned pages OCR'd (`ocr`), the
outline entry that covers a page as its `section`."""

from __future__ import annotations

import io
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats import ocr, sections
from ingest.formats.base import UnreadableFileError


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFileError("encrypted PDF; decrypt it first (e.g. qpdf --decrypt)")
        pages = [
            Document(page_content=page.extract_text() or "", metadata={"page": number})
            for number, page in enumerate(reader.pages, start=1)
        ]
    except UnreadableFileError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (loops, bad objects)
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc
    return sections.pdf_outline(data, ocr.fill_empty_pages(data, pages))
