"""Files uploaded in the chat UI, copied into `<data_dir>/uploads/` and nowhere else.

An upload is untrusted: its name may hold `../` or a drive letter, a zip may name members
`../../.bashrc` or `/etc/x` (zip slip), claim a small size and inflate to gigabytes (zip bomb),
or carry symlinks. Names are reduced to plain components, every target is checked to resolve
inside the uploads folder, sizes are counted while bytes are copied (never trusting headers), and
anything refused is reported with its reason instead of stopping the other files.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO

CHUNK = 1 << 16
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@&=]")  # what may stay in a stored file name


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold: bytes (a file, or a zip's unpacked total) and files."""

    max_bytes: int = 50 * 2**20
    max_files: int = 1000


@dataclass
class Saved:
    """The outcome of one upload: files written under the uploads folder, and refusals."""

    files: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


class _TooLarge(Exception):
    pass


def safe_parts(name: str) -> list[str]:
    """The path components of an uploaded or zipped `name` that may be written, cleaned; an
    empty list when nothing safe remains (absolute paths, `..`, hidden entries are refused)."""
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return []
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or any(p == ".." or p.startswith(".") or p == "__MACOSX" for p in parts):
        return []
    cleaned = [_UNSAFE.sub("_", p).strip(" ")[:120] for p in parts]
    return cleaned if all(cleaned) else []


def _why_unsafe(name: str) -> str:
    """Why `safe_parts(name)` is empty, in words for the results table."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or ".." in parts:
        return "path outside the upload folder"
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return "hidden file"
    return "unsafe file name"


def _inside(root: Path, parts: list[str]) -> Path | None:
    target = root.joinpath(*parts).resolve()
    return target if target.is_relative_to(root.resolve()) and target != root.resolve() else None


def _copy(source: IO[bytes], target: Path, budget: int) -> int:
    """Copy at most `budget` bytes; more raises `_TooLarge` and leaves no partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    written = 0
    try:
        with partial.open("wb") as out:
            while block := source.read(CHUNK):
                written += len(block)
                if written > budget:
                    raise _TooLarge
                out.write(block)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


def _unzip(archive: Path, root: Path, limits: Limits, saved: Saved, label: str) -> None:
    parts = safe_parts(Path(label).stem)
    if not parts:
        saved.rejected.append((label, _why_unsafe(label)))
        return
    folder = root / parts[-1]
    budget = limits.max_bytes
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > limits.max_files:
                saved.rejected.append((label, f"{len(members)} files in the zip, more than the "
                                              f"limit of {limits.max_files}"))
                return
            for member in members:
                name = f"{label}/{member.filename}"
                if stat.S_ISLNK(member.external_attr >> 16):
                    saved.rejected.append((name, "symbolic link"))
                    continue
                member_parts = safe_parts(member.filename)
                if not member_parts:
                    saved.rejected.append((name, _why_unsafe(member.filename)))
                    continue
                target = _inside(folder, member_parts)
                if target is None:
                    saved.rejected.append((name, "path outside the upload folder"))
                    continue
                if member.flag_bits & 0x1:
                    saved.rejected.append((name, "encrypted"))
                    continue
                try:
                    with zf.open(member) as source:
                        budget -= _copy(source, target, budget)
                except _TooLarge:
                    saved.rejected.append((name, f"the zip unpacks to more than "
                                                 f"{_mb(limits.max_bytes)}"))
                    return
                saved.files.append(target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        saved.rejected.append((label, f"not a readable zip file ({exc})"))


def save_uploads(paths: Iterable[str | Path], uploads_dir: Path, limits: Limits = Limits()
                 ) -> Saved:
    """Copy uploaded files (as the web server stored them) into `uploads_dir`, unpacking zips.

    A file keeps its own (cleaned) name, so uploading a new version replaces the old copy;
    a zip's files go to a folder named after the zip.
    """
    uploads_dir.mkdir(parents=True, exist_ok=True)
    root = uploads_dir.resolve()
    saved = Saved()
    paths = list(paths)
    if len(paths) > limits.max_files:
        return Saved(rejected=[(f"{len(paths)} files", f"more than the limit of "
                                                       f"{limits.max_files} per upload")])
    for raw in paths:
        path = Path(raw)
        label = path.name
        if path.suffix.lower() == ".zip":
            _unzip(path, root, limits, saved, label)
            continue
        parts = safe_parts(label)
        target = _inside(root, parts[-1:]) if parts else None
        if target is None:
            saved.rejected.append((label, _why_unsafe(label)))
            continue
        try:
            with path.open("rb") as source:
                _copy(source, target, limits.max_bytes)
        except _TooLarge:
            saved.rejected.append((label, f"larger than {_mb(limits.max_bytes)}"))
            continue
        except OSError as exc:
            saved.rejected.append((label, f"could not be read ({exc.strerror or exc})"))
            continue
        saved.files.append(target)
    return saved


def delete_copy(source: str | Path, uploads_dir: Path) -> bool:
    """Delete the uploaded copy `source` if (and only if) it lies inside `uploads_dir`;
    folders left empty are removed too."""
    root = uploads_dir.resolve()
    path = Path(source).resolve()
    if not path.is_relative_to(root) or path == root or not path.is_file():
        return False
    path.unlink()
    for parent in path.parents:
        if parent == root or not parent.is_relative_to(root) or any(parent.iterdir()):
            break
        parent.rmdir()
    return True


