"""ODT (OpenDocument text): paragraphs, lists and headings in document order, tables as
"cell | cell" rows; a new page at each heading, with `section` = the heading path ("A > B")."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
# elements whose children are read in order (sections, lists, table parts without rows)
_CONTAINERS = {(_TEXT, "section"), (_TEXT, "list"), (_TEXT, "list-item"), (_TEXT, "list-header"),
               (_TABLE, "table-header-rows"), (_TABLE, "table-rows"), (_TABLE, "table-row-group")}


def load(path: Path, data: bytes, size: int) -> list[Document]:
    document = open_document(data, "ODT")
    try:
        return _pages(blocks(document.text))
    except Exception as exc:  # odfpy errors on elements it cannot read
        raise UnreadableFileError(f"corrupt ODT ({exc})") from exc


def open_document(data: bytes, kind: str) -> Any:
    """The parsed OpenDocument file (`kind` names it in messages: ODT, ODP); a damaged or
    password-protected one raises `UnreadableFileError`."""
    from odf.opendocument import load as load_odf

    if _encrypted(data):
        raise UnreadableFileError(f"password-protected {kind}; save it without a password first")
    try:
        return load_odf(io.BytesIO(data))
    except Exception as exc:  # zipfile, xml and odfpy errors on a damaged file
        raise UnreadableFileError(f"corrupt {kind} ({exc})") from exc


def _encrypted(data: bytes) -> bool:
    """The manifest lists encrypted members (their content cannot be parsed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read("META-INF/manifest.xml")
    except Exception:  # no manifest, or a damaged archive: the parser reports it
        return False
    return b"encryption-data" in manifest


def blocks(element: Any) -> Iterator[tuple[int, str]]:
    """(heading level, text) for headings and (0, text) for other lines, in document order."""
    for child in element.childNodes:
        name = getattr(child, "qname", None)
        if name == (_TEXT, "h"):
            level = int(child.getAttribute("outlinelevel") or 1)
            yield level, _text(child)
        elif name == (_TEXT, "p"):
            yield 0, _text(child)
        elif name == (_TABLE, "table"):
            yield from ((0, row) for row in _rows(child))
        elif name in _CONTAINERS:
            yield from blocks(child)


def _rows(table: Any) -> Iterator[str]:
    from odf.table import TableRow

    for row in table.getElementsByType(TableRow):
        cells = [" ".join(_text(cell).split()) for cell in row.childNodes
                 if getattr(cell, "qname", None) == (_TABLE, "table-cell")]
        if any(cells):
            yield " | ".join(cells)


def _text(element: Any) -> str:
    from odf import teletype

    return str(teletype.extractText(element)).strip()


def _pages(items: Iterator[tuple[int, str]]) -> list[Document]:
    """A page per heading (the text before the first heading is a page of its own)."""
    pages: list[Document] = []
    path: list[str] = []
    lines: list[str] = []

    def close() -> None:
        if lines:
            meta = {"section": " > ".join(path)} if path else {}
            pages.append(Document(page_content="\n".join(lines), metadata=meta))

    for level, text in items:
        if level and text:
            close()
            path, lines = [*path[: level - 1], text], []
        if text:
            lines.append(text)
    close()
    return pages
