"""The web UI for runs: a Starlette app over a store and the pipeline definitions.

``create_ui_app(store_uri, pipelines)`` is mounted by ``ferry serve``, which owns the
listening address and the token check; this app owns every page under it. Pages are
rendered on the server with Jinja2 (autoescaping every value: run records and logs
are data, not markup), the DAG and the timeline are SVG laid out in Python, and one
small script (``static/ui.js``) polls a JSON endpoint while a run is going. A
Content-Security-Policy allows scripts from this app only, so even a value that
slipped past escaping could not run.
"""

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from workflows.discovery import find_pipelines
from workflows.runner.live import format_duration
from workflows.runner.record import RunStatus, TaskRecord
from workflows.runner.run_store import check_readable, open_store
from workflows.ui.dag_layout import layout_dag
from workflows.ui.forms import FormError, read_form, same_origin
from workflows.ui.launcher import Launcher, LaunchFailed, Started, wait_for_run
from workflows.ui.pipeline_info import PipelineInfo, final_steps, pipeline_info
from workflows.ui.run_files import RunNotFound, dag_graph, load_manifest, load_record
from workflows.ui.run_index import RunFilter, RunIndex
from workflows.ui.security import SecurityHeaders
from workflows.ui.step_details import step_details
from workflows.ui.step_log import read_attempts
from workflows.ui.templating import count, score, templates
from workflows.ui.timeline import build_timeline

HERE = Path(__file__).parent

RUNS_PER_PAGE = 50
"""Runs on one page of a pipeline's runs."""

RETRYABLE = {RunStatus.FAILED, RunStatus.ERROR, RunStatus.ABANDONED}
"""Run phases the retry button is offered for (what ``ferry retry`` resumes)."""


def _safe_segment(value: str) -> bool:
    """Whether a path parameter may name a folder in the store (no ``..``, no hidden files)."""
    return bool(value) and not value.startswith(".") and "/" not in value and "\\" not in value


def _parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(f"{name}: {value!r} is not a date; use YYYY-MM-DD") from None


def _run_filter(request: Request) -> tuple[RunFilter, int]:
    query = request.query_params
    status = query.get("status") or None
    known = [s.value for s in RunStatus]
    if status is not None and status not in known:
        raise FormError(f"status: {status!r} is not a run status; use one of {', '.join(known)}")
    since = _parse_day(query.get("from"), "from")
    until = _parse_day(query.get("to"), "to")
    if since and until and since > until:
        raise FormError(f"from {since} is after to {until}; swap them")
    try:
        page = int(query.get("page") or 1)
    except ValueError:
        raise FormError(f"page: {query.get('page')!r} is not a number") from None
    return RunFilter(status, since, until), page


