"""Ranking the facts around a scene's objects against a question, the ranker's files and
training, and the knowledge ops' trace."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nsreason.errors import InputError
from nsreason.kb import Literal
from nsreason.retrieve.ranker import FEATURES, Ranker
from nsreason.retrieve.retriever import Retriever
from tests.retrieve.conftest import concept


def similarity_ranker() -> Ranker:
    """A ranker that scores by question similarity alone (fact text and the named end); the
    scores are logits (a softmax over a question's candidates gives their probabilities),
    so a cosine difference of 0.1 is a factor of e^2."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("fact_sim")] = 20.0
    w[FEATURES.index("other_sim")] = 20.0
    return Ranker(["IsA", "UsedFor", "AtLocation"], np.zeros((3, 384)), np.zeros(3),
                  np.zeros(384), 0.0, w, 0.0)


@pytest.fixture
def retriever(kb, encoder):
    return Retriever(kb, ranker=similarity_ranker(), encoder=encoder)


@pytest.mark.slow
def test_the_object_the_question_describes_answers(retriever):
    r = retriever.retrieve("Which object in this image can be used for transport?",
                           ["Buses", "a banana", "lamp", "unicorn"])
    assert r.links["unicorn"] == [] and r.links["Buses"][0].entity == concept("bus")
    best = r.best
    assert (best.answer, best.side, best.fact.source_label) == ("Buses", "scene", "ConceptNet")
    # the most probable answer first: a softmax over the scores, summed by answer
    probs = [c.probability for c in r.candidates]
    assert probs == sorted(probs, reverse=True) and 0.0 < probs[-1] <= probs[0] <= 1.0
    by_answer = {c.answer: c.probability for c in r.candidates}
    assert sum(by_answer.values()) == pytest.approx(1.0)
    # every fact of every linked object is considered, each from both sides
    assert len(r.candidates) == 2 * (2 + 1 + 1)


@pytest.mark.slow
def test_the_fact_answers_in_its_own_words(retriever):
    best = retriever.retrieve("Where can you find the object in this image?", ["bus"]).best
    assert (best.answer, best.side) == ("a bus stop", "kb")  # the surface phrase, not "bus stop"
    assert retriever.retrieve("What is this?", []).best is None


@pytest.mark.slow
def test_answer_types_come_from_isa_facts(retriever):
    r = retriever.retrieve("Which animal is this?", ["giraffe"])
    scene_side = next(c for c in r.candidates if c.side == "scene")
    assert [t.tail for t in scene_side.types] == [concept("animal")]
    assert scene_side.features["type_sim"] > 0.3


def test_ranker_files_round_trip_and_refuse_other_features(tmp_path):
    ranker = similarity_ranker()
    ranker.save(tmp_path / "r")
    again = Ranker.load(tmp_path / "r")
    assert again.relations == ranker.relations and np.allclose(again.w, ranker.w)
    assert again.source_prior == {} and again.source_feature("ConceptNet") == 0.0
    ranker.source_prior = {"ConceptNet": 1.5}
    ranker.save(tmp_path / "r")
    assert Ranker.load(tmp_path / "r").source_feature("ConceptNet") == 1.5
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    config["features"] = ["fact_sim"]
    (tmp_path / "r" / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="retrain"):
        Ranker.load(tmp_path / "r")
    with pytest.raises(InputError, match="missing"):
        Ranker.load(tmp_path / "nothing")


@pytest.mark.slow
def test_fitting_learns_the_relation_side_and_scorer():
    from nsreason.datasets.fvqa import FvqaQuestion
    from nsreason.train.ranker import QuestionCandidates, cross_validate_fvqa, fit_ranker

    rng = np.random.default_rng(0)
    n = 80
    q = rng.normal(size=(n, 384))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    relation = ["IsA" if x[0] > 0 else ("UsedFor" if x[1] > 0 else "AtLocation") for x in q]
    side = ["kb" if x[2] > 0 else "scene" for x in q]
    questions, candidates = [], []
    for i in range(n):  # the right candidate has the higher fact_sim and the question's relation
        questions.append(FvqaQuestion(str(i), "q", "right", f"img{i}", side[i], (f"f{i}",),
                                      ("h", relation[i], "t")))
        good, bad = rng.uniform(0.5, 1.0), rng.uniform(0.0, 0.5)
        feats = np.zeros((2, len(FEATURES)))
        feats[:, 0] = [bad, good]
        other = "IsA" if relation[i] != "IsA" else "UsedFor"
        # the right fact comes from the source "good" on most questions
        sources = ["bad", "good" if i % 4 else "bad"]
        candidates.append(QuestionCandidates(feats, [other, relation[i]], [side[i], side[i]],
                                             [False, True], ["wrong", "right"], [None, f"f{i}"],
                                             [False, False], sources))
    ranker = fit_ranker(questions, candidates, q)
    assert ranker.w[FEATURES.index("fact_sim")] > 0
    # the source prior: log lift of being right, from the training candidates
    assert ranker.source_prior["good"] > 0 > ranker.source_prior["bad"]
    assert ranker.source_feature("never seen") == 0.0
    lp = [ranker.relation_logprobs(x) for x in q]
    assert np.mean([max(p, key=p.get) == r for p, r in zip(lp, relation)]) > 0.9
    sp = [ranker.side_logprobs(x) for x in q]
    assert np.mean([max(p, key=p.get) == s for p, s in zip(sp, side)]) > 0.9
    cv = cross_validate_fvqa(questions, candidates, q, folds=4)
    assert cv["accuracy"] > 0.9 and cv["fact_recall@1"] == cv["accuracy"]
    with pytest.raises(InputError, match="3 relations"):
        fit_ranker(questions[:1], candidates[:1], q[:1])


@pytest.mark.slow
def test_knowledge_program_traces_links_facts_sources_and_answer(retriever):
    from nsreason.execute import OPS, SymbolicExecutor
    from nsreason.retrieve.ops import knowledge_ops, knowledge_program
    from nsreason.scene.native import scene_from_dict

    scene = scene_from_dict({"format": "nsreason.scene/1", "objects": [
        {"id": "a", "name": "bus"}, {"id": "b", "name": "banana"}]})
    ex = SymbolicExecutor(ops=knowledge_ops(retriever, OPS))
    answer = ex.execute(knowledge_program("Which object in this image can be used for transport?"), scene)
    assert answer.failure is None and answer.value == "bus"
    steps = answer.trace.to_dict()["steps"]
    assert [s["op"] for s in steps] == ["scene", "kb_link", "kb_rank", "kb_answer"]
    link = steps[1]["output"]["objects"][0]
    assert (link["object"], link["entities"][0]["method"]) == ("a", "label")
    ranked = steps[2]["output"]
    assert ranked["considered"] == 6
    used = ranked["candidates"][0]
    assert used["answer"] == "bus" and used["fact"]["source_label"] == "ConceptNet"
    assert used["fact"]["labels"] == ["bus", "UsedFor", "transport"]
    json.dumps(answer.trace.to_dict())  # the whole trace is JSON
    # nothing in the KB: a recorded failure, not a guess
    empty = scene_from_dict({"format": "nsreason.scene/1", "objects": [{"id": "u", "name": "unicorn"}]})
    failed = ex.execute(knowledge_program("What is this?"), empty)
    assert failed.value is None and failed.failure.code == "not_in_kb"


@pytest.mark.slow
def test_an_answer_type_no_scene_object_has_is_looked_for_in_the_kb(kb, encoder):
    """"Which inventor ..." on a scene of a lamp and a bus: no object is an inventor, so the
    fact whose far end is one (Edison, typed by an IsA fact) comes first, whatever the
    ranker's score; where the scene has what is asked for, nothing is reordered."""
    from tests.retrieve.conftest import rel

    kb.add(concept("lamp"), rel("InventedBy"), concept("edison"))
    kb.add(concept("edison"), rel("IsA"), concept("inventor"))
    for name in ("edison", "inventor"):
        kb.add(concept(name), "http://www.w3.org/2000/01/rdf-schema#label", Literal(name))
    retriever = Retriever(kb, ranker=similarity_ranker(), encoder=encoder)
    r = retriever.retrieve("Which inventor is associated with the lamp in this picture?", ["lamp", "bus"])
    assert r.frame.answer_type == "inventor" and r.answer_outside_scene
    best = r.best
    assert (best.answer, best.side, best.type_match) == ("edison", "kb", True)
    assert [retriever.label(t.tail) for t in best.types] == ["inventor"]
    assert best.to_json()["type_match"] is True
    assert not any(c.type_match for c in r.candidates[1:])
    # the scene holds a fruit: the check leaves the ranking to the ranker
    r = retriever.retrieve("Which fruit is in this image?", ["banana", "bus"])
    assert r.frame.answer_type == "fruit" and not r.answer_outside_scene
    assert not any(c.type_match for c in r.candidates)
    # the most probable answer first: a softmax over the scores, summed by answer
    probs = [c.probability for c in r.candidates]
    assert probs == sorted(probs, reverse=True) and 0.0 < probs[-1] <= probs[0] <= 1.0
    by_answer = {c.answer: c.probability for c in r.candidates}
    assert sum(by_answer.values()) == pytest.approx(1.0)
