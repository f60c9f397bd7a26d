"""The symbolic executor: CLEVR semantics, failures as values, user ops, big graphs."""

from __future__ import annotations

import pytest

from nsreason.errors import ProgramError
from nsreason.execute import OPS, SymbolicExecutor
from nsreason.program import Program, Step, Vocabulary
from nsreason.registry import Registry
from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject


def run(text: str, scene: SceneGraph, vocabulary: str = "clevr"):
    return SymbolicExecutor().execute(Program.from_text(text, vocabulary), scene)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("count(scene())", 4),
        ("count(filter_color[red](scene()))", 2),
        ("query_shape(unique(filter_color[blue](scene())))", "cylinder"),
        # relate[left](x): the objects left of x
        ("count(relate[left](unique(filter_shape[cylinder](scene()))))", 2),
        ("relate[left](unique(filter_shape[cylinder](scene())))", [0, 1]),
        ("relate[front](unique(filter_color[blue](scene())))", [3]),
        # same_* excludes the object itself
        ("same_color(unique(filter_shape[sphere](scene())))", [0]),
        ("same_size(unique(filter_color[blue](scene())))", [0]),
        ("count(same_shape(unique(filter_color[green](scene()))))", 1),
        ("union(filter_color[blue](scene()), filter_color[green](scene()))", [2, 3]),
        ("intersect(filter_color[red](scene()), filter_size[small](scene()))", [1]),
        ("exist(filter_color[yellow](scene()))", False),
        ("equal_integer(count(filter_color[red](scene())), count(filter_size[large](scene())))", True),
        ("less_than(count(filter_color[blue](scene())), count(filter_color[red](scene())))", True),
        ("greater_than(count(filter_color[blue](scene())), count(filter_color[red](scene())))", False),
        (
            ("equal_material(query_material(unique(filter_color[blue](scene()))), "
            "query_material(unique(filter_shape[sphere](scene()))))"),
            True,
        ),
        (
            ("equal_object(unique(filter_color[blue](scene())), "
            "unique(filter_shape[cylinder](scene())))"),
            True,
        ),
        # template-only shorthands: optional arguments left out
        ("filter_count[,red,,](scene())", 2),
        ("filter_count[small,red,,](scene())", 1),
        ("filter_exist[,,,cylinder](scene())", True),
        ("query_color(filter_unique[,,,sphere](scene()))", "red"),
        ("relate_filter_count[left,,red,,](unique(filter_color[blue](scene())))", 2),
        ("relate_filter[right,small,,,](unique(filter_shape[sphere](scene())))", [3]),
        # extreme: the superlative of a relation within the set (not a CLEVR v1.0 function)
        ("extreme[left](scene())", [0]),
        ("extreme[right](filter_color[red](scene()))", [1]),
        ("query_color(unique(extreme[front](filter_shape[cube](scene()))))", "green"),
        ("extreme[behind](filter_size[small](scene()))", [1]),
        ("extreme[left](filter_color[yellow](scene()))", []),
        # ops for everyday questions (not CLEVR v1.0 functions)
        ("count(difference(scene(), filter_color[red](scene())))", 2),
        ("all_same_color(filter_shape[sphere](scene()))", True),
        ("all_same_color(filter_shape[cube](scene()))", False),
        ("all_same_size(filter_color[red](scene()))", False),
        ("most_common_color(scene())", "red"),
        ("most_common_material(filter_shape[cube](scene()))", "metal"),
    ],
)
def test_clevr_semantics(four_objects, text, expected):
    answer = run(text, four_objects)
    assert answer.failure is None, answer.failure
    assert answer.value == expected
    assert type(answer.value) is type(expected)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("most_common_size(scene())", "tie"),  # two large, two small
        ("most_common_color(filter_color[yellow](scene()))", "empty_set"),
        ("all_same_shape(filter_color[yellow](scene()))", "empty_set"),
    ],
)
def test_set_questions_without_an_answer_are_recorded_failures(four_objects, text, code):
    answer = run(text, four_objects)
    assert answer.value is None and answer.failure is not None
    assert answer.failure.code == code


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("query_shape(unique(filter_color[red](scene())))", 2),
        ("query_shape(unique(filter_color[yellow](scene())))", 0),
        ("count(relate[left](unique(scene())))", 4),
    ],
)
def test_unique_on_non_singleton_is_a_recorded_failure(four_objects, text, count):
    answer = run(text, four_objects)
    assert answer.value is None and not answer.ok and answer.text == ""
    failure = answer.failure
    assert failure.code == "not_unique"
    got = {0: "no object", 2: "2 objects (0, 1)", 4: "4 objects (0, 1, 2, 3)"}[count]
    assert failure.reason == f"expected exactly one object, got {got}"
    steps = answer.trace.steps
    failed = [s for s in steps if s.status == "failed"]
    assert [s.index for s in failed] == [failure.step]
    assert steps[failure.step].op == "unique"
    # the steps after the failure were not run
    assert all(s.status == "skipped" for s in steps[failure.step + 1 :])
    assert all(s.status == "ok" for s in steps[: failure.step])


