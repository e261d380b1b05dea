"""Malformed input to `assistant serve` gets 400/401/404/413 in OpenAI's envelope, never a 500;
paths reach clients without the server's folders; a failed re-upload keeps the good copy.

The app runs in-process (Starlette's TestClient) with the quoting fake model and hashing
embeddings, so all of this is part of the fast suite.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import Assistant, Settings
from assistant.http.server import create_app
from assistant.web import documents as ui_documents

FACT = "The Zorblax reactor was commissioned in 1987 by Imelda Quist."
QUESTION = "Who commissioned the Zorblax reactor?"
PNG = b"\x89PNG\r\n\x1a\n\0\0"  # binary: fails to ingest as .txt
ENVELOPE = {"message", "type", "param", "code"}


@pytest.fixture
def assistant(settings: Settings, tmp_path: Path) -> Assistant:
    a = Assistant(settings)
    doc = tmp_path / "docs" / "zorblax.txt"
    doc.parent.mkdir()
    doc.write_text(FACT)
    a.ingest([doc])
    return a


@contextmanager
def serving(assistant: Assistant, **options: Any) -> Iterator[TestClient]:
    """The app in-process, addressed as on loopback. Should the server keep a local token for
    writes in its data dir, the client sends it, as a script on this machine would."""
    app = create_app(assistant, **options)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        token = Path(assistant.settings.data_dir) / "api-token"
        if token.is_file():
            c.headers["authorization"] = f"Bearer {token.read_text().strip()}"
        yield c


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with serving(assistant) as c:
        yield c


def refused(r: Any, status: int) -> dict[str, Any]:
    """The error of a refused request, after checking its status and OpenAI envelope."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ENVELOPE, body
    assert body["error"]["type"] == "invalid_request_error", body
    return body["error"]


def chat(c: TestClient, body: bytes | dict | list | None,
         content_type: str | None = "application/json") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return c.post("/v1/chat/completions", content=raw, headers=headers)


def user(content: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "docs-assistant", "messages": [{"role": "user", "content": content}], **extra}


def multipart(disposition: bytes, body: bytes = FACT.encode()) -> tuple[bytes, dict[str, str]]:
    """One part named `files`, with a Content-Disposition tail written byte for byte."""
    data = (b'--XyZ\r\nContent-Disposition: form-data; name="files"; ' + disposition +
            b"\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n--XyZ--\r\n")
    return data, {"content-type": "multipart/form-data; boundary=XyZ"}


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- chat completions -------------------------------------------------------------------------

SURROGATE = "The text is not valid Unicode (it holds a lone surrogate)."
NUL = "The text holds a NUL character."


