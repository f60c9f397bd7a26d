"""Compositionally new questions (nsreason.datasets.clevr.compositional): programs that run
to their answers, release files that load, clean texts, and shapes no template produces."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from nsreason.datasets.clevr import SYNONYMS, load_clevr_questions, load_templates
from nsreason.datasets.clevr.compositional import (
    KINDS,
    OFFICIAL_STRUCTURES,
    compositional_templates,
    generate_compositional,
    is_novel,
    main,
    program_structure,
    template_structure,
)
from nsreason.errors import InputError
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from tests.conftest import EXAMPLES_DATA, shared_path
from tests.datasets.conftest import check_questions, check_text

SAMPLE_SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"


@pytest.fixture(scope="module")
def scenes():
    return load_clevr_scenes(SAMPLE_SCENES)


@pytest.fixture(scope="module")
def questions(scenes):
    return generate_compositional(scenes, per_kind=3, seed=0)


def test_every_kind_is_made_and_executes(questions, scenes):
    kinds = Counter(q["composition"] for q in questions)
    assert set(kinds) == set(KINDS) and min(kinds.values()) >= 3
    check_questions(questions, scenes)
    for q in questions:
        check_text(q["question"])
    assert [q["question_index"] for q in questions] == list(range(len(questions)))


def test_deterministic_for_a_seed(scenes, questions):
    assert generate_compositional(scenes, per_kind=3, seed=0) == questions
    assert generate_compositional(scenes, per_kind=3, seed=1) != questions


def test_release_format_loads(questions, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"info": {}, "questions": questions}))
    loaded = load_clevr_questions(path)
    assert [q.answer for q in loaded] == [q["answer"] for q in questions]
    assert [q.program for q in loaded] == [Program.from_clevr(q["program"]) for q in questions]


def test_structures_are_novel(questions):
    for q in questions:
        assert is_novel(Program.from_clevr(q["program"])), q["question"]
    for kind, templates in compositional_templates().items():
        assert templates and kind in KINDS
        for t in templates:
            assert template_structure(t) not in OFFICIAL_STRUCTURES, (kind, t.family)
    # the check does recognise template questions: the bundled official sample
    sample = json.loads((EXAMPLES_DATA / "clevr_val_sample_questions.json").read_text())
    for q in sample["questions"]:
        assert not is_novel(Program.from_clevr(q["program"])), q["question"]


def test_what_each_kind_composes(questions):
    for q in questions:
        ops = Counter(n["function"] for n in q["program"])
        shape = program_structure(Program.from_clevr(q["program"]))
        if q["composition"] == "and_or_clause":  # a clause ("the X <R> the Y") in and/or
            assert ops["intersect"] + ops["union"] == 1
            assert "relate unique relate" in shape
        elif q["composition"] == "comparison_clause":
            assert shape.split()[-1].startswith(("equal_", "greater_than"))
        else:
            assert ops["relate"] == 4 and ops["unique"] >= 4


def test_unknown_kind(scenes):
    with pytest.raises(InputError, match="unknown composition kind"):
        generate_compositional(scenes, kinds=["sarcasm"])


def test_cli(tmp_path):
    out = tmp_path / "c.json"
    assert main(["--scenes", str(SAMPLE_SCENES), "--out", str(out), "--per-kind", "1",
                 "--kinds", "deeper_nesting"]) == 0
    loaded = json.loads(out.read_text())["questions"]
    assert loaded and {q["composition"] for q in loaded} == {"deeper_nesting"}
    assert len(load_clevr_questions(out)) == len(loaded)


# -- with the official templates and data (../shared/data) ----------------------------------
@pytest.mark.data
@pytest.mark.slow
def test_official_structures_match_the_templates():
    templates = load_templates(shared_path("clevr", "templates"))
    assert {template_structure(t) for t in templates} == OFFICIAL_STRUCTURES
    val = json.loads(shared_path("clevr", "val", "CLEVR_val_questions.json").read_text())
    assert not any(is_novel(Program.from_clevr(q["program"])) for q in val["questions"])


@pytest.mark.data
def test_same_phrase_vocabulary_on_val_scenes():
    templates = load_templates(shared_path("clevr", "templates"))
    scenes = load_clevr_scenes(shared_path("clevr", "val", "CLEVR_val_scenes.json"))[:15]
    stats: dict = {}
    qs = generate_compositional(scenes, per_kind=1, seed=0, stats=stats)
    assert all(stats[k]["made"] >= 12 and stats[k]["not_novel"] == 0 for k in KINDS), stats
    check_questions(qs, scenes)
    words = set()
    for t in templates:
        for text in t.texts:
            words.update(re.findall(r"[a-z]+", re.sub(r"<[A-Z]\d*>", " ", text.lower())))
    for values in SYNONYMS.values():
        for v in values:
            words.update(v.split())
    words |= {"gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow", "cylinder"}
    words |= {w + "s" for w in words}
    for q in qs:
        assert set(re.findall(r"[a-z]+", q["question"].lower())) <= words, q["question"]
