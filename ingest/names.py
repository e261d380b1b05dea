"""How stored file names and paths are shown: invisible characters made visible, and paths
given to API clients without the server's own folders.

A file name may hold a newline (a forged extra line in `assistant sources`), an ESC (terminal
codes), or a bidi control such as U+202E that shows "txt.exe" as "exe.txt". `display_name` writes
every such character as an escape (`\\n`, `\\x1b`, `\\u202e`), so what is printed is what is stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Control, surrogate, line/paragraph separator and format characters (zero-width and bidi
# controls are format characters) print as nothing or move text; ZWNJ and ZWJ stay, since they
# shape emoji and several scripts.
_HIDDEN = {"Cc", "Cs", "Zl", "Zp", "Cf"}
_KEPT = {"\u200c", "\u200d"}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def display_name(text: str) -> str:
    """`text` with control, bidi, zero-width and lone surrogate characters written as escapes."""
    if text.isprintable():  # the usual case: nothing to do
        return text
    return "".join(
        _escape(c) if unicodedata.category(c) in _HIDDEN and c not in _KEPT else c for c in text
    )


@dataclass(frozen=True)
class ClientPaths:
    """Stored paths as HTTP clients see them, and back: an upload as `uploads/<path there>`, a
    file under the owner's home as `~/...`, any other path unchanged. The server's folders (and
    the user name in the home path) stay on the server."""

    uploads: Path  # resolved
    home: Path | None  # resolved; None when the server has no home folder

    def _roots(self) -> list[tuple[str, str]]:
        roots = [(str(self.uploads), "uploads/")]
        return roots + ([(str(self.home), "~/")] if self.home else [])

    def show(self, source: str) -> str:
        """`source` (an absolute stored path) in the client's form."""
        for root, prefix in self._roots():
            if source.startswith(root.rstrip("/") + "/"):
                return prefix + source[len(root.rstrip("/")) + 1:]
        return source

    def stored(self, given: str) -> str:
        """The stored form of a path or glob a client gave in its own form (absolute paths are
        taken as they are)."""
        for root, prefix in self._roots():
            if given.startswith(prefix):
                return root.rstrip("/") + "/" + given[len(prefix):]
        return given

    def scrub(self, text: str) -> str:
        """`text` (a message or reason) with the server's folders written in the client's form."""
        for root, prefix in self._roots():
            text = text.replace(root.rstrip("/") + "/", prefix)
        return text


def client_paths(uploads_dir: Path) -> ClientPaths:
    """The `ClientPaths` of a server keeping its uploads in `uploads_dir`."""
    try:
        home: Path | None = Path.home().resolve()
    except RuntimeError:  # no HOME and no password entry
        home = None
    return ClientPaths(uploads_dir.resolve(), None if home == Path("/") else home)
