"""Read one file into text pages: the suffix picks a format module (`ingest/formats/`); any other
suffix is read as UTF-8 text. Broken or unsupported files raise `UnreadableFileError`.

Prose formats give one page per file (per page for PDF); the splitter cuts it into chunks.
Record formats (CSV, JSON, JSON Lines) give pages that are already chunk-sized groups of whole
records, so that a chunk never mixes half records and each CSV chunk repeats the header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats import (
    epub,
    html,
    mail,
    ocr,
    odf,
    pdf,
    plain,
    records,
    rtf,
    sheets,
    slides,
    word,
)
from ingest.formats.base import UnreadableFileError, check_unpacked

__all__ = ["BINARY_SUFFIXES", "LOADERS", "UnreadableFileError", "load_file", "skip_reason"]

DEFAULT_GROUP = 600  # characters per record group when the caller gives no chunk size
DEFAULT_MAX_UNPACKED_MB = 50.0  # what a zip-based file may unpack to when the caller gives no limit


Loader = Callable[[Path, bytes, int], list[Document]]


def _attachment(
    path: Path, data: bytes, size: int, max_unpacked_mb: float = DEFAULT_MAX_UNPACKED_MB
) -> list[Document]:
    """A mail's attachment, read as a file of its own (a binary format is not read), under the
    mail's own unpacked-size limit."""
    if reason := skip_reason(path, data[:8192]):
        raise UnreadableFileError(f"not read: {reason}")
    return load_file(path, data, size, max_unpacked_mb)


LOADERS: dict[str, Loader] = {
    ".html": html.load,
    ".htm": html.load,
    ".md": plain.load_markdown,
    ".markdown": plain.load_markdown,
    ".pdf": pdf.load,
    ".docx": word.load,
    ".xlsx": sheets.load_xlsx,
    ".ods": sheets.load_ods,
    ".csv": records.load_csv,
    ".tsv": records.load_csv,
    ".json": records.load_json,
    ".jsonl": records.load_jsonl,
    ".ndjson": records.load_jsonl,
    ".pptx": slides.load,
    ".odp": slides.load_odp,
    ".odt": odf.load,
    ".epub": epub.load,
    ".eml": partial(mail.load_eml, attach=_attachment),
    ".mbox": partial(mail.load_mbox, attach=_attachment),
    ".rtf": rtf.load,
    ".png": ocr.load_image,
    ".jpg": ocr.load_image,
    ".jpeg": ocr.load_image,
    ".tif": ocr.load_image,
    ".tiff": ocr.load_image,
    ".webp": ocr.load_image,
    ".bmp": ocr.load_image,
}


# Formats that are zip archives: checked for their unpacked size and entry count before parsing.
ZIP_FORMATS = frozenset({".docx", ".xlsx", ".ods", ".pptx", ".odp", ".odt", ".epub"})


def load_file(
    path: Path,
    data: bytes,
    size: int = DEFAULT_GROUP,
    max_unpacked_mb: float = DEFAULT_MAX_UNPACKED_MB,
) -> list[Document]:
    """Turn a file's bytes into pages of text; any other suffix is read as UTF-8 text.

    `size` is the chunk size: record formats group whole records into pages of that size.
    `max_unpacked_mb` bounds what a zip-based format (`ZIP_FORMATS`) may unpack to, a mail's
    zipped attachments included.
    """
    if not data.strip():
        raise UnreadableFileError("empty file")
    suffix = path.suffix.lower()
    if suffix in ZIP_FORMATS:
        check_unpacked(data, max_unpacked_mb)
    if suffix in mail.LOADERS:  # its attachments unpack under the same limit
        attach = partial(_attachment, max_unpacked_mb=max_unpacked_mb)
        pages = mail.LOADERS[suffix](path, data, size, attach)
    else:
        pages = LOADERS.get(suffix, plain.load)(path, data, size)
    pages = [p for p in pages if p.page_content.strip()]
    if not pages:
        hint = " (no text layer, and OCR read none)" if path.suffix.lower() == ".pdf" else ""
        raise UnreadableFileError(f"no text found{hint}")
    return pages


# Suffixes of formats that hold no text we can read: skipped unread, and reported as skipped
# (a suffix that gains a loader is read from then on).
BINARY_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .bmp .tif .tiff .webp .ico .heic .psd .mp3 .wav .flac .ogg .m4a .mp4 "
    ".mov .avi .mkv .webm .zip .gz .tgz .bz2 .xz .zst .7z .rar .tar .jar .exe .dll .so .dylib .o "
    ".a .bin .dat .pyc .class .wasm .iso .dmg .sqlite .db .pkl .npy .npz .pt .onnx .gguf "
    ".safetensors .parquet .xls .xlsx .ppt .pptx .doc .odt .ods .odp .woff .woff2 .ttf .otf".split()
) - frozenset(LOADERS)
# Formats we cannot read yet, with what to do instead: skipped with that reason.
UNSUPPORTED = {".msg": "Outlook .msg: save as .eml"}
# Suffixes that promise text: a binary file with one of these is a failure, not a skip.
TEXT_SUFFIXES = frozenset(".txt .text .md .markdown .rst .log .xml .yaml .yml .toml .ini .cfg "
                          ".tex".split()) | frozenset(LOADERS)


def skip_reason(path: Path, head: bytes | None = None) -> str | None:
    """Why `path` is not worth reading (a binary format), or None. `head` (the file's first
    bytes) lets a file of unknown type be skipped when its content is binary."""
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED:
        return UNSUPPORTED[suffix]
    if suffix in BINARY_SUFFIXES:
        return f"binary file ({suffix})"
    if head is not None and suffix not in TEXT_SUFFIXES and b"\x00" in head[:8192]:
        return "binary file"
    return None
