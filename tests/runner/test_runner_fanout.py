"""withItems / withParam run locally as Argo runs them: one child per item, parallelism kept."""

import json
from pathlib import Path
from typing import Any

import pytest
from runner_testkit import argv, container, mark, run, workflow

from workflows.runner.errors import ManifestRefused
from workflows.runner.fanout import child_name, item_values

ROWS = ("rows_in", "rows_out", "rows_rejected")


def _work(**extra: Any) -> dict[str, Any]:
    """A stand-in step taking a partition as input parameters, as the renderer makes them."""
    return container(
        "work",
        "--fail-first",
        "{{inputs.parameters.fails}}",
        "--sleep",
        "0.3",
        "--rows",
        "{{inputs.parameters.rows}}",
        "{{inputs.parameters.rows}}",
        "0",
        "--",
        "{{inputs.parameters.whole}}",
        inputs={
            "parameters": [{"name": "p"}, {"name": "fails"}, {"name": "rows"}, {"name": "whole"}]
        },
        outputs=ROWS,
        **extra,
    )


def _named_per_item(template: dict[str, Any]) -> dict[str, Any]:
    args = template["container"]["args"]
    args[args.index("work")] = "work-{{inputs.parameters.p}}"
    return template


def _fanned(items: list[dict[str, str]], parallelism: int, **work: Any) -> dict[str, Any]:
    """main -> work (a fan-out template with parallelism) -> the stand-in, per item."""
    manifest = workflow([_named_per_item(_work(**work))])
    templates = manifest["spec"]["templates"]
    templates[0]["dag"]["tasks"] = [{"name": "work", "template": "work-each"}]
    templates.insert(
        1,
        {
            "name": "work-each",
            "parallelism": parallelism,
            "dag": {
                "tasks": [
                    {
                        "name": "work",
                        "template": "work",
                        "withItems": items,
                        "arguments": {
                            "parameters": [
                                {"name": "p", "value": "{{item.p}}"},
                                {"name": "fails", "value": "{{item.fails}}"},
                                {"name": "rows", "value": "{{item.rows}}"},
                                {"name": "whole", "value": "{{item}}"},
                            ]
                        },
                    }
                ]
            },
        },
    )
    return manifest


ITEMS = [
    {"p": "a", "fails": "0", "rows": "10"},
    {"p": "b", "fails": "0", "rows": "20"},
    {"p": "c", "fails": "0", "rows": "30"},
]


def _overlap(marks: Path, names: list[str]) -> int:
    """The most of ``names`` that ran at the same moment."""
    spans = [(mark(marks, n, "start"), mark(marks, n, "end")) for n in names]
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)


def test_items_expand_into_children_named_and_filled_as_argo_does(store: Path, marks: Path) -> None:
    record, view = run(_fanned(ITEMS, parallelism=3), store, marks)
    work = record.task("work")
    assert work.status.value == "Succeeded"
    assert [p.name for p in work.partitions] == [
        "work(0:fails:0,p:a,rows:10)",
        "work(1:fails:0,p:b,rows:20)",
        "work(2:fails:0,p:c,rows:30)",
    ]
    assert [json.loads(p.item or "") for p in work.partitions] == ITEMS
    assert argv(marks, "work-b") == ['{"fails":"0","p":"b","rows":"20"}']
    assert (work.rows_in, work.rows_out, work.rows_rejected) == (60, 60, 0)
    assert [p.rows_out for p in work.partitions] == [10, 20, 30]
    assert "✔ work(1:fails:0,p:b,rows:20)" in view


@pytest.mark.parametrize("parallelism", [1, 2])
def test_the_fan_out_templates_parallelism_bounds_the_children(
    store: Path, marks: Path, parallelism: int
) -> None:
    record, _ = run(_fanned(ITEMS, parallelism=parallelism), store, marks, parallelism=4)
    assert record.status.value == "Succeeded"
    assert _overlap(marks, ["work-a", "work-b", "work-c"]) == parallelism


def test_a_failed_child_is_retried_alone(store: Path, marks: Path) -> None:
    items = [dict(ITEMS[0]), {**ITEMS[1], "fails": "1"}, dict(ITEMS[2])]
    retry = {"limit": 2, "retryPolicy": "Always", "backoff": {"duration": "0s"}}
    record, _ = run(_fanned(items, parallelism=3, retryStrategy=retry), store, marks)
    work = record.task("work")
    assert work.status.value == "Succeeded"
    assert [p.attempts for p in work.partitions] == [1, 2, 1]
    assert work.attempts == 4


