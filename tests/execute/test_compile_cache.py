"""Compiling from the executor's caches (steps bound before, wiring checked before,
interpreted or generated code) never changes an answer, a trace or an error."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.errors import ProgramError
from nsreason.execute import OPS, SymbolicExecutor, codegen
from nsreason.program import Program, Step, Vocabulary
from nsreason.program.clevr import program_from_clevr
from nsreason.registry import Registry
from nsreason.scene import SceneGraph
from tests.execute.strategies import clevr_scenes
from tests.program.strategies import programs

S = Step
COUNT_RED = [S("scene"), S("filter_color", (0,), ("red",)), S("count", (1,))]


def _outcome(executor: SymbolicExecutor, program: Program, scene: SceneGraph):
    """Everything a caller can see: untraced and traced answers, failures, every step.
    The untraced runs come first, on a program not compiled yet: ``run_program`` and
    ``execute(trace=False)`` then take the fused cold path (``_run_cold``) where the
    executor's caches know the steps, and the compiled path after."""
    raw = executor.run_program(_fresh(program), scene.index)
    untraced = executor.execute(program, scene, trace=False)
    again = executor.execute(program, scene, trace=False)  # now by its compiled form
    compiled = executor.compile(program)
    assert raw == executor.run(compiled, scene.index)
    assert (again.value, again.failure, again.value_type) == (
        untraced.value, untraced.failure, untraced.value_type)
    traced = executor.execute(program, scene)  # by its compiled form
    steps = [(s.status, s.output, s.output_type, s.failure) for s in traced.trace.steps]
    cold = executor.execute(_fresh(program), scene)  # fused, where the caches know the steps
    assert (cold.value, cold.failure, cold.value_type) == (
        traced.value, traced.failure, traced.value_type)
    assert [(s.status, s.output, s.output_type, s.failure) for s in cold.trace.steps] == steps
    assert ((cold.trace.answer, cold.trace.failure, cold.trace.scene_id,
             cold.trace.vocabulary, cold.trace.program)
            == (traced.trace.answer, traced.trace.failure, traced.trace.scene_id,
                traced.trace.vocabulary, traced.trace.program))
    return (untraced.value, untraced.failure, untraced.value_type,
            traced.value, traced.failure, traced.value_type, steps)


def _fresh(program: Program) -> Program:
    """An equal program in new objects (no compiled form cached on it)."""
    return Program([Step(s.op, s.inputs, s.args) for s in program.steps], program.vocabulary)


WARM = SymbolicExecutor()  # caches grow over every example
CODE = SymbolicExecutor(generate_after=0)  # generated code at once


@pytest.mark.slow  # 200 examples: about 2 s
@settings(max_examples=200, deadline=None)
@given(st.lists(programs("clevr", max_depth=6), min_size=1, max_size=4), clevr_scenes())
def test_warm_caches_answer_as_a_new_executor(batch, scene):
    for program in batch:
        cold = _outcome(SymbolicExecutor(), _fresh(program), scene)
        assert _outcome(WARM, _fresh(program), scene) == cold
        assert _outcome(WARM, _fresh(program), scene) == cold  # now all from the caches
        assert _outcome(CODE, _fresh(program), scene) == cold


def _error(program: Program) -> str:
    try:
        program.validate()
    except ProgramError as err:
        return str(err)
    raise AssertionError("expected an invalid program")


