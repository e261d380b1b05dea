"""Ingest reads only what it was pointed at: symlinks do not lead out of the folder walked,
special files are never opened, the walk has a depth bound instead of a recursion limit, and
the size limit counts the bytes read."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from ingest import ingest_paths
from ingest.embeddings import HashingEmbeddings
from ingest.pipeline import IngestReport, Progress
from ingest.store import Store
from ingest.walk import list_files

OUTSIDE = ("symlink to a file outside the folder, not followed "
           "(set ASSISTANT_FOLLOW_SYMLINKS=true to allow)")
HIDDEN_TARGET = "symlink to a hidden file, not followed"
SECRET = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "kb", "documents", "fake")


def run(paths, store: Store, **kwargs):
    return ingest_paths(paths, store, HashingEmbeddings(), 200, 20, **kwargs)


def stored_text(store: Store) -> str:
    return "\n".join(store.collection.get(include=["documents"])["documents"] or [])


@pytest.fixture
def cloned(tmp_path: Path) -> Path:
    """A cloned folder whose `setup.md` points at the user's credentials, and whose
    `notes.md` points at an ordinary file elsewhere."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\n{SECRET}\n")
    (home / "notes.txt").write_text("Ordinary notes kept outside the folder.")
    folder = tmp_path / "clone"
    folder.mkdir()
    (folder / "README.md").write_text("The project readme.")
    (folder / "setup.md").symlink_to(home / ".aws" / "credentials")
    (folder / "notes.md").symlink_to(home / "notes.txt")
    return folder


# -- symlinks -------------------------------------------------------------------------------------


def test_symlink_to_a_file_outside_the_folder_is_not_followed(store: Store, cloned: Path) -> None:
    report = run([cloned], store)

    assert report.added == [str(cloned / "README.md")]
    assert report.skipped == [(str(cloned / "notes.md"), OUTSIDE),
                              (str(cloned / "setup.md"), OUTSIDE)]
    assert SECRET not in stored_text(store)
    assert "Ordinary notes" not in stored_text(store)


def test_follow_symlinks_reads_outside_targets_but_never_hidden_ones(
    settings: Settings, cloned: Path
) -> None:
    assistant = Assistant(settings.model_copy(update={"follow_symlinks": True}))

    report = assistant.ingest([cloned])

    notes = cloned.parent / "home" / "notes.txt"
    assert report.added == [str(cloned / "README.md"), str(notes)]  # stored under its target
    assert report.skipped == [(str(cloned / "setup.md"), HIDDEN_TARGET)]
    assert SECRET not in stored_text(assistant.store)


def test_follow_symlinks_is_read_from_the_environment(
    no_assistant_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().follow_symlinks is False
    monkeypatch.setenv("ASSISTANT_FOLLOW_SYMLINKS", "true")
    assert Settings().follow_symlinks is True


def test_symlink_inside_the_folder_is_read_unless_its_target_is_hidden(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "config").write_text("[remote]\nurl = https://token@example.com\n")
    (folder / "docs").mkdir()
    (folder / "docs" / "guide.md").write_text("guide")
    (folder / "guide-link.md").symlink_to(folder / "docs" / "guide.md")
    (folder / "config.md").symlink_to(folder / ".git" / "config")

    listing = list_files([folder])

    assert listing.files == [folder / "docs" / "guide.md"]  # once, under its target
    assert listing.skipped == [(str(folder / ".git"), "hidden folder"),
                               (str(folder / "config.md"), HIDDEN_TARGET)]


def test_a_symlink_named_explicitly_is_followed(store: Store, cloned: Path) -> None:
    """The user pointed at it: read, and stored under its target (hidden or not)."""
    report = run([cloned / "notes.md", cloned / "setup.md"], store)

    home = cloned.parent / "home"
    assert report.added == [str(home / "notes.txt"), str(home / ".aws" / "credentials")]


# -- special files --------------------------------------------------------------------------------


def test_special_files_in_a_folder_are_skipped_with_their_reason(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "a.txt").write_text("text")
    os.mkfifo(folder / "pipe.txt")
    (folder / "pipe-link.md").symlink_to(folder / "pipe.txt")
    (folder / "zero.md").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "sock"))

        listing = list_files([folder])

    assert listing.files == [folder / "a.txt"]
    assert listing.skipped == [
        (str(folder / "pipe-link.md"), "special file (FIFO), not read"),
        (str(folder / "pipe.txt"), "special file (FIFO), not read"),
        (str(folder / "sock"), "special file (socket), not read"),
        (str(folder / "zero.md"), "special file (character device), not read"),
    ]


