"""The Chroma collection: opened embedded or over HTTP, tagged with the embedding model it holds.

Every chunk carries `source`, `content_hash`, `chunk` and `n_chunks` in its metadata, so the
collection alone says which documents are in it and whether each was written completely.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ingest.errors import EmbeddingMismatchError, StoreError

PAGE = 5000  # rows fetched per `get` when scanning metadata


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


def _client(data_dir: Path, chroma_url: str | None) -> Any:
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
    return chromadb.PersistentClient(path=str(path), settings=settings)


class Store:
    """A Chroma collection holding chunks embedded by one embedding model."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    @classmethod
    def open(
        cls, data_dir: Path, collection: str, embedding_id: str, chroma_url: str | None = None
    ) -> Store:
        """Open (or create) `collection`; refuse one built with another embedding model."""
        from chromadb.errors import InvalidArgumentError

        client = _client(data_dir, chroma_url)
        try:
            col = client.get_or_create_collection(
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
        recorded = (col.metadata or {}).get("embedding")
        if recorded != embedding_id:
            raise EmbeddingMismatchError(
                f"Collection '{collection}' was built with embedding '{recorded}', "
                f"not '{embedding_id}'.",
                fix=f"set ASSISTANT_EMBEDDING='{recorded}', or use another collection "
                "(ASSISTANT_COLLECTION) and ingest again",
            )
        return cls(col)

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(
        self,
        ids: list[str],
        texts: list[str],
        vectors: list[list[float]],
        metadatas: list[dict[str, Any]],
    ) -> None:
        self.collection.upsert(ids=ids, documents=texts, embeddings=vectors, metadatas=metadatas)

    def delete(self, source: str, keep_hash: str | None = None) -> None:
        """Delete a document's chunks (all of them, or all but those of `keep_hash`)."""
        where: dict[str, Any] = {"source": source}
        if keep_hash is not None:
            where = {"$and": [where, {"content_hash": {"$ne": keep_hash}}]}
        self.collection.delete(where=where)

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

    def query(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        """The `k` chunks nearest to `vector`, best first."""
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
