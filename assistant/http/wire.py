"""The OpenAI chat-completions wire format: requests in, answers and stream chunks out.

Pure functions and pydantic models, no I/O, so that `assistant.http.server` only wires routes. The
assistant answers from its own prompts, so a request's system messages and sampling options are
accepted (clients send them by default) and ignored, except `max_tokens` (or
`max_completion_tokens`), which shortens the answer; the answer's sources travel in extra
fields that OpenAI clients keep (`completion.sources` with the official Python client).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.rag.chain import Answer, History
from ingest.names import display_name

MODEL_ALIAS = "docs-assistant"  # always accepted, whatever `Settings.llm` names
MAX_QUESTION_CHARS = 4000  # a longer "question" would crowd the passages out of the context
MAX_HISTORY_TURNS = 8  # earlier turns only feed the condense step; older ones add little


class ApiError(Exception):
    """A request the server refuses, with the HTTP status and OpenAI error fields to send."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = (
            status, message, param, code, type
        )

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)


def error_body(
    message: str, type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope, which its clients turn into typed exceptions; the message has
    its invisible characters escaped, as it may quote what a client sent."""
    return {"error": {"message": display_name(message), "type": type, "param": param,
                      "code": code}}


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """The fields this server reads; the other OpenAI options are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1, description="Longest answer, in tokens; the "
                                   "server's `max_answer_tokens` caps it")
    max_completion_tokens: int | None = Field(None, ge=1, description="OpenAI's newer name "
                                              "for max_tokens; it wins when both are given")
    sources: list[str] | None = Field(
        None, description="Not OpenAI's: answer from these documents only (globs or paths)"
    )


def answer_limit(request: ChatRequest) -> int | None:
    """The token limit the request asks for, if any (`max_completion_tokens` first)."""
    return request.max_completion_tokens or request.max_tokens


def checked_text(text: str, param: str) -> str:
    """`text`, unless it holds a NUL or a lone surrogate (JSON allows "\\ud800", UTF-8 does
    not, so no model or response could carry it): then a 400 naming `param`."""
    if "\0" in text:
        raise ApiError(400, "The text holds a NUL character.", param=param)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "The text is not valid Unicode (it holds a lone surrogate).",
                       param=param) from None
    return text


def message_text(message: ChatMessage, index: int) -> str:
    """A message's text: a string, or the text parts of a content list (nothing else)."""
    param = f"messages.{index}.content"
    if message.content is None or isinstance(message.content, str):
        return checked_text(message.content or "", param)
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(400, f"Only text content is supported, not '{part.type}'.",
                           param=param)
        texts.append(checked_text(part.text, param))
    return "\n".join(texts)


def conversation(request: ChatRequest) -> tuple[str, History]:
    """The question (the last user message) and the history: earlier user/assistant pairs.

    System and developer messages are skipped. A user message without a reply before the next
    one is dropped, as the chat UI does with a failed turn. Every text and `sources` pattern is
    checked (`checked_text`).
    """
    if request.n not in (None, 1):
        raise ApiError(400, "Only one choice per request is supported (n=1).", param="n")
    for number, pattern in enumerate(request.sources or []):
        checked_text(pattern, f"sources.{number}")
        if pattern.startswith("~") and pattern != "~" and not pattern.startswith("~/"):
            raise ApiError(400, "Only '~/...' paths are understood, not another user's '~name'.",
                           param=f"sources.{number}")
    turns: list[tuple[str, str, int]] = []
    for index, message in enumerate(request.messages):
        if message.role in ("tool", "function"):
            raise ApiError(400, f"Messages with role '{message.role}' are not supported.",
                           param=f"messages.{index}.role")
        if message.role in ("user", "assistant"):
            turns.append((message.role, message_text(message, index), index))
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, "The last message must be the user's question.", param="messages")
    question, last = turns[-1][1].strip(), turns[-1][2]
    if not question:
        raise ApiError(400, "The question is empty.", param=f"messages.{last}.content")
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(400, f"The question is longer than {MAX_QUESTION_CHARS} characters.",
                       param=f"messages.{last}.content")
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for role, text, _ in turns[:-1]:
        if role == "user":
            pending = text
        elif pending is not None:
            pairs.append((pending, text))
            pending = None
    return question, pairs[-MAX_HISTORY_TURNS:]


Show = Callable[[str], str]  # a stored source path -> what the client sees


def sources_json(answer: Answer, show: Show = str) -> list[dict[str, Any]]:
    """The answer's passages, numbered as its [n] markers number them, their paths `show`n;
    `section` is the heading path that holds the passage ("Part > Chapter"), or None."""
    cited = set(answer.citations)
    return [
        {"number": n, "source": show(s.source), "section": s.metadata.get("section"),
         "text": s.text, "score": round(s.score, 4),
         "cited": n in cited, "withheld": int(s.metadata.get("withheld", 0)),
         "metadata": _shown_metadata(s.metadata, show)}
        for n, s in enumerate(answer.sources, start=1)
    ]


def _shown_metadata(metadata: dict[str, Any], show: Show) -> dict[str, Any]:
    if "source" not in metadata:
        return metadata
    return {**metadata, "source": show(str(metadata["source"]))}


def answer_fields(answer: Answer, show: Show = str) -> dict[str, Any]:
    """The extra top-level fields that carry what an OpenAI response has no place for."""
    return {"sources": sources_json(answer, show), "refused": answer.refused,
            "refusal_reason": answer.reason or None}


class Completion:
    """Builds one response's payloads, all sharing an id, a timestamp and the model name."""

    def __init__(self, model: str, show: Show = str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.show = show

    def _base(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None}

    def full(self, answer: Answer) -> dict[str, Any]:
        """A non-streamed `chat.completion`."""
        message = {"role": "assistant", "content": answer.text, "refusal": None}
        choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
        return {**self._base("chat.completion"), "choices": [choice],
                "usage": answer.usage or None, **answer_fields(answer, self.show)}

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None,
              **extra: Any) -> dict[str, Any]:
        """One `chat.completion.chunk` of a stream."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {**self._base("chat.completion.chunk"), "choices": [choice], **extra}

    def last_chunk(self, answer: Answer) -> dict[str, Any]:
        """The closing chunk: the sources, `usage` (all the answer's model calls), and
        `answer`, the checked text whose [n] markers index them (the streamed deltas are the
        model's draft, numbered as it read them)."""
        return self.chunk({}, "stop", answer=answer.text, usage=answer.usage or None,
                          **answer_fields(answer, self.show))


def models_list(names: list[str]) -> dict[str, Any]:
    return {"object": "list", "data": [model_card(name) for name in names]}


def model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "docs-assistant"}
