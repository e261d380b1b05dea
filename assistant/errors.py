"""The assistant's errors. Each carries a one-line `fix` that the CLI prints after the message.

Ingest errors (`ingest.errors.IngestError`) form a sibling hierarchy, since `ingest` never
imports `assistant`; `ERRORS` names both roots for callers that want to catch everything.
"""

from __future__ import annotations

from ingest.errors import (
    EmbeddingMismatchError,
    IngestError,
    PathNotFoundError,
    StoreError,
    UnknownEmbeddingError,
)


class AssistantError(Exception):
    """Base class: `str(err)` says what went wrong, `err.fix` how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class ConfigError(AssistantError):
    """A setting has a value that cannot work."""


class UnknownBackendError(ConfigError):
    """A model name whose provider is not in the registry."""


class ModelNotAvailableError(ConfigError):
    """The package that ships a model (or a backend's client library) is not installed."""


class ChecksumError(AssistantError):
    """A model file does not match its published sha256."""


class EmptyIndexError(AssistantError):
    """A question was asked before any document was ingested."""


class EmptyQuestionError(AssistantError):
    """The question is empty."""


class ModelCallError(AssistantError):
    """The answer model failed or could not be reached."""


ERRORS: tuple[type[Exception], ...] = (AssistantError, IngestError)

__all__ = [
    "ERRORS",
    "AssistantError",
    "ChecksumError",
    "ConfigError",
    "EmbeddingMismatchError",
    "EmptyIndexError",
    "EmptyQuestionError",
    "IngestError",
    "ModelCallError",
    "ModelNotAvailableError",
    "PathNotFoundError",
    "StoreError",
    "UnknownBackendError",
    "UnknownEmbeddingError",
]