@pytest.mark.parametrize(("body", "content_type", "status", "message", "param"), [
    # JSON may spell a lone surrogate, UTF-8 cannot carry it: no model or response could
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "\\ud800"}]}',
     "application/json", 400, SURROGATE, "messages.0.content"),
    (b'{"model": "docs-assistant", "stream": true, "messages": [{"role": "user", "content": '
     b'[{"type": "text", "text": "hi \\udfff"}]}]}', "application/json", 400, SURROGATE,
     "messages.0.content"),
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "q"}, {"role": '
     b'"assistant", "content": "\\ud800"}, {"role": "user", "content": "q2"}]}',
     "application/json", 400, SURROGATE, "messages.1.content"),
    (b'{"model": "docs-assistant", "sources": ["\\ud800"], "messages": [{"role": "user", '
     b'"content": "q"}]}', "application/json", 400, SURROGATE, "sources.0"),
    (b'{"model": "docs-assistant", "sources": ["a\\u0000.txt"], "messages": [{"role": "user", '
     b'"content": "q"}]}', "application/json", 400, NUL, "sources.0"),
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "a\\u0000b"}]}',
     "application/json", 400, NUL, "messages.0.content"),
    (b'{"model": "\\ud800", "messages": [{"role": "user", "content": "q"}]}', "application/json",
     404, "The model '\\ud800' is not served here. Fix: use one of 'fake', 'docs-assistant' "
     "(GET /v1/models).", "model"),
    (b'{"model": "docs-\xe2\x80\xaeassistant\\n", "messages": [{"role": "user", "content": "q"}]}',
     "application/json", 404, "The model 'docs-\\u202eassistant\\n' is not served here. Fix: use "
     "one of 'fake', 'docs-assistant' (GET /v1/models).", "model"),
    (b'{"model": "docs-assistant", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
     "application/json", 400, None, None),  # not UTF-8
    (b"[" * 20000 + b"]" * 20000, "application/json", 400, None, None),
    (json.dumps(user("q")).encode(), "text/plain", 400, None, None),
    (json.dumps(user("q")).encode(), None, 400, None, None),
    (b"model=docs-assistant", "application/x-www-form-urlencoded", 400, None, None),
    (b"[1, 2]", "application/json", 400, None, None),
    (b"null", "application/json", 400, None, None),
    (json.dumps({"model": "docs-assistant", "messages": "hi"}).encode(), "application/json", 400,
     "messages: Input should be a valid list.", "messages"),
    (json.dumps(user(5)).encode(), "application/json", 400, None, None),
    (json.dumps(user({"a": 1})).encode(), "application/json", 400, None, None),
    (json.dumps(user([{"text": "no type"}])).encode(), "application/json", 400, None, None),
    (json.dumps(user([{"type": "text"}])).encode(), "application/json", 400,
     "Only text content is supported, not 'text'.", "messages.0.content"),
    (json.dumps(user("q", model=5)).encode(), "application/json", 400,
     "model: Input should be a valid string.", "model"),
    (json.dumps(user("q", n=10**30)).encode(), "application/json", 400,
     "Only one choice per request is supported (n=1).", "n"),
    (json.dumps(user("q", stream="maybe")).encode(), "application/json", 400, None, "stream"),
    (json.dumps(user("q", max_tokens="lots")).encode(), "application/json", 400,
     "max_tokens: Input should be a valid integer, unable to parse string as an integer.",
     "max_tokens"),
    (json.dumps(user("q", sources="zorblax.txt")).encode(), "application/json", 400,
     "sources: Input should be a valid list.", "sources"),
    (json.dumps(user("why? " * 1000)).encode(), "application/json", 400,
     "The question is longer than 4000 characters.", "messages.0.content"),
    (json.dumps(user("q", sources=["../../etc/passwd"])).encode(), "application/json", 400,
     None, None),
    (json.dumps(user("q", sources=["~nobody-has-this-name/x"])).encode(), "application/json",
     400, "Only '~/...' paths are understood, not another user's '~name'.", "sources.0"),
])
def test_malformed_chat_requests_get_a_client_error(
    client: TestClient, body: bytes, content_type: str | None, status: int, message: str | None,
    param: str | None,
) -> None:
    error = refused(chat(client, body, content_type), status)
    if message is not None:
        assert error["message"] == message
    if param is not None:
        assert error["param"] == param


