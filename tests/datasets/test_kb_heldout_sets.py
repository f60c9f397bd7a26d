"""The held-out CLEVR + KB sets of benchmarks/clevr_kb.py: their templates load against their
KB, every template makes questions, and answers match the KB read by hand."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

pytest.importorskip("rdflib")

from nsreason.datasets.clevr.kb_questions import generate_kb_questions, load_kb, load_kb_templates
from tests.conftest import REPO, shared_path
from tests.datasets.conftest import check_text

SETS = REPO / "benchmarks" / "data"
FIXTURE_SCENES = REPO / "tests" / "fixtures" / "clevr_refplus_scenes_small.json"
FAMILIES = ["query_direct", "query_related", "count", "count_filtered", "yes_no", "two_hop"]


def _obj(size: str, color: str, material: str, shape: str) -> dict[str, str]:
    return {"size": size, "color": color, "material": material, "shape": shape}


ALL_SETS = ["clevr_kb_heldout", "clevr_kb_heldout2", "clevr_kb_heldout3", "clevr_kb_heldout4",
            "clevr_kb_heldout5"]
HELD_OUT = ALL_SETS[1:]


@pytest.mark.parametrize("folder", ALL_SETS)
def test_set_templates_load_and_name_relations_of_their_kb(folder):
    data = json.loads((SETS / folder / "templates.json").read_text())
    kb = load_kb(SETS / folder / data["kb"])
    families = load_kb_templates(SETS / folder / "templates.json")
    assert [f.name for f in families] == FAMILIES
    for fam in families:
        for tpl in fam.templates:
            for name in tpl.relations:
                kb.relation(name)  # KeyError when the KB lacks it
    assert isinstance(data["held_out"], str)


def _names_and_labels(folder: str) -> set[str]:
    """The local names, labels and altLabels (lower-case) of a set's relations."""
    import rdflib

    kb = load_kb(SETS / folder / "kb.ttl")
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    found = set()
    for name in kb.relations():
        if name.startswith("skos:"):
            continue
        iri = kb.relation(name)
        found.add(name.split(":")[1].lower())
        for p in (rdflib.RDFS.label, skos.altLabel):
            found |= {str(o).lower() for o in kb.graph.objects(iri, p)}
    return found


@pytest.mark.parametrize("folder", HELD_OUT)
def test_held_out_set_kb_shape(folder):
    """A held-out set's KB: CLEVR values labelled as CLEVR writes them, at least 8 relations
    with booleans, integers, strings and entities, and no relation name or label shared with
    another set."""
    import rdflib

    kb = load_kb(SETS / folder / "kb.ttl")
    g = kb.graph
    labels = {str(o) for o in g.objects(None, rdflib.RDFS.label)}
    assert {"metal", "rubber", "cube", "sphere", "cylinder", "gray", "red", "blue", "green", "brown", "purple",
            "cyan", "yellow"} <= labels
    relations = [r for r in kb.relations() if not r.startswith("skos:")]
    assert len(relations) >= 8
    kinds = Counter()
    for name in relations:
        value = next(g.objects(None, kb.relation(name)))
        kinds[type(value.toPython()).__name__ if isinstance(value, rdflib.Literal) else "entity"] += 1
    assert {"bool", "int", "str", "entity"} <= set(kinds)
    mine = _names_and_labels(folder)
    for other in ALL_SETS:
        if other != folder:
            assert not mine & _names_and_labels(other), other


def _template_of(question: str, families) -> tuple[str, ...]:
    """The relations of the one template whose text ``question`` instantiates."""
    found = {tpl.relations for fam in families for tpl in fam.templates for text in tpl.texts
             if re.fullmatch(re.escape(text[0].upper() + text[1:]).replace(r"\{obj\}", ".+")
                             .replace(r"\{things\}", ".+"), question)}
    assert len(found) == 1, (question, found)
    return found.pop()


