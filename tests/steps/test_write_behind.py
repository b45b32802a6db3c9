"""The artifact writer's background thread: order kept, backlog bounded, errors raised."""

import threading

import pytest

from steps.runtime.write_behind import WriteBehind


def test_writes_run_in_submit_order_off_the_callers_thread() -> None:
    done: list[tuple[int, str]] = []
    writes = WriteBehind()
    for n in range(20):
        writes.submit(lambda n=n: done.append((n, threading.current_thread().name)))
    writes.close()
    assert [n for n, _ in done] == list(range(20))
    assert all(name.startswith("ferry-write") for _, name in done)
    assert threading.current_thread().name not in {name for _, name in done}


def test_backlog_never_exceeds_depth() -> None:
    release = threading.Event()
    started = threading.Event()
    writes = WriteBehind(depth=2)

    def hold() -> None:
        started.set()
        release.wait(5)

    writes.submit(hold)
    started.wait(5)
    writes.submit(lambda: None)
    writes.submit(lambda: None)
    blocked = threading.Thread(target=writes.submit, args=(lambda: None,))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive(), "a fourth write should wait while two wait behind a running one"
    release.set()
    blocked.join(5)
    assert not blocked.is_alive()
    writes.close()


def test_a_failed_write_raises_its_own_error_and_stops_later_writes() -> None:
    done: list[int] = []
    gate = threading.Event()
    writes = WriteBehind(depth=8)

    def fail() -> None:
        gate.wait(5)
        raise OSError(28, "No space left on device")

    writes.submit(fail)
    for n in range(5):
        writes.submit(lambda n=n: done.append(n))
    gate.set()
    with pytest.raises(OSError, match="No space left"):
        writes.drain()
    writes.close()
    assert done == []


def test_cancel_drops_the_waiting_writes_and_ends_the_thread() -> None:
    done: list[int] = []
    release = threading.Event()
    started = threading.Event()
    writer_threads: list[threading.Thread] = []
    writes = WriteBehind(depth=4)

    def hold() -> None:
        writer_threads.append(threading.current_thread())
        started.set()
        release.wait(5)
        done.append(0)

    writes.submit(hold)
    started.wait(5)
    for n in range(1, 4):
        writes.submit(lambda n=n: done.append(n))
    releaser = threading.Timer(0.2, release.set)
    releaser.start()
    writes.cancel()  # waits for the running write only
    releaser.join()
    assert done == [0]
    assert not writer_threads[0].is_alive()
