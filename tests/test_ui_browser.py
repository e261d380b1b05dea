"""The chat UI in a real headless Chromium: one app (fake model, bag-of-words embeddings) and one
browser page for the whole module; the tests run in order as one user's session."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from assistant import Assistant, ConfigError, Settings
from assistant.web import app as ui
from assistant.web.feedback import FILE_NAME
from tests.net import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCRIPT = "<script>alert(1)</script>"
IMAGE = "![beacon](http://203.0.113.7/beacon.png)"
ONERROR = '<img src=x onerror="document.body.dataset.pwned=1">'
EVIL_NAME = "notes <img src=x onerror=alert(2)> ![b](beacon2.png).txt"
FIRST = "The Widget chip shipped in 2024 after two delays in the Zorblat plant."
EVIL_TEXT = f"Nvidia shipped the Gizmo chip in 2025 {IMAGE} {ONERROR} {SCRIPT}. More text.\n"


class Session:
    """The shared app, page, and what the server and the browser did."""

    def __init__(self, assistant: Assistant, url: str, page: Any) -> None:
        self.assistant, self.url, self.page = assistant, url, page
        self.calls: list[dict[str, Any]] = []  # one per Assistant.stream call
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.replies = 0  # answers given so far in the current conversation

    def bot(self, n: int) -> Any:
        return self.page.locator('#da-chat [data-testid="bot"]').nth(n)

    def ask(self, question: str, wait_for: str = "", timeout: int = 15_000) -> Any:
        """Ask in the chat tab; returns the answer's message once it is final."""
        from playwright.sync_api import expect

        self.page.get_by_role("tab", name="Chat").click()
        box = self.page.locator("#da-question textarea")
        box.fill(question)
        box.press("Enter")
        message = self.bot(self.replies)
        expect(message).to_be_visible(timeout=timeout)
        expect(box).to_be_editable(timeout=timeout)  # locked while the answer is written
        if wait_for:
            expect(message).to_contain_text(wait_for)
        self.replies += 1
        return message

    def documents_tab(self) -> None:
        self.page.get_by_role("tab", name="Documents").click()

    def pick(self, dropdown: str, label: str) -> None:
        self.page.locator(f"{dropdown} input").click()
        self.page.locator(f'li[data-testid="dropdown-option"][aria-label="{label}"]').click()
        self.page.keyboard.press("Escape")



@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    data = tmp_path_factory.mktemp("browser")
    assistant = Assistant(Settings(data_dir=data / "kb", llm="fake", embedding="fake"))
    port = free_port()
    calls: list[dict[str, Any]] = []
    real_stream = Assistant.stream

    def stream(self: Assistant, question: str, history: Any = None, sources: Any = None) -> Any:
        calls.append({"question": question, "history": list(history or []),
                      "sources": sources, "k": self.settings.k, "llm": self.settings.llm,
                      "retrieval": self.settings.retrieval})
        return real_stream(self, question, history, sources)

    with pytest.MonkeyPatch.context() as mp, sync_api.sync_playwright() as p:
        mp.setattr(Assistant, "stream", stream)
        app = ui.launch(assistant, port=port, block=False)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            state = Session(assistant, f"http://127.0.0.1:{port}/", page)
            state.calls = calls
            page.on("request", lambda r: state.requests.append(r.url))

            def on_dialog(dialog: Any) -> None:
                state.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(state.url, wait_until="load")
            yield state
        finally:
            browser.close()
            app.close()


