"""The chat UI without a browser: formatting, answering, settings variants, access checks."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant, ConfigError, EmptyIndexError, Source
from assistant.web import app as ui
from assistant.web import auth as ui_auth
from assistant.web import chat as ui_chat
from assistant.web import format as fmt

SCRIPT = "<script>alert(1)</script>"
IMAGE = "![beacon](http://203.0.113.7/beacon.png)"
ONERROR = '<img src=x onerror="document.body.dataset.pwned=1">'
EVIL_NAME = "notes <img src=x onerror=alert(2)> ![b](beacon2.png).txt"


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
    safe = fmt.neutralise(payload)
    assert not set(re.sub(r"&#\d+;", "", safe)) & set("<>![]()&:$\\")
    assert html.unescape(safe) == payload.strip()
    tags = rendered_tags(safe)
    assert set(tags.tags) <= {"p"}, tags.tags


def test_sources_escape_passage_text_and_file_names() -> None:
    block = fmt.format_sources("Sources", [(2, source(f"/tmp/{EVIL_NAME}",
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


def test_source_labels_show_control_and_bidi_characters() -> None:
    label = fmt.source_label(1, source("/d/invoice\u202etxt.exe\n[2] forged.pdf", "Text.", 0.5))
    assert html.unescape(label) == "[1] invoice\\u202etxt.exe\\n[2] forged.pdf · score 0.50"
    error = fmt.format_error(ValueError("No document for 'a\u2066b'"))
    assert "\u2066" not in error and "a\\u2066b" in html.unescape(error)


def test_answer_lists_only_cited_sources() -> None:
    sources = [source("/d/a.txt", "Alpha."), source("/d/b.txt", "Beta.", 0.4)]
    message = fmt.format_answer(Answer("Beta it is [2].", sources, citations=[2]))
    assert message.startswith(fmt.neutralise("Beta it is [2]."))
    assert "Sources" in message and "b.txt" in html.unescape(message)
    assert "a.txt" not in html.unescape(message)
    assert ui.REFUSED_LABEL not in message


def test_refusal_is_labelled_and_lists_closest_passages() -> None:
    sources = [source("/d/a.txt", "Alpha."), source("/d/b.txt", "Beta.", 0.3)]
    message = fmt.format_answer(Answer("Your documents don't say.", sources, refused=True))
    assert message.startswith(ui.REFUSED_LABEL)
    assert "Closest passages" in message and "Sources" not in message
    assert "[1] a.txt" in html.unescape(message) and "[2] b.txt" in html.unescape(message)
    bare = fmt.format_answer(Answer("Nothing found.", [], refused=True))
    assert ui.SOURCES_MARK not in bare and bare.startswith(ui.REFUSED_LABEL)


def test_history_pairs_strip_labels_sources_and_failed_turns() -> None:
    cited = Answer("It is *42* <b>[1]</b>.", [source()], citations=[1])
    refused = Answer("Not there.", [source()], refused=True)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is it?"},
        {"role": "assistant", "content": fmt.format_answer(cited)},
        {"role": "user", "content": [{"type": "text", "text": "Why?"}]},  # gradio's list form
        {"role": "assistant", "content": [{"type": "text", "text": fmt.format_answer(refused)}]},
        {"role": "user", "content": "Broken?"},
        {"role": "assistant", "content": fmt.format_error(EmptyIndexError("No docs.", fix="x"))},
    ]
    assert fmt.history_pairs(messages) == [
        ("What is it?", "It is *42* <b>[1]</b>."), ("Why?", "Not there.")
    ]


def test_error_message_is_readable_and_escaped() -> None:
    error = EmptyIndexError("No <b>documents</b>.", fix="run 'assistant ingest'")
    message = fmt.format_error(error)
    assert message.startswith(ui.ERROR_LABEL) and "<b>" not in message
    assert "No <b>documents</b>. Fix: run 'assistant ingest'." in html.unescape(message)


def test_header_line() -> None:
    assert fmt.header_line("fake", 1) == "Answer model: **fake** · 1 document"
    line = fmt.header_line("openai:<x>", 3)
    assert line.endswith("· 3 documents") and "<x>" not in line
    assert "openai:<x>" in html.unescape(line)


def test_respond_streams_then_formats(fake_assistant: Assistant, sample_copy: Path) -> None:
    [(empty, none)] = list(ui_chat.respond(fake_assistant, "Who?", []))
    assert empty.startswith(ui.ERROR_LABEL) and none is None  # nothing ingested yet
    fake_assistant.ingest([sample_copy])
    question = "What did Jensen Huang say about export controls?"
    steps = list(ui_chat.respond(fake_assistant, question, []))
    assert len(steps) > 2 and ui.SOURCES_MARK not in steps[-2][0]
    assert all(answer is None for _, answer in steps[:-1])
    final, answer = steps[-1]
    assert answer is not None and not answer.refused and ui.SOURCES_MARK in final
    assert "us-chip-export-controls.txt" in html.unescape(final)
    assert "<mark>" in final  # the supporting sentence of the cited passage


def test_respond_scopes_to_selected_documents(fake_assistant: Assistant, sample_copy: Path) -> None:
    (sample_copy / "other.txt").write_text("Lasagna needs pasta sheets and tomato sauce.\n")
    fake_assistant.ingest([sample_copy])
    article = str(sample_copy / "us-chip-export-controls.txt")
    question = "What does lasagna need?"
    *_, (_, everywhere) = ui_chat.respond(fake_assistant, question, [])
    *_, (_, scoped) = ui_chat.respond(fake_assistant, question, [], [article])
    assert everywhere is not None and scoped is not None
    assert [fmt.source_name(s) for s in everywhere.cited_sources] == ["other.txt"]
    assert {s.source for s in scoped.sources} <= {article} and scoped.refused
    [(missing, _)] = ui_chat.respond(fake_assistant, question, [], ["/nowhere/none.txt"])
    assert missing.startswith(ui.ERROR_LABEL)  # a filter matching nothing says so


def test_highlight_marks_the_supporting_sentence_escaped() -> None:
    passage = f"Intro words here. Nvidia shipped {SCRIPT} chips in 2024. Unrelated tail."
    marked = fmt.highlight(passage, "Nvidia shipped chips in 2024 [1].")
    assert marked.count("<mark>") == 1 and "<script" not in marked
    inside = marked.split("<mark>")[1].split("</mark>")[0]
    assert html.unescape(inside) == f"Nvidia shipped {SCRIPT} chips in 2024."
    assert "<mark>" not in fmt.highlight(passage, "zebra")  # nothing shared: nothing marked
    assert fmt.citing_text("One fact. [1] Other fact [2]. More.", 2) == "Other fact [2]."
    assert fmt.citing_text("No markers.", 1) == "No markers."


def test_variants_share_the_index_and_switch_settings(fake_assistant: Assistant,
                                                      sample_copy: Path) -> None:
    fake_assistant.ingest([sample_copy])
    variants = ui_chat.Variants(fake_assistant)
    s = fake_assistant.settings
    assert variants.get(s.llm, s.k, s.retrieval) is fake_assistant
    two = variants.get("fake", 2, "lexical")
    assert variants.get("fake", 2, "lexical") is two  # built once
    assert (two.settings.k, two.settings.retrieval) == (2, "lexical")
    assert two.store is fake_assistant.store and two.llm is fake_assistant.llm
    assert len(two.retrieve("Jensen Huang export controls")) == 2
    assert "llamacpp:smollm2-135m" in variants.models and "fake" in variants.models
    with pytest.raises(ConfigError):
        variants.get("llamacpp:/etc/passwd", 4, "hybrid")  # only the offered models


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_loopback_needs_no_password(host: str) -> None:
    ui_auth.check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_other_hosts_need_a_password(host: str) -> None:
    with pytest.raises(ConfigError) as err:
        ui_auth.check_exposure(host, [])
    assert "--auth user:password or --auth-file FILE" in err.value.fix
    ui_auth.check_exposure(host, [("ann", "secret")])


def test_auth_values_and_files(tmp_path: Path) -> None:
    assert ui_auth.parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    for bad in ["ann", "ann:", ":pass"]:
        with pytest.raises(ConfigError):
            ui_auth.parse_auth(bad)
    good = tmp_path / "users"
    good.write_text("# who may sign in\nann:one\n\nbob:two\n")
    assert ui_auth.read_auth_file(good) == [("ann", "one"), ("bob", "two")]
    bad = tmp_path / "bad"
    bad.write_text("ann:one\nbob\n")
    with pytest.raises(ConfigError, match="Line 2 of"):
        ui_auth.read_auth_file(bad)
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="no user:password line"):
        ui_auth.read_auth_file(empty)
    with pytest.raises(ConfigError, match="Cannot read the auth file"):
        ui_auth.read_auth_file(tmp_path / "missing")


def test_import_does_not_load_gradio() -> None:
    code = "import sys, assistant.web.app; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"




def test_chat_command_refuses_an_open_host_without_auth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    data = ["--data-dir", str(tmp_path / "kb"), "--llm", "fake"]
    assert main([*data, "chat", "--host", "0.0.0.0"]) == 1
    assert capsys.readouterr().err == (
        "Error: Refusing to serve the chat on 0.0.0.0 without a password: anyone who can reach "
        "it could read and change your documents. Fix: add --auth user:password or --auth-file "
        "FILE (one user:password per line), or serve on --host 127.0.0.1.\n"
    )
    assert main([*data, "chat", "--host", "0.0.0.0", "--auth", "ann"]) == 1
    assert capsys.readouterr().err == ("Error: --auth must look like user:password. Fix: give a "
                                       "user name and a password separated by ':'.\n")
    assert main([*data, "chat", "--host", "0.0.0.0", "--auth-file",
                 str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith("Error: Cannot read the auth file ")
    assert not (tmp_path / "kb").exists()  # refused before anything was opened or loaded


def test_chat_command_passes_the_logins_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    launched: list[dict[str, Any]] = []
    monkeypatch.setattr(ui, "launch", lambda assistant, **kw: launched.append(kw))
    monkeypatch.setenv("ASSISTANT_EMBEDDING", "fake")
    users = tmp_path / "users"
    users.write_text("bob:two\n")
    code = main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "chat", "--host", "0.0.0.0",
                 "--port", "8123", "--auth", "ann:one", "--auth-file", str(users)])
    assert code == 0 and "Chat on http://0.0.0.0:8123" in capsys.readouterr().out
    assert launched == [{"host": "0.0.0.0", "port": 8123, "auth": [("ann", "one"), ("bob", "two")]}]


def test_turn_record_names_cited_files_once() -> None:
    sources = [source("/d/a.txt", "Alpha."), source("/e/a.txt", "Again."), source("/d/b.txt")]
    answer = Answer("Alpha [1] and again [2].", sources, citations=[1, 2])
    turn = ui_chat.turn_record("Q?", [("q0", "a0")], answer, "fake", ["/d/a.txt"])
    assert turn["sources"] == ["a.txt"] and turn["history"] == [["q0", "a0"]]
    assert (turn["question"], turn["answer"], turn["refused"]) == ("Q?", answer.text, False)
    refused = ui_chat.turn_record("Q?", [], Answer("No.", sources, refused=True), "fake", [])
    assert refused["sources"] == [] and refused["refused"]
    gradio_value = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}, "junk"]
    assert ui_chat.plain_messages(gradio_value) == [{"role": "user", "content": "Hi"}]


def test_the_page_keeps_its_components_and_events(fake_assistant: Assistant) -> None:
    """The page as the browser test and scripts know it: the elem_ids, and each event's api
    name, whether it shows progress and whether it takes the like event."""
    app = ui.build_app(fake_assistant)
    ids = [c.get("props", {}).get("elem_id") for c in app.get_config_file()["components"]]
    assert [i for i in ids if i] == [
        "da-header", "da-chat-tab", "da-chat", "da-question", "da-new-chat", "da-feedback-note",
        "da-comment", "da-comment-save", "da-scope", "da-settings", "da-model", "da-k",
        "da-retrieval", "da-documents-tab", "da-upload", "da-results", "da-docs", "da-selected",
        "da-reingest", "da-remove"]
    events = [(f.api_name, f.tracks_progress, f.collects_event_data) for f in app.fns.values()]
    assert events == [
        ("restore", False, False), ("chat", False, False), ("lambda", False, False),
        ("lambda_1", False, False), ("keep", False, False), ("rate", False, True),
        ("comment", False, False), ("header", False, False), ("run", True, False),
        ("run_1", True, False), ("run_2", True, False)]


def test_a_restored_session_keeps_only_the_settings_offered(fake_assistant: Assistant) -> None:
    from assistant.web.page import Page

    page = Page(fake_assistant)
    chat = [{"role": "user", "content": "Hi"}]
    forged = {"messages": chat, "turns": {"1": {"question": "Hi"}},
              "settings": {"model": "llamacpp:/etc/passwd", "k": 999, "retrieval": "grep"}}
    restored = page.restore(forged)
    assert restored[:5] == (chat, {"1": {"question": "Hi"}}, "fake", 4, "hybrid")
    assert restored[5] == '<p class="da-empty">No documents yet: upload some above.</p>'
    chosen = {"settings": {"model": "llamacpp:smollm2-135m", "k": 7, "retrieval": "lexical"}}
    assert page.restore(chosen)[:5] == ([], {}, "llamacpp:smollm2-135m", 7, "lexical")
    assert page.restore("junk")[:5] == ([], {}, "fake", 4, "hybrid")
    assert Page.keep(chat, {}, "fake", 7.0, "dense") == {
        "messages": chat, "turns": {}, "settings": {"model": "fake", "k": 7, "retrieval": "dense"}}
