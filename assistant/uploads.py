"""Files uploaded in the chat UI or to `POST /ingest`, copied into `<data_dir>/uploads/` and
nowhere else, by one function (`save_uploads`) with one set of rules.

An upload is untrusted: its name may hold `../`, a drive letter, a NUL or a newline, a zip may
name members `../../.bashrc` or `/etc/x` (zip slip), claim a small size and inflate to gigabytes
(zip bomb), or carry symlinks. Names are reduced to plain components, every target is checked to
resolve inside the uploads folder, sizes are counted while bytes are copied (never trusting
headers), and anything refused is reported with its reason instead of stopping the other files.

A new version of a stored file does not destroy the old one until it has been ingested: the old
copy is kept aside, and `Saved.settle` puts it back if the new one fails, so the stored file
and the chunks in the index stay the same version.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings

CHUNK = 1 << 16
MAX_NAME_BYTES = 200  # per name, UTF-8: with the temporary prefixes it fits in 255 everywhere
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@&=]")  # what may stay in a stored file name
OUTSIDE, HIDDEN = "path outside the upload folder", "hidden file"

Incoming = str | Path | tuple[str, IO[bytes]]  # a received file, or (name a client gave, bytes)


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold: bytes (a file, or a zip's unpacked total) and files."""

    max_bytes: int = 50 * 2**20
    max_files: int = 1000

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits `settings` set (`upload_max_mb`, `upload_max_files`)."""
        return cls(max_bytes=int(settings.upload_max_mb * 2**20),
                   max_files=settings.upload_max_files)


def uploads_folder(settings: Settings) -> Path:
    """Where uploads are kept: `<data_dir>/uploads`."""
    return Path(settings.data_dir) / "uploads"


@dataclass
class Saved:
    """The outcome of one upload: files written under the uploads folder, and refusals.

    `over_limit` is the first refusal for size or count. Until `settle` runs, `backups` holds
    the previous copy of each file the upload replaced."""

    files: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    over_limit: tuple[str, str] | None = None
    backups: dict[Path, Path] = field(default_factory=dict)
    root: Path | None = None

    def refuse(self, name: str, reason: str, limit: bool = False) -> None:
        self.rejected.append((name, reason))
        if limit and self.over_limit is None:
            self.over_limit = (name, reason)

    def settle(self, kept: Collection[str] | None) -> None:
        """After ingesting `files`: keep those whose source is in `kept`; put the previous copy
        back for the others, or delete them when they had none. `kept=None` (the ingest broke
        off) puts every previous copy back and keeps the new files that had none."""
        for path in self.files:
            backup = self.backups.pop(path, None)
            if kept is not None and str(path) in kept:
                if backup:
                    backup.unlink(missing_ok=True)
            elif backup:
                os.replace(backup, path)
            elif kept is not None and self.root is not None:
                delete_copy(path, self.root)


class _TooLarge(Exception):
    pass


class Refused(ValueError):
    """An upload name that cannot be stored; `str(exc)` is the reason, for people."""


def _problem(part: str) -> str | None:
    """Why one name component cannot be stored, or None."""
    if part == "..":
        return OUTSIDE
    if part.startswith(".") or part == "__MACOSX":
        return HIDDEN
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in part):
        return "control character in the file name"
    if len(part.encode()) > MAX_NAME_BYTES:
        return f"file name longer than {MAX_NAME_BYTES} bytes"
    return None


def checked_parts(name: str) -> list[str]:
    """The path components of an uploaded or zipped `name` that may be written, cleaned;
    `Refused` says why none can (absolute paths, `..`, hidden or over-long names, control
    characters)."""
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        raise Refused(OUTSIDE)
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts:
        raise Refused("unsafe file name")
    for part in parts:
        if reason := _problem(part):
            raise Refused(reason)
    cleaned = [_UNSAFE.sub("_", p).strip(" ") for p in parts]
    if not all(cleaned):
        raise Refused("unsafe file name")
    return cleaned


def safe_parts(name: str) -> list[str]:
    """`checked_parts(name)`, or an empty list when nothing safe remains."""
    try:
        return checked_parts(name)
    except Refused:
        return []


def plain_name(raw: str | None) -> str:
    """The name an uploaded file is stored under: its base name (a client may send a path),
    cleaned; `Refused` says why there is none."""
    return checked_parts(PurePosixPath((raw or "").replace("\\", "/")).name)[-1]


def _inside(root: Path, parts: list[str]) -> Path | None:
    target = root.joinpath(*parts).resolve()
    return target if target.is_relative_to(root.resolve()) and target != root.resolve() else None


def _copy(source: IO[bytes], target: Path, budget: int, saved: Saved) -> int:
    """Copy at most `budget` bytes to `target`, keeping aside the copy it replaces; more raises
    `_TooLarge` and leaves no partial file and the old copy in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    written = 0
    try:
        with partial.open("wb") as out:
            while block := source.read(CHUNK):
                written += len(block)
                if written > budget:
                    raise _TooLarge
                out.write(block)
        backup = None
        if target.is_file() and target not in saved.backups and target not in saved.files:
            backup = target.with_name(f".{target.name}.prev")
            os.replace(target, backup)
        try:
            partial.replace(target)
        except OSError:
            if backup:
                os.replace(backup, target)
            raise
        if backup:
            saved.backups[target] = backup
    finally:
        partial.unlink(missing_ok=True)
    return written


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


