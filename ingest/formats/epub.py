"""EPUB: one page per chapter in reading (spine) order, with `chapter` (1-based, counting the
chapters that hold text) and `section` (the chapter's title path in the table of contents,
"Part two > The glacier", else its first heading); scripts and styles dropped, the book's own
table of contents page left out."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError

_DROPPED = ["script", "style", "noscript", "template", "svg"]


def load(path: Path, data: bytes, size: int) -> list[Document]:

    if _drm(data):
        raise UnreadableFileError("encrypted EPUB (DRM); only DRM-free books can be read")
    try:
        book = _book(data)
        titles = _toc_titles(book.toc)
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


def _book(data: bytes) -> Any:
    """The book with its NCX table of contents (the only one an EPUB 2 book has), or without
    it when the NCX is missing or broken (the nav page and the headings still give titles).
    `ignore_ncx` given, ebooklib does not warn about its future default."""
    from ebooklib import epub

    try:
        return epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except Exception:  # the NCX named by the spine is missing or broken; retried without it
        return epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})


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


def _toc_titles(toc: Any) -> dict[str, str]:
    """File name -> the title of its first entry in the table of contents."""
    titles: dict[str, str] = {}
    for href, title in _toc_entries(toc):
        titles.setdefault(href, title)
    return titles


def _toc_entries(entries: Any, parents: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(file name, title path "Part > Chapter") of every entry, in order; a section that points
    at the same file as one of its entries leaves the title to that entry."""
    if not isinstance(entries, list | tuple):  # ebooklib gives a lone entry bare, not in a list
        entries = [entries]
    for entry in entries:
        if isinstance(entry, tuple | list):  # (section, children)
            section, children = entry
            title = _entry_title(section)
            inner = list(_toc_entries(children, (*parents, title) if title else parents))
            own = _entry_file(section)
            if own and title and own not in {href for href, _ in inner}:
                yield own, " > ".join((*parents, title))
            yield from inner
        elif (href := _entry_file(entry)) and (title := _entry_title(entry)):
            yield href, " > ".join((*parents, title))


def _entry_file(entry: Any) -> str:
    return str(getattr(entry, "href", None) or "").split("#")[0]


def _entry_title(entry: Any) -> str:
    return " ".join(str(getattr(entry, "title", None) or "").split())


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
