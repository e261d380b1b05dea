"""Sections for citations: the heading path that holds a passage, as `section` metadata in the
form "Part > Chapter" (one format for every loader: PDF outlines here, Markdown headings in
`plain`, HTML and DOCX headings in theirs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document

SEPARATOR = " > "


def section_path(titles: Sequence[str]) -> str:
    """"Part > Chapter" from the titles of the headings above a passage, outermost first."""
    return SEPARATOR.join(" ".join(t.split()) for t in titles if t.strip())


def pdf_outline(reader: Any, pages: list[Document]) -> list[Document]:
    """`pages` of a PDF (`page` numbered from 1) with `section`: the path of the last outline
    entry (bookmark) that starts on or before the page, read from the file's pypdf `reader`.
    A PDF without an outline, or whose outline cannot be read, is returned as it is."""
    starts = _outline_starts(reader)
    if not starts:
        return pages
    for page in pages:
        number = int(page.metadata.get("page", 0))
        covering = [path for start, path in starts if start <= number]
        if covering:
            page.metadata["section"] = covering[-1]
    return pages


def _outline_starts(reader: Any) -> list[tuple[int, str]]:
    """(first page, "A > B") of every outline entry, in page order then outline order."""
    try:
        entries = _walk(reader, reader.outline, ())
    except Exception:  # a damaged outline costs the sections, never the text
        return []
    return sorted(entries, key=lambda entry: entry[0])


def _walk(reader: Any, items: list[Any], parents: tuple[str, ...]) -> list[tuple[int, str]]:
    entries: list[tuple[int, str]] = []
    titles = parents
    for item in items:
        if isinstance(item, list):  # the children of the entry just before
            entries += _walk(reader, item, titles)
            continue
        titles = (*parents, str(item.title))
        index = reader.get_destination_page_number(item)
        if index is not None and index >= 0:
            entries.append((index + 1, section_path(titles)))
    return entries


class Outline:
    """Headings seen so far, nested by level: "Results > 2023" under an h1 and an h2."""

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> None:
        """A heading of `level` (1 = top) closes the headings at its level and below."""
        self._open = [(lv, t) for lv, t in self._open if lv < level]
        if text:
            self._open.append((level, text))

    @property
    def path(self) -> str:
        return section_path([text for _, text in self._open])

    def metadata(self) -> dict[str, object]:
        return {"section": self.path} if self._open else {}


def prose(lines: list[str], outline: Outline, metadata: dict[str, object]) -> list[Document]:
    """The lines of one section as a page (none when they are blank)."""
    text = "\n".join(lines)
    if not text.strip():
        return []
    return [Document(page_content=text, metadata={**metadata, **outline.metadata()})]
