"""Noisy CLEVR scenes (nsreason.datasets.clevr.noise): determinism, ids, valid and
calibrated confidences, the clean scene at level 0, relation probabilities."""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.datasets.clevr.noise import (
    PLACEMENT_MARGIN,
    PREDICATES,
    RELATION_FLOOR,
    NoiseLevel,
    main,
    noisy_scene,
    noisy_scenes,
    quality_scale,
)
from nsreason.errors import InputError, SceneFormatError
from nsreason.execute import SymbolicExecutor
from nsreason.execute.answer import answer_text
from nsreason.scene import load_scenes
from nsreason.scene.clevr import CLEVR_ATTRIBUTES, clevr_domains, load_clevr_scenes
from nsreason.scene.graph import SceneGraph
from nsreason.scene.native import scene_from_dict, scene_to_dict
from tests.conftest import EXAMPLES_DATA, shared_path

SAMPLE_SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"
SAMPLE_QUESTIONS = EXAMPLES_DATA / "clevr_val_sample_questions_generator.json"
DOMAINS = clevr_domains()


@pytest.fixture(scope="module")
def clean() -> list[SceneGraph]:
    return load_clevr_scenes(SAMPLE_SCENES)


def ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error of (confidence, correct) pairs, equal-width bins."""
    sums = [[0, 0.0, 0] for _ in range(bins)]
    for p, ok in pairs:
        b = sums[min(int(p * bins), bins - 1)]
        b[0] += 1
        b[1] += p
        b[2] += ok
    return sum(abs(s - k) for _, s, k in sums) / len(pairs)


def check_valid(scene: SceneGraph, clean: SceneGraph) -> None:
    """Every key has its full domain, confidences in [0, 1] summing to ~1, sorted."""
    assert scene.id == clean.id
    for obj in scene.objects:
        assert obj.confidence is not None and 0.0 <= obj.confidence <= 1.0
        for key in CLEVR_ATTRIBUTES:
            values = [a for a in obj.attributes if a.key == key]
            confs = [a.confidence for a in values]
            assert all(c is not None and 0.0 <= c <= 1.0 for c in confs)
            if len(values) > 1:
                assert sorted(a.value for a in values) == sorted(DOMAINS[key])
                assert abs(sum(confs) - 1.0) < 1e-3
                assert confs == sorted(confs, reverse=True)
        assert obj.name == obj.get("shape")
    for r in scene.relations:
        assert r.predicate in PREDICATES and r.subject != r.object
        assert r.confidence is not None and RELATION_FLOOR <= r.confidence <= 1.0


def test_deterministic_given_the_seed(clean):
    a = noisy_scenes(clean, 1.5, seed=3)
    assert a == noisy_scenes(clean, 1.5, seed=3)
    assert a != noisy_scenes(clean, 1.5, seed=4)
    # a scene's noise does not depend on the scenes after it
    assert noisy_scenes(clean[:1], 1.5, seed=3) == a[:1]
    rng1, rng2 = random.Random(9), random.Random(9)
    level = NoiseLevel(0.1, 0.2, 0.2, 1.0)
    assert noisy_scene(clean[0], level, rng1) == noisy_scene(clean[0], level, rng2)


def test_ids_and_validity_at_every_kind_of_noise(clean):
    for level in (NoiseLevel.at(1.0), NoiseLevel.at(2.0), NoiseLevel(0.2, 0.3, 0.3, 3.0)):
        for seed in range(5):
            for c, n in zip(clean, noisy_scenes(clean, level, seed)):
                check_valid(n, c)
                real = [o.id for o in n.objects if not isinstance(o.id, str)]
                fake = [o.id for o in n.objects if isinstance(o.id, str)]
                assert real == [i for i in c.ids if i in real]  # real objects keep their order
                assert all(f.startswith("spurious-") for f in fake)
                if level.drop == 0.0:
                    assert real == list(c.ids)
                if level.spurious == 0.0:
                    assert not fake and all(o.confidence == 1.0 for o in n.objects)


def test_level_one_is_the_acceptance_setting():
    level = NoiseLevel.at(1.0)
    assert (level.attribute_error, level.drop, level.spurious) == (0.04, 0.0, 0.0)
    assert level.position_sigma > 0.0
    assert NoiseLevel.at(0.0).clean
    assert NoiseLevel.at(2.0).drop > 0.0 and NoiseLevel.at(2.0).spurious > 0.0
    assert NoiseLevel.at(0.5).attribute_error < level.attribute_error < NoiseLevel.at(1.5).attribute_error


def test_level_zero_is_the_clean_scene(clean):
    noisy = noisy_scenes(clean, 0.0, seed=0)
    for c, n in zip(clean, noisy):
        assert n.ids == c.ids
        for co, no in zip(c.objects, n.objects):
            assert [(a.key, a.value) for a in no.attributes] == [
                (a.key, a.value) for a in co.attributes]
            assert all(a.confidence == 1.0 for a in no.attributes)
            assert no.coords == co.coords
        assert {(r.subject, r.predicate, r.object) for r in n.relations} == {
            (r.subject, r.predicate, r.object) for r in c.relations}
    questions = load_clevr_questions(SAMPLE_QUESTIONS)
    executor = SymbolicExecutor()
    by_id = {s.id: s for s in noisy}
    clean_by_id = {s.id: s for s in clean}
    for q in questions:
        on_noisy = executor.execute(q.program, by_id[q.image_index])
        on_clean = executor.execute(q.program, clean_by_id[q.image_index])
        assert on_noisy.value == on_clean.value and on_noisy.failure is None


def test_relation_confidence_is_monotone_in_the_observed_separation(clean):
    """For each predicate, sorting every ordered pair by its observed projected difference
    sorts the relation's confidence too (an absent relation: below the floor)."""
    level = NoiseLevel(0.04, 0.3, 0.0, 0.0)
    points: dict[str, list[tuple[float, float]]] = {p: [] for p in PREDICATES}
    for seed in range(10):
        for n in noisy_scenes(clean, level, seed):
            conf = {(r.subject, r.predicate, r.object): r.confidence for r in n.relations}
            for p in PREDICATES:
                d = n.meta["directions"][p]
                for i in n.objects:
                    for j in n.objects:
                        if i.id != j.id:  # "j is p of i": (c_j - c_i) . d
                            sep = sum((cj - ci) * dk for ci, cj, dk in zip(i.coords, j.coords, d))
                            points[p].append((sep, conf.get((j.id, p, i.id), 0.0)))
    for p, pts in points.items():
        pts.sort()
        confs = [c for _, c in pts]
        assert all(a <= b for a, b in itertools.pairwise(confs)), p
        assert confs[0] < RELATION_FLOOR and confs[-1] == 1.0
        # CLEVR places objects at least 0.4 apart along each direction: an observed
        # separation of 0 is as likely to come from -0.4 as from +0.4
        near = [c for s, c in pts if abs(s) < 0.02]
        assert near and all(0.44 < c < 0.56 for c in near), (p, near)
        assert all(c > 0.9 for s, c in pts if s > PLACEMENT_MARGIN + 0.5)


