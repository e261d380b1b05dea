"""Which files an ingest reads: folders walked in name order, filtered by globs; hidden entries,
binary formats, special files, symlinks leading out of the folder and folders nested too deep
skipped, each skip reported with its reason."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from ingest.errors import PathNotFoundError
from ingest.loaders import skip_reason

MAX_DEPTH = 64  # folders below the one named; deeper ones are reported, not walked
OUTSIDE = ("symlink to a file outside the folder, not followed "
           "(set ASSISTANT_FOLLOW_SYMLINKS=true to allow)")
NOT_UTF8 = "file name is not valid UTF-8 (rename the file to ingest it)"
_SPECIAL = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
            (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def user_path(raw: str | Path) -> Path:
    """`raw` with a leading `~` or `~name` expanded; left as written when that user has no
    home here (`Path.expanduser` raises then), so the caller reports the path as not found."""
    try:
        return Path(raw).expanduser()
    except RuntimeError:
        return Path(raw)


def check_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Resolve `paths`, failing before any write if one does not exist."""
    checked = []
    for raw in paths:
        path = user_path(raw)
        if not path.exists():
            raise PathNotFoundError(
                f"No such file or folder: {raw}", fix="check the path (relative to this folder)"
            )
        checked.append(path)
    return checked


def special_reason(mode: int) -> str | None:
    """Why a file of this `st_mode` is never opened (reading a FIFO blocks, a device never
    ends), or None for a regular file or a folder."""
    for test, kind in _SPECIAL:
        if test(mode):
            return f"special file ({kind}), not read"
    return None


def matches(relative: str, patterns: Sequence[str]) -> bool:
    """True if a glob matches the path relative to the folder walked, or the name alone.

    `*` also crosses folders ("drafts/*" matches "drafts/2024/a.md"), and a leading "**/"
    may match no folder at all ("**/*.md" matches "a.md").
    """
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        bare = pattern[3:] if pattern.startswith("**/") else pattern
        if fnmatchcase(relative, pattern) or fnmatchcase(relative, bare) or fnmatchcase(name, bare):
            return True
    return False


@dataclass
class Listing:
    """The files to read, in order, and the entries skipped with their reasons."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def list_files(
    roots: Iterable[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_symlinks: bool = False,
) -> Listing:
    """Files under `roots`, each once. A file named explicitly is read (through a symlink too)
    unless it is a special file; files found in a folder must match an `include` glob (when
    given) and no `exclude` glob. A symlinked file found in a folder is stored under its target,
    read only if the target lies inside that folder (anywhere with `follow_symlinks`) and is not
    hidden. A broken symlink is listed too, so that it is reported as unreadable."""
    listing = Listing()
    seen: set[Path] = set()

    def add(file: Path) -> None:
        if not _utf8(file):  # Chroma, SQLite and JSON replies all need the name as UTF-8
            listing.skipped.append((str(file), NOT_UTF8))
        elif file not in seen:
            seen.add(file)
            listing.files.append(file)

    for root in roots:
        if root.is_dir():
            _walk(root.resolve(), include, exclude, follow_symlinks, add, listing.skipped)
        elif reason := _special(root):
            listing.skipped.append((str(root.resolve()), reason))
        else:
            add(root.resolve())
    return listing


def _walk(
    root: Path,
    include: Sequence[str],
    exclude: Sequence[str],
    follow_symlinks: bool,
    add: Callable[[Path], None],
    skipped: list[tuple[str, str]],
) -> None:
    """Depth first in name order, with an explicit stack: no recursion limit to hit."""
    stack: list[tuple[Iterator[os.DirEntry[str]], Path, str]] = []

    def enter(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((str(folder), f"cannot list ({exc.strerror or exc})"))
            return
        stack.append((iter(entries), folder, prefix))

    enter(root, "")
    while stack:
        entries, folder, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        relative = prefix + entry.name
        path = folder / entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if entry.name.startswith("."):
            skipped.append((str(path), "hidden folder" if is_dir else "hidden file"))
        elif exclude and matches(relative, exclude):
            continue  # asked for: not worth a line in the report
        elif is_dir and len(stack) > MAX_DEPTH:
            skipped.append((str(path), f"nested deeper than {MAX_DEPTH} folders, not read"))
        elif is_dir:
            enter(path, relative + "/")
        elif include and not matches(relative, include):
            continue
        elif reason := skip_reason(path):
            skipped.append((str(path), reason))
        elif entry.is_symlink():
            target, reason = _link(path, root, follow_symlinks)
            if reason:
                skipped.append((str(path), reason))
            elif target:
                add(target)
        elif not entry.is_file(follow_symlinks=False) and (reason := _special(path)):
            skipped.append((str(path), reason))
        else:  # a regular file, or one that vanished: reading it reports that
            add(path)


def _utf8(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as lone surrogates
        return False
    return True


def _special(path: Path) -> str | None:
    """`special_reason` of what `path` leads to; None if it cannot be stat'ed (the read that
    follows reports why)."""
    try:
        return special_reason(os.stat(path).st_mode)
    except OSError:
        return None


def _link(path: Path, root: Path, follow: bool) -> tuple[Path | None, str | None]:
    """(file to read, None) or (None, why not) for a symlink met while walking `root`."""
    try:
        target = path.resolve(strict=True)
        mode = target.stat().st_mode
    except (OSError, RuntimeError):  # dangling, or a loop: listed to be reported unreadable
        return path, None
    if stat.S_ISDIR(mode):  # following it could loop or leave the folder
        return None, "symlinked folder, not followed"
    if reason := special_reason(mode):
        return None, reason
    inside = target.is_relative_to(root)
    if not inside and not follow:
        return None, OUTSIDE
    # the hidden-file rule holds for targets too (a link to .git/config, to ~/.aws/credentials)
    parts = target.relative_to(root).parts if inside else target.parts
    if any(part.startswith(".") for part in parts):
        return None, "symlink to a hidden file, not followed"
    return target, None
