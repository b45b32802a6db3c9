"""The step harness: parse the command line, run the kind, account rows, report.

Every kind goes through here, so each one gets the same arguments, logs, output
parameters, row-accounting check, one-line failure message and exit code.
"""

import argparse
import json
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import ValidationError

from steps.registry import KINDS, StepKind
from steps.runtime.accounting import RowCounts
from steps.runtime.context import StepContext
from steps.runtime.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, StepError, StepUsageError
from steps.runtime.log import EventLog
from steps.runtime.outputs import write_output_parameters
from steps.runtime.parameters import resolve_parameters, sql_literal
from steps.runtime.store import open_location

if TYPE_CHECKING:
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
    return parser


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


def run_step(argv: Sequence[str]) -> int:
    """Run one step from its command line; return the exit code."""
    named = KINDS.get(argv[0]) if argv else None
    # a step's command line names its kind: building only that sub-command saves start-up
    args = build_parser([named] if named else KINDS.values()).parse_args(argv)
    kind = KINDS[args.kind]
    log = EventLog(args.pipeline, args.step)
    where = f"pipeline {args.pipeline!r}, step {args.step!r}"
    ctx: StepContext | None = None
    try:
        config = _config(kind, args.config)
        ctx = StepContext(
            pipeline=args.pipeline,
            step=args.step,
            run_id=args.run_id,
            store=open_location(args.store),
            log=log,
            inputs={n: open_location(u) for n, u in _parse_inputs(args.input).items()},
            output=open_location(args.output) if args.output else None,
        )
        log.event("step_started", kind=kind.name, inputs=sorted(ctx.inputs))
        counts = _with_input_rows(kind.load_run()(ctx, config), ctx)
        counts.verify(args.step)
        write_output_parameters(counts, warning="; ".join(ctx.warnings))
        log.event(
            "step_finished",
            rows_in=counts.rows_in,
            rows_out=counts.rows_out,
            rows_rejected=counts.rows_rejected,
            quality_score=round(counts.quality_score, 6),
            input_rows=dict(counts.input_rows),
        )
        return EXIT_OK
    except StepError as err:
        if err.counts is not None and ctx is not None:
            write_output_parameters(
                _with_input_rows(err.counts, ctx), warning="; ".join(ctx.warnings)
            )
        log.event("step_failed", level="error", reason=str(err), exit_code=err.exit_code)
        print(f"ferry: {where}: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # the last line must still be one clear reason
        traceback.print_exc(file=sys.stderr)
        reason = f"{type(err).__name__}: {err}".splitlines()[0]
        log.event("step_failed", level="error", reason=reason, exit_code=EXIT_FAILED)
        print(f"ferry: {where}: unexpected error: {reason}", file=sys.stderr)
        return EXIT_FAILED


def main(argv: Sequence[str]) -> int:
    """Entry point of ``python -m steps``."""
    try:
        return run_step(argv)
    except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
