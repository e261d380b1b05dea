"""benchmarks/load.py: its questions, its plan, how it tells a well-formed 503 from an error,
and its client against a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import openai
import pytest

from benchmarks import load
from benchmarks.load import Malformed, Run

ENVELOPE = {"error": {"message": "All 2 answer slots are busy.", "type": "server_error",
                      "param": None, "code": "busy"}}


def chunk(delta: dict[str, str], finish: str | None = None, **extra: object) -> bytes:
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 0,
            "model": "docs-assistant", "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body)}\n\n".encode()


ANSWER = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Ren "}),
          chunk({"content": "Zhengfei [1]"}), chunk({}, "stop", sources=[]), b"data: [DONE]\n\n"]
NO_CLOSING = ANSWER[:3] + [b"data: [DONE]\n\n"]
BUSY = (503, {"Retry-After": "3"}, [json.dumps(ENVELOPE).encode()])


class Scripted(BaseHTTPRequestHandler):
    """Answers POSTs with the server's `replies` in turn: (status, headers, body pieces)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        status, headers, pieces = self.server.replies.pop(0)  # type: ignore[attr-defined]
        self.send_response(status)
        kind = "text/event-stream" if status == 200 else "application/json"
        for name, value in {"Content-Type": kind, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        for piece in pieces:
            self.wfile.write(piece)
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.replies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def asked(server: ThreadingHTTPServer, replies: list[tuple[int, dict[str, str], list[bytes]]]
          ) -> tuple[Run, list[float]]:
    """One question asked of `server` answering `replies`; the run and the back-offs slept."""
    server.replies.extend(replies)  # type: ignore[attr-defined]
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1",
                           api_key="unused", max_retries=0, timeout=10)
    run, slept = Run("after", 1, 1), list[float]()
    load.ask(client, "Who founded Huawei?", run, sleep=slept.append)
    return run, slept


def test_the_questions_are_distinct_standalone_and_on_the_sample_article() -> None:
    questions = load.sample_questions()
    assert len(questions) == 43
    assert len({q.lower() for q in questions}) == 43
    assert questions[0] == "What did Jensen Huang call the export controls?"
    assert questions[-1] == "How much money will Xiaomi put into research and development?"
    assert "Who is Lei Jun?" in questions  # a follow-up conversation's opening question
    assert "And in 2017?" not in questions  # a follow-up needs its history
    assert "What is the capital of Australia?" not in questions  # unanswerable
    # the same words in a follow-up case's topic switch count once
    assert "What chip-processing technology counts as mature-node according to ICwise?" \
        not in questions


def test_the_plan_gives_each_run_distinct_questions_and_each_client_one() -> None:
    assert load.plan([1, 2, 4, 8, 32], False, None, 43) == [8, 8, 8, 16, 32]
    assert load.plan([1, 2, 4, 8, 32], True, None, 43) == [43] * 5
    assert load.plan([1, 4, 32], False, 8, 43) == [8, 8, 32]
    assert load.plan([1], True, 100, 43) == [43]
    with pytest.raises(SystemExit, match="44 clients need 44 distinct questions; there are 43"):
        load.plan([44], True, None, 43)


def test_a_well_formed_503_gives_its_retry_after() -> None:
    body = json.dumps(ENVELOPE).encode()
    assert load.retry_after(503, httpx.Headers({"Retry-After": "7"}), body) == 7


@pytest.mark.parametrize(("status", "header", "body", "message"), [
    (500, "7", json.dumps(ENVELOPE), "HTTP 500: b'{\"error\""),
    (503, None, json.dumps(ENVELOPE), "503 with Retry-After '', not whole seconds"),
    (503, "Wed, 21 Oct 2026 07:28:00 GMT", json.dumps(ENVELOPE),
     "503 with Retry-After 'Wed, 21 Oct 2026 07:28:00 GMT', not whole seconds"),
    (503, "7", "Service Unavailable", "503 without OpenAI's error envelope"),
    (503, "7", json.dumps({"detail": "busy"}), "503 without OpenAI's error envelope"),
    (503, "7", json.dumps({"error": {"message": "busy", "type": "server_error"}}),
     "503 with a malformed error envelope"),
    (503, "7", json.dumps({"error": {**ENVELOPE["error"], "message": " "}}),
     "503 with a malformed error envelope"),
])
def test_anything_else_is_malformed(status: int, header: str | None, body: str,
                                    message: str) -> None:
    headers = httpx.Headers({"Retry-After": header} if header else {})
    with pytest.raises(Malformed) as caught:
        load.retry_after(status, headers, body.encode())
    assert str(caught.value).startswith(message)


