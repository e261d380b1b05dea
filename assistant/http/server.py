"""`assistant serve`: an OpenAI-compatible HTTP API over one `Assistant`.

    GET  /health                 liveness, without a key (for load balancers)
    GET  /v1/models              the configured model name and the alias `docs-assistant`
    POST /v1/chat/completions    OpenAI chat completions, streamed (SSE) or not, plus `sources`
    POST /ingest                 multipart upload of files, kept in DATA_DIR/uploads and ingested
    GET  /sources                the ingested documents
    DELETE /sources?source=PATH  remove one document (and its upload, if it was one)

Paths reach clients as `ingest.names.ClientPaths` shows them (uploads as `uploads/...`, files
under the owner's home as `~/...`), and come back in that form or as stored.

Concurrency: handlers run in a thread pool, so many clients can wait at once. Each request has
its own answer generator, so outputs never mix; the local llama.cpp model serialises its calls
with a lock, so requests queue for it. Writes (uploads and ingests) take one lock among
themselves, since two ingests of the same file would race on its old chunks; questions keep
being answered meanwhile. While another process writes to the knowledge base (`ingest.lock`),
writes answer 409 at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# FastAPI reads the route signatures' annotations at runtime, so these are real imports.
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from assistant import uploads as saving
from assistant.errors import (
    ConfigError,
    EmptyIndexError,
    EmptyQuestionError,
    FixableError,
    ModelCallError,
    NoMatchingSourceError,
    PathNotFoundError,
    StoreError,
    describe,
)
from assistant.http.wire import (
    MODEL_ALIAS,
    ApiError,
    ChatRequest,
    Completion,
    checked_text,
    conversation,
    error_body,
    model_card,
    models_list,
)
from assistant.origin import (
    TOKEN_FILE,
    HostPolicy,
    SameOrigin,
    bearer_matches,
    is_loopback,
    local_token,
)
from ingest import IngestReport
from ingest.errors import DocumentNotFoundError, KnowledgeBaseBusyError
from ingest.names import ClientPaths, client_paths, display_name

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from assistant.api import AnswerStream, Assistant

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
    (StoreError, 503),
]


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not api_key and not is_loopback(host):
        raise ConfigError(
            f"Refusing to serve on {host} without an API key.",
            fix="set ASSISTANT_API_KEY (or pass --api-key KEY) and send it as "
            "'Authorization: Bearer KEY', or bind to 127.0.0.1",
        )


def upload_name(raw: str | None) -> str:
    """The file name an upload is stored under (`uploads.plain_name`), or a 400 saying why not."""
    try:
        return saving.plain_name(raw)
    except saving.Refused as exc:
        raise ApiError(400, f"Unusable file name '{display_name(raw or '')}' ({exc}): give a "
                       "plain, visible file name.", param="files") from None


def ingest_reply(report: IngestReport, refused: list[tuple[str, str]],
                 paths: ClientPaths) -> dict[str, Any]:
    """The `/ingest` answer: the report with paths in the client's form; refused uploads are
    listed as failed, under the name the client gave."""
    def listed(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"source": paths.show(s), "reason": display_name(paths.scrub(r))}
                for s, r in pairs]

    return {
        "added": [paths.show(s) for s in report.added],
        "updated": [paths.show(s) for s in report.updated],
        "unchanged": [paths.show(s) for s in report.unchanged],
        "failed": listed(refused + report.failed), "skipped": listed(report.skipped),
        "chunks": report.chunks, "summary": report.summary(),
    }


def _status(exc: FixableError) -> int:
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 500)


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


def create_app(
    assistant: Assistant, *, api_key: str | None = None, max_request_bytes: int | None = None,
    host: str = "127.0.0.1",
) -> FastAPI:
    """The FastAPI app; `api_key` (default `settings.api_key`) guards all but /health.

    `host` is the address it is served on, for the Host and Origin checks (`assistant.origin`).
    Without a key, uploads and removals need the local token in `<data_dir>/api-token`."""
    settings = assistant.settings
    if api_key is None and settings.api_key is not None:
        api_key = settings.api_key.get_secret_value()
    policy = HostPolicy.for_bind(host, settings.allowed_hosts)
    token = None if api_key else local_token(Path(settings.data_dir) / TOKEN_FILE)
    model_names = [settings.llm, MODEL_ALIAS]
    uploads = Path(settings.data_dir) / "uploads"
    paths = client_paths(uploads)
    limits = saving.Limits(max_bytes=int(settings.upload_max_mb * 2**20),
                           max_files=settings.upload_max_files)
    write_lock = threading.Lock()
    # Build the lazily made parts now: two first requests at once would each build their own.
    _ = assistant.store, assistant.embeddings, assistant.chain

    def authorize(request: Request) -> None:
        if not api_key:
            return
        if not bearer_matches(request.headers.get("authorization"), api_key):
            raise ApiError(401, "Missing or wrong API key: send 'Authorization: Bearer KEY'.",
                           code="invalid_api_key")

    def authorize_write(request: Request) -> None:
        """Without a key, writes need the local token: a web page cannot read its file."""
        if token is not None and not bearer_matches(request.headers.get("authorization"), token):
            raise ApiError(401, "Uploads and removals need the local token: send "
                           "'Authorization: Bearer TOKEN', TOKEN being the content of the file "
                           f"{TOKEN_FILE} in the server's data dir.", code="invalid_api_key")

    app = FastAPI(title="docs-assistant", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=max_request_bytes or settings.max_request_bytes)
    app.add_middleware(SameOrigin, policy=policy, render=_render)  # outermost: checked first
    guarded = [Depends(authorize)]
    writes = [*guarded, Depends(authorize_write)]

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            message, param = "The request body is not valid JSON.", None
        else:
            loc = [str(part) for part in first.get("loc", ()) if part != "body"]
            param = ".".join(loc) or None
            message = f"{param or 'body'}: {first.get('msg', 'invalid value')}."
        return JSONResponse(error_body(message, "invalid_request_error", param), status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), "invalid_request_error"),
                            status_code=exc.status_code)

    @app.exception_handler(FixableError)
    async def fixable(_: Request, exc: FixableError) -> JSONResponse:
        status = _status(exc)
        kind = "invalid_request_error" if status < 500 else "server_error"
        return JSONResponse(error_body(paths.scrub(describe(exc)), kind), status_code=status)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed")
        return JSONResponse(error_body(f"Internal error ({type(exc).__name__}).", "server_error"),
                            status_code=500)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": settings.llm}

    @app.get("/v1/models", dependencies=guarded)
    def models() -> dict[str, Any]:
        return models_list(model_names)

    @app.get("/v1/models/{name:path}", dependencies=guarded)
    def model(name: str) -> dict[str, Any]:
        if name not in model_names:
            raise _unknown_model(name, model_names)
        return model_card(name)

    @app.post("/v1/chat/completions", dependencies=guarded, response_model=None)
    def chat_completions(request: ChatRequest) -> dict[str, Any] | StreamingResponse:
        if request.model not in model_names:
            raise _unknown_model(request.model, model_names)
        question, history = conversation(request)
        completion = Completion(request.model, show=paths.show)
        wanted = [paths.stored(s) for s in request.sources] if request.sources else None
        if not request.stream:
            return completion.full(assistant.ask(question, history, wanted))
        # An empty index or a filter matching nothing fails here, before the stream starts.
        stream = assistant.stream(question, history, wanted)
        return StreamingResponse(
            _sse(completion, stream), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/ingest", dependencies=writes)
    def ingest(files: list[UploadFile] = File(...)) -> dict[str, Any]:  # noqa: B008
        for upload in files:  # one unusable name refuses the request before anything is written
            upload_name(upload.filename)
        # Another process writing (a CLI ingest): answer 409 at once rather than hold the
        # request for as long as that takes; nothing is saved then.
        with write_lock, assistant.writing(wait=False):
            saved = saving.save_uploads([(f.filename or "", f.file) for f in files], uploads,
                                        limits)
            if saved.over_limit:  # nothing is ingested from a request over a limit
                saved.settle(())
                name, reason = saved.over_limit
                raise ApiError(413, f"'{display_name(name)}': {reason}.", param="files",
                               code="upload_too_large")
            kept: set[str] | None = None
            try:  # a file that could not be ingested is not kept; the copy it replaced is
                report = assistant.ingest(saved.files) if saved.files else IngestReport()
                kept = {*report.added, *report.updated, *report.unchanged}
            finally:
                saved.settle(kept)
        return ingest_reply(report, saved.rejected, paths)

    @app.get("/sources", dependencies=guarded)
    def sources() -> dict[str, Any]:
        return {"documents": [
            {"source": paths.show(d.source), "chunks": d.chunks, "content_hash": d.content_hash,
             "complete": d.complete}
            for d in assistant.documents()
        ]}

    @app.delete("/sources", dependencies=writes)
    def remove(source: str) -> dict[str, Any]:
        with write_lock, assistant.writing(wait=False):
            stored = paths.stored(checked_text(source, "source"))
            if stored not in {d.source for d in assistant.documents()}:
                raise DocumentNotFoundError(  # never a path resolved on the server
                    f"No document for '{display_name(source)}' in the knowledge base",
                    fix="GET /sources lists the documents")
            assistant.remove(stored)
            saving.delete_copy(stored, uploads)  # an upload is the server's copy: it goes too
        return {"removed": paths.show(stored)}

    return app


def _render(status: int, message: str, code: str) -> tuple[bytes, bytes]:
    """A refusal of the Host/Origin checks in OpenAI's error envelope."""
    return json.dumps(error_body(message, "invalid_request_error", code=code)).encode(), \
        b"application/json"


