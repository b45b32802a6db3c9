"""The buttons' commands: a command that fails before starting a run says why in one line."""

from pathlib import Path

import pytest

from steps.runtime.store import open_location
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
