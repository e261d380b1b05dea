"""Errors raised while reading files or writing the vector store; each carries a fix."""

from __future__ import annotations


class FixableError(Exception):
    """Root of the project's errors: `str(err)` says what went wrong, `err.fix` how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


def describe(exc: BaseException) -> str:
    """One line for people: "What went wrong. Fix: how to fix it." """
    text = str(exc).strip() or type(exc).__name__
    if text[-1] not in ".!?)":
        text += "."
    fix = getattr(exc, "fix", "")
    return f"{text} Fix: {fix}." if fix else text


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


class DocumentNotFoundError(IngestError):
    """A path given to remove that has no document in the store."""


class KnowledgeBaseBusyError(IngestError):
    """Another process (or thread) is writing to the same knowledge base."""