def _unzip(label: str, archive: IO[bytes], root: Path, limits: Limits, saved: Saved) -> None:
    try:
        folder = root / checked_parts(PurePosixPath(label).stem)[-1]
    except Refused as exc:
        saved.refuse(label, str(exc))
        return
    budget = limits.max_bytes
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > limits.max_files:
                saved.refuse(label, f"{len(members)} files in the zip, more than the limit of "
                                    f"{limits.max_files}", limit=True)
                return
            for member in members:
                name = f"{label}/{member.filename}"
                if stat.S_ISLNK(member.external_attr >> 16):
                    saved.refuse(name, "symbolic link")
                    continue
                try:
                    member_parts = checked_parts(member.filename)
                except Refused as exc:
                    saved.refuse(name, str(exc))
                    continue
                target = _inside(folder, member_parts)
                if target is None:
                    saved.refuse(name, OUTSIDE)
                    continue
                if member.flag_bits & 0x1:
                    saved.refuse(name, "encrypted")
                    continue
                try:
                    with zf.open(member) as source:
                        budget -= _copy(source, target, budget, saved)
                except _TooLarge:
                    saved.refuse(name, f"the zip unpacks to more than {_mb(limits.max_bytes)}",
                                 limit=True)
                    return
                if target not in saved.files:
                    saved.files.append(target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        saved.refuse(label, f"not a readable zip file ({exc})")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _save_file(label: str, stream: IO[bytes], root: Path, limits: Limits, saved: Saved) -> None:
    try:
        target = _inside(root, [plain_name(label)])
    except Refused as exc:
        saved.refuse(label, str(exc))
        return
    if target is None:
        saved.refuse(label, OUTSIDE)
        return
    try:
        _copy(stream, target, limits.max_bytes, saved)
    except _TooLarge:
        saved.refuse(label, f"larger than {_mb(limits.max_bytes)}", limit=True)
        return
    except OSError as exc:
        saved.refuse(label, f"could not be saved ({_reason(exc)})")
        return
    if target not in saved.files:
        saved.files.append(target)


def _save_one(item: Incoming, root: Path, limits: Limits, saved: Saved) -> None:
    label, stream = (item[0] or "", item[1]) if isinstance(item, tuple) else (Path(item).name, None)
    base = PurePosixPath(label.replace("\\", "/")).name
    save, label = (_unzip, base) if base.lower().endswith(".zip") else (_save_file, label)
    try:  # the name first: a path with a NUL cannot even be opened
        plain_name(PurePosixPath(base).stem if save is _unzip else label)
    except Refused as exc:
        saved.refuse(label, str(exc))
        return
    if stream is not None:
        save(label, stream, root, limits, saved)
        return
    try:
        received = Path(item).open("rb")  # type: ignore[arg-type]
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        saved.refuse(label, f"could not be read ({_reason(exc)})")
        return
    with received:
        save(label, received, root, limits, saved)


def save_uploads(items: Iterable[Incoming], uploads_dir: Path, limits: Limits = Limits()
                 ) -> Saved:
    """Copy uploads into `uploads_dir`, unpacking zips: the one way both the chat UI and the
    HTTP API store what they receive.

    An item is a file as the web server stored it (named by its base name), or a pair of the
    name a client gave (only its base name counts) and a binary stream. A file keeps its own
    cleaned name, so a new version replaces the old copy once `settle` says it was ingested; a
    zip's files go to a folder named after the zip.
    """
    uploads_dir.mkdir(parents=True, exist_ok=True)
    root = uploads_dir.resolve()
    saved = Saved(root=root)
    items = list(items)
    if len(items) > limits.max_files:
        saved.refuse(f"{len(items)} files", f"more than the limit of {limits.max_files} per "
                     "upload", limit=True)
        return saved
    for item in items:
        _save_one(item, root, limits, saved)
    return saved


def receive(items: Iterable[Incoming], settings: Settings) -> Saved:
    """`save_uploads` into `<data_dir>/uploads` with the limits `settings` set: the call the
    chat UI's documents tab and `POST /ingest` both make."""
    return save_uploads(items, uploads_folder(settings), Limits.of(settings))


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
