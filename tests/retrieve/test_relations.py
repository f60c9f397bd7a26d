"""The relations of a KB found by their words (nsreason.retrieve.relations) and the relation
ops that follow them inside programs (nsreason.retrieve.ops.relation_ops), on the fixture
scene and the fixture Turtle KB; SPARQL and Turtle syntax in labels and literals on every
backend."""

from __future__ import annotations

import pytest

from nsreason.errors import ExecutionFailure
from nsreason.kb import RDFS, XSD, Literal, MemoryKB
from nsreason.kb.terms import IRI
from nsreason.program import Program
from nsreason.retrieve.ops import RelationLookup
from nsreason.retrieve.relations import RelationCatalogue, local_name_words, truth_of
from nsreason.testing.kb_conformance import HOSTILE
from tests.kb.conftest import oxigraph_server  # noqa: F401  (a fixture of the backends below)
from tests.kb.test_conformance import make_kb  # noqa: F401  (parametrised over every backend)
from tests.retrieve.conftest import EX, properties_kb, relation_executor, small_scene


@pytest.fixture(scope="module")
def kb():
    return properties_kb()


@pytest.fixture(scope="module")
def scene():
    return small_scene()


def run(kb, scene, text: str):
    return relation_executor(kb).execute(Program.from_text(text, "clevr+knowledge"), scene, trace=True)


def test_the_catalogue_reads_every_relation_with_its_names_and_value_kind(kb):
    cat = RelationCatalogue.from_kb(kb)
    by_iri = {str(r.iri): r for r in cat.relations}
    assert by_iri[EX + "canRoll"].labels == ("can roll",) and by_iri[EX + "canRoll"].kind == "boolean"
    assert by_iri[EX + "typicalUse"].kind == "entity" and by_iri[EX + "inventedIn"].kind == "literal"
    assert by_iri[EX + "numberOfFaces"].labels == ("number of faces",)  # no label: the local name in words
    assert str(RDFS.label) not in by_iri  # names are not relations


@pytest.mark.parametrize("phrase, iri, method", [
    ("can roll", "canRoll", "label"), ("Can Roll", "canRoll", "label"), ("rolls", "canRoll", "lemma"),
    ("conduct electricity", "conductsElectricity", "lemma"), ("invented", "inventedIn", "lemma"),
    ("number of faces", "numberOfFaces", "label"),
])
def test_a_relation_is_resolved_by_label_then_lemma(kb, phrase, iri, method):
    m = RelationCatalogue.from_kb(kb).resolve(phrase)
    assert str(m.relation.iri) == EX + iri and m.method == method


def test_a_relation_the_kb_lacks_is_a_failure_that_names_it_and_lists_the_relations(kb):
    with pytest.raises(ExecutionFailure) as err:
        RelationCatalogue.from_kb(kb).resolve("melting point")
    assert err.value.code == "unknown_relation" and "'melting point'" in str(err.value)
    assert "'can roll'" in str(err.value)


def test_find_returns_the_span_of_a_question_that_names_a_relation(kb):
    cat = RelationCatalogue.from_kb(kb)
    words = ["how", "many", "things", "in", "the", "scene", "can", "roll"]
    i, j, m = cat.find(words)
    assert (i, j) == (6, 8) and m.label == "can roll"
    allowed = [w == "roll" for w in words]
    i, j, m = cat.find(words, allowed)
    assert m.label == "can roll" and i <= 6 < j
    assert cat.find(["how", "many", "cubes", "are", "there"]) is None


def test_local_names_and_truths():
    assert local_name_words("http://x.org/a#typicalUse") == "typical use"
    assert local_name_words("urn:x:melting_point-celsius") == "melting point celsius"
    assert truth_of(Literal("true", XSD.boolean)) is True and truth_of(Literal("0", XSD.boolean)) is False
    assert truth_of(Literal("no")) is False and truth_of(Literal("0")) is None
    assert truth_of(Literal("copper")) is None and truth_of(IRI("urn:x")) is True


def test_kb_filter_and_count_with_every_fact_in_the_trace(kb, scene):
    a = run(kb, scene, 'count(kb_filter["can roll"](scene()))')
    assert a.value == 2 and a.failure is None
    step = a.trace.steps[1]
    assert step.output == [0, 2] and step.details["relation"]["label"] == "can roll"
    facts = {(row["object"], f["tail"]) for row in step.details["objects"] for f in row["facts"]}
    assert facts == {(0, "true"), (1, "false"), (2, "true")}
    assert all(f["source"] == "clevr_properties.ttl"
               for row in step.details["objects"] for f in row["facts"])
    assert "sphere --can roll--> true" in a.trace.render_text()


