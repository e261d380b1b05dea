"""Answer models chosen by a "provider:model" string, each provider imported only when chosen.

    llamacpp:qwen2.5-coder-1.5b   default; in-process llama.cpp, weights from pip packages
    llamacpp:smollm2-135m         a tiny model for fast real tests
    llamacpp:/path/model.gguf     any local GGUF file
    openai:<model>                any OpenAI-compatible server (base URL from settings)
    ollama:<model>                a local Ollama server (needs `pip install langchain-ollama`)
    fake                          deterministic stand-in that quotes the first passage
    <provider>:<model>            any other provider LangChain's `init_chat_model` knows
                                  (anthropic, groq, mistralai...), once its package is installed
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.errors import ConfigError, ModelNotAvailableError, UnknownBackendError
from ingest.text import first_sentence


@dataclass(frozen=True)
class ModelOptions:
    """What any backend may need; each uses the fields that apply to it."""

    models_dir: Path
    max_tokens: int = 256
    temperature: float = 0.0
    n_ctx: int = 4096
    threads: int | None = None
    slots: int = 1  # requests a local model serves at once
    prompt_cache_mb: int = 0  # RAM for prompts a local model's slots moved on from
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    ollama_base_url: str | None = None


def _llamacpp(model: str, opts: ModelOptions) -> BaseChatModel:
    from assistant.backends.llamacpp import ChatLlamaCpp
    from assistant.backends.weights import model_path

    return ChatLlamaCpp(
        model_path=str(model_path(model or "qwen2.5-coder-1.5b", opts.models_dir)),
        n_ctx=opts.n_ctx,
        threads=opts.threads or 0,
        slots=opts.slots,
        prompt_cache_mb=opts.prompt_cache_mb,
        max_tokens=opts.max_tokens,
        temperature=opts.temperature,
    )


def _openai(model: str, opts: ModelOptions) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not model:
        raise ConfigError(
            "No model name after 'openai:'.", fix="e.g. ASSISTANT_LLM=openai:gpt-4o-mini"
        )
    return ChatOpenAI(
        model=model,
        base_url=opts.openai_base_url,
        api_key=opts.openai_api_key or "not-needed",
        max_completion_tokens=opts.max_tokens,
        temperature=opts.temperature,
    )


def _ollama(model: str, opts: ModelOptions) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise ModelNotAvailableError(
            "The Ollama backend needs langchain-ollama.", fix="pip install 'docs-assistant[ollama]'"
        ) from exc
    return ChatOllama(
        model=model or "qwen2.5",
        base_url=opts.ollama_base_url,
        num_predict=opts.max_tokens,
        temperature=opts.temperature,
    )


class QuotingFakeChat(BaseChatModel):
    """Deterministic fake: quotes the first sentence of the last passage (the most relevant one
    in the answer prompt), or echoes the question when there are no passages.

    For tests and demos without a model; it "answers" only as well as retrieval does.
    """

    @property
    def _llm_type(self) -> str:
        return "fake"

    @staticmethod
    def reply(prompt: str) -> str:
        passages = re.findall(r"^(?:<document>)?\[(\d+)\] (.+?)(?:</document>)?$", prompt,
                              re.MULTILINE)
        if passages:
            number, text = passages[-1]
            return f"{first_sentence(text)} [{number}]"
        question = re.findall(r"question:\s*(.+)", prompt, re.IGNORECASE)
        return question[-1].strip() if question else "NOT IN DOCUMENTS"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self.reply(str(messages[-1].content))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for word in re.findall(r"\S+\s*", self.reply(str(messages[-1].content))):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))


PROVIDERS: dict[str, Callable[[str, ModelOptions], BaseChatModel]] = {
    "llamacpp": _llamacpp,
    "openai": _openai,
    "ollama": _ollama,
    "fake": lambda _model, _opts: QuotingFakeChat(),
}


def langchain_providers() -> dict[str, str]:
    """The providers of LangChain's `init_chat_model`, each with the pip package it needs."""
    # The table is private to LangChain: read, not copied, so new providers come with upgrades.
    from langchain.chat_models import base

    table: dict[str, tuple[str, ...]] = getattr(base, "_BUILTIN_PROVIDERS", {})
    return {name: entry[0].split(".")[0].replace("_", "-") for name, entry in table.items()}


def _langchain(provider: str, model: str, opts: ModelOptions) -> BaseChatModel:
    """A chat model from LangChain's `init_chat_model`; its settings (an API key...) come from
    the provider's own environment variables."""
    from langchain.chat_models import init_chat_model

    package = langchain_providers()[provider]
    if not model:
        raise ConfigError(f"No model name after '{provider}:'.",
                          fix=f"e.g. ASSISTANT_LLM={provider}:<a model name {package} knows>")
    if importlib.util.find_spec(package.replace("-", "_")) is None:
        raise ModelNotAvailableError(f"The '{provider}' backend needs {package}.",
                                     fix=f"pip install {package}")
    try:
        return init_chat_model(model, model_provider=provider, temperature=opts.temperature,
                               max_tokens=opts.max_tokens)
    except Exception as exc:  # each provider raises its own (a missing key, a bad option...)
        raise ConfigError(
            f"Cannot set up the '{provider}:{model}' model ({exc}).",
            fix=f"set what {package} needs, usually its API key variable (see its LangChain docs)",
        ) from exc


def parse(name: str) -> tuple[str, str]:
    """Split "provider:model", failing with the known providers when the provider is unknown."""
    provider, _, model = name.strip().partition(":")
    if provider not in PROVIDERS and provider not in langchain_providers():
        known = ", ".join(sorted(PROVIDERS))
        close = difflib.get_close_matches(provider, [*PROVIDERS, *langchain_providers()], n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UnknownBackendError(
            f"Unknown model backend '{name}'.",
            fix=f"{hint}known backends: {known} (e.g. 'llamacpp:qwen2.5-coder-1.5b')",
        )
    return provider, model


def load_llm(name: str, opts: ModelOptions) -> BaseChatModel:
    """The chat model named "provider:model": one of ours, else LangChain's."""
    provider, model = parse(name)
    if provider in PROVIDERS:
        return PROVIDERS[provider](model, opts)
    return _langchain(provider, model, opts)
