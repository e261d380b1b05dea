"""`assistant serve`: the official `openai` client against a real uvicorn server on loopback.

Unit tests use the quoting fake model and hashing embeddings; the integration tests at the end
use real MiniLM and the small real model SmolLM2 under concurrent clients.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from assistant import Assistant, Settings
from assistant.backends.registry import QuotingFakeChat
from assistant.cli import main
from assistant.errors import ConfigError
from assistant.http.server import check_bind, create_app
from assistant.http.wire import ApiError, ChatMessage, ChatRequest, conversation
from ingest.names import client_paths
from tests.net import free_port

HUANG = "What did Jensen Huang call the export controls?"
QUESTIONS = [
    HUANG,
    "Who founded Huawei?",
    "How much will Xiaomi invest in R&D from 2026 to 2030?",
    "What is Nvidia's market share in China now?",
    "Which Huawei chip competes with Nvidia's H200?",
    "What is the name of Xiaomi's 3-nanometer chip?",
    "Who is the principal analyst at J.Gold Associates?",
    "Zyxw qwvp plomb?",  # refused: nothing relevant, even for the hashing embeddings
]
OFF_TOPIC = QUESTIONS[-1]


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)


def writer(settings: Settings) -> dict[str, str]:
    """The header uploads and removals need without a key: the local token `serve` wrote."""
    token = (Path(settings.data_dir) / "api-token").read_text().strip()
    return {"Authorization": f"Bearer {token}"}


def unmarked(text: str) -> str:
    return " ".join(re.sub(r"\[\d+\]", " ", text).split())


def ask(c: openai.OpenAI, question: str, stream: bool, model: str = "docs-assistant") -> dict:
    """One question through the client; the text as a client would show it, and the extras."""
    messages: Any = [{"role": "user", "content": question}]
    if not stream:
        done = c.chat.completions.create(model=model, messages=messages)
        extra = done.model_extra or {}
        return {"text": done.choices[0].message.content, "sources": extra["sources"],
                "refused": extra["refused"]}
    deltas, last = [], None
    for chunk in c.chat.completions.create(model=model, messages=messages, stream=True):
        deltas.append(chunk.choices[0].delta.content or "")
        if chunk.choices[0].finish_reason == "stop":
            last = chunk.model_extra or {}
    assert last is not None, "the stream ended without its closing chunk"
    return {"text": last["answer"], "sources": last["sources"], "refused": last["refused"],
            "streamed": "".join(deltas)}


@pytest.fixture
def assistant(settings: Settings, sample_copy: Path) -> Assistant:
    a = Assistant(settings)
    a.ingest([sample_copy])
    return a


@pytest.fixture
def url(assistant: Assistant) -> Iterator[str]:
    with running(create_app(assistant)) as base:
        yield base


@pytest.fixture
def roomy_url(assistant: Assistant) -> Iterator[str]:
    """A server whose queue holds all the clients of a test about isolation, not the bound."""
    with running(create_app(assistant.with_settings(queue_size=64))) as base:
        yield base


# -- the openai client, unchanged ---------------------------------------------------------------


def test_non_streaming_answer_matches_the_python_api(assistant: Assistant, url: str) -> None:
    expected = assistant.ask(HUANG)
    got = ask(client(url), HUANG, stream=False)
    assert got["text"] == expected.text and "[1]" in got["text"]
    assert got["refused"] is False
    first = got["sources"][0]
    assert first["number"] == 1 and first["cited"] is True
    assert first["source"].endswith("us-chip-export-controls.txt")
    assert first["text"] == expected.sources[0].text
    assert [s["source"] for s in got["sources"]] == [s.source for s in expected.sources]


def test_streaming_answer_ends_with_the_checked_text_and_sources(
    assistant: Assistant, url: str
) -> None:
    expected = assistant.ask(HUANG)
    got = ask(client(url), HUANG, stream=True)
    assert got["text"] == expected.text
    assert unmarked(got["streamed"]) == unmarked(expected.text)
    assert len(got["sources"]) == len(expected.sources) and got["sources"][0]["cited"]


def test_the_configured_model_name_works_too(assistant: Assistant, url: str) -> None:
    assert ask(client(url), HUANG, stream=False, model="fake")["text"] == assistant.ask(HUANG).text


def test_refusal_is_flagged(url: str) -> None:
    got = ask(client(url), OFF_TOPIC, stream=True)
    assert got["refused"] is True and got["sources"] == []
    assert got["streamed"] == got["text"] == "I found nothing in your documents about this, " \
        "so I can't answer it."


def test_models_are_listed(url: str) -> None:
    c = client(url)
    assert [m.id for m in c.models.list()] == ["fake", "docs-assistant"]
    assert c.models.retrieve("docs-assistant").id == "docs-assistant"
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve("gpt-4o")


def test_history_turns_reach_the_chain(settings: Settings, sample_copy: Path) -> None:
    seen: list[tuple[str, list]] = []

    class Recording(Assistant):
        def ask(self, question: str, history: Any = None, sources: Any = None,
                max_tokens: Any = None) -> Any:
            seen.append((question, list(history or [])))
            return super().ask(question, history, sources, max_tokens)

    a = Recording(settings)
    a.ingest([sample_copy])
    with running(create_app(a)) as base:
        client(base).chat.completions.create(model="docs-assistant", messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Who founded Huawei?"},
            {"role": "assistant", "content": "Ren Zhengfei [1]"},
            {"role": "user", "content": [{"type": "text", "text": "When?"}]},
        ])
    assert seen == [("When?", [("Who founded Huawei?", "Ren Zhengfei [1]")])]


# -- errors in OpenAI's format ------------------------------------------------------------------


def test_unknown_model_is_a_404_naming_the_served_ones(url: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        ask(client(url), HUANG, stream=False, model="gpt-4o")
    assert caught.value.code == "model_not_found"
    assert caught.value.body["message"] == (  # type: ignore[index]
        "The model 'gpt-4o' is not served here. Fix: use one of 'fake', 'docs-assistant' "
        "(GET /v1/models)."
    )


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "The request body is not valid JSON."),
    (b'{"model": "docs-assistant"}', 400, "messages: Field required."),
    (b'{"model": "docs-assistant", "messages": []}', 400,
     "messages: List should have at least 1 item after validation, not 0."),
    (b'{"model": "docs-assistant", "messages": [{"role": "wizard", "content": "hi"}]}', 400,
     "messages.0.role: Input should be 'system', 'developer', 'user', 'assistant', 'tool' "
     "or 'function'."),
    (b'{"model": "docs-assistant", "messages": [{"role": "assistant", "content": "hi"}]}', 400,
     "The last message must be the user's question."),
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "  "}]}', 400,
     "The question is empty."),
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": [{"type": '
     b'"image_url", "image_url": {"url": "x"}}]}]}', 400,
     "Only text content is supported, not 'image_url'."),
])
def test_bad_requests_get_a_clear_400(url: str, body: bytes, status: int, message: str) -> None:
    r = httpx.post(f"{url}/v1/chat/completions", content=body,
                   headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["error"]["message"] == message


def test_an_empty_knowledge_base_is_a_409_with_the_fix(settings: Settings) -> None:
    with running(create_app(Assistant(settings))) as base:
        with pytest.raises(openai.ConflictError) as caught:
            ask(client(base), HUANG, stream=True)
    assert caught.value.body["message"] == (  # type: ignore[index]
        "No documents have been ingested yet. Fix: run 'assistant ingest PATH' "
        "(or 'assistant chat' to load the sample corpus)."
    )


class BreaksMidStream(QuotingFakeChat):
    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content="Half an answer"))
        raise RuntimeError("the model crashed")


def test_a_failure_mid_stream_reaches_the_client_as_an_error(
    settings: Settings, sample_copy: Path
) -> None:
    a = Assistant(settings, llm=BreaksMidStream())
    a.ingest([sample_copy])
    with running(create_app(a)) as base:
        with pytest.raises(openai.APIError, match=r"Internal error \(RuntimeError\)"):
            ask(client(base), HUANG, stream=True)
        assert ask(client(base), OFF_TOPIC, stream=True)["refused"]


# -- auth and limits ----------------------------------------------------------------------------


def test_api_key_is_required_when_set(assistant: Assistant) -> None:
    with running(create_app(assistant, api_key="s3cret")) as base:
        with pytest.raises(openai.AuthenticationError, match="Missing or wrong API key"):
            ask(client(base, "wrong"), HUANG, stream=False)
        assert httpx.get(f"{base}/sources").status_code == 401
        assert httpx.get(f"{base}/health").json() == {"status": "ok", "model": "fake"}
        assert ask(client(base, "s3cret"), HUANG, stream=True)["text"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_public_bind_without_key_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="without an API key"):
        check_bind(host, None)
    check_bind(host, "s3cret")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_key(host: str) -> None:
    check_bind(host, None)


def test_cli_refuses_a_public_bind_before_loading_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("ASSISTANT_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file
    code = main(["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "serve", "--host",
                 "0.0.0.0"])
    assert code == 1
    assert capsys.readouterr().err == (
        "Error: Refusing to serve on 0.0.0.0 without an API key. Fix: set ASSISTANT_API_KEY "
        "(or pass --api-key KEY) and send it as 'Authorization: Bearer KEY', or bind to "
        "127.0.0.1.\n"
    )
    assert not (tmp_path / "kb").exists()


def test_oversized_bodies_are_refused_with_413(assistant: Assistant) -> None:
    big = b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "' + \
        b"x" * 5000 + b'"}]}'
    with running(create_app(assistant, max_request_bytes=4096)) as base:
        declared = httpx.post(f"{base}/v1/chat/completions", content=big,
                              headers={"content-type": "application/json"})
        chunked = httpx.post(f"{base}/v1/chat/completions", content=iter([big[:3000], big[3000:]]),
                             headers={"content-type": "application/json"})
        small = ask(client(base), HUANG, stream=False)
    for r in (declared, chunked):
        assert r.status_code == 413
        assert r.json()["error"]["message"] == "The request body is larger than 4096 bytes."
    assert small["text"]


def test_an_overlong_question_is_refused(url: str) -> None:
    with pytest.raises(openai.BadRequestError, match="longer than 4000 characters"):
        ask(client(url), "why? " * 1000, stream=False)


# -- ingest and sources over HTTP ---------------------------------------------------------------


def test_uploaded_files_are_ingested_and_answerable(
    settings: Settings, url: str
) -> None:
    note = b"The Zorblax reactor was commissioned in 1987 by Imelda Quist."
    w = writer(settings)
    r = httpx.post(f"{url}/ingest", files=[("files", ("../../etc/zorblax.txt", note))], headers=w)
    assert r.status_code == 200, r.text
    stored = Path(settings.data_dir) / "uploads" / "zorblax.txt"
    shown = "uploads/zorblax.txt"  # clients see uploads relative to the data dir
    assert r.json()["added"] == [shown] and stored.read_bytes() == note
    png = b"\x89PNG\r\n\x1a\n\0\0"
    binary = httpx.post(f"{url}/ingest", files=[("files", ("photo.txt", png))], headers=w).json()
    assert binary["failed"] == [{"source": "uploads/photo.txt",
                                 "reason": "binary file, not text"}]
    assert not (stored.parent / "photo.txt").exists()  # what was not ingested is not kept
    again = httpx.post(f"{url}/ingest", files=[("files", ("zorblax.txt", note))],
                       headers=w).json()
    assert again["unchanged"] == [shown] and again["chunks"] == 0

    docs = httpx.get(f"{url}/sources").json()["documents"]
    assert {d["source"] for d in docs} >= {shown}
    assert all(d["complete"] for d in docs)
    got = ask(client(url), "Who commissioned the Zorblax reactor?", stream=False)
    assert "Imelda Quist" in got["text"] and got["sources"][0]["source"] == shown

    only = client(url).chat.completions.create(
        model="docs-assistant", messages=[{"role": "user", "content": HUANG}],
        extra_body={"sources": ["zorblax.txt"]},
    )
    assert {s["source"] for s in (only.model_extra or {})["sources"]} <= {shown}
    with pytest.raises(openai.BadRequestError) as caught:
        client(url).chat.completions.create(
            model="docs-assistant", messages=[{"role": "user", "content": HUANG}],
            stream=True, extra_body={"sources": ["nothing-like-this*"]},
        )
    assert caught.value.body["message"].startswith(  # type: ignore[index]
        "No ingested document matches the source filter 'nothing-like-this*'.")

    gone = httpx.delete(f"{url}/sources", params={"source": shown}, headers=w)
    assert gone.status_code == 200 and gone.json() == {"removed": shown}
    assert not stored.exists()
    assert shown not in {d["source"] for d in httpx.get(f"{url}/sources").json()["documents"]}
    again = httpx.delete(f"{url}/sources", params={"source": str(stored)},  # as stored works too
                         headers=w)
    assert again.status_code == 404
    assert again.json()["error"]["message"] == (
        f"No document for '{shown}' in the knowledge base. Fix: GET /sources lists the "
        "documents."  # the server's folders stay on the server, even in what it echoes
    )


@pytest.mark.parametrize(("name", "message"), [
    (".env", "Unusable file name '.env' (hidden file): give a plain, visible file name."),
    ("a/b/..", "Unusable file name 'a/b/..' (path outside the upload folder): give a plain, "
               "visible file name."),
    ("", "files.0: Value error, Expected UploadFile, received: <class 'str'>."),  # a plain field
])
def test_unusable_upload_names_are_refused(
    settings: Settings, url: str, name: str, message: str
) -> None:
    r = httpx.post(f"{url}/ingest", files=[("files", (name, b"text"))], headers=writer(settings))
    assert r.status_code == 400 and r.json()["error"]["message"] == message
    assert not (Path(settings.data_dir) / "uploads").exists()


def test_ingest_without_files_is_a_400(settings: Settings, url: str) -> None:
    r = httpx.post(f"{url}/ingest", data={"x": "1"}, headers=writer(settings))
    assert r.status_code == 400 and r.json()["error"]["message"] == "files: Field required."


@contextmanager
def serve_command(env: dict[str, str], cwd: Path, port: int) -> Iterator[tuple[str, list[str]]]:
    """`assistant serve --port PORT` in its own process, as users run it; yields its base URL
    once /health answers, and a list that holds the lines it printed once it has stopped."""
    command = [str(Path(sys.executable).parent / "assistant"), "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    lines: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "assistant serve did not start"
                time.sleep(0.2)
        yield base, lines
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        lines.extend(out.decode().splitlines())


@pytest.mark.integration  # two processes that each import the whole stack: slowish
def test_the_serve_command_serves_with_a_key(tmp_path: Path, sample_copy: Path) -> None:
    """`assistant serve` as users run it: its own process, settings from the environment."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "kb"), "ASSISTANT_LLM": "fake",
           "ASSISTANT_EMBEDDING": "fake", "ASSISTANT_API_KEY": "s3cret"}
    subprocess.run([str(bin_dir / "assistant"), "ingest", "-q", str(sample_copy)], env=env,
                   check=True, cwd=tmp_path, capture_output=True)
    port = free_port()
    with serve_command(env, tmp_path, port) as (base, out):
        with pytest.raises(openai.AuthenticationError):
            ask(client(base), HUANG, stream=False)
        assert "[1]" in ask(client(base, "s3cret"), HUANG, stream=True)["text"]
    assert out[:2] == [
        "Loading the models...",
        f"OpenAI-compatible API on http://127.0.0.1:{port}/v1 (model 'fake' or "
        "'docs-assistant'); Ctrl-C stops it",
    ]


