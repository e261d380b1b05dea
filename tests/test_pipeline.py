"""Ingesting files into the real embedded Chroma store: incremental, crash-safe, never fatal
for one bad file, and never touching the index when the command itself is wrong."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from ingest import ingest_paths
from ingest import pipeline as pipeline_module
from ingest.embeddings import HashingEmbeddings
from ingest.errors import (
    DocumentNotFoundError,
    EmbeddingMismatchError,
    PathNotFoundError,
    StoreError,
)
from ingest.pipeline import IngestReport, Progress
from ingest.store import DocumentInfo, Store, chunk_id
from tests.test_loaders import make_docx, make_pdf

CHUNK_SIZE, CHUNK_OVERLAP = 200, 20


def paragraphs(topic: str, n: int) -> str:
    """`n` paragraphs about `topic`, long enough to need several 200-character chunks."""
    return "\n\n".join(
        f"Paragraph {i} about {topic}. The {topic} committee met in room {100 + i} and agreed "
        f"on item {i}. Minutes were kept by the {topic} secretary and shared with everyone."
        for i in range(n)
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def key(path: Path) -> str:
    """The `source` a file is stored under: its resolved absolute path."""
    return str(path.resolve())


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "alpha.txt").write_text(paragraphs("alpha", 4))
    (folder / "beta.md").write_text("# Beta\n\n" + paragraphs("beta", 2))
    (folder / "sub" / "gamma.html").write_text(
        f"<html><body><nav>menu</nav><p>{paragraphs('gamma', 1)}</p></body></html>"
    )
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "kb", "documents", "fake")


def run(paths, store: Store, **kwargs) -> IngestReport:
    return ingest_paths(paths, store, HashingEmbeddings(), CHUNK_SIZE, CHUNK_OVERLAP, **kwargs)


def rows(store: Store, source: str | None = None) -> dict[str, tuple[str, dict]]:
    """id -> (text, metadata) of every chunk (of one source)."""
    got = store.collection.get(
        where={"source": source} if source else None, include=["documents", "metadatas"]
    )
    return {i: (t, dict(m)) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"],
                                                strict=True)}


def expected_ids(source: str, digest: str, n: int) -> set[str]:
    return {chunk_id(source, digest, i) for i in range(n)}


def assert_consistent(store: Store) -> None:
    """Every document complete, one version per source, chunk ids exactly the expected ones."""
    docs = store.documents()
    assert all(d.complete for d in docs), docs
    assert len({d.source for d in docs}) == len(docs), docs
    assert store.count() == sum(d.chunks for d in docs)
    for d in docs:
        assert set(rows(store, d.source)) == expected_ids(d.source, d.content_hash, d.chunks)


# -- first ingest and reports ---------------------------------------------------------------------


def test_assistant_ingest_reports_every_file(settings: Settings, docs: Path) -> None:
    assistant = Assistant(settings.model_copy(update={"chunk_size": CHUNK_SIZE,
                                                      "chunk_overlap": CHUNK_OVERLAP}))
    seen: list[tuple[str, str]] = []
    report = assistant.ingest([docs], on_file=lambda source, status: seen.append((source, status)))

    files = [docs / "alpha.txt", docs / "beta.md", docs / "sub" / "gamma.html"]
    assert report.added == [key(f) for f in files]
    assert seen == [(key(f), "added") for f in files]
    assert (report.updated, report.unchanged, report.removed, report.failed) == ([], [], [], [])
    assert report.ok
    documents = assistant.documents()
    assert [d.source for d in documents] == [key(f) for f in files]
    assert [d.content_hash for d in documents] == [sha(f) for f in files]
    assert report.chunks == assistant.store.count() == sum(d.chunks for d in documents)
    assert documents[0].chunks > 1  # the test really exercises multi-chunk documents
    assert report.summary() == (
        f"3 added, 0 updated, 0 unchanged, 0 removed, 0 failed, {report.chunks} chunks written"
    )
    assert_consistent(assistant.store)


def test_sample_corpus_ingests(fake_assistant: Assistant, sample_copy: Path) -> None:
    report = fake_assistant.ingest([sample_copy])
    [info] = fake_assistant.documents()
    assert report.added == [info.source]
    assert info.complete and info.chunks == report.chunks == fake_assistant.store.count() > 5


def test_chunk_metadata_and_deterministic_ids(tmp_path: Path, docs: Path) -> None:
    pdf = docs / "report.pdf"
    pdf.write_bytes(make_pdf(["First page about lithography.", "Second page about wafers."]))
    stores = [Store.open(tmp_path / name, "documents", "fake") for name in ("kb1", "kb2")]
    for s in stores:
        run([docs], s)
    assert set(rows(stores[0])) == set(rows(stores[1]))  # same content -> same ids

    source, digest = key(pdf), sha(pdf)
    chunks = sorted(rows(stores[0], source).items(), key=lambda item: item[1][1]["chunk"])
    assert [i for i, _ in chunks] == [chunk_id(source, digest, n) for n in range(2)]
    assert [(text, meta["page"]) for _, (text, meta) in chunks] == [
        ("First page about lithography.", 1),
        ("Second page about wafers.", 2),
    ]
    for n, (_, (_, meta)) in enumerate(chunks):
        assert meta == {"page": n + 1, "file_name": "report.pdf", "start_index": 0,
                        "source": source, "content_hash": digest, "chunk": n, "n_chunks": 2}


def test_chunk_id_depends_on_source_content_and_position() -> None:
    base = chunk_id("/a.txt", "h1", 0)
    assert base == chunk_id("/a.txt", "h1", 0)
    assert len({base, chunk_id("/b.txt", "h1", 0), chunk_id("/a.txt", "h2", 0),
                chunk_id("/a.txt", "h1", 1)}) == 4


# -- incremental runs -----------------------------------------------------------------------------


def test_reingest_unchanged_writes_nothing(store: Store, docs: Path) -> None:
    first = run([docs], store)
    before = rows(store)
    second = run([docs], store)
    assert second.unchanged == first.added and len(second.unchanged) == 3
    assert (second.added, second.updated, second.failed, second.chunks) == ([], [], [], 0)
    assert second.summary() == (
        "0 added, 0 updated, 3 unchanged, 0 removed, 0 failed, 0 chunks written"
    )
    assert rows(store) == before


def test_changed_file_replaces_its_old_chunks(store: Store, docs: Path) -> None:
    run([docs], store)
    alpha = docs / "alpha.txt"
    old = {d.source: d for d in store.documents()}[key(alpha)]
    others_before = {i: r for i, r in rows(store).items() if r[1]["source"] != key(alpha)}

    alpha.write_text(paragraphs("omega", 3))
    report = run([docs], store)

    assert report.updated == [key(alpha)]
    assert sorted(report.unchanged) == [key(docs / "beta.md"), key(docs / "sub" / "gamma.html")]
    new = {d.source: d for d in store.documents()}[key(alpha)]
    assert new.content_hash == sha(alpha) != old.content_hash
    assert report.chunks == new.chunks
    texts = [text for text, _ in rows(store, key(alpha)).values()]
    assert all("omega" in t and "alpha" not in t for t in texts)
    assert len(texts) == len(set(texts)) == new.chunks  # no duplicates
    assert {i: r for i, r in rows(store).items() if r[1]["source"] != key(alpha)} == others_before
    assert_consistent(store)


def test_deleted_file_is_removed_only_with_prune(store: Store, docs: Path) -> None:
    run([docs], store)
    beta = docs / "beta.md"
    beta.unlink()

    kept = run([docs], store)
    assert kept.removed == [] and key(beta) in {d.source for d in store.documents()}

    pruned = run([docs], store, prune=True)
    assert pruned.removed == [key(beta)]
    assert pruned.summary() == (
        "0 added, 0 updated, 2 unchanged, 1 removed, 0 failed, 0 chunks written"
    )
    assert rows(store, key(beta)) == {}
    assert key(beta) not in {d.source for d in store.documents()}
    assert_consistent(store)


def test_prune_keeps_documents_of_other_folders(store: Store, docs: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text(paragraphs("delta", 1))
    run([docs, other], store)
    report = run([other], store, prune=True)
    assert report.removed == []
    assert len(store.documents()) == 4


def test_file_named_twice_is_ingested_once(store: Store, docs: Path) -> None:
    report = run([docs, docs / "alpha.txt"], store)
    assert report.added.count(key(docs / "alpha.txt")) == 1
    assert len(report.added) == 3
    assert report.chunks == store.count()
    assert_consistent(store)


# -- bad files and bad paths ----------------------------------------------------------------------


def test_bad_files_are_reported_while_good_ones_are_ingested(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text(paragraphs("good", 1))
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "empty.md").write_bytes(b"")
    (folder / "latin1.csv").write_bytes("a,b\nCaf\u00e9,1\n".encode("latin-1"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really")
    (folder / "broken.docx").write_bytes(make_docx(["fine"])[:300])
    (folder / "scan.pdf").write_bytes(make_pdf([""]))

    report = run([folder], store)

    assert report.added == [key(folder / "good.txt")]
    reasons = dict(report.failed)
    assert [Path(s).name for s, _ in report.failed] == [
        "broken.docx", "broken.pdf", "empty.md", "latin1.csv", "photo.txt", "scan.pdf"
    ]
    assert reasons[key(folder / "photo.txt")] == "binary file, not text"
    assert reasons[key(folder / "empty.md")] == "empty file"
    assert reasons[key(folder / "latin1.csv")] == "not UTF-8 text (byte 7)"
    assert reasons[key(folder / "broken.pdf")].startswith("corrupt PDF (")
    assert reasons[key(folder / "broken.docx")].startswith("corrupt DOCX (")
    assert reasons[key(folder / "scan.pdf")] == "no text found (no text layer, and OCR read none)"
    assert report.ok
    assert [d.source for d in store.documents()] == [key(folder / "good.txt")]


def test_only_bad_files_make_the_report_not_ok(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02")
    report = run([bad], store)
    assert report.failed == [(key(bad), "binary file, not text")]
    assert not report.ok
    assert store.count() == 0


def test_dangling_symlink_in_a_folder_is_reported(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / "real.txt").write_text(paragraphs("real", 1))
    (folder / "gone.txt").symlink_to(tmp_path / "deleted-target.txt")

    report = run([folder], store)

    assert report.added == [key(folder / "real.txt")]
    assert report.failed == [
        (str(Path(key(folder)) / "gone.txt"), "cannot read (No such file or directory)")
    ]


def test_symlinks_in_a_folder(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("target words")
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / "link.txt").symlink_to(outside / "target.txt")
    (folder / "loop").symlink_to(folder)  # following it would never end

    report = run([folder], store, follow_symlinks=True)  # by default not: see test_walk.py

    assert report.added == [key(outside / "target.txt")]  # stored under the file it points to
    assert report.skipped == [(str(folder.resolve() / "loop"), "symlinked folder, not followed")]


def test_unreadable_file_is_reported(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "perm"
    folder.mkdir()
    (folder / "ok.txt").write_text(paragraphs("ok", 1))
    locked = folder / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    real_open = os.open

    def open_(path, flags, *args, **kwargs):  # tests run as root: chmod 0 does not stop reads
        if Path(path) == locked.resolve():
            raise PermissionError(13, os.strerror(13), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(pipeline_module.os, "open", open_)
    report = run([folder], store)
    assert report.added == [key(folder / "ok.txt")]
    assert report.failed == [(key(locked), "cannot read (Permission denied)")]


def test_wrong_path_fails_before_touching_the_index(fake_assistant: Assistant, docs: Path) -> None:
    fake_assistant.ingest([docs / "alpha.txt"])
    before = rows(fake_assistant.store)
    missing = docs / "no-such-folder"

    with pytest.raises(PathNotFoundError) as err:
        fake_assistant.ingest([docs, missing], prune=True)

    assert str(err.value) == f"No such file or folder: {missing}"
    assert err.value.fix == "check the path (relative to this folder)"
    assert rows(fake_assistant.store) == before  # nothing added from `docs`, nothing pruned


def test_ingest_paths_checks_all_paths_first(store: Store, docs: Path) -> None:
    with pytest.raises(PathNotFoundError, match="No such file or folder: typo.txt"):
        run([docs, "typo.txt"], store)
    assert store.count() == 0


def test_hidden_entries_are_skipped(store: Store, tmp_path: Path) -> None:
    root = tmp_path / ".notes"  # the root itself may live in a hidden folder
    (root / ".git").mkdir(parents=True)
    (root / "sub" / ".cache").mkdir(parents=True)
    (root / "visible.txt").write_text("visible words")
    (root / "sub" / "deep.md").write_text("deep words")
    (root / ".hidden.txt").write_text("hidden words")
    (root / ".git" / "config").write_text("[core]\n")
    (root / "sub" / ".cache" / "blob.txt").write_text("cached words")

    report = run([root], store)
    assert report.added == [key(root / "sub" / "deep.md"), key(root / "visible.txt")]
    assert report.failed == []
    assert report.skipped == [  # reported once per hidden entry, never descended into
        (key(root / ".git"), "hidden folder"),
        (key(root / ".hidden.txt"), "hidden file"),
        (key(root / "sub" / ".cache"), "hidden folder"),
    ]
    assert report.summary() == (
        "2 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 3 skipped, 2 chunks written"
    )

    explicit = run([root / ".hidden.txt"], store)  # named explicitly, it is ingested
    assert explicit.added == [key(root / ".hidden.txt")]


def test_binary_files_are_skipped_unread_and_reported(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "notes.txt").write_text("notes about the photos")
    (folder / "photo.GIF").write_bytes(b"GIF89a" + bytes(100))
    (folder / "backup.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    (folder / "tool").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(100))  # no suffix
    (folder / "LICENSE").write_text("MIT licence text")  # no suffix, but text: read

    report = run([folder], store)

    assert report.added == [key(folder / "LICENSE"), key(folder / "notes.txt")]
    assert report.skipped == [
        (key(folder / "backup.zip"), "binary file (.zip)"),
        (key(folder / "photo.GIF"), "binary file (.gif)"),
        (key(folder / "tool"), "binary file"),
    ]
    assert report.failed == [] and report.ok


def test_only_skipped_files_is_not_an_error(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "a.gif").write_bytes(b"GIF89a")
    report = run([folder], store)
    assert report.skipped == [(key(folder / "a.gif"), "binary file (.gif)")]
    assert report.ok and store.count() == 0


# -- include / exclude ----------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for name in ["a.md", "b.txt", "drafts/c.md", "drafts/old/d.md", "src/e.py", "src/f.md",
                 "node_modules/pkg/g.md"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"content of {name}")
    return root


@pytest.mark.parametrize(
    ("include", "exclude", "found"),
    [
        ((), (), ["a.md", "b.txt", "drafts/c.md", "drafts/old/d.md", "node_modules/pkg/g.md",
                  "src/e.py", "src/f.md"]),
        (("*.md",), (), ["a.md", "drafts/c.md", "drafts/old/d.md", "node_modules/pkg/g.md",
                         "src/f.md"]),
        (("**/*.md",), ("node_modules",), ["a.md", "drafts/c.md", "drafts/old/d.md", "src/f.md"]),
        (("*.md", "*.py"), ("drafts/*", "node_modules/"), ["a.md", "src/e.py", "src/f.md"]),
        ((), ("*.md",), ["b.txt", "src/e.py"]),
        (("src/*",), (), ["src/e.py", "src/f.md"]),
        (("*.pdf",), (), []),
    ],
)
def test_include_and_exclude_globs(
    store: Store, tree: Path, include: tuple[str, ...], exclude: tuple[str, ...], found: list[str]
) -> None:
    report = run([tree], store, include=include, exclude=exclude)
    assert report.added == [key(tree / name) for name in found]
    assert report.skipped == []  # filtered files are not reported: the user asked for it


def test_globs_do_not_filter_a_file_named_explicitly(store: Store, tree: Path) -> None:
    report = run([tree / "b.txt", tree / "src"], store, include=["*.md"])
    assert report.added == [key(tree / "b.txt"), key(tree / "src" / "f.md")]


def test_assistant_ingest_passes_globs(fake_assistant: Assistant, tree: Path) -> None:
    report = fake_assistant.ingest([tree], include=["*.md"], exclude=["drafts/*"])
    assert [Path(s).name for s in report.added] == ["a.md", "g.md", "f.md"]


# -- progress -------------------------------------------------------------------------------------


def test_progress_counts_files_and_chunks(
    store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "EMBED_BATCH", 3)
    seen: list[Progress] = []
    report = run([docs], store, on_progress=seen.append)

    assert (seen[0].files_done, seen[0].files_total, seen[0].chunks) == (0, 3, 0)
    assert (seen[-1].files_done, seen[-1].files_total, seen[-1].chunks) == (3, 3, report.chunks)
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen)
    assert [p.chunks for p in seen] == sorted(p.chunks for p in seen)
    assert any(0 < p.chunks < report.chunks for p in seen)  # batch by batch, not all at the end
    assert all(p.seconds >= 0 and p.chunks_per_s >= 0 for p in seen)


# -- bad input: vanishing, huge, many -------------------------------------------------------------


def test_file_that_vanishes_mid_run_is_reported(store: Store, docs: Path) -> None:
    beta = docs / "beta.md"

    def delete_beta(progress: Progress) -> None:
        if progress.files_done == 1 and beta.exists():  # alpha done, beta listed, not yet read
            beta.unlink()

    report = run([docs], store, on_progress=delete_beta)
    assert report.failed == [(key(beta), "cannot read (No such file or directory)")]
    assert report.added == [key(docs / "alpha.txt"), key(docs / "sub" / "gamma.html")]
    assert_consistent(store)


def test_file_replaced_by_a_folder_mid_run_is_reported(store: Store, docs: Path) -> None:
    beta = docs / "beta.md"

    def swap(progress: Progress) -> None:
        if progress.files_done == 1 and beta.is_file():
            beta.unlink()
            beta.mkdir()

    report = run([docs], store, on_progress=swap)
    assert report.failed == [(key(beta), "cannot read (Is a directory)")]
    assert len(report.added) == 2


def test_huge_file_fails_with_its_size_and_the_limit_unread(store: Store, tmp_path: Path) -> None:
    import resource

    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "small.txt").write_text(paragraphs("small", 1))
    huge = folder / "huge.txt"
    line = b"All work and no play makes Jack a dull boy.\n" * 1000
    with huge.open("wb") as out:  # 200 MB of real text, written in small blocks
        for _ in range(200 * 2**20 // len(line) + 1):
            out.write(line)
    assert huge.stat().st_size >= 200 * 2**20
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    report = run([folder], store)

    assert report.failed == [(key(huge), "too large (200 MB; the limit is 50 MB, set "
                                         "ASSISTANT_MAX_FILE_MB to raise it)")]
    assert report.added == [key(folder / "small.txt")]
    growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert growth_kb < 100 * 1024  # the file was never read into memory

    raised = run([huge], store, max_file_mb=0.001)  # the limit is a setting
    assert raised.failed[0][1] == (
        "too large (200 MB; the limit is 0.001 MB, set ASSISTANT_MAX_FILE_MB to raise it)"
    )


def test_max_file_mb_setting_reaches_the_pipeline(settings: Settings, docs: Path) -> None:
    assistant = Assistant(settings.model_copy(update={"max_file_mb": 0.0001}))
    alpha = docs / "alpha.txt"
    report = assistant.ingest([alpha])
    mb = alpha.stat().st_size / 2**20
    assert report.failed == [(key(alpha), f"too large ({mb:.3g} MB; the limit is 0.0001 MB, set "
                                          "ASSISTANT_MAX_FILE_MB to raise it)")]
    assert not report.ok


def test_bad_files_leave_earlier_documents_intact(store: Store, docs: Path) -> None:
    run([docs], store)
    before = rows(store)
    (docs / "alpha.txt").write_bytes(b"\x00binary now")  # an ingested file goes bad
    (docs / "new.pdf").write_bytes(b"%PDF-1.4 broken")

    report = run([docs], store, prune=True)

    assert [Path(s).name for s, _ in report.failed] == ["alpha.txt", "new.pdf"]
    assert rows(store) == before  # the last good version of alpha.txt stays searchable


@pytest.mark.integration  # about two minutes, mostly Chroma writing 50,000 rows
def test_fifty_thousand_small_files(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for d in range(50):
        sub = folder / f"d{d:02d}"
        sub.mkdir(parents=True)
        for f in range(1000):
            (sub / f"n{f:03d}.txt").write_text(f"note {d}-{f}")
    (folder / "d07" / "n500.txt").write_bytes(b"\xff\xfe bad")

    report = run([folder], store)

    assert len(report.added) == 49_999 and report.chunks == 49_999 == store.count()
    assert report.failed == [(key(folder / "d07" / "n500.txt"), "not UTF-8 text (byte 0)")]
    again = run([folder], store)
    assert len(again.unchanged) == 49_999 and again.chunks == 0


# -- remove ---------------------------------------------------------------------------------------


def test_remove_deletes_one_document(fake_assistant: Assistant, docs: Path) -> None:
    fake_assistant.ingest([docs])
    alpha = docs / "alpha.txt"
    others = {i: r for i, r in rows(fake_assistant.store).items()
              if r[1]["source"] != key(alpha)}

    assert fake_assistant.remove(alpha) == key(alpha)

    assert rows(fake_assistant.store) == others
    assert [d.source for d in fake_assistant.documents()] == [
        key(docs / "beta.md"), key(docs / "sub" / "gamma.html")]


def test_remove_works_after_the_file_is_gone_and_with_relative_paths(
    fake_assistant: Assistant, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_assistant.ingest([docs])
    (docs / "beta.md").unlink()
    monkeypatch.chdir(docs)
    assert fake_assistant.remove("beta.md") == key(docs / "beta.md")
    assert len(fake_assistant.documents()) == 2


def test_remove_of_a_path_not_ingested_is_a_clear_error(
    fake_assistant: Assistant, docs: Path
) -> None:
    fake_assistant.ingest([docs / "alpha.txt"])
    with pytest.raises(DocumentNotFoundError) as err:
        fake_assistant.remove(docs / "beta.md")
    assert str(err.value) == f"No document for {docs / 'beta.md'} in the knowledge base"
    assert err.value.fix == "'assistant sources' lists the ingested paths"
    assert len(fake_assistant.documents()) == 1


# -- structured formats through the pipeline -------------------------------------------------------


def test_csv_and_jsonl_chunks_keep_whole_records(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    rows_ = [f"{i},Widget {i},{i * 3}" for i in range(1, 31)]
    (folder / "stock.csv").write_text("id,name,qty\n" + "\n".join(rows_) + "\n")
    (folder / "log.jsonl").write_text("".join(
        f'{{"event": "login", "user": "user{i}"}}\n' for i in range(20)))

    run([folder], store)

    csv_chunks = sorted(rows(store, key(folder / "stock.csv")).values(),
                        key=lambda r: r[1]["chunk"])
    assert len(csv_chunks) > 1
    assert all(text.startswith("id,name,qty\n") for text, _ in csv_chunks)
    assert [line for text, _ in csv_chunks for line in text.split("\n")[1:]] == rows_
    assert csv_chunks[0][1]["first_row"] == 1 and csv_chunks[-1][1]["last_row"] == 30
    for text, _ in rows(store, key(folder / "log.jsonl")).values():
        assert all(line.startswith('{"event": "login", "user": "user') for line in
                   text.split("\n"))


# -- crash safety ---------------------------------------------------------------------------------


def _partial_write(store: Store, path: Path, keep: int) -> int:
    """Write only the first `keep` chunks of `path`'s current content, as a crash would."""
    source, digest = key(path), sha(path)
    chunks = pipeline_module._chunks(path, path.read_bytes(), CHUNK_SIZE, CHUNK_OVERLAP)
    assert len(chunks) > keep
    texts = [text for text, _ in chunks[:keep]]
    store.upsert(
        [chunk_id(source, digest, i) for i in range(keep)],
        texts,
        HashingEmbeddings().embed_documents(texts),
        [{**meta, "source": source, "content_hash": digest, "chunk": i, "n_chunks": len(chunks)}
         for i, (_, meta) in enumerate(chunks[:keep])],
    )
    return len(chunks)


