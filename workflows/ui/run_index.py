"""A small in-memory index of the run records in a store, for listing thousands of runs fast.

The runs page of a pipeline shows one line per run, newest first, filtered and a page
at a time. Parsing every ``run.json`` on every request would not stay fast with
thousands of runs, so the index keeps one :class:`RunSummary` per record file and
re-reads a file only when its modification time or size changed (a runner rewrites
its record after every task event). A request then costs one listing of the
pipeline's run folders plus the records that changed since the last request. The
summaries are also saved beside the runs (``runs/<pipeline>/.ui-index.json``, a
cache checked against the same times and sizes), so a restarted server does not
read thousands of records before its first answer.
"""

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow.fs as pafs

from steps.runtime.store import Location, read_text, write_text_atomic
from workflows.runner.record import RunRecord, RunStatus, abandoned_reason
from workflows.runner.run_store import RUN_FILE

INDEX_FILE = ".ui-index.json"
"""The saved index of a pipeline's runs: ``STORE/runs/<pipeline>/.ui-index.json``."""

INDEX_FORMAT = "ferry-ui-index/1"

SAVE_AFTER_READS = 20
"""The saved index is rewritten when a request had to read at least this many records."""

_TIMES = ("started", "finished")


@dataclass(frozen=True)
class RunSummary:
    """What the runs page shows of one run, taken from its record."""

    run_id: str
    pipeline: str
    status: str
    started: datetime
    finished: datetime | None
    duration_seconds: float | None
    rows_out: int | None
    """Rows the pipeline's final steps passed on (its targets' rows), summed."""
    rows_rejected: int
    """Rows quarantined by any step of the run."""
    quality_score: float | None
    """The lowest quality score of the run's steps: its weakest link."""
    steps_ok: int
    steps: int
    message: str | None
    runner_pid: int | None
    """The process of the ``ferry`` command that runs (or ran) it."""


def _summary_to_json(summary: RunSummary | None) -> dict[str, Any]:
    assert summary is not None
    data = dict(vars(summary))
    for key in _TIMES:
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _summary_from_json(data: dict[str, Any]) -> RunSummary:
    values = dict(data)
    for key in _TIMES:
        values[key] = _parse_time(values[key])
    return RunSummary(**values)


@dataclass
class _Entry:
    mtime_ns: int | None
    size: int
    summary: RunSummary | None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def summarize(data: Mapping[str, Any], final_steps: frozenset[str]) -> RunSummary:
    """The summary of one run record (already parsed JSON).

    Args:
        data: the record as ``run.json`` holds it.
        final_steps: the pipeline's steps no other step reads; when none of them is
            in the record, its last task that reported rows stands for them.

    Raises:
        KeyError, ValueError, TypeError: the record lacks a required field.
    """
    tasks: list[Mapping[str, Any]] = data["tasks"]
    finals = [t for t in tasks if t["name"] in final_steps]
    if not finals:
        finals = [t for t in tasks if t.get("rows_out") is not None][-1:]
    outs = [t["rows_out"] for t in finals if t.get("rows_out") is not None]
    scores = [t["quality_score"] for t in tasks if t.get("quality_score") is not None]
    started = _parse_time(data["started"])
    if started is None:
        raise ValueError("started is not a timestamp")
    return RunSummary(
        run_id=str(data["run_id"]),
        pipeline=str(data["pipeline"]),
        status=str(data["status"]),
        started=started,
        finished=_parse_time(data.get("finished")),
        duration_seconds=data.get("duration_seconds"),
        rows_out=sum(outs) if outs else None,
        rows_rejected=sum(t.get("rows_rejected") or 0 for t in tasks),
        quality_score=min(scores) if scores else None,
        steps_ok=sum(1 for t in tasks if t.get("status") == "Succeeded"),
        steps=len(tasks),
        message=data.get("message"),
        runner_pid=data.get("runner_pid"),
    )


