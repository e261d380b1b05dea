"""All configuration in one place; the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "docs-assistant"


class Settings(BaseSettings):
    """Settings, read from `ASSISTANT_*` environment variables (and a `.env` file) or arguments."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Vector store and models")
    llm: str = Field("llamacpp:qwen2.5-coder-1.5b", description="Answer model, 'provider:model'")
    embedding: str = Field("sentence-transformers:all-MiniLM-L6-v2", description="Embedding model")
    chroma_url: str | None = Field(None, description="Chroma server URL; None = embedded store")
    collection: str = "documents"
    k: int = Field(4, ge=0, le=50, description="Passages retrieved per question")
    chunk_size: int = Field(600, ge=50, description="Characters per chunk")
    chunk_overlap: int = Field(80, ge=0, description="Characters shared by neighbouring chunks")
    max_file_mb: float = Field(
        50, gt=0, description="Larger files are reported as failed instead of being ingested"
    )
    follow_symlinks: bool = Field(
        False, description="Read symlinked files found in a folder whose target is outside it"
    )
    min_relevance: float = Field(
        0.2, description="Cosine similarity under which a passage counts as unrelated"
    )
    decision: Literal["calibrated", "rules"] = Field(
        "calibrated", description="Answer or refuse by the fitted score (llama.cpp models; "
        "others use the rules), or by the hand-written grounding rules"
    )
    answer_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Score under which the answer is withheld; None = "
        "the fitted default (higher refuses more)"
    )
    retrieval: Literal["hybrid", "dense", "lexical"] = Field(
        "hybrid", description="Search: BM25 and vectors fused (hybrid), vectors or BM25 alone"
    )
    fusion_depth: int = Field(
        100, ge=1, le=1000, description="Candidates each index contributes to hybrid fusion"
    )
    rrf_k: int = Field(10, ge=1, description="Reciprocal rank fusion constant: higher = flatter")
    lexical_weight: float = Field(
        1.0, ge=0.0, description="Weight of the BM25 ranking in fusion (the vector ranking has 1)"
    )
    rerank: Literal["none", "mmr"] = Field(
        "none", description="Rerank the fused passages: none, or mmr (relevant yet diverse)"
    )
    context_tokens: int = Field(
        400, ge=0, description="Passage tokens the answer model reads at most; 0 = no limit"
    )
    max_answer_tokens: int = Field(200, ge=16)
    temperature: float = 0.0
    n_ctx: int = Field(4096, ge=512, description="llama.cpp context window")
    threads: int | None = Field(None, description="llama.cpp threads; None = all cores")
    slots: int | None = Field(
        None, ge=1, le=64, description="Answers generated at once (llama.cpp slots, each with "
        "its own n_ctx and prompt cache); None = one per two cores, 1 to 4, one per 2 GiB at most"
    )
    prompt_cache_mb: int = Field(
        0, ge=0, description="MiB of RAM llama.cpp may fill with prompts its slots moved on "
        "from, so a repeated one is not read again; 0 = none (each slot still keeps its last)"
    )
    queue_size: int = Field(
        8, ge=0, description="Questions that may wait for a free slot; beyond that, `serve` "
        "answers 503 with Retry-After and the chat UI retries"
    )
    queue_timeout_s: float = Field(
        60, gt=0, description="Longest wait for a slot before a 503 (the UI retries)"
    )
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    ollama_base_url: str | None = None
    api_key: SecretStr | None = Field(
        None, description="Key that `assistant serve` requires (Authorization: Bearer KEY)"
    )
    allowed_hosts: str = Field(
        "", description="Host names the API and chat UI answer besides localhost, comma-separated"
    )
    max_request_bytes: int = Field(
        20_000_000, ge=1024, description="Largest request body `assistant serve` accepts"
    )
    upload_max_mb: float = Field(
        50, gt=0, description="Largest upload (UI or API): one file, or a zip's unpacked total (MB)"
    )
    upload_max_files: int = Field(1000, ge=1, description="Most files in one upload (UI or API)")

    @classmethod
    def from_options(cls, **options: Any) -> Settings:
        """Settings from the environment, overridden by the command-line options that were given."""
        return cls(**{key: value for key, value in options.items() if value is not None})