# -- the conversation mapping (pure) ------------------------------------------------------------


def test_conversation_pairs_turns_and_drops_unanswered_ones() -> None:
    def msg(role: str, text: str) -> ChatMessage:
        return ChatMessage(role=role, content=text)

    request = ChatRequest(model="m", messages=[
        msg("system", "be brief"), msg("user", "q1"), msg("assistant", "a1"),
        msg("user", "lost"), msg("user", "q2"), msg("developer", "x"), msg("assistant", "a2"),
        msg("user", " q3 "),
    ])
    assert conversation(request) == ("q3", [("q1", "a1"), ("q2", "a2")])
    with pytest.raises(ApiError, match="n=1"):
        conversation(ChatRequest(model="m", messages=[msg("user", "q")], n=2))
    with pytest.raises(ApiError, match="role 'tool'"):
        conversation(ChatRequest(model="m", messages=[msg("tool", "{}"), msg("user", "q")]))


# -- concurrency --------------------------------------------------------------------------------


def test_concurrent_clients_get_their_own_answers(assistant: Assistant, roomy_url: str) -> None:
    url = roomy_url
    expected = {q: assistant.ask(q).text for q in QUESTIONS}
    jobs = [(q, i % 2 == 0) for i, q in enumerate(QUESTIONS * 4)]  # 32 requests, half streamed
    c = client(url)
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda job: ask(c, *job), jobs))
    for (question, streamed), got in zip(jobs, results, strict=True):
        assert got["text"] == expected[question], question
        if streamed:
            assert unmarked(got["streamed"]) == unmarked(expected[question]), question


