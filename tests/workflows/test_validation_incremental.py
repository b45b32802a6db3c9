"""Appends fed by an incremental source are refused at definition time."""

import pytest

from steps.databases.config import SecretRef
from steps.extract.sql.config import SqlExtract
from steps.load.parquet_dataset.config import ParquetDatasetLoad
from steps.load.sql_table.config import SqlTableLoad
from steps.runtime.config import Cursor
from workflows.errors import DefinitionError
from workflows.pipeline import Pipeline, Source, Target
from workflows.validation import validate_pipeline

PG = "postgresql://ferry@db:5432/ferry"


def _pipeline(target: Target, cursor: Cursor | None) -> Pipeline:
    source = SqlExtract(
        url=PG,
        table="orders",
        cursor=cursor,
        password_env="PGPASSWORD",
        password_secret=SecretRef(name="pg", key="password"),
    )
    return Pipeline(name="inc", steps=[Source(name="orders", config=source), target])


def test_sql_append_fed_by_incremental_source_is_refused() -> None:
    target = Target(name="to-pg", input="orders", config=SqlTableLoad(url=PG, table="orders"))
    with pytest.raises(DefinitionError) as err:
        validate_pipeline(_pipeline(target, Cursor(field="updated_at")))
    assert str(err.value) == (
        "pipeline 'inc', step 'to-pg', field 'config.mode': fed by incremental source "
        "'orders', whose window a failed run re-delivers: mode 'append' would duplicate those "
        "rows; use mode='upsert' with a key"
    )
    assert err.value.exit_code == 2


def test_parquet_append_fed_by_incremental_source_is_refused() -> None:
    target = Target(name="files", input="orders", config=ParquetDatasetLoad(path="out"))
    with pytest.raises(DefinitionError, match=r"use mode='merge' with a key$"):
        validate_pipeline(_pipeline(target, Cursor(field="updated_at")))


def test_append_without_incremental_source_and_upsert_with_it_are_fine() -> None:
    append = Target(name="to-pg", input="orders", config=SqlTableLoad(url=PG, table="orders"))
    validate_pipeline(_pipeline(append, None))
    upsert = SqlTableLoad(url=PG, table="orders", mode="upsert", key=["id"])
    validate_pipeline(
        _pipeline(Target(name="to-pg", input="orders", config=upsert), Cursor(field="id"))
    )


def test_backfill_window_from_workflow_parameters_validates() -> None:
    """One template for both modes: '' (the default) is incremental, a value a backfill.

    ``interval_start`` and ``interval_end`` are built-in parameters, so the pipeline
    declares nothing."""
    from workflows.pipeline import param

    cursor = Cursor(
        field="updated_at",
        primary_key=["id"],
        window_start=param("interval_start"),
        window_end=param("interval_end"),
    )
    upsert = SqlTableLoad(url=PG, table="orders", mode="upsert", key=["id"])
    pipeline = _pipeline(Target(name="to-pg", input="orders", config=upsert), cursor)
    validate_pipeline(pipeline)
    assert pipeline.parameter_defaults()["interval_start"] == ""
    with_params = pipeline.model_copy(update={"params": {"interval_start": ""}})
    with pytest.raises(DefinitionError, match="parameter 'interval_start' is built in"):
        validate_pipeline(with_params)
    assert Cursor(field="u", window_start="", window_end="").explicit_window is False
    assert Cursor(field="u", window_start="2026-11-01").explicit_window is True
