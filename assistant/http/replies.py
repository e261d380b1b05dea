"""How `assistant serve` answers a failure: every error as OpenAI's error envelope, with the
status a client can act on (4xx for what it can fix, 5xx for the server's side)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

# FastAPI reads the handlers' annotations at runtime, so these are real imports.
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.capacity import BusyError
from assistant.errors import (
    EmptyIndexError,
    EmptyQuestionError,
    FixableError,
    ModelCallError,
    NoMatchingSourceError,
    PathNotFoundError,
    StoreError,
    describe,
)
from assistant.http.wire import ApiError, error_body
from ingest.errors import DocumentNotFoundError, KnowledgeBaseBusyError

if TYPE_CHECKING:
    from ingest.names import ClientPaths

log = logging.getLogger(__name__)

# HTTP status for the errors a client can cause or be told about; anything else is a 500.
_STATUS: list[tuple[type[Exception], int]] = [
    (EmptyQuestionError, 400),
    (PathNotFoundError, 400),
    (NoMatchingSourceError, 400),
    (DocumentNotFoundError, 404),
    (EmptyIndexError, 409),
    (KnowledgeBaseBusyError, 409),
    (ModelCallError, 502),
    (BusyError, 503),
    (StoreError, 503),
]


def status_of(exc: FixableError) -> int:
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 500)


class ErrorReplies:
    """The app's exception handlers; paths in messages are shown as the client sees them."""

    def __init__(self, paths: ClientPaths) -> None:
        self.paths = paths

    def install(self, app: FastAPI) -> None:
        # starlette types a handler as taking any Exception; each here takes its own class
        app.add_exception_handler(ApiError, self.api_error)  # type: ignore[arg-type]
        app.add_exception_handler(RequestValidationError, self.invalid)  # type: ignore[arg-type]
        app.add_exception_handler(HTTPException, self.http_error)  # type: ignore[arg-type]
        app.add_exception_handler(FixableError, self.fixable)  # type: ignore[arg-type]
        app.add_exception_handler(Exception, self.crashed)

    async def api_error(self, _: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def invalid(self, _: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            message, param = "The request body is not valid JSON.", None
        else:
            loc = [str(part) for part in first.get("loc", ()) if part != "body"]
            param = ".".join(loc) or None
            message = f"{param or 'body'}: {first.get('msg', 'invalid value')}."
        return JSONResponse(error_body(message, "invalid_request_error", param), status_code=400)

    async def http_error(self, _: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), "invalid_request_error"),
                            status_code=exc.status_code)

    async def fixable(self, _: Request, exc: FixableError) -> JSONResponse:
        status = status_of(exc)
        kind = "invalid_request_error" if status < 500 else "server_error"
        if isinstance(exc, BusyError):  # OpenAI's clients wait Retry-After, then try again
            return JSONResponse(error_body(describe(exc), kind, code="server_busy"),
                                status_code=status,
                                headers={"Retry-After": str(exc.retry_after)})
        return JSONResponse(error_body(self.paths.scrub(describe(exc)), kind),
                            status_code=status)

    async def crashed(self, _: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed")
        return JSONResponse(error_body(f"Internal error ({type(exc).__name__}).", "server_error"),
                            status_code=500)
