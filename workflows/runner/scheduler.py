"""Run the DAG: tasks in dependency order, independent ones in parallel, retries, deadlines.

One thread per running task does that task's attempts and backoff waits; the main
thread alone starts tasks, updates the run record and talks to the live view, driven
by the events the task threads (and the stop-signal handlers) post. After a failure
no new task starts (Argo's ``failFast``); running ones finish; the rest end ``Omitted``.
A task with ``withItems``/``withParam`` is replaced by its partitions when it becomes
ready, and finished from their records once none of them is left
(:mod:`workflows.runner.fanout`).
"""

import json
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steps.contract import OUTPUTS_DIR_ENV
from workflows.runner.attempt import AttemptResult, AttemptSpec, Cancellation, run_attempt
from workflows.runner.fanout import ExpansionError, FanOuts, fold
from workflows.runner.live import LiveView
from workflows.runner.manifest import ContainerTemplate, Plan, Task, TimedHook
from workflows.runner.record import HEARTBEAT_SECONDS, RunRecord, TaskRecord, TaskStatus
from workflows.runner.retry import AttemptPhase, declined_retry_label
from workflows.runner.run_store import RunFolder, StoreWriteError, file_name
from workflows.runner.tracing import AttemptIdentity
from workflows.runner.variables import pod_name, substitute
from workflows.warmstart.starts import WARM_STARTS


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Started:
    task: str
    attempt: int
    at: datetime = field(default_factory=_now)
    """When the attempt started: the task thread's time, not when the main thread got to it."""


@dataclass(frozen=True)
class _Retrying:
    task: str
    retry: int
    limit: int
    delay: float
    result: AttemptResult


@dataclass(frozen=True)
class _Finished:
    task: str
    result: AttemptResult
    not_retried: str | None = None
    at: datetime = field(default_factory=_now)
    """When the task ended (see ``_Started.at``)."""


@dataclass(frozen=True)
class _Stop:
    signal: str


_TaskEvent = _Started | _Retrying | _Finished
_Event = _TaskEvent | _Stop

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What stops a run cleanly: Ctrl-C, a supervisor's SIGTERM, the terminal going away."""


class StopSignals:
    """While a run is on, SIGINT, SIGTERM and SIGHUP become a stop event for the scheduler.

    The handler only puts an event on a ``SimpleQueue`` (safe from a signal handler),
    so a signal never interrupts a record write halfway. Outside the main thread no
    handler can be installed and signals keep their default effect.
    """

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        self.received = self.received or name
        self.events.put(_Stop(name))


@dataclass(frozen=True)
class Execution:
    """What every attempt of this run shares."""

    plan: Plan
    record: RunRecord
    folder: RunFolder
    view: LiveView
    global_values: Mapping[str, str]
    environ: Mapping[str, str]
    scratch: Path
    parallelism: int
    kill_grace_seconds: float
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    timed_hooks: tuple[TimedHook, ...] = ()
    """Hooks started ``after_seconds`` into the run while tasks are still pending or running."""


def stop_message(signal_name: str) -> str:
    """The run's message when ``signal_name`` stopped it."""
    return "interrupted" if signal_name == "SIGINT" else f"stopped by {signal_name}"


def execute(run: Execution, signals: StopSignals | None = None) -> None:
    """Run every task of the plan, keeping ``run.record`` up to date and saved.

    A stop signal (see :class:`StopSignals`) is handled like a failure that also stops
    the running attempts: no new task starts, running ones get SIGTERM and SIGKILL
    after the grace period (at once on a second signal) and end ``Failed`` with the
    reason ``the run was stopped by SIGTERM; the attempt was killed``; the run's
    message is ``stopped by SIGTERM`` (``interrupted`` for Ctrl-C). While it waits,
    the record is rewritten every ``heartbeat_seconds`` so readers can tell a live
    run from an abandoned one.

    A store that cannot be written (the record or a log: a full disk, a read-only
    folder) stops the run the same way, with that problem as the run's message.

    Raises:
        StoreWriteError: the first store problem, once every attempt has ended.
    """
    loop = _Loop(run, signals)
    loop.run()
    if loop.store_failure is not None:
        raise loop.store_failure