def test_untraced_failure_names_the_same_step(four_objects):
    program = Program.from_text("count(relate[left](unique(filter_color[red](scene()))))")
    ex = SymbolicExecutor()
    traced = ex.execute(program, four_objects)
    untraced = ex.execute(program, four_objects, trace=False)
    assert untraced.trace is None
    assert untraced.failure == traced.failure
    assert untraced.failure.step == 2


def test_invalid_program_is_a_failure_not_a_crash(four_objects):
    program = Program([Step("scene"), Step("filter_color", (0,), ("reddish",)), Step("count", (1,))])
    with pytest.raises(ProgramError):
        program.validate()
    answer = SymbolicExecutor().execute(program, four_objects)
    assert answer.failure.code == "unknown_value"
    assert answer.failure.step == 1
    assert "reddish" in answer.failure.reason
    # nothing ran; the invalid step is marked as the failed one
    assert [s.status for s in answer.trace.steps] == ["skipped", "failed", "skipped"]

    wrong_type = Program([Step("scene"), Step("count", (0,)), Step("unique", (1,))])
    assert SymbolicExecutor().execute(wrong_type, four_objects).failure.code == "type_error"
    unknown = Program([Step("scene"), Step("levitate", (0,))])
    assert SymbolicExecutor().execute(unknown, four_objects).failure.code == "unknown_op"


def test_scene_value_outside_vocabulary_is_unknown_value():
    scene = SceneGraph([SceneObject(0, "cube", (Attribute("pink", key="color"),))])
    answer = run("query_color(unique(scene()))", scene)
    assert answer.failure.code == "unknown_value"
    assert "'pink'" in answer.failure.reason


def test_query_of_missing_or_ambiguous_attribute():
    scene = SceneGraph(
        [
            SceneObject(0, "cube", (Attribute("red", key="color"), Attribute("blue", key="color"))),
            SceneObject(1, "cube"),
        ]
    )
    ambiguous = run("query_color(unique(filter_color[blue](scene())))", scene)
    assert ambiguous.failure.code == "ambiguous_attribute"
    missing = run("query_color(unique(filter_shape[cube](scene())))", scene)
    assert missing.failure.code == "not_unique"  # no shape attribute: filter finds nothing
    none = SceneGraph([SceneObject(0, "cube")])
    assert run("query_color(unique(scene()))", none).failure.code == "missing_attribute"


def _vocab_with(op_impl: str) -> Vocabulary:
    return Vocabulary.from_dict(
        {
            "name": f"test_{op_impl}",
            "types": {"ObjectSet": {"kind": "object_set"}, "Integer": {"kind": "integer"}},
            "ops": {
                "scene": {"inputs": [], "output": "ObjectSet"},
                "weird": {"inputs": ["ObjectSet"], "output": "Integer", "impl": op_impl},
            },
        }
    )