# each held-out KB's facts, read by hand: the answer of each relation chain for one object
BY_HAND2 = {
    _obj("large", "red", "metal", "cube").values(): {
        ("ts:density",): "8", ("ts:tapSound",): "clang", ("ts:main_producer",): "china", ("ts:rawMaterial",): "ore",
        ("ts:cornerCount",): "8", ("ts:edges",): "12", ("ts:looks_like",): "die", ("ts:seasonEvoked",): "autumn",
        ("ts:complementOf",): "green", ("ts:wavelength_nm",): "700", ("ts:can_rust",): "yes",
        ("ts:isBouncy",): "no", ("ts:hasCurvedSurface",): "no", ("ts:primary",): "yes", ("ts:inRainbow",): "yes",
        ("ts:main_producer", "nat:capitalCity"): "beijing", ("ts:main_producer", "nat:currency"): "yuan",
        ("ts:rawMaterial", "ts:obtained_by"): "mining", ("ts:seasonEvoked", "ts:typical_weather"): "wind",
        ("ts:complementOf", "ts:seasonEvoked"): "spring", ("ts:looks_like", "ts:partOf"): "board game"},
    _obj("small", "cyan", "rubber", "cylinder").values(): {
        ("ts:density",): "1", ("ts:tapSound",): "thud", ("ts:main_producer",): "thailand",
        ("ts:rawMaterial",): "latex", ("ts:cornerCount",): "0", ("ts:edges",): "2", ("ts:looks_like",): "drum",
        ("ts:seasonEvoked",): "summer", ("ts:complementOf",): "red", ("ts:wavelength_nm",): "490",
        ("ts:can_rust",): "no", ("ts:isBouncy",): "yes", ("ts:hasCurvedSurface",): "yes", ("ts:primary",): "no",
        ("ts:inRainbow",): "no", ("ts:main_producer", "nat:capitalCity"): "bangkok",
        ("ts:main_producer", "nat:currency"): "baht", ("ts:rawMaterial", "ts:obtained_by"): "tapping",
        ("ts:seasonEvoked", "ts:typical_weather"): "sunshine", ("ts:complementOf", "ts:seasonEvoked"): "autumn",
        ("ts:looks_like", "ts:partOf"): "band"},
    _obj("large", "yellow", "rubber", "sphere").values(): {
        ("ts:density",): "1", ("ts:tapSound",): "thud", ("ts:main_producer",): "thailand",
        ("ts:rawMaterial",): "latex", ("ts:cornerCount",): "0", ("ts:edges",): "0", ("ts:looks_like",): "planet",
        ("ts:seasonEvoked",): "summer", ("ts:complementOf",): "purple", ("ts:wavelength_nm",): "580",
        ("ts:can_rust",): "no", ("ts:isBouncy",): "yes", ("ts:hasCurvedSurface",): "yes", ("ts:primary",): "yes",
        ("ts:inRainbow",): "yes", ("ts:main_producer", "nat:capitalCity"): "bangkok",
        ("ts:main_producer", "nat:currency"): "baht", ("ts:rawMaterial", "ts:obtained_by"): "tapping",
        ("ts:seasonEvoked", "ts:typical_weather"): "sunshine", ("ts:complementOf", "ts:seasonEvoked"): "spring",
        ("ts:looks_like", "ts:partOf"): "solar system"},
}


