"""A step must not outlive its runner: the parent-death signal every step process gets.

On Linux a child asks the kernel (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to be killed
when the thread that started it dies, so even a ``kill -9`` of ``ferry run`` takes its
steps with it (see docs/local-runner.md).
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """The C library's ``prctl`` on Linux (loaded once, before any fork), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _load_prctl()


def die_with_runner() -> Callable[[], None] | None:
    """What the child runs before ``exec``: SIGKILL me when the runner dies.

    The signal follows the death of the *thread* that forked the child: the task's
    worker thread, which lives until the attempt has ended, or for the fork server
    (``workflows.warmstart``) the thread that starts it, which lives as long as the
    runner; so in effect it is the runner's death. If the runner died between fork
    and ``prctl``, the child is already an orphan and exits at once. ``prctl`` is a
    plain C call that takes no Python lock, which keeps this ``preexec_fn`` safe in a
    threaded runner. Without ``prctl`` (not Linux) there is no such guarantee; see
    docs/local-runner.md.
    """
    prctl = _PRCTL
    if prctl is None:
        return None
    runner = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != runner:
            os._exit(137)

    return preexec


def die_with_parent(parent: int) -> None:
    """In a child forked without ``exec`` (a step of the fork server): SIGKILL me with ``parent``.

    The parent is single-threaded, so its thread's death is its death; a child
    whose parent died before the ``prctl`` is already an orphan and exits at once.
    Without ``prctl`` (not Linux) it does nothing.
    """
    prctl = _PRCTL
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)
