"""Is a process still alive: the question behind every lock, heartbeat and leftover.

A run record, a store lock and a load's staging folder all name the process that owns
them (host and pid), so that whoever finds them later can tell a live owner from a
killed one without waiting for a timeout, when both are on the same host.
"""

import os
import socket


def this_host() -> str:
    """The host name an owner records and a reader compares with."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