class _Loop:
    """The main thread's loop: start ready tasks, apply events, heartbeat, stop."""

    def __init__(self, run: Execution, signals: StopSignals | None) -> None:
        self.run_ = run
        self.signals = signals
        self.events: queue.SimpleQueue[_Event] = (
            signals.events if signals is not None else queue.SimpleQueue()
        )
        self.cancel = Cancellation()
        self.pending = [  # a resumed run keeps the tasks that succeeded before
            t for t in run.plan.tasks if run.record.task(t.name).status is not TaskStatus.SUCCEEDED
        ]
        self.running: set[str] = set()
        self.fanouts = FanOuts()
        self.hooks_due = sorted(run.timed_hooks, key=lambda hook: hook.after_seconds)
        self.stopped = False
        self.signalled = False
        self.store_failure: StoreWriteError | None = None

    def _signal_waiting(self) -> bool:
        return self.signals is not None and self.signals.received is not None

    def run(self) -> None:
        run = self.run_
        deadline = run.plan.deadline_seconds
        start = time.monotonic()
        try:
            while self.pending or self.running:
                if not self.stopped and not self._signal_waiting():
                    self._start_ready()
                    self._start_due_hooks(time.monotonic() - start)
                if not self.running and not (self._signal_waiting() and not self.signalled):
                    break
                left = None if deadline is None else start + deadline - time.monotonic()
                timeout = run.heartbeat_seconds
                if self.hooks_due:
                    next_hook = start + self.hooks_due[0].after_seconds - time.monotonic()
                    timeout = max(0.0, min(timeout, next_hook))
                if left is not None and not self.cancel.is_set():
                    timeout = max(0.0, min(timeout, left))
                try:
                    event = self.events.get(timeout=timeout)
                except queue.Empty:
                    if left is not None and left <= 0 and not self.cancel.is_set():
                        self.cancel.cancel(
                            f"the workflow's activeDeadlineSeconds={deadline} passed; "
                            "the attempt was killed"
                        )
                        self.stopped = True
                        run.record.message = (
                            f"activeDeadlineSeconds={deadline} of the workflow passed"
                        )
                    self._save()
                    continue
                if isinstance(event, _Stop):
                    self._stop_for_signal(event.signal)
                    continue
                done = _handle(event, run)
                if isinstance(event, _Finished) and event.result.store_problem:
                    self._stop_for_store(StoreWriteError(event.result.store_problem))
                if done:
                    self.running.discard(event.task)
                    finished = run.record.task(event.task)
                    failed = finished.status is not TaskStatus.SUCCEEDED
                    self.stopped = self.stopped or (failed and finished.hook is None)
                    self._fold_finished()
                self._save()
        finally:
            WARM_STARTS.want(0)
            for task in self.pending:
                run.record.task(task.name).status = TaskStatus.OMITTED
            self.pending.clear()
            self._fold_finished()
            self._save()

    def _start_ready(self) -> None:
        expanded = True
        while expanded:  # a fanned-out task's partitions may start in the same pass
            expanded = False
            room = self.fanouts.room(self.running)
            for task in _ready(self.pending, self.running, self.run_, room, self.fanouts.parent_of):
                self.pending.remove(task)
                if task.fanout is not None:
                    self._expand(task)
                    expanded = True
                    break
                self.running.add(task.name)
                worker = _TaskWorker(self.run_, task, self.events.put, self.cancel)
                threading.Thread(target=worker.run, name=f"task-{task.name}", daemon=True).start()
        # the fork server lives while a task may still start an attempt (a retry, too)
        WARM_STARTS.want(len(self.pending) + len(self.running))

    def _expand(self, task: Task) -> None:
        """Replace a fanned-out task by its partitions (those a resumed run kept stay done)."""
        run = self.run_
        parent = run.record.task(task.name)
        parent.status = TaskStatus.RUNNING
        parent.started = parent.started or datetime.now(UTC)
        try:
            todo = self.fanouts.expand(task, parent, _values(run), run.folder.log_uri)
        except ExpansionError as err:
            parent.status, parent.reason = TaskStatus.ERROR, str(err)
            parent.finished = datetime.now(UTC)
            self.stopped = True
            run.view.task_finished(parent)
            return
        self.pending[:0] = todo
        run.view.task_started(parent)
        self._fold_finished()

    def _fold_finished(self) -> None:
        """Finish every fanned-out task none of whose partitions is pending or running."""
        for name in self.fanouts.finished(self.pending, self.running):
            parent = self.run_.record.task(name)
            fold(parent, datetime.now(UTC))
            self.stopped = self.stopped or parent.status is not TaskStatus.SUCCEEDED
            self.run_.view.task_finished(parent)

    def _start_due_hooks(self, elapsed: float) -> None:
        """Start every timed hook whose time has come, as Argo's next reconciliation would.

        A hook sees ``workflow.status`` Running and ``workflow.duration`` (seconds, as
        Argo formats it); it gets a record entry when it fires, and its failure stops
        nothing.
        """
        while self.hooks_due and self.hooks_due[0].after_seconds <= elapsed:
            hook = self.hooks_due.pop(0)
            run = self.run_
            run.record.tasks.append(
                TaskRecord(
                    name=hook.name,
                    template=hook.template,
                    log=run.folder.log_uri(hook.name),
                    hook=hook.name,
                )
            )
            values = {
                **run.global_values,
                "workflow.status": "Running",
                "workflow.duration": f"{elapsed:f}",
            }
            task = Task(hook.name, hook.template, (), {})
            self.running.add(hook.name)
            worker = _TaskWorker(
                replace(run, global_values=values), task, self.events.put, self.cancel
            )
            threading.Thread(target=worker.run, name=f"hook-{hook.name}", daemon=True).start()

    def _stop_for_signal(self, name: str) -> None:
        if self.signalled:
            self.cancel.hurry()
            return
        self.signalled = self.stopped = True
        self.cancel.cancel(f"the run was stopped by {name}; the attempt was killed")
        self.run_.record.message = stop_message(name)
        self.run_.view.run_stopping(name, sorted(self.running), self.run_.kill_grace_seconds)
        self._save()

    def _stop_for_store(self, failure: StoreWriteError) -> None:
        if self.store_failure is not None:
            return
        self.store_failure = failure
        self.stopped = True
        if not self.cancel.is_set():
            self.cancel.cancel(f"the run was stopped: {failure.problem}; the attempt was killed")
        self.run_.record.message = failure.problem
        self.run_.view.run_stopping(
            "the store cannot be written", sorted(self.running), self.run_.kill_grace_seconds
        )

    def _save(self) -> None:
        """Save the record; a store problem stops the run (and is not raised here)."""
        if self.store_failure is not None:
            return
        try:
            self.run_.folder.save(self.run_.record)
        except StoreWriteError as failure:
            self._stop_for_store(failure)


