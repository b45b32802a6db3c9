"""The scheduler: fire times, catch-up after downtime, concurrency policies, the run queue.

Every decision is made under one lock and saved to the store before it takes effect
(:mod:`.state`): a run is written ``in_flight`` before its process exists, so after
a crash the next start finds it again, by its pid or, failing that, by its
parameters in the run records, and either adopts it, logs how it ended, or starts
it (it never started). The clock is injectable, so tests move time by hand.

Policies (the CronWorkflow's ``concurrencyPolicy``), for a tick while a run of the
pipeline is going: ``Forbid`` skips the tick (logged), ``Replace`` stops the running
run (SIGTERM; its record says ``stopped by SIGTERM``) and starts the new one once it
ended, ``Allow`` starts it alongside. Event runs of a pipeline whose policy is not
Allow wait in the queue for the running one, as Argo's per-pipeline mutex makes them
wait on the cluster.
"""

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from workflows.runner.record import RunRecord, RunStatus, this_host
from workflows.runner.run_store import list_runs, open_store
from workflows.serve.eventlog import EventLog
from workflows.serve.runs import Launcher, RunProcess, is_ferry_run
from workflows.serve.served import ServedPipeline
from workflows.serve.state import (
    InFlightRun,
    Origin,
    PendingRun,
    load_state,
    save_state,
    utc_now,
)

Catchup = Literal["latest", "all", "none"]
CATCHUP_POLICIES: tuple[Catchup, ...] = ("latest", "all", "none")

MAX_CATCHUP_RUNS = 1000
"""Most missed intervals ``--catchup all`` runs after downtime (the newest ones)."""

LIVE_SLACK_SECONDS = 60.0
"""A tick the loop sees later than ``max(startingDeadlineSeconds, this)`` is skipped as missed
(the machine slept); on-time ticks run even with ``startingDeadlineSeconds: 0``."""

STOP_SECONDS = 30.0
"""Between SIGTERM and SIGKILL for a run being stopped (the runner needs ~5 s)."""

RECORD_CLOCK_SKEW = timedelta(seconds=2)
"""A run record started this much before its launch time still belongs to it."""


