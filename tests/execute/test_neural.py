"""The neural executor: soft ops, agreement with the symbolic executor on clean scenes,
confidences on uncertain ones, batching, traces, weights, bad input."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nsreason.encode.scene import SceneBatch, scene_schema, value_distribution
from nsreason.errors import InputError, RegistryError, SceneFormatError
from nsreason.execute import SymbolicExecutor
from nsreason.execute.neural import (
    NeuralExecutor,
    count_distribution,
    load_model,
    new_model,
    soft_extreme,
    soft_less_than,
    uniqueness,
)
from nsreason.program import Program
from nsreason.program.vocab import get_vocabulary
from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject

torch.set_num_threads(1)

PROGRAMS = [
    "count(scene())",
    "count(filter_color[red](scene()))",
    "query_shape(unique(filter_color[blue](scene())))",
    "count(relate[left](unique(filter_shape[cylinder](scene()))))",
    "count(same_color(unique(filter_shape[sphere](scene()))))",
    "count(same_shape(unique(filter_color[green](scene()))))",
    "exist(filter_color[yellow](scene()))",
    "exist(intersect(filter_color[red](scene()), filter_size[small](scene())))",
    "count(union(filter_color[blue](scene()), filter_color[green](scene())))",
    "equal_integer(count(filter_color[red](scene())), count(filter_size[large](scene())))",
    "less_than(count(filter_color[blue](scene())), count(filter_color[red](scene())))",
    "greater_than(count(filter_color[blue](scene())), count(filter_color[red](scene())))",
    ("equal_material(query_material(unique(filter_color[blue](scene()))), "
     "query_material(unique(filter_shape[sphere](scene()))))"),
    "query_color(unique(extreme[left](filter_shape[cube](scene()))))",
    "count(difference(scene(), filter_color[red](scene())))",
    "all_same_size(filter_shape[cube](scene()))",
    "most_common_color(scene())",
]


@pytest.fixture(scope="module")
def executor() -> NeuralExecutor:
    return NeuralExecutor(new_model("clevr"), device="cpu")


def test_count_distribution_is_the_poisson_binomial():
    dist = count_distribution(torch.tensor([[0.5, 0.5, 1.0, 0.0]]))
    assert dist[0].tolist() == pytest.approx([0.0, 0.25, 0.5, 0.25, 0.0])
    assert float(uniqueness(torch.tensor([[0.9, 0.2]]))[0]) == pytest.approx(0.9 * 0.8 + 0.1 * 0.2)


def test_ordered_comparisons_and_extreme():
    x = torch.tensor([[0.0, 1.0, 0.0]])  # surely 1
    y = torch.tensor([[0.0, 0.5, 0.5]])  # 1 or 2
    assert float(soft_less_than(None, x, y)[0]) == pytest.approx(0.5)
    assert float(soft_less_than(None, y, x)[0]) == pytest.approx(0.0)

    class Ctx:
        def relation(self, predicate):  # R[j, i]: j left of i; 0 left of 1 left of 2
            return torch.tensor([[[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]])

    out = soft_extreme(Ctx(), torch.tensor([[0.0, 1.0, 1.0]]), "left")  # leftmost of {1, 2}
    assert out[0].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_value_distribution_spreads_what_the_confidences_leave():
    assert value_distribution([], ("a", "b")) == [0.5, 0.5]
    assert value_distribution([Attribute("a", "k")], ("a", "b")) == [1.0, 0.0]
    assert value_distribution([Attribute("a", "k", 0.6), Attribute("b", "k", 0.6)], ("a", "b")) == [0.5, 0.5]
    assert value_distribution([Attribute("x", "k", 0.6)], ("a", "b")) == [0.5, 0.5]  # outside the domain


@pytest.mark.parametrize("text", PROGRAMS)
def test_an_untrained_model_reads_a_clean_scene_as_the_symbolic_executor(executor, four_objects, text):
    program = Program.from_text(text)
    symbolic = SymbolicExecutor().execute(program, four_objects, trace=False)
    neural = executor.execute(program, four_objects, trace=False)
    assert neural.value == symbolic.value
    assert neural.value_type == symbolic.value_type
    assert neural.confidence is not None and neural.confidence > 0.95


def test_batched_answers_equal_single_ones(executor, four_objects):
    other = SceneGraph(four_objects.objects[:2], [r for r in four_objects.relations
                                                 if r.subject in (0, 1) and r.object in (0, 1)], id="two")
    pairs = [(Program.from_text(t), s) for t in PROGRAMS for s in (four_objects, other)]
    batched = executor.execute_many(pairs)
    for (program, scene), answer in zip(pairs, batched):
        single = executor.execute(program, scene, trace=False)
        assert (single.value, pytest.approx(single.confidence)) == (answer.value, answer.confidence)


def test_uncertain_attributes_give_probabilities(executor):
    scene = SceneGraph([
        SceneObject("a", "cube", (Attribute("red", "color", 0.7), Attribute("blue", "color", 0.3),
                                  Attribute("cube", "shape"))),
        SceneObject("b", "sphere", (Attribute("sphere", "shape"), Attribute("blue", "color")), confidence=0.5),
    ])
    answer = executor.execute(Program.from_text("query_color(unique(filter_shape[cube](scene())))"), scene)
    assert answer.value == "red" and answer.confidence == pytest.approx(0.7, abs=1e-3)
    count = executor.execute(Program.from_text("count(filter_color[blue](scene()))"), scene)
    # blue: a with 0.3, b with 0.5 -> P(0) = 0.35, P(1) = 0.5, P(2) = 0.15
    assert count.value == 1 and count.confidence == pytest.approx(0.5, abs=1e-3)
    steps = count.trace.steps
    assert steps[1].details["attention"] == pytest.approx({"a": 0.3, "b": 0.5}, abs=1e-3)
    assert steps[2].details["distribution"]["0"] == pytest.approx(0.35, abs=1e-3)


def test_the_trace_records_attention_and_uniqueness(executor, four_objects):
    answer = executor.execute(Program.from_text("query_shape(unique(filter_color[red](scene())))"), four_objects)
    unique = answer.trace.steps[2]
    assert unique.details["uniqueness"] < 0.01  # two red objects
    assert unique.details["attention"] == pytest.approx({"0": 0.5, "1": 0.5, "2": 0.0, "3": 0.0}, abs=1e-3)
    assert answer.trace.steps[-1].details["distribution"]["cube"] == pytest.approx(0.5, abs=1e-3)


def test_confidences_outside_zero_one_are_typed_errors(executor):
    bad = SceneGraph([SceneObject("a", "cube", (Attribute("red", "color", 1.5),))])
    with pytest.raises(SceneFormatError, match=r"object 'a'.attributes.color.confidence.*\[0, 1\].*1.5"):
        executor.execute(Program.from_text("count(scene())"), bad)
    bad_relation = SceneGraph([SceneObject("a"), SceneObject("b")], [Relation("a", "left", "b", float("nan"))])
    with pytest.raises(SceneFormatError, match="relation 'a' left 'b'.confidence"):
        executor.execute(Program.from_text("count(scene())"), bad_relation)


def test_an_op_without_a_soft_implementation_is_a_typed_error_naming_it(executor, four_objects, tmp_path):
    from nsreason.program.vocab import load_vocabulary

    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\n"
        "types: {ObjectSet: {kind: object_set}, Integer: {kind: integer}}\n"
        "ops:\n"
        "  scene: {inputs: [], output: ObjectSet}\n"
        "  count: {inputs: [ObjectSet], output: Integer}\n"
        "  sparkly: {inputs: [ObjectSet], output: ObjectSet, impl: sparkly}\n")
    vocab = load_vocabulary(path)
    program = Program.from_text("count(sparkly(scene()))", vocab)
    with pytest.raises(RegistryError, match="op 'sparkly' of vocabulary 'mine' has no soft implementation"):
        NeuralExecutor(executor.model, vocabulary=vocab, device="cpu").execute(program, four_objects)


def test_an_invalid_program_is_a_failure_not_a_crash(executor, four_objects):
    from nsreason.program import Step

    answer = executor.execute(Program([Step("scene"), Step("unique", (0,)), Step("count", (1,))]), four_objects)
    assert answer.value is None and answer.failure is not None and answer.failure.code == "invalid_program"


def test_weights_round_trip_and_bad_folders(tmp_path, four_objects):
    model = new_model("clevr", hidden=16, layers=1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    pairs = [(Program.from_text(t), four_objects) for t in PROGRAMS]
    a = NeuralExecutor(model, device="cpu").execute_many(pairs)
    b = NeuralExecutor(again, device="cpu").execute_many(pairs)
    assert [(x.value, x.confidence) for x in a] == [(y.value, y.confidence) for y in b]
    with pytest.raises(InputError, match="config.json and model.safetensors"):
        load_model(tmp_path / "missing")
    (tmp_path / "m" / "config.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="format"):
        load_model(tmp_path / "m")


def test_scene_schema_and_batch_shapes(four_objects):
    schema = scene_schema(get_vocabulary("clevr"))
    batch = SceneBatch.from_scenes([four_objects, SceneGraph([SceneObject("x")])], schema)
    assert batch.exist.shape == (2, 4) and batch.attrs["color"].shape == (2, 4, 8)
    assert batch.rels["left"][0, 0, 3] == 1.0 and batch.rels["left"][0, 3, 0] == 0.0
    assert batch.rel_given["left"].tolist() == [True, False]
    assert batch.attrs["color"][1, 0].tolist() == pytest.approx([1 / 8] * 8)  # no colour: uniform


SCENE_GRAPH_PROGRAMS = [
    "count(select[cube](scene()))",
    "count(filter[wooden](scene()))",
    "count(exclude[red](scene()))",
    "count(filter_attribute[color,red](scene()))",
    "count(relate[left](select[sphere](scene())))",
    "count(relate_reverse[left](select[sphere](scene())))",
    "verify[red](unique(select[sphere](scene())))",
    "verify_attribute[size,large](unique(select[cylinder](scene())))",
    "verify_name[cube](unique(select[sphere](scene())))",
    "verify_relation[left](unique(select[sphere](scene())), unique(select[cylinder](scene())))",
    "same[material](unique(select[sphere](scene())), unique(select[cylinder](scene())))",
    "different[color](unique(select[sphere](scene())), unique(select[cylinder](scene())))",
    "count(same_as[color](unique(select[sphere](scene()))))",
    "same_name(unique(filter[green](scene())), unique(filter[metal](filter[large](scene()))))",
    "and(exist(select[cube](scene())), not(exist(filter[yellow](scene()))))",
    "or(exist(filter[yellow](scene())), exist(filter[blue](scene())))",
]


@pytest.mark.parametrize("text", SCENE_GRAPH_PROGRAMS)
def test_scene_graph_ops_agree_with_the_symbolic_executor_on_a_clean_scene(executor, four_objects, text):
    program = Program.from_text(text, "scene_graph")
    symbolic = SymbolicExecutor().execute(program, four_objects, trace=False)
    neural = executor.execute(program, four_objects, trace=False)
    assert symbolic.failure is None
    assert neural.value == symbolic.value and neural.confidence > 0.95


def test_open_keys_without_an_answer_space_name_the_step(executor, four_objects):
    program = Program.from_text("query[color](unique(select[sphere](scene())))", "scene_graph")
    with pytest.raises(InputError, match=r"step 3 \(query\).*no attribute 'color'"):
        NeuralExecutor(new_model("scene_graph"), device="cpu").execute(program, four_objects)


def test_boxes_give_positions_when_coordinates_are_absent():
    from nsreason.scene.graph import BoundingBox

    scene = SceneGraph([SceneObject("a", "man", box=BoundingBox(0, 0, 10, 20)),
                        SceneObject("b", "hat", box=BoundingBox(30, 0, 10, 10))])
    batch = SceneBatch.from_scenes([scene], scene_schema(get_vocabulary("scene_graph")))
    assert batch.has_coords.tolist() == [True]
    assert batch.coords[0, :, :2].flatten().tolist() == pytest.approx([0.125, 0.25, 0.875, 0.125])
    no_boxes = SceneBatch.from_scenes([SceneGraph([SceneObject("a")])], scene_schema(get_vocabulary("clevr")))
    assert no_boxes.has_coords.tolist() == [False]


def test_gqa_ops_query_name_query_among_and_choose_agree_with_the_symbolic_executor(executor, four_objects):
    for text in (
        "query_name(unique(filter[blue](scene())))",
        "query_among[red|blue|green](unique(select[cylinder](scene())))",
        ("choose[metal,rubber](verify[metal](unique(select[sphere](scene()))), "
         "verify[rubber](unique(select[sphere](scene()))))"),
    ):
        program = Program.from_text(text, "scene_graph")
        symbolic = SymbolicExecutor().execute(program, four_objects, trace=False)
        neural = executor.execute(program, four_objects)
        assert neural.value == symbolic.value and neural.confidence > 0.95, text
        assert neural.trace.steps[-1].output == symbolic.value


def test_predicate_words_reach_the_encoder_and_older_models_still_load(tmp_path):
    words = ["left", "right", "behind", "front", "wearing", "cube", "sphere"]
    table = torch.eye(7, 8)  # distinct vectors, no MiniLM needed
    model = new_model("clevr", words=words, word_table=table, predicate_words=True)
    assert model.encoder.config()["predicate_words"] is True
    torch.manual_seed(0)
    with torch.no_grad():  # small random weights: corrections that do not saturate
        model.encoder.predicate_proj.weight.normal_(0.0, 0.1)
        model.encoder.rel_head[0].weight.normal_(0.0, 0.1)
        model.encoder.rel_head[-1].weight.normal_(0.0, 0.1)
    scene = SceneGraph([SceneObject("m", "cube"), SceneObject("h", "sphere")], [Relation("m", "wearing", "h", 0.9)])
    plain = SceneGraph([SceneObject("m", "cube"), SceneObject("h", "sphere")])
    batch = model.batch([scene, plain])
    assert batch.predicates == ["wearing"] and float(batch.pair_predicates[0, 0, 1, 0]) == pytest.approx(0.9)
    refined = model.encoder(batch)
    # the open predicate changes what the encoder makes of the pair
    assert not torch.allclose(refined.rels["left"][0], refined.rels["left"][1])
    model.save(tmp_path / "m")
    assert load_model(tmp_path / "m").encoder.predicate_words is True
    old = new_model("clevr", words=words, word_table=table, predicate_words=False)
    old.save(tmp_path / "old")
    assert load_model(tmp_path / "old").encoder.predicate_words is False
