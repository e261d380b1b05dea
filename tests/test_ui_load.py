"""The chat UI under load, without a browser: each answer holds a turn of `assistant.capacity`,
says when it is busy and retries, and gives its turn back however it ends; the page's events
sit in the queues they should."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from assistant import Assistant, Settings
from assistant.web import app as ui
from assistant.web import chat as ui_chat
from assistant.web import format as fmt

WAITING = fmt.format_waiting()


class EndlessChat(BaseChatModel):
    """Writes "word " until closed (or `words` of them); records when its stream is closed."""

    words: int = 10_000
    fail: bool = False
    events: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "endless"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="word [1]"))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.events.append("started")
        try:
            for n in range(self.words):
                if self.fail and n == 3:
                    raise RuntimeError("the model fell over")
                yield ChatGenerationChunk(message=AIMessageChunk(content="word "))
            yield ChatGenerationChunk(message=AIMessageChunk(content="[1]"))
        finally:
            self.events.append("closed")


def assistant_with(tmp_path: Path, llm: BaseChatModel | None = None, **settings: Any
                   ) -> Assistant:
    """An assistant over one small document, the quoting fake model unless `llm` is given."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "widget.txt").write_text("The Widget chip shipped in 2024 after two delays.\n")
    chosen = Settings(data_dir=tmp_path / "kb", llm="fake", embedding="fake", **settings)
    assistant = Assistant(chosen, llm=llm)
    assistant.ingest([docs])
    return assistant


def countdown(seconds: int, retry: int) -> list[tuple[str, None]]:
    return [(fmt.format_busy(left, retry, ui_chat.BUSY_RETRIES), None)
            for left in range(seconds, 0, -1)]


def test_busy_says_so_counts_down_and_retries(tmp_path: Path) -> None:
    assistant = assistant_with(tmp_path, slots=1, queue_size=0)
    held = assistant.capacity.enter()  # another question (say, from the API) holds the slot
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            held.leave()  # the other answer ends during the countdown

    steps = list(ui_chat.respond(assistant, "When did the Widget chip ship?", [], pause=pause))
    # the slot was held for a moment: the first guess of an answer's time, 10 s, is asked
    assert steps[:11] == [(WAITING, None), *countdown(10, 1)]
    assert pauses == [1] * 10
    final, answer = steps[-1]
    assert answer is not None and answer.text == "The Widget chip shipped in 2024 after two " \
                                                 "delays. [1]"
    assert fmt.BUSY_LABEL not in final and fmt.SOURCES_MARK in final
    assert (assistant.capacity.running, assistant.capacity.waiting) == (0, 0)


def test_busy_is_retried_a_few_times_then_shown_with_its_fix(tmp_path: Path) -> None:
    assistant = assistant_with(tmp_path, slots=1, queue_size=0)
    held = assistant.capacity.enter()
    pauses: list[float] = []
    steps = list(ui_chat.respond(assistant, "When did the Widget chip ship?", [],
                                 pause=pauses.append))
    assert steps[:-1] == [(WAITING, None), *countdown(10, 1), (WAITING, None), *countdown(10, 2),
                          (WAITING, None), *countdown(10, 3), (WAITING, None)]
    assert len(pauses) == 30
    assert steps[-1] == (f"{fmt.ERROR_LABEL} All 1 answer slots are busy and 0 questions are "
                         "waiting&#46; Fix&#58; try again in 10 s&#46;", None)
    assert assistant.capacity.running == 1  # only the other question's turn
    held.leave()
    assert assistant.capacity.running == 0


def test_busy_messages_are_not_history() -> None:
    messages = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": WAITING},
                {"role": "user", "content": "Q2"},
                {"role": "assistant", "content": fmt.format_busy(3, 1, 3)},
                {"role": "user", "content": "Q3"}, {"role": "assistant", "content": "A3"}]
    assert fmt.history_pairs(messages) == [("Q3", "A3")]


def test_the_turn_is_left_after_an_answer_and_after_errors(tmp_path: Path) -> None:
    empty = Assistant(Settings(data_dir=tmp_path / "empty", llm="fake", embedding="fake"))
    [(message, _)] = ui_chat.respond(empty, "Anything?", [])
    assert message.startswith(fmt.ERROR_LABEL) and "No documents" in message
    assert empty.capacity.running == 0
    model = EndlessChat(words=5, fail=True)
    failing = assistant_with(tmp_path, model)
    *_, (message, answer) = ui_chat.respond(failing, "When did the Widget chip ship?", [])
    assert answer is None
    assert message == f"{fmt.ERROR_LABEL} RuntimeError&#58; the model fell over&#46;"
    assert failing.capacity.running == 0 and model.events == ["started", "closed"]


def test_an_answer_that_is_finished_leaves_its_turn(tmp_path: Path) -> None:
    assistant = assistant_with(tmp_path, EndlessChat(words=4))
    *_, (_, answer) = ui_chat.respond(assistant, "When did the Widget chip ship?", [])
    assert answer is not None and answer.text == "word word word word [1]"
    assert assistant.capacity.running == 0


def test_closing_an_answer_stops_the_model_and_frees_its_slot(tmp_path: Path) -> None:
    """What Gradio does when the page goes away: it closes the handler's generator."""
    model = EndlessChat()
    assistant = assistant_with(tmp_path, model, slots=2)
    steps = ui_chat.respond(assistant, "When did the Widget chip ship?", [])
    texts = [next(steps)[0] for _ in range(3)]
    assert texts == ["word", "word word", "word word word"]
    assert assistant.capacity.running == 1 and model.events == ["started"]
    steps.close()
    assert model.events == ["started", "closed"]  # at once, not after 10,000 words
    assert assistant.capacity.running == 0


def test_closing_the_page_handler_closes_the_answer(tmp_path: Path) -> None:
    from assistant.web.page import Page

    model = EndlessChat()
    assistant = assistant_with(tmp_path, model)
    page = Page(assistant)
    steps = page.chat("When did the Widget chip ship?", [], {}, [], "fake", 4, "hybrid")
    for _ in range(4):
        _, messages, _ = next(steps)
    assert messages[-1]["content"] == "word word word"
    steps.close()
    assert model.events == ["started", "closed"] and assistant.capacity.running == 0


def test_a_waiting_question_is_told_so(tmp_path: Path) -> None:
    assistant = assistant_with(tmp_path, slots=1, queue_size=1)
    held = assistant.capacity.enter()
    steps = ui_chat.respond(assistant, "When did the Widget chip ship?", [])
    assert next(steps) == (WAITING, None)  # before it blocks in line
    held.leave()
    assert fmt.SOURCES_MARK in list(steps)[-1][0]


def test_questions_and_writes_have_queues_of_their_own(tmp_path: Path) -> None:
    app = ui.build_app(assistant_with(tmp_path, slots=3))
    queues = {f.api_name: (f.concurrency_id, f.concurrency_limit) for f in app.fns.values()}
    assert queues.pop("chat") == ("questions", 3)
    assert [queues.pop(name) for name in ("run", "run_1", "run_2")] == [("writes", 1)] * 3
    # the quick events: each its own queue, with the app's default limit (none, see launch)
    assert {limit for _, limit in queues.values()} == {"default"}
    ids = [concurrency_id for concurrency_id, _ in queues.values()]
    assert len(set(ids)) == len(ids) and not {"questions", "writes"} & set(ids)
    assert all(re.fullmatch(r"\d+", i) for i in ids)  # gradio's own per-function ids
