"""The step harness: parse the command line, run the kind, account rows, report.

Every kind goes through here, so each one gets the same arguments, logs, output
parameters, row-accounting check, one-line failure message and exit code.
"""

import argparse
import json
import os
import re
import resource
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from steps.contract import NO_CACHE_ENV
from steps.registry import KINDS, StepKind
from steps.runtime.accounting import RowCounts
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.context import StepContext
from steps.runtime.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, StepError, StepUsageError
from steps.runtime.log import EventLog
from steps.runtime.observation import StepObservation, observe
from steps.runtime.outputs import write_output_parameters
from steps.runtime.parameters import resolve_parameters, sql_literal
from steps.runtime.scheduled_interval import fill_scheduled_interval
from steps.runtime.store import Location, open_location

if TYPE_CHECKING:
    from steps.runtime.cache import CacheHit
    from steps.runtime.config import StepConfig


def build_parser(kinds: Iterable[StepKind] = KINDS.values()) -> argparse.ArgumentParser:
    """The ``python -m steps`` parser: one sub-command per step kind in ``kinds``."""
    parser = argparse.ArgumentParser(
        prog="python -m steps",
        description=(
            "Run one Ferry step. Exit codes: 0 ok, 1 step failed (a retry may pass),\n"
            "2 bad usage or config, 3 input data rejected (a retry fails the same way)."
        ),
        epilog=(
            f"example:\n  python -m steps {KINDS['transform'].example}\n\n"
            "each KIND's help (python -m steps KIND --help) has an example of that kind."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in kinds:
        p = sub.add_parser(
            kind.name,
            help=kind.summary,
            description=kind.summary,
            epilog=f"example:\n  python -m steps {kind.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--pipeline", required=True, help="pipeline name")
        p.add_argument("--step", required=True, help="step name within the pipeline")
        p.add_argument("--run-id", required=True, help="run id (the Argo workflow name)")
        p.add_argument("--store", required=True, help="store: a folder or s3://bucket/prefix")
        p.add_argument("--config", required=True, help="the step's config as JSON")
        p.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="NAME=URI",
            help="an upstream artifact (repeatable)",
        )
        p.add_argument("--output", help="where this step's artifact goes")
        p.add_argument(
            "--partition",
            metavar="KEY",
            help="the partition this invocation runs (a fanned-out step): the step is "
            "known as STEP@KEY in its log, its artifact and a load's ledger",
        )
        cache = p.add_mutually_exclusive_group()
        cache.add_argument(
            "--cache",
            action="store_true",
            help="reuse an earlier run's artifact when kind, config, inputs and freshness "
            f"match (STORE/cache/...); ${NO_CACHE_ENV}=1 turns it off",
        )
        cache.add_argument(
            "--cache-ttl",
            type=int,
            metavar="SECONDS",
            help="as --cache, reusing only an entry younger than SECONDS",
        )
    return parser


PARTITION_MARK = "@"
"""Between a fanned-out step's name and its partition key: ``orders@part-000.csv``."""

_PARTITION_KEY = re.compile(r"[A-Za-z0-9._-]+")


def _parse_inputs(items: list[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for item in items:
        name, sep, uri = item.partition("=")
        if not sep or not name or not uri:
            raise StepUsageError(f"--input {item!r} is not NAME=URI")
        inputs[name] = uri
    return inputs


def _validation_message(kind: StepKind, err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(config)"
    return f"invalid {kind.name} config at {where}: {first['msg']}"


def _config(kind: StepKind, text: str) -> "StepConfig":
    """Parse ``--config``, fill in the workflow parameters, validate it as the kind's config."""
    cls = kind.load_config_class()
    try:
        document = json.loads(text)
    except ValueError as err:
        raise StepUsageError(f"--config is not JSON: {err}") from None
    fill_scheduled_interval(os.environ)
    resolved = resolve_parameters(
        document,
        os.environ,
        sql_fields=cls.SQL_FIELDS,
        quote=cls.sql_quote(document) if isinstance(document, dict) else sql_literal,
    )
    try:
        return cls.model_validate(resolved)
    except ValidationError as err:
        raise StepUsageError(_validation_message(kind, err)) from None


def _with_input_rows(counts: RowCounts, ctx: StepContext) -> RowCounts:
    """Rows read per input: a step with one input read ``rows_in`` rows from it."""
    if counts.input_rows or len(ctx.inputs) != 1:
        return counts
    return replace(counts, input_rows={next(iter(ctx.inputs)): counts.rows_in})


def _cache_entry(kind: StepKind, config: "StepConfig", ctx: StepContext) -> tuple[str, "Location"]:
    """The step's cache key and where its entry lives (``steps.runtime.cache``)."""
    from steps.runtime.cache import cache_key, content_hash, entry_location

    inputs = {name: content_hash(ArtifactReader(loc, name)) for name, loc in ctx.inputs.items()}
    key = cache_key(kind.name, config.model_dump(mode="json"), inputs, config.cache_freshness())
    return key, entry_location(ctx.store, ctx.pipeline, ctx.step, key)


def _adopt(hit: "CacheHit", ctx: StepContext, key: str) -> RowCounts:
    """Take the entry as this run's artifact and report what the original run counted."""
    from steps.runtime.cache import adopt

    assert ctx.output is not None
    adopt(hit, ctx.output, pipeline=ctx.pipeline, step=ctx.step, run_id=ctx.run_id)
    info = hit.info
    counts = RowCounts(
        rows_in=int(info.get("rows_in", 0)),
        rows_out=int(info.get("rows_out", 0)),
        rows_rejected=int(info.get("rows_rejected", 0)),
        preserving=bool(info.get("preserving", True)),
        input_rows={str(k): int(v) for k, v in dict(info.get("input_rows", {})).items()},
    )
    source_run = str(info.get("run_id", ""))
    cached = json.dumps({"key": key, "run_id": source_run}, separators=(",", ":"))
    write_output_parameters(counts, warning=str(info.get("warning", "")), cached=cached)
    ctx.log.event(
        "step_cached",
        key=key,
        source_run=source_run,
        rows_in=counts.rows_in,
        rows_out=counts.rows_out,
        rows_rejected=counts.rows_rejected,
    )
    return counts


def _store(entry: tuple[str, "Location"], counts: RowCounts, ctx: StepContext) -> None:
    """Keep the committed output as the step's cache entry; a failure here only warns."""
    from steps.runtime.cache import save_entry

    assert ctx.output is not None
    key, loc = entry
    info = {
        "key": key,
        "run_id": ctx.run_id,
        "rows_in": counts.rows_in,
        "rows_out": counts.rows_out,
        "rows_rejected": counts.rows_rejected,
        "preserving": counts.preserving,
        "input_rows": dict(counts.input_rows),
        "warning": "; ".join(ctx.warnings),
    }
    try:
        save_entry(ctx.output, loc, info)
    except OSError as err:  # the artifact is committed; the next run just computes again
        reason = f"{type(err).__name__}: {err}".splitlines()[0]
        ctx.log.event("step_cache_not_stored", level="warning", key=key, reason=reason)
        return
    ctx.log.event("step_cache_stored", key=key, entry=loc.uri)


def resource_usage() -> dict[str, Any]:
    """This process's peak resident memory (MB) and CPU seconds so far, for the last log line.

    Logged by the step itself, so a run record's log shows each step's footprint the
    same way on a cluster and locally, whoever started the step.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
    }


def run_step(argv: Sequence[str]) -> int:
    """Run one step from its command line; return the exit code."""
    named = KINDS.get(argv[0]) if argv else None
    # a step's command line names its kind: building only that sub-command saves start-up
    args = build_parser([named] if named else KINDS.values()).parse_args(argv)
    kind = KINDS[args.kind]
    step = args.step if args.partition is None else f"{args.step}{PARTITION_MARK}{args.partition}"
    observation = observe(
        pipeline=args.pipeline,
        step=step,
        run_id=args.run_id,
        kind=kind.name,
        environ=os.environ,
    )
    log = EventLog(args.pipeline, step, trace_id=observation.trace_id)
    try:
        return _run(args, kind, step, log, observation)
    finally:
        observation.close(log)


def _run(
    args: argparse.Namespace,
    kind: StepKind,
    step: str,
    log: EventLog,
    observation: StepObservation,
) -> int:
    """The step's work between its start and its end, reported to ``observation``.

    ``step`` is the step's name, with ``@<key>`` for one partition of a fanned-out step.
    """
    where = f"pipeline {args.pipeline!r}, step {step!r}"
    ctx: StepContext | None = None
    try:
        if args.partition is not None and not _PARTITION_KEY.fullmatch(args.partition):
            raise StepUsageError(
                f"--partition {args.partition!r} is not a partition key; use letters, digits, "
                "'.', '_' and '-'"
            )
        with observation.phases.phase("prepare"):
            config = _config(kind, args.config)
            ctx = StepContext(
                pipeline=args.pipeline,
                step=step,
                run_id=args.run_id,
                store=open_location(args.store),
                log=log,
                inputs={n: open_location(u) for n, u in _parse_inputs(args.input).items()},
                output=open_location(args.output) if args.output else None,
                phases=observation.phases,
            )
        log.event("step_started", kind=kind.name, inputs=sorted(ctx.inputs))
        observation.started(ctx, config)
        cached = args.cache or args.cache_ttl is not None
        entry: tuple[str, Location] | None = None
        if cached and ctx.output is not None:  # only a cached step imports the cache
            from steps.runtime.cache import cache_disabled, lookup

            entry = None if cache_disabled() else _cache_entry(kind, config, ctx)
        if entry is not None:
            hit = lookup(entry[1], args.cache_ttl)
            if hit is not None:
                observation.finished(ctx, _adopt(hit, ctx, entry[0]))
                return EXIT_OK
        with observation.phases.phase("compute", kind=kind.name) as phase:
            counts = _with_input_rows(kind.load_run()(ctx, config), ctx)
            phase.set(
                rows_in=counts.rows_in, rows_out=counts.rows_out, rows_rejected=counts.rows_rejected
            )
        counts.verify(args.step)
        if entry is not None:
            _store(entry, counts, ctx)
        write_output_parameters(counts, warning="; ".join(ctx.warnings))
        log.event(
            "step_finished",
            rows_in=counts.rows_in,
            rows_out=counts.rows_out,
            rows_rejected=counts.rows_rejected,
            quality_score=round(counts.quality_score, 6),
            input_rows=dict(counts.input_rows),
            **resource_usage(),
        )
        observation.finished(ctx, counts)
        return EXIT_OK
    except StepError as err:
        if err.counts is not None and ctx is not None:
            write_output_parameters(
                _with_input_rows(err.counts, ctx), warning="; ".join(ctx.warnings)
            )
        log.event("step_failed", level="error", reason=str(err), exit_code=err.exit_code)
        observation.failed(log, ctx, str(err), err.exit_code)
        print(f"ferry: {where}: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # the last line must still be one clear reason
        traceback.print_exc(file=sys.stderr)
        reason = f"{type(err).__name__}: {err}".splitlines()[0]
        log.event("step_failed", level="error", reason=reason, exit_code=EXIT_FAILED)
        observation.failed(log, ctx, reason, EXIT_FAILED)
        print(f"ferry: {where}: unexpected error: {reason}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if ctx is not None:  # no thread of the step may outlive it (see StepContext.close)
            ctx.close()


def main(argv: Sequence[str]) -> int:
    """Entry point of ``python -m steps``."""
    try:
        return run_step(argv)
    except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
