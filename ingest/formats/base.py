"""What every format shares: the error for an unreadable file, UTF-8 decoding, the zip check,
and record groups (pages of whole records or table rows, each starting with a header)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable

from langchain_core.documents import Document

from ingest.archives import ArchiveTooLargeError, check_zip
from ingest.errors import IngestError


class UnreadableFileError(IngestError):
    """A file that cannot be turned into text; reported per file, never fatal to a run."""


class NoTextError(UnreadableFileError):
    """A file read without fault that holds no text (a photo): the ingest reports it as
    skipped, not failed."""


def decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not UTF-8 text (byte {exc.start})") from exc


def check_unpacked(data: bytes, max_mb: float) -> None:
    try:
        check_zip(data, int(max_mb * 2**20), setting="ASSISTANT_MAX_FILE_MB")
    except zipfile.BadZipFile:
        return  # not a zip at all: the format's loader reports it as corrupt
    except ArchiveTooLargeError as exc:
        raise UnreadableFileError(str(exc)) from exc


def groups(
    records: Iterable[str], size: int, header: str, unit: str
) -> list[Document]:
    """Pack consecutive records into pages of at most `size` characters, each starting with
    `header`; a record longer than that gets a page of its own (the splitter cuts it later)."""
    pages: list[Document] = []
    group: list[str] = []
    first = used = 0
    for number, record in enumerate(records, start=1):
        if group and used + len(record) + 1 > size:
            pages.append(_group_page(header, group, first, unit))
            group, used = [], 0
        if not group:
            first, used = number, len(header) + 1 if header else 0
        group.append(record)
        used += len(record) + 1
    if group:
        pages.append(_group_page(header, group, first, unit))
    return pages


def _group_page(header: str, group: list[str], first: int, unit: str) -> Document:
    text = "\n".join([header, *group] if header else group)
    return Document(page_content=text,
                    metadata={f"first_{unit}": first, f"last_{unit}": first + len(group) - 1})