def test_invalid_programs_after_valid_ones_of_the_same_structure(four_objects):
    ex = SymbolicExecutor()
    assert ex.execute(Program(COUNT_RED), four_objects).value == 2
    assert ex.execute(Program(COUNT_RED), four_objects).value == 2  # from the caches
    # filter_color on step 2, known from a valid program: then met before its input
    later = [S("scene"), S("scene"), S("scene"), S("filter_color", (2,), ("red",)), S("count", (3,))]
    assert ex.execute(Program(later), four_objects).value == 2
    bad = [
        # a known step whose input is a later step (its tag known, its wiring not)
        Program([S("scene"), S("filter_color", (2,), ("red",)), S("scene"), S("count", (1,))]),
        # a value outside the domain, in a step whose op and wiring are known
        Program([S("scene"), S("filter_color", (0,), ("pink",)), S("count", (1,))]),
        # bool and float inputs equal known int inputs (True == 1, 1.0 == 1)
        Program([S("scene"), S("filter_color", (0,), ("red",)), S("count", (True,))]),
        Program([S("scene"), S("filter_color", (0,), ("red",)), S("count", (1.0,))]),
        # a known step at a position where its input is not an earlier step
        Program([S("filter_color", (0,), ("red",)), S("scene"), S("count", (1,))]),
        # known steps wired to the wrong type
        Program([S("scene"), S("count", (0,)), S("filter_color", (1,), ("red",))]),
        # an argument equal to a known one but of another type, a missing one, an extra one
        Program([S("scene"), S("filter_color", (0,), (1,)), S("count", (1,))]),
        Program([S("scene"), S("filter_color", (0,), ()), S("count", (1,))]),
        Program([S("scene"), S("filter_color", (0,), ("red", "red")), S("count", (1,))]),
        Program([S("scene"), S("filter_color", (0, 0), ("red",)), S("count", (1,))]),
        Program([]),
    ]
    for program in bad:
        for executor in (ex, SymbolicExecutor()):
            answer = executor.execute(program, four_objects)
            assert answer.failure is not None, program.steps
            assert answer.failure.reason == _error(program), program.steps
            again = executor.execute(_fresh(program), four_objects, trace=False)
            assert again.failure == answer.failure


def test_a_replaced_op_is_used_by_programs_compiled_after(four_objects):
    ops: Registry = Registry("op implementation", entry_point_group=None)
    for name in ("scene", "filter_attribute", "count"):
        ops.register(name, OPS.get(name))
    ex = SymbolicExecutor(ops=ops)
    assert ex.execute(Program(COUNT_RED), four_objects).value == 2
    ops.register("count", lambda ix, objects: -1, replace=True)
    assert ex.execute(Program(COUNT_RED), four_objects).value == -1


def test_executors_with_other_vocabularies_do_not_share_bindings(four_objects):
    clevr = SymbolicExecutor()
    assert clevr.execute(Program(COUNT_RED), four_objects).value == 2
    # the same op name bound to another implementation in another vocabulary
    other = Vocabulary.from_dict({
        "name": "other",
        "types": {"ObjectSet": {"kind": "object_set"}, "Integer": {"kind": "integer"},
                  "Color": {"kind": "value"}},
        "ops": {
            "scene": {"inputs": [], "output": "ObjectSet"},
            "filter_color": {"inputs": ["ObjectSet"], "args": [{"name": "c", "type": "Color"}],
                             "output": "ObjectSet", "impl": "exclude_value"},
            "count": {"inputs": ["ObjectSet"], "output": "Integer"},
        },
    })
    program = Program(COUNT_RED, other)
    assert clevr.execute(program, four_objects).value == 2  # not red: objects 2 and 3
    assert SymbolicExecutor(other).execute(_fresh(program), four_objects).value == 2
    assert clevr.execute(Program(COUNT_RED), four_objects).value == 2


def test_generated_code_takes_over_after_enough_runs(four_objects):
    codegen._GENERATED.clear()  # as in a new process
    ex = SymbolicExecutor(generate_after=3)
    program = Program.from_text("query_shape(unique(filter_color[blue](scene())))")
    compiled = ex.compile(program)
    interpreted = compiled.plan.run
    assert codegen.generated(compiled.plan.shape) is None
    answers = [ex.run(compiled, four_objects.index) for _ in range(5)]
    assert answers == [("cylinder", None)] * 5
    assert compiled.plan.run is not interpreted  # generated now
    assert codegen.generated(compiled.plan.shape) is not None
    assert ex.run_traced(compiled, four_objects).trace.steps[-1].output == "cylinder"