@pytest.mark.parametrize("body", [
    user("Who commissioned it?", max_tokens=10**30),  # capped by max_answer_tokens
    user("Who commissioned it?", temperature="hot", top_p=[1]),  # sampling options are ignored
    {"model": "docs-assistant",
     "messages": [{"role": "user", "content": "x" * 100_000}, {"role": "assistant", "content": "y"},
                  {"role": "user", "content": QUESTION}]},  # only the question is capped
    {"model": "docs-assistant", "messages": [{"role": "user", "content": "x"}] * 5000},
])
def test_odd_but_valid_chat_requests_are_answered(client: TestClient, body: dict) -> None:
    r = chat(client, body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"]


# -- uploads ----------------------------------------------------------------------------------

def unusable(shown: str, reason: str) -> str:
    return f"Unusable file name '{shown}' ({reason}): give a plain, visible file name."


CONTROL = "control character in the file name"


@pytest.mark.parametrize(("disposition", "message"), [
    (b'filename="a\x00b.txt"', unusable("a\\x00b.txt", CONTROL)),
    (b'filename="a\nb.txt"', unusable("a\\nb.txt", CONTROL)),
    (b'filename="a\x1b[2Jb.txt"', unusable("a\\x1b[2Jb.txt", CONTROL)),
    (b'filename="' + b"a" * 300 + b'.txt"',
     unusable("a" * 300 + ".txt", "file name longer than 200 bytes")),
    ('filename="{}.txt"'.format("é" * 190).encode(),  # 384 bytes: more than a file system takes
     unusable("é" * 190 + ".txt", "file name longer than 200 bytes")),
    (b'filename=""', None),  # a plain form field, not a file
    (b'filename="."', unusable(".", "unsafe file name")),
    (b'filename=".."', unusable("..", "path outside the upload folder")),
    (b'filename="docs/.env"', unusable("docs/.env", "hidden file")),
    (b'filename="C:x.txt"', unusable("C:x.txt", "path outside the upload folder")),
    (b"filename*=UTF-8''a%00b.txt", None),  # not a file part either
])
def test_unusable_upload_names_are_a_400_and_nothing_is_written(
    client: TestClient, settings: Settings, disposition: bytes, message: str | None
) -> None:
    data, headers = multipart(disposition)
    error = refused(client.post("/ingest", content=data, headers=headers), 400)
    if message is not None:
        assert error["message"] == message and error["param"] == "files"
    assert not (Path(settings.data_dir) / "uploads").exists()


@pytest.mark.parametrize(("content", "content_type"), [
    (b"garbage", "multipart/form-data; boundary=XyZ"),
    (b"garbage", "multipart/form-data"),  # no boundary
    (b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="a\rb.txt"\r\n\r\nx\r\n'
     b"--XyZ--\r\n", "multipart/form-data; boundary=XyZ"),
    (b'{"files": ["/etc/passwd"]}', "application/json"),
    (b"/etc/passwd", "text/plain"),
    (b"", None),
])
def test_malformed_upload_bodies_are_a_400(
    client: TestClient, content: bytes, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    refused(client.post("/ingest", content=content, headers=headers), 400)


def test_an_upload_over_the_size_limits_is_a_413_and_nothing_is_kept(
    settings: Settings, tmp_path: Path
) -> None:
    small = settings.model_copy(update={"upload_max_mb": 1.0})
    a = Assistant(small)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", FACT)
        zf.writestr("b.txt", "0" * 3_000_000)  # 3 MB unpacked, a few KB sent
    with serving(a) as c:
        big = refused(c.post("/ingest", files=[("files", ("big.txt", b"x" * (2**20 + 1)))]), 413)
        zipped = refused(c.post("/ingest", files=[("files", ("bomb.zip", bomb.getvalue()))]), 413)
    assert big == {"message": "'big.txt': larger than 1 MB.", "type": "invalid_request_error",
                   "param": "files", "code": "upload_too_large"}
    assert zipped["message"] == "'bomb.zip/b.txt': the zip unpacks to more than 1 MB."
    assert files_under(Path(small.data_dir) / "uploads") == []  # not even the zip's first file
    assert a.documents() == []


# -- DELETE /sources and odd query strings ----------------------------------------------------

@pytest.mark.parametrize(("query", "status", "message"), [
    ("source=a%00b", 400, NUL),
    ("source=~nobody-has-this-name/x.txt", 404,
     "No document for '~nobody-has-this-name/x.txt' in the knowledge base. Fix: GET /sources "
     "lists the documents."),
    ("source=../../etc/passwd", 404, None),
    ("source=%ff%fe%ed%a0%80", 404, None),  # not UTF-8: decoded with replacement characters
    ("source=%E2%80%AEtxt.exe%0A", 404,
     "No document for '\\u202etxt.exe\\n' in the knowledge base. Fix: GET /sources lists the "
     "documents."),
    ("source=", 404, None),
    ("source=" + "a" * 20000, 404, None),
    ("", 400, "query.source: Field required."),
])
def test_odd_removals_are_a_client_error(
    client: TestClient, assistant: Assistant, query: str, status: int, message: str | None
) -> None:
    error = refused(client.delete(f"/sources?{query}"), status)
    if message is not None:
        assert error["message"] == message
    assert len(assistant.documents()) == 1


@pytest.mark.parametrize("path", ["/v1/models/%00", "/v1/models/%ff", "/v1/models/a%0Ab"])
def test_odd_model_paths_are_a_404(client: TestClient, path: str) -> None:
    error = refused(client.get(path), 404)
    assert "\n" not in error["message"] and "\0" not in error["message"]


# -- API keys ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "header", "status"), [
    ("s3cret", "Bearer clé".encode(), 401),  # a non-ASCII token no longer crashes the compare
    ("s3cret", "Bearer ☃".encode(), 401),
    ("s3cret", b"Bearer s3cret", 200),
    ("clé-☃", "Bearer clé-☃".encode(), 200),  # a non-ASCII key works, compared as UTF-8
    ("clé-☃", b"Bearer cl\xe9-?", 401),
    ("clé-☃", b"Bearer x", 401),
    ("clé-☃", b"", 401),
])
def test_api_keys_are_compared_as_bytes(
    assistant: Assistant, key: str, header: bytes, status: int
) -> None:
    with serving(assistant, api_key=key) as c:
        r = c.get("/sources", headers={"authorization": header} if header else {})
    if status == 401:
        assert refused(r, 401)["code"] == "invalid_api_key"
    else:
        assert r.status_code == 200, r.text


# -- what paths clients see -------------------------------------------------------------------

