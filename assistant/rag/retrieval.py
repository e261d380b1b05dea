"""Retrieval over the store: dense, lexical (BM25) or both fused, with source filters and an
optional MMR rerank, as a LangChain retriever; plus the public `Source`.

Hybrid search fuses the two rankings by reciprocal rank fusion (RRF): each index contributes
`weight / (rrf_k + rank)` per chunk. Ranks, not scores, are fused because BM25 and cosine
scores live on unrelated scales. Whatever ranked a passage, its `score` is the cosine similarity
of its vector to the question's, so the relevance gate keeps one meaning in every mode.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.errors import NoMatchingSourceError
from ingest.store import Store
from ingest.walk import user_path

Mode = Literal["hybrid", "dense", "lexical"]
Rerank = Literal["none", "mmr"]


@dataclass
class Source:
    """A retrieved passage: its file, its text, its cosine similarity and chunk metadata."""

    source: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc: Document) -> Source:
        meta = dict(doc.metadata)
        return cls(
            source=str(meta.get("source", "")), text=doc.page_content,
            score=float(meta.pop("score", 0.0)), metadata=meta,
        )

    def to_document(self) -> Document:
        return Document(page_content=self.text, metadata={**self.metadata, "score": self.score})


def match_sources(patterns: Sequence[str], known: Sequence[str]) -> list[str]:
    """The known sources that any pattern selects; every pattern must select at least one.

    A pattern is an fnmatch glob matched against the full source path or the file name; a path
    to an existing file or folder (relative or with ~) also selects that file or what is under it.
    """
    chosen: set[str] = set()
    for pattern in patterns:
        resolved = str(user_path(pattern).resolve())
        hits = {
            s for s in known
            if fnmatch.fnmatchcase(s, pattern) or fnmatch.fnmatchcase(Path(s).name, pattern)
            or s == resolved or s.startswith(resolved.rstrip("/") + "/")
        }
        if not hits:
            raise NoMatchingSourceError(
                f"No ingested document matches the source filter '{pattern}'.",
                fix="list the documents with 'assistant sources' and use a file name, a path or "
                "a glob such as '*.pdf'",
            )
        chosen |= hits
    return sorted(chosen)


def rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int) -> list[str]:
    """Ids ordered by reciprocal rank fusion of `rankings` (each best first)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, chunk in enumerate(ranking, start=1):
            fused[chunk] = fused.get(chunk, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda c: -fused[c])


def mmr(query: np.ndarray, vectors: np.ndarray, k: int, weight: float) -> list[int]:
    """Maximal marginal relevance: indices of `k` rows relevant to `query` yet unlike each other.

    `weight` trades relevance (1.0) against novelty (0.0); rows and query are unit vectors.
    """
    relevance = vectors @ query
    chosen: list[int] = []
    left = list(range(len(vectors)))
    while left and len(chosen) < k:
        if chosen:
            redundancy = (vectors[left] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(left))
        best = left[int(np.argmax(weight * relevance[left] - (1 - weight) * redundancy))]
        chosen.append(best)
        left.remove(best)
    return chosen


def _unit(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms == 0, 1.0, norms)


class Retriever(BaseRetriever):
    """The `k` best chunks for a query; each Document's metadata holds its cosine `score`.

    `search` is the full interface (per-call `k` and source filter); `invoke` uses the defaults.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    embeddings: Embeddings
    k: int = 4
    mode: Mode = "hybrid"
    depth: int = 100  # candidates taken from each index before fusion
    rrf_k: int = 10  # below the usual 60: better on SciFact's train claims (see README)
    lexical_weight: float = 1.0  # RRF weight of the BM25 ranking (the dense ranking has 1.0)
    rerank: Rerank = "none"
    mmr_weight: float = 0.7

    def select(self, sources: Sequence[str] | None) -> list[str] | None:
        """The ingested sources that the patterns select (see `match_sources`); None = all."""
        if sources and self.store.lexical is not None:
            self.store.sync()
        return self._match(sources)

    def _match(self, sources: Sequence[str] | None) -> list[str] | None:
        """`select` on a store whose BM25 index is already in step with Chroma."""
        if not sources:
            return None
        store = self.store
        if store.lexical is None:
            known = [d.source for d in store.documents()]  # reads every chunk's metadata
        else:  # in every mode the BM25 index's source table is the cheap list
            known = store.lexical.sources()
        return match_sources(sources, known)

    def search(
        self,
        query: str,
        k: int | None = None,
        sources: Sequence[str] | None = None,
        also: Sequence[str] = (),
    ) -> list[Source]:
        """The best passages for `query`, best first, from `sources` only when given.

        `also`: other wordings of the same request (a follow-up with the question before it);
        their rankings are fused with the query's, but a passage's score stays its similarity
        to `query`, so the relevance gate judges the request itself.
        """
        k = self.k if k is None else k
        if k <= 0:
            return []
        store = self.store
        lexical = store.lexical if self.mode != "dense" else None
        if store.lexical is not None and (lexical is not None or sources):
            store.sync()  # one metadata read unless another process or a crash changed Chroma
        selected = self._match(sources)
        where = {"source": {"$in": selected}} if selected is not None else None
        fused = self.rerank == "mmr" or self.mode == "hybrid" or bool(also)
        pool = max(k, self.depth) if fused else k
        query_vector = _unit(self.embeddings.embed_query(query))

        rankings: list[list[str]] = []
        weights: list[float] = []
        known_hits: dict[str, tuple[str, dict[str, Any], float]] = {}
        for n, wording in enumerate([query, *also]):
            if self.mode in ("dense", "hybrid"):
                wording_vector = _unit(self.embeddings.embed_query(wording)) if n else query_vector
                hits = store.query(wording_vector.tolist(), pool, where)
                rankings.append([h.id for h in hits])
                weights.append(1.0)
                if not n:  # other wordings' hits are scored against the query below
                    known_hits.update({h.id: (h.text, h.metadata, h.score) for h in hits})
            if lexical is not None:
                rankings.append([i for i, _ in lexical.search(wording, pool, selected)])
                weights.append(self.lexical_weight)
        ranked = rrf(rankings, weights, self.rrf_k)

        keep = max(k, 4 * k) if self.rerank == "mmr" else k
        ranked = ranked[:keep]
        need = [i for i in ranked if i not in known_hits or self.rerank == "mmr"]
        fetched = store.get(need)
        found: list[tuple[str, str, dict[str, Any], float, Any]] = []
        for chunk in ranked:
            if chunk in fetched:
                text, meta, vector = fetched[chunk]
                score = float(_unit(vector) @ query_vector)
                found.append((chunk, text, meta, score, vector))
            elif chunk in known_hits:
                text, meta, score = known_hits[chunk]
                found.append((chunk, text, meta, score, None))
        if self.rerank == "mmr" and found:
            order = mmr(query_vector, _unit([f[4] for f in found]), k, self.mmr_weight)
            found = [found[i] for i in order]
        return [
            Source(source=str(meta.get("source", "")), text=text, score=score,
                   metadata={**meta, "id": chunk})
            for chunk, text, meta, score, _ in found[:k]
        ]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [s.to_document() for s in self.search(query)]

