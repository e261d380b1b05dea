"""The chat UI: pure formatting helpers, then the real app in a headless Chromium."""

from __future__ import annotations

import html
import re
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from assistant import Answer, Assistant, EmptyIndexError, Source, ui

SCRIPT = "<script>alert(1)</script>"
IMAGE = "![beacon](http://203.0.113.7/beacon.png)"
ONERROR = '<img src=x onerror="document.body.dataset.pwned=1">'
EVIL_NAME = "notes <img src=x onerror=alert(2)> ![b](beacon2.png).txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def source(name: str = "/docs/report.pdf", text: str = "Some passage.", score: float = 0.5,
           **meta: Any) -> Source:
    return Source(source=name, text=text, score=score, metadata=meta)


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def rendered_tags(markdown: str) -> TagCollector:
    """The tags a markdown renderer with raw HTML enabled (as Gradio's chatbot) would emit."""
    from markdown_it import MarkdownIt

    collector = TagCollector()
    collector.feed(MarkdownIt("gfm-like", {"html": True, "linkify": False}).render(markdown))
    return collector


# -- pure helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [SCRIPT, IMAGE, ONERROR, "[x](javascript:alert(1))",
                                     "$$\\href{x}{y}$$", "    indented & <b>bold</b>"])
def test_neutralise_leaves_no_markup_but_reads_the_same(payload: str) -> None:
    safe = ui.neutralise(payload)
    assert not set(re.sub(r"&#\d+;", "", safe)) & set("<>![]()&:$\\")
    assert html.unescape(safe) == payload.strip()
    tags = rendered_tags(safe)
    assert set(tags.tags) <= {"p"}, tags.tags


def test_sources_escape_passage_text_and_file_names() -> None:
    block = ui.format_sources("Sources", [(2, source(f"/tmp/{EVIL_NAME}",
                                                     f"Chips {SCRIPT} {IMAGE} {ONERROR}",
                                                     0.523, page=3))])
    assert "<script" not in block and "<img" not in block and "![" not in block
    assert "http://" not in block and "beacon2.png" not in block
    tags = rendered_tags(block)
    assert set(tags.tags) == {"div", "p", "strong", "details", "summary", "blockquote"}
    assert tags.attrs == ["class"]
    text = html.unescape(block)
    assert f"[2] {EVIL_NAME} · page 3 · score 0.52" in text  # shown as text, not dropped
    assert SCRIPT in text and IMAGE in text


def test_answer_lists_only_cited_sources() -> None:
    sources = [source("/d/a.txt", "Alpha."), source("/d/b.txt", "Beta.", 0.4)]
    message = ui.format_answer(Answer("Beta it is [2].", sources, citations=[2]))
    assert message.startswith(ui.neutralise("Beta it is [2]."))
    assert "Sources" in message and "b.txt" in html.unescape(message)
    assert "a.txt" not in html.unescape(message)
    assert ui.REFUSED_LABEL not in message


def test_refusal_is_labelled_and_lists_closest_passages() -> None:
    sources = [source("/d/a.txt", "Alpha."), source("/d/b.txt", "Beta.", 0.3)]
    message = ui.format_answer(Answer("Your documents don't say.", sources, refused=True))
    assert message.startswith(ui.REFUSED_LABEL)
    assert "Closest passages" in message and "Sources" not in message
    assert "[1] a.txt" in html.unescape(message) and "[2] b.txt" in html.unescape(message)
    bare = ui.format_answer(Answer("Nothing found.", [], refused=True))
    assert ui.SOURCES_MARK not in bare and bare.startswith(ui.REFUSED_LABEL)


def test_history_pairs_strip_labels_sources_and_failed_turns() -> None:
    cited = Answer("It is *42* <b>[1]</b>.", [source()], citations=[1])
    refused = Answer("Not there.", [source()], refused=True)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is it?"},
        {"role": "assistant", "content": ui.format_answer(cited)},
        {"role": "user", "content": [{"type": "text", "text": "Why?"}]},  # gradio's list form
        {"role": "assistant", "content": [{"type": "text", "text": ui.format_answer(refused)}]},
        {"role": "user", "content": "Broken?"},
        {"role": "assistant", "content": ui.format_error(EmptyIndexError("No docs.", fix="x"))},
    ]
    assert ui.history_pairs(messages) == [
        ("What is it?", "It is *42* <b>[1]</b>."), ("Why?", "Not there.")
    ]


