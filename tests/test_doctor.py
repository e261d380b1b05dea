"""`assistant doctor [--repair]`: finds chunks Chroma cannot read back, incomplete documents and
a lexical index out of step, and repairs them.

The damage is made the way two writers made it before the write lock: the vector index files
of the embedded store are put back as they were before the last ingest, so that ingest's chunks
keep their text and metadata in Chroma's SQLite but have no vector (on the old code: `ask`
fails with Chroma's InternalError, `sources` shows every document complete, and a rerun says
everything is unchanged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.errors import InternalError

from assistant import Assistant, Settings
from assistant.cli import main
from ingest.store import _client
from tests.test_lock import held_elsewhere, unreadable, write_corpus


def damage(tmp_path: Path) -> Path:
    """A data dir holding 12 intact documents (a/) and 6 whose 60 vectors are lost (b/)."""
    write_corpus(tmp_path / "a", "a", 12, seed=1)
    write_corpus(tmp_path / "b", "b", 6, seed=2)
    kb = tmp_path / "kb"
    # Chroma saves its vector index every `sync_threshold` writes: small, so that it is saved.
    _client(kb, None).get_or_create_collection(
        "documents", metadata={"embedding": "fake"}, embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "sync_threshold": 10, "batch_size": 10}})
    settings = Settings(data_dir=kb, llm="fake", embedding="fake")
    Assistant(settings).ingest([tmp_path / "a"])
    segment = next(p for p in (kb / "chroma").iterdir() if p.is_dir())
    saved = tmp_path / "saved"
    shutil.copytree(segment, saved)
    Assistant(settings).ingest([tmp_path / "b"])
    SharedSystemClient.clear_system_cache()  # what a new process would see
    for file in saved.iterdir():
        shutil.copy(file, segment / file.name)
    return kb


@pytest.fixture
def damaged(tmp_path: Path, cli_env: None) -> Path:
    return damage(tmp_path)


def b_files(tmp_path: Path) -> list[str]:
    return [f"  {tmp_path / 'b' / f'b{i:03d}.txt'}" for i in range(6)]


def test_the_damage_is_what_two_writers_left(damaged: Path, tmp_path: Path) -> None:
    a = Assistant(Settings(data_dir=damaged, llm="fake", embedding="fake"))
    assert unreadable(a.store) == 60
    bad = a.store.ids()[-1]
    with pytest.raises(InternalError):
        a.store.collection.get(ids=[bad], include=["embeddings"])
    with pytest.raises(InternalError):
        a.ask("zqb003 river")
    assert all(d.complete for d in a.documents()) and len(a.documents()) == 18
    report = a.ingest([tmp_path / "a", tmp_path / "b"])
    assert report.summary() == ("0 added, 0 updated, 18 unchanged, 0 removed, 0 failed, "
                                "0 chunks written")


def test_doctor_finds_the_unreadable_chunks_and_writes_nothing(
    damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with held_elsewhere(damaged / "locks" / "documents.lock"):  # a check needs no lock
        code = main(["--data-dir", str(damaged), "doctor"])
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "Checked 180 chunks in 18 documents.",
        "unreadable: 60 chunks in 6 documents (Chroma cannot read them back)",
        *b_files(tmp_path),
        "Fix: run 'assistant doctor --repair'.",
    ]
    a = Assistant(Settings(data_dir=damaged, llm="fake", embedding="fake"))
    assert a.store.count() == 180 and unreadable(a.store) == 60  # untouched


def test_doctor_repair_deletes_and_reingests_then_ask_works(
    damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(damaged), "doctor", "--repair"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Checked 180 chunks in 18 documents.",
        "unreadable: 60 chunks in 6 documents (Chroma cannot read them back)",
        *b_files(tmp_path),
        "Repaired: deleted 60 unreadable chunks, fixed 0 keyword index entries.",
        "Re-ingested the documents whose files are still there: 6 added, 0 updated, "
        "0 unchanged, 0 removed, 0 failed, 60 chunks written",
        "Checked again: no problems left.",
    ]
    a = Assistant(Settings(data_dir=damaged, llm="fake", embedding="fake"))
    assert a.store.count() == 180 and unreadable(a.store) == 0
    assert not a.ask("zqb003 river").refused
    assert main(["--data-dir", str(damaged), "doctor"]) == 0
    assert capsys.readouterr().out == "Checked 180 chunks in 18 documents.\nNo problems found.\n"


def test_after_a_repair_without_the_files_the_next_ingest_rewrites_them(
    damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    away = tmp_path / "away"
    (tmp_path / "b").rename(away)
    assert main(["--data-dir", str(damaged), "doctor", "--repair"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-10:] == [
        "Repaired: deleted 60 unreadable chunks, fixed 0 keyword index entries.",
        "Not re-ingested, their files are gone: 6 documents",
        *b_files(tmp_path),
        "Checked again: no problems left.",
        "Fix: ingest the documents above again from where their files are now; "
        "'assistant remove PATH' drops an incomplete one.",
    ]
    away.rename(tmp_path / "b")
    assert main(["--data-dir", str(damaged), "ingest", "-q", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out == ("6 added, 0 updated, 0 unchanged, 0 removed, 0 failed, "
                                       "60 chunks written\n")
    a = Assistant(Settings(data_dir=damaged, llm="fake", embedding="fake"))
    assert unreadable(a.store) == 0 and not a.ask("zqb001 budget").refused


def test_doctor_finds_and_fixes_a_lexical_index_out_of_step(
    fake_assistant: Assistant, sample_copy: Path
) -> None:
    fake_assistant.ingest([sample_copy])
    lexical = fake_assistant.store.lexical
    assert lexical is not None
    lexical.delete(fake_assistant.store.ids()[:3])
    lexical.upsert(["ghost"], ["a chunk Chroma never had"], ["/nowhere.txt"])
    found = fake_assistant.doctor()
    assert (found.lexical_missing, found.lexical_extra, found.ok) == (3, 1, False)
    assert found.lines() == [
        "Checked 19 chunks in 1 documents.",
        "keyword index out of step: 3 chunks missing, 1 left over",
        "Fix: run 'assistant doctor --repair'.",
    ]
    fixed = fake_assistant.doctor(repair=True)
    assert fixed.repair is not None and fixed.repair.lexical_fixed == 4
    assert fixed.healthy and fixed.repair.after.ok
    assert lexical.ids() == set(fake_assistant.store.ids())


def test_doctor_on_a_sound_store_says_so(
    fake_assistant: Assistant, sample_copy: Path
) -> None:
    fake_assistant.ingest([sample_copy])
    found = fake_assistant.doctor(repair=True)
    assert found.ok and found.repair is None
    assert found.lines() == ["Checked 19 chunks in 1 documents.", "No problems found."]
