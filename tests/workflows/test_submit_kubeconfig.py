"""``ferry submit`` with a kubeconfig that is not one: one line naming the file, exit 2."""

import sys
from pathlib import Path

import pytest

from workflows.cli import main


def submit(*args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run ``ferry submit ARGS`` in-process; return its exit code."""
    monkeypatch.setattr(sys, "argv", ["ferry", "submit", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize("extra", [["--dry-run"], ["-n", "etl"]])
def test_unparsable_kubeconfig_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    kubeconfig = tmp_path / "kc-bad.yaml"
    kubeconfig.write_text("garbage: [\n")
    code = submit("orders-daily", "--kubeconfig", str(kubeconfig), *extra, monkeypatch=monkeypatch)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ferry: kubeconfig {kubeconfig} is not valid YAML (line 2, column 1: expected the "
        "node content, but found '<stream end>'); fix the file or pass another with --kubeconfig"
    ]


def test_kubeconfig_that_is_not_a_mapping_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kc-list.yaml"
    kubeconfig.write_text("- a\n")
    code = submit(
        "orders-daily", "-n", "etl", "--kubeconfig", str(kubeconfig), monkeypatch=monkeypatch
    )
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"ferry: kubeconfig {kubeconfig} is not a kubeconfig (its top level is a list, not a "
        "mapping); fix the file or pass another with --kubeconfig"
    ]
