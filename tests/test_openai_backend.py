"""The `openai:` backend against a real OpenAI-compatible HTTP server on loopback.

The server is a few lines of `http.server` that answers like the quoting fake model, in both
the plain and the streamed (server-sent events) forms of /v1/chat/completions; the assistant
talks to it through the real `openai` client that `langchain_openai.ChatOpenAI` uses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.backends.registry import QuotingFakeChat


class CompletionsHandler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        CompletionsHandler.requests.append({"path": self.path, **body})
        text = QuotingFakeChat.reply(body["messages"][-1]["content"])
        base = {"id": "c1", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            payload = {**base, "object": "chat.completion", "choices": [
                {"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": text}}]}
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in text.split(" "):
            chunk = {**base, "object": "chat.completion.chunk", "choices": [
                {"index": 0, "finish_reason": None, "delta": {"content": word + " "}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def server() -> Iterator[str]:
    CompletionsHandler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), CompletionsHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_openai_compatible_server_answers_through_the_chain(
    server: str, tmp_path: Path, sample_copy: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "kb", llm="openai:my-local-model", embedding="fake",
                        openai_base_url=server, max_answer_tokens=64)
    assistant = Assistant(settings)
    assistant.ingest([sample_copy])

    stream = assistant.stream("What did Jensen Huang say about the export controls?")
    pieces = list(stream)
    answer = stream.answer

    assert len(pieces) > 3  # streamed word by word over server-sent events
    assert answer is not None and not answer.refused
    assert answer.citations == [1] and "failure" in answer.text
    [request] = CompletionsHandler.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["model"] == "my-local-model" and request["stream"] is True
    assert request["max_completion_tokens"] == 64
    assert request["messages"][0]["role"] == "system"


def test_openai_backend_condenses_follow_ups(server: str, tmp_path: Path, sample_copy: Path):
    settings = Settings(data_dir=tmp_path / "kb", llm="openai:m", embedding="fake",
                        openai_base_url=server)
    assistant = Assistant(settings)
    assistant.ingest([sample_copy])
    answer = assistant.ask("And what about Xiaomi's chip?", history=[("Who is Huang?", "CEO.")])
    condense, _answer = CompletionsHandler.requests
    prompt = condense["messages"][-1]["content"]
    assert "Follow-up question: And what about Xiaomi's chip?" in prompt
    # the fake server echoes the follow-up back, which names no earlier subject, so the
    # deterministic rewrite fills the earlier question with the new one (followup.py)
    assert answer.question == "Who is Xiaomi's chip?"
