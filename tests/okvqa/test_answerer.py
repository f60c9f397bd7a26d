"""The ``kb`` OK-VQA answerer (nsreason.okvqa): KB candidates and their cache, features,
reranker, stacking on the training folds."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("sklearn")

from nsreason.datasets.okvqa import Detection, OkvqaAnswers, OkvqaQuestion, detection_scene
from nsreason.encode.text import EmbeddingStore
from nsreason.errors import InputError
from nsreason.eval.okvqa import evaluate_okvqa
from nsreason.okvqa import OKVQA_ANSWERERS, KbPlugin, TrainingExample, get_answerer, image_folds
from nsreason.okvqa.features import answer_targets
from nsreason.okvqa.reranker import fit_reranker
from nsreason.retrieve.answer_cache import KbCandidate, RetrievalCache, aggregate
from nsreason.retrieve.answer_candidates import (
    FEATURES,
    CandidateModels,
    Candidates,
    NeighbourVotes,
    Vectors,
    build_candidates,
    scene_labels,
)
from tests.conftest import shared_path

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

_WORDS = re.compile(r"[a-z0-9]+")


def hashing_encode(texts, dim: int = 64) -> np.ndarray:
    """A deterministic bag-of-words encoder (no model): unit rows."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in _WORDS.findall(t.lower()) or ["_"]:
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % dim] += 1.0
        out[i] /= np.linalg.norm(out[i])
    return out


class HashingEncoder:
    """:func:`hashing_encode` as an encoder of an :class:`EmbeddingStore`."""

    name, dim = "hashing", 64

    def encode(self, texts):
        return hashing_encode(texts, self.dim)


def hashing_vectors() -> Vectors:
    return Vectors(EmbeddingStore(HashingEncoder()))


def col(name: str) -> int:
    return FEATURES.index(name)


# -- KB candidates and their cache ---------------------------------------------------------

@dataclass(frozen=True)
class FakeFact:
    head: str
    relation: str
    tail: str
    notes: dict = field(default_factory=dict, hash=False, compare=False)

    def to_json(self, labels=None):
        out = {"head": self.head, "relation": self.relation, "tail": self.tail, "source": "test"}
        if self.notes:
            out["notes"] = dict(self.notes)
        return out


@dataclass
class FakeCandidate:
    answer: str
    side: str
    score: float
    fact: FakeFact


def _retrieved():
    f1 = FakeFact("giraffe", "AtLocation", "Africa", {"surface": "[[giraffe]] lives in [[Africa]]", "x": "y"})
    f2 = FakeFact("giraffe", "IsA", "mammal")
    return [FakeCandidate("Africa", "kb", -1.0, f1), FakeCandidate("giraffe", "scene", -1.5, f2),
            FakeCandidate("africa.", "kb", -2.0, f2), FakeCandidate("The mammal", "kb", -3.0, f2),
            FakeCandidate("", "kb", -4.0, f2)]


def test_aggregate_folds_answers_by_normal_form():
    out = aggregate(_retrieved(), {})
    assert [c.answer for c in out] == ["africa", "giraffe", "mammal"]  # "" dropped
    assert [c.rank for c in out] == [0, 1, 2]
    africa = out[0]
    assert africa.side == "kb" and africa.score == -1.0 and africa.votes == 2
    assert africa.fact["tail"] == "Africa" and africa.fact["surface"].startswith("[[giraffe]]")
    assert "notes" not in africa.fact
    assert [c.answer for c in aggregate(_retrieved(), {}, top=2)] == ["africa", "giraffe"]
    assert KbCandidate.from_json(json.loads(json.dumps(africa.to_json()))) == africa


class FakeRetriever:
    def __init__(self):
        self.calls = 0

    def retrieve(self, question, mentions, question_vector=None):
        self.calls += 1
        return SimpleNamespace(candidates=_retrieved(), labels={})


