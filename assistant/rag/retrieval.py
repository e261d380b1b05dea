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
from ingest.store import Hit, Store
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
        return Document(page_content=self.text, id=self.metadata.get("id"),
                        metadata={**self.metadata, "score": self.score})


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
    """The `k` best chunks for a query, as LangChain Documents: `id` the chunk id, metadata the
    chunk's (`source`, `chunk`, `content_hash`...) plus `id` and its cosine `score`.

    `invoke(query, k=..., sources=[...], also=[...])` takes the per-call options of `search`
    (which gives `Source`s); plain `invoke(query)` uses the defaults.
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
        return match_sources(sources, self.store.sources()) if sources else None

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
        found = self.invoke(query, k=k, sources=sources, also=also)
        return [Source.from_document(d) for d in found]

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        sources: Sequence[str] | None = None,
        also: Sequence[str] = (),
    ) -> list[Document]:
        k = self.k if k is None else k
        if k <= 0:
            return []
        selected = self.select(sources)
        fused = self.rerank == "mmr" or self.mode == "hybrid" or bool(also)
        pool = max(k, self.depth) if fused else k
        query_vector = _unit(self.embeddings.embed_query(query))
        rankings, weights, known = self._rankings([query, *also], query_vector, pool, selected)
        keep = max(k, 4 * k) if self.rerank == "mmr" else k
        found, vectors = self._scored(rrf(rankings, weights, self.rrf_k)[:keep], known,
                                      query_vector)
        if self.rerank == "mmr" and found:
            order = mmr(query_vector, _unit([vectors[h.id] for h in found]), k, self.mmr_weight)
            found = [found[i] for i in order]
        return [
            Document(page_content=h.text, id=h.id,
                     metadata={**h.metadata, "id": h.id, "score": h.score})
            for h in found[:k]
        ]

    def _rankings(
        self, wordings: list[str], query_vector: np.ndarray, pool: int,
        selected: list[str] | None,
    ) -> tuple[list[list[str]], list[float], dict[str, Hit]]:
        """Each index's ranking of chunk ids for each wording, their RRF weights, and the dense
        hits of the query itself (other wordings' hits are scored against the query later)."""
        where = {"source": {"$in": selected}} if selected is not None else None
        lexical = self.mode != "dense"
        rankings: list[list[str]] = []
        weights: list[float] = []
        known: dict[str, Hit] = {}
        for n, wording in enumerate(wordings):
            if self.mode in ("dense", "hybrid"):
                vector = _unit(self.embeddings.embed_query(wording)) if n else query_vector
                hits = self.store.query(vector.tolist(), pool, where)
                rankings.append([h.id for h in hits])
                weights.append(1.0)
                if not n:
                    known.update({h.id: h for h in hits})
            if lexical:  # the store syncs its BM25 index with Chroma as it reads it
                ranked = self.store.lexical_search(wording, pool, selected)
                rankings.append([i for i, _ in ranked])
                weights.append(self.lexical_weight)
        return rankings, weights, known

    def _scored(
        self, ranked: list[str], known: dict[str, Hit], query_vector: np.ndarray
    ) -> tuple[list[Hit], dict[str, list[float]]]:
        """The ranked chunks as hits scored by cosine similarity to the query, in rank order,
        with the vectors read for them (all of them for MMR, which compares them)."""
        mmr_rerank = self.rerank == "mmr"
        fetched = self.store.get([i for i in ranked if i not in known or mmr_rerank])
        found: list[Hit] = []
        vectors: dict[str, list[float]] = {}
        for chunk in ranked:
            if chunk in fetched:
                text, meta, vector = fetched[chunk]
                found.append(Hit(chunk, text, meta, float(_unit(vector) @ query_vector)))
                vectors[chunk] = vector
            elif chunk in known and not mmr_rerank:  # MMR needs the vector: gone since
                found.append(known[chunk])
        return found, vectors