def test_op_without_implementation_is_missing_op(four_objects):
    vocab = _vocab_with("not_registered_anywhere")
    answer = SymbolicExecutor().execute(Program([Step("scene"), Step("weird", (0,))], vocab), four_objects)
    assert answer.failure.code == "missing_op"
    assert answer.failure.step == 1
    assert "not_registered_anywhere" in answer.failure.reason
    assert answer.trace.steps[0].status == "ok"


def test_user_ops_by_registry_and_a_faulty_op(four_objects):
    ops: Registry = Registry("op implementation", entry_point_group=None)
    for name in ("scene",):
        ops.register(name, OPS.get(name))

    @ops.register("half_count")
    def half_count(ix, objects):
        return objects.bit_count() // 2

    @ops.register("broken")
    def broken(ix, objects):
        raise KeyError("oops")

    ex = SymbolicExecutor(ops=ops)
    good = ex.execute(Program([Step("scene"), Step("weird", (0,))], _vocab_with("half_count")), four_objects)
    assert good.value == 2
    bad = ex.execute(Program([Step("scene"), Step("weird", (0,))], _vocab_with("broken")), four_objects)
    assert bad.failure.code == "op_error" and "KeyError" in bad.failure.reason
    untraced = ex.execute(Program([Step("scene"), Step("weird", (0,))], _vocab_with("broken")), four_objects, trace=False)
    assert untraced.failure == bad.failure


def test_compiled_program_is_cached_per_executor(four_objects):
    program = Program.from_text("count(scene())")
    a, b = SymbolicExecutor(), SymbolicExecutor()
    assert a.compile(program) is a.compile(program)
    assert b.compile(program) is not a.compile(program)
    assert a.execute(program, four_objects).value == b.execute(program, four_objects).value == 4


def test_scene_graph_vocabulary_on_open_graph():
    scene = SceneGraph(
        [
            SceneObject("m", "man", (Attribute("tall"),)),
            SceneObject("h", "hat", (Attribute("red"), Attribute("wool", key="material"))),
            SceneObject("w", "woman"),
            SceneObject("h2", "hat", (Attribute("blue"),)),
        ],
        [Relation("m", "wearing", "h"), Relation("w", "wearing", "h2"), Relation("m", "to the left of", "w")],
    )
    cases = {
        "query_name(unique(relate_reverse[wearing](filter[red](select[hat](scene())))))": "man",
        "count(relate[wearing](select[man](scene())))": 1,
        'query_name(unique(relate["to the left of"](select[man](scene()))))': "woman",
        "query[material](unique(filter[red](scene())))": "wool",
        "count(exclude[red](select[hat](scene())))": 1,
        "count(difference(scene(), select[hat](scene())))": 2,
        "verify_relation[wearing](unique(select[woman](scene())), unique(filter[blue](scene())))": True,
        "and(exist(select[man](scene())), not(exist(select[dog](scene()))))": True,
        "same_name(unique(filter[red](scene())), unique(filter[blue](scene())))": True,
        "verify_attribute[material,wool](unique(filter[red](scene())))": True,
    }
    for text, expected in cases.items():
        answer = run(text, scene, "scene_graph")
        assert answer.ok, (text, answer.failure)
        assert answer.value == expected, text


def test_relate_on_large_sets_is_exact():
    n = 2000
    objects = [SceneObject(i, "node", (Attribute("even" if i % 2 == 0 else "odd"),)) for i in range(n)]
    relations = [Relation(i, "next", (i + 1) % n) for i in range(n)]
    scene = SceneGraph(objects, relations)
    answer = run("relate[next](filter[even](scene()))", scene, "scene_graph")
    assert answer.value == [i for i in range(n) if i % 2 == 1]
    back = run("relate_reverse[next](filter[even](scene()))", scene, "scene_graph")
    assert back.value == [i for i in range(n) if i % 2 == 1]
    assert run("count(relate[next](relate[next](filter[even](scene()))))", scene, "scene_graph").value == n // 2
