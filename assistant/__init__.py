"""Conversational question answering over your own documents, offline, with citations."""

from assistant.api import AnswerStream, Assistant
from assistant.errors import (
    ERRORS,
    AssistantError,
    ChecksumError,
    ConfigError,
    EmptyIndexError,
    EmptyQuestionError,
    IngestError,
    ModelNotAvailableError,
    NoMatchingSourceError,
    UnknownBackendError,
)
from assistant.rag.chain import Answer
from assistant.rag.retrieval import Source
from assistant.settings import Settings
from ingest import DocumentInfo, IngestReport

__all__ = [
    "ERRORS",
    "Answer",
    "AnswerStream",
    "Assistant",
    "AssistantError",
    "ChecksumError",
    "ConfigError",
    "DocumentInfo",
    "EmptyIndexError",
    "EmptyQuestionError",
    "IngestError",
    "IngestReport",
    "ModelNotAvailableError",
    "NoMatchingSourceError",
    "Settings",
    "Source",
    "UnknownBackendError",
]
