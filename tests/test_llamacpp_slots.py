"""The in-process llama.cpp model with several slots, on a real (small) model: requests run
together, a closed stream frees its slot at once, usage and max_tokens are real."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from assistant.backends.llamacpp import ChatLlamaCpp
from assistant.backends.weights import model_path

pytestmark = pytest.mark.integration

LONG = [HumanMessage("Count from 1 to 2000, one number per line, without stopping.")]


def small_model(tmp_path_factory: pytest.TempPathFactory, slots: int) -> ChatLlamaCpp:
    models = tmp_path_factory.getbasetemp() / "models"
    return ChatLlamaCpp(model_path=str(model_path("smollm2-135m", Path(models))),
                        n_ctx=1024, slots=slots, max_tokens=1500)


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> ChatLlamaCpp:
    return small_model(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def two_slots(tmp_path_factory: pytest.TempPathFactory) -> ChatLlamaCpp:
    return small_model(tmp_path_factory, 2)


def quick(model: ChatLlamaCpp) -> float:
    started = time.monotonic()
    model.invoke([HumanMessage("Say yes.")], max_tokens=1)
    return time.monotonic() - started


def test_a_closed_stream_frees_its_slot_at_once(one_slot: ChatLlamaCpp) -> None:
    idle = quick(one_slot)
    stream = one_slot.stream(LONG)
    written = ""
    for chunk in stream:  # well into an answer that would run for 1500 tokens
        written += str(chunk.content)
        if written.count("\n") >= 5:
            break
    stream.close()
    # With one slot, the next request waits for the slot: it starts at once only if the
    # closed stream's generation stopped (running on, it would hold the slot for seconds).
    started = time.monotonic()
    waited = quick(one_slot)
    assert time.monotonic() - started < idle + 1.0, (idle, waited)


def test_two_slots_write_two_answers_at_once(two_slots: ChatLlamaCpp) -> None:
    firsts: dict[int, float] = {}
    ends: dict[int, float] = {}

    def answer(n: int) -> None:
        for chunk in two_slots.stream(LONG, max_tokens=60):
            if chunk.content and n not in firsts:
                firsts[n] = time.monotonic()
        ends[n] = time.monotonic()

    threads = [threading.Thread(target=answer, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Each started writing before the other had finished: they shared the model.
    assert firsts[1] < ends[2] and firsts[2] < ends[1], (firsts, ends)


def test_usage_and_max_tokens_are_the_models(one_slot: ChatLlamaCpp) -> None:
    reply = one_slot.invoke(LONG, max_tokens=7)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == 7
    assert reply.usage_metadata["input_tokens"] > 10
    streamed = None
    for chunk in one_slot.stream(LONG, max_tokens=9):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None and streamed.usage_metadata is not None
    assert streamed.usage_metadata["output_tokens"] == 9
    assert streamed.usage_metadata["total_tokens"] == \
        streamed.usage_metadata["input_tokens"] + 9


@pytest.mark.parametrize("cache_mb", [0, 64])
def test_prompts_a_slot_moved_on_from_are_kept_only_within_the_ram_cache(
    tmp_path_factory: pytest.TempPathFactory, cache_mb: int
) -> None:
    """With no RAM cache (the default) memory stays flat: a prompt the slot moved on from is
    read again; with one, llama.cpp restores it and reads only what changed."""
    models = tmp_path_factory.getbasetemp() / "models"
    model = ChatLlamaCpp(model_path=str(model_path("smollm2-135m", Path(models))),
                         n_ctx=1024, slots=1, prompt_cache_mb=cache_mb)
    first, other = [HumanMessage("alpha " * 200)], [HumanMessage("beta " * 200)]

    def cached(messages: list[HumanMessage]) -> int:
        usage = model.invoke(messages, max_tokens=1).usage_metadata
        assert usage is not None
        return usage["input_token_details"]["cache_read"]

    assert cached(first) < 50  # at most the chat template's opening, shared by all prompts
    assert cached(other) < 50
    again = cached(first)
    if cache_mb:
        assert again > 190, again
    else:
        assert again < 50, again
