"""Every kind of trace the engine produces, made live and rendered as a page: symbolic, neural
(attention), tree grounding, knowledge hops, the ranked knowledge path, a GQA scene graph,
failures (a non-unique "the cube", an unknown word). Keeps the page in step with what the
executors, parsers and knowledge ops record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nsreason.scene.io import load_scenes
from nsreason.trace.html import render_html

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CLEVR = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"
FETCH = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:|//)|@import|url\(\s*["']?(?:https?:|//)""", re.I)


def data_of(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="nsr-data">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


def check(page: str, scene, steps: int) -> dict:
    assert not FETCH.search(page)
    assert page.count("data-object=") == len(scene.objects)
    assert page.count("<tr class='step") == steps
    return data_of(page)


@pytest.fixture(scope="module")
def clevr():
    return load_scenes(CLEVR)


@pytest.fixture(scope="module")
def reasoner():
    from nsreason.api import Reasoner

    return Reasoner("clevr", kb=None)


def test_symbolic_and_failures(clevr, reasoner):
    a = reasoner.ask(clevr[1], "How many red things are there?")
    assert a.scene is clevr[1]
    data = check(a.to_html(gold="3"), clevr[1], len(a.trace.steps))
    assert len(data["steps"]["1"]["objects"]) == 3
    unknown = reasoner.ask(clevr[1], "How many glorpy things are there?")
    page = unknown.to_html()
    assert "unknown_word" in page and "glorpy" in page and "did not parse" in page
    cube = reasoner.ask(clevr[1], "What color is the cube?")  # two cubes: not unique, then alternatives
    page = cube.to_html()
    assert "not_unique" in page
    check(page, clevr[1], len(cube.trace.steps))


def test_neural_attention(clevr):
    from nsreason.api import Reasoner

    a = Reasoner("clevr", "neural", kb=None).ask(clevr[1], "What size is the cylinder that is left of the cyan thing?")
    data = check(a.to_html(), clevr[1], len(a.trace.steps))
    assert any(s["neural"] and len(s["objects"]) == len(clevr[1].objects) for s in data["steps"].values())
    assert "p = " in a.to_html()  # the answer's probability


def test_tree_grounding_and_the_verified_parse():
    from nsreason.api import Reasoner

    refplus = load_scenes(REPO / "tests" / "fixtures" / "clevr_refplus_scenes_small.json")[0]
    text = "Any other things that are the same size as the second one of the thing(s) from left"
    g = Reasoner(parser="tree").ground(refplus, text)
    page = g.trace.to_html(refplus)
    check(page, refplus, 1)
    assert "class='tree'" in page
    verified = Reasoner("clevr", kb=None).ground(refplus, text)
    assert "Checked by the tree grounder" in verified.trace.to_html(refplus)


def test_knowledge_hops(clevr):
    from nsreason.api import Reasoner

    a = Reasoner("clevr", kb=[str(REPO / "examples" / "knowledge" / "workshop.ttl")]).ask(
        clevr[1], "Who invented the common use of the material of the large cyan cube?")
    page = a.to_html()
    check(page, clevr[1], len(a.trace.steps))
    assert page.count("Knowledge relation") == 2 and "workshop.ttl" in page


def test_ranked_knowledge_path():
    from nsreason.api import Reasoner

    scene = load_scenes(REPO / "examples" / "knowledge" / "teddy_bear_scene.json")[0]
    a = Reasoner("clevr", kb=["default", str(REPO / "examples" / "knowledge" / "teddy_bear.ttl")]).ask(
        scene, "Which American president is associated with the stuffed animal seen here?")
    page = a.to_html()
    data = check(page, scene, len(a.trace.steps))
    assert "Facts ranked" in page and "Objects linked to the KB" in page and "Wikipedia" in page
    rank = next(s for s in a.trace.steps if s.op == "kb_rank")
    assert list(data["steps"][str(rank.index)]["objects"]) == ["bear"]


def test_gqa_scene_graph(reasoner):
    gqa = load_scenes(REPO / "tests" / "fixtures" / "gqa_val_scene_graphs_3.json")[0]
    a = reasoner.ask(gqa, "What is the man wearing?")
    data = check(render_html(a.trace, gqa), gqa, len(a.trace.steps))
    relate = next(s for s in a.trace.steps if s.op == "relate")
    assert data["steps"][str(relate.index)]["edges"], "the relate step names the relations it followed"
