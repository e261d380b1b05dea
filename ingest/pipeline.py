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

EMBED_BATCH = 128


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

    for path in iter_files(roots):
        source = str(path)
        status = _ingest_one(path, source, known.get(source, []), store, embeddings,
                             chunk_size, chunk_overlap, report)
        if on_file:
            on_file(source, status)

    if prune:
        for source in known:
            if not Path(source).exists():
                store.delete(source)
                report.removed.append(source)
    return report


def _ingest_one(
    path: Path,
    source: str,
    versions: list[DocumentInfo],
    store: Store,
    embeddings: Embeddings,
    chunk_size: int,
    chunk_overlap: int,
    report: IngestReport,
) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.failed.append((source, f"cannot read ({exc.strerror or exc})"))
        return "failed"
    digest = hashlib.sha256(data).hexdigest()
    done = any(v.content_hash == digest and v.complete for v in versions)
    if done and len(versions) == 1:
        report.unchanged.append(source)
        return "unchanged"
    if not done:
        try:
            chunks = _chunks(path, data, chunk_size, chunk_overlap)
        except UnreadableFileError as exc:
            report.failed.append((source, str(exc)))
            return "failed"
        _write(source, digest, chunks, store, embeddings)
        report.chunks += len(chunks)
    store.delete(source, keep_hash=digest)
    if any(v.complete for v in versions):
        report.updated.append(source)
        return "updated"
    report.added.append(source)
    return "added"


def _write(
    source: str,
    digest: str,
    chunks: list[tuple[str, dict[str, Any]]],
    store: Store,
    embeddings: Embeddings,
) -> None:
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        texts = [text for text, _ in batch]
        metas = [
            {**meta, "source": source, "content_hash": digest, "chunk": start + i,
             "n_chunks": len(chunks)}
            for i, (_, meta) in enumerate(batch)
        ]
        ids = [chunk_id(source, digest, start + i) for i in range(len(batch))]
        store.upsert(ids, texts, embeddings.embed_documents(texts), metas)
