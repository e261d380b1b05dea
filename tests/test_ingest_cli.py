"""`assistant ingest` options and `assistant remove`: exact output, progress bar on a terminal."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.progress import CLEAR, ProgressBar, duration, progress_line
from ingest.pipeline import Progress

pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "drafts").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "a.md").write_text("Alpha notes about chips.")
    (folder / "b.txt").write_text("Beta notes about wafers.")
    (folder / "drafts" / "c.md").write_text("Draft notes.")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (folder / "logo.gif").write_bytes(b"GIF89a\x01\x00")
    return folder


def cli(kb: Path, *args: str) -> int:
    return main(["--data-dir", str(kb), "--llm", "fake", *args])


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# -- ingest output ----------------------------------------------------------------------------


def test_skipped_entries_are_listed_after_the_files(kb: Path, docs: Path, capsys) -> None:
    assert cli(kb, "ingest", str(docs)) == 0
    assert capsys.readouterr() == (
        f"    added  {docs / 'a.md'}\n"
        f"    added  {docs / 'b.txt'}\n"
        f"    added  {docs / 'drafts' / 'c.md'}\n"
        f"  skipped  {docs / '.git'} (hidden folder)\n"
        f"  skipped  {docs / 'logo.gif'} (binary file (.gif))\n"
        "3 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 2 skipped, 3 chunks written\n",
        "",
    )


def test_include_and_exclude(kb: Path, docs: Path, capsys) -> None:
    assert cli(kb, "ingest", "-q", "--include", "*.md", "--include", "*.txt",
               "--exclude", "drafts", str(docs)) == 0
    assert capsys.readouterr().out == (
        # logo.gif is filtered out by --include, so only .git is reported as skipped
        "2 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 1 skipped, 2 chunks written\n"
    )
    assert cli(kb, "sources") == 0
    assert [line.split()[-1] for line in capsys.readouterr().out.splitlines()] == [
        str(docs / "a.md"), str(docs / "b.txt")]


def test_quiet_still_reports_failures(kb: Path, docs: Path, capsys) -> None:
    (docs / "bad.txt").write_bytes(b"\xff\xfe")
    assert cli(kb, "ingest", "-q", str(docs)) == 0
    assert capsys.readouterr() == (
        "3 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 2 skipped, 3 chunks written\n",
        f"   failed  {docs / 'bad.txt'}: not UTF-8 text (byte 0)\n",
    )


def test_too_large_file_is_reported_with_the_setting(
    kb: Path, docs: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_MAX_FILE_MB", "0.00002")  # 21 bytes
    assert cli(kb, "ingest", "-q", str(docs / "a.md"), str(docs / "drafts")) == 0
    assert capsys.readouterr() == (
        "1 added, 0 updated, 0 unchanged, 0 removed, 1 failed, 1 chunks written\n",
        f"   failed  {docs / 'a.md'}: too large (2.29e-05 MB; the limit is 2e-05 MB, "
        "set ASSISTANT_MAX_FILE_MB to raise it)\n",
    )


# -- progress bar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "line"),
    [
        (Progress(0, 480, 0, 0.0),
         "[....................] 0/480 files, 0 chunks, 0 chunks/s, ETA ?"),
        (Progress(120, 480, 1024, 12.0),
         "[#####...............] 120/480 files, 1024 chunks, 85 chunks/s, ETA 0:36"),
        (Progress(480, 480, 4096, 3725.0),
         "[####################] 480/480 files, 4096 chunks, 1 chunks/s, ETA 0:00"),
        (Progress(1, 3, 7, 1900.0),
         "[######..............] 1/3 files, 7 chunks, 0 chunks/s, ETA 1:03:20"),
        (Progress(0, 0, 0, 0.0),
         "[####################] 0/0 files, 0 chunks, 0 chunks/s, ETA ?"),
    ],
)
def test_progress_line(progress: Progress, line: str) -> None:
    assert progress_line(progress) == line


def test_duration() -> None:
    assert [duration(s) for s in (0, 7.4, 750, 3723)] == ["0:00", "0:07", "12:30", "1:02:03"]


def test_bar_redraws_in_place_and_prints_lines_above_it(capsys) -> None:
    term = Terminal()
    bar = ProgressBar(term, interval=3600)
    bar.update(Progress(0, 2, 0, 0.0))
    bar.update(Progress(1, 2, 0, 0.5))  # too soon: not drawn
    bar.echo("    added  /x.txt")
    bar.update(Progress(2, 2, 5, 1.0))  # the last one is always drawn
    bar.close()
    assert term.getvalue() == (
        f"{CLEAR}[....................] 0/2 files, 0 chunks, 0 chunks/s, ETA ?"
        f"{CLEAR}"  # erased for the line printed on stdout...
        f"{CLEAR}[##########..........] 1/2 files, 0 chunks, 0 chunks/s, ETA 0:00"  # ...redrawn
        f"{CLEAR}[####################] 2/2 files, 5 chunks, 5 chunks/s, ETA 0:00"
        f"{CLEAR}"
    )
    assert capsys.readouterr().out == "    added  /x.txt\n"


def test_cli_shows_the_bar_on_a_terminal_only(
    kb: Path, docs: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert cli(kb, "ingest", "--exclude", "drafts", str(docs)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "2 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 2 skipped, 2 chunks written"
    )
    frames = term.getvalue().split(CLEAR)
    assert frames[0] == "" and frames[-1] == ""  # the bar is erased before the summary
    drawn = [f for f in frames if f]
    assert drawn[0] == "[....................] 0/2 files, 0 chunks, 0 chunks/s, ETA ?"
    assert re.fullmatch(r"\[#{20}\] 2/2 files, 2 chunks, \d+ chunks/s, ETA 0:00", drawn[-1])

    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    assert cli(kb, "ingest", "-q", str(docs)) == 0
    assert quiet.getvalue() == ""


# -- remove -----------------------------------------------------------------------------------


def test_remove_one_document(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", "-q", str(docs))
    capsys.readouterr()

    assert cli(kb, "remove", str(docs / "b.txt")) == 0
    assert capsys.readouterr() == (f"  removed  {docs / 'b.txt'}\n", "")
    cli(kb, "sources")
    assert str(docs / "b.txt") not in capsys.readouterr().out


def test_remove_relative_path_of_a_deleted_file(
    kb: Path, docs: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(kb, "ingest", "-q", str(docs))
    (docs / "a.md").unlink()
    monkeypatch.chdir(docs)
    capsys.readouterr()
    assert cli(kb, "remove", "a.md") == 0
    assert capsys.readouterr().out == f"  removed  {docs / 'a.md'}\n"


def test_remove_a_path_that_was_never_ingested(kb: Path, docs: Path, capsys) -> None:
    cli(kb, "ingest", "-q", str(docs / "a.md"))
    capsys.readouterr()
    assert cli(kb, "remove", "nothing.txt") == 1
    assert capsys.readouterr() == (
        "",
        "Error: No document for nothing.txt in the knowledge base. Fix: 'assistant sources' "
        "lists the ingested paths.\n",
    )
