"""The chat UI under load. Without a browser: each answer holds a turn of `assistant.capacity`,
says when it is busy and retries, and gives its turn back however it ends; the page's events
sit in the queues they should. In a real Chromium (marked `browser`): an upload does not hold
up another person's question, two questions stream at once, a closed tab stops its answer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from assistant import Assistant, Settings
from assistant.backends.registry import QuotingFakeChat
from assistant.web import app as ui
from assistant.web import chat as ui_chat
from assistant.web import format as fmt
from tests.net import free_port
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_ui_browser import Session as BrowserSession

WAITING = fmt.format_waiting()


class EndlessChat(BaseChatModel):
    """Writes "word " until closed (or `words` of them); records when its stream is closed
    and how many words it wrote."""

    words: int = 10_000
    fail: bool = False
    events: list[str] = Field(default_factory=list)
    written: list[int] = Field(default_factory=lambda: [0])

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
                self.written[0] += 1
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

    time.sleep(2.1)  # no answer has ended; the other one has run 2.1 s: retry in 3 s

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            held.leave()  # the other answer ends during the countdown

    steps = list(ui_chat.respond(assistant, "When did the Widget chip ship?", [], pause=pause))
    assert steps[:4] == [(WAITING, None), *countdown(3, 1)]
    assert pauses == [1, 1, 1]
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
    assert steps[:-1] == [(WAITING, None), *countdown(1, 1), (WAITING, None), *countdown(1, 2),
                          (WAITING, None), *countdown(1, 3), (WAITING, None)]
    assert pauses == [1, 1, 1]
    assert steps[-1] == (f"{fmt.ERROR_LABEL} All 1 answer slots are busy and 0 questions are "
                         "waiting&#46; Fix&#58; try again in 1 s&#46;", None)
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
    assert model.events == ["started", "closed"]
    assert model.written == [3]  # stopped at once, not read to its 10,000th word
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
    assert model.events == ["started", "closed"] and model.written == [3]
    assert assistant.capacity.running == 0


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


# -- in a real browser ----------------------------------------------------------------------------
class SlowChat(QuotingFakeChat):
    """The quoting fake, except that a question with "slowly" in it gets a long answer written
    a word every 0.15 s; records when each of its streams starts and is closed."""

    events: list[tuple[str, float]] = Field(default_factory=list)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        prompt = str(messages[-1].content)
        if "slowly" not in prompt:
            yield from super()._stream(messages, stop, run_manager, **kwargs)
            return
        self.events.append(("started", time.perf_counter()))
        try:
            for _ in range(SLOW_WORDS):
                time.sleep(0.15)
                yield ChatGenerationChunk(message=AIMessageChunk(content="word "))
            yield ChatGenerationChunk(message=AIMessageChunk(content="[1]"))
        finally:
            self.events.append(("closed", time.perf_counter()))


SLOW_WORDS = 60  # 9 s of answer
QUESTION = "When did the Widget chip ship?"
UPLOADED = 600


@dataclass
class Pages:
    assistant: Assistant
    model: SlowChat
    browser: Any
    url: str
    uploader: BrowserSession
    asker: BrowserSession

    def open(self) -> BrowserSession:
        """Another person: a browser context (cookies, storage) and a page of their own."""
        page = self.browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        page.goto(self.url, wait_until="load")
        return BrowserSession(self.assistant, self.url, page)


def timed_ask(person: BrowserSession, question: str = QUESTION) -> float:
    """Seconds from asking to the finished answer (the box unlocked again)."""
    started = time.perf_counter()
    message = person.ask(question, timeout=120_000)
    took = time.perf_counter() - started
    assert "Widget chip shipped in 2024" in message.inner_text()
    return took


def start_asking(person: BrowserSession, question: str) -> Any:
    """Ask without waiting for the answer; returns its message once it has started."""
    from playwright.sync_api import expect

    person.page.get_by_role("tab", name="Chat").click()
    box = person.page.locator("#da-question textarea")
    box.fill(question)
    box.press("Enter")
    message = person.bot(person.replies)
    expect(message).to_contain_text("word word", timeout=30_000)
    person.replies += 1
    return message


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Iterator[Pages]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    data = tmp_path_factory.mktemp("load")
    docs = data / "docs"
    docs.mkdir()
    (docs / "widget.txt").write_text("The Widget chip shipped in 2024 after two delays.\n")
    model = SlowChat()
    settings = Settings(data_dir=data / "kb", llm="fake", slots=2,
                        embedding="sentence-transformers:all-MiniLM-L6-v2")
    assistant = Assistant(settings, llm=model, embeddings=minilm)
    assistant.ingest([docs])
    port = free_port()
    with sync_api.sync_playwright() as p:
        app = ui.launch(assistant, port=port, block=False)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            url = f"http://127.0.0.1:{port}/"
            pages = Pages(assistant, model, browser, url, None, None)  # type: ignore[arg-type]
            pages.uploader, pages.asker = pages.open(), pages.open()
            yield pages
        finally:
            browser.close()
            app.close()


def notes(folder: Path, count: int) -> list[Path]:
    """`count` small notes, one chunk each, about nothing a question here asks."""
    folder.mkdir()
    words = "river mountain budget planning harbour meadow lantern orchard copper".split()
    for i in range(count):
        text = " ".join(f"Note {i} line {n} is about {words[(i + n) % len(words)]} and "
                        f"{words[(i * n) % len(words)]}." for n in range(8))
        (folder / f"note-{i:03d}.txt").write_text(text + "\n")
    return sorted(folder.iterdir())


@pytest.mark.browser
@pytest.mark.integration
def test_a_question_is_not_held_up_by_an_upload(pages: Pages, tmp_path: Path) -> None:
    """One person uploads 600 notes (embedded by the real MiniLM model, as a user's would be)
    while another asks; the answer comes about as fast as when nothing else runs, and long
    before the upload ends. The answer model is the fake: this is about the page's queues, not
    about a model's speed (which the load benchmark measures)."""
    from playwright.sync_api import expect

    idle = min(timed_ask(pages.asker) for _ in range(2))
    uploader = pages.uploader
    uploader.documents_tab()
    started = time.perf_counter()
    uploader.page.locator("#da-upload input[type=file]").set_input_files(
        notes(tmp_path / "notes", UPLOADED))
    results = uploader.page.locator("#da-results")
    expect(results).to_contain_text(f"/{UPLOADED} files", timeout=60_000)  # ingesting now
    during = timed_ask(pages.asker)
    answered = time.perf_counter() - started
    expect(results).to_contain_text(f"{UPLOADED} done", timeout=300_000)
    upload = time.perf_counter() - started
    print(f"\nidle {idle:.2f} s, during the upload {during:.2f} s, answered at {answered:.1f} s "
          f"of an upload of {upload:.1f} s")
    assert during < idle + 3
    assert answered < upload / 2  # a question queued behind the upload would wait for its end
    assert pages.assistant.store.count() == UPLOADED + 1


@pytest.mark.browser
def test_a_second_question_runs_while_the_first_streams(pages: Pages) -> None:
    from playwright.sync_api import expect

    first = start_asking(pages.uploader, "Tell me slowly about the Widget chip.")
    took = timed_ask(pages.asker)  # the other person's
    box = pages.uploader.page.locator("#da-question textarea")
    assert not box.is_editable()  # the first answer is still being written
    assert took < 0.15 * SLOW_WORDS / 2
    expect(box).to_be_editable(timeout=30_000)
    expect(first).to_contain_text("word word word word word")


@pytest.mark.browser
def test_a_closed_tab_stops_its_answer(pages: Pages) -> None:
    """Gradio closes the handler's generator when its page goes away; the model's stream is
    closed with it and the answer slot is free again."""
    leaving = pages.open()
    start_asking(leaving, "Tell me slowly about the Widget chip.")
    before = len(pages.model.events)
    assert pages.assistant.capacity.running == 1
    closed_at = time.perf_counter()
    leaving.page.context.close()
    deadline = closed_at + 10
    while len(pages.model.events) == before and time.perf_counter() < deadline:
        time.sleep(0.05)
    (event, at), = pages.model.events[before:]
    print(f"\nthe model's stream closed {at - closed_at:.2f} s after the tab")
    assert event == "closed" and at - closed_at < 1.5
    assert pages.assistant.capacity.running == 0
    timed_ask(pages.asker)  # and the next question is answered
