"""Plain text: any UTF-8 file without a format of its own (txt, md, code, logs...). Markdown is
cut into one page per heading, so that each chunk knows its `section` ("Guide > Install")."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import decode
from ingest.formats.sections import section_path

# An ATX heading: up to 3 spaces, 1-6 '#', then the title; optional closing '#'s.
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def load(path: Path, data: bytes, size: int) -> list[Document]:
    return [Document(page_content=decode(data))]


def load_markdown(path: Path, data: bytes, size: int) -> list[Document]:
    """One page per heading (a heading with no text under it joins the next one), with the
    path of headings above it as `section`; text before the first heading has none."""
    pages: list[Document] = []
    titles: list[tuple[int, str]] = []  # (level, title) of the headings above, outermost first
    block: list[str] = []
    has_body = False
    for line, level, title in _lines(decode(data)):
        if level:
            if has_body:
                pages.append(_page("".join(block), titles))
                block, has_body = [], False
            titles = [(lv, t) for lv, t in titles if lv < level] + [(level, title)]
        else:
            has_body = has_body or bool(line.strip())
        block.append(line)
    if block:
        pages.append(_page("".join(block), titles))
    return pages


def _lines(text: str) -> list[tuple[str, int, str]]:
    """Each line (with its end), and its heading level and title (0 and "" for other lines,
    including '#' lines inside fenced code)."""
    out: list[tuple[str, int, str]] = []
    fence = ""
    for line in text.splitlines(keepends=True):
        if opening := FENCE.match(line):
            marker = opening.group(1)
            if not fence:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = ""
        heading = None if fence or opening else HEADING.match(line.rstrip("\r\n"))
        if heading:
            out.append((line, len(heading.group(1)), (heading.group(2) or "").strip()))
        else:
            out.append((line, 0, ""))
    return out


def _page(text: str, titles: list[tuple[int, str]]) -> Document:
    section = section_path([t for _, t in titles])
    return Document(page_content=text, metadata={"section": section} if section else {})
