"""assistant.capacity: answer slots with a bounded, first-come-first-served queue."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.capacity import BusyError, Capacity, default_slots


def enter_in_thread(capacity: Capacity, log: list[str], name: str) -> threading.Thread:
    def run() -> None:
        try:
            turn = capacity.enter()
        except BusyError:
            log.append(f"{name} busy")
            return
        log.append(name)
        turn.leave()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_turns_run_up_to_the_slots_then_wait_in_arrival_order() -> None:
    capacity = Capacity(slots=2, queue=3)
    first, second = capacity.enter(), capacity.enter()
    assert (capacity.running, capacity.waiting) == (2, 0)
    log: list[str] = []
    threads = []
    for count, name in enumerate("abc", start=1):  # queued one by one: their order is known
        threads.append(enter_in_thread(capacity, log, name))
        wait_for(lambda n=count: capacity.waiting == n)
    assert log == []
    first.leave()
    for thread in threads:
        thread.join(5)
    assert log == ["a", "b", "c"]
    second.leave()
    assert (capacity.running, capacity.waiting) == (0, 0)


def test_a_full_queue_refuses_at_once_with_a_retry_time() -> None:
    capacity = Capacity(slots=1, queue=1)
    held = capacity.enter()
    log: list[str] = []
    waiter = enter_in_thread(capacity, log, "queued")
    wait_for(lambda: capacity.waiting == 1)
    started = time.monotonic()
    with pytest.raises(BusyError) as busy:
        capacity.enter()
    assert time.monotonic() - started < 0.5
    assert str(busy.value) == "All 1 answer slots are busy and 1 questions are waiting."
    # no answer has ended: at least as long as the running one took so far (~0 s, so 1 s)
    assert busy.value.retry_after == 1
    assert busy.value.fix == "try again in 1 s"
    held.leave()
    waiter.join(5)
    assert log == ["queued"]


def test_a_long_wait_gives_up_and_leaves_the_line() -> None:
    capacity = Capacity(slots=1, queue=2, max_wait_s=0.2)
    held = capacity.enter()
    started = time.monotonic()
    with pytest.raises(BusyError, match=r"No answer slot came free within 0.2 s"):
        capacity.enter()
    assert 0.2 <= time.monotonic() - started < 1.0
    assert capacity.waiting == 0  # the one who gave up is out of the line
    held.leave()
    capacity.enter().leave()


def test_retry_after_follows_the_answer_times() -> None:
    capacity = Capacity(slots=2, queue=2)
    a, b = capacity.enter(), capacity.enter()
    time.sleep(1.2)  # no answer has ended: the running ones have taken 1.2 s so far
    assert capacity.retry_after() == 1  # 1.2 s x 1 answer ahead / 2 slots
    a.leave()  # held 1.2 s: the measured answer time
    b.leave()
    a, b = capacity.enter(), capacity.enter()
    waiters = [threading.Thread(target=lambda: capacity.enter().leave(), daemon=True)
               for _ in range(2)]
    for waiter in waiters:
        waiter.start()
    wait_for(lambda: capacity.waiting == 2)
    with pytest.raises(BusyError) as busy:
        capacity.enter()
    # the mean of the two answers held 1.2 s (two ends, 0.8/0.2 average), 3 ahead, 2 slots
    assert busy.value.retry_after == 2
    a.leave()
    b.leave()
    for waiter in waiters:
        waiter.join(5)


def test_leaving_twice_frees_one_slot() -> None:
    capacity = Capacity(slots=1, queue=0)
    turn = capacity.enter()
    turn.leave()
    turn.leave()
    assert capacity.running == 0
    capacity.enter()
    assert capacity.running == 1


@pytest.mark.parametrize(("cores", "memory_gib", "slots"), [
    (1, 24, 1), (2, 24, 1), (3, 24, 1), (4, 24, 2), (6, 24, 3), (8, 24, 4), (16, 24, 4),
    (16, 7.9, 3), (8, 2, 1), (2, 1, 1),  # little memory: fewer slots, never none
])
def test_default_slots_follow_cores_and_memory(cores: int, memory_gib: float, slots: int) -> None:
    assert default_slots(cores, memory_gib) == slots


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="need slots >= 1 and queue >= 0, not 0 and 1"):
        Capacity(slots=0, queue=1)