def test_threads_compiling_at_once_agree(four_objects):
    texts = [
        "count(filter_color[red](scene()))",
        "count(filter_size[small](filter_color[red](scene())))",
        "query_shape(unique(filter_color[blue](scene())))",
        "exist(relate[left](unique(filter_color[blue](scene()))))",
        "equal_integer(count(filter_color[red](scene())), count(filter_size[large](scene())))",
        "query_color(unique(filter_color[pink](scene())))",  # invalid
    ]
    expected = [_outcome(SymbolicExecutor(), Program.from_text(t) if "pink" not in t else
                         Program([S("scene"), S("filter_color", (0,), ("pink",)),
                                  S("unique", (1,)), S("query_color", (2,))]), four_objects)
                for t in texts]
    shared = SymbolicExecutor()
    results: list[list] = []

    def work() -> None:
        got = []
        for _ in range(30):
            for t in texts:
                p = (Program.from_text(t) if "pink" not in t else
                     Program([S("scene"), S("filter_color", (0,), ("pink",)),
                              S("unique", (1,)), S("query_color", (2,))]))
                got.append(_outcome(shared, p, four_objects))
        results.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for got in results:
        assert got == expected * 30


def test_the_clevr_loader_shares_equal_steps():
    nodes = [{"function": "scene", "inputs": [], "value_inputs": []},
             {"function": "filter_color", "inputs": [0], "value_inputs": ["red"]},
             {"function": "count", "inputs": [1], "value_inputs": []}]
    data = {"questions": [{"image_index": 0, "question": "?", "answer": "2", "program": nodes},
                          {"image_index": 1, "question": "?", "answer": "1", "program": nodes}]}
    a, b = (q.program for q in load_clevr_questions(data))
    assert a == b == program_from_clevr(nodes)
    assert all(x is y for x, y in zip(a.steps, b.steps))
    # a boolean value is never merged with an equal integer or string
    flagged = [dict(nodes[1], value_inputs=[True])]
    shared: dict = {}
    p = program_from_clevr([nodes[0], *flagged], shared=shared)
    q = program_from_clevr([nodes[0], dict(nodes[1], value_inputs=[1])], shared=shared)
    assert p.steps[1].args == (True,) and type(q.steps[1].args[0]) is int


def test_full_caches_start_anew(four_objects, monkeypatch):
    from nsreason.execute import symbolic

    monkeypatch.setattr(symbolic, "_MAX_TAGS_CACHED", 3)
    monkeypatch.setattr(symbolic, "_MAX_STEPS_CACHED", 4)
    monkeypatch.setattr(symbolic, "_MAX_PLANS_CACHED", 2)
    texts = [
        "count(filter_color[red](scene()))",
        "count(filter_size[small](filter_color[red](scene())))",
        "query_shape(unique(filter_color[blue](scene())))",
        "exist(relate[left](unique(filter_color[blue](scene()))))",
        "equal_integer(count(filter_color[red](scene())), count(filter_size[large](scene())))",
    ]
    ex = SymbolicExecutor()
    for _ in range(3):
        for t in texts:
            program = Program.from_text(t)
            assert _outcome(ex, program, four_objects) == _outcome(
                SymbolicExecutor(), _fresh(program), four_objects)


