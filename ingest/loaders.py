"""Read one file into text pages. Broken or unsupported files raise `UnreadableFileError`.

Prose formats give one page per file (per page for PDF); the splitter cuts it into chunks.
Record formats (CSV, JSON, JSON Lines) give pages that are already chunk-sized groups of whole
records, so that a chunk never mixes half records and each CSV chunk repeats the header.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from langchain_core.documents import Document

from ingest.archives import ArchiveTooLargeError, check_zip
from ingest.errors import IngestError

DEFAULT_GROUP = 600  # characters per record group when the caller gives no chunk size
DEFAULT_MAX_UNPACKED_MB = 50.0  # what a zip-based file may unpack to when the caller gives no limit


class UnreadableFileError(IngestError):
    """A file that cannot be turned into text; reported per file, never fatal to a run."""


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not UTF-8 text (byte {exc.start})") from exc


def _text(path: Path, data: bytes, size: int) -> list[Document]:
    return [Document(page_content=_decode(data))]


def _html(path: Path, data: bytes, size: int) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript",
                     "form", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    # a page that marks its main content says where the article is; else take the whole body
    body = soup.find("main") or soup.find("article") or soup.body or soup
    lines = (line.strip() for line in body.get_text("\n").splitlines())
    meta = {"title": title} if title else {}
    return [Document(page_content="\n".join(line for line in lines if line), metadata=meta)]


def _pdf(path: Path, data: bytes, size: int) -> list[Document]:
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


def _docx(path: Path, data: bytes, size: int) -> list[Document]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:  # tables hold much of the content of many reports
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    except Exception as exc:  # zipfile, zlib, lxml and python-docx errors on a damaged file
        raise UnreadableFileError(f"corrupt DOCX ({exc})") from exc
    return [Document(page_content="\n".join(lines))]


def _check_unpacked(data: bytes, max_mb: float) -> None:
    try:
        check_zip(data, int(max_mb * 2**20), setting="ASSISTANT_MAX_FILE_MB")
    except zipfile.BadZipFile:
        return  # not a zip at all: the format's loader reports it as corrupt
    except ArchiveTooLargeError as exc:
        raise UnreadableFileError(str(exc)) from exc


def _groups(
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


def _csv(path: Path, data: bytes, size: int) -> list[Document]:
    text = _decode(data)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if delimiter == ",":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            pass  # one column, or too irregular to tell: commas it is
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFileError(f"invalid CSV ({exc})") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []

    def line(row: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(row)
        return out.getvalue()[:-1]  # quoting a field with a newline needs the "\n" terminator

    header, *body = rows
    if not body:  # a header alone is still the file's content
        return [Document(page_content=line(header))]
    return _groups((line(row) for row in body), size, line(header), "row")


def _json_records(value: object) -> list[object]:
    """A list's items, an object's members (each as a one-key object), or the value itself."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [{key: item} for key, item in value.items()]
    return [value]


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _json(path: Path, data: bytes, size: int) -> list[Document]:
    try:
        value = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    return _groups((_dump(r) for r in _json_records(value)), size, "", "record")


def _jsonl(path: Path, data: bytes, size: int) -> list[Document]:
    records = []
    for number, line in enumerate(_decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_dump(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"invalid JSON on line {number} ({exc.msg})") from exc
    return _groups(records, size, "", "record")


LOADERS: dict[str, Callable[[Path, bytes, int], list[Document]]] = {
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".csv": _csv,
    ".tsv": _csv,
    ".json": _json,
    ".jsonl": _jsonl,
    ".ndjson": _jsonl,
}


# Formats that are zip archives: checked for their unpacked size and entry count before parsing.
ZIP_FORMATS = frozenset({".docx"})


def load_file(
    path: Path,
    data: bytes,
    size: int = DEFAULT_GROUP,
    max_unpacked_mb: float = DEFAULT_MAX_UNPACKED_MB,
) -> list[Document]:
    """Turn a file's bytes into pages of text; any other suffix is read as UTF-8 text.

    `size` is the chunk size: record formats group whole records into pages of that size.
    `max_unpacked_mb` bounds what a zip-based format (`ZIP_FORMATS`) may unpack to.
    """
    if not data.strip():
        raise UnreadableFileError("empty file")
    suffix = path.suffix.lower()
    if suffix in ZIP_FORMATS:
        _check_unpacked(data, max_unpacked_mb)
    pages = LOADERS.get(suffix, _text)(path, data, size)
    pages = [p for p in pages if p.page_content.strip()]
    if not pages:
        hint = " (a scanned PDF needs OCR first)" if path.suffix.lower() == ".pdf" else ""
        raise UnreadableFileError(f"no text found{hint}")
    return pages


# Suffixes of formats that hold no text we can read: skipped unread, and reported as skipped.
BINARY_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .bmp .tif .tiff .webp .ico .heic .psd .mp3 .wav .flac .ogg .m4a .mp4 "
    ".mov .avi .mkv .webm .zip .gz .tgz .bz2 .xz .zst .7z .rar .tar .jar .exe .dll .so .dylib .o "
    ".a .bin .dat .pyc .class .wasm .iso .dmg .sqlite .db .pkl .npy .npz .pt .onnx .gguf "
    ".safetensors .parquet .xls .xlsx .ppt .pptx .doc .odt .ods .odp .woff .woff2 .ttf .otf".split()
)
# Suffixes that promise text: a binary file with one of these is a failure, not a skip.
TEXT_SUFFIXES = frozenset(".txt .text .md .markdown .rst .log .xml .yaml .yml .toml .ini .cfg "
                          ".tex".split()) | frozenset(LOADERS)


def skip_reason(path: Path, head: bytes | None = None) -> str | None:
    """Why `path` is not worth reading (a binary format), or None. `head` (the file's first
    bytes) lets a file of unknown type be skipped when its content is binary."""
    suffix = path.suffix.lower()
    if suffix in BINARY_SUFFIXES:
        return f"binary file ({suffix})"
    if head is not None and suffix not in TEXT_SUFFIXES and b"\x00" in head[:8192]:
        return "binary file"
    return None
