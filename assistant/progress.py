"""The ingest progress bar on a terminal: files, chunks, chunks/s and time left, on one line."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ingest.pipeline import Progress

WIDTH = 20  # characters of the bar itself
CLEAR = "\r\x1b[K"  # back to the line start, erase it


def duration(seconds: float) -> str:
    """"0:07", "12:30", "1:02:03"."""
    s = int(round(seconds))
    hours, rest = divmod(s, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_line(p: Progress) -> str:
    """One line such as "[#####...............] 120/480 files, 1024 chunks, 85 chunks/s,
    ETA 0:42"; the time left assumes the remaining files go as fast as the first ones."""
    share = p.files_done / p.files_total if p.files_total else 1.0
    filled = int(share * WIDTH)
    bar = "#" * filled + "." * (WIDTH - filled)
    if p.files_done and p.files_total:
        eta = duration(p.seconds * (p.files_total - p.files_done) / p.files_done)
    else:
        eta = "?"
    return (f"[{bar}] {p.files_done}/{p.files_total} files, {p.chunks} chunks, "
            f"{p.chunks_per_s:.0f} chunks/s, ETA {eta}")


class ProgressBar:
    """Redraws `progress_line` in place on `stream` (at most every `interval` seconds);
    `echo` prints a line of normal output above the bar. Erased by `close`."""

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream, self.interval = stream, interval
        self.line = ""
        self.drawn_at = float("-inf")

    def update(self, progress: Progress) -> None:
        self.line = progress_line(progress)
        last = progress.files_done == progress.files_total
        if last or time.monotonic() - self.drawn_at >= self.interval:
            self._draw()

    def _draw(self) -> None:
        self.stream.write(CLEAR + self.line)
        self.stream.flush()
        self.drawn_at = time.monotonic()

    def echo(self, text: str, out: TextIO | None = None) -> None:
        self.stream.write(CLEAR)
        self.stream.flush()
        print(text, file=out or sys.stdout, flush=True)
        if self.line:
            self._draw()

    def close(self) -> None:
        if self.line:
            self.stream.write(CLEAR)
            self.stream.flush()
            self.line = ""
