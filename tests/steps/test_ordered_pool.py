import random
import threading
import time
from collections.abc import Iterator

import pytest

from steps.runtime.ordered_pool import ordered_map


def _pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ferry-work") and t.is_alive()]


def test_results_come_in_input_order_whatever_finishes_first() -> None:
    def slow_square(n: int) -> int:
        time.sleep(random.random() / 200)
        return n * n

    assert list(ordered_map(slow_square, range(200), workers=4)) == [n * n for n in range(200)]


def test_two_workers_run_at_the_same_time() -> None:
    both_in = threading.Barrier(2, timeout=5)

    def meet(n: int) -> int:
        both_in.wait()  # only passes when a second item runs at the same time
        return n

    assert list(ordered_map(meet, range(4), workers=2)) == [0, 1, 2, 3]


def test_a_worker_error_comes_after_the_results_before_it() -> None:
    def fail_at_five(n: int) -> int:
        if n == 5:
            raise ValueError("bad chunk 5")
        return n

    got = []
    with pytest.raises(ValueError, match="bad chunk 5"):
        for result in ordered_map(fail_at_five, range(20)):
            got.append(result)
    assert got == [0, 1, 2, 3, 4]
    assert not _pool_threads()


def test_a_source_error_comes_after_every_result_before_it() -> None:
    def source() -> Iterator[int]:
        yield from range(3)
        raise OSError("connection reset")

    got = []
    with pytest.raises(OSError, match="connection reset"):
        for result in ordered_map(lambda n: n, source(), depth=8):
            got.append(result)
    assert got == [0, 1, 2]


def test_at_most_depth_items_are_taken_ahead_and_threads_end_with_an_early_stop() -> None:
    taken = []

    def source() -> Iterator[int]:
        for n in range(1000):
            taken.append(n)
            yield n

    stream = ordered_map(lambda n: n, source(), workers=2, depth=3)
    assert next(stream) == 0
    time.sleep(0.2)
    assert len(taken) == 3  # the one yielded and the two behind it; the next is not read yet
    stream.close()
    assert not _pool_threads()


def test_a_generator_source_is_closed_when_a_worker_fails() -> None:
    closed = []

    def source() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    def fail_at_two(n: int) -> int:
        if n == 2:
            raise ValueError("bad item 2")
        return n

    with pytest.raises(ValueError, match="bad item 2"):
        list(ordered_map(fail_at_two, source()))
    assert closed == [True]