def test_attribute_confidences_are_calibrated(clean):
    """~2,000 attributes at level 1.0: the top value's confidence matches how often it is
    right (ECE < 0.03), and the top value is right on about 96% of them."""
    pairs = []
    noisy = noisy_scenes(clean * 32, 1.0, seed=0)
    for c, n in zip(clean * 32, noisy):
        for obj in n.objects:
            for key in CLEVR_ATTRIBUTES:
                top = next(a for a in obj.attributes if a.key == key)
                pairs.append((top.confidence, top.value == c.object(obj.id).get(key)))
    assert len(pairs) >= 2000
    assert ece(pairs) < 0.03
    accuracy = sum(ok for _, ok in pairs) / len(pairs)
    assert 0.94 < accuracy < 0.98


def test_relation_confidences_are_calibrated(clean):
    """Listed relations between real objects: confidence matches how often the relation
    holds in the clean scene (CLEVR's placement margin is the prior)."""
    pairs = []
    for c, n in zip(clean * 40, noisy_scenes(clean * 40, NoiseLevel(0.04, 0.3, 0.0, 0.0), seed=2)):
        truth = {(r.subject, r.predicate, r.object) for r in c.relations}
        pairs += [(r.confidence, (r.subject, r.predicate, r.object) in truth)
                  for r in n.relations]
    assert sum(0.1 < p < 0.9 for p, _ in pairs) > 200  # uncertain relations were made
    assert ece(pairs) < 0.03


def test_existence_confidences_are_calibrated(clean):
    pairs = []
    for n in noisy_scenes(clean * 60, NoiseLevel(0.04, 0.15, 0.1, 1.5), seed=1):
        pairs += [(o.confidence, not isinstance(o.id, str)) for o in n.objects]
    assert sum(not real for _, real in pairs) > 100  # spurious objects were made
    assert ece(pairs) < 0.03


