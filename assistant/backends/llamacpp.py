"""A LangChain chat model that runs a GGUF file in-process with xllamacpp (llama.cpp)."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.errors import ModelCallError

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
_servers: dict[tuple[str, int, int, int, int], Any] = {}
_servers_lock = threading.Lock()
_DONE = object()
# Request fields a caller may bind (`llm.bind(logprobs=True, top_logprobs=10)`); llama.cpp's
# `logit_bias` takes [[token text or id, bias or false], ...], false meaning never.
_PASSED = ("logprobs", "top_logprobs", "logit_bias")
# Prompt tokens read per step. A stream is only told of progress between steps, so this bounds
# how long a cancelled request keeps reading its prompt; 128 read as fast as 512 on 2 cores.
PROMPT_BATCH = 128


def _server(path: str, n_ctx: int, threads: int, slots: int, cache_mb: int) -> Any:
    """One llama.cpp server per model file, loaded once per process and shared.

    It runs `slots` requests at once with continuous batching; each slot has its own `n_ctx`
    and keeps its last prompt cached, and requests beyond the slots wait in its queue.
    `cache_mb` bounds llama.cpp's RAM cache of prompts the slots moved on from (its own
    default, 8 GiB, grows by each distinct prompt's context until reached)."""
    key = (path, n_ctx, threads, slots, cache_mb)
    with _servers_lock:
        if key not in _servers:
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = path
            params.n_parallel = slots
            params.n_ctx = n_ctx * slots  # llama.cpp splits the context among the slots
            params.n_batch = params.n_ubatch = PROMPT_BATCH
            params.cache_ram_mib = cache_mb
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.verbosity = -1  # llama.cpp logs to stderr; keep the CLI clean
            _servers[key] = xllamacpp.Server(params)
        return _servers[key]


def _usage(usage: dict[str, Any]) -> UsageMetadata:
    """LangChain's usage, with the prompt tokens llama.cpp found cached (not read again)."""
    cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
    return UsageMetadata(input_tokens=usage.get("prompt_tokens", 0),
                         output_tokens=usage.get("completion_tokens", 0),
                         total_tokens=usage.get("total_tokens", 0),
                         input_token_details={"cache_read": cached})


class ChatLlamaCpp(BaseChatModel):
    """Chat completions from a local GGUF model, `slots` requests at once.

    A stream that is closed before its end (`generator.close()`, as when its reader goes away)
    stops its generation at the next token or prompt step, which frees the slot."""

    model_path: str
    n_ctx: int = 4096  # per slot
    threads: int = 0  # 0 = all cores
    slots: int = 1
    prompt_cache_mb: int = 0  # RAM for prompts a slot moved on from; 0 = none, memory stays flat
    max_tokens: int = 256
    temperature: float = 0.0
    reports_logprobs: bool = True  # takes logprobs/top_logprobs/logit_bias: the chain calibrates

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any
    ) -> dict:
        """An OpenAI-style request; `max_tokens` and `temperature` may be overridden per call."""
        body: dict[str, Any] = {
            "messages": [
                {"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages
            ],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stream": stream,
        }
        if stop:
            body["stop"] = stop
        for name in _PASSED:  # token probabilities and bans, when the caller binds them
            if name in kwargs:
                body[name] = kwargs[name]
        return body

    def _load(self) -> Any:
        return _server(self.model_path, self.n_ctx, self.threads or os.cpu_count() or 1,
                       self.slots, self.prompt_cache_mb)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._load().handle_chat_completions(self._request(messages, stop, False, **kwargs))
        if "error" in reply:
            raise ModelCallError(f"llama.cpp failed: {reply['error']}", fix="see the log above")
        usage = reply.get("usage", {})
        choice = reply["choices"][0]
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"logprobs": choice["logprobs"]} if choice.get("logprobs") else {},
            usage_metadata=_usage(usage),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        server = self._load()
        chunks: queue.Queue[Any] = queue.Queue()
        body = {**self._request(messages, stop, True, **kwargs), "return_progress": True,
                "stream_options": {"include_usage": True}}
        gone = threading.Event()  # set when our reader stops: llama.cpp then drops the request

        def take(chunk: Any) -> bool:
            chunks.put(chunk)
            return gone.is_set()  # True tells llama.cpp to stop and free the slot

        def work() -> None:
            try:
                server.handle_chat_completions(body, take)
            except Exception as exc:  # surfaced to the consumer below
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        threading.Thread(target=work, daemon=True).start()
        try:
            while (item := chunks.get()) is not _DONE:
                yield from self._chunks(item, run_manager)
        finally:
            gone.set()

    def _chunks(self, item: Any, run_manager: CallbackManagerForLLMRun | None
                ) -> Iterator[ChatGenerationChunk]:
        """The LangChain chunks of one streamed llama.cpp event (none for a progress event)."""
        if isinstance(item, Exception):
            raise ModelCallError(f"llama.cpp failed: {item}", fix="see the log above")
        if "error" in item:
            raise ModelCallError(f"llama.cpp failed: {item['error']}", fix="see the log above")
        for choice in item.get("choices", []):
            text = choice.get("delta", {}).get("content")
            if text:
                logprobs = choice.get("logprobs")
                chunk = ChatGenerationChunk(message=AIMessageChunk(
                    content=text,
                    response_metadata={"logprobs": logprobs} if logprobs else {},
                ))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        if item.get("usage"):  # the last event: what the request read and wrote
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", usage_metadata=_usage(item["usage"])))