class UI:
    """The pages and actions, over one store and one set of pipeline definitions."""

    def __init__(self, store_uri: str, pipelines: list[str]) -> None:
        self.store = open_store(store_uri)
        check_readable(self.store)
        self.found = find_pipelines(pipelines)
        self.index = RunIndex(
            self.store, {name: final_steps(f.pipeline) for name, f in self.found.items()}
        )
        self.launcher = Launcher(pipelines, store_uri)
        self.templates = templates()

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """Render template ``name`` with ``context``."""
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def problem(self, request: Request, status: int, message: str) -> Response:
        """An error page saying ``message`` (one line: what, where, what to do)."""
        return self.page(request, "problem.html", status, message=message)

    # --- pages ---

    def pipelines(self, request: Request) -> Response:
        """Every defined pipeline, and pipelines that only have runs in the store."""
        now = datetime.now(UTC)
        rows: list[tuple[PipelineInfo | None, str, Any]] = []
        for name, found in sorted(self.found.items()):
            runs = self.index.runs(name)
            rows.append((pipeline_info(found, now), name, runs[0] if runs else None))
        for name in self.index.pipelines():
            if name not in self.found and _safe_segment(name):
                runs = self.index.runs(name)
                rows.append((None, name, runs[0] if runs else None))
        return self.page(request, "pipelines.html", rows=rows, store=self.store.uri)

    def runs(self, request: Request) -> Response:
        """The runs of one pipeline, filtered and paginated, with the run and backfill forms."""
        name = request.path_params["pipeline"]
        if not _safe_segment(name):
            return self.problem(request, 404, f"no pipeline {name!r}")
        found = self.found.get(name)
        try:
            where, page_number = _run_filter(request)
        except FormError as err:
            return self.problem(request, 400, str(err))
        page = self.index.page(name, where, page_number, RUNS_PER_PAGE)
        if found is None and not page.total and where == RunFilter():
            return self.problem(
                request, 404, f"no pipeline {name!r} is defined and the store has no runs of it"
            )
        return self.page(
            request,
            "runs.html",
            pipeline=name,
            info=pipeline_info(found, datetime.now(UTC)) if found else None,
            listing=page,
            where=where,
            statuses=[s.value for s in RunStatus],
            version=self.index.version(name),
            notice=request.query_params.get("notice"),
            damaged=sorted(self.index.damaged.values()),
        )

    def _load(self, request: Request) -> tuple[str, str] | Response:
        pipeline = request.path_params["pipeline"]
        run_id = request.path_params["run_id"]
        if not (_safe_segment(pipeline) and _safe_segment(run_id)):
            return self.problem(request, 404, f"no run {run_id!r} of pipeline {pipeline!r}")
        return pipeline, run_id

    def run(self, request: Request) -> Response:
        """One run: its DAG, its timeline and a line per step."""
        names = self._load(request)
        if isinstance(names, Response):
            return names
        pipeline, run_id = names
        try:
            record = load_record(self.store, pipeline, run_id)
        except RunNotFound as err:
            return self.problem(request, 404, str(err))
        manifest = load_manifest(self.store, pipeline, run_id)
        layout = layout_dag(dag_graph(record, manifest))
        tasks = {t.name: t for t in record.tasks}
        attempts = [(t.name, read_attempts(self.store, record, t)) for t in record.tasks]
        ended = record.finished or datetime.now(UTC)
        return self.page(
            request,
            "run.html",
            record=record,
            layout=layout,
            tasks=tasks,
            timeline=build_timeline(record.started, ended, attempts),
            retryable=record.status in RETRYABLE,
            running=record.status is RunStatus.RUNNING,
            notice=request.query_params.get("notice"),
        )

    def step(self, request: Request) -> Response:
        """One step of a run: attempts, rows, quality report, quarantine sample and log."""
        names = self._load(request)
        if isinstance(names, Response):
            return names
        pipeline, run_id = names
        step = request.path_params["step"]
        try:
            record = load_record(self.store, pipeline, run_id)
        except RunNotFound as err:
            return self.problem(request, 404, str(err))
        task = next((t for t in record.tasks if t.name == step), None)
        if task is None or not _safe_segment(step):
            return self.problem(request, 404, f"run {run_id!r} has no step {step!r}")
        manifest = load_manifest(self.store, pipeline, run_id)
        details = step_details(self.store, record, task, manifest)
        return self.page(
            request,
            "step.html",
            record=record,
            task=task,
            details=details,
            running=record.status is RunStatus.RUNNING,
        )

    # --- JSON for live updates ---

    def run_state(self, request: Request) -> Response:
        """The run's phase and each task's, for the run page's script."""
        names = self._load(request)
        if isinstance(names, Response):
            return JSONResponse({"error": "no such run"}, status_code=404)
        try:
            record = load_record(self.store, *names)
        except RunNotFound as err:
            return JSONResponse({"error": str(err)}, status_code=404)
        return JSONResponse(
            {
                "status": record.status.value,
                "finished": record.finished is not None,
                "duration": format_duration(record.duration_seconds),
                "tasks": [_task_state(t) for t in record.tasks],
            }
        )

    def runs_version(self, request: Request) -> Response:
        """A token that changes when any run record of the pipeline changes."""
        name = request.path_params["pipeline"]
        if not _safe_segment(name):
            return JSONResponse({"error": "no such pipeline"}, status_code=404)
        return JSONResponse({"version": self.index.version(name)})

    # --- actions ---

    async def _checked_form(self, request: Request) -> dict[str, str] | Response:
        if not same_origin(request):
            return self.problem(
                request,
                403,
                "refused: the form was not posted from this UI (its Origin or Referer is "
                "missing or another site's); use the buttons of the UI",
            )
        try:
            return await read_form(request)
        except FormError as err:
            return self.problem(request, 400, str(err))

    async def start_run(self, request: Request) -> Response:
        """Run now: ``ferry run PIPELINE`` with the form's parameters; go to the run."""
        name = request.path_params["pipeline"]
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        found = self.found.get(name)
        if found is None:
            return self.problem(request, 404, f"no pipeline {name!r} is defined; cannot run it")
        params = _params(form, found.pipeline.params)
        started = self.launcher.run(name, params)
        return await self._follow(request, name, started)

    async def start_backfill(self, request: Request) -> Response:
        """Backfill: ``ferry backfill PIPELINE --from --to``; go to its first run."""
        name = request.path_params["pipeline"]
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        found = self.found.get(name)
        if found is None:
            return self.problem(request, 404, f"no pipeline {name!r} is defined; cannot run it")
        try:
            since = _parse_day(form.get("from"), "from")
            until = _parse_day(form.get("to"), "to")
        except FormError as err:
            return self.problem(request, 400, str(err))
        if since is None or until is None:
            return self.problem(request, 400, "backfill: give both from and to (YYYY-MM-DD)")
        if since > until:
            return self.problem(request, 400, f"backfill: from {since} is after to {until}")
        params = _params(form, found.pipeline.params)
        started = self.launcher.backfill(name, since.isoformat(), until.isoformat(), params)
        return await self._follow(request, name, started)

    async def retry(self, request: Request) -> Response:
        """Retry: ``ferry retry RUN_ID`` for a failed run; back to the run."""
        form = await self._checked_form(request)
        if isinstance(form, Response):
            return form
        names = self._load(request)
        if isinstance(names, Response):
            return names
        pipeline, run_id = names
        try:
            record = load_record(self.store, pipeline, run_id)
        except RunNotFound as err:
            return self.problem(request, 404, str(err))
        if record.status not in RETRYABLE:
            return self.problem(
                request, 409, f"run {run_id!r} is {record.status.value}; only a failed run retries"
            )
        started = self.launcher.retry(run_id)
        return await self._follow(request, pipeline, started)

    async def _follow(self, request: Request, pipeline: str, started: Started) -> Response:
        try:
            run = await run_in_threadpool(wait_for_run, started, self.index, pipeline)
        except LaunchFailed as err:
            return self.problem(request, 400 if started.process.returncode == 2 else 500, str(err))
        finally:
            started.discard()
        if run is None:
            url = request.url_for("runs", pipeline=pipeline).include_query_params(
                notice="the command ended without starting a run (nothing to do)"
            )
            return RedirectResponse(str(url), status_code=303)
        url = request.url_for("run", pipeline=pipeline, run_id=run.run_id)
        return RedirectResponse(str(url), status_code=303)


