"""The Chroma collection: opened embedded or over HTTP, tagged with the embedding model it holds,
with a BM25 index of the same chunks kept in step (`ingest.lexical`).

Every chunk carries `source`, `content_hash`, `chunk` and `n_chunks` in its metadata, so the
collection alone says which documents are in it and whether each was written completely.

Keeping the two indexes in step: Chroma is the truth and the lexical index follows it. Every
write goes to Chroma first, then to the lexical index, and is bracketed by two random
"generation" tokens stored in the collection's metadata (one before, one after). The lexical
index records the token it last matched. When the two tokens differ (a crash between the two
writes, or another process writing to the same Chroma server) `sync` lists the chunk ids on both
sides and copies or drops only the difference, so no write is lost and nothing is rebuilt.
`sync` runs on open and inside every read of the lexical index (`lexical_search`,
`sources`), so a reader never sees it behind Chroma; when nothing changed it costs one
metadata read.

With a Chroma server (`chroma_url`) the lexical index lives in the local data dir, one file per
server and collection. Several workers sharing a server each keep their own index: a worker
that sees a token it did not write reconciles its index by ids before it answers.

Several processes on one knowledge base: only the holder of its write lock (`ingest.lock`,
`Store.writing`) writes to Chroma; `sync` and every read leave Chroma as they found it. An
embedded client keeps the vector index in memory, so a token this process did not write also
means "reload the client from disk" (`catch_up`), before a read and before a write: a stale
client would miss the other's chunks in searches and, writing, save its stale index over
theirs. Loading a client (Chroma then applies its log to the index and may save it) and each
batch written take a short lock of their own, so neither meets the other half-done.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ingest.errors import EmbeddingMismatchError, StoreError
from ingest.lexical import LexicalIndex
from ingest.lock import OnWait, io_lock, lock_path, write_lock

PAGE = 5000  # rows fetched per `get` when scanning metadata
GENERATION = "generation"  # key of the write token in the collection metadata and lexical index
UNWRITTEN = ""  # what the lexical index records for a collection without a token yet


def chunk_id(source: str, content_hash: str, index: int) -> str:
    """Deterministic id: re-ingesting the same file content writes the same ids."""
    return hashlib.sha1(f"{source}\0{content_hash}\0{index}".encode()).hexdigest()


@dataclass(frozen=True)
class DocumentInfo:
    """One ingested document as the store sees it."""

    source: str
    content_hash: str
    chunks: int
    complete: bool


@dataclass(frozen=True)
class Hit:
    """One chunk returned by a similarity query; `score` is cosine similarity."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


