"""Which files an ingest reads: folders walked recursively in name order, filtered by globs;
hidden entries and binary formats skipped, each skip reported with its reason."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from ingest.errors import PathNotFoundError
from ingest.loaders import skip_reason


def check_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Resolve `paths`, failing before any write if one does not exist."""
    checked = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise PathNotFoundError(
                f"No such file or folder: {raw}", fix="check the path (relative to this folder)"
            )
        checked.append(path)
    return checked


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
) -> Listing:
    """Files under `roots`, each once. A file named explicitly is always read; files found in
    a folder must match an `include` glob (when given) and no `exclude` glob. A broken symlink
    is listed too, so that it is reported as unreadable rather than ignored."""
    listing = Listing()
    seen: set[Path] = set()

    def add(file: Path) -> None:
        if file not in seen:
            seen.add(file)
            listing.files.append(file)

    def walk(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            listing.skipped.append((str(folder), f"cannot list ({exc.strerror or exc})"))
            return
        for entry in entries:
            relative = prefix + entry.name
            path = folder / entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if entry.name.startswith("."):
                listing.skipped.append((str(path), "hidden folder" if is_dir else "hidden file"))
            elif exclude and matches(relative, exclude):
                continue  # asked for: not worth a line in the report
            elif is_dir:
                walk(path, relative + "/")
            elif include and not matches(relative, include):
                continue
            elif reason := skip_reason(path):
                listing.skipped.append((str(path), reason))
            elif entry.is_file():  # a symlinked file is stored under its target
                add(path.resolve() if entry.is_symlink() else path)
            elif entry.is_symlink() and not os.path.exists(path):
                add(path)
            elif entry.is_symlink():  # following it could loop or leave the folder
                listing.skipped.append((str(path), "symlinked folder, not followed"))

    for root in roots:
        if root.is_dir():
            walk(root.resolve(), "")
        else:
            add(root.resolve())
    return listing
