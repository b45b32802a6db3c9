"""Lay out a run's DAG for drawing: layers left to right, few crossings, no overlaps.

A small Sugiyama-style layout, enough for pipelines of tens of steps and written
here so the UI draws its graph without a JavaScript library or a build step:

1. layering: each task one layer right of its deepest dependency (longest path);
2. an edge spanning several layers gets a dummy point in each layer it crosses, so
   it bends around the nodes instead of through them;
3. crossing reduction: layer by layer sweeps, right then left, ordering each layer
   by the barycentre of its neighbours in the layer just placed, keeping the
   ordering with the fewest crossings seen;
4. coordinates: layers as columns, positions in a layer as rows, each column
   centred on the tallest one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise

from workflows.graph import Graph, topological_order

NODE_HEIGHT = 34
"""Height of a node box in pixels."""

LAYER_GAP = 56
"""Horizontal space between two layers' boxes."""

ROW_GAP = 18
"""Vertical space between two boxes of one layer."""

MARGIN = 12
"""Space around the drawing."""

CHAR_WIDTH = 7.2
"""Width of one character of the node label (12px sans-serif), for sizing boxes."""

MIN_NODE_WIDTH = 110
MAX_NODE_WIDTH = 240
"""Boxes grow with the longest name between these widths; longer names are cut."""

SWEEPS = 8
"""Down-and-up sweeps of the crossing reduction; small graphs settle in two or three."""


