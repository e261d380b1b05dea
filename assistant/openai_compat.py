"""The OpenAI chat-completions wire format: requests in, answers and stream chunks out.

Pure functions and pydantic models, no I/O, so that `assistant.server` only wires routes. The
assistant answers from its own prompts, so a request's system messages and sampling options are
accepted (clients send them by default) and ignored; the answer's sources travel in extra
fields that OpenAI clients keep (`completion.sources` with the official Python client).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.chain import Answer, History

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
    """OpenAI's error envelope, which its clients turn into typed exceptions."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


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
    sources: list[str] | None = Field(
        None, description="Not OpenAI's: answer from these documents only (globs or paths)"
    )


def message_text(message: ChatMessage, index: int) -> str:
    """A message's text: a string, or the text parts of a content list (nothing else)."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(400, f"Only text content is supported, not '{part.type}'.",
                           param=f"messages.{index}.content")
        texts.append(part.text)
    return "\n".join(texts)


def conversation(request: ChatRequest) -> tuple[str, History]:
    """The question (the last user message) and the history: earlier user/assistant pairs.

    System and developer messages are skipped. A user message without a reply before the next
    one is dropped, as the chat UI does with a failed turn.
    """
    if request.n not in (None, 1):
        raise ApiError(400, "Only one choice per request is supported (n=1).", param="n")
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


def sources_json(answer: Answer) -> list[dict[str, Any]]:
    """The answer's passages, numbered as its [n] markers number them."""
    cited = set(answer.citations)
    return [
        {"number": n, "source": s.source, "text": s.text, "score": round(s.score, 4),
         "cited": n in cited, "withheld": int(s.metadata.get("withheld", 0)),
         "metadata": s.metadata}
        for n, s in enumerate(answer.sources, start=1)
    ]


def answer_fields(answer: Answer) -> dict[str, Any]:
    """The extra top-level fields that carry what an OpenAI response has no place for."""
    return {"sources": sources_json(answer), "refused": answer.refused,
            "refusal_reason": answer.reason or None}


class Completion:
    """Builds one response's payloads, all sharing an id, a timestamp and the model name."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def _base(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None}

    def full(self, answer: Answer) -> dict[str, Any]:
        """A non-streamed `chat.completion`."""
        message = {"role": "assistant", "content": answer.text, "refusal": None}
        choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
        return {**self._base("chat.completion"), "choices": [choice], "usage": None,
                **answer_fields(answer)}

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None,
              **extra: Any) -> dict[str, Any]:
        """One `chat.completion.chunk` of a stream."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {**self._base("chat.completion.chunk"), "choices": [choice], **extra}

    def last_chunk(self, answer: Answer) -> dict[str, Any]:
        """The closing chunk: the sources, and `answer`, the checked text whose [n] markers
        index them (the streamed deltas are the model's draft, numbered as it read them)."""
        return self.chunk({}, "stop", answer=answer.text, **answer_fields(answer))


def models_list(names: list[str]) -> dict[str, Any]:
    return {"object": "list", "data": [model_card(name) for name in names]}


def model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "docs-assistant"}
