"""Errors raised while reading files or writing the vector store; each carries a fix."""

from __future__ import annotations


class FixableError(Exception):
    """Root of the project's errors: `str(err)` says what went wrong, `err.fix` how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class IngestError(FixableError):
    """Base class of errors raised while ingesting."""


class PathNotFoundError(IngestError):
    """A path given to ingest does not exist."""


class UnknownEmbeddingError(IngestError):
    """An embedding backend name that is not in the registry."""


class EmbeddingMismatchError(IngestError):
    """The collection was built with another embedding model."""


class StoreError(IngestError):
    """The vector store cannot be opened or reached."""