def _unknown_model(name: str, known: list[str]) -> ApiError:
    return ApiError(404, f"The model '{name}' is not served here. Fix: use one of "
                    f"{', '.join(repr(k) for k in known)} (GET /v1/models).",
                    param="model", code="model_not_found")


def _sse(completion: Completion, stream: AnswerStream) -> Iterator[str]:
    """Server-sent events: a role chunk, the text pieces, a closing chunk with the sources.

    The response has started when this runs, so a failure is sent as an `error` event (the
    OpenAI clients raise it) instead of a status code.
    """

    def event(payload: dict[str, Any]) -> str:
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield event(completion.chunk({"role": "assistant", "content": ""}))
    try:
        for piece in stream:
            yield event(completion.chunk({"content": piece}))
        assert stream.answer is not None  # the chain always ends with an Answer
        yield event(completion.last_chunk(stream.answer))
    except FixableError as exc:
        yield event(error_body(describe(exc), "server_error"))
    except Exception as exc:  # the client gets a line, the log the traceback
        log.exception("streaming an answer failed")
        yield event(error_body(f"Internal error ({type(exc).__name__}).", "server_error"))
    yield "data: [DONE]\n\n"


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 8200,
          api_key: str | None = None) -> None:
    """Run the API with uvicorn until interrupted; refuses a public bind without a key."""
    import uvicorn

    settings = assistant.settings
    if api_key is None and settings.api_key is not None:
        api_key = settings.api_key.get_secret_value()
    check_bind(host, api_key)
    uvicorn.run(create_app(assistant, api_key=api_key, host=host), host=host, port=port,
                log_level="warning", server_header=False)
