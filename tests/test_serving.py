"""`assistant serve` under load: the bounded queue's 503s, a disconnect that stops its answer,
`usage` and `max_tokens`. A slow fake model makes the timing visible without a real one
(tests/test_llamacpp_slots.py checks the same on llama.cpp itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant import Assistant, Settings
from assistant.backends.registry import QuotingFakeChat
from assistant.http.server import create_app
from tests.test_server import running

QUESTION = "What did Jensen Huang call the export controls?"


class SlowChat(QuotingFakeChat):
    """The quoting fake, written one word every `pause` seconds and then padded with "more"
    up to `max_tokens` words; it records the max_tokens it was given and when a stream ended."""

    pause: float = 0.02
    default_tokens: int = 8
    limits: list[int | None] = []
    ended: list[float] = []

    def words(self, messages: list[BaseMessage], **kwargs: Any) -> list[str]:
        self.limits.append(kwargs.get("max_tokens"))
        words = self.reply(str(messages[-1].content)).split()
        limit = kwargs.get("max_tokens") or self.default_tokens
        return (words + ["more"] * limit)[:limit]

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        words = self.words(messages, **kwargs)
        message = AIMessage(content=" ".join(words), usage_metadata={
            "input_tokens": 100, "output_tokens": len(words), "total_tokens": 100 + len(words)})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        words = self.words(messages, **kwargs)
        try:
            for word in words:
                time.sleep(self.pause)
                yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))
            yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata={
                "input_tokens": 100, "output_tokens": len(words),
                "total_tokens": 100 + len(words)}))
        finally:
            self.ended.append(time.monotonic())


@pytest.fixture
def slow(settings: Settings, sample_copy: Path) -> Iterator[tuple[Assistant, SlowChat, str]]:
    model = SlowChat(limits=[], ended=[])
    a = Assistant(settings.model_copy(update={"slots": 1, "queue_size": 1,
                                              "queue_timeout_s": 30}), llm=model)
    a.ingest([sample_copy])
    with running(create_app(a)) as url:
        yield a, model, url


def chat(url: str, stream: bool = False, **extra: Any) -> httpx.Response:
    body = {"model": "docs-assistant", "messages": [{"role": "user", "content": QUESTION}],
            "stream": stream, **extra}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_beyond_slots_and_queue_the_server_says_503_with_retry_after(slow: Any) -> None:
    a, model, url = slow
    model.default_tokens, model.pause = 200, 0.01  # each answer holds its slot ~2 s
    results: list[httpx.Response] = []
    for expected in ((1, 0), (1, 1)):  # one answering, then one waiting: slots 1 + queue 1
        threading.Thread(target=lambda: results.append(chat(url)), daemon=True).start()
        wait_for(lambda e=expected: (a.capacity.running, a.capacity.waiting) == e)
    started = time.monotonic()
    busy = chat(url)
    assert time.monotonic() - started < 1.0  # at once, not after the queue
    assert busy.status_code == 503
    assert int(busy.headers["retry-after"]) >= 1
    error = busy.json()["error"]
    assert error["type"] == "server_error" and error["code"] == "server_busy"
    assert error["message"].startswith(
        "All 1 answer slots are busy and 1 questions are waiting. Fix: try again in ")
    wait_for(lambda: len(results) == 2, timeout=30)
    assert sorted(r.status_code for r in results) == [200, 200]  # first come, first served
    assert (a.capacity.running, a.capacity.waiting) == (0, 0)


def test_a_closed_stream_stops_its_answer_and_frees_the_slot(slow: Any) -> None:
    a, model, url = slow
    model.default_tokens, model.pause = 2000, 0.02  # a 40 s answer if nobody stopped it
    with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=60, json={
            "model": "docs-assistant", "stream": True,
            "messages": [{"role": "user", "content": QUESTION}]}) as reply:
        lines = reply.iter_lines()
        while "more" not in next(lines):  # the answer is being written
            pass
        closed = time.monotonic()
    wait_for(lambda: model.ended and a.capacity.running == 0, timeout=5)
    assert model.ended[-1] - closed < 1.0
    model.default_tokens = 8
    started = time.monotonic()
    assert chat(url).status_code == 200  # the next one starts at once
    assert time.monotonic() - started < 3.0


def test_usage_is_counted_over_the_answers_model_calls(slow: Any) -> None:
    _, model, url = slow
    done = chat(url).json()
    # one draft call (no history, so no rewrite): 100 prompt tokens, 8 words
    assert done["usage"] == {"prompt_tokens": 100, "completion_tokens": 8, "total_tokens": 108}
    with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=60, json={
            "model": "docs-assistant", "stream": True,
            "messages": [{"role": "user", "content": QUESTION}]}) as reply:
        events = [line for line in reply.iter_lines() if line.startswith("data: {")]
    assert '"usage": {"prompt_tokens": 100, "completion_tokens": 8, "total_tokens": 108}' \
        in events[-1]


@pytest.mark.parametrize(("asked", "given"), [
    ({}, None),  # the model's own limit (Settings.max_answer_tokens, set when it was built)
    ({"max_tokens": 5}, 5),
    ({"max_completion_tokens": 6, "max_tokens": 50}, 6),
    ({"max_tokens": 100_000}, 200),  # capped by Settings.max_answer_tokens
])
def test_max_tokens_reaches_the_model_up_to_the_cap(slow: Any, asked: dict, given: Any) -> None:
    _, model, url = slow
    done = chat(url, **asked)
    assert done.status_code == 200
    assert model.limits == [given]
    if given and given < 8:  # the answer really is that short: the draft had `given` words
        assert done.json()["usage"]["completion_tokens"] == given


def test_a_bad_max_tokens_is_a_400(slow: Any) -> None:
    _, _, url = slow
    reply = chat(url, max_tokens=0)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "max_tokens"