BY_HAND3 = {
    _obj("large", "red", "metal", "cube").values(): {
        ("lab:sound_speed",): "5900", ("lab:chiefElement",): "iron", ("lab:fromGreek",): "kybos",
        ("lab:packingEfficiency",): "100", ("lab:gem",): "ruby", ("lab:traffic_signal",): "stop",
        ("lab:heatConductor",): "yes", ("lab:is_elastic",): "no", ("lab:platonic_solid",): "yes",
        ("lab:neutralHue",): "no", ("lab:chiefElement", "chem:atomicNumber"): "26",
        ("lab:chiefElement", "chem:elementSymbol"): "fe", ("lab:gem", "lab:birthstone_month"): "july"},
    _obj("small", "cyan", "rubber", "cylinder").values(): {  # cyan: no traffic-light meaning
        ("lab:sound_speed",): "1600", ("lab:chiefElement",): "carbon", ("lab:fromGreek",): "kylindros",
        ("lab:packingEfficiency",): "91", ("lab:gem",): "aquamarine", ("lab:heatConductor",): "no",
        ("lab:is_elastic",): "yes", ("lab:platonic_solid",): "no", ("lab:neutralHue",): "no",
        ("lab:chiefElement", "chem:atomicNumber"): "6", ("lab:chiefElement", "chem:elementSymbol"): "c",
        ("lab:gem", "lab:birthstone_month"): "march"},
    _obj("large", "yellow", "rubber", "sphere").values(): {
        ("lab:sound_speed",): "1600", ("lab:chiefElement",): "carbon", ("lab:fromGreek",): "sphaira",
        ("lab:packingEfficiency",): "74", ("lab:gem",): "topaz", ("lab:traffic_signal",): "caution",
        ("lab:heatConductor",): "no", ("lab:is_elastic",): "yes", ("lab:platonic_solid",): "no",
        ("lab:neutralHue",): "no", ("lab:chiefElement", "chem:atomicNumber"): "6",
        ("lab:chiefElement", "chem:elementSymbol"): "c", ("lab:gem", "lab:birthstone_month"): "november"},
}

BY_HAND4 = {
    _obj("large", "red", "metal", "cube").values(): {
        ("cr:price_per_kg",): "1", ("cr:exampleTool",): "hammer", ("cr:min_paint_colours",): "3",
        ("cr:shippedIn",): "box", ("cr:snookerPoints",): "1", ("cr:signature_flower",): "rose",
        ("cr:microwaveSafe",): "no", ("cr:hasCircularFace",): "no", ("cr:olympic_ring",): "yes",
        ("cr:exampleTool", "cr:usedByTrade"): "carpenter", ("cr:signature_flower", "bot:genus"): "rosa",
        ("cr:signature_flower", "bot:bloomMonth"): "june"},
    _obj("small", "cyan", "rubber", "cylinder").values(): {  # cyan: no snooker ball
        ("cr:price_per_kg",): "2", ("cr:exampleTool",): "rubber mallet", ("cr:min_paint_colours",): "2",
        ("cr:shippedIn",): "tube", ("cr:signature_flower",): "forget-me-not", ("cr:microwaveSafe",): "yes",
        ("cr:hasCircularFace",): "yes", ("cr:olympic_ring",): "no", ("cr:exampleTool", "cr:usedByTrade"): "tiler",
        ("cr:signature_flower", "bot:genus"): "myosotis", ("cr:signature_flower", "bot:bloomMonth"): "may"},
    _obj("large", "yellow", "rubber", "sphere").values(): {
        ("cr:price_per_kg",): "2", ("cr:exampleTool",): "rubber mallet", ("cr:min_paint_colours",): "1",
        ("cr:shippedIn",): "net bag", ("cr:snookerPoints",): "2", ("cr:signature_flower",): "sunflower",
        ("cr:microwaveSafe",): "yes", ("cr:hasCircularFace",): "no", ("cr:olympic_ring",): "yes",
        ("cr:exampleTool", "cr:usedByTrade"): "tiler", ("cr:signature_flower", "bot:genus"): "helianthus",
        ("cr:signature_flower", "bot:bloomMonth"): "august"},
}

