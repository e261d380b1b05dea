"""The store over a real `chroma run` server on a free loopback port (`Settings.chroma_url`).

Everything must work as with the embedded store: ingest, prune, remove, retrieve, ask, the
document list, and the BM25 index, which lives in each client's own data dir and must follow
what other clients of the same server write.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.http.server import create_app
from ingest.errors import EmbeddingMismatchError, StoreError
from tests.net import free_port
from tests.test_server import HUANG, ask, client, running, writer

pytestmark = pytest.mark.integration

CHROMA = Path(sys.executable).parent / "chroma"
ZORBLAX = "The Zorblax reactor was commissioned in 1987 by Imelda Quist near Lake Vostok."
ZORBLAX_V2 = "The Zorblax reactor was decommissioned in 2011 after a coolant leak at Quarnby."
_names = itertools.count()



@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `chroma run` server for this module, stopped by its PID at the end."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(folder / "db"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"chroma run exited: {(folder / 'server.log').read_text()}")
                try:
                    if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not answer within 60 s")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def collection() -> str:
    """A collection of its own for each test, on the shared server."""
    return f"test-{next(_names)}-{os.getpid()}"


def worker(tmp_path: Path, name: str, chroma_url: str, collection: str, minilm,
           **settings: Any) -> Assistant:
    """An assistant with its own data dir (and so its own lexical index) on the server."""
    return Assistant(Settings(data_dir=tmp_path / name, llm="fake", chroma_url=chroma_url,
                              collection=collection, **settings), embeddings=minilm)


def test_ingest_retrieve_ask_prune_remove_over_the_server(
    tmp_path: Path, chroma_url: str, collection: str, minilm, sample_copy: Path
) -> None:
    a = worker(tmp_path, "a", chroma_url, collection, minilm)
    note = sample_copy / "zorblax.txt"
    note.write_text(ZORBLAX)
    report = a.ingest([sample_copy])
    assert len(report.added) == 2 and not report.failed
    assert {Path(d.source).name for d in a.documents()} == {"us-chip-export-controls.txt",
                                                            "zorblax.txt"}
    assert all(d.complete for d in a.documents())
    assert "a failure" in a.retrieve(HUANG, k=3)[0].text
    answer = a.ask(HUANG)
    assert not answer.refused and answer.cited_sources[0].source.endswith(
        "us-chip-export-controls.txt")
    assert a.ingest([sample_copy]).chunks == 0  # unchanged files are skipped

    note.unlink()
    assert a.ingest([sample_copy], prune=True).removed == [str(note)]
    sample = str(sample_copy / "us-chip-export-controls.txt")
    assert [d.source for d in a.documents()] == [sample]
    a.remove(sample)
    assert a.documents() == [] and a.store.count() == 0


def test_another_embedding_model_is_refused_over_the_server(
    tmp_path: Path, chroma_url: str, collection: str, minilm, sample_copy: Path
) -> None:
    worker(tmp_path, "a", chroma_url, collection, minilm).ingest([sample_copy])
    other = Assistant(Settings(data_dir=tmp_path / "b", embedding="fake", llm="fake",
                               chroma_url=chroma_url, collection=collection))
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2"):
        other.documents()


def test_unreachable_server_is_a_store_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match="Cannot reach the Chroma server") as caught:
        Assistant(Settings(data_dir=tmp_path, llm="fake", embedding="fake",
                           chroma_url=url)).documents()
    assert "chroma run --path DIR --port N" in caught.value.fix


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_workers_sharing_a_server_see_each_others_writes(
    tmp_path: Path, chroma_url: str, collection: str, minilm, sample_copy: Path, mode: str
) -> None:
    """What one worker ingests, updates or removes, another worker's search (with its own BM25
    index in its own data dir) reflects on its next question."""
    a = worker(tmp_path, "a", chroma_url, collection, minilm, retrieval=mode)
    b = worker(tmp_path, "b", chroma_url, collection, minilm, retrieval=mode)
    a.ingest([sample_copy])
    assert "a failure" in " ".join(s.text for s in b.retrieve(HUANG, k=3))

    note = tmp_path / "notes" / "zorblax.txt"
    note.parent.mkdir()
    note.write_text(ZORBLAX)
    a.ingest([note])
    found = b.retrieve("Who commissioned the Zorblax reactor?", k=1)
    assert found[0].text == ZORBLAX and found[0].source == str(note)

    note.write_text(ZORBLAX_V2)
    assert a.ingest([note]).updated == [str(note)]
    texts = [s.text for s in b.retrieve("Zorblax reactor Quarnby coolant", k=5)]
    assert ZORBLAX_V2 in texts and ZORBLAX not in texts

    a.remove(note)
    texts = [s.text for s in b.retrieve("Zorblax reactor Quarnby coolant", k=5)]
    assert ZORBLAX_V2 not in texts
    assert [d.source for d in b.documents()] == [str(sample_copy / "us-chip-export-controls.txt")]
    if mode == "lexical":  # b's own BM25 index now holds exactly the server's chunks
        assert b.store.lexical is not None
        assert b.store.lexical.count() == b.store.count()


def test_http_api_over_the_server_while_ingesting(
    tmp_path: Path, chroma_url: str, collection: str, minilm, sample_copy: Path
) -> None:
    a = worker(tmp_path, "a", chroma_url, collection, minilm)
    a.ingest([sample_copy])
    expected = a.ask(HUANG).text
    notes = {f"note{i}.txt": f"Entry {i}: the Zorblax vault of sector {i} holds {1000 + i} "
             "crates of copper wire. " * 20 for i in range(4)}
    with running(create_app(a)) as base:
        c, token = client(base), writer(a.settings)

        def upload(name: str) -> int:
            r = httpx.post(f"{base}/ingest", files=[("files", (name, notes[name].encode()))],
                           headers=token, timeout=120)
            return r.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            asked = [pool.submit(ask, c, HUANG, i % 2 == 0) for i in range(8)]
            uploads = [pool.submit(upload, name) for name in notes]
            assert [f.result() for f in uploads] == [200] * len(notes)
            assert all(f.result()["text"] == expected for f in asked)
        docs = httpx.get(f"{base}/sources").json()["documents"]
    assert len(docs) == 1 + len(notes) and all(d["complete"] for d in docs)
    # another worker, with an empty data dir, finds the new notes lexically
    b = worker(tmp_path, "b", chroma_url, collection, minilm, retrieval="lexical")
    hits = b.retrieve("Zorblax vault sector 3 crates", k=1)
    assert hits[0].source.endswith("note3.txt")
