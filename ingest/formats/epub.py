"""EPUB: one page per chapter in reading (spine) order, with `chapter` (1-based, counting the
chapters that hold text) and `section` (the chapter's title in the table of contents, else its
first heading); scripts and styles dropped, the book's own table of contents page left out."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError

_DROPPED = ["script", "style", "noscript", "template", "svg"]


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from ebooklib import epub

    if _drm(data):
        raise UnreadableFileError("encrypted EPUB (DRM); only DRM-free books can be read")
    try:
        # ignore_ncx given, ebooklib does not warn about its future default; False keeps the
        # NCX table of contents, the only one an EPUB 2 book has
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
        titles = dict(_toc(book.toc))
        pages: list[Document] = []
        for item in _chapters(book):
            text, heading = _read(item.get_content())
            if text:
                meta: dict[str, int | str] = {"chapter": len(pages) + 1}
                if title := titles.get(item.get_name()) or heading:
                    meta["section"] = title
                pages.append(Document(page_content=text, metadata=meta))
        return pages
    except Exception as exc:  # zipfile, lxml and ebooklib errors on a damaged file
        raise UnreadableFileError(f"corrupt EPUB ({exc})") from exc


def _drm(data: bytes) -> bool:
    """Chapters listed as encrypted (fonts alone often are, to obfuscate them: those are fine)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            listing = archive.read("META-INF/encryption.xml")
    except Exception:  # no encryption list, or a damaged archive: the reader reports it
        return False
    return re.search(rb'URI="[^"]*\.x?html?"', listing) is not None


def _chapters(book: Any) -> list[Any]:
    """The spine's documents in reading order, without the navigation page."""
    import ebooklib
    from ebooklib import epub

    items = (book.get_item_with_id(idref) for idref, _linear in book.spine)
    return [item for item in items if item is not None
            and item.get_type() == ebooklib.ITEM_DOCUMENT and not isinstance(item, epub.EpubNav)]


def _toc(entries: Iterable[Any]) -> Iterable[tuple[str, str]]:
    """(file name, title) of every table of contents entry, the first title of a file first."""
    found: list[tuple[str, str]] = []
    for entry in entries:
        if isinstance(entry, tuple | list):  # (section, children)
            section, children = entry
            found += _toc([section, *children])
        elif getattr(entry, "href", None) and getattr(entry, "title", None):
            found.append((entry.href.split("#")[0], " ".join(entry.title.split())))
    return reversed(found)  # dict() keeps the last value for a key: the first entry wins


def _read(xhtml: bytes) -> tuple[str, str]:
    """A chapter's text, one line per block, and its first heading."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(xhtml, "html.parser")
    for tag in soup(_DROPPED):
        tag.decompose()
    first = soup.find(["h1", "h2", "h3", "h4", "h5", "h6"])
    heading = " ".join(first.get_text(" ").split()) if first else ""
    body = soup.body or soup
    lines = (" ".join(line.split()) for line in body.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line), heading
