"""Ending without finalization keeps what a normal exit does for a process's results.

``ferry`` (its console entry point, and ``python -m workflows.cli``), the fork server
and the step processes end through ``workflows.process_exit``; each case runs a real
interpreter and reads what reached its pipes.
"""

import subprocess
import sys
import textwrap

import pytest

CLI = [sys.executable, "-m", "workflows.cli"]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_threads_are_joined_atexit_handlers_run_and_buffers_flushed() -> None:
    done = _python(
        """
        import atexit, sys, threading, time
        from workflows.process_exit import exit_now
        atexit.register(lambda: print("atexit ran"))
        late = threading.Thread(target=lambda: (time.sleep(0.2), print("thread done")))
        late.start()
        print("buffered", end="")
        sys.stderr.write("no newline on stderr")
        exit_now(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout == "bufferedthread done\natexit ran\n"
    assert done.stderr == "no newline on stderr"


@pytest.mark.parametrize(
    ("code", "exit_code", "stderr"),
    [("None", 0, ""), ("4", 4, ""), ("'a message'", 1, "a message\n")],
)
def test_exit_codes_are_those_of_sys_exit(code: str, exit_code: int, stderr: str) -> None:
    done = _python(
        f"from workflows.process_exit import exit_code, exit_now; exit_now(exit_code({code}))"
    )
    assert (done.returncode, done.stderr) == (exit_code, stderr)


def test_the_command_gives_the_same_output_and_exit_codes_as_main() -> None:
    listed = subprocess.run(
        [*CLI, "list", "--pipelines", "workflows.pipelines"], capture_output=True, text=True
    )
    in_process = _python(
        """
        import sys
        sys.argv = ["ferry", "list", "--pipelines", "workflows.pipelines"]
        from workflows.cli import main
        main()
        """
    )
    assert listed.returncode == in_process.returncode == 0
    assert listed.stdout == in_process.stdout and "orders-daily" in listed.stdout
    missing = subprocess.run(
        [*CLI, "run", "nope", "--pipelines", "workflows.pipelines"], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("ferry: no pipeline named 'nope'; available: ")
    assert subprocess.run([*CLI, "--version"], capture_output=True).returncode == 0
