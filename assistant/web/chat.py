"""The chat's logic without Gradio: answering a turn, the settings variants, turn records.

`respond` turns `Assistant.stream` into chat messages (escaped as `assistant.web.format`
explains); `Variants` gives each browser session the assistant for the model, number of
passages and retrieval mode it chose, sharing one index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.backends import weights
from assistant.capacity import BusyError, Capacity, Turn
from assistant.errors import ERRORS, ConfigError
from assistant.rag.chain import Answer
from assistant.web.format import (
    format_answer,
    format_busy,
    format_error,
    format_waiting,
    message_text,
    neutralise,
    source_name,
)

if TYPE_CHECKING:
    from assistant.api import AnswerStream, Assistant

log = logging.getLogger(__name__)

RETRIEVAL_MODES = ["hybrid", "dense", "lexical"]
BUSY_RETRIES = 3  # busy answers retried before the error is shown


def respond(
    assistant: Assistant, question: str, history: Sequence[tuple[str, str]],
    scope: Sequence[str] | None = None, *, pause: Callable[[float], None] = time.sleep,
) -> Generator[tuple[str, Answer | None], None, None]:
    """The chat message while the answer streams, then the formatted answer with the `Answer`.

    The answer holds one of `assistant.capacity`'s slots (the gate `assistant serve` uses too)
    while it is written; when all are taken the message says so and the turn is retried, a
    few times. Closing this generator (Gradio does when the page goes away) closes the answer
    stream, which stops the model, and gives the slot back."""
    turn: Turn | None = None
    stream: AnswerStream | None = None
    pieces: Iterator[str] | None = None
    try:
        turn = yield from _take_slot(assistant.capacity, pause)
        stream = assistant.stream(question,
                                  history=list(history), sources=list(scope or ()) or None)
        pieces = iter(stream)
        text = ""
        for piece in pieces:
            text += piece
            yield neutralise(text), None
        assert stream.answer is not None
        yield format_answer(stream.answer), stream.answer
    except ERRORS as exc:
        yield format_error(exc), None
    except Exception as exc:  # a backend failure should read as a message, not a stack trace
        log.exception("answering failed")
        yield format_error(RuntimeError(f"{type(exc).__name__}: {exc}")), None
    finally:
        _close(pieces, stream)
        if turn is not None:
            turn.leave()


def _take_slot(capacity: Capacity, pause: Callable[[float], None]
               ) -> Generator[tuple[str, None], None, Turn]:
    """A turn on `capacity`; while none is free, messages saying so, a countdown each second
    (so that a closed page is noticed between them); `BusyError` after `BUSY_RETRIES` retries."""
    retries = 0
    while True:
        if capacity.running >= capacity.slots:
            yield format_waiting(), None
        try:
            return capacity.enter()
        except BusyError as exc:
            retries += 1
            if retries > BUSY_RETRIES:
                raise
            for left in range(max(1, exc.retry_after), 0, -1):
                yield format_busy(left, retries, BUSY_RETRIES), None
                pause(1)


def _close(pieces: Iterator[str] | None, stream: AnswerStream | None) -> None:
    """Stop an answer that is still being written (a no-op for a finished one)."""
    for part in (pieces, stream):
        close = getattr(part, "close", None)
        if close is not None:
            close()


def model_choices(current: str) -> list[str]:
    """The answer models offered: the configured one, the bundled local models, the fake.

    A fixed list, not free text: a browser must not make the server load an arbitrary path."""
    offered = [current, *(f"llamacpp:{name}" for name in weights.KNOWN_MODELS), "fake"]
    return list(dict.fromkeys(offered))


class Variants:
    """The assistant for each (model, k, retrieval) chosen in a session, built once, sharing
    the index and the embeddings; a model is loaded when first chosen for a question."""

    def __init__(self, base: Assistant) -> None:
        self.base = base
        self.models = model_choices(base.settings.llm)
        self._made: dict[tuple[str, int, str], Assistant] = {}
        self._lock = threading.Lock()

    def get(self, llm: str, k: int, retrieval: str) -> Assistant:
        s = self.base.settings
        key = (llm, int(k), retrieval)
        if key == (s.llm, s.k, s.retrieval):
            return self.base
        if llm not in self.models or retrieval not in RETRIEVAL_MODES:
            raise ConfigError(f"Unknown setting {llm!r} / {retrieval!r}.",
                              fix="pick one of the choices offered")
        with self._lock:
            if key not in self._made:
                # one loaded model per name: a variant for (llm, s.k, s.retrieval) owns it
                model = self.base if llm == s.llm else self._made.get((llm, s.k, s.retrieval))
                try:
                    if model is None:
                        model = self.base.with_settings(llm=llm)
                        # loaded here, once: two first questions at once would each load it
                        model.llm  # noqa: B018
                        self._made[(llm, s.k, s.retrieval)] = model
                    self._made[key] = model.with_settings(k=int(k), retrieval=retrieval)
                except ValueError as exc:  # pydantic's check of the values
                    raise ConfigError(f"Cannot use these settings: {exc}",
                                      fix="pick values within the offered ranges") from exc
            return self._made[key]


def turn_record(question: str, history: Sequence[tuple[str, str]], answer: Answer, model: str,
          scope: Sequence[str]) -> dict[str, Any]:
    """What feedback needs about an answered question (kept in the browser with the chat)."""
    shown = [] if answer.refused else answer.cited_sources
    return {"question": question, "answer": answer.text, "refused": answer.refused,
            "sources": list(dict.fromkeys(source_name(s) for s in shown)),
            "history": [list(pair) for pair in history], "model": model, "scope": list(scope),
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


def plain_messages(value: Sequence[Any] | None) -> list[dict[str, str]]:
    """Gradio's chatbot value as plain {"role", "content"} dicts."""
    return [{"role": str(m.get("role")), "content": message_text(m.get("content", ""))}
            for m in value or [] if isinstance(m, dict)]
