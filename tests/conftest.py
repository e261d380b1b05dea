"""Shared fixtures: a network guard, temporary data dirs, fake and real model fixtures."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


class NetworkAccessError(AssertionError):
    """A test tried to open a connection beyond this machine."""


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and the like
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving it would already reach out


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that connects to a non-loopback address."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if not _is_local(address):
            raise NetworkAccessError(f"test tried to reach {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _is_local(address):
            raise NetworkAccessError(f"test tried to reach {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _is_local((host, 0)):
            raise NetworkAccessError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh data dir and the fake model."""
    return Settings(data_dir=tmp_path / "kb", llm="fake", embedding="fake")


@pytest.fixture
def no_assistant_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test's settings count: no ASSISTANT_* variables, no .env file."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli_env(no_assistant_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean environment for CLI runs, with fake embeddings (no model files)."""
    monkeypatch.setenv("ASSISTANT_EMBEDDING", "fake")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A data dir for CLI runs (created by the command itself)."""
    return tmp_path / "kb"


@pytest.fixture
def fake_assistant(settings: Settings) -> Assistant:
    """An assistant with the quoting fake model and bag-of-words embeddings (no model files)."""
    return Assistant(settings)


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample corpus."""
    target = tmp_path / "docs"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(scope="session")
def minilm():
    """The real default embedding model, loaded once per session."""
    from ingest.embeddings import load_embeddings

    return load_embeddings("sentence-transformers:all-MiniLM-L6-v2")
