"""Read one file into text pages. Broken or unsupported files raise `UnreadableFileError`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langchain_core.documents import Document

from ingest.errors import IngestError


class UnreadableFileError(IngestError):
    """A file that cannot be turned into text; reported per file, never fatal to a run."""


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not UTF-8 text (byte {exc.start})") from exc


def _text(path: Path, data: bytes) -> list[Document]:
    return [Document(page_content=_decode(data))]


def _html(path: Path, data: bytes) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.body or soup
    lines = (line.strip() for line in body.get_text("\n").splitlines())
    meta = {"title": title} if title else {}
    return [Document(page_content="\n".join(line for line in lines if line), metadata=meta)]


def _pdf(path: Path, data: bytes) -> list[Document]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFileError("encrypted PDF; decrypt it first (e.g. qpdf --decrypt)")
        return [
            Document(page_content=page.extract_text() or "", metadata={"page": number})
            for number, page in enumerate(reader.pages, start=1)
        ]
    except UnreadableFileError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (loops, bad objects)
        raise UnreadableFileError(f"corrupt PDF ({exc})") from exc


def _docx(path: Path, data: bytes) -> list[Document]:
    import io

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(p.text for p in document.paragraphs)
    except Exception as exc:  # zipfile, zlib, lxml and python-docx errors on a damaged file
        raise UnreadableFileError(f"corrupt DOCX ({exc})") from exc
    return [Document(page_content=text)]


LOADERS: dict[str, Callable[[Path, bytes], list[Document]]] = {
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}


def load_file(path: Path, data: bytes) -> list[Document]:
    """Turn a file's bytes into pages of text; any other suffix is read as UTF-8 text."""
    if not data.strip():
        raise UnreadableFileError("empty file")
    pages = LOADERS.get(path.suffix.lower(), _text)(path, data)
    pages = [p for p in pages if p.page_content.strip()]
    if not pages:
        raise UnreadableFileError("no text found (a scanned PDF needs OCR first)")
    return pages
