"""The assistant's errors. Each carries a one-line `fix` that the CLI prints after the message.

Both this hierarchy and the ingest errors (`ingest.errors.IngestError`) derive from
`ingest.errors.FixableError`, which lives in `ingest` since `ingest` never imports `assistant`;
`ERRORS` is the tuple to catch for everything a user can fix.
"""

from __future__ import annotations

from ingest.errors import (
    EmbeddingMismatchError,
    FixableError,
    IngestError,
    PathNotFoundError,
    StoreError,
    UnknownEmbeddingError,
    describe,
)


class AssistantError(FixableError):
    """Base class of errors raised while answering or configuring."""


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


class NoMatchingSourceError(AssistantError):
    """A source filter matches no ingested document."""


ERRORS: tuple[type[Exception], ...] = (FixableError,)

__all__ = [
    "ERRORS",
    "AssistantError",
    "ChecksumError",
    "ConfigError",
    "EmbeddingMismatchError",
    "EmptyIndexError",
    "EmptyQuestionError",
    "FixableError",
    "IngestError",
    "ModelCallError",
    "ModelNotAvailableError",
    "NoMatchingSourceError",
    "PathNotFoundError",
    "StoreError",
    "UnknownBackendError",
    "UnknownEmbeddingError",
    "describe",
]
