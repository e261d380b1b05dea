"""Plain text: any UTF-8 file without a format of its own (txt, md, code, logs...)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import decode


def load(path: Path, data: bytes, size: int) -> list[Document]:
    return [Document(page_content=decode(data))]
