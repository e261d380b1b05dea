"""Kill -9 in the middle of an ingest, for real: a child process ingests a folder into a real
Chroma store and is killed with SIGKILL at a chosen point of its writes; running the ingest
again must leave the store exactly as one uninterrupted run would (same ids, texts, metadata
and vectors; no duplicates; no document that looks complete but is not)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ingest_paths
from ingest.embeddings import HashingEmbeddings
from ingest.store import Store, chunk_id
from tests.test_pipeline import paragraphs, sha

ROOT = Path(__file__).resolve().parent.parent
CHUNK_SIZE, CHUNK_OVERLAP, BATCH = 200, 20, 24

# The child: ingest argv[2] into the store at argv[1]. argv[3] names the moment to stop:
# "<event>:<n>" prints "stop" at the n-th store write of that kind and then waits to be
# killed; "upsert"/"delete" stop after the write, "before-upsert" before it, and
# "during-upsert"/"during-delete" announce the write and go straight into it, so that the
# kill lands inside Chroma's own work.
CHILD = """
import sys, time
from pathlib import Path
from ingest import pipeline
from ingest.embeddings import HashingEmbeddings
from ingest.store import Store

kb, folder, stop = sys.argv[1], sys.argv[2], sys.argv[3]
event, _, nth = stop.partition(":")
counts = {"upsert": 0, "delete": 0}

def hook(kind, moment):
    if moment == "before":
        counts[kind] += 1
    if counts[kind] != int(nth):
        return
    if event == f"during-{kind}" and moment == "before":
        print("stop", flush=True)  # no pause: the write runs while the parent kills
    elif event == (kind if moment == "after" else f"before-{kind}"):
        print("stop", flush=True)
        time.sleep(600)

class HookedStore(Store):
    def upsert(self, *args, **kwargs):
        hook("upsert", "before")
        super().upsert(*args, **kwargs)
        hook("upsert", "after")

    def delete(self, *args, **kwargs):
        hook("delete", "before")
        super().delete(*args, **kwargs)
        hook("delete", "after")

pipeline.EMBED_BATCH = int(sys.argv[4])
store = HookedStore.open(Path(kb), "documents", "fake")
pipeline.ingest_paths([folder], store, HashingEmbeddings(), 200, 20)
print("finished", flush=True)
"""


def write_folder(folder: Path, version: int = 0) -> None:
    """40 files of 2-6 chunks; version 1 changes every third file and deletes none."""
    folder.mkdir(exist_ok=True)
    for i in range(40):
        topic = f"topic{i}" + ("-revised" if version and i % 3 == 0 else "")
        (folder / f"doc{i:02d}.txt").write_text(paragraphs(topic, 2 + i % 5))


def kill_during_ingest(kb: Path, folder: Path, stop: str) -> None:
    """Run the child until it reaches `stop`, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(kb), str(folder), stop, str(BATCH)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "stop", f"child ended without reaching {stop}: {child.communicate()}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL


def snapshot(store: Store) -> dict[str, tuple]:
    """id -> (text, metadata, rounded vector) of every chunk."""
    got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    return {
        i: (t, dict(m), tuple(round(float(x), 5) for x in v))
        for i, t, m, v in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"],
                              strict=True)
    }


def run(kb: Path, folder: Path) -> None:
    store = Store.open(kb, "documents", "fake")
    report = ingest_paths([folder], store, HashingEmbeddings(), CHUNK_SIZE, CHUNK_OVERLAP)
    assert report.ok and not report.failed


def reference(tmp_path: Path, folder: Path) -> dict[str, tuple]:
    """The store after one uninterrupted ingest of `folder` as it is now."""
    kb = tmp_path / "reference"
    run(kb, folder)
    return snapshot(Store.open(kb, "documents", "fake"))


def assert_nothing_half_complete(store: Store, allowed: dict[str, set[str]]) -> None:
    """Every document shown as complete has exactly its expected chunks, and is a version
    of its file that existed (old or new content)."""
    for doc in store.documents():
        got = set(store.collection.get(
            where={"$and": [{"source": doc.source}, {"content_hash": doc.content_hash}]},
            include=[])["ids"])
        if doc.complete:
            assert got == {chunk_id(doc.source, doc.content_hash, i) for i in range(doc.chunks)}
        assert doc.content_hash in allowed[doc.source]


@pytest.mark.parametrize("stop", ["during-upsert:3", "upsert:3"])
def test_killed_first_ingest_then_rerun_equals_one_clean_run(tmp_path: Path, stop: str) -> None:
    folder = tmp_path / "docs"
    write_folder(folder)
    kb = tmp_path / "kb"

    kill_during_ingest(kb, folder, stop)

    store = Store.open(kb, "documents", "fake")
    hashes = {str(p.resolve()): {sha(p)} for p in folder.iterdir()}
    assert 0 < store.count()  # the kill really landed mid-run: some chunks were written
    assert len([d for d in store.documents() if d.complete]) < 40
    assert_nothing_half_complete(store, hashes)

    run(kb, folder)
    assert snapshot(Store.open(kb, "documents", "fake")) == reference(tmp_path, folder)


@pytest.mark.parametrize(
    "stop", ["before-upsert:2", "during-upsert:2", "during-delete:2", "delete:2"]
)
def test_killed_update_then_rerun_equals_one_clean_run(tmp_path: Path, stop: str) -> None:
    folder = tmp_path / "docs"
    write_folder(folder)
    kb = tmp_path / "kb"
    run(kb, folder)
    old = {str(p.resolve()): sha(p) for p in folder.iterdir()}
    write_folder(folder, version=1)  # every third file changes
    new = {str(p.resolve()): sha(p) for p in folder.iterdir()}
    assert sum(old[s] != new[s] for s in old) == 14

    kill_during_ingest(kb, folder, stop)

    store = Store.open(kb, "documents", "fake")
    assert_nothing_half_complete(store, {s: {old[s], new[s]} for s in old})
    complete = {d.source for d in store.documents() if d.complete}
    assert complete == set(old)  # every file still has a complete version, old or new

    run(kb, folder)
    assert snapshot(Store.open(kb, "documents", "fake")) == reference(tmp_path, folder)
