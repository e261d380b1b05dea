"""RTF: the text of the document (striprtf); a file that is not RTF, or is cut short, fails."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import UnreadableFileError

_BRACE = re.compile(rb"\\[\\{}]|[{}]")  # an escaped brace or backslash, or a group's brace


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise UnreadableFileError("not an RTF file (it does not start with '{\\rtf')")
    if not _balanced(data):
        raise UnreadableFileError("corrupt RTF (unbalanced braces: cut short or damaged)")
    try:
        # RTF is 7-bit text; other characters are escapes that striprtf decodes (cp1252
        # unless the file says otherwise); a stray 8-bit byte is read as Latin-1
        text = rtf_to_text(data.decode("latin-1"), errors="replace")
    except Exception as exc:  # striprtf raises on malformed control words
        raise UnreadableFileError(f"corrupt RTF ({exc})") from exc
    lines = (line.strip() for line in text.splitlines())
    return [Document(page_content="\n".join(line for line in lines if line))]


def _balanced(data: bytes) -> bool:
    """Every `{` group is closed, and none closes before it opens."""
    depth = 0
    for token in _BRACE.findall(data):
        depth += {b"{": 1, b"}": -1}.get(token, 0)
        if depth < 0:
            return False
    return depth == 0
