import subprocess
import sys
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


def test_closing_early_closes_the_source_in_the_producer_and_joins_it() -> None:
    closed_in: list[str] = []

    def source() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed_in.append(threading.current_thread().name)

    stream = prefetched(source(), depth=2)
    assert next(stream) == 0
    producer = next(t for t in threading.enumerate() if t.name == "ferry-prefetch")
    assert not producer.daemon  # the interpreter waits for it instead of finalizing under it
    stream.close()
    assert not producer.is_alive()
    assert closed_in == ["ferry-prefetch"]


def test_a_stream_never_closed_stops_its_producer_once_the_main_thread_has_ended() -> None:
    """Exit does not hang on a forgotten stream, and the source is closed on the way out."""
    script = (
        "import sys\n"
        "from steps.runtime.prefetch import prefetched\n"
        "def source():\n"
        "    try:\n"
        "        yield from range(10**9)\n"
        "    finally:\n"
        "        print('source closed', flush=True)\n"
        "stream = prefetched(source())\n"
        "print(next(stream), flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0", "source closed"]