def _client(data_dir: Path, chroma_url: str | None, fresh: bool = False) -> Any:
    """A Chroma client; `fresh` makes a new embedded one instead of the process's cached one,
    so that it loads the vector index from disk as other processes left it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=settings,
            )
        except Exception as exc:  # chromadb raises several types for an unreachable server
            raise StoreError(
                f"Cannot reach the Chroma server at {chroma_url} ({exc}).",
                fix="start it with 'chroma run --path DIR --port N' or unset ASSISTANT_CHROMA_URL",
            ) from exc
    path = Path(data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    if fresh:
        from chromadb.api.shared_system_client import SharedSystemClient

        # Forget the cached system without stopping it: collections still held elsewhere keep
        # working for reads until they are dropped.
        SharedSystemClient._identifier_to_system.pop(str(path), None)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _open_collection(client: Any, collection: str, embedding_id: str) -> Any:
    from chromadb.errors import InvalidArgumentError

    try:
        return client.get_or_create_collection(
            collection,
            metadata={"embedding": embedding_id},
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
    except InvalidArgumentError as exc:  # e.g. a name Chroma does not accept
        raise StoreError(
            f"Cannot open collection '{collection}' ({exc}).",
            fix="set ASSISTANT_COLLECTION to 3-512 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit",
        ) from exc


def _lexical_path(data_dir: Path, collection: str, chroma_url: str | None) -> Path:
    name = collection
    if chroma_url:  # one index per server: the same collection name may exist on several
        name += "-" + hashlib.sha1(chroma_url.rstrip("/").encode()).hexdigest()[:10]
    return Path(data_dir) / "lexical" / f"{name}.sqlite3"


class Store:
    """A Chroma collection holding chunks embedded by one embedding model, plus their BM25 index.

    Args:
        collection: the Chroma collection.
        lexical: its BM25 index; None for a store without lexical search.
        reopen: returns the collection afresh, to read the metadata other processes wrote.
        lock: the knowledge base's write lock file (`ingest.lock`); None for no lock.
        reconnect: returns a fresh (collection, reopen) pair from a new embedded client, for
            when another process has written (see `catch_up`); None with a Chroma server.
        io: the lock file held around each write of an embedded store (`ingest.lock.io_lock`).

    Only a holder of the write lock (`with store.writing(): ...`) may call `upsert` or
    `delete`; reading, including `sync`, never writes to Chroma.
    """

    def __init__(
        self,
        collection: Any,
        lexical: LexicalIndex | None = None,
        reopen: Any = None,
        lock: Path | None = None,
        reconnect: Callable[[], tuple[Any, Callable[[], Any]]] | None = None,
        io: Path | None = None,
    ) -> None:
        self.collection = collection
        self.lexical = lexical
        self._reopen = reopen
        self.lock = lock
        self._reconnect = reconnect
        self._io = io
        self._embedding = (collection.metadata or {}).get("embedding")
        # Write tokens this process wrote or has caught up with; any other one is news.
        self._known = {(collection.metadata or {}).get(GENERATION)}
        self._known_lock = threading.Lock()
        self._reconnecting = threading.Lock()

    @classmethod
    def open(
        cls, data_dir: Path, collection: str, embedding_id: str, chroma_url: str | None = None
    ) -> Store:
        """Open (or create) `collection`; refuse one built with another embedding model."""

        lock = lock_path(data_dir, collection, chroma_url)
        io = None if chroma_url else lock.with_suffix(".io")

        def connect(fresh: bool = False) -> tuple[Any, Callable[[], Any]]:
            with io_lock(io) if io else nullcontext():
                client = _client(data_dir, chroma_url, fresh)
                col = _open_collection(client, collection, embedding_id)
                if io:  # load the vector index now, while no batch is being written
                    with suppress(Exception):  # a damaged chunk: `assistant doctor` finds it
                        col.get(limit=1, include=["embeddings"])
            return col, lambda: client.get_collection(collection, embedding_function=None)

        col, reopen = connect()
        recorded = (col.metadata or {}).get("embedding")
        if recorded != embedding_id:
            raise EmbeddingMismatchError(
                f"Collection '{collection}' was built with embedding '{recorded}', "
                f"not '{embedding_id}'.",
                fix=f"set ASSISTANT_EMBEDDING='{recorded}', or use another collection "
                "(ASSISTANT_COLLECTION) and ingest again",
            )
        lexical = LexicalIndex(_lexical_path(data_dir, collection, chroma_url))
        # A server holds the only copy of its vector index; an embedded client holds its own.
        reconnect = None if chroma_url else lambda: connect(fresh=True)
        store = cls(col, lexical, reopen=reopen, lock=lock, reconnect=reconnect, io=io)
        store.sync()
        return store

    @contextmanager
    def writing(self, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold this knowledge base's write lock (see `ingest.lock.write_lock`)."""
        if self.lock is None:
            yield
            return
        with write_lock(self.lock, wait=wait, on_wait=on_wait):
            self.catch_up()  # write on top of what the last holder left, never over it
            yield

    def catch_up(self) -> str | None:
        """Reload the embedded client if another process wrote since this one last looked, and
        return the current write token.

        An embedded client keeps the vector index in memory and saves all of it on each write:
        one loaded before another process's write would save the old index over the new one,
        leaving that process's chunks without readable vectors. It would also miss them in
        searches. So a token this process neither wrote nor saw means: load afresh from disk.
        """
        token = self._token()
        with self._known_lock:
            if token in self._known:
                return token
        with self._reconnecting:  # one thread reloads; `_known_lock` stays free for writers
            with self._known_lock:
                if token in self._known:
                    return token
            if self._reconnect is not None:  # takes the io lock itself
                self.collection, self._reopen = self._reconnect()
            with self._known_lock:
                self._known.add(token)
        return token

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(
        self,
        ids: list[str],
        texts: list[str],
        vectors: list[list[float]],
        metadatas: list[dict[str, Any]],
    ) -> None:
        with self._writing_batch():
            before = self._begin()
            self.collection.upsert(ids=ids, documents=texts, embeddings=vectors,
                                   metadatas=metadatas)
            if self.lexical is not None:
                self.lexical.upsert(ids, texts, [str(m.get("source", "")) for m in metadatas])
            self._end(before)

    def delete(self, source: str, keep_hash: str | None = None) -> None:
        """Delete a document's chunks (all of them, or all but those of `keep_hash`)."""
        where: dict[str, Any] = {"source": source}
        if keep_hash is not None:
            where = {"$and": [where, {"content_hash": {"$ne": keep_hash}}]}
        ids = list(self.collection.get(where=where, include=[])["ids"])
        if not ids:
            return
        self.delete_ids(ids)

    def delete_ids(self, ids: list[str]) -> None:
        """Delete chunks by id, from Chroma and the lexical index."""
        with self._writing_batch():
            before = self._begin()
            self.collection.delete(ids=ids)
            if self.lexical is not None:
                self.lexical.delete(ids)
            self._end(before)

    def _writing_batch(self) -> AbstractContextManager[None]:
        return io_lock(self._io) if self._io else nullcontext()

    # -- keeping the lexical index in step with Chroma -------------------------------------------
    def _token(self) -> str | None:
        fresh = self._reopen() if self._reopen is not None else self.collection
        return (fresh.metadata or {}).get(GENERATION)

    def _set_token(self) -> str:
        token = uuid.uuid4().hex
        with self._known_lock:  # known before it is written: another thread may read it at once
            self._known.add(token)
        self.collection.modify(metadata={"embedding": self._embedding, GENERATION: token})
        return token

    def _begin(self) -> str | None:
        """Mark Chroma as "being written" before a write, so a crash mid-write is noticed.
        Returns the token that was there, if the lexical index matched it (it was in step)."""
        if self.lexical is None:
            return None
        current = self._token()
        in_step = current is not None and current == self.lexical.get_meta(GENERATION)
        mine = self._set_token()
        return mine if in_step else None

    def _end(self, mine: str | None) -> None:
        """Mark the write done; record it as matched only if nobody else wrote meanwhile."""
        if self.lexical is None:
            return
        untouched = mine is not None and self._token() == mine
        token = self._set_token()
        if untouched:
            self.lexical.set_meta(GENERATION, token)

    def sync(self, force: bool = False) -> int:
        """Bring the lexical index in step with Chroma, fixing only the difference.

        Cheap when nothing changed (one metadata read); `force` compares the ids even then.
        Returns how many chunks were fixed."""
        if self.lexical is None:
            return 0
        # A collection never written with tokens has none: the index records UNWRITTEN, since
        # only a writer (holding the lock) may put one in Chroma.
        token = self.catch_up() or UNWRITTEN
        if token == self.lexical.get_meta(GENERATION) and not force:
            return 0
        in_chroma = set(self.ids())
        in_lexical = self.lexical.ids()
        missing = sorted(in_chroma - in_lexical)
        extra = in_lexical - in_chroma
        self.lexical.delete(extra)
        for start in range(0, len(missing), PAGE):
            got = self.collection.get(ids=missing[start:start + PAGE],
                                      include=["documents", "metadatas"])
            self.lexical.upsert(
                list(got["ids"]),
                [t or "" for t in got["documents"] or []],
                [str((m or {}).get("source", "")) for m in got["metadatas"] or []],
            )
        # Record the token read before the diff: a write that raced with it changed the
        # token again, so the next sync looks once more.
        self.lexical.set_meta(GENERATION, token)
        return len(missing) + len(extra)

    def ids(self) -> list[str]:
        """Every chunk id, in Chroma's order."""
        ids: list[str] = []
        offset = 0
        while True:
            batch = list(self.collection.get(include=[], limit=PAGE, offset=offset)["ids"])
            ids.extend(batch)
            if len(batch) < PAGE:
                return ids
            offset += PAGE

    def get(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any], list[float]]]:
        """Text, metadata and vector of chunks, by id (ids no longer stored are left out)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return {
            i: (t or "", dict(m or {}), list(map(float, v)))
            for i, t, m, v in zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                                  vectors, strict=True)
        }

    def _metadatas(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            batch = got["metadatas"] or []
            rows.extend(dict(m) for m in batch if m)
            if len(batch) < PAGE:
                return rows
            offset += PAGE

    def documents(self) -> list[DocumentInfo]:
        """Every document in the collection, sorted by source."""
        counts: dict[tuple[str, str], int] = defaultdict(int)
        expected: dict[tuple[str, str], int] = {}
        for meta in self._metadatas():
            key = (str(meta.get("source", "")), str(meta.get("content_hash", "")))
            counts[key] += 1
            expected[key] = int(meta.get("n_chunks", 0))
        return sorted(
            (
                DocumentInfo(source, digest, n, complete=n == expected[(source, digest)])
                for (source, digest), n in counts.items()
            ),
            key=lambda d: (d.source, not d.complete),
        )

    def lexical_search(
        self, query: str, k: int, sources: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The `k` best (chunk id, BM25 score) pairs for free text, best first, from `sources`
        only when given; [] for a store without a lexical index. Syncs it first."""
        if self.lexical is None:
            return []
        self.sync()
        return self.lexical.search(query, k, sources)

    def sources(self) -> list[str]:
        """Every stored source, sorted: from the lexical index's source table (synced first)
        when there is one, else by reading every chunk's metadata."""
        if self.lexical is None:
            return sorted({d.source for d in self.documents()})
        self.sync()
        return self.lexical.sources()

    def query(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The `k` chunks nearest to `vector`, best first."""
        self.catch_up()
        if k <= 0 or self.count() == 0:
            return []
        got = self.collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=i, text=t or "", metadata=dict(m or {}), score=1.0 - float(d))
            for i, t, m, d in zip(
                got["ids"][0],
                (got["documents"] or [[]])[0],
                (got["metadatas"] or [[]])[0],
                (got["distances"] or [[]])[0],
                strict=True,
            )
        ]
