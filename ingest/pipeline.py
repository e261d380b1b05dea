"""Files -> pages -> chunks -> embeddings -> Chroma upserts, incremental by content hash.

Crash safety comes from the write order: a changed file's new chunks (deterministic ids) are
upserted first and its old chunks deleted after, so an interrupted run leaves either the old
version or an incomplete new one (`n_chunks` says which), and the next run finishes the job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.chunking import split
from ingest.errors import PathNotFoundError
from ingest.loaders import UnreadableFileError, load_file
from ingest.store import DocumentInfo, Store, chunk_id

EMBED_BATCH = 1024  # chunks per embedding call, across files


@dataclass
class IngestReport:
    """What one ingest run did; `failed` holds (path, reason) pairs."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0

    @property
    def ok(self) -> bool:
        """False only when files were given and none of them could be ingested."""
        return not self.failed or bool(self.added or self.updated or self.unchanged)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.failed)} failed, {self.chunks} chunks written"
        )


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files under `paths` (folders walked recursively, hidden entries skipped), sorted, each
    once; a broken symlink in a folder is yielded too, so that it is reported, not ignored."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        found: list[Path] = []
        if path.is_file():
            found = [path.resolve()]
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.is_file():
                    found.append(child.resolve())
                elif child.is_symlink() and not child.exists():
                    found.append(child.parent.resolve() / child.name)
        for file in found:
            if file not in seen:
                seen.add(file)
                yield file


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


def _chunks(path: Path, data: bytes, size: int, overlap: int) -> list[tuple[str, dict[str, Any]]]:
    pages = load_file(path, data)
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
    on_file: Callable[[str, str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into `store`; a bad file is reported, never fatal."""
    roots = check_paths(paths)
    report = IngestReport()
    known: dict[str, list[DocumentInfo]] = {}
    for info in store.documents():
        known.setdefault(info.source, []).append(info)

    writer = _Writer(store, embeddings, report, on_file)
    for path in iter_files(roots):
        _ingest_one(path, known.get(str(path), []), writer, chunk_size, chunk_overlap)
    writer.flush()

    if prune:
        for source in known:
            if not Path(source).exists():
                store.delete(source)
                report.removed.append(source)
    return report


def _ingest_one(
    path: Path,
    versions: list[DocumentInfo],
    writer: _Writer,
    chunk_size: int,
    chunk_overlap: int,
) -> None:
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        writer.fail(source, f"cannot read ({exc.strerror or exc})")
        return
    digest = hashlib.sha256(data).hexdigest()
    done = any(v.content_hash == digest and v.complete for v in versions)
    status = "updated" if any(v.complete for v in versions) else "added"
    if done and len(versions) == 1:
        writer.finish(_File(source, digest, "unchanged"))
    elif done:  # the new version was written but a crash kept the old one: drop it
        writer.finish(_File(source, digest, status))
    else:
        try:
            chunks = _chunks(path, data, chunk_size, chunk_overlap)
        except UnreadableFileError as exc:
            writer.fail(source, str(exc))
            return
        writer.add(_File(source, digest, status, left=len(chunks)), chunks)


@dataclass
class _File:
    source: str
    digest: str
    status: str  # added | updated | unchanged
    left: int = 0  # chunks not yet written


class _Writer:
    """Embeds and upserts chunks in batches that span files, so that many small files still
    fill the embedding model's batches. A file is finished (its old version deleted, its
    status reported) only once all its chunks are written."""

    def __init__(
        self,
        store: Store,
        embeddings: Embeddings,
        report: IngestReport,
        on_file: Callable[[str, str], None] | None,
    ) -> None:
        self.store, self.embeddings, self.report, self.on_file = store, embeddings, report, on_file
        self.rows: list[tuple[str, str, dict[str, Any], _File]] = []

    def add(self, file: _File, chunks: list[tuple[str, dict[str, Any]]]) -> None:
        for i, (text, meta) in enumerate(chunks):
            meta = {**meta, "source": file.source, "content_hash": file.digest, "chunk": i,
                    "n_chunks": len(chunks)}
            self.rows.append((chunk_id(file.source, file.digest, i), text, meta, file))
        if len(self.rows) >= EMBED_BATCH:
            self.flush(full_batches_only=True)

    def flush(self, full_batches_only: bool = False) -> None:
        while self.rows and (len(self.rows) >= EMBED_BATCH or not full_batches_only):
            batch, self.rows = self.rows[:EMBED_BATCH], self.rows[EMBED_BATCH:]
            texts = [text for _, text, _, _ in batch]
            self.store.upsert([row[0] for row in batch], texts,
                              self.embeddings.embed_documents(texts), [row[2] for row in batch])
            self.report.chunks += len(batch)
            for *_, file in batch:
                file.left -= 1
                if file.left == 0:
                    self.finish(file)

    def finish(self, file: _File) -> None:
        if file.status != "unchanged":
            self.store.delete(file.source, keep_hash=file.digest)
        getattr(self.report, file.status).append(file.source)
        if self.on_file:
            self.on_file(file.source, file.status)

    def fail(self, source: str, reason: str) -> None:
        self.report.failed.append((source, reason))
        if self.on_file:
            self.on_file(source, "failed")
