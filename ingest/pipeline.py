"""Files -> pages -> chunks -> embeddings -> Chroma upserts, incremental by content hash.

Memory stays bounded: files are read one at a time (each at most `max_file_mb`), and chunks
wait only until one embedding batch is full (`ingest.writer`, which also overlaps embedding
with store writes).

Crash safety comes from the write order: a changed file's new chunks (deterministic ids) are
upserted first and its old chunks deleted after, so an interrupted run leaves either the old
version or an incomplete new one (`n_chunks` says which), and the next run finishes the job.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.chunking import split
from ingest.errors import DocumentNotFoundError
from ingest.formats.base import NoTextError
from ingest.loaders import UnreadableFileError, load_file, skip_reason
from ingest.report import IngestReport
from ingest.store import DocumentInfo, Store
from ingest.walk import check_paths, list_files, special_reason, user_path
from ingest.writer import BatchWriter, FileJob, OnFile, OnProgress, Progress

__all__ = ["IngestReport", "Progress", "check_paths", "ingest_paths", "remove_document"]

EMBED_BATCH = 1024  # chunks per embedding call, across files
MAX_FILE_MB = 50.0


def _chunks(
    path: Path, data: bytes, size: int, overlap: int, max_file_mb: float = MAX_FILE_MB
) -> list[tuple[str, dict[str, Any]]]:
    pages = load_file(path, data, size, max_unpacked_mb=max_file_mb)
    for page in pages:
        page.metadata.setdefault("file_name", path.name)
    return [(c.page_content, dict(c.metadata)) for c in split(pages, size, overlap)]


def ingest_paths(
    paths: Iterable[str | Path],
    store: Store,
    embeddings: Embeddings,
    chunk_size: int,
    chunk_overlap: int,
    prune: bool = False,
    on_file: OnFile | None = None,
    on_progress: OnProgress | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_file_mb: float = MAX_FILE_MB,
    follow_symlinks: bool = False,
) -> IngestReport:
    """Ingest files and folders into `store`; a bad file is reported, never fatal.

    Args:
        on_file: called with (source, status) as each file is settled; status is one of
            added, updated, unchanged, failed.
        on_progress: called with a `Progress` after each file and each written batch.
        include, exclude: globs filtering the files found in folders (see `walk.matches`).
        max_file_mb: larger files (or zip-based files unpacking to more) fail with a reason
            instead of being read.
        follow_symlinks: read symlinked files found in a folder even when their target lies
            outside it (see `walk.list_files`).
    """
    roots = check_paths(paths)
    report = IngestReport()
    known: dict[str, list[DocumentInfo]] = {}
    for info in store.documents():
        known.setdefault(info.source, []).append(info)

    listing = list_files(roots, include, exclude, follow_symlinks)
    report.skipped.extend(listing.skipped)
    writer = BatchWriter(store, embeddings, report, EMBED_BATCH, len(listing.files),
                         on_file, on_progress)
    try:
        for path in listing.files:
            _ingest_one(path, known.get(str(path), []), writer, chunk_size, chunk_overlap,
                        max_file_mb)
            writer.file_done()
        writer.flush()
    finally:
        writer.close()

    if prune:
        for source in known:
            if not Path(source).exists():
                store.delete(source)
                report.removed.append(source)
    return report


def remove_document(store: Store, path: str | Path) -> str:
    """Delete the document stored for `path` (relative paths resolve against the current
    folder; the file itself may be gone); returns its source."""
    source = str(user_path(path).resolve())
    if not any(info.source == source for info in store.documents()):
        raise DocumentNotFoundError(
            f"No document for {path} in the knowledge base",
            fix="'assistant sources' lists the ingested paths",
        )
    store.delete(source)
    return source


def _read(path: Path, max_file_mb: float) -> bytes:
    """The file's bytes; OSError if it vanished or cannot be read, UnreadableFileError if it
    is not a regular file or over the size limit. The limit is checked on the size first (a
    huge file costs nothing) and again on the bytes read: a file in /proc says 0 bytes, a log
    may grow, so at most the limit + 1 byte is ever read."""
    # O_NONBLOCK: a file swapped for a FIFO after the walk must not block the open
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if reason := special_reason(info.st_mode):
            raise UnreadableFileError(reason)
        mb = info.st_size / 2**20
        if mb > max_file_mb:
            raise UnreadableFileError(
                f"too large ({mb:.3g} MB; the limit is {max_file_mb:g} MB, "
                "set ASSISTANT_MAX_FILE_MB to raise it)"
            )
        limit = int(max_file_mb * 2**20)
        data = _read_at_most(fd, limit + 1, info.st_size + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnreadableFileError(
            f"too large (over the {max_file_mb:g} MB limit when read, though its size says "
            f"{mb:.3g} MB; set ASSISTANT_MAX_FILE_MB to raise it)"
        )
    return data


def _read_at_most(fd: int, cap: int, hint: int) -> bytes:
    """Up to `cap` bytes from `fd`, in reads of about `hint` bytes (a regular file's size + 1:
    one read, then the empty one that says it ended)."""
    chunks: list[bytes] = []
    total = 0
    while total < cap:
        chunk = os.read(fd, min(cap - total, max(hint, 1 << 16)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _ingest_one(
    path: Path,
    versions: list[DocumentInfo],
    writer: BatchWriter,
    chunk_size: int,
    chunk_overlap: int,
    max_file_mb: float,
) -> None:
    source = str(path)
    try:
        data = _read(path, max_file_mb)
    except OSError as exc:  # vanished, unreadable, a broken symlink
        writer.fail(source, f"cannot read ({exc.strerror or exc})")
        return
    except UnreadableFileError as exc:
        writer.fail(source, str(exc))
        return
    if reason := skip_reason(path, data[:8192]):
        writer.report.skipped.append((source, reason))  # binary content, no telling suffix
        return
    digest = hashlib.sha256(data).hexdigest()
    done = any(v.content_hash == digest and v.complete for v in versions)
    status = "updated" if any(v.complete for v in versions) else "added"
    stale = any(v.content_hash != digest for v in versions)  # chunks to delete once done
    if done and not stale:
        writer.finish(FileJob(source, digest, "unchanged"))
    elif done:  # the new version was written but a crash kept the old one: drop it
        writer.finish(FileJob(source, digest, status, stale))
    else:
        try:
            chunks = _chunks(path, data, chunk_size, chunk_overlap, max_file_mb)
        except NoTextError as exc:  # a photo: nothing wrong with it, nothing to read
            writer.report.skipped.append((source, str(exc)))
            return
        except UnreadableFileError as exc:
            writer.fail(source, str(exc))
            return
        if not chunks:  # the splitter dropped everything (whitespace the loader kept)
            writer.fail(source, "no text found")
            return
        writer.add(FileJob(source, digest, status, stale), chunks)