def test_ingest_while_answering_corrupts_neither(
    assistant: Assistant, roomy_url: str, tmp_path: Path
) -> None:
    url = roomy_url
    expected = {q: assistant.ask(q).text for q in QUESTIONS}
    # Words no question uses (a digit would match "3-nanometer"): answers given after a
    # note is in still come from the sample.
    notes = {f"note{i}.txt": f"Vault note: the code of sector {name} is {1000 + i}. " * 40
             for i, name in enumerate(["amber", "birch", "cedar", "dune", "ember", "fjord"])}
    c = client(url)

    def upload(name: str) -> dict:
        r = httpx.post(f"{url}/ingest", files=[("files", (name, notes[name].encode()))],
                       headers=writer(assistant.settings), timeout=120)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        asked = [pool.submit(ask, c, q, i % 2 == 0) for i, q in enumerate(QUESTIONS * 2)]
        ingested = [pool.submit(upload, name) for name in notes]
        answers = [(q, f.result()) for q, f in zip(QUESTIONS * 2, asked, strict=True)]
        reports = [f.result() for f in ingested]
    assert all(len(r["added"]) == 1 and not r["failed"] for r in reports)
    for question, got in answers:  # the sample answers did not change: new notes rank lower
        assert got["text"] == expected[question], question

    docs = {d["source"]: d for d in httpx.get(f"{url}/sources").json()["documents"]}
    fresh = Assistant(assistant.settings)  # what another process sees on disk
    shown = client_paths(Path(assistant.settings.data_dir) / "uploads").show
    assert {shown(d.source): d.chunks for d in fresh.documents()} == \
        {s: d["chunks"] for s, d in docs.items()}
    assert all(d["complete"] for d in docs.values()) and len(docs) == 1 + len(notes)
    assert fresh.store.count() == sum(d["chunks"] for d in docs.values())
    lexical = assistant.store.lexical  # the server's own BM25 index followed every write
    assert lexical is not None
    assert lexical.ids() == set(assistant.store.collection.get(include=[])["ids"])


