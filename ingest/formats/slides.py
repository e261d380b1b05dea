"""PPTX and ODP: one page per slide (title, text boxes, tables as "cell | cell" rows, speaker
notes), with `slide` (1-based) and `section` (the slide's title) in the metadata."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError
from ingest.formats.odf import blocks, open_document

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted OOXML file, or an old .ppt


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from pptx import Presentation

    if data.startswith(_OLE):
        raise UnreadableFileError("password-protected PPTX, or an old .ppt renamed (an OLE file, "
                                  "not a zip): remove the password or save it as .pptx")
    try:
        deck = Presentation(io.BytesIO(data))
        return [_slide(number, slide) for number, slide in enumerate(deck.slides, start=1)]
    except Exception as exc:  # zipfile, lxml and python-pptx errors on a damaged file
        raise UnreadableFileError(f"corrupt PPTX ({exc})") from exc


def _slide(number: int, slide: Any) -> Document:
    title_shape = slide.shapes.title
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    title_id = title_shape.shape_id if title_shape is not None else None
    lines = [title] if title else []
    for shape in _shapes(slide.shapes):
        if shape.shape_id != title_id:  # shapes are new proxies on each access: compare ids
            lines.extend(_shape_lines(shape))
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            lines.append("Notes: " + notes.text.strip())
    meta: dict[str, Any] = {"slide": number}
    if title:
        meta["section"] = title
    return Document(page_content="\n".join(line for line in lines if line.strip()),
                    metadata=meta)


def _shapes(shapes: Iterable[Any]) -> Iterator[Any]:
    """Every shape in z-order, the shapes of groups included."""
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group shape
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_lines(shape: Any) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        return [" | ".join(" ".join(cell.text.split()) for cell in row.cells)
                for row in shape.table.rows]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [p.strip() for p in shape.text_frame.text.splitlines()]
    return []


_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"


def load_odp(path: Path, data: bytes, size: int) -> list[Document]:
    """ODP (OpenDocument presentation), as PPTX: a page per slide, title first, notes last."""
    from odf.draw import Page

    deck = open_document(data, "ODP").presentation
    try:
        return [_odp_slide(number, page)
                for number, page in enumerate(deck.getElementsByType(Page), start=1)]
    except Exception as exc:  # odfpy errors on elements it cannot read
        raise UnreadableFileError(f"corrupt ODP ({exc})") from exc


def _odp_slide(number: int, page: Any) -> Document:
    title, lines, notes = "", [], []
    for child in page.childNodes:
        if getattr(child, "qname", None) == (_PRESENTATION, "notes"):
            notes += _odp_lines(child)
        elif not title and child.attributes.get((_PRESENTATION, "class")) == "title":
            title = " ".join(" ".join(_odp_lines(child)).split())
        else:
            lines += _odp_lines(child)
    meta: dict[str, Any] = {"slide": number}
    if title:
        meta["section"] = title
    parts = ([title] if title else []) + lines + (["Notes: " + "\n".join(notes)] if notes else [])
    return Document(page_content="\n".join(parts), metadata=meta)


def _odp_lines(element: Any) -> list[str]:
    """The text of a frame, text box, group or shape: its paragraphs, lists and tables."""
    lines = [text for _level, text in blocks(element) if text]
    for child in element.childNodes:
        if getattr(child, "qname", (None,))[0] == _DRAW:
            lines += _odp_lines(child)
    return lines