def test_error_message_is_readable_and_escaped() -> None:
    message = ui.format_error(EmptyIndexError("No <b>documents</b>.", fix="run 'assistant ingest'"))
    assert message.startswith(ui.ERROR_LABEL) and "<b>" not in message
    assert "No <b>documents</b>. Fix: run 'assistant ingest'." in html.unescape(message)


def test_header_line() -> None:
    assert ui.header_line("fake", 1) == "Answer model: **fake** · 1 document"
    line = ui.header_line("openai:<x>", 3)
    assert line.endswith("· 3 documents") and "<x>" not in line
    assert "openai:<x>" in html.unescape(line)


def test_respond_streams_then_formats(fake_assistant: Assistant, sample_copy: Path) -> None:
    assert list(ui.respond(fake_assistant, "Who?", []))[0].startswith(ui.ERROR_LABEL)  # empty
    fake_assistant.ingest([sample_copy])
    steps = list(ui.respond(fake_assistant, "What did Jensen Huang say about export controls?", []))
    assert len(steps) > 2 and ui.SOURCES_MARK not in steps[-2]
    assert ui.SOURCES_MARK in steps[-1]
    assert "us-chip-export-controls.txt" in html.unescape(steps[-1])


def test_import_does_not_load_gradio() -> None:
    code = "import sys, assistant.ui; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the real app in a browser --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.mark.browser
def test_chat_in_browser(fake_assistant: Assistant, sample_copy: Path, browser_page) -> None:
    from playwright.sync_api import expect

    started = time.perf_counter()
    answer = f"Nvidia shipped the Widget chip in 2024 {IMAGE} {ONERROR} {SCRIPT}. [1]"
    # The fake model quotes the passage's first sentence: the payload is in the answer too.
    (sample_copy / EVIL_NAME).write_text(answer.removesuffix(" [1]") + " More text.\n",
                                         encoding="utf-8")
    fake_assistant.ingest([sample_copy])
    histories: list[list[tuple[str, str]]] = []
    real_stream = fake_assistant.stream

    def stream(question: str, history: Any = None) -> Any:
        histories.append(list(history or []))
        return real_stream(question, history)

    fake_assistant.stream = stream  # type: ignore[method-assign]
    port = free_port()
    app = ui.launch(fake_assistant, port=port, block=False)
    page = browser_page
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        expect(page.locator("#da-header")).to_contain_text("Answer model: fake · 2 documents")
        box = page.locator("textarea").first
        box.fill("Which chip did Nvidia ship in 2024?")
        box.press("Enter")
        bot = page.locator('#da-chat [data-testid="bot"]')
        summary = bot.first.locator(".da-sources summary").first  # only in the final message
        expect(summary).to_contain_text(EVIL_NAME, timeout=10_000)  # the name shows as text
        # so does the payload quoted in the answer (cited by the number the fake gave it)
        expect(bot.first).to_contain_text(answer.removesuffix(" [1]"))
        summary.click()
        expect(bot.first.locator(".da-sources blockquote").first).to_contain_text(IMAGE)

        box.fill("zqxj vbnm plokij?")  # shares no word with the documents: refused
        box.press("Enter")
        expect(bot.nth(1)).to_contain_text("Not in your documents")

        chat = page.locator("#da-chat")
        assert chat.locator("script, img, iframe").count() == 0
        assert page.evaluate("document.body.dataset.pwned") is None
        assert dialogs == []
        assert not [u for u in requests if "beacon" in u]
        outside = [u for u in requests
                   if urlparse(u).scheme in ("http", "https", "ws", "wss")
                   and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
        assert outside == [], outside
        assert histories[0] == [] and len(histories) == 2
        [(asked, answered)] = histories[1]  # the plain answer text, with its marker
        assert asked == "Which chip did Nvidia ship in 2024?"
        assert re.fullmatch(re.escape(answer.removesuffix(" [1]")) + r" \[\d\]", answered)
    finally:
        app.close()
    print(f"browser test took {time.perf_counter() - started:.1f}s", file=sys.stderr)

