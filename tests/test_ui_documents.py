"""Uploads (path traversal, zip slip, size limits), the documents panel helpers, and feedback."""

from __future__ import annotations

import html
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from assistant import Assistant, uploads
from assistant.web import documents as ui_documents
from assistant.web import feedback
from evals.cases import case_from_dict
from ingest import DocumentInfo

EVIL = "<img src=x onerror=alert(1)> ![b](beacon.png).txt"  # a file name has no "/"


def write(path: Path, text: str = "Some text about chips.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, parts", [
    ("report.pdf", ["report.pdf"]),
    ("a/b/c.txt", ["a", "b", "c.txt"]),
    ("a\\b.txt", ["a", "b.txt"]),
    ("./a.txt", ["a.txt"]),
    ("notes <b>;|.txt", ["notes _b___.txt"]),
    ("../etc/passwd", []),
    ("a/../../x", []),
    ("/etc/passwd", []),
    ("\\\\server\\share\\x", []),
    ("C:\\Windows\\x.txt", []),
    ("C:x.txt", []),
    (".bashrc", []),
    ("__MACOSX/._a.txt", []),
    ("", []),
])
def test_safe_parts(name: str, parts: list[str]) -> None:
    assert uploads.safe_parts(name) == parts


# -- plain files ----------------------------------------------------------------------------------
def test_files_are_copied_flat_into_the_uploads_folder(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    a = write(tmp_path / "in" / "a.txt")
    hidden = write(tmp_path / "in" / ".env", "SECRET=1\n")
    saved = uploads.save_uploads([a, hidden], root)
    assert saved.files == [(root / "a.txt").resolve()]
    assert saved.rejected == [(".env", "hidden file")]
    assert files_under(root) == ["a.txt"]
    write(a, "A new version.\n")
    assert uploads.save_uploads([a], root).files == saved.files  # replaces the old copy
    assert (root / "a.txt").read_text() == "A new version.\n"


def test_size_and_count_limits(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    big = write(tmp_path / "big.txt", "x" * 2000)
    small = write(tmp_path / "small.txt", "x" * 100)
    saved = uploads.save_uploads([big, small], root, uploads.Limits(max_bytes=1000))
    assert [p.name for p in saved.files] == ["small.txt"]
    assert saved.rejected == [("big.txt", "larger than 0.000953674 MB")]
    assert files_under(root) == ["small.txt"]  # no partial file left behind
    many = uploads.save_uploads([small, small, small], root, uploads.Limits(max_files=2))
    assert many.files == []
    assert many.rejected == [("3 files", "more than the limit of 2 per upload")]


# -- zips -----------------------------------------------------------------------------------------
def make_zip(path: Path, members: dict[str, str], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_is_unpacked_into_its_own_folder_and_zip_slip_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "data" / "uploads"
    archive = make_zip(tmp_path / "papers.zip", {
        "a.txt": "Alpha.", "sub/b.md": "# Beta", "../../escape.txt": "out",
        "/abs.txt": "out", "sub/../../../x.txt": "out", ".hidden": "no", "__MACOSX/._a.txt": "no",
    }, links=("link.txt",))
    saved = uploads.save_uploads([archive], root)
    assert files_under(root) == ["papers/a.txt", "papers/sub/b.md"]
    assert files_under(tmp_path) == ["data/uploads/papers/a.txt", "data/uploads/papers/sub/b.md",
                                     "papers.zip"]  # nothing outside the uploads folder
    assert sorted(saved.rejected) == sorted([
        ("papers.zip/../../escape.txt", "path outside the upload folder"),
        ("papers.zip//abs.txt", "path outside the upload folder"),
        ("papers.zip/sub/../../../x.txt", "path outside the upload folder"),
        ("papers.zip/.hidden", "hidden file"),
        ("papers.zip/__MACOSX/._a.txt", "hidden file"),
        ("papers.zip/link.txt", "symbolic link"),
    ])


def test_zip_bomb_stops_at_the_limit_while_unpacking(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    archive = make_zip(tmp_path / "bomb.zip", {"a.txt": "a" * 600, "b.txt": "0" * 5_000_000})
    assert archive.stat().st_size < 20_000  # compresses well: only unpacking shows its size
    saved = uploads.save_uploads([archive], root, uploads.Limits(max_bytes=1_000_000))
    assert [p.name for p in saved.files] == ["a.txt"]
    assert saved.rejected == [("bomb.zip/b.txt", "the zip unpacks to more than 0.953674 MB")]
    assert files_under(root) == ["bomb/a.txt"]
    too_many = uploads.save_uploads([archive], root, uploads.Limits(max_files=1))
    assert too_many.rejected == [("bomb.zip", "2 files in the zip, more than the limit of 1")]


def test_broken_zip_is_reported(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.zip", "not a zip")
    saved = uploads.save_uploads([broken], tmp_path / "uploads")
    [(name, reason)] = saved.rejected
    assert name == "broken.zip" and reason.startswith("not a readable zip file")


def test_delete_copy_only_inside_the_uploads_folder(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    inside = write(root / "z" / "deep" / "a.txt")
    outside = write(tmp_path / "mine.txt")
    assert not uploads.delete_copy(outside, root) and outside.exists()
    assert not uploads.delete_copy(root / ".." / "mine.txt", root) and outside.exists()
    assert uploads.delete_copy(inside, root)
    assert not inside.exists() and not (root / "z").exists() and root.exists()


# -- the panel ------------------------------------------------------------------------------------
def test_tables_escape_file_names(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    docs = [DocumentInfo(str(root / "z" / EVIL), "abc", 3, True),
            DocumentInfo("/elsewhere/b.txt", "def", 2, False)]
    table = ui_documents.documents_table(docs, root)
    assert "<img" not in table and "![" not in table and "(beacon" not in table
    assert f"z/{EVIL}" in html.unescape(table) and "incomplete" in table
    assert "2 documents, 5 chunks" in table
    assert ui_documents.choices(docs, root) == [("/elsewhere/b.txt", "/elsewhere/b.txt"),
                                                (f"z/{EVIL}", str(root / "z" / EVIL))]
    rows = [("added", str(root / "a.txt"), ""), ("failed", str(root / EVIL), "bad <b>pdf</b>"),
            ("skipped", str(root / "b.png"), "image")]
    result = ui_documents.results_table(rows, root)
    assert "<img" not in result and "<b>" not in result
    assert "1 done, 1 skipped, 1 failed" in result
    assert ui_documents.documents_table([], root).startswith('<p class="da-empty">')


def test_upload_then_reingest_with_progress(fake_assistant: Assistant, tmp_path: Path) -> None:
    ticks: list[tuple[int, int, str]] = []
    incoming = [write(tmp_path / "in" / "a.txt", "Alpha chips ship in May."),
                write(tmp_path / "in" / "empty.txt", ""),
                write(tmp_path / "in" / "..hidden.txt", "no")]
    rows = ui_documents.upload(fake_assistant, [str(p) for p in incoming],
                               lambda *tick: ticks.append(tick))
    root = ui_documents.uploads_dir(fake_assistant)
    by_status = {(status, Path(path).name): reason for status, path, reason in rows}
    assert ("added", "a.txt") in by_status and ("refused", "..hidden.txt") in by_status
    assert by_status.get(("failed", "empty.txt")), rows  # a failure comes with its reason
    assert ticks[0] == (0, 2, "reading") and ticks[-1][:2] == (2, 2)
    assert any(tick[2].startswith("1 chunks, ") for tick in ticks), ticks
    assert [d.source for d in fake_assistant.documents()] == [str((root / "a.txt").resolve())]
    gone = write(tmp_path / "gone.txt", "Soon gone.")
    fake_assistant.ingest([gone])
    gone.unlink()
    a, b = str((root / "a.txt").resolve()), str(gone.resolve())
    again = ui_documents.reingest(fake_assistant, [a, b, "/etc/passwd"], lambda *_: None)
    assert sorted(again) == [("failed", b, "the file is gone (remove the document instead)"),
                             ("refused", "/etc/passwd", "not an ingested document"),
                             ("unchanged", a, "")]


def test_panel_acts_only_on_uploads_and_documents(fake_assistant: Assistant,
                                                  tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    received = write(inbox / "abc123" / "a.txt")
    server_file = write(tmp_path / "server" / "secret.txt", "Private.")
    rows = ui_documents.upload(fake_assistant, [str(received), str(server_file)],
                               lambda *_: None, received_in=inbox)
    assert ("refused", str(server_file), "not an uploaded file") in rows
    assert [Path(d.source).name for d in fake_assistant.documents()] == ["a.txt"]
    assert ui_documents.reingest(fake_assistant, [str(server_file)], lambda *_: None) == [
        ("refused", str(server_file), "not an ingested document")]
    assert ui_documents.remove(fake_assistant, [str(server_file)]) == [
        ("refused", str(server_file), "not an ingested document")]
    assert server_file.exists() and len(fake_assistant.documents()) == 1


def test_remove_deletes_the_document_and_its_uploaded_copy(fake_assistant: Assistant,
                                                           tmp_path: Path) -> None:
    theirs = write(tmp_path / "theirs.txt", "Their own file about chips.")
    ui_documents.upload(fake_assistant, [str(write(tmp_path / "in" / "a.txt"))], lambda *_: None)
    fake_assistant.ingest([theirs])
    sources = [d.source for d in fake_assistant.documents()]
    assert ui_documents.remove(fake_assistant, sources) == [("removed", s, "") for s in sources]
    assert fake_assistant.documents() == []
    [(status, _, reason)] = ui_documents.remove(fake_assistant, sources[:1])  # gone already
    assert (status, reason) == ("refused", "not an ingested document")
    assert theirs.exists()  # a file ingested from elsewhere is the user's: only the index forgets
    assert files_under(ui_documents.uploads_dir(fake_assistant)) == []


# -- names that cannot be stored, names that try to forge text, a failed re-upload -------------
def test_unstorable_names_get_a_reason_per_file(fake_assistant: Assistant, tmp_path: Path) -> None:
    long_name = "é" * 110 + ".txt"  # 224 bytes: a file system takes it, the uploads folder not
    ok = write(tmp_path / "in" / "ok.txt", "Alpha chips ship in May.")
    too_long = write(tmp_path / "in" / long_name)
    archive = make_zip(tmp_path / "in" / "mixed.zip", {
        "fine.txt": "Beta chips.", "a" * 201 + ".txt": "long", "bell\a.txt": "ring",
        "new\nline.txt": "x"})
    nul = str(tmp_path / "in" / "a\0b.txt")  # a forged request: no such file can exist
    rows = ui_documents.upload(fake_assistant, [str(ok), str(too_long), str(archive), nul],
                               lambda *_: None)
    root = ui_documents.uploads_dir(fake_assistant).resolve()
    assert sorted(rows) == sorted([
        ("refused", long_name, "file name longer than 200 bytes"),
        ("refused", "mixed.zip/" + "a" * 201 + ".txt", "file name longer than 200 bytes"),
        ("refused", "mixed.zip/bell\a.txt", "control character in the file name"),
        ("refused", "mixed.zip/new\nline.txt", "control character in the file name"),
        ("refused", "a\0b.txt", "control character in the file name"),
        ("added", str(root / "ok.txt"), ""),
        ("added", str(root / "mixed" / "fine.txt"), ""),
    ])
    assert files_under(root) == ["mixed/fine.txt", "ok.txt"]
    table = ui_documents.results_table(rows, root)
    assert "a\\x00b.txt" in html.unescape(table) and "\0" not in table
    assert "new\\nline.txt" in html.unescape(table)


def test_one_naming_rule_for_the_ui_and_the_api() -> None:
    assert uploads.plain_name("../../etc/report.pdf") == "report.pdf"  # a client sent a path
    assert uploads.plain_name("C:\\Users\\me\\notes <b>.txt") == "notes _b_.txt"
    control = "control character in the file name"
    for raw, reason in [(".env", "hidden file"), ("a/..", "path outside the upload folder"),
                        ("", "unsafe file name"), ("x\x00.txt", control), ("\ud800.txt", control),
                        ("a" * 197 + ".txt", "file name longer than 200 bytes")]:
        with pytest.raises(uploads.Refused, match=f"^{reason}$"):
            uploads.plain_name(raw)
    assert uploads.plain_name("a" * 196 + ".txt") == "a" * 196 + ".txt"


def test_names_in_the_panel_show_control_and_bidi_characters(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    flipped, forged = "invoice\u202etxt.exe", "a.txt\r\nb.txt"
    docs = [DocumentInfo(str(root / flipped), "abc", 1, True),
            DocumentInfo(str(tmp_path / forged), "def", 1, True)]
    table = html.unescape(ui_documents.documents_table(docs, root))
    assert "invoice\\u202etxt.exe" in table and "\u202e" not in table
    assert "a.txt\\r\\nb.txt" in table and "\r" not in table
    assert [label for label, _ in ui_documents.choices(docs, root)] == [
        f"{tmp_path}/a.txt\\r\\nb.txt", "invoice\\u202etxt.exe"]
    result = ui_documents.results_table([("failed", str(root / flipped), "bad \x1b[2J")], root)
    assert "\x1b" not in result and "\\x1b[2J" in html.unescape(result)


def test_settle_keeps_what_ingested_and_puts_back_what_did_not(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    old = {name: write(root / name, f"old {name}") for name in ("kept.txt", "failed.txt")}
    incoming = [write(tmp_path / "in" / name, f"new {name}")
                for name in ("kept.txt", "failed.txt", "fresh.txt", "gone.txt")]
    saved = uploads.save_uploads(incoming, root)
    assert {p.name: p.read_text() for p in saved.files} == {
        p.name: f"new {p.name}" for p in incoming}  # in place, for the ingest to read
    saved.settle({str(root.resolve() / "kept.txt"), str(root.resolve() / "fresh.txt")})
    assert {p: (root / p).read_text() for p in files_under(root)} == {
        "kept.txt": "new kept.txt", "failed.txt": "old failed.txt", "fresh.txt": "new fresh.txt"}
    assert old["failed.txt"].exists()
    broken = uploads.save_uploads([write(tmp_path / "in" / "kept.txt", "newer"),
                                   write(tmp_path / "in" / "other.txt", "other")], root)
    broken.settle(None)  # the ingest broke off: previous copies back, new files kept
    assert {p: (root / p).read_text() for p in files_under(root)} == {
        "kept.txt": "new kept.txt", "failed.txt": "old failed.txt", "fresh.txt": "new fresh.txt",
        "other.txt": "other"}


def test_an_ingest_that_breaks_off_puts_the_previous_copy_back(
    fake_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path / "in" / "1" / "a.txt", "Alpha chips ship in May.")
    ui_documents.upload(fake_assistant, [str(first)], lambda *_: None)
    stored = ui_documents.uploads_dir(fake_assistant) / "a.txt"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(fake_assistant, "ingest", broken)
    with pytest.raises(RuntimeError):
        ui_documents.upload(fake_assistant, [str(write(tmp_path / "in" / "2" / "a.txt", "Beta."))],
                            lambda *_: None)
    assert stored.read_text() == "Alpha chips ship in May."
    assert files_under(stored.parent) == ["a.txt"]


def test_another_writer_is_said_at_once_and_the_previous_copy_stays(
    fake_assistant: Assistant, tmp_path: Path
) -> None:
    from ingest.errors import KnowledgeBaseBusyError
    from ingest.lock import lock_path
    from tests.test_lock import held_elsewhere

    first = write(tmp_path / "in" / "1" / "a.txt", "Alpha chips ship in May.")
    ui_documents.upload(fake_assistant, [str(first)], lambda *_: None)
    stored = ui_documents.uploads_dir(fake_assistant) / "a.txt"
    source = fake_assistant.documents()[0].source
    s = fake_assistant.settings
    with held_elsewhere(lock_path(s.data_dir, s.collection)) as since:
        with pytest.raises(KnowledgeBaseBusyError) as busy:
            ui_documents.upload(fake_assistant, [str(write(tmp_path / "in" / "2" / "a.txt",
                                                           "Beta."))], lambda *_: None)
        removed = ui_documents.remove(fake_assistant, [source])
    message = (f"Another writer (pid {os.getpid()}, `assistant ingest notes`, since {since}) "
               "is changing this knowledge base.")
    assert str(busy.value) == message
    assert removed == [("failed", source, f"{message} Fix: wait until it finishes and try again.")]
    assert stored.read_text() == "Alpha chips ship in May."  # the good copy and its chunks stay
    assert [d.source for d in fake_assistant.documents()] == [source]


# -- feedback -------------------------------------------------------------------------------------
TURN = {"question": "Who shipped it?", "answer": "Nvidia did [1].", "refused": False,
        "sources": ["a.txt"], "history": [["Hi?", "Hello."]], "model": "fake",
        "created": "2026-01-01T00:00:00+00:00"}


def test_feedback_lines_are_eval_cases(tmp_path: Path) -> None:
    path = tmp_path / "kb" / feedback.FILE_NAME
    up = feedback.make_record(TURN, "up")
    down = feedback.make_record({**TURN, "answer": "Wrong [1]."}, "down", "  wrong source ")
    refused = feedback.make_record({**TURN, "answer": "Not in your documents.", "refused": True,
                                    "sources": []}, "up")
    for record in (up, down, refused):
        feedback.append(path, record)
    feedback.append(path, {**up, "comment": "exactly right"})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4
    case_keys = {"id", "question", "answers", "all", "unanswerable", "history", "sources"}
    assert all(case_keys <= set(line) for line in lines)
    records = feedback.read(path)
    assert [r["id"] for r in records] == [up["id"], down["id"], refused["id"]]
    first, second, third = records
    assert first["answers"] == ["Nvidia did [1]."] and first["comment"] == "exactly right"
    assert first["history"] == [["Hi?", "Hello."]] and first["sources"] == ["a.txt"]
    assert second["answers"] == [] and second["rating"] == "down"
    assert second["comment"] == "wrong source" and not second["unanswerable"]
    assert third["unanswerable"] and third["answers"] == [] and third["refused"]
    assert feedback.read(tmp_path / "none.jsonl") == []
    cases = feedback.to_cases(records)  # the liked answer and the liked refusal
    assert [c["id"] for c in cases] == [up["id"], refused["id"]]
    loaded = [case_from_dict(c, "feedback") for c in cases]  # the evals loader accepts them
    assert loaded[0].answers == ("Nvidia did [1].",) and loaded[1].unanswerable
