"""``run_manifest``: execute a rendered Workflow manifest on this machine.

Everything that can be refused is refused before the first process starts:
unsupported fields, unknown variables, unknown or missing parameters, secrets not
exported. Then the DAG runs (see :mod:`workflows.runner.scheduler`) and the run
record in the store says what happened.
"""

import os
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steps.contract import NO_CACHE_ENV
from steps.runtime.store import is_s3
from workflows.errors import UsageError
from workflows.runner.errors import ManifestRefused
from workflows.runner.exit_run import EXIT_HOOK, CreatedRun, run_exit_handler
from workflows.runner.live import LiveView
from workflows.runner.manifest import Plan, Task
from workflows.runner.parse import build_plan
from workflows.runner.record import (
    HEARTBEAT_SECONDS,
    RunRecord,
    RunStatus,
    TaskRecord,
    TaskStatus,
    this_host,
)
from workflows.runner.resume import Resume
from workflows.runner.run_store import (
    PipelineLock,
    RunFolder,
    StoreWriteError,
    open_store,
    prepare_store,
)
from workflows.runner.scheduler import Execution, StopSignals, default_parallelism, execute
from workflows.runner.tracing import traced_run
from workflows.runner.variables import (
    creation_timestamp_variables,
    substitute,
    tags,
    workflow_name,
)

STORE_PARAMETER = "store"
NAMESPACE = "default"


