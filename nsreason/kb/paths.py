"""Paths through a knowledge base: simple walks from an entity, and the paths between two
entities found by meeting in the middle. :meth:`KnowledgeBase.paths
<nsreason.kb.KnowledgeBase.paths>` and :meth:`~nsreason.kb.KnowledgeBase.paths_from` call
these over the backend's :meth:`~nsreason.kb.KnowledgeBase._edges`; a backend with a native
path query may override those methods instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import KBQueryError
from .limits import Budget, ResultList, cut
from .terms import Literal, Path, Term, Triple, term_sort_key

if TYPE_CHECKING:
    from .base import KnowledgeBase

__all__ = ["DIRECTIONS", "MAX_HOPS", "check_hops", "paths_between", "paths_from"]

MAX_HOPS = 4
"""The longest path :meth:`KnowledgeBase.paths` searches (longer ones explode combinatorially)."""

DIRECTIONS = ("out", "in", "both")

Walk = tuple[tuple[Triple, ...], tuple[Term, ...]]


def check_hops(k: int) -> None:
    """Raise :class:`KBQueryError` unless ``k`` is an int in 1..:data:`MAX_HOPS`."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_HOPS:
        raise KBQueryError(f"max_hops must be an int in 1..{MAX_HOPS}, got {k!r}")


def _hops(kb: KnowledgeBase, node: Term, direction: str, budget: Budget) -> Iterator[tuple[Triple, Term]]:
    for e in kb._edges(node, direction, budget, entities_only=True):
        if isinstance(e.entity, Literal):
            continue
        hop = Triple(node, e.relation, e.entity) if e.direction == "out" else Triple(
            e.entity, e.relation, node)
        yield hop, e.entity


def walks(kb: KnowledgeBase, start: Term, depth: int, direction: str, budget: Budget,
          cap: int) -> tuple[list[Walk], bool]:
    """Simple walks of 0..depth hops from ``start``, breadth first, and whether ``cap``
    cut them short."""
    found: list[Walk] = [((), (start,))]
    frontier = found
    for _ in range(depth):
        nxt = []
        for hops, nodes in frontier:
            for hop, node in _hops(kb, nodes[-1], direction, budget):
                if node not in nodes:
                    nxt.append(((*hops, hop), (*nodes, node)))
                if len(found) + len(nxt) > cap:
                    return found + nxt, True
        found = found + nxt
        frontier = nxt
    return found, False


def path_key(p: Path) -> tuple[int, list[tuple[int, str]], list[str]]:
    """Shortest first, then by nodes and relations."""
    return (len(p), [term_sort_key(x) for x in p.nodes], [str(r) for r in p.relations])


def paths_between(kb: KnowledgeBase, start: Term, goal: Term, max_hops: int, direction: str,
                  n: int, budget: Budget) -> ResultList[Path]:
    """Simple paths from ``start`` to ``goal`` of 1..``max_hops`` hops, shortest first, at
    most ``n``: walks of ``ceil(k/2)`` hops from ``start`` and ``floor(k/2)`` from ``goal``,
    joined on their end nodes."""
    check_hops(max_hops)
    back = {"out": "in", "in": "out", "both": "both"}.get(direction, direction)
    cap = max(100_000, 100 * n)
    with budget:
        fwd, capped = walks(kb, start, (max_hops + 1) // 2, direction, budget, cap)
        bwalks, bcapped = walks(kb, goal, max_hops // 2, back, budget, cap)
        bwd: dict[Term, list[Walk]] = {}
        for hops, nodes in bwalks:
            bwd.setdefault(nodes[-1], []).append((hops, nodes))
        found: dict[tuple[Triple, ...], Path] = {}
        for hops, nodes in fwd:
            for bhops, bnodes in bwd.get(nodes[-1], ()):
                all_nodes = nodes + bnodes[-2::-1]
                if len(set(all_nodes)) != len(all_nodes) or not hops + bhops:
                    continue
                joined = hops + bhops[::-1]
                if len(joined) <= max_hops:
                    found.setdefault(joined, Path(start, joined))
            budget.check()
    out = cut(sorted(found.values(), key=path_key), n)
    out.truncated = out.truncated or capped or bcapped
    return out


def paths_from(kb: KnowledgeBase, start: Term, max_hops: int, direction: str, n: int,
               budget: Budget) -> ResultList[Path]:
    """All simple paths of 1..``max_hops`` hops starting at ``start``, shortest first, at
    most ``n``."""
    check_hops(max_hops)
    with budget:
        found, capped = walks(kb, start, max_hops, direction, budget, cap=n + 1)
    out = cut([Path(start, hops) for hops, _ in found if hops], n)
    out.sort(key=path_key)
    out.truncated = out.truncated or capped
    return out