# -- integration: real embeddings and a real (small) model ------------------------------------


class RecordingServer:
    """Wraps the in-process llama.cpp server, recording when each call starts and ends."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.calls: list[tuple[float, float]] = []

    def handle_chat_completions(self, *args: Any) -> Any:
        started = time.monotonic()
        try:
            return self.server.handle_chat_completions(*args)
        finally:
            self.calls.append((started, time.monotonic()))


@pytest.mark.integration
def test_real_model_answers_concurrent_streams_in_its_slots_without_mixing(
    tmp_path: Path, minilm, sample_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.backends import llamacpp

    a = Assistant(Settings(data_dir=tmp_path / "kb", llm="llamacpp:smollm2-135m", slots=2,
                           queue_timeout_s=600,  # about slots, not the wait bound
                           decision="rules"),  # one model call per answer: no check, no redraft
                  embeddings=minilm)
    a.ingest([sample_copy])
    questions = QUESTIONS[:4]
    sequential = {q: a.ask(q) for q in questions}  # also loads the model
    server = a.llm._load()  # this assistant's server: other tests' models share the file
    key = next(k for k, v in llamacpp._servers.items() if v is server)
    recorder = RecordingServer(server)
    monkeypatch.setitem(llamacpp._servers, key, recorder)
    jobs = [(q, i % 4 != 3) for i, q in enumerate(questions * 2)]  # 8 clients, 6 streamed
    with running(create_app(a)) as base:
        c = client(base)
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: ask(c, *job), jobs))

    calls = sorted(recorder.calls)
    assert len(calls) == sum(bool(sequential[q].sources) for q, _ in jobs)  # one call each
    # the model ran calls side by side, never more than its 2 slots (Assistant.capacity)
    edges = sorted([(start, 1) for start, _ in calls] + [(end, -1) for _, end in calls])
    at_once = list(itertools.accumulate(step for _, step in edges))
    assert max(at_once) == 2, at_once
    for (question, streamed), got in zip(jobs, results, strict=True):
        alone = sequential[question]
        assert sorted(s["text"] for s in got["sources"]) == sorted(s.text for s in alone.sources)
        assert got["text"].strip(), question
        if streamed and not got["refused"]:
            # the pieces this client received are exactly the draft its own answer was made of
            assert unmarked(got["streamed"]) == unmarked(got["text"]), question
