"""The DAG layout: layers by longest path, bends for long edges, fewer crossings."""

import pytest

from workflows.ui.dag_layout import MIN_NODE_WIDTH, layer_of, layout_dag


def _rows(layout) -> dict[int, list[str]]:
    """Layer -> node names from top to bottom."""
    rows: dict[int, list[tuple[float, str]]] = {}
    for node in layout.nodes:
        rows.setdefault(node.layer, []).append((node.y, node.name))
    return {layer: [n for _, n in sorted(v)] for layer, v in rows.items()}


def test_each_node_is_one_layer_right_of_its_deepest_dependency() -> None:
    graph = {"a": [], "b": ["a"], "c": ["a", "b"], "d": []}
    assert layer_of(graph) == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_crossings_of_the_given_order_are_removed() -> None:
    # As given, x1 is above x2 but feeds the lower target: one crossing.
    graph = {"x1": [], "x2": [], "high": ["x2"], "low": ["x1"]}
    layout = layout_dag(graph)
    assert layout.crossings == 0
    rows = _rows(layout)
    assert rows != {0: ["x1", "x2"], 1: ["high", "low"]}
    assert rows[0].index("x1") == rows[1].index("low")
    assert rows[0].index("x2") == rows[1].index("high")


def test_a_graph_that_needs_no_change_keeps_its_order() -> None:
    graph = {"a": [], "b": [], "c": ["a"], "d": ["b"]}
    assert _rows(layout_dag(graph)) == {0: ["a", "b"], 1: ["c", "d"]}


def test_an_edge_over_several_layers_bends_through_each_layer_between() -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]}
    layout = layout_dag(graph)
    long_edge = next(e for e in layout.edges if (e.source, e.target) == ("a", "d"))
    assert len(long_edge.points) == 4  # leaves a, bends in layers 1 and 2, enters d
    xs = [x for x, _ in long_edge.points]
    assert xs == sorted(xs)
    nodes = {n.name: n for n in layout.nodes}
    for x, y in long_edge.points[1:-1]:
        for node in (nodes["b"], nodes["c"]):
            inside = node.x <= x <= node.x + node.width and node.y <= y <= node.y + node.height
            assert not inside, "a bend point lies inside a node box"
    assert long_edge.path.startswith("M") and long_edge.path.count("C") == 3


def test_nodes_never_overlap_and_fit_the_drawing() -> None:
    graph = {f"s{i}": [] for i in range(5)} | {
        f"t{i}": [f"s{i}", f"s{(i + 2) % 5}"] for i in range(5)
    }
    layout = layout_dag(graph)
    boxes = [(n.x, n.y, n.x + n.width, n.y + n.height) for n in layout.nodes]
    for i, a in enumerate(boxes):
        assert a[2] <= layout.width and a[3] <= layout.height
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_crossing_reduction_beats_the_given_order_on_a_tangle() -> None:
    graph = {"a": [], "b": [], "c": [], "z": ["c"], "y": ["b"], "x": ["a"]}
    layout = layout_dag(graph)
    assert layout.crossings == 0
    assert _rows(layout)[1] == ["x", "y", "z"]


def test_boxes_grow_with_the_longest_name() -> None:
    short = layout_dag({"a": []}).nodes[0].width
    long = layout_dag({"a-rather-long-step-name": []}).nodes[0].width
    assert short == MIN_NODE_WIDTH
    assert long > short


def test_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="the graph has a cycle: a, b"):
        layout_dag({"a": ["b"], "b": ["a"]})
