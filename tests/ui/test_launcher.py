"""The buttons' commands: a command that fails before starting a run says why in one line."""

from pathlib import Path

import pytest

from steps.runtime.store import open_location
from tests.ui.conftest import PIPELINES
from workflows.errors import UsageError
from workflows.ui import create_ui_app
from workflows.ui.launcher import Launcher, LaunchFailed, wait_for_run
from workflows.ui.run_index import RunIndex


def test_a_command_that_exits_before_a_run_reports_its_error_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    launcher = Launcher([str(tmp_path / "nowhere.py")], str(store))
    started = launcher.run("ui-daily", {})
    index = RunIndex(open_location(str(store)), {})
    with pytest.raises(LaunchFailed) as caught:
        wait_for_run(started, index, "ui-daily", timeout=60)
    assert str(caught.value) == f"ferry: pipelines file '{tmp_path / 'nowhere.py'}' does not exist"
    assert started.process.returncode == 2
    started.discard()
    assert not started.stderr_file.exists()


def test_the_ui_refuses_a_store_that_is_a_file_and_pipelines_that_are_not_there(
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "store"
    a_file.write_text("")
    with pytest.raises(UsageError) as bad_store:
        create_ui_app(str(a_file), PIPELINES)
    assert str(bad_store.value) == (
        f"--store {a_file}: cannot use it as the store folder (it is a file); pass a folder "
        "that can be created and written, or s3://bucket/prefix"
    )
    with pytest.raises(UsageError) as bad_pipelines:
        create_ui_app(str(tmp_path / "runs"), str(tmp_path / "nowhere.py"))
    assert str(bad_pipelines.value) == f"pipelines file '{tmp_path / 'nowhere.py'}' does not exist"