def cli_ingest(tmp_path: Path, *paths: str | Path) -> subprocess.CompletedProcess[str]:
    """`assistant ingest PATHS` in a child process with a time and memory limit, so that a
    hang or an endless read fails the test instead of stopping (or swapping) the run."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "kb"),
           "ASSISTANT_EMBEDDING": "fake", "ASSISTANT_LLM": "fake"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "assistant", "ingest", *map(str, paths)],
            capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"ingest of {paths} did not finish in 90 s")


def test_special_files_named_on_the_command_line_are_skipped_unopened(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("some text")
    fifo = tmp_path / "notes.txt"
    os.mkfifo(fifo)  # opening it for reading waits for a writer, forever
    # /dev/zero: its size reads as 0, and reading it never ends

    result = cli_ingest(tmp_path, "a.txt", fifo, "/dev/zero")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        f"  skipped  {fifo} (special file (FIFO), not read)\n"
        "  skipped  /dev/zero (special file (character device), not read)\n"
        "1 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 2 skipped, 1 chunks written\n"
    )


def test_file_replaced_by_a_fifo_after_the_walk_fails_without_blocking(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("first file")
    swapped = folder / "b.txt"
    swapped.write_text("second file")

    def swap(progress: Progress) -> None:
        if progress.files_done == 1 and swapped.is_file():  # listed as a file, not yet read
            swapped.unlink()
            os.mkfifo(swapped)

    result: list[IngestReport] = []
    worker = threading.Thread(target=lambda: result.append(run([folder], store, on_progress=swap)),
                              daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # blocked opening the FIFO: give it a writer, so the thread ends
        os.close(os.open(swapped, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=30)
        pytest.fail("reading a FIFO blocked the ingest")
    [report] = result
    assert report.added == [str(folder / "a.txt")]
    assert report.failed == [(str(swapped), "special file (FIFO), not read")]


# -- depth ----------------------------------------------------------------------------------------


@pytest.fixture
def deep(tmp_path: Path):
    """/deep/d/d/d/... 1,100 folders deep (past Python's recursion limit), a file at depths 1,
    64 and 1,100. Made and removed level by level: os.makedirs and rmtree would recurse."""
    root = tmp_path / "deep"
    root.mkdir()
    folders = [root]
    for _ in range(1100):
        folders.append(folders[-1] / "d")
        folders[-1].mkdir()
    for depth in (1, 64, 1100):
        (folders[depth] / "f.txt").write_text(f"at depth {depth}")
    yield folders
    for folder in reversed(folders):
        for child in folder.iterdir():
            if not child.is_dir():
                child.unlink()
        folder.rmdir()


def test_folders_nested_past_the_depth_limit_are_reported_not_walked(deep: list[Path]) -> None:
    listing = list_files([deep[0]])

    assert listing.files == [deep[64] / "f.txt", deep[1] / "f.txt"]  # "d" sorts before "f.txt"
    assert listing.skipped == [(str(deep[65]), "nested deeper than 64 folders, not read")]


def test_walk_keeps_name_order_across_folders(tmp_path: Path) -> None:
    for name in ("b.txt", "a/x.txt", "a/sub/y.txt", "c/z.txt", "a0.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)

    listing = list_files([tmp_path])

    assert [p.relative_to(tmp_path).as_posix() for p in listing.files] == [
        "a/sub/y.txt", "a/x.txt", "a0.txt", "b.txt", "c/z.txt"
    ]


# -- the size limit counts what is read -----------------------------------------------------------


def test_size_limit_counts_bytes_read_not_the_size_stat_reports(store: Store) -> None:
    status = Path("/proc/self/status")  # a real file whose size reads as 0, ~1.4 KB of text
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 1000

    report = run([status], store, max_file_mb=0.0005)

    [(source, reason)] = report.failed
    assert reason == ("too large (over the 0.0005 MB limit when read, though its size says 0 MB; "
                      "set ASSISTANT_MAX_FILE_MB to raise it)")
    assert report.added == [] and store.count() == 0


def test_docx_unpacked_limit_is_the_max_file_mb_setting(settings: Settings, tmp_path: Path) -> None:
    from tests.test_loaders import GOOD_DOCX  # 36 KB, python-docx's template unpacks to ~0.8 MB

    plan = tmp_path / "plan.docx"
    plan.write_bytes(GOOD_DOCX)
    assistant = Assistant(settings.model_copy(update={"max_file_mb": 0.5}))

    report = assistant.ingest([plan])

    [(source, reason)] = report.failed
    assert source == str(plan)
    assert reason.startswith("unpacks to 0.")
    assert reason.endswith(" MB (the limit is 0.5 MB, set ASSISTANT_MAX_FILE_MB to raise it)")
    assert assistant.ingest([plan]).failed == report.failed  # still refused, nothing written
    assert assistant.documents() == []
