"""The conformance suite (nsreason.testing.kb_conformance) over every backend."""

from __future__ import annotations

import pytest

from nsreason.kb import (
    RDFS,
    SKOS,
    MemoryKB,
    MultiKB,
    NetworkxKB,
    OxigraphKB,
    RdflibKB,
    SparqlEndpointKB,
    load_kb,
)
from nsreason.kb.table import dump_table, load_table
from nsreason.testing.kb_conformance import KBConformance, run_conformance
from tests.kb.conftest import write_nt


def _rdflib_graph(triples):
    kb = RdflibKB()
    for t in triples:
        kb.add(*t)
    return kb


def _split(triples):
    """Names in one member, everything else in another, one triple in both."""
    names = [t for t in triples if t.predicate in (RDFS.label, SKOS.altLabel)]
    rest = [t for t in triples if t not in names]
    return MultiKB([MemoryKB(rest), MemoryKB(names + rest[:1])])


BACKENDS = ["memory", "rdflib-graph", "rdf-file", "oxigraph", "oxigraph-memory", "sparql",
            "networkx", "csv", "tsv", "multi", "spec-memory-nt"]


@pytest.fixture(params=BACKENDS)
def make_kb(request, tmp_path):
    kind = request.param
    counter = iter(range(1000))

    def fresh(suffix):
        return tmp_path / f"kb{next(counter)}{suffix}"

    factories = {
        "memory": MemoryKB,
        "rdflib-graph": _rdflib_graph,
        "rdf-file": lambda ts: RdflibKB(write_nt(ts, fresh(".nt"))),
        "oxigraph": lambda ts: OxigraphKB(fresh(".oxigraph"), load=[write_nt(ts, fresh(".nt"))]),
        "oxigraph-memory": lambda ts: _ox_memory(ts),
        "networkx": lambda ts: NetworkxKB(triples=ts),
        "csv": lambda ts: _table(ts, fresh(".csv"), ","),
        "tsv": lambda ts: _table(ts, fresh(".tsv"), "\t"),
        "multi": _split,
        "spec-memory-nt": lambda ts: load_kb(f"memory:{write_nt(ts, fresh('.nt'))}"),
    }
    if kind == "sparql":
        server = request.getfixturevalue("oxigraph_server")

        def endpoint(ts):
            server.replace(ts, tmp_path)
            return SparqlEndpointKB(server.url)

        return endpoint
    return factories[kind]


def _ox_memory(triples):
    kb = OxigraphKB(None)
    for t in triples:
        kb.add(*t)
    return kb


def _table(triples, path, delimiter):
    dump_table(triples, path, delimiter=delimiter)
    return load_table(path, delimiter=delimiter)


class TestEveryBackend(KBConformance):
    """Every check x every backend (the make_kb fixture above is parametrised)."""


def test_run_conformance_reports_the_failing_check():
    class Forgetful(MemoryKB):  # a real backend with one real defect: no aliases
        def aliases(self, entity, **kw):
            return []

    run_conformance(MemoryKB)
    with pytest.raises(AssertionError, match="check_labels_and_aliases"):
        run_conformance(Forgetful)
