"""A stand-in step for runner tests: does exactly what its options say, nothing else.

Run by the test manifests as ``python -c <run this file> tasks/task.py --name N ...``.
"""

import argparse
import errno
import json
import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--marks", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--rendezvous", help="wait until this task has started too")
    parser.add_argument("--fail-first", type=int, default=0, help="fail this many attempts")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--message", default="")
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--rows", nargs=3, type=int, metavar=("IN", "OUT", "REJECTED"))
    parser.add_argument("--output", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--env", action="append", default=[], metavar="VAR")
    parser.add_argument("--snapshot", type=Path, help="copy this file into the marks folder")
    parser.add_argument("--wait-for", help="wait until this task is about to fail")
    parser.add_argument("--ignore-sigterm", action="store_true", help="only SIGKILL stops it")
    parser.add_argument("--sleep", type=float, default=0.0, help="sleep this long first")
    parser.add_argument("--fill", type=Path, help="write this file until the disk is full (ENOSPC)")
    parser.add_argument("--wait-full", help="wait until this task has filled the disk")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    marks: Path = args.marks
    marks.mkdir(parents=True, exist_ok=True)
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    (marks / f"{args.name}.pid").write_text(str(os.getpid()))
    (marks / f"{args.name}.start").write_text(repr(time.time()))
    attempts = marks / f"{args.name}.attempts"
    attempt = len(attempts.read_text().splitlines()) if attempts.exists() else 0
    with attempts.open("a") as f:
        f.write(f"{time.time()!r}\n")
    (marks / f"{args.name}.argv.json").write_text(json.dumps(args.rest))
    (marks / f"{args.name}.env.json").write_text(
        json.dumps({v: os.environ.get(v) for v in args.env})
    )
    print(json.dumps({"event": "started", "step": args.name}), flush=True)
    if args.sleep:
        time.sleep(args.sleep)
    if args.snapshot:
        (marks / f"{args.name}.snapshot").write_bytes(args.snapshot.read_bytes())
    if args.rendezvous:
        (marks / f"{args.name}.ready").write_text("")
        give_up = time.monotonic() + 20
        while not (marks / f"{args.rendezvous}.ready").exists():
            if time.monotonic() > give_up:
                print(f"{args.name}: {args.rendezvous} never started alongside", file=sys.stderr)
                return 3
            time.sleep(0.01)
    if args.wait_for:
        give_up = time.monotonic() + 20
        while not (marks / f"{args.wait_for}.failing").exists():
            if time.monotonic() > give_up:
                print(f"{args.name}: {args.wait_for} never failed", file=sys.stderr)
                return 3
            time.sleep(0.01)
    if args.fill:
        _fill(args.fill)
        (marks / f"{args.name}.full").write_text("")
        if args.hang and not args.ignore_sigterm:
            signal.signal(signal.SIGTERM, lambda *_: _clean_up_and_exit(args.fill))
    if args.wait_full:
        give_up = time.monotonic() + 20
        while not (marks / f"{args.wait_full}.full").exists():
            if time.monotonic() > give_up:
                print(f"{args.name}: {args.wait_full} never filled the disk", file=sys.stderr)
                return 3
            time.sleep(0.01)
    if args.hang:
        print(f"{args.name}: hanging", file=sys.stderr, flush=True)
        time.sleep(600)
    if attempt < args.fail_first:
        print(f"{args.name}: failing attempt {attempt + 1} on purpose", file=sys.stderr)
        print("", file=sys.stderr)
        return 1
    if args.exit:
        (marks / f"{args.name}.failing").write_text("")
        print(args.message, file=sys.stderr)
        return args.exit
    outputs = Path(os.environ["FERRY_OUTPUTS_DIR"])
    outputs.mkdir(parents=True, exist_ok=True)
    if args.rows:
        rows_in, rows_out, rejected = args.rows
        values = {"rows_in": rows_in, "rows_out": rows_out, "rows_rejected": rejected}
        values["quality_score"] = f"{rows_out / rows_in if rows_in else 1:.6f}"
        values["input_rows"] = "{}"
        values["warning"] = ""
        values["cached"] = ""
        for name, value in values.items():
            (outputs / name).write_text(f"{value}\n")
    for item in args.output:
        name, _, value = item.partition("=")
        (outputs / name).write_text(value)
    (marks / f"{args.name}.end").write_text(repr(time.time()))
    return 0


def _fill(path: Path) -> None:
    """Write zeros to ``path`` until the filesystem says it is full."""
    block = bytes(64 * 1024)
    with path.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as err:
            if err.errno != errno.ENOSPC:
                raise
    # The last partial block may have left a few bytes; fill those too.
    with path.open("ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0")
        except OSError as err:
            if err.errno != errno.ENOSPC:
                raise


def _clean_up_and_exit(path: Path) -> None:
    """What a well-behaved step does when stopped: remove its partial output, exit 143."""
    path.unlink(missing_ok=True)
    os._exit(143)


if __name__ == "__main__":
    sys.exit(main())
