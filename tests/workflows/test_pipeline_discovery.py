"""Finding pipelines in files, folders, modules and $FERRY_PIPELINES; examples only when named."""

import os
import sys
from pathlib import Path

import pytest

from workflows.discovery import EXAMPLES, find_pipeline, get_pipeline, load_pipelines
from workflows.errors import EXIT_USAGE, DefinitionError, UsageError

FAKES = Path(__file__).resolve().parent / "pipeline_fakes.py"


def pipeline_module(folder: Path, module: str, *names: str) -> Path:
    """Write a module defining one pipeline per name (built with the test fakes)."""
    lines = [
        f"import sys; sys.path.insert(0, {str(FAKES.parent)!r})",
        "from pipeline_fakes import minimal",
    ]
    lines += [f"p{i} = minimal(name={name!r})" for i, name in enumerate(names)]
    path = folder / f"{module}.py"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_nothing_to_search_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FERRY_PIPELINES", raising=False)
    with pytest.raises(UsageError) as info:
        load_pipelines()
    assert str(info.value) == (
        "no pipelines to search; pass --pipelines PATH (a .py or .yaml file, a folder or a "
        "dotted module) or set $FERRY_PIPELINES; the examples are --pipelines workflows.pipelines"
    )
    assert info.value.exit_code == EXIT_USAGE


def test_the_examples_are_found_by_their_package_name() -> None:
    assert set(load_pipelines([EXAMPLES])) >= {"orders-daily", "customer-quality", "orders-api"}


def test_a_file(tmp_path: Path) -> None:
    path = pipeline_module(tmp_path, "mine", "alpha", "beta")
    assert set(load_pipelines([str(path)])) == {"alpha", "beta"}


def test_a_users_folder_lists_only_its_own_pipelines(tmp_path: Path) -> None:
    pipeline_module(tmp_path, "mine", "orders-daily")
    found = find_pipeline("orders-daily", [str(tmp_path)])
    assert found.file == (tmp_path / "mine.py").resolve()
    assert found.folder == tmp_path.resolve()
    assert set(load_pipelines([str(tmp_path)])) == {"orders-daily"}


def test_a_folder_skips_private_modules(tmp_path: Path) -> None:
    pipeline_module(tmp_path, "one", "alpha")
    pipeline_module(tmp_path, "two", "beta")
    pipeline_module(tmp_path, "_helpers", "hidden")
    found = load_pipelines([str(tmp_path)])
    assert {"alpha", "beta"} <= set(found)
    assert "hidden" not in found


def test_a_dotted_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline_module(tmp_path, "dotted_pipelines_mod", "gamma")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert "gamma" in load_pipelines(["dotted_pipelines_mod"])
    finally:
        sys.modules.pop("dotted_pipelines_mod", None)


def test_environment_variable_when_no_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pipeline_module(tmp_path, "a", "alpha")
    (tmp_path / "more").mkdir()
    pipeline_module(tmp_path / "more", "b", "beta")
    monkeypatch.setenv("FERRY_PIPELINES", os.pathsep.join([str(a), str(tmp_path / "more")]))
    assert set(load_pipelines()) == {"alpha", "beta"}
    assert "alpha" not in load_pipelines([str(tmp_path / "more")])


def test_the_same_shipped_file_given_again_is_not_a_duplicate() -> None:
    shipped = Path(__file__).resolve().parents[2] / "workflows" / "pipelines" / "orders_daily.py"
    assert "orders-daily" in load_pipelines([EXAMPLES, str(shipped)])


def test_duplicate_names_name_both_modules(tmp_path: Path) -> None:
    one = pipeline_module(tmp_path, "one", "same")
    two = pipeline_module(tmp_path, "two", "same")
    with pytest.raises(DefinitionError) as info:
        load_pipelines([str(tmp_path)])
    assert str(info.value) == (
        f"pipeline 'same', field 'name': defined twice, in {one} and in {two}; rename one"
    )
    assert info.value.exit_code == EXIT_USAGE


def test_a_duplicate_of_a_shipped_name(tmp_path: Path) -> None:
    mine = pipeline_module(tmp_path, "mine", "orders-daily")
    shipped = Path(__file__).resolve().parents[2] / "workflows" / "pipelines" / "orders_daily.py"
    with pytest.raises(DefinitionError) as info:
        load_pipelines([EXAMPLES, str(mine)])
    assert str(info.value) == (
        f"pipeline 'orders-daily', field 'name': defined twice, in {shipped} and in {mine}; "
        "rename one"
    )


def test_import_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import no_such_module_here\n")
    with pytest.raises(UsageError) as info:
        load_pipelines([str(bad)])
    assert str(info.value) == (
        f"cannot import pipelines from {bad}:1: ModuleNotFoundError: "
        "No module named 'no_such_module_here'; fix the module"
    )
    assert info.value.exit_code == EXIT_USAGE


def test_invalid_config_in_a_module_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from steps.extract.files.config import FilesExtract\n"
        "config = FilesExtract(path='x', format='xml')\n"
    )
    with pytest.raises(UsageError) as info:
        load_pipelines([str(bad)])
    assert str(info.value) == (
        f"cannot import pipelines from {bad}:2: invalid FilesExtract at format: "
        "Input should be 'csv', 'jsonl' or 'parquet'; fix the module"
    )


def test_a_misspelt_field_names_the_field_meant_and_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from workflows import Checks, NotNull\n"
        "\n"
        "checks = Checks(name='valid', inputs=['raw'], rules=[NotNull(column='id')])\n"
    )
    with pytest.raises(UsageError) as info:
        load_pipelines([str(bad)])
    assert str(info.value) == (
        f"cannot import pipelines from {bad}:3: Checks 'valid' has no field 'inputs'; "
        "did you mean 'input'?; fix the module"
    )


def test_the_old_fixed_slots_point_at_steps(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from workflows import Pipeline\np = Pipeline(name='p', sources=[])\n")
    with pytest.raises(UsageError) as info:
        load_pipelines([str(bad)])
    assert str(info.value) == (
        f"cannot import pipelines from {bad}:2: Pipeline 'p' has no field 'sources'; "
        "did you mean 'steps'?; fix the module"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_pipelines([str(tmp_path / "nope.py")])
    assert str(info.value) == f"pipelines file {str(tmp_path / 'nope.py')!r} does not exist"


def test_neither_file_nor_module() -> None:
    with pytest.raises(UsageError) as info:
        load_pipelines(["no_such_pipelines_module"])
    assert str(info.value) == (
        "pipelines path 'no_such_pipelines_module' is neither a file, a folder nor an "
        "importable module"
    )


def test_get_pipeline() -> None:
    assert get_pipeline("orders-daily", [EXAMPLES]).name == "orders-daily"


def test_get_pipeline_suggests_a_close_name() -> None:
    with pytest.raises(UsageError) as info:
        get_pipeline("orders-dialy", [EXAMPLES])
    assert str(info.value) == (
        "no pipeline named 'orders-dialy'; did you mean 'orders-daily'? available: "
        "customer-quality, orders-api, orders-by-segment, orders-daily, orders-partitioned, "
        "orders-pseudonymized "
        "(search more with --pipelines PATH or $FERRY_PIPELINES)"
    )


def test_get_pipeline_without_a_close_name() -> None:
    with pytest.raises(UsageError) as info:
        get_pipeline("zzz", [EXAMPLES])
    assert str(info.value) == (
        "no pipeline named 'zzz'; available: customer-quality, orders-api, orders-by-segment, "
        "orders-daily, orders-partitioned, orders-pseudonymized (search more with --pipelines "
        "PATH or $FERRY_PIPELINES)"
    )
