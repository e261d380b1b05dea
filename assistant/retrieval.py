"""Dense retrieval over the Chroma store as a LangChain retriever, plus the public `Source`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ingest.store import Store


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


class DenseRetriever(BaseRetriever):
    """The `k` chunks most similar to the query; each Document's metadata holds its `score`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    embeddings: Embeddings
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.store.query(self.embeddings.embed_query(query), self.k)
        return [
            Document(page_content=h.text, metadata={**h.metadata, "id": h.id, "score": h.score})
            for h in hits
        ]
