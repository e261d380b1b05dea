"""Which requests the local servers answer: their own pages only, never another site's.

Both `assistant serve` and the chat UI listen on this machine, where any web page the user
opens can send them requests. Three rules keep such pages out:

- **Host**: a DNS-rebinding page reaches 127.0.0.1 under its own name (`Host:
  attacker.example`), so a server bound to loopback answers only `localhost`, loopback
  addresses, the name it was bound to and `ASSISTANT_ALLOWED_HOSTS`. A server bound beyond
  loopback requires a key or password anyway, and then answers any Host unless the allow-list
  is set.
- **Origin**: a browser names the page behind every POST, PUT, PATCH, DELETE, websocket and
  cross-origin read; a request from another page's origin is refused with 403, and so is a
  write or websocket marked `Sec-Fetch-Site: cross-site` (sent even where Origin is not).
  (Gradio's own CORS rules would let any `localhost` port read the UI's GET endpoints.)
- **Local token**: for browsers that send no Origin, `serve` keeps a random token in
  `<data_dir>/api-token` (readable by this user only) that uploads and removals need when no
  API key is set; a web page cannot read that file.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.settings import Settings

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (status, message, code) -> (body, content type)
Render = Callable[[int, str, str], tuple[bytes, bytes]]

TOKEN_FILE = "api-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ANY_INTERFACE = ("0.0.0.0", "::", "[::]", "")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def is_loopback(host: str) -> bool:
    """True for loopback addresses and `localhost`; `0.0.0.0` and `::` mean every interface."""
    name = host.strip().lower()
    if name.removesuffix(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def split_host(value: str) -> tuple[str, int | None]:
    """`name[:port]` (IPv6 in brackets) as a lower-case name and a port, or ValueError."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(value)
        name, rest = value[: end + 1], value[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(value)
        port = rest[1:]
    else:
        name, _, port = value.partition(":")
    if not name or (port and not port.isdigit()) or ":" in port:
        raise ValueError(value)
    return name.removesuffix("."), int(port) if port else None


def parse_allowed_hosts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """`ASSISTANT_ALLOWED_HOSTS`: comma-separated `name[:port]` entries, or `*` for any."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    hosts = []
    for item in (i.strip() for i in items):
        if item == "*":
            hosts.append(item)
        elif item:
            try:
                name, port = split_host(item)
            except ValueError:
                raise ConfigError(f"ASSISTANT_ALLOWED_HOSTS has an unusable entry {item!r}.",
                                  fix="list host names (or name:port), comma-separated, e.g. "
                                  "'assistant.example.com,192.168.1.5:7860'") from None
            hosts.append(name if port is None else f"{name}:{port}")
    return tuple(hosts)


@dataclass(frozen=True)
class HostPolicy:
    """The Host and Origin rules of one server, from the address it is bound to."""

    bind: str
    allowed: tuple[str, ...] = ()

    @classmethod
    def for_bind(cls, bind: str, allowed: str | Iterable[str] | None = None) -> HostPolicy:
        return cls(bind.strip().lower(), parse_allowed_hosts(allowed))

    @property
    def any_host(self) -> bool:
        """Beyond loopback a key or password is required, so without a list any Host will do."""
        return "*" in self.allowed or (not is_loopback(self.bind) and not self.allowed)

    def allows_host(self, header: str | None) -> bool:
        try:
            name, port = split_host(header or "")
        except ValueError:
            return False
        if self.any_host or is_loopback(name) or self._listed(name, port):
            return True
        bound = self.bind.removesuffix(".")
        return bound not in _ANY_INTERFACE and name in (bound, f"[{bound}]")

    def allows_origin(self, origin: str, host_header: str | None) -> bool:
        """The page's origin is this server as the browser reached it, or a listed name."""
        parts = urlsplit(origin.strip().lower())
        if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
            return False  # `null` (a sandboxed frame, a file:// page) or garbage
        try:
            name, port = split_host(parts.netloc)
            host, host_port = split_host(host_header or "")
        except ValueError:
            return False
        default = _DEFAULT_PORTS[parts.scheme]
        if (name, port or default) == (host, host_port or default):
            return True
        return self._listed(name, port or default)

    def _listed(self, name: str, port: int | None) -> bool:
        return name in self.allowed or (port is not None and f"{name}:{port}" in self.allowed)


def host_refusal(header: str | None) -> str:
    return (f"The Host {_shown(header)} is not served here: a page on another site may be "
            "reaching this server under its own name (DNS rebinding). Fix: open it as "
            "http://127.0.0.1:PORT or http://localhost:PORT, or add the name to "
            "ASSISTANT_ALLOWED_HOSTS.")


def origin_refusal(origin: str | None) -> str:
    page = f"from {_shown(origin)} " if origin else ""
    return (f"Cross-origin request {page}refused: this server answers only its own pages. "
            "Fix: send it from the server's own page or a non-browser client, or add the page's "
            "host to ASSISTANT_ALLOWED_HOSTS.")


def _shown(value: str | None) -> str:
    text = value if value is not None else ""
    return repr(text if len(text) <= 100 else text[:100] + "...")


class SameOrigin:
    """ASGI middleware enforcing a `HostPolicy`: 400 for a foreign Host, 403 for an Origin."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, render: Render) -> None:
        self.app, self.policy, self.render = app, policy, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        host = headers.get("host")
        if not self.policy.allows_host(host):
            await refuse(scope, send, 400, *self.render(400, host_refusal(host), "invalid_host"))
            return
        origin = headers.get("origin")
        writes = scope["type"] == "websocket" or scope.get("method") in UNSAFE_METHODS
        # a link followed from another site is cross-site too, so that alone refuses only writes
        cross = writes and headers.get("sec-fetch-site") == "cross-site"
        if cross or (origin is not None and not self.policy.allows_origin(origin, host)):
            body, kind = self.render(403, origin_refusal(origin), "cross_origin")
            await refuse(scope, send, 403, body, kind)
            return
        await self.app(scope, receive, send)


async def refuse(scope: Scope, send: Send, status: int, body: bytes, content_type: bytes,
                 headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer without calling the app: a response, or a refused websocket handshake (403)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        *headers,
    ]})
    await send({"type": "http.response.body", "body": body})


def plain_text(status: int, message: str, code: str) -> tuple[bytes, bytes]:
    return message.encode(), b"text/plain; charset=utf-8"


# -- the local token and the API key --------------------------------------------------------------
def local_token(path: Path) -> str:
    """The token in `path`, made (mode 0600) if missing; kept across restarts for scripts.

    A file that others can read is replaced by a new token: the old one may have leaked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if not path.stat().st_mode & 0o077:
            token = path.read_text(encoding="ascii").strip()
            if len(token) >= 32:
                return token
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(32)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(token + "\n")
    os.replace(part, path)  # whole or not at all, even with two servers starting at once
    return path.read_text(encoding="ascii").strip()  # the last writer's, if two raced


def resolve_api_key(given: str | None, settings: Settings) -> str | None:
    """The key `assistant serve` requires: `given` (the `--api-key` flag, or a caller's
    argument), else `ASSISTANT_API_KEY`; None when neither is set (an empty key is none).

    The one place the key is looked up: the CLI, `serve` and `create_app` all ask here."""
    if given:
        return given
    return (settings.api_key.get_secret_value() if settings.api_key else "") or None


def bearer_matches(header: str | None, expected: str) -> bool:
    """`Authorization: Bearer <expected>`, compared as bytes in constant time: header values
    arrive as latin-1 text, so their bytes are what the client sent (UTF-8 for a non-ASCII key)."""
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode("latin-1", "replace"), expected.encode("utf-8"))
