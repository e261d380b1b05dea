"""`assistant serve`: an OpenAI-compatible HTTP API over one `Assistant`.

    GET  /health                 liveness, without a key (for load balancers)
    GET  /v1/models              the configured model name and the alias `docs-assistant`
    POST /v1/chat/completions    OpenAI chat completions, streamed (SSE) or not, plus `sources`
    POST /ingest                 multipart upload of files, kept in DATA_DIR/uploads and ingested
    GET  /sources                the ingested documents
    DELETE /sources?source=PATH  remove one document (and its upload, if it was one)

Paths reach clients as `ingest.names.ClientPaths` shows them (uploads as `uploads/...`, files
under the owner's home as `~/...`), and come back in that form or as stored.

The routes are in `assistant.http.routes`, the key, token and body limit in
`assistant.http.guards`, the error replies in `assistant.http.replies`; this module wires them.

Concurrency: handlers run in a thread pool, so many clients can wait at once. Each request has
its own answer generator, so outputs never mix. A chat completion first enters
`Assistant.capacity`: `slots` answers run at once (the local llama.cpp model batches them), up
to `queue_size` more wait in arrival order, and beyond that, or after `queue_timeout_s`, the
reply is 503 with Retry-After (OpenAI's clients wait and retry by themselves). A streamed answer
whose client goes away is stopped (`routes.ClosingStream`). Writes (uploads and ingests) take one
lock among themselves, since two ingests of the same file would race on its old chunks;
questions keep being answered meanwhile. While another process writes to the knowledge base
(`ingest.lock`), writes answer 409 at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

from assistant.errors import ConfigError
from assistant.http.guards import BodyLimit, Keys, render_refusal
from assistant.http.replies import ErrorReplies
from assistant.http.routes import DocumentRoutes, ModelRoutes
from assistant.http.wire import MODEL_ALIAS
from assistant.origin import (
    TOKEN_FILE,
    HostPolicy,
    SameOrigin,
    is_loopback,
    local_token,
    resolve_api_key,
)
from assistant.uploads import uploads_folder
from ingest.names import client_paths

if TYPE_CHECKING:
    from assistant.api import Assistant


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not api_key and not is_loopback(host):
        raise ConfigError(
            f"Refusing to serve on {host} without an API key.",
            fix="set ASSISTANT_API_KEY (or pass --api-key KEY) and send it as "
            "'Authorization: Bearer KEY', or bind to 127.0.0.1",
        )


def create_app(
    assistant: Assistant, *, api_key: str | None = None, max_request_bytes: int | None = None,
    host: str = "127.0.0.1",
) -> FastAPI:
    """The FastAPI app; `api_key` (default `settings.api_key`) guards all but /health.

    `host` is the address it is served on, for the Host and Origin checks (`assistant.origin`).
    Without a key, uploads and removals need the local token in `<data_dir>/api-token`."""
    settings = assistant.settings
    api_key = resolve_api_key(api_key, settings)
    token = None if api_key else local_token(Path(settings.data_dir) / TOKEN_FILE)
    paths = client_paths(uploads_folder(settings))
    # Build the lazily made parts now: two first requests at once would each build their own.
    _ = assistant.store, assistant.embeddings, assistant.chain

    app = FastAPI(title="docs-assistant", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=max_request_bytes or settings.max_request_bytes)
    policy = HostPolicy.for_bind(host, settings.allowed_hosts)
    app.add_middleware(SameOrigin, policy=policy, render=render_refusal)  # outermost: first
    ErrorReplies(paths).install(app)
    keys = Keys(api_key, token)
    guarded = [Depends(keys.authorize)]
    writes = [*guarded, Depends(keys.authorize_write)]
    ModelRoutes(assistant, [settings.llm, MODEL_ALIAS], paths).mount(app, guarded)
    DocumentRoutes(assistant, paths).mount(app, guarded, writes)
    return app


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 8200,
          api_key: str | None = None) -> None:
    """Run the API with uvicorn until interrupted; refuses a public bind without a key."""
    import uvicorn

    api_key = resolve_api_key(api_key, assistant.settings)
    check_bind(host, api_key)
    uvicorn.run(create_app(assistant, api_key=api_key, host=host), host=host, port=port,
                log_level="warning", server_header=False)