def _ready(
    pending: list[Task],
    running: set[str],
    run: Execution,
    room: dict[str, int],
    parent_of: Mapping[str, str],
) -> list[Task]:
    """Tasks that may start now: dependencies done, within the run's and the fan-outs' limits.

    ``room`` is how many more partitions each fanned-out task may start (its parallelism).
    """
    ready: list[Task] = []
    left = dict(room)
    for task in pending:
        if len(running) + len(ready) >= run.parallelism:
            break
        parent = parent_of.get(task.name)
        if parent in left and left[parent] <= 0:
            continue
        if all(run.record.task(d).status is TaskStatus.SUCCEEDED for d in task.dependencies):
            ready.append(task)
            if parent in left:
                left[parent] -= 1
    return ready


def _values(run: Execution) -> dict[str, str]:
    """The workflow's values and every finished task's outputs, for filling in tags."""
    values = dict(run.global_values)
    for done in run.record.tasks:
        for name, value in done.outputs.items():
            values[f"tasks.{done.name}.outputs.parameters.{name}"] = value
    return values


def _handle(event: _TaskEvent, run: Execution) -> bool:
    """Apply ``event`` to the record and the view (not saved yet); True when the task is done."""
    task = run.record.task(event.task)
    if isinstance(event, _Started):
        task.status = TaskStatus.RUNNING
        task.attempts = event.attempt + 1
        task.started = task.started or event.at
        run.view.task_started(task)
    elif isinstance(event, _Retrying):
        task.exit_code = event.result.exit_code
        task.reason = event.result.reason
        run.view.task_retrying(task, event.retry, event.limit, event.delay)
    else:
        _finish(task, event.result, event.at)
        task.not_retried = event.not_retried
        run.view.task_finished(task)
    return isinstance(event, _Finished)


def _finish(task: TaskRecord, result: AttemptResult, now: datetime) -> None:
    task.status = {
        AttemptPhase.SUCCEEDED: TaskStatus.SUCCEEDED,
        AttemptPhase.FAILED: TaskStatus.FAILED,
        AttemptPhase.ERROR: TaskStatus.ERROR,
    }[result.phase]
    task.finished = now
    task.duration_seconds = (now - task.started).total_seconds() if task.started else None
    task.exit_code = result.exit_code
    task.reason = result.reason or None
    task.outputs = result.outputs
    task.rows_in = _count(result.outputs.get("rows_in"))
    task.rows_out = _count(result.outputs.get("rows_out"))
    task.rows_rejected = _count(result.outputs.get("rows_rejected"))
    score = result.outputs.get("quality_score")
    try:
        task.quality_score = None if score is None else float(score)
    except ValueError:
        task.quality_score = None
    task.input_rows = _input_rows(result.outputs.get("input_rows"))
    task.warning = result.outputs.get("warning") or None
    task.cache_key, task.cached_from = _cached(result.outputs.get("cached"))
    task.cached = task.cache_key is not None