def test_the_fused_cold_path_runs_known_steps_and_lets_validation_win(four_objects):
    ex = SymbolicExecutor()
    index = four_objects.index
    assert ex.run_program(Program(COUNT_RED), index) == (2, None)  # new steps: checked, bound
    assert ex.run_program(Program.from_text("query_shape(unique(scene()))"), index)[1] is not None
    fresh = _fresh(Program(COUNT_RED))
    assert ex._run_cold(fresh, index) == (2, None, "integer", "Integer")  # fused, not compiled
    assert ex.run_program(fresh, index) == (2, None)  # run again: compiled now
    assert ex.compile(fresh) is fresh._compiled[1]
    # unique fails at run time on four objects, and a later known step is wired to the
    # wrong type: the validation error wins, worded as Program.validate words it
    bad = Program([S("scene"), S("unique", (0,)), S("count", (1,))])
    assert ex._run_cold(_fresh(bad), index) is None
    value, failure = ex.run_program(_fresh(bad), index)
    assert value is None and failure.reason == _error(bad)
    assert ex.execute(_fresh(bad), four_objects, trace=False).failure == failure
    # a runtime failure in a valid program: the failure run_all gives
    fails = Program.from_text("query_shape(unique(scene()))")
    got = ex._run_cold(fails, index)
    assert got is not None and got[1] == ex.run_all(ex.compile(_fresh(fails)), index)[2]
    assert got[1].code == "not_unique" and got[1].step == 1
    # traced: the fused path's answer and trace are those of the compiled path
    cold = ex._run_cold_traced(_fresh(fails), four_objects)
    warm = ex.run_traced(ex.compile(_fresh(fails)), four_objects)
    assert cold is not None and (cold.value, cold.failure) == (warm.value, warm.failure)
    assert [(s.status, s.output, s.output_type) for s in cold.trace.steps] == [
        (s.status, s.output, s.output_type) for s in warm.trace.steps]
    assert ex._run_cold_traced(_fresh(bad), four_objects) is None
    assert ex.execute(_fresh(bad), four_objects).failure.reason == _error(bad)


def test_new_steps_on_the_cold_path_are_checked_as_validate_checks_them(four_objects):
    ex = SymbolicExecutor()
    index = four_objects.index
    for bad in (
        Program([S("scene"), S("filter_color", (0,), ("mauve",)), S("count", (1,))]),  # domain
        Program([S("scene"), S("filter_color", (0,), ()), S("count", (1,))]),  # arity
        Program([S("scene"), S("filter_colour", (0,), ("red",)), S("count", (1,))]),  # op
        Program([S("scene"), S("unique", (0,)), S("filter_color", (1,), ("mauve",))]),  # after a failure
    ):
        assert ex._run_cold(_fresh(bad), index) is None
        value, failure = ex.run_program(_fresh(bad), index)
        assert value is None and failure.reason == _error(bad)
        assert ex.execute(_fresh(bad), four_objects).failure.reason == _error(bad)


def test_executors_sharing_step_objects_each_run_them_with_their_own_bindings(four_objects):
    """A step caches the binding of the executor that bound it last; another executor
    (another op registry here) must never run it."""
    ops: Registry = Registry("op implementation", entry_point_group=None)
    for name in OPS.names():
        ops.register(name, OPS.get(name))
    ops.register("count", lambda ix, objects: 100 + bin(objects).count("1"), replace=True)
    mine, theirs = SymbolicExecutor(), SymbolicExecutor(ops=ops)
    steps = [Step(s.op, s.inputs, s.args) for s in COUNT_RED]
    for _ in range(3):  # alternate, on new programs made of the same Step objects
        assert mine.run_program(Program(steps), four_objects.index) == (2, None)
        assert theirs.run_program(Program(steps), four_objects.index) == (102, None)
        assert mine.execute(Program(steps), four_objects).value == 2
        assert theirs.execute(Program(steps), four_objects).value == 102


def test_a_cached_binding_is_not_part_of_a_steps_value(four_objects):
    import pickle

    ex = SymbolicExecutor()
    program = Program.from_text("count(filter_color[red](scene()))")
    assert ex.run_program(program, four_objects.index) == (2, None)
    step = program.steps[1]
    assert step._bound[-1] is not None  # bound, and cached on the step
    assert step == Step("filter_color", (0,), ("red",)) and hash(step) == hash(Step("filter_color", (0,), ("red",)))
    assert repr(step) == "Step(op='filter_color', inputs=(0,), args=('red',))"
    again = pickle.loads(pickle.dumps(step))
    assert again == step and again._bound[-1] is None
    assert len(Step("scene")._bound) == codegen.BINDING_WIDTH
