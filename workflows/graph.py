"""Graph algorithms over step names, shared by pipeline validation and the local runner.

A graph is a mapping from each node to the nodes it depends on (its upstream). Both
the definition side (``Pipeline.steps`` wired by ``input``/``inputs``) and the
manifest side (DAG tasks wired by ``dependencies``) reduce to this shape, so cycle
detection, ordering and reachability are written once.
"""

from collections.abc import Iterable, Mapping, Sequence

Graph = Mapping[str, Sequence[str]]
"""Node name -> names of the nodes it depends on."""


def find_cycle(graph: Graph) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]`` in dependency direction, or None when there is none.

    Nodes are visited in the mapping's order, so the cycle reported is stable for a
    given definition. Dependencies on names outside the graph are ignored (callers
    report unknown names before looking for cycles).
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for upstream in graph.get(name, ()):
            if upstream not in graph:
                continue
            if state.get(upstream) == 1:
                return [*path[path.index(upstream) :], upstream]
            if upstream not in state:
                found = visit(upstream)
                if found is not None:
                    return found
        path.pop()
        state[name] = 2
        return None

    for name in graph:
        if name not in state:
            found = visit(name)
            if found is not None:
                return found
    return None


def topological_order(graph: Graph) -> list[str]:
    """Every node after all of its dependencies; ties keep the mapping's order.

    Raises:
        ValueError: the graph has a cycle (call :func:`find_cycle` first for a message).
    """
    ordered: list[str] = []
    placed: set[str] = set()
    pending = list(graph)
    while pending:
        ready = [n for n in pending if all(u in placed or u not in graph for u in graph[n])]
        if not ready:
            raise ValueError("the graph has a cycle: " + ", ".join(pending))
        for name in ready:
            ordered.append(name)
            placed.add(name)
        pending = [n for n in pending if n not in placed]
    return ordered


def downstream_of(graph: Graph, roots: Iterable[str]) -> set[str]:
    """The roots and every node that depends on one of them, directly or not."""
    dependents: dict[str, list[str]] = {name: [] for name in graph}
    for name, upstream in graph.items():
        for up in upstream:
            dependents.setdefault(up, []).append(name)
    reached: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        stack.extend(dependents.get(name, ()))
    return reached


def upstream_of(graph: Graph, roots: Iterable[str]) -> set[str]:
    """The roots and every node they depend on, directly or not."""
    reached: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        stack.extend(graph.get(name, ()))
    return reached
