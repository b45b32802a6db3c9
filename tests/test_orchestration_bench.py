"""The orchestration benchmark's parts: per-step phases from a real run, and its page sections."""

import json
from pathlib import Path

from bench import orchestration_bench
from bench.pipeline_bench import replace_section


def _log(path: Path, started: str, finished: str) -> str:
    lines = [
        "==> step attempt 1/1",
        json.dumps({"ts": started, "event": "step_started"}),
        json.dumps({"ts": finished, "event": "step_finished"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_phases_split_each_step_into_start_up_work_wrap_up_and_hand_over(tmp_path: Path) -> None:
    record = {
        "started": "2026-12-01T10:00:00.000000Z",
        "tasks": [
            {
                "started": "2026-12-01T10:00:00.100000Z",
                "finished": "2026-12-01T10:00:01.000000Z",
                "hook": None,
                "log": _log(
                    tmp_path / "a.log",
                    "2026-12-01T10:00:00.400+00:00",
                    "2026-12-01T10:00:00.900+00:00",
                ),
            },
            {
                "started": "2026-12-01T10:00:01.050000Z",
                "finished": "2026-12-01T10:00:02.000000Z",
                "hook": None,
                "log": _log(
                    tmp_path / "b.log",
                    "2026-12-01T10:00:01.300+00:00",
                    "2026-12-01T10:00:01.800+00:00",
                ),
            },
            {"started": None, "finished": None, "hook": "exit", "log": ""},
        ],
    }
    phases = orchestration_bench.step_phases(record)
    rounded = [{k: round(v, 3) for k, v in p.items()} for p in phases]
    assert rounded == [
        {"start_up": 0.3, "work": 0.5, "wrap_up": 0.1, "hand_over": 0.1},
        {"start_up": 0.25, "work": 0.5, "wrap_up": 0.2, "hand_over": 0.05},
    ]


def test_a_real_run_of_the_trivial_chain_is_measured() -> None:
    result = orchestration_bench.overhead(runs=1)
    assert result["steps_per_run"] == 6
    assert set(result["per_step"]) == {"start_up", "work", "wrap_up", "hand_over"}
    assert all(value >= 0 for value in result["per_step"].values())
    assert 0 < result["run_seconds"] < result["command_seconds"]
    section = orchestration_bench.overhead_markdown(result)
    assert section.startswith(orchestration_bench.OVERHEAD_SECTION)
    assert "| start-up |" in section


def test_each_section_replaces_only_its_own_part_of_the_page() -> None:
    overhead, partitioned = (
        orchestration_bench.OVERHEAD_SECTION,
        orchestration_bench.PARTITION_SECTION,
    )
    page = f"# Benchmarks\n\n{overhead}\n\nold a\n\n{partitioned}\n\nold b\n\n## Z\n\nz\n"
    page = replace_section(page, f"{partitioned}\n\nnew b\n", partitioned)
    assert page == f"# Benchmarks\n\n{overhead}\n\nold a\n\n{partitioned}\n\nnew b\n\n## Z\n\nz\n"