@dataclass(frozen=True)
class RunFilter:
    """Which runs of a pipeline to show: a status and a range of start days (UTC)."""

    status: str | None = None
    since: date | None = None
    until: date | None = None

    def accepts(self, run: RunSummary) -> bool:
        """Whether ``run`` passes every condition set."""
        day = run.started.astimezone(UTC).date()
        return (
            (self.status is None or run.status == self.status)
            and (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
        )


@dataclass(frozen=True)
class RunPage:
    """One page of the filtered runs of a pipeline."""

    runs: list[RunSummary]
    page: int
    pages: int
    total: int
    """Runs that pass the filter."""


class RunIndex:
    """Summaries of the run records of a store, refreshed from file times on every read."""

    def __init__(self, store: Location, final_steps: Mapping[str, frozenset[str]]) -> None:
        """Index ``store``'s runs; ``final_steps`` names each known pipeline's last steps."""
        self._store = store
        self._final_steps = final_steps
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._loaded: set[str] = set()
        self.damaged: dict[str, str] = {}
        """Record path -> one line saying why it was skipped."""

    def pipelines(self) -> list[str]:
        """Names of the pipelines that have a runs folder in the store, sorted."""
        root = self._store.child("runs")
        selector = pafs.FileSelector(root.path, allow_not_found=True)
        infos = root.fs.get_file_info(selector)
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def runs(self, pipeline: str) -> list[RunSummary]:
        """Every readable run of ``pipeline``, newest first; ``Running`` ones checked for life."""
        files = self._record_files(pipeline)
        with self._lock:
            if pipeline not in self._loaded:
                self._load_saved(pipeline)
                self._loaded.add(pipeline)
            prefix = self._store.child("runs", pipeline).path + "/"
            for path in [p for p in self._entries if p.startswith(prefix) and p not in files]:
                del self._entries[path]
                self.damaged.pop(path, None)
            reads = 0
            for path, (mtime_ns, size) in files.items():
                entry = self._entries.get(path)
                if entry is None or entry.mtime_ns != mtime_ns or entry.size != size:
                    self._entries[path] = _Entry(mtime_ns, size, self._read(path, pipeline))
                    reads += 1
            if reads >= SAVE_AFTER_READS:
                self._save(pipeline, prefix)
            summaries = [e.summary for p, e in self._entries.items() if p in files and e.summary]
        summaries = [self._alive(s, pipeline) for s in summaries]
        summaries.sort(key=lambda s: s.started, reverse=True)
        return summaries

    def _index_location(self, pipeline: str) -> Location:
        return self._store.child("runs", pipeline, INDEX_FILE)

    def _load_saved(self, pipeline: str) -> None:
        """Take the summaries a previous server saved, when they were made the same way.

        The saved index is a cache: missing, unreadable or of another format or
        other final steps, it is ignored and rebuilt from the records.
        """
        try:
            saved = json.loads(read_text(self._index_location(pipeline)))
        except (OSError, ValueError):
            return
        finals = sorted(self._final_steps.get(pipeline, frozenset()))
        if not isinstance(saved, dict) or saved.get("format") != INDEX_FORMAT:
            return
        if saved.get("final_steps") != finals or not isinstance(saved.get("runs"), dict):
            return
        prefix = self._store.child("runs", pipeline).path + "/"
        try:
            for name, entry in saved["runs"].items():
                summary = _summary_from_json(entry["summary"])
                path = f"{prefix}{name}/{RUN_FILE}"
                self._entries[path] = _Entry(entry["mtime_ns"], entry["size"], summary)
        except (KeyError, TypeError, ValueError):
            for path in [p for p in self._entries if p.startswith(prefix)]:
                del self._entries[path]

    def _save(self, pipeline: str, prefix: str) -> None:
        """Save the pipeline's summaries beside its runs, so a restarted server starts warm.

        A store the UI may not write keeps the index in memory only.
        """
        runs = {
            path[len(prefix) :].split("/")[0]: {
                "mtime_ns": entry.mtime_ns,
                "size": entry.size,
                "summary": _summary_to_json(entry.summary),
            }
            for path, entry in self._entries.items()
            if path.startswith(prefix) and entry.summary is not None
        }
        saved = {
            "format": INDEX_FORMAT,
            "final_steps": sorted(self._final_steps.get(pipeline, frozenset())),
            "runs": runs,
        }
        with contextlib.suppress(OSError):
            write_text_atomic(self._index_location(pipeline), json.dumps(saved))

    def page(self, pipeline: str, where: RunFilter, page: int, per_page: int) -> RunPage:
        """Page ``page`` (from 1) of the runs of ``pipeline`` that ``where`` accepts."""
        matching = [r for r in self.runs(pipeline) if where.accepts(r)]
        pages = max(1, -(-len(matching) // per_page))
        page = min(max(page, 1), pages)
        start = (page - 1) * per_page
        return RunPage(matching[start : start + per_page], page, pages, len(matching))

    def version(self, pipeline: str) -> str:
        """A token that changes whenever a record of ``pipeline`` is added, removed or rewritten."""
        files = self._record_files(pipeline)
        newest = max((m or 0 for m, _ in files.values()), default=0)
        return f"{len(files)}-{newest}"

    def _record_files(self, pipeline: str) -> dict[str, tuple[int | None, int]]:
        """``run.json`` path -> (mtime in ns, size) for every run folder of ``pipeline``."""
        root = self._store.child("runs", pipeline)
        if self._store.is_local:
            return _local_record_files(root.path)
        selector = pafs.FileSelector(root.path, recursive=True, allow_not_found=True)
        return {
            info.path: (info.mtime_ns, info.size or 0)
            for info in root.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.base_name == RUN_FILE
        }

    def _read(self, path: str, pipeline: str) -> RunSummary | None:
        loc = self._store.at(path)
        try:
            data = json.loads(read_text(loc))
            summary = summarize(data, self._final_steps.get(pipeline, frozenset()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            self.damaged[path] = (
                f"{loc.uri}: damaged run record, skipped ({type(err).__name__}: {err}); "
                "fix or delete the file"
            )
            return None
        self.damaged.pop(path, None)
        return summary

    def _alive(self, summary: RunSummary, pipeline: str) -> RunSummary:
        """``summary``, as ``Abandoned`` when it says ``Running`` but its runner is gone."""
        if summary.status != RunStatus.RUNNING:
            return summary
        loc = self._store.child("runs", pipeline, summary.run_id, RUN_FILE)
        try:
            record = RunRecord.model_validate_json(read_text(loc))
        except (OSError, ValueError):
            return summary
        reason = abandoned_reason(record)
        if reason is None:
            return summary
        return RunSummary(**{**vars(summary), "status": RunStatus.ABANDONED, "message": reason})


def _local_record_files(folder: str) -> dict[str, tuple[int | None, int]]:
    """The ``run.json`` files one level below ``folder``, from a directory scan and a stat each."""
    found: dict[str, tuple[int | None, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        path = os.path.join(folder, entry.name, RUN_FILE)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            continue
        found[path] = (stat.st_mtime_ns, stat.st_size)
    return found