def test_retrieval_cache_computes_once_and_persists(tmp_path):
    path = tmp_path / "okvqa" / "r.jsonl"
    fake = FakeRetriever()
    cache = RetrievalCache(lambda: fake, path)
    first = cache.get("Where does it live?", ["giraffe", "tree"])
    assert cache.get("Where does it live?", ["giraffe", "tree"]) == first and fake.calls == 1
    cache.get("Where does it live?", ["giraffe"])  # other labels: another entry
    assert fake.calls == 2 and cache.computed == 2
    assert cache.get("Anything?", []) == [] and fake.calls == 2  # no labels, no retrieval
    with path.open("a") as f:
        f.write('{"key": "torn')  # an interrupted run's last line
    again = RetrievalCache(None, path)  # no retriever: answers from disk only
    assert len(again) == 3 and again.get("Where does it live?", ["giraffe", "tree"]) == first
    with pytest.raises(LookupError, match="no retriever"):
        again.get("New question?", ["giraffe"])


def test_retrieval_cache_fill_skips_cached(tmp_path):
    fake = FakeRetriever()
    cache = RetrievalCache(lambda: fake, tmp_path / "r.jsonl")
    cache.get("q1", ["a"])
    seen = []
    n = cache.fill([("q1", ["a"]), ("q2", ["a"]), ("q2", ["a"]), ("q3", ["b"])],
                   progress=lambda i, n, s: seen.append((i, n)))
    assert n == 2 and fake.calls == 3 and seen[-1] == (2, 2)


# -- vectors, targets, generators -----------------------------------------------------------

def _scene(image_id, *labels):
    return detection_scene(image_id, [Detection(lab, src, r) for r, (lab, src) in enumerate(labels)])


def test_vectors_image_has_one_part_per_detector():
    v = hashing_vectors()
    s = _scene(1, ("giraffe", "coco"), ("zebra", "coco"), ("savanna", "places"))
    img = v.image(s)
    assert img.shape == (3 * 64,)
    assert np.allclose(img[:64], (hashing_encode(["giraffe"])[0] + hashing_encode(["zebra"])[0]) / 2)
    assert not img[128:].any()  # no ImageNet label
    key = v.neighbour_key("What is this?", s)
    assert key.shape == (4 * 64,) and np.isclose(np.linalg.norm(key), 1.0)
    assert scene_labels(_scene(2, ("dog", "coco"), ("dog", "imagenet"))) == ["dog"]


def test_answer_targets_normalise_and_score():
    t = answer_targets(OkvqaAnswers(1, 1, {"2": 4, "dog": 1, "dogs": 0}))
    assert t == {"2": 1.0, "dog": pytest.approx(0.3)}


def test_neighbour_votes_share_and_order():
    V = np.eye(3, dtype=np.float32)
    nv = NeighbourVotes(k=2).fit(V, [{"a": 1.0}, {"b": 1.0}, {"a": 0.5, "c": 1.0}])
    (votes,) = nv.votes(np.array([[1.0, 0.0, 0.5]], dtype=np.float32))
    assert [a for a, _ in votes] == ["a", "c"]  # rows 0 and 2: a 1 + 0.25, c 0.5
    assert sum(v for _, v in votes) == pytest.approx(1.0)
    assert votes[0][1] == pytest.approx(1.25 / 1.75)


class FakeClassifier:
    def __init__(self):
        self.classes = ["africa", "tree", "2"]

    def top_answers(self, X, k=10):
        return [[("tree", 0.6), ("2", 0.3), ("africa", 0.1)][:k] for _ in range(len(X))]


class FakePrior:
    def predict(self, question):
        return "2", 1.0, "how many"


def _models():
    return CandidateModels(FakeClassifier(), NeighbourVotes(k=1).fit(np.eye(2, dtype=np.float32), [{"tree": 1.0}, {"cat": 1.0}]),
                      {"tree": 9.0, "africa": 1.0}, FakePrior())


