"""The BM25 index (SQLite FTS5) and its sync with the real embedded Chroma collection: every
ingest, update, prune and removal reaches both, and a crash or another writer between the two
writes heals on the next open or query."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.embeddings import HashingEmbeddings
from ingest.lexical import LexicalIndex, match_expression
from ingest.pipeline import ingest_paths
from ingest.store import Store

TEXTS = {
    "a": "Huawei unveiled personal computers running HarmonyOS.",
    "b": "Xiaomi will invest 200 billion yuan in research and development.",
    "c": "Nvidia's market share in China plunged to 50 percent.",
}


@pytest.fixture
def index(tmp_path: Path) -> LexicalIndex:
    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    index.upsert(list(TEXTS), list(TEXTS.values()), ["huawei.txt", "xiaomi.txt", "nvidia.txt"])
    return index


def test_match_expression_quotes_terms_and_drops_stopwords() -> None:
    assert match_expression('What is "HarmonyOS" (the OS)?') == '"harmonyos" OR "os"'
    assert match_expression("what is the") == ""
    assert match_expression("AND OR NOT NEAR") == '"not" OR "near"'  # operators stay words


def test_search_ranks_by_bm25_with_stemming(index: LexicalIndex) -> None:
    assert [i for i, _ in index.search("investing in research", 3)] == ["b"]
    ranked = index.search("computer market", 3)  # "computer" matches "computers" (Porter)
    assert {i for i, _ in ranked} == {"a", "c"}
    assert all(score > 0 for _, score in ranked)
    assert index.search("what is the", 3) == []  # stopwords only: nothing to match


def test_search_filters_by_source(index: LexicalIndex) -> None:
    assert index.search("Huawei Xiaomi", 5, sources=["xiaomi.txt"]) == [
        (i, s) for i, s in index.search("Huawei Xiaomi", 5) if i == "b"
    ]
    assert index.search("Huawei", 5, sources=[]) == []


def test_upsert_replaces_and_delete_removes(index: LexicalIndex) -> None:
    index.upsert(["a"], ["Huawei makes chips now."], ["huawei.txt"])
    assert index.count() == 3
    assert index.search("HarmonyOS", 3) == []
    assert [i for i, _ in index.search("chips", 3)] == ["a"]
    index.delete(["a", "missing"])
    assert index.ids() == {"b", "c"}
    assert index.sources() == ["nvidia.txt", "xiaomi.txt"]
    assert index.search("chips", 3) == []


def test_index_persists_across_connections(index: LexicalIndex) -> None:
    index.set_meta("generation", "g1")
    index.close()
    again = LexicalIndex(index.path)
    assert again.ids() == set(TEXTS)
    assert again.get_meta("generation") == "g1"


# -- in step with Chroma --------------------------------------------------------------------------


def open_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "kb", "documents", "fake")


def chroma_ids(store: Store) -> set[str]:
    return set(store.collection.get(include=[])["ids"])


def assert_in_step(store: Store) -> None:
    assert store.lexical is not None
    assert store.lexical.ids() == chroma_ids(store)
    by_id = store.collection.get(include=["metadatas"])
    sources = {str(m["source"]) for m in by_id["metadatas"] or []}
    assert set(store.lexical.sources()) == sources


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def ingest(paths: list[Path], store: Store, prune: bool = False):
    return ingest_paths(paths, store, HashingEmbeddings(), 120, 20, prune=prune)


def test_ingest_update_prune_keep_both_indexes_in_step(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    store = open_store(tmp_path)
    alpha = write(docs, "alpha.txt", "Alpha zebra talk. " * 20)
    beta = write(docs, "beta.txt", "Beta yak story. " * 20)

    ingest([docs], store)
    assert_in_step(store)
    assert store.lexical is not None
    assert {i for i, _ in store.lexical.search("zebra", 50)} == set(
        store.collection.get(where={"source": str(alpha.resolve())}, include=[])["ids"])

    write(docs, "alpha.txt", "Alpha quokka words. " * 30)  # update: new chunks, old ones gone
    ingest([docs], store)
    assert_in_step(store)
    assert store.lexical.search("zebra", 5) == []
    assert store.lexical.search("quokka", 5)

    beta.unlink()
    report = ingest([docs], store, prune=True)
    assert report.removed == [str(beta.resolve())]
    assert_in_step(store)
    assert store.lexical.sources() == [str(alpha.resolve())]


def test_crash_between_chroma_and_lexical_write_heals_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "alpha.txt", "Alpha zebra talk. " * 20)
    store = open_store(tmp_path)
    ingest([docs], store)
    write(docs, "beta.txt", "Beta yak story. " * 20)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies right after Chroma took the write

    assert store.lexical is not None
    monkeypatch.setattr(store.lexical, "upsert", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest([docs], store)
    monkeypatch.undo()
    assert store.lexical.ids() < chroma_ids(store)  # the yak chunks are only in Chroma

    reopened = open_store(tmp_path)
    assert_in_step(reopened)
    assert reopened.lexical is not None and reopened.lexical.search("yak", 5)


def test_crash_between_chroma_and_lexical_delete_heals_before_a_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    alpha = write(docs, "alpha.txt", "Alpha zebra talk. " * 20)
    store = open_store(tmp_path)
    ingest([docs], store)
    assert store.lexical is not None

    def killed(ids: object) -> None:
        raise KeyboardInterrupt  # interrupted after Chroma deleted, before the lexical delete

    monkeypatch.setattr(store.lexical, "delete", killed)
    with pytest.raises(KeyboardInterrupt):
        store.delete(str(alpha.resolve()))
    monkeypatch.undo()
    assert store.lexical.ids() and not chroma_ids(store)

    assert store.sync() > 0  # what the store runs before each lexical read
    assert_in_step(store)
    assert store.sync() == 0  # in step: nothing to diff


def test_another_writer_is_picked_up_by_id_diff(tmp_path: Path) -> None:
    """Two processes sharing one Chroma collection (as with a Chroma server) but each with
    its own lexical index: a write by one reaches the other's index before it searches."""
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "alpha.txt", "Alpha zebra talk. " * 20)
    reader = open_store(tmp_path)
    writer = open_store(tmp_path)
    assert writer.lexical is not None and reader.lexical is not None
    writer.lexical = LexicalIndex(tmp_path / "writer-own.sqlite3")  # a separate local index

    ingest([docs], writer)
    assert reader.lexical.ids() == set()
    reader.sync()
    assert_in_step(reader)


def test_store_without_tokens_is_indexed_once_on_open(tmp_path: Path) -> None:
    """A data dir from before the lexical index existed gets its index built on first open."""
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "alpha.txt", "Alpha zebra talk. " * 20)
    store = open_store(tmp_path)
    ingest([docs], store)
    assert store.lexical is not None
    store.lexical.close()
    store.lexical.path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.lexical.path}{suffix}").unlink(missing_ok=True)

    reopened = open_store(tmp_path)
    assert_in_step(reopened)
    assert reopened.sync() == 0
