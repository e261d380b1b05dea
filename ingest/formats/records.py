"""Record formats: CSV/TSV rows, JSON items and JSON Lines, grouped into chunk-sized pages of
whole records, so that a chunk never holds half a record and each CSV chunk repeats the header."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError, decode, groups


def load_csv(path: Path, data: bytes, size: int) -> list[Document]:
    text = decode(data)
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
    return groups((line(row) for row in body), size, line(header), "row")


def _json_records(value: object) -> list[object]:
    """A list's items, an object's members (each as a one-key object), or the value itself."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [{key: item} for key, item in value.items()]
    return [value]


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def load_json(path: Path, data: bytes, size: int) -> list[Document]:
    try:
        value = json.loads(decode(data))
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    return groups((_dump(r) for r in _json_records(value)), size, "", "record")


def load_jsonl(path: Path, data: bytes, size: int) -> list[Document]:
    records = []
    for number, line in enumerate(decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_dump(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"invalid JSON on line {number} ({exc.msg})") from exc
    return groups(records, size, "", "record")