def load_manifest_file(path: str | Path) -> dict[str, Any]:
    """Read a rendered ``workflow.yaml`` (or ``workflowtemplate.yaml``) as a dict.

    Raises:
        UsageError: the file is missing, not YAML, or not one manifest.
    """
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if d]
    except OSError as err:
        raise UsageError(f"--manifest {path}: cannot read it ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise UsageError(f"--manifest {path}: not valid YAML{_yaml_problem(err)}") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise UsageError(f"--manifest {path}: expected exactly one Workflow document")
    return documents[0]


def _yaml_problem(err: Exception) -> str:
    """Where and what the YAML error is, on one line (PyYAML's own message spans several)."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or " ".join(str(err).split())
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{where} ({problem}); fix the file or render it again with ferry render"


def run_manifest(
    manifest: dict[str, Any],
    *,
    store: str = ".ferry",
    parameters: Mapping[str, str] | None = None,
    parallelism: int | None = None,
    workdir: str | Path | None = None,
    source: str = "manifest",
    kill_grace_seconds: float = 5.0,
    view: LiveView | None = None,
    python_path: Sequence[str | Path] = (),
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    resume: Resume | None = None,
    no_cache: bool = False,
    triggers: bool = False,
    triggered: CreatedRun | None = None,
    created_runs: list[CreatedRun] | None = None,
) -> RunRecord:
    """Run ``manifest`` as Argo would, with each task as a local subprocess.

    Args:
        manifest: the Workflow dict (what ``argo submit`` gets).
        store: a folder or ``s3://bucket/prefix``; also the ``store`` workflow parameter.
        parameters: ``-p`` values; they override ``spec.arguments.parameters``.
        parallelism: most tasks at once; default one per CPU (capped by ``spec.parallelism``).
        workdir: scratch folder for output parameters (and logs of an S3 store);
            a temporary folder removed afterwards when not given.
        source: how messages name the manifest (file path or pipeline name).
        kill_grace_seconds: between SIGTERM and SIGKILL when a deadline passes.
        view: where progress is shown; stderr lines by default.
        python_path: folders put in front of every step's ``PYTHONPATH`` (a pipeline's
            own folder, so its Python steps import the user's modules as they would
            from the step image on the cluster).
        heartbeat_seconds: how often the record is rewritten while nothing else
            happens, so readers can tell a live run from an abandoned one.
        resume: run an earlier run again under its own run id and parameters, keeping
            the tasks it does not name (``ferry retry``, :mod:`workflows.runner.resume`).
        no_cache: run every step without its cache (``FERRY_NO_CACHE=1`` in the steps'
            environment): nothing is looked up, no entry is written.
        triggers: let the exit handler's resource tasks create runs (dependency
            triggers); False records them Skipped. The created runs are appended to
            ``created_runs`` for the caller to start (:mod:`workflows.runner.triggered`).
        triggered: this run is one a dependency trigger created: its run id, parameters
            and the run that triggered it.
        created_runs: where the runs this run's triggers created are appended.

    SIGINT, SIGTERM and SIGHUP (when called from the main thread) stop the run: the
    running steps are killed and the record is finalised ``Failed`` with the message
    ``interrupted`` (SIGINT) or ``stopped by SIGTERM``; the record is returned as usual.

    Returns:
        The final run record, also saved as ``STORE/runs/<pipeline>/<run-id>/run.json``.

    Raises:
        ManifestRefused: the manifest or the environment cannot be run locally (exit 2).
        UsageError: bad parameters, parallelism or store, or another run of the
            pipeline is on in this (local) store (exit 2).
        StoreWriteError: the store could not be written once the run had begun (exit 1).
    """
    if parallelism is not None and parallelism < 1:
        raise UsageError(f"--parallelism {parallelism}: must be 1 or more")
    plan = build_plan(manifest, source=source)
    location = open_store(store)
    store_uri = location.uri if is_s3(store) else location.path
    started = resume.record.started if resume else datetime.now(UTC)
    created = started.replace(microsecond=0)
    run_id = resume.record.run_id if resume else workflow_name(plan.generate_name)
    if triggered is not None:
        run_id = triggered.run_id
    global_values = {
        "workflow.name": run_id,
        "workflow.namespace": NAMESPACE,
        "workflow.uid": str(uuid.uuid4()),
        # Argo sets it only for a run a CronWorkflow started; a local run has its
        # interval as parameters instead (backfill, ferry serve).
        "workflow.scheduledTime": "",
        **creation_timestamp_variables(created),
    }
    if resume is not None:
        values = dict(resume.record.parameters)
    else:
        values = resolve_parameters(plan, dict(parameters or {}), store_uri, global_values)
    missing = missing_environment(plan, os.environ)
    if missing:
        raise ManifestRefused(source, missing)
    prepare_store(location)
    global_values.update({f"workflow.parameters.{k}": v for k, v in values.items()})
    with (
        PipelineLock(location, plan.pipeline, run_id, _interval_of(values)),
        tempfile.TemporaryDirectory(prefix="ferry-run-") as temporary,
    ):
        scratch = Path(workdir) if workdir is not None else Path(temporary)
        try:
            folder = RunFolder(location, plan.pipeline, run_id, scratch)
        except StoreWriteError as unusable:
            raise StoreWriteError(unusable.problem, "nothing was started") from None
        record = RunRecord(
            run_id=run_id,
            pipeline=plan.pipeline,
            source=source,
            store=store_uri,
            parameters=values,
            started=started,
            runner_pid=os.getpid(),
            runner_host=this_host(),
            python_path=[str(Path(p).resolve()) for p in python_path],
            retries=resume.record.retries + 1 if resume else 0,
            tasks=[_task_record(t, folder, resume) for t in plan.tasks],
            triggered_by=triggered.triggered_by if triggered else None,
        )
        live = view or LiveView()
        limit = parallelism or default_parallelism()
        with StopSignals() as signals, traced_run(record, os.environ) as trace_environment:
            try:
                folder.save(record)
                folder.save_manifest(manifest)
            except StoreWriteError as first:
                raise StoreWriteError(first.problem, "nothing was started") from None
            live.run_started(record)
            failure: StoreWriteError | None = None
            execution = Execution(
                plan=plan,
                record=record,
                folder=folder,
                view=live,
                global_values=global_values,
                environ={
                    **_step_environment(python_path, no_cache=no_cache),
                    **trace_environment,
                },
                scratch=scratch,
                parallelism=min(limit, plan.parallelism or limit),
                kill_grace_seconds=kill_grace_seconds,
                heartbeat_seconds=heartbeat_seconds,
                timed_hooks=plan.timed_hooks,
            )
            try:
                execute(execution, signals)
                if plan.exit_handler is not None and signals.received is None:
                    made = run_exit_handler(
                        execution,
                        plan.exit_handler,
                        _status_of(record.tasks),
                        triggers=triggers,
                        signals=signals,
                    )
                    if created_runs is not None:
                        created_runs.extend(made)
            except StoreWriteError as err:
                failure = err
            finally:
                _finish(record)
                if failure is not None:
                    record.status = RunStatus.ERROR
                    record.message = failure.problem
                finalised = _save_last(folder, record)
                live.run_finished(record)
        if failure is not None or finalised is not None:
            problem = failure.problem if failure is not None else finalised
            raise StoreWriteError(problem or "", _store_outcome(record, folder, finalised, failure))
    return record


def _interval_of(values: Mapping[str, str]) -> str | None:
    """``start/end`` of a run for an explicit data interval (a backfill's), else None."""
    start, end = values.get("interval_start", ""), values.get("interval_end", "")
    return f"{start}/{end}" if start or end else None


def _task_record(task: Task, folder: RunFolder, resume: Resume | None) -> TaskRecord:
    """A fresh task record, or the earlier one of a task a resumed run keeps."""
    kept = resume.kept(task.name) if resume is not None else None
    if kept is not None:
        return kept.model_copy()
    partitions = resume.kept_partitions(task.name) if resume and task.fanout else []
    return TaskRecord(
        name=task.name, template=task.template, log=folder.log_uri(task.name), partitions=partitions
    )


def _save_last(folder: RunFolder, record: RunRecord) -> str | None:
    """Write the final record; the store problem if it could not be written."""
    try:
        folder.save(record)
    except StoreWriteError as failure:
        return failure.problem
    return None


def _store_outcome(
    record: RunRecord, folder: RunFolder, not_saved: str | None, failure: StoreWriteError | None
) -> str:
    """What became of the run and its record after a store problem, for the one-line error."""
    stopped = "the run was stopped" if failure is not None else "the run ended"
    if not_saved is None:
        return f"{stopped} and its record {folder.record_uri} finalised as {record.status.value}"
    return (
        f"{stopped}, and its record {folder.record_uri} could not be finalised: it still "
        "says Running, and `ferry runs` lists it as Abandoned once this runner has exited; "
        "free space in the store (or make it writable) and run again"
    )


def _status_of(tasks: list[TaskRecord]) -> RunStatus:
    """The main DAG's phase from its tasks (hook and exit-handler tasks left out)."""
    statuses = {t.status for t in tasks if t.hook is None}
    if TaskStatus.FAILED in statuses or TaskStatus.RUNNING in statuses:
        return RunStatus.FAILED
    if TaskStatus.ERROR in statuses:
        return RunStatus.ERROR
    if statuses <= {TaskStatus.SUCCEEDED}:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED


def _finish(record: RunRecord) -> None:
    """The run's phase and message: the main DAG's, then the exit handler's as Argo's.

    A run whose main DAG succeeded but whose exit handler failed (or errored) is
    Failed (Error) with the exit handler's failure as its message; a failed run stays
    failed whatever the exit handler did. Hook tasks never change the phase.
    """
    record.status = _status_of(record.tasks)
    failed_main = [
        t
        for t in record.tasks
        if t.hook is None and t.status in (TaskStatus.FAILED, TaskStatus.ERROR)
    ]
    failed_exit = [
        t
        for t in record.tasks
        if t.hook == EXIT_HOOK
        and t.status in (TaskStatus.FAILED, TaskStatus.ERROR, TaskStatus.OMITTED)
    ]
    if record.status is RunStatus.SUCCEEDED and failed_exit:
        errored = all(t.status is TaskStatus.ERROR for t in failed_exit)
        record.status = RunStatus.ERROR if errored else RunStatus.FAILED
        if record.message is None:
            record.message = "exit handler: " + "; ".join(
                f"step {t.name!r}: {_own_reason(record, t) or t.status.value}" for t in failed_exit
            )
    if record.status is not RunStatus.SUCCEEDED and record.message is None:
        record.message = (
            "; ".join(f"step {t.name!r}: {_own_reason(record, t)}" for t in failed_main) or None
        )
    record.finished = datetime.now(UTC)
    record.duration_seconds = (record.finished - record.started).total_seconds()


def _own_reason(record: RunRecord, task: TaskRecord) -> str | None:
    """The task's reason without the ``ferry: pipeline P, step S:`` prefix a step prints.

    The run's failure line names the run, pipeline and step already; saying them
    twice made it hard to read.
    """
    prefix = f"ferry: pipeline {record.pipeline!r}, step {task.name!r}: "
    reason = task.reason
    return reason[len(prefix) :] if reason and reason.startswith(prefix) else reason


def resolve_parameters(
    plan: Plan, overrides: dict[str, str], store_uri: str, global_values: Mapping[str, str]
) -> dict[str, str]:
    """The workflow parameters of this run: manifest values, ``-p`` overrides, the store.

    Manifest values are substituted (``{{workflow.creationTimestamp.Y}}`` and friends);
    ``-p`` values are taken literally.

    Raises:
        UsageError: an unknown name, ``-p store``, a missing value or a value outside ``enum``.
    """
    declared = {p.name: p for p in plan.parameters}
    spliced = _spliced_into_arguments(plan)
    for name in overrides:
        if name == STORE_PARAMETER and STORE_PARAMETER in declared:
            raise UsageError(f"-p {name}: set the store with --store, not -p store=...")
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise UsageError(
                f"-p {name}: pipeline {plan.pipeline!r} has no parameter {name!r}; known: {known}"
            )
        if name in spliced:
            _check_json_safe(name, overrides[name])
    values: dict[str, str] = {}
    for name, parameter in declared.items():
        if name == STORE_PARAMETER:
            value: str | None = store_uri
        elif name in overrides:
            value = overrides[name]
        elif parameter.value is not None:
            value = substitute(parameter.value, global_values)
        else:
            value = None
        if value is None:
            raise UsageError(
                f"parameter {name!r} of pipeline {plan.pipeline!r} has no value; "
                f"pass -p {name}=VALUE"
            )
        if parameter.enum is not None and value not in parameter.enum:
            raise UsageError(
                f"-p {name}={value}: not one of {', '.join(parameter.enum)} "
                f"(pipeline {plan.pipeline!r})"
            )
        values[name] = value
    return values


def _spliced_into_arguments(plan: Plan) -> set[str]:
    """Parameters a container's command line holds as ``{{workflow.parameters.NAME}}``.

    Ferry's own manifests pass parameters through the environment (``FERRY_PARAM_*``),
    which takes any value; a hand-written manifest may splice one into ``--config``.
    """
    prefix = "workflow.parameters."
    return {
        tag[len(prefix) :]
        for template in plan.templates.values()
        for arg in template.argv
        for tag in tags(arg)
        if tag.startswith(prefix)
    }


def _check_json_safe(name: str, value: str) -> None:
    """Refuse a value the steps could not read: it is inserted verbatim into their JSON config.

    A JSON string may hold neither an unescaped double quote or backslash nor a control
    character (a newline, a tab, ...), so such a value would only fail later, inside the step.

    Raises:
        UsageError: the value contains a double quote, a backslash or a control
            character (exit 2).
    """
    bad = [c for c in ('"', "\\") if c in value]
    controls = sorted({c for c in value if ord(c) < 0x20})
    bad += [_CONTROL_NAMES.get(c, f"the control character U+{ord(c):04X}") for c in controls]
    if bad:
        raise UsageError(
            f"-p {name}: the value contains {' and '.join(bad)}, which parameter values must "
            "not contain (the manifest inserts it verbatim into a step's --config); remove "
            "them, or render the pipeline again so parameters reach the steps as variables"
        )


_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}


def _step_environment(python_path: Sequence[str | Path], *, no_cache: bool) -> dict[str, str]:
    environ = dict(os.environ)
    if no_cache:
        environ[NO_CACHE_ENV] = "1"
    folders = [str(Path(p).resolve()) for p in python_path]
    if folders:
        existing = [environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []
        environ["PYTHONPATH"] = os.pathsep.join([*folders, *existing])
    return environ


def missing_environment(plan: Plan, environ: Mapping[str, str]) -> list[str]:
    """One line per secret or config map variable a task needs that is not exported."""
    used = {t.template for t in plan.tasks} | {h.template for h in plan.timed_hooks}
    if plan.exit_handler is not None:
        used |= {t.task.template for t in plan.exit_handler.tasks}
    problems = []
    for template in plan.templates.values():
        if template.name not in used:
            continue
        for var in template.env:
            if var.source and not var.optional and var.name not in environ:
                problems.append(
                    f"template {template.name}: env {var.name} ({var.source}) is not set; "
                    "export it to run locally"
                )
    return list(dict.fromkeys(problems))
