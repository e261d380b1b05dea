"""The one check every zip-based format (docx today; xlsx, pptx, odt, epub next) passes before
it is parsed: a few hundred KB can unpack to gigabytes (a zip bomb), or hold a million entries.

What is checked is what `zipfile` will do: it parses the central directory that the
end-of-central-directory record points to (so that directory's size is bounded first, before
`zipfile` builds one object per entry), and it never returns more than a member's declared
size (past it the CRC check fails), so the declared sizes bound what any parser reads. A
compression-ratio rule would add no bound beyond the total and would refuse repetitive but
honest XML, so there is none.
"""

from __future__ import annotations

import io
import struct
import zipfile

from ingest.errors import IngestError

MAX_ENTRIES = 10_000  # a docx holds ~20, an epub with many images a few thousand
DIRECTORY_BYTES_PER_ENTRY = 400  # central directory entry: 46 bytes + name + extra fields

_END = b"PK\x05\x06"  # end of central directory record, 22 bytes + comment
_END64_LOCATOR = b"PK\x06\x07"  # 20 bytes, just before the record above
_END64 = b"PK\x06\x06"  # 56 bytes, just before the locator


class ArchiveTooLargeError(IngestError):
    """A zip-based file that would unpack to more than the limits allow."""


def check_zip(
    data: bytes, max_bytes: int, max_entries: int = MAX_ENTRIES, setting: str = ""
) -> None:
    """Refuse an archive that holds more than `max_entries` entries or declares more than
    `max_bytes` unpacked, before anything is decompressed. `setting` names the setting that
    raises `max_bytes`, for the message.

    Raises:
        ArchiveTooLargeError: with a message such as "unpacks to 100 MB (the limit is 50 MB)".
        zipfile.BadZipFile: `data` is not a zip archive (or a damaged one).
    """
    directory = _directory_size(data)
    if directory > max_entries * DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveTooLargeError(
            f"has a {_mb(directory)} MB zip directory (the limit is "
            f"{_mb(max_entries * DIRECTORY_BYTES_PER_ENTRY)} MB, room for {max_entries} entries)"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (ValueError, EOFError, struct.error, OverflowError) as exc:  # malformed records
        raise zipfile.BadZipFile(str(exc)) from exc
    if len(entries) > max_entries:
        raise ArchiveTooLargeError(
            f"holds {len(entries)} entries (the limit is {max_entries})"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > max_bytes:
        raise ArchiveTooLargeError(
            f"unpacks to {_mb(unpacked)} MB (the limit is {_mb(max_bytes)} MB"
            + (f", set {setting} to raise it)" if setting else ")")
        )


def _mb(size: int) -> str:
    return f"{size / 2**20:.3g}"


def _directory_size(data: bytes) -> int:
    """The central directory's size as `zipfile` will read it (from the zip64 record when
    there is one); BadZipFile without an end record."""
    end = len(data) - 22
    if end < 0:
        raise zipfile.BadZipFile("File is not a zip file")
    if data[end : end + 4] != _END or data[-2:] != b"\x00\x00":  # a comment follows the record
        end = data.rfind(_END, max(0, len(data) - 22 - (1 << 16)))
        if end < 0 or end + 22 > len(data):
            raise zipfile.BadZipFile("File is not a zip file")
    size = int.from_bytes(data[end + 12 : end + 16], "little")
    locator = end - 20
    record = locator - 56
    if record >= 0 and data[locator : locator + 4] == _END64_LOCATOR:
        if data[record : record + 4] == _END64:
            size = int.from_bytes(data[record + 40 : record + 48], "little")
    return size