def test_upload_shows_progress_results_and_documents(session: Session, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    real_ingest = session.assistant.ingest

    def slow_ingest(paths: Any, **kw: Any) -> Any:  # slow enough to see the progress bar
        on_progress = kw.get("on_progress") or (lambda _: None)

        def later(progress: Any) -> None:
            time.sleep(0.4)
            on_progress(progress)

        return real_ingest(paths, **{**kw, "on_progress": later})

    monkeypatch.setattr(session.assistant, "ingest", slow_ingest)

    page = session.page
    expect(page.locator("#da-header")).to_contain_text("Answer model: fake · 0 documents")
    files = tmp_path / "in"
    files.mkdir()
    (files / "widget.txt").write_text(f"{FIRST} Later it sold well.\n")
    (files / "empty.txt").write_text("")
    with zipfile.ZipFile(files / "bundle.zip", "w") as zf:
        zf.writestr("inner.txt", "Bundled notes about pasta and sauce.")
        zf.writestr("../../slip.txt", "Written outside?")
    # a hostile name arrives from the CLI (the browser's upload would strip its < > !)
    (tmp_path / EVIL_NAME).write_text(EVIL_TEXT)
    session.assistant.ingest([tmp_path / EVIL_NAME])
    session.documents_tab()
    page.locator("#da-upload input[type=file]").set_input_files(sorted(files.iterdir()))
    results = page.locator("#da-results")
    expect(results).to_contain_text("/3 files", timeout=15_000)  # the progress bar, then
    expect(results).to_contain_text("2 done, 2 failed", timeout=15_000)
    expect(results).to_contain_text("empty.txt")  # with its reason
    slip = results.get_by_role("row", name="bundle.zip/../../slip.txt")
    expect(slip).to_contain_text("path outside the upload folder")  # zip slip
    expect(page.locator("#da-docs")).to_contain_text(EVIL_NAME)  # the name as text
    expect(page.locator("#da-docs")).to_contain_text("bundle/inner.txt")
    expect(page.locator("#da-docs")).to_contain_text("3 documents")
    expect(page.locator("#da-header")).to_contain_text("3 documents")
    data = session.assistant.settings.data_dir
    assert (data / "uploads" / "widget.txt").is_file()
    assert not list(data.parent.rglob("slip.txt"))


def test_streamed_answer_with_highlighted_source(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    # keep every text the answer shows while it streams
    page.evaluate("""() => { window.daSeen = [];
        new MutationObserver(() => {
            const bot = document.querySelector('#da-chat [data-testid="bot"]');
            if (bot) window.daSeen.push(bot.innerText);
        }).observe(document.querySelector('#da-chat'),
                   {subtree: true, childList: true, characterData: true}); }""")
    message = session.ask("When did the Widget chip ship?", "Sources")
    seen = [t for t in page.evaluate("window.daSeen") if t.strip()]
    partial = [t for t in seen if "Sources" not in t]
    assert partial and len(set(seen)) >= 3, seen  # the answer grew before its sources came
    expect(message).to_contain_text(FIRST)
    summary = message.locator(".da-sources summary").first
    expect(summary).to_contain_text("widget.txt · score")
    summary.click()
    expect(message.locator(".da-sources mark")).to_have_text(FIRST)


def test_refusal_is_labelled(session: Session) -> None:
    message = session.ask("zqxj vbnm plokij?", "Not in your documents")
    assert message.locator(".da-error").count() == 0


def test_scope_and_settings_reach_the_assistant(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    session.pick("#da-scope", "widget.txt")
    page.locator("#da-retrieval").get_by_label("lexical").check()
    k = page.locator("#da-k input[type=number]")
    k.fill("2")
    k.press("Enter")
    message = session.ask("Which chip shipped in 2025?")
    last = session.calls[-1]
    assert last["sources"] == [str(session.assistant.settings.data_dir / "uploads" /
                                   "widget.txt")]
    assert (last["k"], last["retrieval"]) == (2, "lexical")
    expect(message).not_to_contain_text("Gizmo")  # the other document is out of scope
    # the history sent with it holds the earlier answered turns as plain text
    assert [q for q, _ in last["history"]] == ["When did the Widget chip ship?",
                                               "zqxj vbnm plokij?"]
    assert last["history"][0][1].startswith(FIRST)
    page.locator("#da-scope").get_by_role("button", name="Remove").first.click()
    page.locator("#da-retrieval").get_by_label("hybrid").check()


def test_reload_keeps_the_conversation(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.reload(wait_until="load")
    expect(session.bot(0)).to_contain_text(FIRST)
    expect(page.locator('#da-chat [data-testid="bot"]')).to_have_count(session.replies)
    expect(page.locator("#da-k input[type=number]")).to_have_value("2")  # settings kept too
    before = len(session.calls)
    session.ask("What else about the Widget chip?")
    assert len(session.calls[before]["history"]) == session.replies - 1  # restored, used
    assert session.calls[before]["k"] == 2


def test_feedback_is_saved_as_an_eval_case(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    path = session.assistant.settings.data_dir / FILE_NAME
    page.locator("#da-chat").get_by_role("button", name="Like", exact=True).first.click()
    expect(page.locator("#da-feedback-note")).to_contain_text("rating is saved")
    page.locator("#da-comment textarea").fill("Right date, right source.")
    page.locator("#da-comment-save").click()
    expect(page.locator("#da-feedback-note")).to_contain_text("comment is saved")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["rating"] for line in lines] == ["up", "up"]
    case = lines[-1]
    assert case["question"] == "When did the Widget chip ship?"
    assert case["answers"] == [case["answer"]] and case["answer"].startswith(FIRST)
    assert case["sources"] == ["widget.txt"] and case["history"] == []
    assert case["comment"] == "Right date, right source." and case["id"] == lines[0]["id"]


def test_document_text_and_names_stay_inert(session: Session) -> None:
    from playwright.sync_api import expect

    message = session.ask("Nvidia Gizmo 2025?", "Sources")
    expect(message).to_contain_text(f"{IMAGE} {ONERROR} {SCRIPT}")  # quoted, shown as text
    summary = message.locator(".da-sources summary").first
    expect(summary).to_contain_text(EVIL_NAME)
    summary.click()
    expect(message.locator(".da-sources blockquote").first).to_contain_text(IMAGE)
    page = session.page
    session.documents_tab()
    expect(page.locator("#da-docs")).to_contain_text(EVIL_NAME)
    page.get_by_role("tab", name="Chat").click()
    for where in ("#da-chat", "#da-docs", "#da-results"):
        assert page.locator(where).locator("script, img, iframe").count() == 0, where
    assert page.evaluate("document.body.dataset.pwned") is None
    assert session.dialogs == []


def test_new_chat_clears_the_conversation(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.locator("#da-new-chat").click()
    expect(page.locator('#da-chat [data-testid="bot"]')).to_have_count(0)
    page.reload(wait_until="load")
    page.wait_for_timeout(500)
    expect(page.locator('#da-chat [data-testid="bot"]')).to_have_count(0)
    session.replies = 0
    before = len(session.calls)
    session.ask("When did the Widget chip ship?")
    assert session.calls[before]["history"] == []


@pytest.mark.integration
def test_switch_to_a_real_small_model(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    page.get_by_role("tab", name="Chat").click()
    page.locator("#da-new-chat").click()  # no history: one model call, no rewriting first
    expect(page.locator('#da-chat [data-testid="bot"]')).to_have_count(0)
    session.replies = 0
    session.pick("#da-model", "llamacpp:smollm2-135m")
    expect(page.locator("#da-header")).to_contain_text("Answer model: llamacpp:smollm2-135m")
    message = session.ask("When did the Widget chip ship?", timeout=90_000)
    assert session.calls[-1]["llm"] == "llamacpp:smollm2-135m"
    assert message.locator(".da-error").count() == 0  # an answer or a refusal, not an error
    session.pick("#da-model", "fake")
    expect(page.locator("#da-header")).to_contain_text("Answer model: fake")


def test_remove_a_document(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    session.documents_tab()
    session.pick("#da-selected", "widget.txt")
    page.locator("#da-remove").click()
    expect(page.locator("#da-results")).to_contain_text("removed")
    expect(page.locator("#da-docs")).to_contain_text("2 documents,")
    expect(page.locator("#da-docs")).not_to_contain_text("widget.txt")
    assert not (session.assistant.settings.data_dir / "uploads" / "widget.txt").exists()


def test_nothing_left_this_machine(session: Session) -> None:
    assert not [u for u in session.requests if "beacon" in u]
    outside = [u for u in session.requests
               if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
    assert outside == [], outside


def test_launch_refuses_an_open_host_without_auth(fake_assistant: Assistant) -> None:
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="Refusing to serve the chat on 0.0.0.0"):
        ui.launch(fake_assistant, host="0.0.0.0", port=1, block=False)
    assert time.perf_counter() - started < 1  # before anything is built


def test_auth_guards_every_route(fake_assistant: Assistant) -> None:
    port = free_port()
    app = ui.launch(fake_assistant, port=port, block=False, auth=[("ann", "s3cret")])

    def status(path: str, form: dict[str, str] | None = None) -> int:
        data = urllib.parse.urlencode(form).encode() if form else None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", data, timeout=10) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        assert status("/config") == 401 and status("/gradio_api/info") == 401
        assert status("/login", {"username": "ann", "password": "wrong"}) == 400
        assert status("/login", {"username": "ann", "password": "s3cret"}) == 200
    finally:
        app.close()