@pytest.mark.parametrize("k", [2, 3, 8])
def test_quality_scale_hits_its_error_rate(k):
    """The solved scale gives the target error, checked by simulation (not the integral)."""
    m = quality_scale(0.1, k)
    rng = random.Random(k)
    wrong = 0
    trials = 20000
    for _ in range(trials):
        s = m * math.exp(0.5 * rng.gauss(0.0, 1.0))
        z = [rng.gauss(0.0, 1.0) + (s if v == 0 else 0.0) for v in range(k)]
        wrong += max(range(k), key=z.__getitem__) != 0
    assert abs(wrong / trials - 0.1) < 0.01
    assert quality_scale(0.0, k) == math.inf


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 20).map(lambda i: i / 10), st.integers(0, 2**32 - 1))
def test_any_level_gives_a_native_scene_that_round_trips(clean, level, seed):
    for c, n in zip(clean, noisy_scenes(clean, level, seed)):
        check_valid(n, c)
        data = json.loads(json.dumps(scene_to_dict(n)))
        assert scene_from_dict(data) == n


def test_bad_input_is_a_typed_error(clean):
    with pytest.raises(InputError, match="level"):
        NoiseLevel.at(2.5)
    with pytest.raises(InputError, match="attribute_error"):
        NoiseLevel(0.5, 0.1, 0.0, 0.0)
    with pytest.raises(InputError, match="drop"):
        NoiseLevel(0.1, 0.1, 1.5, 0.0)
    with pytest.raises(InputError, match="position_sigma"):
        NoiseLevel(0.1, float("nan"), 0.0, 0.0)
    bare = SceneGraph(clean[0].objects, id=0)  # no meta["directions"]
    with pytest.raises(SceneFormatError, match="directions"):
        noisy_scene(bare, NoiseLevel.at(1.0), random.Random(0))


def test_command_writes_a_native_file_whose_ids_match_the_questions(tmp_path, capsys):
    out = tmp_path / "noisy.json"
    assert main(["--scenes", str(SAMPLE_SCENES), "--out", str(out), "--level", "1.0"]) == 0
    scenes = load_scenes(out)
    assert scenes == noisy_scenes(load_clevr_scenes(SAMPLE_SCENES), 1.0, seed=0)
    ids = {s.id for s in scenes}
    assert {q.image_index for q in load_clevr_questions(SAMPLE_QUESTIONS)} <= ids
    assert main(["--scenes", str(tmp_path / "missing.json"), "--out", str(out)]) == 2


@pytest.mark.data
def test_real_val_scenes_top_value_rate_and_level_zero_answers():
    scenes = load_clevr_scenes(shared_path("clevr", "val", "CLEVR_val_scenes.json"))[:100]
    noisy = noisy_scenes(scenes, 1.0, seed=0)
    right = total = 0
    for c, n in zip(scenes, noisy):
        check_valid(n, c)
        for obj in n.objects:
            for key in CLEVR_ATTRIBUTES:
                total += 1
                right += obj.get(key) == c.object(obj.id).get(key)
    assert 0.94 < right / total < 0.98
    questions = load_clevr_questions(
        shared_path("clevr", "val", "CLEVR_val_questions_generator.json"))
    clean_ids = {s.id: s for s in noisy_scenes(scenes, 0.0, seed=0)}
    executor = SymbolicExecutor()
    answered = 0
    for q in questions:
        if q.image_index in clean_ids:
            answer = executor.execute(q.program, clean_ids[q.image_index])
            assert answer.failure is None and answer_text(answer.value) == q.answer
            answered += 1
    assert answered >= 900


def test_duplicate_detections_look_real_and_sit_next_to_their_object(clean):
    level = NoiseLevel(0.04, 0.15, 0.0, 1.0, duplicates=3.0)
    seen = 0
    for seed in range(10):
        for c, n in zip(clean, noisy_scenes(clean, level, seed)):
            check_valid(n, c)
            real = {o.id: o for o in n.objects if not isinstance(o.id, str)}
            dups = [o for o in n.objects if isinstance(o.id, str) and o.id.startswith("duplicate-")]
            assert list(real) == list(c.ids)
            for d in dups:
                seen += 1
                nearest = min(real.values(), key=lambda o: math.dist(o.coords[:2], d.coords[:2]))
                assert math.dist(nearest.coords[:2], d.coords[:2]) < 0.6
            assert {o.id for o in n.objects} >= {r.subject for r in n.relations}
    assert seen > 30
    # as confident as real objects on average: the detector score says nothing of duplication
    level = NoiseLevel(0.04, 0.15, 0.0, 1.0, duplicates=3.0)
    confs = {"real": [], "duplicate": []}
    for n in noisy_scenes(clean * 20, level, 0):
        for o in n.objects:
            kind = "duplicate" if isinstance(o.id, str) and o.id.startswith("duplicate-") else (
                "real" if not isinstance(o.id, str) else None)
            if kind:
                confs[kind].append(o.confidence)
    mean = {k: sum(v) / len(v) for k, v in confs.items()}
    assert abs(mean["real"] - mean["duplicate"]) < 0.05
    assert NoiseLevel.at(2.0).duplicates == 0.0
