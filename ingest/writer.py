"""Embedding batches and store writes for one ingest run, overlapped on two threads.

The calling thread embeds chunks in batches that span files (so many small files still fill
the model's batches; sentence-transformers sorts each batch by length). A background thread
writes each embedded batch to the store while the next one is embedded, so Chroma's indexing
costs little wall time. The queue between them holds one batch: memory stays bounded.

All store writes happen on the background thread, in order: a file's old version is deleted
only after the batch holding its last new chunk is written (see `ingest.pipeline` on crashes).
Reports and callbacks happen on the calling thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.report import IngestReport
from ingest.store import Store, chunk_id


@dataclass(frozen=True)
class Progress:
    """How far a run is: files handled (read, then queued, kept or failed) and chunks written."""

    files_done: int
    files_total: int
    chunks: int
    seconds: float

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds if self.seconds > 0 else 0.0


OnFile = Callable[[str, str], None]
OnProgress = Callable[[Progress], None]


@dataclass(eq=False)
class FileJob:
    source: str
    digest: str
    status: str  # added | updated | unchanged
    stale: bool = False  # other versions of the file are stored: delete them when done
    left: int = 0  # chunks not yet put in a batch


@dataclass
class _Batch:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    finishing: list[FileJob] = field(default_factory=list)  # files whose last chunk is here


class BatchWriter:
    """Collects the chunks of files, embeds them `batch_size` at a time and writes them."""

    def __init__(
        self,
        store: Store,
        embeddings: Embeddings,
        report: IngestReport,
        batch_size: int,
        files_total: int,
        on_file: OnFile | None = None,
        on_progress: OnProgress | None = None,
    ) -> None:
        self.store, self.embeddings, self.report = store, embeddings, report
        self.batch_size, self.files_total = batch_size, files_total
        self.on_file, self.on_progress = on_file, on_progress
        self.rows: list[tuple[str, str, dict[str, Any], FileJob]] = []
        self.files_done = 0
        self.started = time.perf_counter()
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=1)
        self._done: queue.SimpleQueue[tuple[int, list[FileJob]]] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name="ingest-writer", daemon=True)
        self._thread.start()
        self._progress()

    # -- background thread ----------------------------------------------------------------------
    def _write(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking batches so that the caller never blocks
            try:
                if batch.ids:
                    self.store.upsert(batch.ids, batch.texts, batch.vectors, batch.metadatas)
                for file in batch.finishing:
                    if file.stale:
                        self.store.delete(file.source, keep_hash=file.digest)
                self._done.put((len(batch.ids), batch.finishing))
            except BaseException as exc:  # handed to the calling thread, raised there
                self._error = exc

    # -- calling thread ---------------------------------------------------------------------------
    def add(self, file: FileJob, chunks: list[tuple[str, dict[str, Any]]]) -> None:
        """Queue a file's chunks; they are written once enough chunks make a batch."""
        file.left = len(chunks)
        for i, (text, meta) in enumerate(chunks):
            meta = {**meta, "source": file.source, "content_hash": file.digest, "chunk": i,
                    "n_chunks": len(chunks)}
            self.rows.append((chunk_id(file.source, file.digest, i), text, meta, file))
        while len(self.rows) >= self.batch_size:
            self._embed_and_submit()

    def finish(self, file: FileJob) -> None:
        """Settle a file that needs no new chunks: unchanged, or written by an earlier run
        that was interrupted before it deleted the old version."""
        if file.stale:
            self._submit(_Batch(finishing=[file]))
        else:
            self._settle(file)

    def fail(self, source: str, reason: str) -> None:
        self.report.failed.append((source, reason))
        if self.on_file:
            self.on_file(source, "failed")

    def file_done(self) -> None:
        self.files_done += 1
        self._drain()
        self._progress()

    def flush(self) -> None:
        """Embed and hand over the chunks still waiting for a full batch."""
        while self.rows:
            self._embed_and_submit()

    def close(self) -> None:
        """Wait until everything handed over is written, report it, and raise the writer's
        error if it had one. Call it in `finally`: after an error in the calling thread it
        still writes the batches already embedded, which a later run then reuses."""
        self._queue.put(None)
        self._thread.join()
        self._drain()

    def _embed_and_submit(self) -> None:
        rows, self.rows = self.rows[: self.batch_size], self.rows[self.batch_size :]
        batch = _Batch(ids=[r[0] for r in rows], texts=[r[1] for r in rows],
                       metadatas=[r[2] for r in rows])
        for *_, file in rows:
            file.left -= 1
            if file.left == 0:
                batch.finishing.append(file)
        batch.vectors = self.embeddings.embed_documents(batch.texts)
        self._submit(batch)

    def _submit(self, batch: _Batch) -> None:
        self._raise_writer_error()
        self._queue.put(batch)  # waits while the writer still holds a batch: bounded memory
        self._drain()

    def _drain(self) -> None:
        written = False
        while True:
            try:
                chunks, files = self._done.get_nowait()
            except queue.Empty:
                break
            self.report.chunks += chunks
            for file in files:
                self._settle(file)
            written = True
        if written:
            self._progress()
        self._raise_writer_error()

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _settle(self, file: FileJob) -> None:
        getattr(self.report, file.status).append(file.source)
        if self.on_file:
            self.on_file(file.source, file.status)

    def _progress(self) -> None:
        if self.on_progress:
            self.on_progress(Progress(self.files_done, self.files_total, self.report.chunks,
                                      time.perf_counter() - self.started))
