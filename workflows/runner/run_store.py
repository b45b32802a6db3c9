"""Where run records and task logs live in the store, and how they are read back.

Layout: ``STORE/runs/<pipeline>/<run-id>/run.json`` and ``.../logs/<task>.log``.
``run.json`` is rewritten whole (atomically) after every task event, so a killed
runner still leaves a readable record. On S3 the logs are written to a local folder
and uploaded after each attempt.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from steps.runtime.errors import StepUsageError
from steps.runtime.store import (
    Location,
    open_location,
    publish_bytes,
    read_text,
    temporary_path,
    write_text_atomic,
)
from workflows.errors import FerryError, UsageError
from workflows.runner.record import RunRecord, RunStatus, abandoned_reason, pid_alive, this_host

RUN_FILE = "run.json"
MANIFEST_FILE = "workflow.yaml"
"""The manifest a run executed, kept beside its record so ``ferry retry`` runs it again."""
LOCK_FILE = ".lock"


class StoreWriteError(FerryError):
    """The store could not be written mid-run: a full disk, a read-only or forbidden folder.

    Exit 1 (the run was attempted). The message is one line naming the path and the
    system's reason, e.g. ``cannot write to the store: /s/runs/p/r/run.json: No space
    left on device (ENOSPC)``, then what became of the run and its record.
    """

    def __init__(self, problem: str, outcome: str | None = None) -> None:
        self.problem = problem
        super().__init__(f"{problem}; {outcome}" if outcome else problem)


def store_problem(where: str, err: OSError) -> str:
    """``cannot write to the store: <where>: <reason> (<ERRNO>)`` on one line."""
    name = errno.errorcode.get(err.errno) if err.errno else None
    reason = err.strerror or " ".join(str(err).split()) or type(err).__name__
    return f"cannot write to the store: {where}: {reason}{f' ({name})' if name else ''}"


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._()@,:=-]")
MAX_LOG_NAME = 120


def file_name(task: str) -> str:
    """``task`` as one file name: a partition's name may hold a path (``/``) or be long."""
    name = _UNSAFE_IN_NAME.sub("_", task)
    if len(name) > MAX_LOG_NAME:
        digest = hashlib.sha256(task.encode("utf-8")).hexdigest()[:12]
        name = f"{name[: MAX_LOG_NAME - 13]}-{digest}"
    return name


def log_name(task: str) -> str:
    """The log file name of ``task``."""
    return f"{file_name(task)}.log"


def open_store(uri: str) -> Location:
    """Open the store URI, turning a bad one into a usage error (exit 2)."""
    try:
        return open_location(uri)
    except StepUsageError as err:
        raise UsageError(f"--store: {err}") from None


def prepare_store(location: Location) -> None:
    """Make sure runs can be written to ``location`` before any step starts.

    A local store is created here, so a path that is a file, or under one that cannot
    be created, is a usage error instead of a traceback halfway into the run.

    Raises:
        UsageError: the folder cannot be created or written, or S3 cannot be reached (exit 2).
    """
    check_readable(location)
    if not location.is_local:
        return
    try:
        os.makedirs(location.path, exist_ok=True)
    except OSError as err:
        raise UsageError(_not_a_folder(location, err.strerror)) from None
    if not os.access(location.path, os.W_OK | os.X_OK):
        raise UsageError(_not_a_folder(location, "not writable"))


def check_readable(location: Location) -> None:
    """Refuse a local store that is not a folder, or an S3 store that cannot be reached.

    A local folder that does not exist yet is fine: it simply holds no runs.

    Raises:
        UsageError: as above (exit 2).
    """
    if not location.is_local:
        check_reachable(location)
    elif os.path.exists(location.path) and not os.path.isdir(location.path):
        raise UsageError(_not_a_folder(location, "it is a file"))


def check_reachable(location: Location) -> None:
    """Ask S3 about the store once, so an unreachable service fails in one line up front.

    Raises:
        UsageError: naming the store, the endpoint and what to check (exit 2).
    """
    try:
        location.fs.get_file_info(location.path)
    except OSError as err:
        raise UsageError(unreachable(location, err)) from None


def unreachable(location: Location, err: OSError) -> str:
    """The one line for an S3 store that did not answer."""
    endpoint = (
        os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or "the AWS default endpoint"
    )
    reason = " ".join(str(err).split())
    return (
        f"--store {location.uri}: cannot reach it at {endpoint} ({reason}); check "
        "AWS_ENDPOINT_URL, the AWS_* credentials and that the service is up"
    )


def _not_a_folder(location: Location, reason: str | None) -> str:
    return (
        f"--store {location.path}: cannot use it as the store folder ({reason}); "
        "pass a folder that can be created and written, or s3://bucket/prefix"
    )


