"""The chat UI answers only its own pages and slows password guessing down.

One real UI (gradio on a free loopback port, with a password) serves the module; requests are
sent with httpx as a rebinding page, another site's form, or a password guesser would send them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.web import app as ui
from assistant.web.auth import LoginThrottle, too_many_attempts
from tests.net import free_port

EVIL = "http://evil.example"
USER, PASSWORD = "ann", "s3cret"


class UI:
    def __init__(self, url: str, port: int, throttle: LoginThrottle) -> None:
        self.url, self.port, self.throttle = url, port, throttle

    def login(self, http: httpx.Client, password: str, **headers: str) -> httpx.Response:
        return http.post(f"{self.url}/login", data={"username": USER, "password": password},
                         headers=headers)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    data = tmp_path_factory.mktemp("ui-auth")
    assistant = Assistant(Settings(data_dir=data / "kb", llm="fake", embedding="fake"))
    port = free_port()
    throttle = LoginThrottle()
    app = ui.launch(assistant, port=port, block=False, auth=[(USER, PASSWORD)],
                    throttle=throttle)
    try:
        yield UI(f"http://127.0.0.1:{port}", port, throttle)
    finally:
        app.close()


@pytest.fixture
def chat(served: UI) -> UI:
    """The shared UI with the default throttle and no failures on record."""
    throttle = served.throttle
    throttle.free, throttle.base, throttle.cap = 5, 1.0, 300.0
    throttle.success("127.0.0.1")
    return served


# -- Host and Origin ----------------------------------------------------------------------------
def test_dns_rebinding_host_is_refused(chat: UI) -> None:
    for path in ("/", "/config", "/gradio_api/info"):
        r = httpx.get(f"{chat.url}{path}", headers={"Host": f"attacker.example:{chat.port}"})
        assert r.status_code == 400
        assert r.text == (
            f"The Host 'attacker.example:{chat.port}' is not served here: a page on another "
            "site may be reaching this server under its own name (DNS rebinding). Fix: open it "
            "as http://127.0.0.1:PORT or http://localhost:PORT, or add the name to "
            "ASSISTANT_ALLOWED_HOSTS.")
    login = chat.login(httpx.Client(), PASSWORD, Host="attacker.example")
    assert login.status_code == 400 and "DNS rebinding" in login.text
    for name in (f"localhost:{chat.port}", f"127.0.0.1:{chat.port}", f"[::1]:{chat.port}"):
        assert httpx.get(f"{chat.url}/", headers={"Host": name}).status_code == 200  # sign-in


def test_gradio_endpoints_refuse_cross_origin_posts(chat: UI) -> None:
    with httpx.Client() as http:
        assert chat.login(http, PASSWORD, Origin=chat.url).status_code == 200  # same origin
        own = {"Origin": chat.url}
        requests: list[tuple[str, dict[str, Any]]] = [
            ("/gradio_api/upload", {"files": [("files", ("planted.txt", b"planted"))]}),
            ("/gradio_api/queue/join", {"json": {"data": [], "fn_index": 0,
                                                 "session_hash": "x"}}),
            ("/login", {"data": {"username": USER, "password": PASSWORD}}),
        ]
        for path, body in requests:
            for foreign in ({"Origin": EVIL}, {"Origin": f"http://127.0.0.1:{chat.port + 1}"},
                            {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
                r = http.post(f"{chat.url}{path}", headers=foreign, **body)
                assert r.status_code == 403, (path, foreign)
                assert "refused: this server answers only its own pages." in r.text
            assert http.post(f"{chat.url}{path}", headers=own, **body).status_code != 403, path
        r = http.post(f"{chat.url}/gradio_api/upload", headers={"Origin": EVIL},
                      files=[("files", ("planted.txt", b"planted"))])
        assert r.text.startswith("Cross-origin request from 'http://evil.example' refused")
        own_upload = http.post(f"{chat.url}/gradio_api/upload", headers=own,
                               files=[("files", ("mine.txt", b"mine"))])
        assert own_upload.status_code == 200 and own_upload.json()[0].endswith("mine.txt")
        # reads too: gradio's CORS rules would let a page on any localhost port read them
        uploaded = f"/gradio_api/file={own_upload.json()[0]}"
        for path in ("/config", uploaded):
            assert http.get(f"{chat.url}{path}").status_code == 200
            other = http.get(f"{chat.url}{path}", headers={"Origin": "http://localhost:3000"})
            assert other.status_code == 403, path
        # a link followed from another site still opens the page
        assert http.get(f"{chat.url}/", headers={"Sec-Fetch-Site": "cross-site"}).status_code \
            == 200


# -- login throttling ---------------------------------------------------------------------------
def test_a_burst_of_wrong_passwords_is_mostly_refused_unchecked(chat: UI) -> None:
    started = time.monotonic()
    with httpx.Client() as http:
        statuses = [chat.login(http, f"guess{i}").status_code for i in range(300)]
        took = time.monotonic() - started
        right = chat.login(http, PASSWORD)
    checked = statuses.count(400)  # the passwords gradio actually compared
    assert statuses[:5] == [400] * 5 and set(statuses) == {400, 429}
    # 5 free attempts, then 1 s, 2 s, 4 s...: at most a few more in the time the burst took
    assert checked <= 5 + max(1, int(took).bit_length()) + 1, (checked, took)
    assert right.status_code == 429  # even the right password, while the lock lasts
    assert right.json()["detail"].startswith(
        "Too many failed sign-ins from this address: try again in ")
    assert int(right.headers["retry-after"]) >= 1


def test_the_right_password_waits_for_the_delay_then_resets(chat: UI) -> None:
    chat.throttle.free, chat.throttle.base, chat.throttle.cap = 2, 0.5, 1.0
    with httpx.Client() as http:
        assert [chat.login(http, "wrong").status_code for _ in range(2)] == [400, 400]
        locked = chat.login(http, PASSWORD)
        assert locked.status_code == 429
        assert locked.json() == {"detail": "Too many failed sign-ins from this address: try "
                                           "again in 1 s (the wait doubles with each failure)."}
        assert locked.headers["retry-after"] == "1"
        time.sleep(0.6)
        assert chat.login(http, PASSWORD).status_code == 200
        # a success clears the record: the next failure is the first again, not a lock
        assert chat.login(http, "wrong").status_code == 400
        assert chat.login(http, PASSWORD).status_code == 200


def test_without_a_password_there_is_no_login_to_throttle(
    fake_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[dict[str, Any]] = []

    class Blocks:
        def queue(self, **_: Any) -> None: ...
        def launch(self, **kw: Any) -> None:
            launched.append(kw)

    monkeypatch.setattr(ui, "build_app", lambda assistant: Blocks())
    ui.launch(fake_assistant, port=1, block=False)
    ui.launch(fake_assistant, port=1, block=False, auth=[(USER, PASSWORD)])
    names = [[m.cls.__name__ for m in kw["app_kwargs"]["middleware"]] for kw in launched]
    assert names == [["SameOrigin"], ["SameOrigin", "ThrottledLogin"]]
    assert all(kw["ssr_mode"] is False and kw["share"] is False for kw in launched)


# -- the throttle itself (pure) -----------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_delay_doubles_per_failure_up_to_the_cap_per_client() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, base=1.0, cap=10.0, clock=clock)
    assert [throttle.begin("a") for _ in range(3)] == [0, 0, 0]
    waits = []
    for _ in range(6):
        waits.append(throttle.begin("a"))  # refused: the lock set by the last failure
        assert throttle.begin("a") == waits[-1]  # refused attempts do not extend it
        clock.now += waits[-1]
        assert throttle.begin("a") == 0  # checked (and counted) once it has passed
    assert waits == [1, 2, 4, 8, 10, 10]
    assert throttle.begin("b") == 0  # another client is not held up
    throttle.success("a")
    assert throttle.begin("a") == 0


def test_the_throttle_forgets_the_oldest_clients_beyond_its_bound() -> None:
    throttle = LoginThrottle(free=1, base=60, clock=Clock(), max_clients=3)
    for client in "abcd":
        throttle.begin(client)
    assert throttle.begin("a") == 0  # dropped, so not locked any more
    assert throttle.begin("d") == 60


def test_the_message_rounds_the_wait_up() -> None:
    assert too_many_attempts(0.2) == ("Too many failed sign-ins from this address: try again in "
                                      "1 s (the wait doubles with each failure).")
    assert "in 3 s" in too_many_attempts(2.01)
