"""How many questions are answered at once, and how many may wait: a bounded, first-come
first-served queue in front of the answer model, shared by `assistant serve` and the chat UI.

`Capacity.enter()` gives a `Turn` once one of the `slots` is free, in arrival order. When
`slots + queue` questions are already in (answered or waiting) it raises `BusyError` at once;
a question that waits longer than `max_wait_s` gets `BusyError` too. Each error carries
`retry_after`, the seconds after which a slot is likely free: from the recent answer times, or
before any answer has ended, from how long the running ones have taken so far.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass

from assistant.errors import AssistantError


class BusyError(AssistantError):
    """Every slot is taken and the queue is full (or the wait was too long)."""

    def __init__(self, message: str, *, fix: str, retry_after: int) -> None:
        super().__init__(message, fix=fix)
        self.retry_after = retry_after


def default_slots(cores: int | None = None, memory_gib: float | None = None) -> int:
    """Answers generated at once when `Settings.slots` is unset: one per two cores, 1 to 4,
    and no more than one per 2 GiB of memory (each slot holds its own context cache).

    Batching gains only where generating is bound by memory bandwidth, not by arithmetic. On
    2 cores both reading and writing are compute-bound: a second slot lowered answers per
    second (see the README's load benchmark), so such a machine gets one."""
    by_cores = max(1, min(4, (cores or os.cpu_count() or 1) // 2))
    memory = memory_gib if memory_gib is not None else _memory_gib()
    return max(1, min(by_cores, int(memory // 2)))


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):  # not on this platform: assume enough
        return 64.0


@dataclass
class Turn:
    """One question's hold on a slot; `leave()` gives it back (again is a no-op)."""

    capacity: Capacity
    started: float
    left: bool = False

    def leave(self) -> None:
        if not self.left:
            self.left = True
            self.capacity._leave(self.started)


class Capacity:
    """`slots` questions at once, `queue` more waiting in arrival order, none beyond."""

    def __init__(self, slots: int, queue: int, max_wait_s: float = 60.0) -> None:
        if slots < 1 or queue < 0:
            raise ValueError(f"need slots >= 1 and queue >= 0, not {slots} and {queue}")
        self.slots, self.queue, self.max_wait_s = slots, queue, max_wait_s
        self._lock = threading.Condition()
        self._running: list[float] = []  # when each running turn started
        self._waiting: deque[object] = deque()
        self._mean_s: float | None = None  # a moving average of the time a turn is held

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def retry_after(self) -> int:
        """Seconds until a slot is likely free for a newcomer, at least 1."""
        ahead = len(self._running) + len(self._waiting) - self.slots + 1
        now = time.monotonic()
        per_answer = self._mean_s or max((now - t for t in self._running), default=1.0)
        return max(1, math.ceil(per_answer * max(ahead, 1) / self.slots))

    def enter(self) -> Turn:
        """Wait for a slot, first come first served; `BusyError` when full or waited too long."""
        with self._lock:
            if len(self._running) + len(self._waiting) >= self.slots + self.queue:
                raise self._busy(f"All {self.slots} answer slots are busy and "
                                 f"{len(self._waiting)} questions are waiting.")
            ticket = object()
            self._waiting.append(ticket)
            deadline = time.monotonic() + self.max_wait_s
            while not (self._waiting[0] is ticket and len(self._running) < self.slots):
                left = deadline - time.monotonic()
                if left <= 0:
                    self._waiting.remove(ticket)
                    self._lock.notify_all()  # the one behind may now be first in line
                    raise self._busy(f"No answer slot came free within {self.max_wait_s:g} s.")
                self._lock.wait(left)
            self._waiting.popleft()
            turn = Turn(self, time.monotonic())
            self._running.append(turn.started)
            self._lock.notify_all()  # the next in line may have a slot too
            return turn

    def _leave(self, started: float) -> None:
        with self._lock:
            self._running.remove(started)
            held_s = time.monotonic() - started
            self._mean_s = held_s if self._mean_s is None else 0.8 * self._mean_s + 0.2 * held_s
            self._lock.notify_all()

    def _busy(self, message: str) -> BusyError:
        seconds = self.retry_after()
        return BusyError(message, fix=f"try again in {seconds} s", retry_after=seconds)