class RunFolder:
    """The folder of one run: its record and its task logs."""

    def __init__(self, store: Location, pipeline: str, run_id: str, scratch: Path) -> None:
        """Create the log folder.

        Raises:
            StoreWriteError: it cannot be created (a full, read-only or forbidden store).
        """
        self.location = store.child("runs", pipeline, run_id)
        self._local = store.is_local
        self._log_dir = Path(self.location.path) / "logs" if self._local else scratch / "logs"
        try:
            self._log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreWriteError(store_problem(str(self._log_dir), err)) from None

    @property
    def record_uri(self) -> str:
        """Where ``run.json`` is."""
        return self.location.child(RUN_FILE).uri

    def save(self, record: RunRecord) -> None:
        """Write ``run.json`` whole, with a fresh ``heartbeat``.

        Raises:
            StoreWriteError: it cannot be written; a local temporary file is removed.
        """
        record.heartbeat = datetime.now(UTC)
        data = (record.model_dump_json(indent=2) + "\n").encode("utf-8")
        target = self.location.child(RUN_FILE)
        try:
            if self._local:
                _replace_atomically(target.path, data)
            else:
                write_text_atomic(target, data.decode("utf-8"))
        except OSError as err:
            raise StoreWriteError(store_problem(target.uri, err)) from None

    def save_manifest(self, manifest: dict[str, object]) -> None:
        """Keep the manifest this run executes (``workflow.yaml``), written once at the start.

        Raises:
            StoreWriteError: it cannot be written.
        """
        import yaml

        target = self.location.child(MANIFEST_FILE)
        try:
            write_text_atomic(target, yaml.safe_dump(manifest, sort_keys=True))
        except OSError as err:
            raise StoreWriteError(store_problem(target.uri, err)) from None

    def log_uri(self, task: str) -> str:
        """Where the log of ``task`` ends up in the store."""
        return self.location.child("logs", log_name(task)).uri

    def log_file(self, task: str) -> Path:
        """The local file the attempts of ``task`` append their output to."""
        return self._log_dir / log_name(task)

    def publish_log(self, task: str) -> None:
        """Copy the log of ``task`` into the store (a no-op when the store is a local folder).

        Raises:
            StoreWriteError: the upload failed.
        """
        if not self._local:
            target = self.location.child("logs", log_name(task))
            try:
                publish_bytes(target, self.log_file(task).read_bytes())
            except OSError as err:
                raise StoreWriteError(store_problem(target.uri, err)) from None


def _replace_atomically(path: str, data: bytes) -> None:
    """Temp file + rename, removing the temp file when the write fails (a full disk)."""
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class RunListing:
    """The run records of a store, and one line for each ``run.json`` that cannot be read."""

    records: list[RunRecord] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def read_runs(store: str, pipeline: str | None = None) -> RunListing:
    """Every readable run in ``store`` (of ``pipeline`` if given), newest first.

    A ``Running`` record whose runner is gone is returned as ``Abandoned``, its
    message saying why (see :func:`workflows.runner.record.abandoned_reason`); the
    file itself is left as it is.

    A damaged ``run.json`` (a runner killed mid-write on a filesystem without atomic
    rename, a hand edit) must not hide the other runs, so it is reported, not raised.

    Raises:
        UsageError: the store is not a folder or cannot be reached (exit 2).
    """
    import pyarrow.fs as pafs  # here: a run never lists runs, and starts sooner without it

    location = open_store(store)
    check_readable(location)
    root = location.child("runs", *([pipeline] if pipeline else []))
    selector = pafs.FileSelector(root.path, recursive=True, allow_not_found=True)
    listing = RunListing()
    try:
        infos = root.fs.get_file_info(selector)
        for info in infos:
            if info.type == pafs.FileType.File and info.base_name == RUN_FILE:
                _read_record(root.at(info.path), listing)
    except OSError as err:
        if location.is_local:
            raise UsageError(_not_a_folder(location, err.strerror)) from None
        raise UsageError(unreachable(location, err)) from None
    listing.records.sort(key=lambda r: r.started, reverse=True)
    return listing


def _read_record(loc: Location, listing: RunListing) -> None:
    try:
        record = RunRecord.model_validate_json(read_text(loc))
    except (ValidationError, UnicodeDecodeError) as err:
        listing.damaged.append(
            f"{loc.uri}: damaged run record, skipped ({_first_problem(err)}); "
            "fix or delete the file"
        )
        return
    reason = abandoned_reason(record)
    if reason is not None:
        record.status = RunStatus.ABANDONED
        record.message = reason
    listing.records.append(record)


