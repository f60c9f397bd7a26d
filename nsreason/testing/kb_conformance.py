"""The conformance suite every :class:`~nsreason.kb.KnowledgeBase` backend passes.

A backend author supplies a factory ``make_kb(triples) -> KnowledgeBase`` that builds a KB
holding exactly ``triples`` (blank nodes may be renamed) and either runs every check::

    from nsreason.testing.kb_conformance import run_conformance
    run_conformance(lambda triples: MyKB(triples))

or, under pytest, subclasses :class:`KBConformance` and defines a ``make_kb`` fixture::

    class TestMyKB(KBConformance):
        @pytest.fixture
        def make_kb(self, tmp_path):
            return lambda triples: MyKB.build(triples, tmp_path)

The sample KB (:data:`SAMPLE`, 15 triples): nine statements about a dog, a cat and a mouse
(labels, an alias, a typed literal) and a reified statement giving ``dog isA animal`` a
source with a label and a licence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from nsreason.kb import (
    DCTERMS,
    IRI,
    RDF,
    RDFS,
    SKOS,
    XSD,
    BNode,
    KBCapabilityError,
    KBQueryError,
    KBTimeoutError,
    KnowledgeBase,
    Literal,
    Triple,
)

__all__ = ["CHECKS", "EX", "HOSTILE", "SAMPLE", "KBConformance", "run_conformance"]

MakeKB = Callable[[list[Triple]], KnowledgeBase]

EX = "http://example.org/"
DOG, CAT, MOUSE, ANIMAL = (IRI(EX + n) for n in ("dog", "cat", "mouse", "animal"))
IS_A, CHASES, LEGS = IRI(EX + "isA"), IRI(EX + "chases"), IRI(EX + "legs")
WORDNET = IRI(EX + "wordnet")
LICENCE = IRI("https://wordnet.princeton.edu/license-and-commercial-use")
FACT = BNode("f1")

SAMPLE: tuple[Triple, ...] = (
    Triple(DOG, IS_A, ANIMAL),
    Triple(CAT, IS_A, ANIMAL),
    Triple(CAT, CHASES, MOUSE),
    Triple(DOG, LEGS, Literal("4", datatype=XSD.integer)),
    Triple(DOG, RDFS.label, Literal("dog", language="en")),
    Triple(DOG, SKOS.altLabel, Literal("Puppy")),
    Triple(CAT, RDFS.label, Literal("cat")),
    Triple(MOUSE, RDFS.label, Literal("mouse")),
    Triple(ANIMAL, RDFS.label, Literal("animal")),
    Triple(FACT, RDF.subject, DOG),
    Triple(FACT, RDF.predicate, IS_A),
    Triple(FACT, RDF.object, ANIMAL),
    Triple(FACT, DCTERMS.source, WORDNET),
    Triple(WORDNET, RDFS.label, Literal("WordNet 3.0")),
    Triple(WORDNET, DCTERMS.license, LICENCE),
)

HOSTILE = (
    'say "hi"', "it's", "back\\slash", "line\nbreak", "tab\tand\rreturn", "}", "#comment",
    "<http://evil.example/>", '"; DROP ALL; #', "'} ; DROP ALL ; SELECT * {'", "\\u0022",
    '""" ) } INSERT DATA { <urn:x> <urn:y> <urn:z> } #', "ünïcödé ✓",
)


def _canon(triples: Iterable[Triple]) -> set[tuple]:
    """Triples with blank nodes replaced by one placeholder (backends may rename them)."""
    return {tuple("_:" if isinstance(x, BNode) else x for x in t) for t in triples}


