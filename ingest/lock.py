"""One writer per knowledge base, across processes: an exclusive `flock` on a file in the data dir.

Two processes writing one embedded Chroma store at once each keep their own copy of the vector
index and save it over the other's, so a share of the chunks end up with no readable vector
(`Error getting embedding`), silently. Every write (ingest, prune, remove, a repair) therefore
holds `<data_dir>/locks/<collection>.lock`; with a Chroma server the name also carries the
server URL, as the lexical index does. The kernel drops a `flock` when its holder dies, even by
`kill -9`, so a crashed writer never leaves the knowledge base locked.

The lock file records its holder (pid, command, start time) for the message a waiting writer
shows. Locks from two descriptors exclude each other even within one process, so two threads
queue as well; a thread that already holds a lock may take it again (a repair that re-ingests).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import KnowledgeBaseBusyError

POLL_S = 0.1  # how often a waiting writer tries again
_held = threading.local()  # lock paths this thread holds


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: process id, command line and start time (seconds since the epoch)."""

    pid: int
    command: str
    since: float

    def describe(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid}, `{self.command}`, since {clock}"


OnWait = Callable[[str], None]


def lock_path(data_dir: Path, collection: str, chroma_url: str | None = None) -> Path:
    """The lock file of one knowledge base: one per collection, and per server with a URL."""
    name = collection
    if chroma_url:
        name += "-" + hashlib.sha1(chroma_url.rstrip("/").encode()).hexdigest()[:10]
    return Path(data_dir) / "locks" / f"{name}.lock"


def _command() -> str:
    """This process's command line, shortened: what a waiting writer is told it waits for."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if name == "__main__.py":  # python -m assistant
        name = Path(sys.argv[0]).parent.name
    line = shlex.join([name, *sys.argv[1:]])
    return line if len(line) <= 80 else line[:77] + "..."


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file, if it says one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return Holder(int(data["pid"]), str(data["command"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _busy_message(holder: Holder | None) -> str:
    who = f" ({holder.describe()})" if holder else ""
    return f"Another writer{who} is changing this knowledge base"


@contextmanager
def write_lock(
    path: Path,
    wait: bool = True,
    on_wait: OnWait | None = None,
    command: str | None = None,
) -> Iterator[None]:
    """Hold the write lock at `path` for the `with` block.

    Args:
        wait: wait for another holder to finish; False raises `KnowledgeBaseBusyError` at once.
        on_wait: called once with a line for people ("Waiting for another writer ...") when
            the lock is taken and `wait` is set.
        command: recorded as the holder's command (default: the program and its subcommand).
    """
    held: set[Path] = _held.__dict__.setdefault("paths", set())
    if path in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait, on_wait)
        held.add(path)
        record = {"pid": os.getpid(), "command": command or _command(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            held.discard(path)
            os.ftruncate(fd, 0)  # no stale holder shown once it is free
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, wait: bool, on_wait: OnWait | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        holder = read_holder(path)
    if not wait:
        raise KnowledgeBaseBusyError(
            f"{_busy_message(holder)}.",
            fix="wait until it finishes and try again",
        )
    if on_wait is not None:
        who = f" ({holder.describe()})" if holder else ""
        on_wait(f"Waiting for another writer{who} to finish ...")
    while True:  # polled rather than blocking, so that Ctrl-C always gets through
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(POLL_S)


@contextmanager
def io_lock(path: Path) -> Iterator[None]:
    """Hold the short lock at `path`: around each write to an embedded store, and while a
    process loads one (Chroma then applies its log to the vector index and may save it).
    Readers never wait for a whole ingest, only for the batch being written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