BY_HAND5 = {
    _obj("large", "red", "metal", "cube").values(): {
        ("toy:years_outdoors",): "25", ("toy:recycled_as",): "bike frame", ("toy:surfaceTotal",): "6",
        ("toy:toyVersion",): "jack-in-the-box", ("toy:resistor_digit",): "2", ("tv:tubbyOfColour",): "po",
        ("toy:coldToTouch",): "yes", ("toy:kickable",): "no", ("toy:twisterSpot",): "yes",
        ("toy:recycled_as", "toy:soldBy"): "bike shop", ("toy:toyVersion", "toy:min_age"): "2",
        ("tv:tubbyOfColour", "tv:favourite_thing"): "scooter", ("tv:tubbyOfColour", "tv:antennaShape"): "circle"},
    _obj("small", "cyan", "rubber", "cylinder").values(): {  # cyan: no resistor digit, no Teletubby
        ("toy:years_outdoors",): "8", ("toy:recycled_as",): "playground mulch", ("toy:surfaceTotal",): "3",
        ("toy:toyVersion",): "kaleidoscope", ("toy:coldToTouch",): "no", ("toy:kickable",): "no",
        ("toy:twisterSpot",): "no", ("toy:recycled_as", "toy:soldBy"): "garden centre",
        ("toy:toyVersion", "toy:min_age"): "5"},
    _obj("large", "yellow", "rubber", "sphere").values(): {
        ("toy:years_outdoors",): "8", ("toy:recycled_as",): "playground mulch", ("toy:surfaceTotal",): "1",
        ("toy:toyVersion",): "marble", ("toy:resistor_digit",): "4", ("tv:tubbyOfColour",): "laa-laa",
        ("toy:coldToTouch",): "no", ("toy:kickable",): "yes", ("toy:twisterSpot",): "yes",
        ("toy:recycled_as", "toy:soldBy"): "garden centre", ("toy:toyVersion", "toy:min_age"): "3",
        ("tv:tubbyOfColour", "tv:favourite_thing"): "ball", ("tv:tubbyOfColour", "tv:antennaShape"): "curly"},
}

BY_HAND = {"clevr_kb_heldout2": BY_HAND2, "clevr_kb_heldout3": BY_HAND3, "clevr_kb_heldout4": BY_HAND4,
           "clevr_kb_heldout5": BY_HAND5}

# counts on one scene: 0 large red metal cube, 1 small cyan rubber sphere, 2 small green metal
# cylinder, 3 large gray rubber cube
COUNTS_BY_HAND = {
    "clevr_kb_heldout2": {("ts:can_rust",): "2", ("ts:isBouncy",): "2", ("ts:hasCurvedSurface",): "2",
                          ("ts:primary",): "1",
                          ("ts:inRainbow",): "2"},  # red and green are rainbow colours, cyan and gray are not
    "clevr_kb_heldout3": {("lab:heatConductor",): "2", ("lab:is_elastic",): "2", ("lab:platonic_solid",): "2",
                          ("lab:neutralHue",): "1"},  # gray only
    "clevr_kb_heldout4": {("cr:microwaveSafe",): "2", ("cr:hasCircularFace",): "1",
                          ("cr:olympic_ring",): "2"},  # red and green are Olympic ring colours
    "clevr_kb_heldout5": {("toy:coldToTouch",): "2", ("toy:kickable",): "1",
                          ("toy:twisterSpot",): "2"},  # red and green are Twister spot colours
}

def _names_the_twin(question: str, size: str) -> bool:
    """Whether ``question`` (on a scene of an object and its gray twin of the other size,
    the twin left of it) asks about the twin."""
    words = set(question.rstrip("?").replace("'s", "").split())
    if " left " in f" {question} " or " right " in f" {question} ":
        return " left " in f" {question} "  # the twin is the one left of the object
    sizes = {"large": {"large", "big"}, "small": {"small", "tiny"}}
    if words & (sizes["large"] | sizes["small"]):
        return not words & sizes[size]
    return "gray" in words