def check_match_all(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    got = list(kb.match())
    assert len(got) == len(SAMPLE), (len(got), got)
    assert _canon(got) == _canon(SAMPLE)
    assert all(isinstance(t, Triple) for t in got)


def check_match_patterns(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    for t in SAMPLE:
        if isinstance(t.subject, BNode):
            continue  # a blank node cannot be named again on every backend (endpoints)
        for mask in range(8):
            pattern = [x if mask >> i & 1 else None for i, x in enumerate(t)]
            want = {u for u in _canon(SAMPLE)
                    if all(p is None or p == x for p, x in zip(pattern, u))}
            assert _canon(kb.match(*pattern)) == want, pattern


def check_match_unknown_terms(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    assert list(kb.match(IRI(EX + "wolf"))) == []
    assert list(kb.match("not an IRI at all")) == []
    assert list(kb.match(None, None, Literal("dog"))) == []  # "dog"@en is another literal
    assert list(kb.match(Literal("dog"), None, None)) == []
    assert list(kb.match(None, Literal("dog"), None)) == []
    for s in HOSTILE:
        assert list(kb.match(None, RDFS.label, Literal(s))) == []


def check_match_limit(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    r = kb.match(limit=2)
    assert len(list(r)) == 2 and r.truncated
    r = kb.match(limit=len(SAMPLE))
    assert len(list(r)) == len(SAMPLE) and not r.truncated
    r = kb.match(None, IS_A, None, limit=2)
    got = r.list()
    assert _canon(got) == {(DOG, IS_A, ANIMAL), (CAT, IS_A, ANIMAL)} and not got.truncated
    r = kb.match(limit=0)
    assert list(r) == [] and r.truncated
    with pytest.raises(KBQueryError):
        kb.match(limit=-1)
    with pytest.raises(KBQueryError):
        kb.match(timeout=0)


def check_time_limit(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    with pytest.raises(KBTimeoutError):
        list(kb.match(timeout=1e-9))
    with pytest.raises(KBTimeoutError):
        kb.facts(timeout=1e-9)
    with pytest.raises(KBTimeoutError):
        kb.paths(DOG, MOUSE, max_hops=3, timeout=1e-9)


def check_labels_and_aliases(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    assert kb.labels(DOG) == ["dog"]
    assert kb.aliases(DOG) == ["Puppy"]
    assert kb.labels(WORDNET) == ["WordNet 3.0"]
    assert kb.labels(IRI(EX + "wolf")) == [] and kb.aliases(CAT) == []


def check_entities_by_label(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    assert kb.entities_by_label("dog") == [DOG]
    assert kb.entities_by_label("DOG") == [DOG]
    assert kb.entities_by_label("puppy") == [DOG]
    assert kb.entities_by_label("  Cat ") == [CAT]
    assert kb.entities_by_label("wordnet  3.0") == [WORDNET]
    assert kb.entities_by_label("wolf") == []
    assert kb.entities_by_label("do") == []  # exact, not a prefix
    assert kb.entities_by_label("") == []


def check_literals(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    (t,) = kb.match(DOG, LEGS)
    assert t.object == Literal("4", datatype=XSD.integer) and t.object.to_python() == 4
    (t,) = kb.match(DOG, RDFS.label)
    assert t.object == Literal("dog", language="en")


def check_neighbours(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    out = {(e.relation, e.entity) for e in kb.neighbours(DOG)}
    assert out == {(IS_A, ANIMAL), (LEGS, Literal("4", datatype=XSD.integer))}
    into = {(e.relation, e.entity, e.direction) for e in kb.neighbours(ANIMAL, "in")}
    assert into == {(IS_A, DOG, "in"), (IS_A, CAT, "in")}
    both = {(e.relation, e.entity, e.direction) for e in kb.neighbours(CAT, "both")}
    assert both == {(IS_A, ANIMAL, "out"), (CHASES, MOUSE, "out")}
    assert [e.entity for e in kb.neighbours(CAT, relation=CHASES)] == [MOUSE]
    assert [e.entity for e in kb.neighbours(DOG, relation=RDFS.label)] == [
        Literal("dog", language="en")]
    r = kb.neighbours(ANIMAL, "in", limit=1)
    assert len(r) == 1 and r.truncated
    with pytest.raises(KBQueryError):
        kb.neighbours(DOG, "sideways")


def check_paths(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    (p,) = kb.paths(DOG, CAT, max_hops=2)
    assert p.nodes == (DOG, ANIMAL, CAT) and p.relations == (IS_A, IS_A)
    assert p.hops == (Triple(DOG, IS_A, ANIMAL), Triple(CAT, IS_A, ANIMAL))
    assert kb.paths(DOG, MOUSE, max_hops=2) == []
    (p,) = kb.paths(DOG, MOUSE, max_hops=3)
    assert p.nodes == (DOG, ANIMAL, CAT, MOUSE)
    assert kb.paths(DOG, CAT, max_hops=2, direction="out") == []
    assert [q.nodes for q in kb.paths(CAT, MOUSE, max_hops=4)] == [(CAT, MOUSE)]
    for bad in (0, 5, "2"):
        with pytest.raises(KBQueryError):
            kb.paths(DOG, CAT, max_hops=bad)
    assert [q.nodes for q in kb.paths_from(DOG)] == [(DOG, ANIMAL)]  # literals are not walked
    walks = {q.nodes for q in kb.paths_from(CAT, 2)}
    assert walks == {(CAT, ANIMAL), (CAT, MOUSE), (CAT, ANIMAL, DOG)}
    r = kb.paths_from(CAT, 2, limit=2)
    assert len(r) == 2 and r.truncated


def check_facts_provenance(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    (f,) = kb.facts(DOG, IS_A)
    assert (f.head, f.relation, f.tail) == (DOG, IS_A, ANIMAL)
    assert f.source == WORDNET and f.source_label == "WordNet 3.0"
    assert f.licence == str(LICENCE) and f.score is None
    (g,) = kb.facts(CAT, IS_A)
    assert g.source is None and g.licence is None
    every = kb.facts()
    assert {(x.head, x.relation, x.tail) for x in every} == {
        (DOG, IS_A, ANIMAL), (CAT, IS_A, ANIMAL), (CAT, CHASES, MOUSE),
        (DOG, LEGS, Literal("4", datatype=XSD.integer))}
    assert [x.tail for x in kb.facts(CAT, RDFS.label)] == [Literal("cat")]
    r = kb.facts(limit=2)
    assert len(r) == 2 and r.truncated


def check_statements(make_kb: MakeKB) -> None:
    ghost, bad = IRI(EX + "ghost"), IRI(EX + "bad")
    extra = [  # reified but not asserted; two subjects (not well formed)
        Triple(ghost, RDF.subject, CAT), Triple(ghost, RDF.predicate, CHASES), Triple(ghost, RDF.object, DOG),
        Triple(bad, RDF.subject, DOG), Triple(bad, RDF.subject, CAT), Triple(bad, RDF.predicate, IS_A),
        Triple(bad, RDF.object, ANIMAL),
    ]
    kb = make_kb([*SAMPLE, *extra])
    found = list(kb.statements(DOG))
    assert [str(x.node) for x in found] == sorted(str(x.node) for x in found)
    by = {("fact" if isinstance(x.node, BNode) else x.node): x for x in found}
    assert set(by) == {"fact", ghost, bad}
    fact = by["fact"]
    assert fact.asserted and fact.triple == (DOG, IS_A, ANIMAL) and fact.props[DCTERMS.source] == [WORDNET]
    assert not by[ghost].asserted and by[ghost].triple == (CAT, CHASES, DOG)
    assert not by[bad].asserted and by[bad].triple is None
    assert sorted(by[bad].props[RDF.subject], key=str) == sorted([DOG, CAT], key=str)
    assert list(kb.statements(MOUSE)) == [] and list(make_kb([]).statements(DOG)) == []


def check_hostile_strings(make_kb: MakeKB) -> None:
    evil = [Triple(IRI(f"{EX}evil{i}"), RDFS.label, Literal(s)) for i, s in enumerate(HOSTILE)]
    kb = make_kb([*SAMPLE, *evil])
    for i, s in enumerate(HOSTILE):
        assert kb.labels(IRI(f"{EX}evil{i}")) == [s]
        assert kb.entities_by_label(s) == [IRI(f"{EX}evil{i}")], s
        assert kb.entities_by_label(s + " x") == []
    for s in HOSTILE:  # strings where IRIs are expected match nothing and break nothing
        assert kb.labels(s) == [] and list(kb.match(s)) == [] and kb.facts(s) == []
        assert list(kb.statements(s)) == []
    assert len(list(kb.match())) == len(SAMPLE) + len(evil)


def check_capabilities(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    if kb.supports_sparql:
        rows = kb.sparql(f"SELECT ?x WHERE {{ ?x <{IS_A}> <{ANIMAL}> }}")
        assert {r["x"] for r in rows} == {DOG, CAT}
        assert kb.sparql(f"ASK {{ <{CAT}> <{CHASES}> <{MOUSE}> }}") is True
        r = kb.sparql("SELECT ?s WHERE { ?s ?p ?o }", limit=3)
        assert len(r) == 3 and r.truncated
        with pytest.raises(KBQueryError):
            kb.sparql("SELECT ?x WHERE { ?x ")
    else:
        with pytest.raises(KBCapabilityError):
            kb.sparql("ASK {}")
    if kb.supports_text_search:
        assert kb.search("upp") == [DOG]
    else:
        with pytest.raises(KBCapabilityError):
            kb.search("upp")


def check_repr_and_empty(make_kb: MakeKB) -> None:
    kb = make_kb(list(SAMPLE))
    assert "Puppy" not in repr(kb) and len(repr(kb)) < 200
    empty = make_kb([])
    assert list(empty.match()) == [] and empty.labels(DOG) == []
    assert empty.entities_by_label("dog") == [] and empty.paths(DOG, CAT) == []
    assert empty.facts() == [] and empty.neighbours(DOG, "both") == []


CHECKS: tuple[Callable[[MakeKB], None], ...] = tuple(
    f for name, f in sorted(globals().items()) if name.startswith("check_")
)


def run_conformance(make_kb: MakeKB) -> None:
    """Run every check; an ``AssertionError`` names the one that failed."""
    for check in CHECKS:
        try:
            check(make_kb)
        except AssertionError as exc:
            raise AssertionError(f"{check.__name__}: {exc}") from exc


class KBConformance:
    """Pytest base class: subclass it and define a ``make_kb`` fixture returning a factory."""

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
    def test_conformance(self, make_kb: MakeKB, check: Callable[[MakeKB], None]) -> None:
        check(make_kb)
