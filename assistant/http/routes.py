"""The routes of `assistant serve`, by group: the model (health, models, chat completions) and
the documents (ingest, list, remove). Each group is a small class over one `Assistant` whose
methods are the handlers; `mount` adds them to the app with the guards they need.

Handlers are plain (not async) functions, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

# FastAPI reads the handlers' annotations at runtime, so these are real imports.
from fastapi import FastAPI, File, UploadFile
from fastapi.responses import StreamingResponse

from assistant import uploads as saving
from assistant.errors import FixableError, describe
from assistant.http.wire import (
    ApiError,
    ChatRequest,
    Completion,
    answer_limit,
    checked_text,
    conversation,
    error_body,
    model_card,
    models_list,
)
from ingest import IngestReport
from ingest.errors import DocumentNotFoundError
from ingest.names import ClientPaths, display_name

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from assistant.api import AnswerStream, Assistant

log = logging.getLogger(__name__)

Guards = Sequence[Any]  # FastAPI dependencies (`Depends(...)`)


class ModelRoutes:
    """GET /health, GET /v1/models[/NAME], POST /v1/chat/completions."""

    def __init__(self, assistant: Assistant, model_names: list[str], paths: ClientPaths) -> None:
        self.assistant, self.model_names, self.paths = assistant, model_names, paths

    def mount(self, app: FastAPI, guarded: Guards) -> None:
        app.add_api_route("/health", self.health, methods=["GET"])
        app.add_api_route("/v1/models", self.models, methods=["GET"], dependencies=guarded)
        app.add_api_route("/v1/models/{name:path}", self.model, methods=["GET"],
                          dependencies=guarded)
        app.add_api_route("/v1/chat/completions", self.chat_completions, methods=["POST"],
                          dependencies=guarded, response_model=None)

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", "model": self.assistant.settings.llm}

    def models(self) -> dict[str, Any]:
        return models_list(self.model_names)

    def model(self, name: str) -> dict[str, Any]:
        self._check_model(name)
        return model_card(name)

    def chat_completions(self, request: ChatRequest) -> dict[str, Any] | StreamingResponse:
        """Answer once a slot is free (`Assistant.capacity`: a full queue or a long wait is a
        503 with Retry-After); a stream whose client goes away stops its answer."""
        self._check_model(request.model)
        question, history = conversation(request)
        completion = Completion(request.model, show=self.paths.show)
        wanted = [self.paths.stored(s) for s in request.sources] if request.sources else None
        limit = answer_limit(request)
        turn = self.assistant.capacity.enter()
        if not request.stream:
            try:
                return completion.full(self.assistant.ask(question, history, wanted, limit))
            finally:
                turn.leave()
        try:
            # An empty index or a filter matching nothing fails here, before the stream starts.
            stream = self.assistant.stream(question, history, wanted, limit)
        except BaseException:
            turn.leave()
            raise

        def done() -> None:
            stream.close()
            turn.leave()

        return ClosingStream(
            sse(completion, stream), done, media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def _check_model(self, name: str) -> None:
        if name not in self.model_names:
            raise ApiError(404, f"The model '{name}' is not served here. Fix: use one of "
                           f"{', '.join(repr(k) for k in self.model_names)} (GET /v1/models).",
                           param="model", code="model_not_found")


class ClosingStream(StreamingResponse):
    """A response that calls `done` when it ends, also when the client went away (Starlette
    then only stops reading the content, and the answer would run on until garbage collection
    closed it): `done` stops the answer and gives its slot back."""

    def __init__(self, content: Iterator[str], done: Callable[[], None], **options: Any) -> None:
        super().__init__(content, **options)
        self.done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # the content is idle here: Starlette waits for its thread when cancelled
            await anyio.to_thread.run_sync(self.done)


def sse(completion: Completion, stream: AnswerStream) -> Iterator[str]:
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


class DocumentRoutes:
    """POST /ingest, GET /sources, DELETE /sources?source=PATH.

    Writes take one lock among themselves (two ingests of the same file would race on its old
    chunks) and answer 409 at once while another process writes (`ingest.lock`)."""

    def __init__(self, assistant: Assistant, paths: ClientPaths) -> None:
        self.assistant, self.paths = assistant, paths
        self.folder = saving.uploads_folder(assistant.settings)
        self.write_lock = threading.Lock()

    def mount(self, app: FastAPI, guarded: Guards, writes: Guards) -> None:
        app.add_api_route("/ingest", self.ingest, methods=["POST"], dependencies=writes)
        app.add_api_route("/sources", self.sources, methods=["GET"], dependencies=guarded)
        app.add_api_route("/sources", self.remove, methods=["DELETE"], dependencies=writes)

    def ingest(self, files: list[UploadFile] = File(...)) -> dict[str, Any]:  # noqa: B008
        for upload in files:  # one unusable name refuses the request before anything is written
            upload_name(upload.filename)
        # Another process writing (a CLI ingest): answer 409 at once rather than hold the
        # request for as long as that takes; nothing is saved then.
        with self.write_lock, self.assistant.writing(wait=False):
            saved = saving.receive([(f.filename or "", f.file) for f in files],
                                   self.assistant.settings)
            if saved.over_limit:  # nothing is ingested from a request over a limit
                saved.settle(())
                name, reason = saved.over_limit
                raise ApiError(413, f"'{display_name(name)}': {reason}.", param="files",
                               code="upload_too_large")
            kept: set[str] | None = None
            try:  # a file that could not be ingested is not kept; the copy it replaced is
                report = self.assistant.ingest(saved.files) if saved.files else IngestReport()
                kept = {*report.added, *report.updated, *report.unchanged}
            finally:
                saved.settle(kept)
        return ingest_reply(report, saved.rejected, self.paths)

    def sources(self) -> dict[str, Any]:
        return {"documents": [
            {"source": self.paths.show(d.source), "chunks": d.chunks,
             "content_hash": d.content_hash, "complete": d.complete}
            for d in self.assistant.documents()
        ]}

    def remove(self, source: str) -> dict[str, Any]:
        with self.write_lock, self.assistant.writing(wait=False):
            stored = self.paths.stored(checked_text(source, "source"))
            if stored not in {d.source for d in self.assistant.documents()}:
                raise DocumentNotFoundError(  # never a path resolved on the server
                    f"No document for '{display_name(source)}' in the knowledge base",
                    fix="GET /sources lists the documents")
            self.assistant.remove(stored)
            saving.delete_copy(stored, self.folder)  # an upload is the server's copy: it goes too
        return {"removed": self.paths.show(stored)}


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