def _params(form: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """The ``param.NAME`` fields of a form that differ from the pipeline's defaults."""
    values = {k.removeprefix("param."): v for k, v in form.items() if k.startswith("param.")}
    return {k: v for k, v in values.items() if k in defaults and v != defaults[k]}


def _task_state(task: TaskRecord) -> dict[str, Any]:
    return {
        "name": task.name,
        "status": task.status.value,
        "attempts": task.attempts,
        "rows_in": count(task.rows_in),
        "rows_out": count(task.rows_out),
        "rows_rejected": count(task.rows_rejected),
        "quality_score": score(task.quality_score),
        "duration": format_duration(task.duration_seconds),
    }


def create_ui_app(store_uri: str, pipelines: str) -> Starlette:
    """The UI over the runs in ``store_uri`` and the definitions found in ``pipelines``.

    Args:
        store_uri: the store (a folder or ``s3://bucket/prefix``) the runs are in, and
            the one the buttons' commands get as ``--store``.
        pipelines: where the definitions are (as ``--pipelines``; several joined with
            ``os.pathsep``), also passed on to the commands.

    The app's ``state.launcher`` is the :class:`~workflows.ui.launcher.Launcher` its
    buttons start commands with (detached: they outlive the app unless stopped).

    Raises:
        UsageError: the store cannot be read, or the pipelines cannot be found (exit 2).
        DefinitionError: a definition is invalid (exit 2).
    """
    paths = [p for p in pipelines.split(os.pathsep) if p]
    ui = UI(store_uri, paths)
    routes = [
        Route("/", ui.pipelines, name="pipelines"),
        Route("/pipelines/{pipeline}", ui.runs, name="runs"),
        Route("/pipelines/{pipeline}/run", ui.start_run, methods=["POST"], name="start_run"),
        Route(
            "/pipelines/{pipeline}/backfill",
            ui.start_backfill,
            methods=["POST"],
            name="start_backfill",
        ),
        Route("/pipelines/{pipeline}/runs/{run_id}", ui.run, name="run"),
        Route(
            "/pipelines/{pipeline}/runs/{run_id}/retry", ui.retry, methods=["POST"], name="retry"
        ),
        Route("/pipelines/{pipeline}/runs/{run_id}/steps/{step}", ui.step, name="step"),
        Route("/api/pipelines/{pipeline}/version", ui.runs_version, name="runs_version"),
        Route("/api/pipelines/{pipeline}/runs/{run_id}", ui.run_state, name="run_state"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    app.state.launcher = ui.launcher  # the buttons' commands, for whoever embeds the app
    return app