@pytest.mark.parametrize("folder", HELD_OUT)
def test_held_out_set_answers_checked_by_hand(tmp_path, folder):
    """On scenes of one known object (and its twin for related references), every template's
    answer is the KB's fact as read by hand; counts count the one or two objects."""
    scenes = []
    table = BY_HAND[folder]
    for k, values in enumerate(table):
        size, color, material, shape = values
        other = _obj("small" if size == "large" else "large", "gray", material, shape)
        scenes.append({"image_index": 2 * k + 1, "image_filename": f"{k}.png",
                       "objects": [_obj(size, color, material, shape), other],
                       "relationships": {"left": [[1], []], "right": [[], [0]], "front": [[], []], "behind": [[], []]}})
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps({"info": {"split": "val"}, "scenes": scenes}))
    families = load_kb_templates(SETS / folder / "templates.json")
    checked = Counter()
    for seed in range(16):
        # yes/no families alternate the answer they look for: with one yes/no question per
        # scene, each scene would always be asked for the same answer, so odd seeds ask two
        for q in generate_kb_questions(path, SETS / folder / "kb.ttl", families, images="odd",
                                       per_scene=6 + 6 * (seed % 2), seed=seed):
            check_text(q["question"])
            fam = families[q["question_family_index"]]
            if fam.kind == "count":
                continue  # the two objects share material and shape: counted below
            relations = _template_of(q["question"], families)
            values = list(table)[q["image_index"] // 2]
            if _names_the_twin(q["question"], next(iter(values))):
                continue
            assert q["answer"] == table[values][relations], q
            checked[relations] += 1
    assert set(checked) == {t.relations for f in families for t in f.templates if f.kind != "count"}, checked


@pytest.mark.parametrize("folder", HELD_OUT)
def test_held_out_set_counts_checked_by_hand(tmp_path, folder):
    scene = {"image_index": 1, "objects": [_obj("large", "red", "metal", "cube"), _obj("small", "cyan", "rubber", "sphere"),
                                           _obj("small", "green", "metal", "cylinder"),
                                           _obj("large", "gray", "rubber", "cube")],
             "relationships": {r: [[], [], [], []] for r in ("left", "right", "front", "behind")}}
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps({"info": {"split": "val"}, "scenes": [scene]}))
    families = [f for f in load_kb_templates(SETS / folder / "templates.json") if f.name == "count"]
    by_hand = COUNTS_BY_HAND[folder]
    seen = set()
    for seed in range(20):
        for q in generate_kb_questions(path, SETS / folder / "kb.ttl", families, per_scene=5, seed=seed):
            check_text(q["question"])
            relations = _template_of(q["question"], families)
            assert q["answer"] == by_hand[relations], q
            seen.add(relations)
    assert seen == set(by_hand)


@pytest.mark.parametrize("folder", HELD_OUT)
def test_held_out_set_every_family_makes_questions_on_fixture_scenes(folder):
    families = load_kb_templates(SETS / folder / "templates.json")
    questions = [q for seed in range(8) for q in generate_kb_questions(
        FIXTURE_SCENES, SETS / folder / "kb.ttl", families, images="all", per_scene=6, seed=seed)]
    made = Counter(q["question_family_index"] for q in questions)
    assert set(made) == set(range(len(families)))
    assert all(made[i] >= 3 for i in range(len(families))), made


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("folder", HELD_OUT)
def test_held_out_set_on_the_val_scenes(folder):
    scenes = shared_path("clevr", "val", "CLEVR_val_scenes.json")
    families = load_kb_templates(SETS / folder / "templates.json")
    questions = generate_kb_questions(scenes, SETS / folder / "kb.ttl", families, images="odd", per_scene=2, seed=0)
    assert len(questions) == 500 and all(q["image_index"] % 2 == 1 for q in questions)
    per_family = Counter(families[q["question_family_index"]].name for q in questions)
    assert set(per_family) == set(FAMILIES) and min(per_family.values()) >= 60
    yes_no = Counter(q["answer"] for q in questions if families[q["question_family_index"]].kind == "yes_no")
    assert abs(yes_no["yes"] - yes_no["no"]) <= 2