def _cached(text: str | None) -> tuple[str | None, str | None]:
    """The ``cached`` output (``{"key": ..., "run_id": ...}``): key and source run, or Nones."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return None, None
    if not isinstance(value, dict):
        return None, None
    key, run = value.get("key"), value.get("run_id")
    return (str(key) if key else None), (str(run) if run else None)


def _input_rows(text: str | None) -> dict[str, int]:
    """The ``input_rows`` output (a JSON object of counts); {} when absent or malformed."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int)}


def _count(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


class _TaskWorker:
    """The attempts of one task, in its own thread."""

    def __init__(
        self,
        run: Execution,
        task: Task,
        post: Callable[[_Event], None],
        cancel: Cancellation,
    ) -> None:
        self.run_ = run
        self.task = task
        self.template: ContainerTemplate = run.plan.templates[task.template]
        self.post = post
        self.cancel = cancel

    def run(self) -> None:
        """Attempt the task; whatever happens, post ``_Finished`` so the run can end."""
        try:
            self._attempts()
        except Exception as err:
            reason = f"the runner failed while running the step: {type(err).__name__}: {err}"
            result = AttemptResult(AttemptPhase.ERROR, None, " ".join(reason.split()), 0.0)
            self.post(_Finished(self.task.name, result))

    def _attempts(self) -> None:
        """Attempt the task until it succeeds, its retries are spent or the run is cancelled."""
        retry = self.template.retry
        limit = retry.limit if retry else 0
        inputs = self._inputs()
        first_start = time.monotonic()
        attempt = 0
        not_retried: str | None = None
        while True:
            self.post(_Started(self.task.name, attempt))
            result = run_attempt(self._spec(attempt, inputs, limit), self.cancel)
            try:
                self.run_.folder.publish_log(self.task.name)
            except StoreWriteError as failure:
                result = replace(result, store_problem=result.store_problem or failure.problem)
            if (
                result.phase is AttemptPhase.SUCCEEDED
                or result.store_problem
                or self.cancel.is_set()
                or retry is None
            ):
                break
            delay = retry.delay_before_retry(attempt + 1)
            elapsed = time.monotonic() - first_start
            if attempt >= limit or not retry.should_retry(result.phase, result.reason):
                break
            if not retry.expression_allows(result.phase, result.exit_code):
                not_retried = declined_retry_label(result.exit_code)
                break
            if not retry.within_max_duration(elapsed, delay):
                result = AttemptResult(
                    result.phase,
                    result.exit_code,
                    f"{result.reason} (no retry: backoff maxDuration reached)",
                    result.duration_seconds,
                )
                break
            self.post(_Retrying(self.task.name, attempt + 1, limit, delay, result))
            if self.cancel.wait(delay):
                break
            attempt += 1
        self.post(_Finished(self.task.name, result, not_retried))

    def _inputs(self) -> dict[str, str]:
        """The template's input parameters: task arguments, else the input's value/default."""
        values = _values(self.run_)
        inputs = {}
        for name, default in self.template.inputs.items():
            raw = self.task.arguments.get(name, default)
            inputs[name] = substitute(raw or "", values)
        return inputs

    def _spec(self, attempt: int, inputs: dict[str, str], limit: int) -> AttemptSpec:
        workflow = self.run_.record.run_id
        pod = pod_name(workflow, self.template.name, self.task.name, attempt)
        values = {
            **self.run_.global_values,
            **{f"inputs.parameters.{k}": v for k, v in inputs.items()},
            "pod.name": pod,
            "retries": str(attempt),
        }
        folder = self.run_.scratch / workflow / file_name(self.task.name)
        outputs_dir = folder / f"attempt-{attempt}"
        env = dict(self.run_.environ)
        env[OUTPUTS_DIR_ENV] = str(outputs_dir)
        for var in self.template.env:
            if var.value is not None:
                env[var.name] = substitute(var.value, values)
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return AttemptSpec(
            argv=tuple(substitute(arg, values) for arg in self.template.argv),
            env=env,
            outputs_dir=outputs_dir,
            outputs=self.template.outputs,
            log_file=self.run_.folder.log_file(self.task.name),
            header=f"==> {self.task.name} attempt {attempt + 1}/{limit + 1} pod {pod} at {started}",
            deadline_seconds=self.template.deadline_seconds,
            kill_grace_seconds=self.run_.kill_grace_seconds,
            identity=AttemptIdentity(self.run_.plan.pipeline, workflow, self.task.name, attempt),
        )


def default_parallelism() -> int:
    """One task per CPU."""
    return os.cpu_count() or 1
