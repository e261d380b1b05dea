"""The documents panel: upload, list, remove and re-ingest, through `Assistant` like the CLI.

Functions here take plain values and a progress callback and return HTML (file names
neutralised, their control and bidi characters shown as escapes) or choices for the pickers,
so that they are tested without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import uploads
from assistant.errors import ERRORS, describe
from assistant.web.format import neutralise
from ingest import DocumentInfo, IngestReport
from ingest.names import display_name as visible
from ingest.pipeline import Progress as IngestProgress

if TYPE_CHECKING:
    from assistant.api import Assistant

Progress = Callable[[int, int, str], None]  # (files done, files in all, what happened last)

_STATUS_CLASS = {"added": "ok", "updated": "ok", "unchanged": "same", "removed": "same",
                 "failed": "bad", "refused": "bad"}


def uploads_dir(assistant: Assistant) -> Path:
    return uploads.uploads_folder(assistant.settings)


def display_name(source: str, root: Path) -> str:
    """A document's path relative to the uploads folder, or its full path when elsewhere, with
    invisible characters escaped (`ingest.names.display_name`)."""
    path = Path(source)
    try:
        return visible(path.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:  # elsewhere, or a NUL in a refused name
        return visible(source)


def choices(docs: Sequence[DocumentInfo], root: Path) -> list[tuple[str, str]]:
    """(label, source) pairs for the document pickers, sorted by label."""
    return sorted((display_name(d.source, root), d.source) for d in docs)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<table class="da-table"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")


def documents_table(docs: Sequence[DocumentInfo], root: Path) -> str:
    """The ingested documents with their chunk counts, as an HTML table."""
    if not docs:
        return '<p class="da-empty">No documents yet: upload some above.</p>'
    rows = [
        [neutralise(display_name(d.source, root)), str(d.chunks),
         "ready" if d.complete else '<span class="da-bad">incomplete: re-ingest it</span>']
        for d in sorted(docs, key=lambda d: display_name(d.source, root))
    ]
    total = sum(d.chunks for d in docs)
    plural = "" if len(docs) == 1 else "s"
    return _table(f"{len(docs)} document{plural}, {total} chunks", ["Document", "Chunks", "State"],
                  rows)


def results_table(rows: Sequence[tuple[str, str, str]], root: Path) -> str:
    """Per-file outcomes (status, path, reason) of an upload, removal or re-ingest."""
    if not rows:
        return ""
    cells = [
        [f'<span class="da-{_STATUS_CLASS.get(status, "same")}">{html.escape(status)}</span>',
         neutralise(display_name(path, root)), neutralise(visible(reason))]
        for status, path, reason in rows
    ]
    bad = sum(status in ("failed", "refused") for status, _, _ in rows)
    skipped = sum(status == "skipped" for status, _, _ in rows)
    parts = [f"{len(rows) - bad - skipped} done"]
    parts += [f"{skipped} skipped"] if skipped else []
    parts += [f"{bad} failed"] if bad else []
    caption = ", ".join(parts)
    return _table(caption, ["Result", "File", "Reason"], cells)


def report_rows(report: IngestReport) -> list[tuple[str, str, str]]:
    rows = [(status, path, "") for status in ("added", "updated", "unchanged", "removed")
            for path in getattr(report, status)]
    return (rows + [("skipped", path, reason) for path, reason in report.skipped]
            + [("failed", path, reason) for path, reason in report.failed])


def ingest(assistant: Assistant, files: Sequence[Path], progress: Progress
           ) -> list[tuple[str, str, str]]:
    """Ingest `files` (already in place), telling `progress` the files done, chunks written,
    speed and the last file's outcome as the run goes."""
    if not files:
        return []
    last = "reading"

    def on_file(source: str, status: str) -> None:
        nonlocal last
        last = f"{status} {visible(Path(source).name)}"

    def on_progress(p: IngestProgress) -> None:
        progress(p.files_done, p.files_total or len(files),
                 f"{p.chunks} chunks, {p.chunks_per_s:.0f}/s · {last}")

    progress(0, len(files), last)
    # Another process writing (a CLI ingest) is said at once rather than waited for in silence.
    return report_rows(assistant.ingest(files, on_file=on_file, on_progress=on_progress,
                                        wait=False))


def _received(path: str, inbox: Path | None) -> bool:
    """Whether `path` lies in the web server's upload folder (always, when there is none)."""
    if inbox is None:
        return True
    try:
        return Path(path).resolve().is_relative_to(inbox)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return False


def upload(assistant: Assistant, paths: Sequence[str], progress: Progress,
           received_in: Path | None = None) -> list[tuple[str, str, str]]:
    """Copy uploaded files into the uploads folder (unpacking zips), then ingest them; a file
    that fails to ingest is not kept, and the copy it was to replace is put back.

    `received_in`: the web server's upload folder; a path elsewhere is refused, so a forged
    request cannot make the server ingest its own files."""
    inbox = received_in.resolve() if received_in else None
    forged = [p for p in paths if not _received(p, inbox)]
    saved = uploads.receive([p for p in paths if p not in forged], assistant.settings)
    refused = [("refused", name, "not an uploaded file") for name in forged]
    refused += [("refused", name, reason) for name, reason in saved.rejected]
    kept: set[str] | None = None
    try:
        rows = ingest(assistant, saved.files, progress)
        kept = {path for status, path, _ in rows if status in ("added", "updated", "unchanged")}
    finally:
        saved.settle(kept)
    return refused + rows


def _known(assistant: Assistant, sources: Sequence[str]
           ) -> tuple[list[str], list[tuple[str, str, str]]]:
    """`sources` split into ingested documents and refusals: the panel acts on documents only,
    whatever path a request names."""
    ingested = {d.source for d in assistant.documents()}
    return ([s for s in sources if s in ingested],
            [("refused", s, "not an ingested document") for s in sources if s not in ingested])


def remove(assistant: Assistant, sources: Sequence[str]) -> list[tuple[str, str, str]]:
    """Remove documents from the index; their uploaded copies (only those) are deleted too."""
    sources, rows = _known(assistant, sources)
    for source in sources:
        try:
            assistant.remove(source, wait=False)
        except ERRORS as exc:  # removed meanwhile from another tab, another writer at work
            rows.append(("failed", source, describe(exc)))
            continue
        uploads.delete_copy(source, uploads_dir(assistant))
        rows.append(("removed", source, ""))
    return rows


def reingest(assistant: Assistant, sources: Sequence[str], progress: Progress
             ) -> list[tuple[str, str, str]]:
    """Ingest the selected documents' files again (changed ones are updated)."""
    sources, refused = _known(assistant, sources)
    present = [Path(s) for s in sources if Path(s).is_file()]
    gone = [("failed", s, "the file is gone (remove the document instead)")
            for s in sources if not Path(s).is_file()]
    return refused + gone + ingest(assistant, present, progress)
