"""Who may open the chat UI: nobody but this machine, unless a password is set.

The UI reads out the documents and can add or remove them, so serving it beyond localhost
without a password would publish the knowledge base. `check_exposure` refuses that, and
`LoginThrottle` makes guessing the password slow: after a few failed sign-ins from one client,
each further attempt waits a delay that doubles with every failure.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.origin import ASGIApp, Receive, Scope, Send, is_loopback, refuse

Credentials = list[tuple[str, str]]


def parse_auth(value: str, where: str = "--auth") -> tuple[str, str]:
    """`user:password` as a pair; both parts must be non-empty."""
    user, sep, password = value.strip().partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"{where} must look like user:password.",
                          fix="give a user name and a password separated by ':'")
    return user, password


def read_auth_file(path: Path) -> Credentials:
    """One `user:password` per line; blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the auth file {path}: {exc.strerror or exc}.",
                          fix="give the path of a file with one user:password per line") from exc
    pairs = [parse_auth(line, f"Line {n} of {path}") for n, line in enumerate(lines, start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not pairs:
        raise ConfigError(f"The auth file {path} has no user:password line.",
                          fix="add a line such as alice:some-long-password")
    return pairs


def check_exposure(host: str, auth: Credentials | None) -> None:
    """Refuse to serve on a non-loopback address without credentials."""
    if not is_loopback(host) and not auth:
        raise ConfigError(
            f"Refusing to serve the chat on {host} without a password: anyone who can reach "
            "it could read and change your documents.",
            fix="add --auth user:password or --auth-file FILE (one user:password per line), "
            "or serve on --host 127.0.0.1",
        )


class LoginThrottle:
    """Failed sign-ins per client: after `free` of them, a lock of `base` s, doubling, capped.

    An attempt counts as failed from the moment it starts (so a burst sent at once is counted
    whole) until `success` clears the client's record."""

    def __init__(self, free: int = 5, base: float = 1.0, cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self.max_clients = max_clients
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, locked until)
        self._lock = threading.Lock()

    def begin(self, client: str) -> float:
        """Seconds `client` must wait, or 0 when its attempt may be checked (and is counted)."""
        with self._lock:
            now = self.clock()
            failures, until = self._failures.pop(client, (0, 0.0))
            if now < until:
                self._failures[client] = (failures, until)
                return until - now
            failures += 1
            if failures >= self.free:
                until = now + min(self.cap, self.base * 2 ** (failures - self.free))
            self._failures[client] = (failures, until)  # the newest last, the oldest first out
            if len(self._failures) > self.max_clients:
                del self._failures[next(iter(self._failures))]
            return 0.0

    def success(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def too_many_attempts(wait: float) -> str:
    return (f"Too many failed sign-ins from this address: try again in {math.ceil(wait)} s "
            "(the wait doubles with each failure).")


class ThrottledLogin:
    """ASGI middleware putting a `LoginThrottle` in front of gradio's `POST /login`.

    Gradio's auth callback sees only the user name and password, so the client is known here:
    a locked client gets 429 without its password being checked; a 200 clears its record."""

    def __init__(self, app: ASGIApp, throttle: LoginThrottle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or \
                path.rsplit("/", 1)[-1] != "login":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.begin(client)
        if wait > 0:
            body = json.dumps({"detail": too_many_attempts(wait)}).encode()
            await refuse(scope, send, 429, body, b"application/json",
                         [(b"retry-after", str(math.ceil(wait)).encode())])
            return

        async def watched(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self.throttle.success(client)
            await send(message)

        await self.app(scope, receive, watched)
