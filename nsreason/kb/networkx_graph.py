"""Knowledge base over a networkx ``MultiDiGraph``: nodes are terms, each edge ``s -> o``
is a triple whose predicate is the edge attribute ``predicate`` or else the edge key.

Plain-string nodes are IRIs (``"_:x"`` a blank node), so a graph built with
``g.add_edge("dog", "animal", key="isA")`` works as is.

>>> import networkx as nx
>>> g = nx.MultiDiGraph()
>>> _ = g.add_edge("urn:dog", "urn:animal", key="urn:isA")
>>> kb = NetworkxKB(g)
>>> kb, [e.entity for e in kb.neighbours("urn:dog")]
(NetworkxKB(nodes=2, edges=1), [IRI('urn:animal')])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .base import KnowledgeBase
from .limits import Budget, Limits
from .terms import IRI, Literal, Term, Triple, as_term

__all__ = ["NetworkxKB"]


def _term(node: Any) -> Term:
    if isinstance(node, (str, Literal)):
        return as_term(node)
    return Literal(str(node))


class NetworkxKB(KnowledgeBase):
    """A ``networkx.MultiDiGraph`` (given, or new and empty); ``triples`` are added to it."""

    name = "networkx"

    def __init__(self, graph: Any = None, triples: Iterable[tuple] = (), *,
                 predicate_attr: str = "predicate", limits: Limits | None = None) -> None:
        import networkx as nx

        if graph is None:
            graph = nx.MultiDiGraph()
        if not isinstance(graph, nx.MultiDiGraph):
            raise TypeError(f"NetworkxKB needs a networkx.MultiDiGraph, got {type(graph).__name__}")
        self.graph = graph
        self.predicate_attr = predicate_attr
        if limits is not None:
            self.limits = limits
        for t in triples:
            self.add(*t)

    def add(self, subject: Term | str, predicate: IRI | str, object: Term | str) -> None:
        """Add the edge ``subject -> object`` keyed by the predicate."""
        s, p, o = as_term(subject), as_term(predicate), as_term(object)
        self.graph.add_edge(s, o, key=p)

    def __repr__(self) -> str:
        return (f"NetworkxKB(nodes={self.graph.number_of_nodes()}, "
                f"edges={self.graph.number_of_edges()})")

    def _pred(self, key: Any, data: dict) -> IRI | None:
        p = data.get(self.predicate_attr, key)
        return IRI(p) if isinstance(p, str) else None

    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        g = self.graph
        if s is not None:
            if s not in g:
                return
            edges = g.out_edges(s, keys=True, data=True)
        elif o is not None:
            if o not in g:
                return
            edges = g.in_edges(o, keys=True, data=True)
        else:
            edges = g.edges(keys=True, data=True)
        for i, (u, v, key, data) in enumerate(edges):
            if i % 256 == 0:
                budget.check()
            if o is not None and _term(v) != o:
                continue
            pred = self._pred(key, data)
            if pred is None or (p is not None and pred != p):
                continue
            yield Triple(_term(u), pred, _term(v))
