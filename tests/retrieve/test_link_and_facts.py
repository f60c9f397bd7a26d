"""Entity linking by label, alias and normalised forms; facts with provenance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nsreason.retrieve.facts import entity_facts, local_name
from nsreason.retrieve.link import EntityLinker, normalise, variants
from tests.retrieve.conftest import CONCEPTNET, concept, rel


def test_labels_aliases_and_plurals_link(kb):
    linker = EntityLinker(kb)
    assert [(str(k.entity), k.method) for k in linker.link("Bus")] == [(concept("bus"), "label")]
    assert [k.entity for k in linker.link("Buses")] == [concept("bus")]  # "buses" -> bus
    assert [k.entity for k in linker.link("a lantern.")] == [concept("lamp")]  # alias, article
    assert [k.entity for k in linker.link("giraffes")] == [concept("giraffe")]
    assert linker.link("unicorn") == [] and linker.link("") == []
    assert "labels" in repr(linker)


@given(st.text(max_size=40))
def test_variants_never_crash_and_start_normalised(text):
    forms = variants(text)
    assert all(f == normalise(f) and f for f in forms)
    assert len(set(forms)) == len(forms)


def test_facts_carry_source_licence_and_surface(kb):
    facts = entity_facts(kb, concept("bus"))
    triples = {(f.head, f.relation, f.tail) for f in facts}
    assert triples == {(concept("bus"), rel("UsedFor"), concept("transport")),
                       (concept("bus"), rel("AtLocation"), concept("bus_stop"))}
    used = next(f for f in facts if f.relation == rel("UsedFor"))
    assert used.source == CONCEPTNET and used.source_label == "ConceptNet"
    assert used.licence == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert used.notes["surface"] == "[[A bus]] is used for [[transport]]"
    assert used.spans() == ["A bus", "transport"]
    # the reified "bus IsA fruit" is not asserted: not a fact
    assert (concept("bus"), rel("IsA"), concept("fruit")) not in triples


def test_facts_without_reification_come_from_plain_triples():
    from nsreason.kb import IRI, MemoryKB

    kb = MemoryKB([(IRI("urn:a"), IRI("urn:likes"), IRI("urn:b"))])
    (fact,) = entity_facts(kb, IRI("urn:b"))
    assert (fact.head, fact.relation, fact.source) == (IRI("urn:a"), IRI("urn:likes"), None)
    assert local_name(IRI("urn:likes")) == "likes"