@dataclass(frozen=True)
class PlacedNode:
    """A task's box: top-left corner and size, in pixels."""

    name: str
    layer: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class PlacedEdge:
    """A dependency drawn from ``source`` (upstream) to ``target`` through ``points``."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]

    @property
    def path(self) -> str:
        """SVG path data: a smooth curve through the points, leaving and entering level."""
        (x, y), rest = self.points[0], self.points[1:]
        parts = [f"M{x:.1f},{y:.1f}"]
        for nx, ny in rest:
            mid = (x + nx) / 2
            parts.append(f"C{mid:.1f},{y:.1f} {mid:.1f},{ny:.1f} {nx:.1f},{ny:.1f}")
            x, y = nx, ny
        return " ".join(parts)


@dataclass(frozen=True)
class DagLayout:
    """Where everything goes, and how many edge crossings remain."""

    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    width: float
    height: float
    crossings: int


@dataclass(frozen=True)
class _Dummy:
    """A bend point of an edge ``source -> target`` in layer ``layer``."""

    source: str
    target: str
    layer: int


_Vertex = str | _Dummy


def layer_of(graph: Graph) -> dict[str, int]:
    """Each node's layer: 0 without dependencies, else one more than its deepest dependency.

    Dependencies on names outside the graph are ignored.
    """
    layers: dict[str, int] = {}
    for name in topological_order(graph):
        ups = [layers[u] for u in graph[name] if u in layers]
        layers[name] = 1 + max(ups) if ups else 0
    return layers


def _chains(graph: Graph, layers: dict[str, int]) -> list[list[_Vertex]]:
    """Every edge as its vertex chain from upstream to downstream, dummies in between."""
    chains: list[list[_Vertex]] = []
    for target, ups in graph.items():
        for source in ups:
            if source not in graph:
                continue
            middle: list[_Vertex] = [
                _Dummy(source, target, layer) for layer in range(layers[source] + 1, layers[target])
            ]
            chains.append([source, *middle, target])
    return chains


def _count_crossings(
    left: Sequence[_Vertex], right: Sequence[_Vertex], links: list[tuple[_Vertex, _Vertex]]
) -> int:
    """Crossings between two adjacent layers: pairs of links whose ends swap order."""
    pos_l = {v: i for i, v in enumerate(left)}
    pos_r = {v: i for i, v in enumerate(right)}
    ends = [(pos_l[a], pos_r[b]) for a, b in links if a in pos_l and b in pos_r]
    return sum(1 for (a1, b1), (a2, b2) in combinations(ends, 2) if (a1 - a2) * (b1 - b2) < 0)


def _total_crossings(
    order: list[list[_Vertex]], links: dict[int, list[tuple[_Vertex, _Vertex]]]
) -> int:
    return sum(
        _count_crossings(order[i], order[i + 1], links.get(i, [])) for i in range(len(order) - 1)
    )


def _reorder(
    layer: list[_Vertex], fixed: list[_Vertex], neighbours: dict[_Vertex, list[_Vertex]]
) -> list[_Vertex]:
    """``layer`` sorted by the mean position of each vertex's neighbours in ``fixed``.

    A vertex without neighbours there keeps its position; ties keep the current order,
    so the sort is stable and the result deterministic.
    """
    pos = {v: i for i, v in enumerate(fixed)}
    keyed: list[tuple[float, int, _Vertex]] = []
    for index, vertex in enumerate(layer):
        near = [pos[n] for n in neighbours.get(vertex, []) if n in pos]
        keyed.append((sum(near) / len(near) if near else float(index), index, vertex))
    return [vertex for _, _, vertex in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _order_layers(
    order: list[list[_Vertex]], links: dict[int, list[tuple[_Vertex, _Vertex]]]
) -> tuple[list[list[_Vertex]], int]:
    """Barycentre sweeps; the ordering with the fewest crossings and that number."""
    ups: dict[_Vertex, list[_Vertex]] = {}
    downs: dict[_Vertex, list[_Vertex]] = {}
    for pairs in links.values():
        for a, b in pairs:
            ups.setdefault(b, []).append(a)
            downs.setdefault(a, []).append(b)
    best = [list(layer) for layer in order]
    best_crossings = _total_crossings(best, links)
    current = [list(layer) for layer in order]
    for _ in range(SWEEPS):
        if best_crossings == 0:
            break
        for i in range(1, len(current)):
            current[i] = _reorder(current[i], current[i - 1], ups)
        for i in range(len(current) - 2, -1, -1):
            current[i] = _reorder(current[i], current[i + 1], downs)
        crossings = _total_crossings(current, links)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in current], crossings
    return best, best_crossings


def node_width(names: Sequence[str]) -> float:
    """One box width for every node, fitting the longest name within the bounds."""
    longest = max((len(n) for n in names), default=0)
    return min(MAX_NODE_WIDTH, max(MIN_NODE_WIDTH, longest * CHAR_WIDTH + 24))


def layout_dag(graph: Graph) -> DagLayout:
    """Place the nodes and route the edges of ``graph`` (node -> its dependencies).

    Nodes are named in the mapping's order, which is the initial order in each layer,
    so a graph already drawn well stays as it is.

    Raises:
        ValueError: the graph has a cycle.
    """
    layers = layer_of(graph)
    chains = _chains(graph, layers)
    depth = max(layers.values(), default=-1) + 1
    order: list[list[_Vertex]] = [[] for _ in range(depth)]
    for name in graph:
        order[layers[name]].append(name)
    links: dict[int, list[tuple[_Vertex, _Vertex]]] = {}
    for chain in chains:
        for dummy in chain[1:-1]:
            order[_layer(dummy, layers)].append(dummy)
        for a, b in pairwise(chain):
            links.setdefault(_layer(a, layers), []).append((a, b))
    order, crossings = _order_layers(order, links)
    width = node_width(list(graph))
    tallest = max((len(layer) for layer in order), default=0)
    column_height = tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    centre: dict[_Vertex, tuple[float, float]] = {}
    placed: list[PlacedNode] = []
    for index, layer in enumerate(order):
        x = MARGIN + index * (width + LAYER_GAP)
        top = MARGIN + (column_height - (len(layer) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) / 2
        for row, vertex in enumerate(layer):
            y = top + row * (NODE_HEIGHT + ROW_GAP)
            centre[vertex] = (x + width / 2, y + NODE_HEIGHT / 2)
            if isinstance(vertex, str):
                placed.append(PlacedNode(vertex, index, x, y, width, NODE_HEIGHT))
    edges = tuple(_route(chain, centre, width) for chain in chains)
    by_name = {n.name: n for n in placed}
    return DagLayout(
        nodes=tuple(by_name[name] for name in graph),
        edges=edges,
        width=2 * MARGIN + max(depth * (width + LAYER_GAP) - LAYER_GAP, 0),
        height=2 * MARGIN + max(column_height, 0),
        crossings=crossings,
    )


def _layer(vertex: _Vertex, layers: dict[str, int]) -> int:
    return vertex.layer if isinstance(vertex, _Dummy) else layers[vertex]


def _route(
    chain: list[_Vertex], centre: dict[_Vertex, tuple[float, float]], width: float
) -> PlacedEdge:
    """The edge from the right side of its source box to the left side of its target box."""
    first, last = chain[0], chain[-1]
    assert isinstance(first, str) and isinstance(last, str)
    sx, sy = centre[first]
    tx, ty = centre[last]
    points = [(sx + width / 2, sy), *(centre[v] for v in chain[1:-1]), (tx - width / 2, ty)]
    return PlacedEdge(first, last, tuple(points))
