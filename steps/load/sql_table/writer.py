"""The load of one artifact into one table: checks first, then one transaction.

Order: make sure the ledger exists; if this (pipeline, step, load, table) is already
in it, stop (a retry of a committed load); compare the data's columns with the
table's; then stream the batches, each checked against the column types, through
the dialect's bulk path, which records the ledger row and commits. A driver error
is rolled back and classified by the dialect (not retried when it is the config's
or the data's fault, retried when a rerun may pass).
"""

from collections.abc import Iterator

import pyarrow as pa

from steps.databases.dialect import Kind
from steps.databases.errors import fault_error
from steps.databases.load_target import LoadId, LoadPlan, TargetDatabase
from steps.databases.registry import dialect
from steps.load.sql_table.config import SqlTableLoad
from steps.load.sql_table.values import convert_batch
from steps.runtime.artifacts import ArtifactReader
from steps.runtime.errors import DataRejected, StepError, StepUsageError
from steps.runtime.log import EventLog


def load_artifact(
    artifact: ArtifactReader, config: SqlTableLoad, load: LoadId, log: EventLog
) -> tuple[int, bool]:
    """Load ``artifact`` into ``config.table`` once.

    Returns:
        The rows the table got from this load, and whether the ledger already held the
        load (then nothing was sent now and the rows are those recorded then).
    """
    url = config.database_url()
    sql_dialect = dialect(url.dialect)
    bounds = config.bounds()
    db = sql_dialect.open_target(url, config.password(), bounds)
    try:
        db.ensure_ledger(config.table)
        done = db.loaded_rows(load)
        if done is not None:
            db.rollback()
            log.event("already_loaded", table=config.table, load=load.run_id, rows=done)
            return done, True
        plan = _plan(db, artifact.schema, config, load)
        if config.mode == "upsert":
            _refuse_null_keys(db, artifact, config)
        log.event(
            "load_started",
            url=url.redacted(),
            table=config.table,
            mode=config.mode,
            creates_table=plan.existing is None,
            new_columns=[f.name for f in plan.new_fields],
        )
        rows = db.write(plan, _checked_batches(db, artifact, config, plan, log))
    except StepError:
        db.rollback()
        raise
    except Exception as err:
        db.rollback()
        fault = sql_dialect.classify(err)
        if fault is None:
            raise
        raise fault_error(
            fault, "load", f"loading table {config.table!r} on {url.redacted()}", bounds
        ) from None
    finally:
        db.close()
    log.event("load_committed", table=config.table, mode=config.mode, rows=rows)
    return rows, False


def _same(db: TargetDatabase, name: str) -> str:
    """``name`` as the dialect compares column names (case-insensitively on MariaDB)."""
    return db.sql_dialect.same_name(name)


def _plan(db: TargetDatabase, schema: pa.Schema, config: SqlTableLoad, load: LoadId) -> LoadPlan:
    names = {_same(db, n) for n in schema.names}
    missing_key = [k for k in config.key if _same(db, k) not in names]
    if missing_key:
        raise DataRejected(
            f"key column(s) {', '.join(missing_key)} of table {config.table!r} are not in the "
            f"input columns ({', '.join(schema.names)}); fix key or the upstream step"
        )
    existing = db.columns(config.table)
    new_fields: list[pa.Field] = []
    if existing is not None:
        known = {_same(db, c) for c in existing}
        new_fields = [f for f in schema if _same(db, f.name) not in known]
        if new_fields and not config.allow_new_columns:
            raise DataRejected(
                f"table {config.table!r} has no column(s) {', '.join(f.name for f in new_fields)} "
                "that the input has; set allow_new_columns=True to add them, or drop them upstream"
            )
        if config.mode == "upsert":
            wanted = frozenset(_same(db, k) for k in config.key)
            keys = [frozenset(_same(db, c) for c in k) for k in db.unique_keys(config.table)]
            if wanted not in keys:
                raise StepUsageError(
                    f"table {config.table!r} has no primary key or unique index on "
                    f"({', '.join(config.key)}), which upsert needs; add one or load into a "
                    "new table (Ferry creates it with that primary key)"
                )
    return LoadPlan(
        load=load,
        table=config.table,
        mode=config.mode,
        key=list(config.key),
        schema=schema,
        existing=existing,
        new_fields=new_fields,
    )


def _refuse_null_keys(db: TargetDatabase, artifact: ArtifactReader, config: SqlTableLoad) -> None:
    """Upsert rows whose key is NULL match no row: each run would insert them again."""
    import pyarrow.dataset as ds

    by_name = {_same(db, n): n for n in artifact.schema.names}
    dataset = artifact.dataset()
    nulls = {
        k: dataset.count_rows(filter=ds.field(by_name[_same(db, k)]).is_null()) for k in config.key
    }
    found = [f"{k!r} is NULL in {n} row(s)" for k, n in nulls.items() if n]
    if found:
        raise DataRejected(
            f"upsert into table {config.table!r}: key column {', '.join(found)}; a NULL key "
            "matches no row, so every run would insert such rows again; fill the key or "
            "filter those rows upstream (nothing was loaded)"
        )


def _checked_batches(
    db: TargetDatabase,
    artifact: ArtifactReader,
    config: SqlTableLoad,
    plan: LoadPlan,
    log: EventLog,
) -> Iterator[pa.RecordBatch]:
    """The artifact's batches, converted to the existing columns' types, logged as sent."""
    targets: dict[str, tuple[Kind, str]] = {}
    if plan.existing is not None:
        declared = {_same(db, c): t for c, t in plan.existing.items()}
        for name in plan.schema.names:
            sql_type = declared.get(_same(db, name))
            if sql_type is not None:
                targets[name] = (db.sql_dialect.kind_of(sql_type), sql_type)
    sent = 0
    for batch in artifact.batches(config.batch_size):
        checked = convert_batch(batch, targets, table=config.table, first_row=sent + 1)
        yield checked
        sent += checked.num_rows
        log.event("batch_sent", table=config.table, rows=checked.num_rows, rows_total=sent)