def test_interrupted_first_write_is_incomplete_then_finished(store: Store, docs: Path) -> None:
    alpha = docs / "alpha.txt"
    total = _partial_write(store, alpha, keep=2)
    assert store.documents() == [DocumentInfo(key(alpha), sha(alpha), 2, complete=False)]

    report = run([alpha], store)

    assert report.added == [key(alpha)]
    assert report.chunks == total
    assert store.documents() == [DocumentInfo(key(alpha), sha(alpha), total, complete=True)]
    assert_consistent(store)


def test_interrupted_update_keeps_old_version_until_fixed(store: Store, docs: Path) -> None:
    alpha = docs / "alpha.txt"
    run([alpha], store)
    old = store.documents()[0]
    alpha.write_text(paragraphs("omega", 3))
    _partial_write(store, alpha, keep=1)

    assert store.documents() == [old, DocumentInfo(key(alpha), sha(alpha), 1, complete=False)]

    report = run([alpha], store)
    assert report.updated == [key(alpha)]
    [new] = store.documents()
    assert new.content_hash == sha(alpha) and new.complete
    assert_consistent(store)


def test_crash_between_embedding_batches_is_recovered(
    store: Store, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class CrashingEmbeddings(HashingEmbeddings):
        calls = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt  # the user pressed Ctrl-C during the second batch
            return super().embed_documents(texts)

    monkeypatch.setattr(pipeline_module, "EMBED_BATCH", 2)
    alpha = docs / "alpha.txt"
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([alpha], store, CrashingEmbeddings(), CHUNK_SIZE, CHUNK_OVERLAP)
    [partial] = store.documents()
    assert (partial.chunks, partial.complete) == (2, False)

    report = run([alpha], store)
    assert report.added == [key(alpha)]
    assert_consistent(store)


def test_store_error_in_the_writer_thread_stops_the_run(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FailingStore(Store):
        calls = 0

        def upsert(self, *args, **kwargs) -> None:
            self.calls += 1
            if self.calls == 2:
                raise StoreError("disk full", fix="free some space")
            super().upsert(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "EMBED_BATCH", 2)
    store = FailingStore.open(tmp_path / "kb", "documents", "fake")
    with pytest.raises(StoreError, match="disk full"):
        run([docs], store)
    assert store.count() == 2  # the first batch only; no later batch slipped through
    assert not any(d.complete for d in store.documents())

    report = run([docs], Store.open(tmp_path / "kb", "documents", "fake"))
    assert len(report.added) == 3
    assert_consistent(Store.open(tmp_path / "kb", "documents", "fake"))


def test_store_writes_overlap_with_embedding_the_next_batch(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second_batch_embedding = threading.Event()

    class CountingEmbeddings(HashingEmbeddings):
        calls = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.calls += 1
            if self.calls == 2:
                second_batch_embedding.set()
            return super().embed_documents(texts)

    class WaitingStore(Store):
        writes = 0

        def upsert(self, *args, **kwargs) -> None:
            self.writes += 1
            if self.writes == 1:  # written one after the other, this would wait in vain
                assert second_batch_embedding.wait(timeout=20), "no overlap"
            super().upsert(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "EMBED_BATCH", 2)
    store = WaitingStore.open(tmp_path / "kb", "documents", "fake")
    report = ingest_paths([docs], store, CountingEmbeddings(), CHUNK_SIZE, CHUNK_OVERLAP)
    assert len(report.added) == 3
    assert_consistent(store)


def test_partial_write_of_abandoned_edit_is_cleaned_up(store: Store, docs: Path) -> None:
    alpha = docs / "alpha.txt"
    original = alpha.read_text()
    run([alpha], store)
    old = store.documents()[0]
    alpha.write_text(paragraphs("omega", 3))
    _partial_write(store, alpha, keep=1)
    alpha.write_text(original)  # the edit is undone before the next run

    report = run([alpha], store)
    assert report.chunks == 0  # the complete old version is reused, not re-embedded
    assert report.updated == [key(alpha)]
    assert store.documents() == [old]
    assert_consistent(store)


# -- embedding model mismatch ---------------------------------------------------------------------


def test_other_embedding_model_is_refused_and_loses_nothing(settings: Settings, docs: Path) -> None:
    Assistant(settings).ingest([docs])
    before = rows(Assistant(settings).store)

    other = Assistant(settings.model_copy(update={"embedding": "fake:v2"}))
    with pytest.raises(EmbeddingMismatchError) as err:
        other.ingest([docs])
    assert str(err.value) == (
        "Collection 'documents' was built with embedding 'fake', not 'fake:v2'."
    )
    assert err.value.fix == (
        "set ASSISTANT_EMBEDDING='fake', or use another collection (ASSISTANT_COLLECTION) "
        "and ingest again"
    )
    with pytest.raises(EmbeddingMismatchError):
        other.documents()

    assert rows(Assistant(settings).store) == before


def test_other_embedding_can_use_another_collection(settings: Settings, docs: Path) -> None:
    Assistant(settings).ingest([docs])
    other = Assistant(settings.model_copy(update={"embedding": "fake:v2", "collection": "second"}))
    assert len(other.ingest([docs]).added) == 3
    assert len(Assistant(settings).documents()) == 3


@pytest.mark.parametrize("name", ["v2", "my docs", "-leading"])
def test_invalid_collection_name_is_a_store_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(StoreError, match=rf"^Cannot open collection '{name}' \(") as err:
        Store.open(tmp_path / "kb", name, "fake")
    assert "ASSISTANT_COLLECTION" in err.value.fix