def _first_problem(err: ValidationError | UnicodeDecodeError) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def list_runs(store: str, pipeline: str | None = None) -> list[RunRecord]:
    """Every readable run in ``store`` (of ``pipeline`` if given), newest first.

    Damaged records are skipped; :func:`read_runs` also says which they are.
    """
    return read_runs(store, pipeline).records


class PipelineLock:
    """One ``ferry run`` of a pipeline at a time on a local store: ``runs/<pipeline>/.lock``.

    The lock is an exclusive ``flock`` on that file, which the kernel releases when
    the runner exits in any way (``kill -9`` included), so a lock is never stale
    while the filesystem supports ``flock``. The file also says who holds it (run
    id, pid, host), for the refusal message. Where ``flock`` is not supported (some
    network or FUSE filesystems) the file's content decides, with the rule of
    abandoned runs: the holder's run record is ``Running`` and its runner is not
    gone (see :func:`workflows.runner.record.abandoned_reason`).

    A run for an explicit data interval (a backfill's) takes the lock of that interval
    only, ``.lock-<digest>``: the intervals of one backfill run side by side
    (``--parallel``), two runs of the same interval never do.

    An S3 store has no lock: two runs of one pipeline there run side by side.
    """

    def __init__(
        self, store: Location, pipeline: str, run_id: str, interval: str | None = None
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.run_id = run_id
        self.interval = interval
        self.runs = store.child("runs", pipeline)
        name = LOCK_FILE
        if interval:
            digest = hashlib.sha1(interval.encode(), usedforsecurity=False).hexdigest()[:12]
            name = f"{LOCK_FILE}-{digest}"
        self.path = os.path.join(self.runs.path, name)
        self._fd: int | None = None

    def __enter__(self) -> "PipelineLock":
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock for this run (a no-op on S3).

        Raises:
            UsageError: another live run of the pipeline holds it (exit 2).
            StoreWriteError: the lock file cannot be created.
        """
        if not self.store.is_local:
            return
        try:
            os.makedirs(self.runs.path, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreWriteError(store_problem(self.path, err), "nothing was started") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise UsageError(self._busy(holder)) from None
        except OSError:
            holder = _read_holder(fd)
            if holder is not None and self._holder_alive(holder):
                os.close(fd)
                raise UsageError(self._busy(holder)) from None
        self._fd = fd
        mine = {"run_id": self.run_id, "pid": os.getpid(), "host": this_host()}
        with contextlib.suppress(OSError):  # the flock holds even if a full disk drops this
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(mine).encode("utf-8"), 0)

    def release(self) -> None:
        """Let the next run in (the file stays; its content is cleared)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def _holder_alive(self, holder: dict[str, object]) -> bool:
        run_id, pid, host = holder.get("run_id"), holder.get("pid"), holder.get("host")
        try:
            record = RunRecord.model_validate_json(
                read_text(self.runs.child(str(run_id), RUN_FILE))
            )
        except (OSError, ValidationError, UnicodeDecodeError):
            return isinstance(pid, int) and host == this_host() and pid_alive(pid)
        return record.status is RunStatus.RUNNING and abandoned_reason(record) is None

    def _busy(self, holder: dict[str, object] | None) -> str:
        who = ""
        if holder is not None:
            who = f" (run {holder.get('run_id')}, pid {holder.get('pid')} on {holder.get('host')})"
        what = f" for the interval {self.interval}" if self.interval else ""
        return (
            f"pipeline {self.pipeline!r} is already running{what} in the store "
            f"{self.store.path}{who}; wait for it to end or stop it, then run again "
            f"(lock {self.path})"
        )


def _read_holder(fd: int) -> dict[str, object] | None:
    """The lock file's content, or None when empty or unreadable."""
    try:
        value = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def load_run(store: str, run_id: str) -> tuple[RunRecord, dict[str, object]]:
    """The record and the manifest of run ``run_id`` in ``store``.

    Raises:
        UsageError: no such run, or it was made before runs kept their manifest (exit 2).
    """
    import yaml

    listing = read_runs(store)
    record = next((r for r in listing.records if r.run_id == run_id), None)
    if record is None:
        known = ", ".join(r.run_id for r in listing.records[:5]) or "none"
        raise UsageError(
            f"no run {run_id!r} in {store}; recent runs: {known} (list them with ferry runs)"
        )
    location = open_store(store).child("runs", record.pipeline, run_id, MANIFEST_FILE)
    try:
        manifest = yaml.safe_load(read_text(location))
    except OSError:
        raise UsageError(
            f"run {run_id!r} kept no manifest ({location.uri}), so it cannot be retried; "
            "start a new run with ferry run"
        ) from None
    return record, manifest