def test_clients_see_uploads_and_home_paths_without_the_server_folders(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "alice"
    monkeypatch.setenv("HOME", str(home))
    mine = home / "notes" / "zorblax.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text(FACT)
    a = Assistant(settings)
    a.ingest([mine])
    with serving(a) as c:
        up = c.post("/ingest", files=[("files", ("../../quist.txt", b"Imelda Quist was born in "
                                                                      b"1950 in Zorblax."))])
        listed = c.get("/sources")
        answer = c.post("/v1/chat/completions", json=user(QUESTION))
        only = c.post("/v1/chat/completions", json=user(QUESTION, sources=["uploads/quist.txt"]))
        home_glob = c.post("/v1/chat/completions", json=user(QUESTION, sources=["~/notes/*"]))
        none = c.post("/v1/chat/completions", json=user(QUESTION, sources=["uploads/nothing*"]))
        streamed = c.post("/v1/chat/completions", json=user(QUESTION, stream=True))
        everything = [up, listed, answer, only, home_glob, none, streamed]
        removed = c.delete("/sources", params={"source": "~/notes/zorblax.txt"})
        by_upload = c.delete("/sources", params={"source": "uploads/quist.txt"})
    for r in everything:
        assert str(tmp_path) not in r.text, r.text
    assert up.json()["added"] == ["uploads/quist.txt"]
    assert sorted(d["source"] for d in listed.json()["documents"]) == [
        "uploads/quist.txt", "~/notes/zorblax.txt"]
    sources = answer.json()["sources"]
    assert {s["source"] for s in sources} == {"uploads/quist.txt", "~/notes/zorblax.txt"}
    assert all(s["metadata"]["source"] == s["source"] for s in sources)
    last = json.loads(streamed.text.split("data: ")[-2])  # the closing chunk, before [DONE]
    assert {s["source"] for s in last["sources"]} == {s["source"] for s in sources}
    assert {s["source"] for s in only.json()["sources"]} == {"uploads/quist.txt"}
    assert {s["source"] for s in home_glob.json()["sources"]} == {"~/notes/zorblax.txt"}
    assert refused(none, 400)["message"].startswith(
        "No ingested document matches the source filter 'uploads/nothing*'.")
    assert removed.json() == {"removed": "~/notes/zorblax.txt"} and mine.exists()
    assert by_upload.json() == {"removed": "uploads/quist.txt"}
    assert a.documents() == [] and files_under(Path(settings.data_dir) / "uploads") == []


# -- a failed re-upload keeps the good copy ---------------------------------------------------

@pytest.mark.parametrize(("bad", "reason"), [(PNG, "binary file, not text"),
                                             (b"", "empty file"),
                                             (b"caf\xe9 au lait", "not UTF-8 text (byte 3)")])
def test_a_failed_reupload_over_the_api_keeps_the_good_copy_and_its_chunks(
    client: TestClient, settings: Settings, bad: bytes, reason: str
) -> None:
    stored = Path(settings.data_dir) / "uploads" / "report.txt"
    first = client.post("/ingest", files=[("files", ("report.txt", FACT.encode()))]).json()
    assert first["added"] == ["uploads/report.txt"]
    before = client.get("/sources").json()["documents"]
    again = client.post("/ingest", files=[("files", ("report.txt", bad))])
    assert again.status_code == 200, again.text
    assert again.json()["failed"] == [{"source": "uploads/report.txt", "reason": reason}]
    assert stored.read_text() == FACT  # the good copy, which the index still holds
    assert files_under(stored.parent) == ["report.txt"]  # no backup or partial file left
    assert client.get("/sources").json()["documents"] == before
    third = client.post("/ingest", files=[("files", ("report.txt", FACT.encode()))]).json()
    assert third["unchanged"] == ["uploads/report.txt"]  # file and index agree


def test_a_failed_reupload_in_the_ui_keeps_the_good_copy_and_its_chunks(
    fake_assistant: Assistant, tmp_path: Path
) -> None:
    def received(folder: str, data: bytes) -> str:
        path = tmp_path / "inbox" / folder / "report.txt"  # gradio keeps the browser's name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        return str(path)

    first = ui_documents.upload(fake_assistant, [received("1", FACT.encode())], lambda *_: None)
    stored = ui_documents.uploads_dir(fake_assistant).resolve() / "report.txt"
    assert first == [("added", str(stored), "")]
    docs = fake_assistant.documents()
    again = ui_documents.upload(fake_assistant, [received("2", PNG)], lambda *_: None)
    assert again == [("failed", str(stored), "binary file, not text")]
    assert stored.read_text() == FACT and files_under(stored.parent) == ["report.txt"]
    assert fake_assistant.documents() == docs
    assert ui_documents.reingest(fake_assistant, [str(stored)], lambda *_: None) == [
        ("unchanged", str(stored), "")]


def test_the_ui_and_the_api_store_the_same_upload_under_the_same_names(
    settings: Settings, tmp_path: Path
) -> None:
    """One saving function: the same files sent to `POST /ingest` and dropped on the documents
    tab end as the same files under uploads/, with the same refusals."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes/a.txt", FACT)
        zf.writestr("../escape.txt", FACT)
        zf.writestr(".hidden.txt", FACT)
    sent = {"Q3 report: draft#1.txt": FACT.encode(), "notes.zip": archive.getvalue()}
    api = Assistant(settings.model_copy(update={"data_dir": tmp_path / "api"}))
    with serving(api) as c:
        reply = c.post("/ingest", files=[("files", item) for item in sent.items()]).json()
    ui = Assistant(settings.model_copy(update={"data_dir": tmp_path / "ui"}))
    received = []
    for n, (name, data) in enumerate(sent.items()):
        path = tmp_path / "inbox" / str(n) / name  # gradio keeps the browser's name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        received.append(str(path))
    rows = ui_documents.upload(ui, received, lambda *_: None)

    stored = ["Q3 report_ draft_1.txt", "notes/notes/a.txt"]
    assert files_under(tmp_path / "api" / "uploads") == stored
    assert files_under(tmp_path / "ui" / "uploads") == stored
    assert reply["added"] == [f"uploads/{name}" for name in stored]
    refusals = [("notes.zip/../escape.txt", "path outside the upload folder"),
                ("notes.zip/.hidden.txt", "hidden file")]
    assert [(f["source"], f["reason"]) for f in reply["failed"]] == refusals
    assert [(name, reason) for status, name, reason in rows if status == "refused"] == refusals


def test_a_reupload_that_ingests_replaces_the_copy(client: TestClient, settings: Settings) -> None:
    stored = Path(settings.data_dir) / "uploads" / "report.txt"
    client.post("/ingest", files=[("files", ("report.txt", FACT.encode()))])
    newer = FACT.replace("1987", "1988").encode()
    done = client.post("/ingest", files=[("files", ("report.txt", newer))]).json()
    assert done["updated"] == ["uploads/report.txt"] and not done["failed"]
    assert stored.read_bytes() == newer and files_under(stored.parent) == ["report.txt"]


# -- the name and path rules themselves -------------------------------------------------------

@pytest.mark.parametrize(("raw", "shown"), [
    ("report.pdf", "report.pdf"),
    ("é 中文 emoji 👩\u200d💻.txt", "é 中文 emoji 👩\u200d💻.txt"),  # ZWJ shapes the emoji: kept
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x00\x1b\x7f\x85", "\\x00\\x1b\\x7f\\x85"),
    ("\u202ecod.exe", "\\u202ecod.exe"),
    ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d",
     "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u202a\\u202b\\u202c\\u202d"),
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("lone \ud800", "lone \\ud800"),
    ("tag \U000e0041", "tag \\U000e0041"),
])
def test_display_name_makes_invisible_characters_visible(raw: str, shown: str) -> None:
    from ingest.names import display_name

    assert display_name(raw) == shown
    assert display_name(shown) == shown  # escapes are plain text: showing twice changes nothing


def test_client_paths_hide_the_server_folders(tmp_path: Path) -> None:
    from ingest.names import ClientPaths

    home = tmp_path / "home" / "alice"
    paths = ClientPaths(home / ".local" / "kb" / "uploads", home)
    for stored, shown in [(f"{home}/.local/kb/uploads/a.pdf", "uploads/a.pdf"),
                          (f"{home}/.local/kb/uploads/z/b.md", "uploads/z/b.md"),
                          (f"{home}/docs/c.txt", "~/docs/c.txt"),
                          ("/srv/shared/d.txt", "/srv/shared/d.txt"),
                          (f"{home}x/e.txt", f"{home}x/e.txt")]:  # a sibling folder, not home
        assert paths.show(stored) == shown and paths.stored(shown) == stored
    assert paths.stored("*.pdf") == "*.pdf"
    assert paths.scrub(f"cannot open {home}/.local/kb/uploads/a.pdf or {home}/x") == (
        "cannot open uploads/a.pdf or ~/x")
    assert ClientPaths(tmp_path / "uploads", None).show(f"{home}/docs/c.txt") == \
        f"{home}/docs/c.txt"