def test_build_candidates_features():
    v = hashing_vectors()
    s = _scene(5, ("giraffe", "coco"), ("savanna", "places"))
    kb = aggregate(_retrieved(), {})
    (c,) = build_candidates(_models(), v, ["Where do giraffe live?"], [s], np.zeros((1, 4)),
                            np.array([[0.0, 1.0]], dtype=np.float32), [kb])
    assert set(c.answers) == {"tree", "2", "africa", "cat", "giraffe", "savanna", "mammal"}
    row = {a: dict(zip(FEATURES, c.X[i])) for i, a in enumerate(c.answers)}
    assert row["tree"]["clf_p"] == pytest.approx(0.6) and row["tree"]["clf_rank"] == 0
    assert row["tree"]["in_kb"] == 0 and row["tree"]["log_freq"] == pytest.approx(np.log1p(9.0))
    assert row["cat"]["knn_vote"] == pytest.approx(1.0) and row["cat"]["in_vocab"] == 0
    assert row["giraffe"]["is_label"] == 1 and row["giraffe"]["label_coco"] == 1
    assert row["giraffe"]["in_question"] == 1 and row["giraffe"]["kb_side"] == 0
    assert row["savanna"]["label_places"] == 1 and row["savanna"]["label_rank"] == pytest.approx(np.log1p(1))
    assert row["africa"]["in_kb"] == 1 and row["africa"]["kb_side"] == 1 and row["africa"]["kb_votes"] == pytest.approx(np.log1p(2))
    assert row["africa"]["clf_p"] == pytest.approx(0.1)
    assert row["2"]["prior"] == 1 and row["2"]["numeric"] == 1
    assert row["mammal"]["kb_rank"] == pytest.approx(np.log1p(2)) and row["mammal"]["clf_rank"] == 4.0
    # a fact for the answers the KB proposed as the fact's far end only
    assert set(c.facts) == {"africa", "mammal"} and c.facts["africa"]["tail"] == "Africa"


def test_reranker_learns_which_feature_pays():
    rng = np.random.default_rng(0)
    cands, accs = [], []
    for _ in range(60):
        X = rng.normal(size=(5, len(FEATURES))).astype(np.float32)
        X[:, col("is_label")] = 0
        right = int(rng.integers(5))
        X[right, col("is_label")] = 1
        cands.append(Candidates([f"a{j}" for j in range(5)], X, {f"a{right}": {"head": "h"}}))
        accs.append([1.0 if j == right else 0.0 for j in range(5)])
    rr = fit_reranker(cands, accs, max_iter=50)
    X = np.zeros((3, len(FEATURES)), dtype=np.float32)
    X[2, col("is_label")] = 1
    scores = rr.predict(X)
    assert int(np.argmax(scores)) == 2 and scores[2] > 0.5


# -- the answerer, end to end on a toy data set ---------------------------------------------

ANIMALS = ["giraffe", "zebra", "elephant", "dog"]


def _toy(n: int = 48):
    """"What animal is this?" answered by the COCO label; "where does it live?" by the KB
    (the fake retriever's far end: 'africa')."""
    questions, answers, scenes = [], {}, {}
    for i in range(n):
        animal = ANIMALS[i % len(ANIMALS)]
        scenes[i] = _scene(i, (animal, "coco"), ("field", "places"))
        text, truth = (("What animal is this?", {animal: 10}) if i % 2 == 0 else
                       ("Where does this animal live in the wild?", {"africa": 10}))
        questions.append(OkvqaQuestion(1000 + i, i, text))
        answers[1000 + i] = OkvqaAnswers(1000 + i, i, truth)
    return questions, answers, scenes


class ToyRetriever:
    def retrieve(self, question, mentions, question_vector=None):
        f = FakeFact(mentions[0], "AtLocation", "africa")
        return SimpleNamespace(candidates=[FakeCandidate("africa", "kb", -1.0, f),
                                           FakeCandidate(mentions[0], "scene", -2.0, f)], labels={})


def _examples(questions, answers, scenes, fold_of=None):
    return [TrainingExample(q.question_id, q.question, scenes[q.image_id], answers[q.question_id],
                            0 if fold_of is None else fold_of[q.image_id]) for q in questions]


