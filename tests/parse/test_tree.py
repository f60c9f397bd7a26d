"""The syntax-tree grounder (nsreason.parse.tree): tree building on fixed expressions (node
types and structure), grounding on the CLEVR-Ref+ fixture scenes with the shipped weights,
refusals that name what is missing, and the shipped weights' checksums."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nsreason.parse.tree import SHIPPED_TREE, BuildError, TreeNode, build_tree_from_tokens, normalise, simple_tokens

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENES = FIXTURES / "clevr_refplus_scenes_small.json"
REFEXPS = FIXTURES / "clevr_refplus_refexps_small.json"


def shape(node: TreeNode) -> str:
    """A compact form of a tree: kind[op](children) and single words."""
    if node.kind == "single":
        return node.words[0]
    head = node.kind + (f"[{node.op}]" if node.op is not None else "")
    if node.kind in ("compose", "ordinal"):
        head += "<" + " ".join(node.words) + ">"
    return head + "(" + ", ".join(shape(c) for c in node.children) + ")"


def tree(text: str) -> str:
    return shape(build_tree_from_tokens(simple_tokens(text)))


def test_normalise_plural_markers_and_semicolons():
    assert normalise("The thing(s) that are left of it.") == "the things that are left of it"
    assert normalise("Find cube(s);The box(es)") == "find cubes ; the boxes"


@pytest.mark.parametrize("text, expected", [
    ("The tiny rubber thing(s)", "sum[and](sum[and](tiny, rubber), thing)"),
    ("The fifth one of the shiny thing(s) from right", "ordinal[5]<from right>(sum[and](shiny, thing))"),
    ("The partially visible cube(s)", "sum[and](partially visible, cube)"),
    # a relative clause restricts the set *before* the ordinal counts in it
    ("The second one of the cube(s) from left that are behind the first one of the ball(s) from front",
     "ordinal[2]<from left>(sum[and](cube, compose<behind>(ordinal[1]<from front>(ball))))"),
    # "it" is the first sentence's noun phrase
    ("Look at the fourth one of the thing(s) from left; The object(s) that are left of it",
     "sum[and](object, compose<left of>(ordinal[4]<from left>(thing)))"),
    ("Find big thing that is in front of the red cube; The ball(s) that are on the right side of it",
     ("sum[and](ball, compose<on right side of>(sum[and](sum[and](big, thing), compose<in front of>("
     "sum[and](red, cube)))))")),
    # "either ... or" at the clause; the inner relative clause does not take the "or"
    (("The things that are either the first one of the cylinder(s) from front that are behind the first one "
     "of the rubber object(s) from right or tiny thing(s)"),
     ("sum[and](thing, sum[or](ordinal[1]<from front>(sum[and](cylinder, compose<behind>(ordinal[1]<from right>("
     "sum[and](rubber, object))))), sum[and](tiny, thing)))")),
    (("The big object(s) that are both to the left of the first one of the large thing(s) from front and right "
     "of the second one of the object(s) from front"),
     ("sum[and](sum[and](big, object), sum[and](compose<to left of>(ordinal[1]<from front>(sum[and](large, thing))), "
     "compose<right of>(ordinal[2]<from front>(object))))")),
    ("Any other metallic object(s) of the same color as the fourth one of the object(s) from left",
     "sum[and](sum[and](metallic, object), compose<of same color as>(ordinal[4]<from left>(object)))"),
    ("Any other things that are made of the same material as the red ball",
     "sum[and](thing, compose<made of same material as>(sum[and](red, ball)))"),
    # a direction without an ordinal says nothing (as the generator's programs)
    ("The sphere(s) from front that are large thing(s) or cube(s)",
     "sum[and](sphere, sum[or](sum[and](large, thing), cube))"),
])
def test_tree_structure_and_node_types(text, expected):
    assert tree(text) == expected


def test_every_node_has_its_phrase():
    root = build_tree_from_tokens(simple_tokens("The red cube(s) that are left of the first one of the ball(s) from left"))
    kinds = [n.kind for n in root.walk()]
    assert kinds.count("single") == 3 and "compose" in kinds and "ordinal" in kinds and kinds[-1] == "sum"
    compose = next(n for n in root.walk() if n.kind == "compose")
    assert compose.phrase == "left of the first one of the balls from left" and compose.words == ("left", "of")
    assert "the first one of the balls from left" in root.render()


@pytest.mark.parametrize("text, where", [
    ("", "empty"),
    ("the first one of the cubes", "without a direction"),
    ("the things that are left of it", "'it' with nothing"),
    ("the cubes that are left of", "expected a noun phrase"),
])
def test_expressions_without_a_tree_say_why(text, where):
    with pytest.raises(BuildError, match=where):
        build_tree_from_tokens(simple_tokens(text))


def test_shipped_weights_match_their_checksums():
    sums = dict(line.split()[::-1] for line in (SHIPPED_TREE / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {"config.json", "model.safetensors"}
    for name, digest in sums.items():
        assert hashlib.sha256((SHIPPED_TREE / name).read_bytes()).hexdigest() == digest, (
            f"{name} changed without its SHA256SUMS: rebuild with make tree TREE_OUT={SHIPPED_TREE}")


@pytest.fixture(scope="module")
def grounder():
    pytest.importorskip("torch")
    pytest.importorskip("spacy")
    from nsreason.parse.tree import TreeGrounder

    return TreeGrounder.load()


@pytest.fixture(scope="module")
def scenes():
    from nsreason.scene.clevr import load_clevr_scenes

    return {s.id: s for s in load_clevr_scenes(SCENES)}


@pytest.mark.slow
def test_shipped_grounder_grounds_the_fixture_expressions(grounder, scenes):
    from nsreason.datasets.clevr.refexps import load_refexps

    rs = load_refexps(REFEXPS)
    right = 0
    for r in rs:
        g = grounder.ground(scenes[r.image_index], r.text)
        assert g.ok, g.failure
        assert set(g.scores) == {o.id for o in scenes[r.image_index].objects}
        assert all(g.scores[o] >= 0.5 for o in g.objects)
        right += sorted(g.objects) == r.objects
    assert right >= len(rs) - 1  # held-out figures: benchmarks/refexp.py


@pytest.mark.slow
def test_grounding_is_a_trace_step_with_the_tree(grounder, scenes):
    from nsreason.trace.trace import Trace

    g = grounder.ground(scenes[0], "The second one of the thing(s) from left")
    step = g.to_trace_step()
    assert step.op == "tree_ground" and step.output == g.objects and step.output_type == "ObjectSet"
    tree = step.details["tree"]
    assert tree["type"] == "ordinal" and tree["op"] == 2 and tree["children"][0]["type"] == "single"
    assert set(tree["scores"]) == {str(o.id) for o in scenes[0].objects}
    text = Trace([step], answer=g.objects).render_text()
    assert "tree_ground" in text and "  ordinal[2] 'the second one of the things from left' (from left)" in text
    assert "    single 'things'" in text
    assert Trace.from_json(Trace([step]).to_json()).steps[0].details["tree"] == tree


@pytest.mark.slow
def test_an_unknown_word_is_a_failure_that_names_it(grounder, scenes):
    g = grounder.ground(scenes[0], "The crimson cube(s)")
    assert not g.ok and g.objects == [] and g.failure.code == "unknown_word"
    assert "'crimson'" in g.failure.reason and g.grounded is not None
    g = grounder.ground(scenes[0], "The cubes that are left of")
    assert g.failure.code == "could_not_parse" and "noun phrase" in g.failure.reason


@pytest.mark.slow
def test_ordinals_and_visibility_need_their_scene_data(grounder):
    from nsreason.scene.clevr import clevr_scene_from_dict

    scene = clevr_scene_from_dict({"objects": [
        {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
        {"shape": "sphere", "size": "small", "color": "blue", "material": "rubber"}]})
    assert grounder.ground(scene, "the red thing(s)").objects == [0]
    g = grounder.ground(scene, "the first one of the thing(s) from left")
    assert g.failure.code == "missing_attribute" and "pixel_coords" in g.failure.reason
    g = grounder.ground(scene, "the fully visible thing(s)")
    assert g.failure.code == "missing_attribute" and "obj_mask" in g.failure.reason
