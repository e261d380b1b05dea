"""DOCX: paragraphs and tables."""

from __future__ import annotations

import io
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError


def load(path: Path, data: bytes, size: int) -> list[Document]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:  # tables hold much of the content of many reports
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    except Exception as exc:  # zipfile, zlib, lxml and python-docx errors on a damaged file
        raise UnreadableFileError(f"corrupt DOCX ({exc})") from exc
    return [Document(page_content="\n".join(lines))]
