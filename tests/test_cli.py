"""The `assistant` command: exact output of ingest, sources and ask, and one-line errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.rag.chain import NO_PASSAGES
from ingest.embeddings import HashingEmbeddings
from ingest.store import chunk_id

XIAOMI = ("Lei Jun, chairman and CEO of Xiaomi, said the company will invest 200 billion yuan "
          "in research and development from 2026 to 2030. The plan was announced in May.")
NVIDIA = "Nvidia's market share in China has plunged to 50 percent now from 95 percent."


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "xiaomi.txt").write_text(XIAOMI)
    (folder / "nvidia.md").write_text(NVIDIA)
    return folder


def cli(kb: Path, *args: str) -> int:
    return main(["--data-dir", str(kb), "--llm", "fake", *args])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- ingest ------------------------------------------------------------------------------------


def test_ingest_prints_each_file_and_the_summary(kb: Path, docs: Path, capsys) -> None:
    (docs / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    assert cli(kb, "ingest", str(docs)) == 0

    out, err = capsys.readouterr()
    # a failure shows at once; a file counts as added once its embedded chunks are written
    assert out == (
        f"   failed  {docs / 'photo.txt'}\n"
        f"    added  {docs / 'nvidia.md'}\n"
        f"    added  {docs / 'xiaomi.txt'}\n"
        "2 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 2 chunks written\n"
    )
    assert err == f"   failed  {docs / 'photo.txt'}: binary file, not text\n"


def test_ingest_again_then_change_then_prune(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()

    assert cli(kb, "ingest", str(docs)) == 0
    assert capsys.readouterr().out == (
        f"unchanged  {docs / 'nvidia.md'}\n"
        f"unchanged  {docs / 'xiaomi.txt'}\n"
        "0 added, 0 updated, 2 unchanged, 0 removed, 0 failed, 0 chunks written\n"
    )

    (docs / "xiaomi.txt").write_text(XIAOMI + " Xiaomi also makes cars.")
    (docs / "nvidia.md").unlink()
    assert cli(kb, "ingest", "--prune", str(docs)) == 0
    assert capsys.readouterr() == (
        f"  updated  {docs / 'xiaomi.txt'}\n"
        f"  removed  {docs / 'nvidia.md'}\n"
        "0 added, 1 updated, 0 unchanged, 1 removed, 0 failed, 1 chunks written\n",
        "",
    )


def test_ingest_quiet_prints_only_the_summary(kb: Path, docs: Path, capsys) -> None:
    assert cli(kb, "ingest", "-q", str(docs)) == 0
    assert capsys.readouterr() == (
        "2 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 2 chunks written\n", ""
    )


def test_ingest_of_only_bad_files_exits_1(kb: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert cli(kb, "ingest", "-q", str(empty)) == 1
    assert capsys.readouterr() == (
        "0 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 0 chunks written\n",
        f"   failed  {empty}: empty file\n",
    )


# -- sources -----------------------------------------------------------------------------------


def test_sources_of_an_empty_knowledge_base(kb: Path, capsys) -> None:
    assert cli(kb, "sources") == 0
    assert capsys.readouterr() == ("No documents yet. Add some with: assistant ingest PATH\n", "")


def test_sources_lists_documents(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()

    assert cli(kb, "sources") == 0

    nvidia, xiaomi = docs / "nvidia.md", docs / "xiaomi.txt"
    assert capsys.readouterr() == (
        f"     1 chunks  {sha(nvidia)[:12]}  {nvidia}\n"
        f"     1 chunks  {sha(xiaomi)[:12]}  {xiaomi}\n",
        "",
    )


def test_sources_flags_an_incomplete_document(kb: Path, docs: Path, capsys) -> None:
    store = Assistant(Settings(data_dir=kb, llm="fake")).store
    source, digest = str(docs / "xiaomi.txt"), sha(docs / "xiaomi.txt")
    store.upsert([chunk_id(source, digest, 0)], ["Lei Jun"],
                 HashingEmbeddings().embed_documents(["Lei Jun"]),
                 [{"source": source, "content_hash": digest, "chunk": 0, "n_chunks": 3}])

    assert cli(kb, "sources") == 0
    assert capsys.readouterr().out == (
        f"     1 chunks  {digest[:12]}  {source}  (incomplete: ingest it again)\n"
    )


# -- ask ---------------------------------------------------------------------------------------


def test_ask_prints_the_answer_then_its_sources(kb: Path, docs: Path, capsys) -> None:
    question = "How much will Xiaomi invest in research?"
    cli(kb, "ingest", str(docs))
    capsys.readouterr()
    [top, *_] = Assistant(Settings(data_dir=kb, llm="fake")).retrieve(question)

    assert cli(kb, "ask", question) == 0

    first_sentence = XIAOMI.split(". ")[0] + "."
    assert capsys.readouterr() == (
        f"{first_sentence} [1]\n"
        "\n"
        "Sources:\n"
        f"[1] {docs / 'xiaomi.txt'} (score {top.score:.2f})\n",
        "",
    )


def test_ask_about_something_unrelated_refuses(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()
    assert cli(kb, "ask", "Quantum zebra xylophone?") == 0
    assert capsys.readouterr() == (f"{NO_PASSAGES}\n", "")


# -- errors: one line, with a fix, exit status 1 --------------------------------------------------


def test_unknown_backend(kb: Path, capsys) -> None:
    assert main(["--data-dir", str(kb), "--llm", "bogus", "ask", "Who?"]) == 1
    assert capsys.readouterr() == (
        "",
        "Error: Unknown model backend 'bogus'. Fix: known backends: fake, llamacpp, ollama, "
        "openai (e.g. 'llamacpp:qwen2.5-coder-1.5b').\n",
    )


def test_misspelt_backend_from_the_environment(
    kb: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_LLM", "lamacpp")
    assert main(["--data-dir", str(kb), "sources"]) == 1
    assert capsys.readouterr().err == (
        "Error: Unknown model backend 'lamacpp'. Fix: did you mean 'llamacpp'? known backends: "
        "fake, llamacpp, ollama, openai (e.g. 'llamacpp:qwen2.5-coder-1.5b').\n"
    )


def test_path_that_does_not_exist(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()

    assert cli(kb, "ingest", str(docs), "missing.txt") == 1

    assert capsys.readouterr() == (
        "",
        "Error: No such file or folder: missing.txt. Fix: check the path (relative to this "
        "folder).\n",
    )
    assert cli(kb, "sources") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2  # earlier documents intact


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(kb: Path, docs: Path, capsys, question: str) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()
    assert cli(kb, "ask", question) == 1
    assert capsys.readouterr() == (
        "", "Error: The question is empty. Fix: ask a question in words.\n"
    )


def test_asking_before_ingest(kb: Path, capsys) -> None:
    assert cli(kb, "ask", "Who is the CEO of Xiaomi?") == 1
    assert capsys.readouterr() == (
        "",
        "Error: No documents have been ingested yet. Fix: run 'assistant ingest PATH' (or "
        "'assistant chat' to load the sample corpus).\n",
    )


def test_other_embedding_model(kb: Path, docs: Path, capsys, monkeypatch) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()
    monkeypatch.setenv("ASSISTANT_EMBEDDING", "fake:v2")

    assert cli(kb, "ask", "Who is the CEO of Xiaomi?") == 1

    assert capsys.readouterr() == (
        "",
        "Error: Collection 'documents' was built with embedding 'fake', not 'fake:v2'. Fix: set "
        "ASSISTANT_EMBEDDING='fake', or use another collection (ASSISTANT_COLLECTION) and ingest "
        "again.\n",
    )


def test_invalid_collection_name(kb: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_COLLECTION", "v2")
    assert cli(kb, "sources") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("Error: Cannot open collection 'v2' (")
    assert err.endswith(
        "). Fix: set ASSISTANT_COLLECTION to 3-512 letters, digits, '.', '_' or '-', starting "
        "and ending with a letter or digit.\n"
    )
    assert err.count("\n") == 1


# -- names that try to forge or reorder lines ---------------------------------------------------


def test_control_and_bidi_characters_in_names_are_printed_as_escapes(
    kb: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    forged = folder / "a.txt\n    added  secrets.txt"  # would print as a second, false line
    red = folder / "b\x1b[31mred.txt"  # a terminal colour code
    flipped = folder / "c\u202etxt.exe.md"  # shows as "cdm.exe.txt" in a terminal
    for path, text in ((forged, XIAOMI), (red, NVIDIA), (flipped, "Huawei makes chips.")):
        path.write_text(text)
    (folder / "d\r.bin").write_bytes(b"\0")
    shown = {forged: f"{folder}/a.txt\\n    added  secrets.txt", red: f"{folder}/b\\x1b[31mred.txt",
             flipped: f"{folder}/c\\u202etxt.exe.md"}

    assert cli(kb, "ingest", str(folder)) == 0
    assert capsys.readouterr() == (
        f"    added  {shown[forged]}\n"
        f"    added  {shown[red]}\n"
        f"    added  {shown[flipped]}\n"
        f"  skipped  {folder}/d\\r.bin (binary file (.bin))\n"
        "3 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 1 skipped, 3 chunks written\n",
        "",
    )
    assert cli(kb, "sources") == 0
    assert capsys.readouterr().out == "".join(
        f"     1 chunks  {sha(path)[:12]}  {shown[path]}\n" for path in (forged, red, flipped))
    assert cli(kb, "ask", "Who makes chips?") == 0
    assert f"[1] {shown[flipped]} (score " in capsys.readouterr().out
    assert cli(kb, "remove", str(red)) == 0
    assert capsys.readouterr() == (f"  removed  {shown[red]}\n", "")
    assert cli(kb, "ingest", str(folder / "e\u2066.txt")) == 1
    assert capsys.readouterr().err == (
        f"Error: No such file or folder: {folder}/e\\u2066.txt. Fix: check the path (relative "
        "to this folder).\n"
    )


def test_a_file_name_that_is_not_utf8_is_skipped_with_its_reason(
    kb: Path, docs: Path, capsys
) -> None:
    import os

    bad = os.fsencode(docs) + b"/bad\xff.txt"
    with open(bad, "wb") as out:
        out.write(b"Text under a name that is not UTF-8.")
    assert cli(kb, "ingest", str(docs)) == 0
    out = capsys.readouterr().out
    assert f"  skipped  {docs}/bad\\udcff.txt (file name is not valid UTF-8 (rename the file " \
           "to ingest it))\n" in out
    assert out.endswith("2 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 1 skipped, "
                        "2 chunks written\n")


@pytest.mark.parametrize(("args", "message"), [
    (("ingest", "~zzqq-no-such-user/x.md"),
     "Error: No such file or folder: ~zzqq-no-such-user/x.md. Fix: check the path (relative to "
     "this folder).\n"),
    (("remove", "~zzqq-no-such-user/x.md"),
     "Error: No document for ~zzqq-no-such-user/x.md in the knowledge base. Fix: 'assistant "
     "sources' lists the ingested paths.\n"),
    (("ask", "Who?", "--source", "~zzqq-no-such-user/x.md"),
     "Error: No ingested document matches the source filter '~zzqq-no-such-user/x.md'. Fix: "
     "list the documents with 'assistant sources' and use a file name, a path or a glob such "
     "as '*.pdf'.\n"),
])
def test_another_users_home_that_does_not_exist(
    kb: Path, docs: Path, capsys, args: tuple[str, ...], message: str
) -> None:
    cli(kb, "ingest", str(docs))
    capsys.readouterr()
    assert cli(kb, *args) == 1
    assert capsys.readouterr() == ("", message)
