"""Who and what `assistant serve` lets in: the API key, the local token for writes, the request
body limit, and how the Host/Origin checks (`assistant.origin`) word a refusal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

# FastAPI reads the dependencies' annotations at runtime, so these are real imports.
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.http.wire import ApiError, error_body
from assistant.origin import TOKEN_FILE, bearer_matches

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send


class Keys:
    """The key every route but /health needs, and the local token writes need without a key
    (a web page cannot read its file); as FastAPI dependencies."""

    def __init__(self, api_key: str | None, token: str | None) -> None:
        self.api_key, self.token = api_key, token

    def authorize(self, request: Request) -> None:
        if not self.api_key:
            return
        if not bearer_matches(request.headers.get("authorization"), self.api_key):
            raise ApiError(401, "Missing or wrong API key: send 'Authorization: Bearer KEY'.",
                           code="invalid_api_key")

    def authorize_write(self, request: Request) -> None:
        if self.token is not None and not bearer_matches(request.headers.get("authorization"),
                                                         self.token):
            raise ApiError(401, "Uploads and removals need the local token: send "
                           "'Authorization: Bearer TOKEN', TOKEN being the content of the file "
                           f"{TOKEN_FILE} in the server's data dir.", code="invalid_api_key")


class BodyLimit:
    """ASGI middleware answering 413 to request bodies over `limit` bytes, declared or sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode()
        if declared.isdigit() and int(declared) > self.limit:
            await JSONResponse(self._body(), status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # a chunked body without a length: stop reading it
                raise HTTPException(413, self._body()["error"]["message"])
            return message

        await self.app(scope, counted, send)

    def _body(self) -> dict[str, Any]:
        return error_body(f"The request body is larger than {self.limit} bytes.",
                          "invalid_request_error", code="request_too_large")


def render_refusal(status: int, message: str, code: str) -> tuple[bytes, bytes]:
    """A refusal of the Host/Origin checks in OpenAI's error envelope."""
    return json.dumps(error_body(message, "invalid_request_error", code=code)).encode(), \
        b"application/json"