class Scheduler:
    """Decides and starts the runs of the served pipelines; see the module docstring."""

    def __init__(
        self,
        pipelines: Mapping[str, ServedPipeline],
        store: str,
        launcher: Launcher,
        log: EventLog,
        *,
        catchup: Catchup = "latest",
        clock: Callable[[], datetime] = utc_now,
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self.pipelines = dict(pipelines)
        self.store = store
        self.location = open_store(store)
        self.launcher = launcher
        self.log = log
        self.catchup = catchup
        self.clock = clock
        self.stop_seconds = stop_seconds
        self.host = this_host()
        self.state = load_state(self.location)
        self.processes: dict[str, RunProcess] = {}
        self.started_at = clock()
        self.accepting = True
        self._lock = threading.RLock()
        self._saved: str | None = None

    # -- start -----------------------------------------------------------------------

    def recover(self) -> None:
        """On start: settle the runs an earlier process left in flight, then catch up."""
        with self._lock:
            requeued = []
            for entry in list(self.state.in_flight):
                record = self._record_of(entry)
                pid = entry.pid or (record.runner_pid if record else None)
                alive = pid is not None and entry.host == self.host and is_ferry_run(pid)
                if (
                    alive
                    and pid is not None
                    and (record is None or record.status is RunStatus.RUNNING)
                ):
                    entry.pid = pid
                    self.processes[entry.id] = self.launcher.adopt(pid)
                    self.log("adopt", pipeline=entry.pipeline, pid=pid, run_id=_run_id(record))
                    continue
                self.state.in_flight.remove(entry)
                if record is not None:
                    self._log_finish(entry, record, None, "")
                else:
                    requeued.append(
                        PendingRun(**entry.model_dump(include=set(PendingRun.model_fields)))
                    )
                    self.log(
                        "requeue",
                        pipeline=entry.pipeline,
                        origin=entry.origin,
                        parameters=entry.parameters,
                        reason="its run never started before the server stopped",
                    )
            self.state.queued = requeued + self.state.queued
            for pipeline in self.pipelines.values():
                self._catch_up(pipeline)
            self._dispatch()
            self._save()

    def _catch_up(self, pipeline: ServedPipeline) -> None:
        cron = pipeline.cron
        if cron is None:
            return
        now = self.started_at
        last = self.state.last_scheduled.get(pipeline.name)
        if last is None:  # never served on this store: the schedule starts now
            self.state.last_scheduled[pipeline.name] = now
            return
        missed = cron.fires_after(last, now, MAX_CATCHUP_RUNS)
        if not missed:
            return
        self.state.last_scheduled[pipeline.name] = missed[-1]
        where = {"pipeline": pipeline.name, "first": missed[0], "last": missed[-1]}
        if cron.suspend:
            self.log("skip", **where, count=len(missed), reason="the schedule is suspended")
        elif self.catchup == "none":
            reason = "missed while the server was down (--catchup none)"
            self.log("skip", **where, count=len(missed), reason=reason)
        elif self.catchup == "all":
            self.log("catchup", **where, count=len(missed), policy="all")
            for fire in missed:
                self._enqueue(pipeline, "catchup", cron.interval(fire).parameters(), fire)
        else:
            if len(missed) > 1:
                reason = "only the latest missed run runs (--catchup latest)"
                self.log("skip", **where, count=len(missed) - 1, reason=reason)
            fire = missed[-1]
            late = (now - fire).total_seconds()
            if late > cron.starting_deadline_seconds:
                self._skip_late(pipeline, fire, late, cron.starting_deadline_seconds)
            else:
                self.log("catchup", pipeline=pipeline.name, fire=fire, policy="latest")
                self._on_fire(pipeline, fire, "catchup")

    # -- the loop --------------------------------------------------------------------

    def tick(self) -> None:
        """One pass: end finished runs, fire due schedules, start what may start, save."""
        with self._lock:
            now = self.clock()
            self._reap(now)
            if self.accepting:
                for pipeline in self.pipelines.values():
                    self._fire_due(pipeline, now)
                self._dispatch()
            self._save()

    def _fire_due(self, pipeline: ServedPipeline, now: datetime) -> None:
        cron = pipeline.cron
        if cron is None:
            return
        last = self.state.last_scheduled.get(pipeline.name, self.started_at)
        fires = cron.fires_after(last, now, MAX_CATCHUP_RUNS)
        if not fires:
            return
        self.state.last_scheduled[pipeline.name] = fires[-1]
        for fire in fires:
            self.log("tick", pipeline=pipeline.name, fire=fire)
            late = (now - fire).total_seconds()
            if cron.suspend:
                self.log(
                    "skip", pipeline=pipeline.name, fire=fire, reason="the schedule is suspended"
                )
            elif late > max(cron.starting_deadline_seconds, LIVE_SLACK_SECONDS):
                self._skip_late(pipeline, fire, late, cron.starting_deadline_seconds)
            else:
                self._on_fire(pipeline, fire, "schedule")

    def _skip_late(
        self, pipeline: ServedPipeline, fire: datetime, late: float, deadline: int
    ) -> None:
        reason = f"{late:.0f} s late, past startingDeadlineSeconds {deadline}"
        self.log("skip", pipeline=pipeline.name, fire=fire, reason=reason)

    def _on_fire(self, pipeline: ServedPipeline, fire: datetime, origin: Origin) -> None:
        assert pipeline.cron is not None
        running = self._running(pipeline.name)
        waiting = [q for q in self.state.queued if q.pipeline == pipeline.name]
        policy = pipeline.policy
        if policy == "Forbid" and (running or waiting):
            busy = [f"pid {e.pid}" for e in running] or [f"queued {q.id}" for q in waiting]
            reason = f"concurrencyPolicy Forbid: a run of the pipeline is going ({', '.join(busy)})"
            self.log("skip", pipeline=pipeline.name, fire=fire, reason=reason)
            return
        if policy == "Replace":
            for entry in running:
                self._stop(entry, f"concurrencyPolicy Replace: replaced by the run of {fire}")
            for item in waiting:
                self.state.queued.remove(item)
                self.log("skip", pipeline=pipeline.name, fire=item.fire, reason="replaced")
        self._enqueue(pipeline, origin, pipeline.cron.interval(fire).parameters(), fire)

    # -- runs from events ------------------------------------------------------------

    def submit(
        self, pipeline: str, parameters: Mapping[str, str], origin: Origin, reason: str
    ) -> str | None:
        """Queue a run asked for by an event or an object; its id, or None when stopping."""
        with self._lock:
            if not self.accepting:
                return None
            item = self._enqueue(self.pipelines[pipeline], origin, dict(parameters), None, reason)
            self._dispatch()
            self._save()
            return item.id

    # -- queue and processes ---------------------------------------------------------

    def _enqueue(
        self,
        pipeline: ServedPipeline,
        origin: Origin,
        parameters: dict[str, str],
        fire: datetime | None,
        reason: str = "",
    ) -> PendingRun:
        item = PendingRun(
            pipeline=pipeline.name,
            origin=origin,
            parameters=parameters,
            fire=fire,
            reason=reason,
            queued=self.clock(),
        )
        self.state.queued.append(item)
        return item

    def _running(self, pipeline: str) -> list[InFlightRun]:
        return [e for e in self.state.in_flight if e.pipeline == pipeline]

    def _dispatch(self) -> None:
        for item in list(self.state.queued):
            if not self.accepting:
                return
            pipeline = self.pipelines.get(item.pipeline)
            if pipeline is None:
                self.state.queued.remove(item)
                self.log(
                    "refused", pipeline=item.pipeline, reason="the pipeline is no longer served"
                )
                continue
            if pipeline.policy != "Allow" and self._running(item.pipeline):
                continue
            self.state.queued.remove(item)
            self._launch(item)

    def _launch(self, item: PendingRun) -> None:
        entry = InFlightRun(**item.model_dump(), launched=self.clock(), host=self.host)
        self.state.in_flight.append(entry)
        self._save()  # in flight before the process exists: a crash now is found on restart
        try:
            process = self.launcher.launch(item.pipeline, item.parameters)
        except OSError as err:
            self.state.in_flight.remove(entry)
            self.log("refused", pipeline=item.pipeline, reason=f"cannot start ferry run: {err}")
            return
        entry.pid = process.pid
        self.processes[entry.id] = process
        fields = {"fire": entry.fire, "reason": entry.reason or None}
        self.log(
            "start",
            pipeline=item.pipeline,
            origin=item.origin,
            pid=process.pid,
            parameters=item.parameters,
            **{k: v for k, v in fields.items() if v is not None},
        )

    def _stop(self, entry: InFlightRun, reason: str) -> None:
        process = self.processes.get(entry.id)
        if process is None or entry.stopping_since is not None:
            return
        process.stop()
        entry.stopping_since = self.clock()
        self.log("stop", pipeline=entry.pipeline, pid=entry.pid, reason=reason)

    def _reap(self, now: datetime) -> None:
        for entry in list(self.state.in_flight):
            process = self.processes.get(entry.id)
            if process is None:
                continue
            code = process.exit_code()
            if code is None:
                since = entry.stopping_since
                if since is not None and (now - since).total_seconds() > self.stop_seconds:
                    self.log(
                        "kill", pipeline=entry.pipeline, pid=entry.pid, after=self.stop_seconds
                    )
                    process.kill()
                continue
            self.state.in_flight.remove(entry)
            del self.processes[entry.id]
            self._log_finish(entry, self._record_of(entry), code, process.last_error())
            process.close()

    def _record_of(self, entry: InFlightRun) -> RunRecord | None:
        """The run record of an in-flight entry: same pid (when known) and parameters."""
        for record in list_runs(self.store, entry.pipeline):  # newest first
            if record.started < entry.launched - RECORD_CLOCK_SKEW:
                return None
            if entry.pid is not None and record.runner_pid != entry.pid:
                continue
            if all(record.parameters.get(k) == v for k, v in entry.parameters.items()):
                return record
        return None

    def _log_finish(
        self, entry: InFlightRun, record: RunRecord | None, code: int | None, error: str
    ) -> None:
        status = record.status.value if record else "Refused"
        self.log(
            "finish",
            pipeline=entry.pipeline,
            origin=entry.origin,
            run_id=_run_id(record),
            status=status,
            exit_code=code,
            message=record.message if record else error or None,
        )

    def _save(self) -> None:
        """Write the state when it changed (a tick that decided nothing writes nothing)."""
        text = self.state.model_dump_json()
        if text != self._saved:
            save_state(self.location, self.state)
            self._saved = text

    # -- stop ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """No new runs; stop the running ones (SIGTERM, SIGKILL after the bound); save."""
        with self._lock:
            self.accepting = False
            for entry in self.state.in_flight:
                self._stop(entry, "the server is stopping")
            self._save()
        bound = time.monotonic() + self.stop_seconds
        while time.monotonic() < bound:
            with self._lock:
                self._reap(self.clock())
                if not self.state.in_flight:
                    break
            time.sleep(0.2)
        with self._lock:
            for entry in self.state.in_flight:
                process = self.processes.get(entry.id)
                if process is not None:
                    self.log(
                        "kill", pipeline=entry.pipeline, pid=entry.pid, after=self.stop_seconds
                    )
                    process.kill()
            self._reap(self.clock())
            self._save()
            self.log("stopped", queued=len(self.state.queued), in_flight=len(self.state.in_flight))


def _run_id(record: RunRecord | None) -> str | None:
    return record.run_id if record else None