def test_kb_query_on_an_attribute_value_and_a_two_hop_path(kb, scene):
    a = run(kb, scene, 'kb_query["typical use"](query_material(unique(filter_shape[cube](scene()))))')
    assert a.value == "tyres"
    two = run(kb, scene, 'kb_query["invented in"](kb_query["typical use"](query_material(unique('
                         'filter_shape[cube](scene())))))')
    assert two.value == "1845" and isinstance(two.value, str) and type(two.value) is str
    hops = [s.details["lookups"][0]["facts"][0]["labels"] for s in two.trace.steps[-2:]]
    assert hops == [["rubber", "typical use", "tyres"], ["tyres", "invented in", "1845"]]


def test_kb_verify_check_and_property(kb, scene):
    assert run(kb, scene, 'kb_verify["conducts electricity"](unique(filter_color[gray](scene())))').value is True
    assert run(kb, scene, 'kb_check["can roll"](query_shape(unique(filter_color[blue](scene()))))').value is False
    a = run(kb, scene, 'kb_property["number of faces"](unique(filter_color[blue](scene())))')
    assert a.value == "6" and a.trace.steps[-1].details["lookups"]
    # a value, not a truth
    bad = run(kb, scene, 'kb_check["number of faces"](query_shape(unique(filter_color[blue](scene()))))')
    assert bad.failure.code == "not_a_truth"


def test_failures_name_what_is_missing(kb, scene):
    a = run(kb, scene, 'kb_query[wavelength](query_color(unique(filter_color[blue](scene()))))')
    assert a.failure.code == "no_fact" and "'blue'" in a.failure.reason
    a = run(kb, scene, 'count(kb_filter["can fly"](scene()))')
    assert a.failure.code == "unknown_relation" and a.failure.step == 1
    # an object whose values give different answers: refused, not guessed
    kb2 = MemoryKB()
    kb2.add(EX + "metal", EX + "colourCode", Literal("M"))
    kb2.add(EX + "metal", RDFS.label, Literal("metal"))
    kb2.add(EX + "sphere", EX + "colourCode", Literal("S"))
    kb2.add(EX + "sphere", RDFS.label, Literal("sphere"))
    a = run(kb2, scene, 'kb_property["colour code"](unique(filter_color[gray](scene())))')
    assert a.failure.code == "ambiguous_fact" and "'M'" in a.failure.reason and "'S'" in a.failure.reason


def test_an_entity_named_only_by_its_iri_is_linked_by_its_local_name(kb):
    links = RelationLookup(kb).link("stainless steel")
    assert [str(k.entity) for k in links] == [EX + "stainless_steel"] and links[0].method == "local_name"


def test_syntax_in_labels_and_literals_cannot_change_a_lookup_on_every_backend(make_kb):  # noqa: F811
    triples = []
    for k, text in enumerate(HOSTILE):
        e, r = IRI(f"{EX}e{k}"), IRI(f"{EX}r{k}")
        triples += [(e, RDFS.label, Literal(f"thing {text}")), (r, RDFS.label, Literal(f"rel {text}")),
                    (e, r, Literal(text))]
    from nsreason.kb.terms import Triple

    kb = make_kb([Triple(*t) for t in triples])
    before = len(list(kb.match(None, None, None, limit=10_000)))
    lookup = RelationLookup(kb)
    for k, text in enumerate(HOSTILE):
        match = lookup.relation(f"rel {text}")
        assert str(match.relation.iri) == f"{EX}r{k}"
        found, record = lookup.values(f"thing {text}", match)
        assert [t for t, _ in found] == [Literal(text)], (text, record)
    assert len(list(kb.match(None, None, None, limit=10_000))) == before


def test_a_kb_that_spells_a_value_its_own_way_is_linked_by_a_wordnet_synonym_and_truths_read_yes_no(scene):
    kb = MemoryKB()
    kb.add(EX + "grey", RDFS.label, Literal("grey"))
    kb.add(EX + "grey", EX + "isNeutral", Literal("true", XSD.boolean))
    links = RelationLookup(kb).link("gray")
    assert [(str(k.entity), k.method) for k in links] == [(EX + "grey", "synonym")]
    a = run(kb, scene, 'kb_query["is neutral"](query_color(unique(filter_shape[sphere](filter_size[small](scene())))))')
    assert a.value == "yes"


def test_relation_names_in_messages_are_cut_and_escaped():
    from nsreason.kb import MemoryKB
    from nsreason.kb.terms import RDFS, XSD, Literal

    kb = MemoryKB()
    kb.add("http://ex.org/metal", "http://ex.org/p1", Literal("true", XSD.boolean))
    kb.add("http://ex.org/p1", RDFS.label, Literal("x" * 100_000))
    kb.add("http://ex.org/metal", "http://ex.org/p2", Literal("3"))
    kb.add("http://ex.org/p2", RDFS.label, Literal("\x1b[2J weight"))
    described = RelationCatalogue.from_kb(kb).describe()
    assert len(described) < 200 and "100,002 chars" in described and "\x1b" not in described