def test_a_child_that_keeps_failing_fails_the_task_and_stops_the_run(
    store: Path, marks: Path
) -> None:
    items = [{**ITEMS[0], "fails": "9"}, dict(ITEMS[1]), dict(ITEMS[2])]
    record, _ = run(_fanned(items, parallelism=1), store, marks)
    work = record.task("work")
    assert record.status.value == "Failed"
    assert work.status.value == "Failed"
    assert [p.status.value for p in work.partitions] == ["Failed", "Omitted", "Omitted"]
    assert work.reason == (
        "partition work(0:fails:9,p:a,rows:10): work-a: failing attempt 1 on purpose"
    )


def _with_param(partitions: str) -> dict[str, Any]:
    """``list`` writes the items as an output; ``work`` expands it with withParam directly."""
    lister = container("list", "--output", f"partitions={partitions}", outputs=("partitions",))
    manifest = workflow([lister, _named_per_item(_work())], {"work": ["list"]})
    task = manifest["spec"]["templates"][0]["dag"]["tasks"][1]
    task["withParam"] = "{{tasks.list.outputs.parameters.partitions}}"
    task["arguments"] = {
        "parameters": [
            {"name": "p", "value": "{{item.p}}"},
            {"name": "fails", "value": "0"},
            {"name": "rows", "value": "{{item.rows}}"},
            {"name": "whole", "value": "{{item}}"},
        ]
    }
    return manifest


def test_with_param_expands_an_upstream_output(store: Path, marks: Path) -> None:
    items = '[{"p": "x", "rows": 5}, {"p": "y", "rows": 7}]'
    record, _ = run(_with_param(items), store, marks)
    work = record.task("work")
    assert work.status.value == "Succeeded"
    assert [p.name for p in work.partitions] == ["work(0:p:x,rows:5)", "work(1:p:y,rows:7)"]
    assert argv(marks, "work-y") == ['{"p":"y","rows":7}']
    assert work.rows_out == 12


def test_with_param_that_is_no_json_list_errors_the_task(store: Path, marks: Path) -> None:
    record, _ = run(_with_param('{"p": "x"}'), store, marks)
    work = record.task("work")
    assert (work.status.value, work.reason) == (
        "Error",
        'withParam value could not be parsed as a JSON list: {"p": "x"}',
    )
    assert record.status.value == "Error"


def test_both_with_items_and_with_param_are_refused(store: Path, marks: Path) -> None:
    manifest = _with_param("[]")
    manifest["spec"]["templates"][0]["dag"]["tasks"][1]["withItems"] = ["a"]
    with pytest.raises(ManifestRefused) as refused:
        run(manifest, store, marks)
    assert "spec.templates[0].dag.tasks[1]: has both withItems and withParam; use one" in str(
        refused.value
    )


def test_an_unknown_item_scope_is_refused_outside_a_fan_out(store: Path, marks: Path) -> None:
    manifest = workflow([_work()])
    manifest["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"] = {
        "parameters": [{"name": n, "value": "{{item}}"} for n in ("p", "fails", "rows", "whole")]
    }
    with pytest.raises(ManifestRefused) as refused:
        run(manifest, store, marks)
    assert "unknown variable {{item}}" in str(refused.value)


@pytest.mark.parametrize(
    ("item", "tags", "described"),
    [
        ("a", {"item": "a"}, "a"),
        (3, {"item": "3"}, "3"),
        (True, {"item": "true"}, "true"),
        ([1, "x"], {"item": '[1,"x"]'}, '[1,"x"]'),
        (
            {"b": 1, "a": "x"},
            {"item": '{"a":"x","b":1}', "item.a": "x", "item.b": "1"},
            "a:x,b:1",
        ),
    ],
)
def test_items_render_as_argo_renders_them(
    item: object, tags: dict[str, str], described: str
) -> None:
    assert item_values(item) == (tags, described)


def test_child_names_drop_parentheses_as_argo_does() -> None:
    assert child_name("t", 2, "f(x)") == "t(2:fx)"


def test_a_fanned_out_task_offers_no_outputs_downstream(store: Path, marks: Path) -> None:
    manifest = _with_param('[{"p": "x", "rows": 1}]')
    after = container(
        "after", "--", "{{inputs.parameters.seen}}", inputs={"parameters": [{"name": "seen"}]}
    )
    manifest["spec"]["templates"].append(after)
    manifest["spec"]["templates"][0]["dag"]["tasks"].append(
        {
            "name": "after",
            "template": "after",
            "dependencies": ["work"],
            "arguments": {
                "parameters": [
                    {"name": "seen", "value": "{{tasks.work.outputs.parameters.rows_in}}"}
                ]
            },
        }
    )
    with pytest.raises(ManifestRefused) as refused:
        run(manifest, store, marks)
    assert "unknown variable {{tasks.work.outputs.parameters.rows_in}}" in str(refused.value)
