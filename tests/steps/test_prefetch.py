import threading
import time
from collections.abc import Iterator

import pytest

from steps.runtime.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))


def test_a_source_error_is_raised_in_the_consumer() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("connection dropped")

    got = []
    with pytest.raises(ValueError, match="connection dropped"):
        for item in prefetched(source()):
            got.append(item)
    assert got == [1]


def test_the_producer_stays_at_most_depth_ahead_and_stops_with_the_consumer() -> None:
    produced = []

    def source() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    stream = prefetched(source(), depth=2)
    assert next(stream) == 0
    # Give the producer ample time to run ahead; it must block on the full queue.
    time.sleep(0.3)
    assert len(produced) <= 4  # one taken, two queued, one waiting to be queued
    stream.close()
    assert not any(t.name == "ferry-prefetch" and t.is_alive() for t in threading.enumerate())