def test_a_503_is_counted_then_the_question_asked_again_after_retry_after(server) -> None:
    run, slept = asked(server, [BUSY, (200, {}, ANSWER)])
    assert (run.busy, run.errors, run.gave_up, slept) == (1, [], 0, [3])
    assert len(run.waits) == 2 and len(run.answer) == 1
    assert 0 < run.first_text[0] <= run.answer[0]


def test_a_malformed_503_is_an_error_and_not_retried(server) -> None:
    run, slept = asked(server, [(503, {}, [json.dumps(ENVELOPE).encode()]), (200, {}, ANSWER)])
    assert (run.busy, slept, run.answer) == (0, [], [])
    assert run.errors == ["Malformed: 503 with Retry-After '', not whole seconds"]


def test_a_stream_without_its_closing_chunk_is_an_error(server) -> None:
    run, _ = asked(server, [(200, {}, NO_CLOSING)])
    assert run.errors == ["Malformed: the stream ended without its closing chunk"]
    assert run.answer == []


def test_a_question_turned_away_every_time_is_given_up(server) -> None:
    run, slept = asked(server, [BUSY] * load.MAX_ATTEMPTS)
    assert (run.busy, run.gave_up, run.errors, run.answer) == (load.MAX_ATTEMPTS, 1, [], [])
    assert slept == [3] * load.MAX_ATTEMPTS


def test_the_servers_memory_is_read_from_proc() -> None:
    run = Run("after", 1, 1)
    with load.sampling_rss(os.getpid(), run):
        pass
    assert len(run.rss_kb) >= 2 and all(kb > 0 for kb in run.rss_kb)
    assert run.peak_kb >= max(run.rss_kb)  # VmHWM, or a sample above it (VmHWM lags)
    assert load.proc_status_kb(2**22 + 1, "VmHWM") == 0  # above pid_max: no such process


def test_after_means_the_defaults_whatever_the_environment_says(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SLOTS", "3")
    monkeypatch.setenv("ASSISTANT_QUEUE_SIZE", "0")
    after = load.server_env(load.ROOT / "kb", "fake", {})
    before = load.server_env(load.ROOT / "kb", "fake", load.BEFORE)
    assert "ASSISTANT_SLOTS" not in after and "ASSISTANT_QUEUE_SIZE" not in after
    assert [before[k] for k in load.CAPACITY_ENV] == ["1", "1000", "100000", "8192"]
    assert (after["ASSISTANT_LLM"], after["ASSISTANT_DATA_DIR"]) == ("fake", str(load.ROOT / "kb"))


def measured(config: str, clients: int, wall_s: float, answers: int, **kw: object) -> Run:
    run = Run(config, clients, 8, wall_s=wall_s, first_text=[0.5] * answers,
              answer=[float(i + 1) for i in range(answers)], waits=[0.25, 1.5],
              rss_kb=[512_000, 614_400, 563_200], peak_kb=716_800)
    for name, value in kw.items():
        setattr(run, name, value)
    return run


def test_the_table_puts_before_and_after_side_by_side() -> None:
    runs = [measured("before", 1, 8.0, 8), measured("after", 1, 8.0, 8),
            measured("before", 4, 8.0, 8), measured("after", 4, 4.0, 7, busy=3, gave_up=1,
                                                    errors=["Malformed: x"])]
    lines = load.table(runs, ["before", "after"])
    assert lines[0].startswith("| clients | questions | answers/s (× 1 client), before | "
                               "answers/s (× 1 client), after | first text p50 / p95 s, before")
    assert lines[0].endswith("| answers/s after ÷ before |")
    assert lines[1] == "| ---: | ---: | " + " | ".join(["---:"] * 15) + " |"
    assert lines[3] == ("| 4 | 8 | 1 (1.00×) | 1.75 (1.75×) | 0.50 / 0.50 | 0.50 / 0.50 "
                        "| 4.00 / 8.00 | 4.00 / 7.00 | 0 / 0 | 1 / 3 (1 gave up) | 1.50 | 1.50 "
                        "| 700 | 700 | 500 → 600 → 550 | 500 → 600 → 550 | 1.75× |")


def test_one_configuration_has_a_column_per_metric() -> None:
    lines = load.table([measured("after", 2, 4.0, 8)], ["after"])
    assert lines[0] == ("| clients | questions | answers/s (× 2 clients) | first text p50 / p95 s "
                        "| answer p50 / p95 s | errors / 503s | longest wait s | peak RSS MB "
                        "| RSS MB start → max → end |")
    assert lines[2] == ("| 2 | 8 | 2 (1.00×) | 0.50 / 0.50 | 4.00 / 8.00 | 0 / 0 | 1.50 | 700 "
                        "| 500 → 600 → 550 |")
