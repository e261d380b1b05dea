"""Only their own pages: the Host/Origin policy, and `assistant serve` against a web page.

A page on another site can make the browser send a form POST to 127.0.0.1 (no CORS preflight),
or reach it under its own name by DNS rebinding; these tests send those requests for real to a
uvicorn server on loopback. The chat UI's side is in tests/test_ui_auth.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant, ConfigError, Settings
from assistant.cli import main
from assistant.http.server import check_bind, create_app
from assistant.origin import (
    HostPolicy,
    SameOrigin,
    is_loopback,
    local_token,
    plain_text,
    resolve_api_key,
)
from assistant.web.auth import check_exposure
from tests.net import free_port
from tests.test_server import HUANG, client, running, serve_command
from tests.test_server import writer as token

EVIL = "http://evil.example"
NOTE = b"The Zorblax reactor was commissioned in 1987 by Imelda Quist."


# -- one loopback check -------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("Localhost", True), ("localhost.", True), (" 127.0.0.1 ", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
    ("localhost.example.org", False),
])
def test_serve_and_chat_agree_on_what_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_bind(host, None)
        check_exposure(host, None)
    else:
        with pytest.raises(ConfigError, match="Refusing to serve on .* without an API key"):
            check_bind(host, None)
        with pytest.raises(ConfigError, match="Refusing to serve the chat on .* without a pass"):
            check_exposure(host, None)
    check_bind(host, "s3cret")
    check_exposure(host, [("ann", "pw")])


# -- one key lookup ------------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "env", "key"), [
    ("from-flag", "from-env", "from-flag"), ("from-flag", None, "from-flag"),
    (None, "from-env", "from-env"), ("", "from-env", "from-env"),
    (None, None, None), (None, "", None), ("", "", None),
])
def test_the_api_key_is_the_flag_else_the_setting(
    no_assistant_env: None, given: str | None, env: str | None, key: str | None
) -> None:
    assert resolve_api_key(given, Settings(api_key=env)) == key


def test_a_key_given_to_the_app_beats_the_one_in_the_environment(
    no_assistant_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSISTANT_API_KEY", "from-env")
    a = Assistant(Settings(data_dir=tmp_path / "kb", llm="fake", embedding="fake"))

    def status(app: Any, key: str) -> int:
        with TestClient(app, base_url="http://127.0.0.1") as c:
            return c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code

    given = create_app(a, api_key="from-flag")
    assert (status(given, "from-flag"), status(given, "from-env")) == (200, 401)
    default = create_app(a)
    assert (status(default, "from-flag"), status(default, "from-env")) == (401, 200)


def test_the_serve_command_takes_the_flag_over_the_environment(
    cli_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import assistant.http.server

    served: list[str | None] = []
    monkeypatch.setattr(assistant.http.server, "serve",
                        lambda a, **kw: served.append(kw["api_key"]))
    monkeypatch.setenv("ASSISTANT_API_KEY", "from-env")
    run = ["--data-dir", str(tmp_path / "kb"), "--llm", "fake", "serve", "--host", "0.0.0.0"]
    assert main([*run, "--api-key", "from-flag"]) == 0 and main(run) == 0
    assert served == ["from-flag", "from-env"]
    assert "local token" not in capsys.readouterr().out  # a key guards the writes instead


# -- the policy (pure) --------------------------------------------------------------------------
@pytest.mark.parametrize(("bind", "allowed", "host", "ok"), [
    ("127.0.0.1", "", "127.0.0.1:8200", True),
    ("127.0.0.1", "", "localhost:8200", True),
    ("127.0.0.1", "", "LOCALHOST", True),
    ("127.0.0.1", "", "[::1]:8200", True),
    ("127.0.0.1", "", "attacker.example:8200", False),  # DNS rebinding
    ("127.0.0.1", "", "attacker.example", False),
    ("127.0.0.1", "", "192.168.1.5:8200", False),
    ("127.0.0.1", "", "", False),
    ("127.0.0.1", "", None, False),
    ("127.0.0.1", "", "localhost:80:80", False),
    ("127.0.0.1", "", "[::1", False),
    ("127.0.0.1", "kb.internal", "kb.internal:8200", True),
    ("127.0.0.1", "kb.internal:9000", "kb.internal:8200", False),
    ("127.0.0.1", "kb.internal:9000", "kb.internal:9000", True),
    ("127.0.0.1", "*", "anything.example", True),
    ("0.0.0.0", "", "attacker.example:8200", True),  # a key or password is required there
    ("0.0.0.0", "", "192.168.1.5:8200", True),
    ("0.0.0.0", "kb.example.com", "attacker.example:8200", False),
    ("0.0.0.0", "kb.example.com", "kb.example.com", True),
    ("0.0.0.0", "kb.example.com", "127.0.0.1:8200", True),
    ("192.168.1.5", "kb.example.com", "192.168.1.5:8200", True),  # the name it was bound to
    ("kb.lan", "kb.example.com", "kb.lan:8200", True),
])
def test_host_policy(bind: str, allowed: str, host: str | None, ok: bool) -> None:
    assert HostPolicy.for_bind(bind, allowed).allows_host(host) is ok


@pytest.mark.parametrize(("allowed", "origin", "host", "ok"), [
    ("", "http://127.0.0.1:8200", "127.0.0.1:8200", True),
    ("", "http://localhost:8200", "localhost:8200", True),
    ("", "http://[::1]:8200", "[::1]:8200", True),
    ("", "http://127.0.0.1:3000", "127.0.0.1:8200", False),  # another local page: another origin
    ("", "http://localhost:8200", "127.0.0.1:8200", False),
    ("", EVIL, "127.0.0.1:8200", False),
    ("", "null", "127.0.0.1:8200", False),
    ("", "file://", "127.0.0.1:8200", False),
    ("", "https://kb.example.com", "kb.example.com", True),  # TLS proxy passing the Host on
    ("", "https://kb.example.com", "127.0.0.1:8200", False),
    ("kb.example.com", "https://kb.example.com", "127.0.0.1:8200", True),  # ... rewriting it
    ("*", EVIL, "127.0.0.1:8200", False),  # any Host, but still only its own pages
])
def test_origin_policy(allowed: str, origin: str, host: str, ok: bool) -> None:
    assert HostPolicy.for_bind("127.0.0.1", allowed).allows_origin(origin, host) is ok


def test_a_bad_allowed_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        HostPolicy.for_bind("127.0.0.1", "kb.example.com, http://x:y")
    assert str(err.value) == "ASSISTANT_ALLOWED_HOSTS has an unusable entry 'http://x:y'."
    assert err.value.fix.startswith("list host names (or name:port), comma-separated")


def test_local_token_is_private_kept_and_replaced_when_others_can_read_it(tmp_path: Path) -> None:
    path = tmp_path / "kb" / "api-token"
    token = local_token(path)
    assert len(token) >= 32 and path.read_text() == token + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_token(path) == token  # kept across restarts: scripts may keep using it
    path.chmod(0o644)
    fresh = local_token(path)
    assert fresh != token and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["api-token"]  # no leftover part file


# -- assistant serve against a web page's requests ----------------------------------------------
@pytest.fixture
def served(settings: Settings, sample_copy: Path) -> Iterator[tuple[Assistant, str]]:
    a = Assistant(settings)
    a.ingest([sample_copy])
    with running(create_app(a)) as base:
        yield a, base


def sources(a: Assistant) -> set[str]:
    return {d.source for d in a.documents()}


def test_dns_rebinding_host_is_refused(served: tuple[Assistant, str]) -> None:
    a, url = served
    port = urlsplit(url).port
    rebinding = {"Host": f"attacker.example:{port}"}
    for r in (httpx.get(f"{url}/v1/models", headers=rebinding),
              httpx.get(f"{url}/sources", headers=rebinding),
              httpx.post(f"{url}/v1/chat/completions", headers=rebinding, json={
                  "model": "docs-assistant", "messages": [{"role": "user", "content": HUANG}]})):
        assert r.status_code == 400
        assert r.json() == {"error": {
            "message": f"The Host 'attacker.example:{port}' is not served here: a page on another "
                       "site may be reaching this server under its own name (DNS rebinding). "
                       "Fix: open it as http://127.0.0.1:PORT or http://localhost:PORT, or add "
                       "the name to ASSISTANT_ALLOWED_HOSTS.",
            "type": "invalid_request_error", "param": None, "code": "invalid_host"}}
    for name in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        assert httpx.get(f"{url}/v1/models", headers={"Host": name}).status_code == 200


def test_allowed_hosts_setting_adds_names(settings: Settings, sample_copy: Path) -> None:
    a = Assistant(settings.model_copy(update={"allowed_hosts": "kb.internal"}))
    with running(create_app(a)) as url:
        port = urlsplit(url).port
        assert httpx.get(f"{url}/health", headers={"Host": f"kb.internal:{port}"}).status_code \
            == 200
        assert httpx.get(f"{url}/health", headers={"Host": "other.internal"}).status_code == 400


def test_a_cross_origin_form_post_plants_nothing(
    settings: Settings, served: tuple[Assistant, str]
) -> None:
    a, url = served
    before = sources(a)
    port = urlsplit(url).port or 80
    for headers in ({"Origin": EVIL},  # what a browser sends with a form on evil.example
                    {"Origin": f"http://127.0.0.1:{port + 1}"},  # another page on this machine
                    {"Origin": "null"},  # a sandboxed frame
                    {"Sec-Fetch-Site": "cross-site"}):  # a browser that sends no Origin
        r = httpx.post(f"{url}/ingest", files=[("files", ("planted.txt", NOTE))],
                       headers=headers)
        assert r.status_code == 403, headers
        error: dict[str, str] = r.json()["error"]
        assert error["code"] == "cross_origin"
        assert "refused: this server answers only its own pages." in error["message"]
    with_token = httpx.post(f"{url}/ingest", files=[("files", ("planted.txt", NOTE))],
                            headers={"Origin": EVIL, **token(settings)})
    assert with_token.status_code == 403  # the token does not make a page ours
    assert r.json()["error"]["message"] == (
        "Cross-origin request refused: this server answers only its own pages. Fix: send it from "
        "the server's own page or a non-browser client, or add the page's host to "
        "ASSISTANT_ALLOWED_HOSTS.")
    evil = httpx.delete(f"{url}/sources", params={"source": next(iter(before))},
                        headers={"Origin": EVIL, **token(settings)})
    assert evil.status_code == 403
    assert evil.json()["error"]["message"].startswith(
        "Cross-origin request from 'http://evil.example' refused")
    asked = httpx.post(f"{url}/v1/chat/completions", headers={"Origin": EVIL}, json={
        "model": "docs-assistant", "messages": [{"role": "user", "content": HUANG}]})
    assert asked.status_code == 403
    assert httpx.get(f"{url}/sources", headers={"Origin": EVIL}).status_code == 403
    assert httpx.get(f"{url}/sources", headers={"Sec-Fetch-Site": "cross-site"}).status_code \
        == 200  # a link followed from another site: nothing to refuse
    assert sources(a) == before
    assert not (Path(settings.data_dir) / "uploads").exists()


def test_writes_need_the_local_token_even_on_localhost(
    settings: Settings, served: tuple[Assistant, str]
) -> None:
    a, url = served
    before = sources(a)
    message = ("Uploads and removals need the local token: send 'Authorization: Bearer TOKEN', "
               "TOKEN being the content of the file api-token in the server's data dir.")
    wrong: list[dict[bytes, bytes]] = [
        {}, {b"Authorization": b"Bearer wrong"}, {b"Authorization": "Bearer jérôme".encode()}]
    for headers in wrong:
        r = httpx.post(f"{url}/ingest", files=[("files", ("planted.txt", NOTE))],
                       headers=headers)
        assert r.status_code == 401 and r.json()["error"]["message"] == message
        gone = httpx.delete(f"{url}/sources", params={"source": next(iter(before))},
                            headers=headers)
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "invalid_api_key"
    assert sources(a) == before and not (Path(settings.data_dir) / "uploads").exists()

    # the same-origin page or a local script with the token: works
    port = urlsplit(url).port
    r = httpx.post(f"{url}/ingest", files=[("files", ("zorblax.txt", NOTE))],
                   headers={"Origin": f"http://127.0.0.1:{port}", **token(settings)})
    assert r.status_code == 200 and len(r.json()["added"]) == 1
    # questions stay keyless on localhost, so OpenAI clients work unchanged
    answer = client(url).chat.completions.create(
        model="docs-assistant",
        messages=[{"role": "user", "content": "Who commissioned the Zorblax reactor?"}],
    ).choices[0].message.content
    assert "Imelda Quist" in (answer or "")


def test_with_an_api_key_the_key_guards_writes_and_no_token_is_written(
    settings: Settings, sample_copy: Path
) -> None:
    a = Assistant(settings)
    with running(create_app(a, api_key="s3cret")) as url:
        r = httpx.post(f"{url}/ingest", files=[("files", ("zorblax.txt", NOTE))],
                       headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
        with pytest.raises(openai.PermissionDeniedError, match="Cross-origin request"):
            openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0,
                          default_headers={"Origin": EVIL}).chat.completions.create(
                model="docs-assistant", messages=[{"role": "user", "content": HUANG}])
    assert not (Path(settings.data_dir) / "api-token").exists()


def test_the_token_file_is_only_readable_by_its_owner(served: tuple[Assistant, str]) -> None:
    a, _ = served
    path = Path(a.settings.data_dir) / "api-token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_foreign_websocket_handshake_is_closed_unanswered() -> None:
    import asyncio

    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    def handshake(origin: str) -> list[Any]:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "websocket.connect"}

        scope = {"type": "websocket", "path": "/ws", "headers": [
            (b"host", b"127.0.0.1:7860"), (b"origin", origin.encode())]}
        guard = SameOrigin(app, HostPolicy.for_bind("127.0.0.1"), plain_text)
        asyncio.run(guard(scope, receive, send))
        return sent

    assert handshake(EVIL) == [{"type": "websocket.close", "code": 1008}] and reached == []
    assert handshake("http://127.0.0.1:7860") == [] and reached == ["websocket"]


def test_serve_prints_how_to_send_the_token(
    cli_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import assistant.http.server

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(assistant.http.server, "serve", lambda a, **kw: served.append(kw))
    kb = tmp_path / "my kb"
    assert main(["--data-dir", str(kb), "--llm", "fake", "serve", "--port", "8123"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == (
        "Uploads and removals need the local token: -H \"Authorization: Bearer $(cat "
        f"'{kb}/api-token')\"")
    assert served == [{"host": "127.0.0.1", "port": 8123, "api_key": None}]


@pytest.mark.integration  # its own process that imports the whole stack: slowish
def test_the_serve_command_writes_the_token_and_checks_the_host(tmp_path: Path) -> None:
    """`assistant serve` as users run it, without a key: a local script reads the token file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_DATA_DIR=str(tmp_path / "kb"), ASSISTANT_LLM="fake",
               ASSISTANT_EMBEDDING="fake")
    port = free_port()
    with serve_command(env, tmp_path, port) as (base, out):
        path = tmp_path / "kb" / "api-token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        files = [("files", ("zorblax.txt", NOTE))]
        assert httpx.post(f"{base}/ingest", files=files).status_code == 401
        auth = {"Authorization": f"Bearer {path.read_text().strip()}"}
        assert httpx.post(f"{base}/ingest", files=files, headers=auth).status_code == 200
        rebinding = {"Host": f"attacker.example:{port}"}
        assert httpx.get(f"{base}/sources", headers=rebinding).status_code == 400
    assert out[2] == (
        f"Uploads and removals need the local token: -H \"Authorization: Bearer $(cat {path})\"")