@pytest.mark.slow
def test_kb_answerer_cross_validated_on_a_toy_set(tmp_path):
    questions, answers, scenes = _toy()
    retrieval = RetrievalCache(ToyRetriever, tmp_path / "r.jsonl")
    plugin = KbPlugin(vectors=hashing_vectors(), retrieval=retrieval, top=10, k=3)
    fitted = []
    fit = plugin.fit
    plugin.fit = lambda examples: fitted.append((len(examples), fit(examples))) or fitted[-1][1]
    report = evaluate_okvqa(questions, answers, scenes, answerer=plugin, folds=3)
    assert report["accuracy"] == pytest.approx(1.0) and report["answered"] == len(questions)
    # each fit's models saw its training questions only; the stacking models (without
    # two folds) are shared between fits: 3 + 3 fitted in all
    assert [a.models.neighbours.matrix.shape[0] for _, a in fitted] == [n for n, _ in fitted]
    assert sum(n for n, _ in fitted) == 2 * len(questions) and len(plugin._models) == 6
    answerer = fitted[0][1]
    answer, fact, score = answerer("Where does this animal live in the wild?", scenes[3])
    assert answer == "africa" and fact["tail"] == "africa" and score > 0.5
    answer, fact, _ = answerer("What animal is this?", scenes[2])
    assert answer == "elephant" and fact is None


def test_kb_answerers_are_registered():
    assert {"kb", "kb-without-kb"} <= set(OKVQA_ANSWERERS.names())
    assert get_answerer("kb").kb == ("default",)
    assert get_answerer("kb-without-kb").kb is None and get_answerer("kb-without-kb").retrieval is None


def test_kb_answerer_needs_two_images():
    questions, answers, scenes = _toy(8)
    one_image = [TrainingExample(q.question_id, q.question, scenes[0], answers[q.question_id])
                 for q in questions]
    with pytest.raises(InputError, match="at least 2 images"):
        KbPlugin(kb=None, vectors=hashing_vectors()).fit(one_image)


def test_kb_answerer_without_kb_splits_unfolded_examples_by_image():
    questions, answers, scenes = _toy(16)
    plugin = KbPlugin(kb=None, vectors=hashing_vectors(), top=5, k=2)
    answerer = plugin.fit(_examples(questions, answers, scenes))  # every example in fold 0
    assert len(plugin._models) == 1 + len(set(image_folds(range(16), 4).values()))
    answer, fact, _ = answerer("What animal is this?", scenes[1])
    assert fact is None and answer is not None


# -- a small real subset ----------------------------------------------------------------------

@pytest.mark.data
@pytest.mark.slow
def test_kb_answerer_on_a_real_subset():
    """300 real questions and detections, 3 folds, no KB (retrieval needs the KB's embedding
    store; the full figure is in benchmarks/README.md), a bag-of-words encoder instead of
    MiniLM to stay fast."""
    from nsreason.datasets.okvqa import (
        load_mavex_labels,
        load_okvqa_answers,
        load_okvqa_detections,
        load_okvqa_questions,
        okvqa_scenes,
    )

    root = shared_path("okvqa")
    questions = load_okvqa_questions(root / "questions_train.json")[:300]
    gold = load_okvqa_answers(root / "answers_train.json")
    answers = {q.question_id: gold[q.question_id] for q in questions}
    wanted = {q.image_id for q in questions}
    scenes = okvqa_scenes(*({i: d for i, d in load_okvqa_detections(root / f"detected_{n}.json").items() if i in wanted}
                            for n in ("coco_objects", "places", "imagenet_objects")))
    plugin = KbPlugin(kb=None, vectors=hashing_vectors(), top=50, k=10)
    report = evaluate_okvqa(questions, answers, scenes, answerer=plugin, folds=3,
                            mavex=load_mavex_labels(root / "mavex_knowledge_type_train.json"))
    assert report["answered"] == 300
    assert set(report["by_knowledge_type"]) >= {"kb", "common_sense", "answer_in_image"}
    assert 0.0 < report["accuracy"] < 0.5
