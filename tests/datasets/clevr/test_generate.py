"""Template instantiation (nsreason.datasets.clevr): programs that run to their
answers, release files that load, clean texts, official-like distributions."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter

import pytest

from nsreason.datasets.clevr import (
    ClevrTemplate,
    expand_program,
    fill_text,
    generate_questions,
    load_clevr_questions,
    load_templates,
    text_coverage,
    text_patterns,
    text_skeleton,
)
from nsreason.datasets.clevr.generate import main
from nsreason.errors import InputError
from nsreason.execute import SymbolicExecutor
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from tests.conftest import EXAMPLES_DATA, shared_path
from tests.datasets.conftest import check_questions, check_text

SAMPLE_SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"
OBJ = ["<Z>", "<C>", "<M>", "<S>"]
OBJ2 = ["<Z2>", "<C2>", "<M2>", "<S2>"]
OBJ3 = ["<Z3>", "<C3>", "<M3>", "<S3>"]


def _params(*names: str) -> list[dict[str, str]]:
    types = {"Z": "Size", "C": "Color", "M": "Material", "S": "Shape", "R": "Relation"}
    return [{"type": types[n[1]], "name": n} for n in names]


# Small templates in the official format (the official files live in ../shared/data).
MINI = [
    {"text": ["What color is the <Z> <C> <M> <S>?", "The <Z> <C> <M> <S> is what color?"],
     "nodes": [{"type": "scene", "inputs": []},
               {"type": "filter_unique", "inputs": [0], "side_inputs": OBJ},
               {"type": "query_color", "inputs": [1]}],
     "params": _params(*OBJ), "constraints": [{"type": "NULL", "params": ["<C>"]}]},
    {"text": ["How many <Z2> <C2> <M2> <S2>s are <R> the <Z> <C> <M> <S>?",
              "There is a <Z> <C> <M> <S>; how many <Z2> <C2> <M2> <S2>s are <R> it?"],
     "nodes": [{"type": "scene", "inputs": []},
               {"type": "filter_unique", "inputs": [0], "side_inputs": OBJ},
               {"type": "relate_filter_count", "inputs": [1], "side_inputs": ["<R>", *OBJ2]}],
     "params": _params(*OBJ, "<R>", *OBJ2), "constraints": []},
    {"text": ["Are there more <Z> <C> <M> <S>s than <Z2> <C2> <M2> <S2>s?"],
     "nodes": [{"type": "scene", "inputs": []},
               {"type": "filter_count", "inputs": [0], "side_inputs": OBJ},
               {"type": "scene", "inputs": []},
               {"type": "filter_count", "inputs": [2], "side_inputs": OBJ2},
               {"type": "greater_than", "inputs": [1, 3]}],
     "params": _params(*OBJ, *OBJ2), "constraints": [{"type": "OUT_NEQ", "params": [1, 3]}]},
    {"text": [("What is the size of the <Z3> <C3> <M3> <S3> that is [both] <R2> the "
              "<Z2> <C2> <M2> <S2> and <R> the <Z> <C> <M> <S>?")],
     "nodes": [{"type": "scene", "inputs": []},
               {"type": "filter_unique", "inputs": [0], "side_inputs": OBJ},
               {"type": "relate", "inputs": [1], "side_inputs": ["<R>"]},
               {"type": "scene", "inputs": []},
               {"type": "filter_unique", "inputs": [3], "side_inputs": OBJ2},
               {"type": "relate", "inputs": [4], "side_inputs": ["<R2>"]},
               {"type": "intersect", "inputs": [2, 5]},
               {"type": "filter_unique", "inputs": [6], "side_inputs": OBJ3},
               {"type": "query_size", "inputs": [7]}],
     "params": _params(*OBJ, "<R>", *OBJ2, "<R2>", *OBJ3),
     "constraints": [{"type": "OUT_NEQ", "params": [2, 5]}, {"type": "NULL", "params": ["<Z3>"]}]},
    {"text": [("Are there any other things that are [made of] the same material as the "
              "<Z> <C> <M> <S>?"), ("Is there another <Z2> <C2> <M2> <S2> of the same material "
              "as the <Z> <C> <M> <S>?")],
     "nodes": [{"type": "scene", "inputs": []},
               {"type": "filter_unique", "inputs": [0], "side_inputs": OBJ},
               {"type": "same_material", "inputs": [1]},
               {"type": "filter_exist", "inputs": [2], "side_inputs": OBJ2}],
     "params": _params(*OBJ, *OBJ2),
     "constraints": [{"type": "NULL", "params": ["<M>"]}, {"type": "NULL", "params": ["<M2>"]}]},
]


@pytest.fixture(scope="module")
def scenes():
    return load_clevr_scenes(SAMPLE_SCENES)


@pytest.fixture(scope="module")
def templates():
    return [ClevrTemplate.from_dict(t, "mini.json", i) for i, t in enumerate(MINI)]


@pytest.fixture(scope="module")
def questions(scenes, templates):
    return generate_questions(scenes, templates=templates, per_scene=5, seed=3)


def test_questions_execute_to_their_answers(questions, scenes):
    assert len(questions) >= 10
    assert {q["question_family_index"] for q in questions} == set(range(len(MINI)))
    check_questions(questions, scenes)


def test_deterministic_for_a_seed(scenes, templates, questions):
    again = generate_questions(scenes, templates=templates, per_scene=5, seed=3)
    assert again == questions
    other = generate_questions(scenes, templates=templates, per_scene=5, seed=4)
    assert other != questions


def test_release_format_loads(questions, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"info": {}, "questions": questions}))
    loaded = load_clevr_questions(path)
    assert [q.question for q in loaded] == [q["question"] for q in questions]
    assert [q.answer for q in loaded] == [q["answer"] for q in questions]
    assert [q.family for q in loaded] == [q["question_family_index"] for q in questions]
    for q, raw in zip(loaded, questions):
        assert q.program == Program.from_clevr(raw["program"])
        assert set(raw) >= {"question", "program", "answer", "image_index", "split",
                            "question_family_index", "template_filename"}
        assert all(set(n) == {"function", "inputs", "value_inputs"} for n in raw["program"])


def test_texts_are_clean(questions):
    for q in questions:
        check_text(q["question"])


def test_constraints_and_expansion(questions):
    for q in questions:
        fs = [n["function"] for n in q["program"]]
        assert not any(f in ("filter_unique", "filter_count", "relate_filter_count") for f in fs)
        if q["question_family_index"] == 0:  # NULL <C>: the color asked is never given
            assert "filter_color" not in fs
        if q["question_family_index"] == 4:
            assert "filter_material" not in fs
    # filters in release order (size, color, material, shape), then unique
    t = ClevrTemplate.from_dict(MINI[1], "mini.json", 1)
    nodes = expand_program(t, {"<Z>": "large", "<C>": "red", "<M>": "metal", "<S>": "cube",
                               "<R>": "left", "<Z2>": "", "<C2>": "blue", "<M2>": "",
                               "<S2>": "sphere"})
    assert [(n["function"], n["inputs"], n["value_inputs"]) for n in nodes] == [
        ("scene", [], []), ("filter_size", [0], ["large"]), ("filter_color", [1], ["red"]),
        ("filter_material", [2], ["metal"]), ("filter_shape", [3], ["cube"]), ("unique", [4], []),
        ("relate", [5], ["left"]), ("filter_color", [6], ["blue"]),
        ("filter_shape", [7], ["sphere"]), ("count", [8], []),
    ]


def test_out_neq_compares_the_counted_sets(scenes, templates):
    qs = generate_questions(scenes, templates=[templates[2]], per_scene=1, seed=0)
    ex = SymbolicExecutor()
    by_index = {s.meta["image_index"]: s for s in scenes}
    for q in qs:
        steps = ex.execute(Program.from_clevr(q["program"]), by_index[q["image_index"]]).trace.steps
        counts = [s for s in steps if s.op == "count"]
        assert steps[counts[0].inputs[0]].output != steps[counts[1].inputs[0]].output


def test_fill_text():
    rng = random.Random(0)
    vals = {"<Z>": "", "<C>": "", "<M>": "", "<S>": "", "<R>": "front", "<S2>": "sphere"}
    texts = {fill_text("How many <Z2> <C2> <M2> <S2>s are [there] <R> the <Z> <C> <M> <S>?",
                       vals, rng) for _ in range(40)}
    assert {"How many spheres are in front of the thing?", ("How many balls are there in front "
            "of the object?")} <= texts
    assert all("  " not in t for t in texts)
    # one synonym per placeholder, a/an agreement, "other" dropped for distinct objects
    t = fill_text("Is there a <Z> <C> <M> <S>; is it <R> a <Z> <S>?",
                  {"<M>": "metal", "<R>": "left", "<Z>": "large"}, random.Random(5))
    assert t.count("large") + t.count("big") == 2 and ("large" in t) != ("big" in t)
    assert fill_text("Is there a <M> <S>?", {"<M>": "rubber", "<S>": "cube"},
                     random.Random(0)) in {"Is there a rubber cube?", "Is there a rubber block?",
                                           "Is there a matte cube?", "Is there a matte block?"}
    assert fill_text("Is there a <Z> <S>?", {}, random.Random(1)) in {
        "Is there a thing?", "Is there an object?"}
    other = "Is there another <C2> <S2> that has the same size as the <C> <S>?"
    assert "another" not in fill_text(other, {"<C>": "red", "<C2>": "blue"}, random.Random(0))
    assert "another" in fill_text(other, {"<C>": "red", "<S2>": "cube"}, random.Random(0))


def test_skeletons_and_patterns(templates):
    assert text_skeleton("How many big shiny balls are to the left of an object?") == (
        "how many Z M Ss are R a S")
    pats = text_patterns(templates[1])
    for text in ("How many things are left of the red cube?",
                 "There is a large ball; how many tiny things are on the left side of it?"):
        assert any(p.fullmatch(text_skeleton(text) + " ") for p in pats), text
    for text in ("How many red cubes are there?", ("How many red things are left of the cube "
                 "and behind the sphere?")):
        assert not any(p.fullmatch(text_skeleton(text) + " ") for p in pats), text


def test_bad_templates_are_refused(tmp_path):
    with pytest.raises(InputError, match="unknown node type"):
        ClevrTemplate.from_dict({"text": ["x?"], "nodes": [{"type": "fly", "inputs": []}]})
    with pytest.raises(InputError, match="unknown constraint"):
        ClevrTemplate.from_dict({**MINI[0], "constraints": [{"type": "MAYBE", "params": []}]})
    with pytest.raises(InputError, match="no CLEVR template files"):
        load_templates(tmp_path)


def test_cli(tmp_path, templates):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "mini.json").write_text(json.dumps([t.to_dict() for t in templates]))
    out = tmp_path / "out.json"
    assert main(["--scenes", str(SAMPLE_SCENES), "--out", str(out), "--per-scene", "2",
                 "--seed", "1", "--templates", str(folder)]) == 0
    loaded = load_clevr_questions(out)
    assert 1 <= len(loaded) <= 6
    assert main(["--scenes", str(tmp_path / "none.json"), "--out", str(out)]) == 2


# -- with the official templates and data (../shared/data) ----------------------------------
@pytest.fixture(scope="module")
def official_templates():
    return load_templates(shared_path("clevr", "templates"))


@pytest.mark.data
@pytest.mark.slow
def test_official_templates_cover_all_families(official_templates):
    val_scenes = load_clevr_scenes(shared_path("clevr", "val", "CLEVR_val_scenes.json"))[:18]
    stats: dict = {}
    qs = generate_questions(val_scenes, templates=official_templates, per_scene=10, seed=0,
                            stats=stats)
    assert len(official_templates) == 90
    families = Counter((q["template_filename"], q["question_family_index"]) for q in qs)
    assert len(families) == 90 and max(families.values()) - min(families.values()) <= 2
    assert stats["executor_rejected"] == 0 and stats["rejection_rate"] < 0.3
    check_questions(qs, val_scenes)
    for q in qs:
        check_text(q["question"])
    # lengths like the official questions of the same scenes
    official = [q for q in json.loads(shared_path("clevr", "val", "CLEVR_val_questions.json")
                                      .read_text())["questions"] if q["image_index"] < 18]
    mine = statistics.mean(len(q["question"].split()) for q in qs)
    theirs = statistics.mean(len(q["question"].split()) for q in official)
    assert abs(mine - theirs) < 1.5
    # every text the filler wrote matches its own template's patterns
    assert text_coverage(qs, official_templates)["own_template"] == 1.0
    # filter chains in the order of the official files: size, color, material, shape
    assert {c for q in official for c in _chains(q["program"])} >= {
        c for q in qs for c in _chains(q["program"])}


def _chains(program):
    """Each chain of attribute filters (followed through the inputs) as a tuple."""
    rank = {"filter_size": 0, "filter_color": 1, "filter_material": 2, "filter_shape": 3}
    out = set()
    for node in program:
        chain = []
        j = node["inputs"][0] if node["inputs"] else None
        while j is not None and program[j]["function"] in rank:
            chain.append(program[j]["function"])
            j = program[j]["inputs"][0]
        if chain and node["function"] not in rank:
            chain.reverse()
            assert [rank[f] for f in chain] == sorted(rank[f] for f in chain)
            out.add(tuple(chain))
    return out


@pytest.mark.data
@pytest.mark.slow
def test_official_texts_are_producible(official_templates):
    val = json.loads(shared_path("clevr", "val", "CLEVR_val_questions.json").read_text())
    cov = text_coverage(val["questions"], official_templates)
    assert cov["own_template"] >= 0.99, cov["misses"]
