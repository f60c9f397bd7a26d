"""The program IR: steps, value semantics, validation errors, canonical form."""

from __future__ import annotations

import pytest

from nsreason.errors import (
    NSReasonError,
    ProgramError,
    ProgramFormatError,
    ProgramTypeError,
    UnknownOpError,
    UnknownValueError,
)
from nsreason.program import Program, Step, get_vocabulary
from nsreason.program.ir import MAX_TREE_STEPS
from tests.program.strategies import toy_vocabulary

S = Step


def chain(*ops_args) -> list[Step]:
    """scene() then each (op, args) applied to the previous step."""
    steps = [S("scene")]
    for op, args in ops_args:
        steps.append(S(op, (len(steps) - 1,), args))
    return steps


# A CLEVR "same_relate"-style program whose step 3 is relate.
RELATE = chain(("filter_color", ("red",)), ("unique", ()), ("relate", ("left",)), ("count", ()))


# -- steps and value semantics ------------------------------------------------------------------


def test_steps_store_tuples_and_are_hashable():
    s = Step("filter_color", [0], ["red"])
    assert s.inputs == (0,) and s.args == ("red",)
    assert hash(s) == hash(Step("filter_color", (0,), ("red",)))
    assert Step("scene") == Step("scene", (), ())


def test_programs_are_values():
    a = Program(RELATE)
    b = Program(list(RELATE), "clevr")
    assert a == b and hash(a) == hash(b)
    assert a != Program(RELATE, "scene_graph")
    assert a == Program(RELATE, get_vocabulary("clevr"))  # compared by vocabulary name
    assert a != Program(RELATE[:-1])
    assert (a == "count(scene())") is False
    assert len(a) == 5 and a[3] == S("relate", (2,), ("left",)) and list(a) == list(RELATE)
    assert a.vocabulary_name == "clevr"
    assert Program(RELATE, get_vocabulary("scene_graph")).vocabulary_name == "scene_graph"


def test_repr_shows_the_text_form_or_the_size():
    assert repr(Program(RELATE)) == "Program('count(relate[left](unique(filter_color[red](scene()))))')"
    assert repr(Program([])) == "Program('0 steps')"
    assert repr(Program([S("scene"), S("count", (5,))])) == "Program('2 steps')"


def test_output_types():
    assert Program(RELATE).output_types() == ["ObjectSet", "ObjectSet", "Object", "ObjectSet", "Integer"]
    with pytest.raises(UnknownOpError):
        Program([S("nope")]).output_types()


def test_validate_returns_the_program():
    p = Program(RELATE)
    assert p.validate() is p
    assert p.validate("clevr") is p
    assert p.validate(get_vocabulary("clevr")) is p


# -- validation errors ---------------------------------------------------------------------------


def raises(exc_type, program, *, vocabulary=None):
    with pytest.raises(exc_type) as info:
        program.validate(vocabulary)
    assert type(info.value) is exc_type, f"{type(info.value).__name__}: {info.value}"
    assert isinstance(info.value, ProgramError) and isinstance(info.value, ValueError)
    return info.value


def test_empty_program():
    err = raises(ProgramFormatError, Program([]))
    assert str(err) == "program: a program needs at least one step"


def test_unknown_op_names_the_step_and_suggests():
    steps = list(RELATE)
    steps[3] = S("relat", (2,), ("left",))
    err = raises(UnknownOpError, Program(steps))
    assert err.path == "program[3] (relat)"
    assert str(err).startswith(
        "program[3] (relat): unknown op 'relat' in vocabulary 'clevr'; did you mean ['relate'"
    )


def test_unknown_op_of_the_other_vocabulary():
    err = raises(UnknownOpError, Program([S("scene"), S("select", (0,), ("man",))]))
    assert str(err).startswith("program[1] (select): unknown op 'select' in vocabulary 'clevr'")
    Program([S("scene"), S("select", (0,), ("man",))], "scene_graph").validate()


def test_non_string_op_is_an_unknown_op():
    err = raises(UnknownOpError, Program([S(None)]))  # type: ignore[arg-type]
    assert err.path == "program[0] (None)"


def test_wrong_arity():
    steps = list(RELATE)
    steps[3] = S("relate", (2, 1), ("left",))
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == "program[3] (relate): takes 1 input(s) ['Object'], got 2"
    err = raises(ProgramTypeError, Program([S("scene", (), ()), S("union", (0,))]))
    assert str(err) == "program[1] (union): takes 2 input(s) ['ObjectSet', 'ObjectSet'], got 1"
    err = raises(ProgramTypeError, Program([S("scene", (0,))]))
    assert str(err) == "program[0] (scene): takes 0 input(s) [], got 1"


def test_wrong_input_type():
    steps = list(RELATE)
    steps[3] = S("relate", (1,), ("left",))  # an ObjectSet where an Object is expected
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == (
        "program[3] (relate): input 0 is step 1 (filter_color) of type ObjectSet, expected Object"
    )
    err = raises(ProgramTypeError, Program(chain(("count", ()), ("exist", ()))))
    assert str(err) == "program[2] (exist): input 0 is step 1 (count) of type Integer, expected ObjectSet"


def test_second_input_type_is_checked_too():
    steps = [S("scene"), S("count", (0,)), S("unique", (0,)), S("equal_integer", (1, 2))]
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == (
        "program[3] (equal_integer): input 1 is step 2 (unique) of type Object, expected Integer"
    )


@pytest.mark.parametrize(
    ("bad", "got"),
    [(3, "3"), (4, "4"), (-1, "-1"), (1.0, "1.0"), ("2", "'2'"), (True, "True"), (None, "None")],
)
def test_input_must_be_an_earlier_step(bad, got):
    steps = list(RELATE)
    steps[3] = S("relate", (bad,), ("left",))
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == (
        f"program[3] (relate): input 0 must be the index of an earlier step (0..2), got {got}"
    )


def test_first_step_has_no_earlier_step():
    err = raises(ProgramTypeError, Program([S("count", (0,))]))
    assert str(err) == (
        "program[0] (count): input 0 must be the index of an earlier step (none here), got 0"
    )


def test_wrong_number_of_value_arguments():
    steps = list(RELATE)
    steps[3] = S("relate", (2,), ())
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == "program[3] (relate): takes 1 value argument(s) ['relation'], got 0: []"
    steps[3] = S("relate", (2,), ("left", "right"))
    err = raises(ProgramTypeError, Program(steps))
    assert str(err) == (
        "program[3] (relate): takes 1 value argument(s) ['relation'], got 2: ['left', 'right']"
    )
    err = raises(ProgramTypeError, Program([S("scene", (), ("x",))]))
    assert str(err) == "program[0] (scene): takes 0 value argument(s) [], got 1: ['x']"


def test_optional_value_arguments_of_template_ops():
    ok = [(), (None,), ("large",), ("large", "red"), (None, "red", None, None), ("small", "red", "metal", "cube")]
    for args in ok:
        Program([S("scene"), S("filter", (0,), args)]).validate()
    err = raises(ProgramTypeError, Program([S("scene"), S("filter", (0,), (None,) * 5)]))
    assert str(err) == (
        "program[1] (filter): takes 0 to 4 value argument(s) ['size', 'color', 'material', 'shape'], "
        "got 5: [None, None, None, None, None]"
    )
    # relate_filter: the relation is required, the attributes are not
    base = [S("scene"), S("unique", (0,))]
    Program([*base, S("relate_filter", (1,), ("left", None, "red"))]).validate()
    err = raises(ProgramTypeError, Program([*base, S("relate_filter", (1,), (None, "small"))]))
    assert str(err) == "program[2] (relate_filter): value argument 'relation' is required"
    err = raises(ProgramTypeError, Program([*base, S("relate_filter", (1,), ())]))
    assert "takes 1 to 5 value argument(s) ['relation', 'size', 'color', 'material', 'shape'], got 0" in str(err)


def test_a_required_argument_after_an_optional_one_cannot_be_left_out():
    toy = toy_vocabulary()
    Program([S("all"), S("pick", (0,), (None, "bob"))], toy).validate()
    err = raises(ProgramTypeError, Program([S("all"), S("pick", (0,), ("red",))], toy))
    assert str(err) == "program[1] (pick): takes 2 value argument(s) ['color', 'name'], got 1: ['red']"
    err = raises(ProgramTypeError, Program([S("all"), S("pick", (0,), ("red", None))], toy))
    assert str(err) == "program[1] (pick): value argument 'name' is required"


@pytest.mark.parametrize(
    ("op", "value", "message"),
    [
        (
            "filter_color",
            "reddish",
            (
                "color: expected one of ['gray', 'red', 'blue', 'green', 'brown', 'purple', "
                "'cyan', 'yellow'] (Color), got 'reddish'"
            ),
        ),
        ("filter_color", "Red", "got 'Red'"),
        ("filter_color", "", "got ''"),
        ("filter_color", 3, "got 3"),
        ("filter_shape", "red", "shape: expected one of ['cube', 'sphere', 'cylinder'] (Shape), got 'red'"),
        ("filter_size", "big", "size: expected one of ['small', 'large'] (Size), got 'big'"),
        ("filter_material", ["metal"], "got ['metal']"),
    ],
)
def test_unknown_values(op, value, message):
    err = raises(UnknownValueError, Program([S("scene"), S(op, (0,), (value,)), S("count", (1,))]))
    assert err.path == f"program[1] ({op})"
    assert message in err.message
    assert str(err) == f"program[1] ({op}): {err.message}"


def test_unknown_relation_names_the_relate_step():
    steps = list(RELATE)
    steps[3] = S("relate", (2,), ("above",))
    err = raises(UnknownValueError, Program(steps))
    assert str(err) == (
        "program[3] (relate): relation: expected one of ['left', 'right', 'behind', 'front'] "
        "(Relation), got 'above'"
    )


def test_open_values_must_be_non_empty_strings():
    p = Program([S("scene"), S("select", (0,), ("teddy bear",))], "scene_graph")
    p.validate()
    for bad in ("", 3, None, True):
        bad_p = Program([S("scene"), S("select", (0,), (bad,))], "scene_graph")
        exc = ProgramTypeError if bad is None else UnknownValueError
        err = raises(exc, bad_p)
        assert err.path == "program[1] (select)"
    err = raises(UnknownValueError, Program([S("scene"), S("select", (0,), ("",))], "scene_graph"))
    assert str(err) == "program[1] (select): name: expected a non-empty string (Name), got ''"


def test_integer_and_bool_arguments():
    toy = toy_vocabulary()
    Program([S("all"), S("top", (0,), (3,)), S("keep", (1,), (True, -2))], toy).validate()
    err = raises(UnknownValueError, Program([S("all"), S("top", (0,), (True,))], toy))
    assert str(err) == "program[1] (top): k: expected an integer (Int), got True"
    err = raises(UnknownValueError, Program([S("all"), S("top", (0,), ("3",))], toy))
    assert str(err) == "program[1] (top): k: expected an integer (Int), got '3'"
    err = raises(UnknownValueError, Program([S("all"), S("keep", (0,), (1,))], toy))
    assert str(err) == "program[1] (keep): flag: expected true or false (Flag), got 1"


def test_validate_against_another_vocabulary():
    p = Program([S("scene"), S("select", (0,), ("man",)), S("count", (1,))], "scene_graph")
    p.validate()
    raises(UnknownOpError, p, vocabulary="clevr")


def test_the_first_error_is_reported():
    steps = [S("scene"), S("filter_color", (0,), ("reddish",)), S("nope", (1,))]
    raises(UnknownValueError, Program(steps))


def test_all_program_errors_are_nsreason_errors():
    for exc in (ProgramFormatError, ProgramTypeError, UnknownOpError, UnknownValueError):
        assert issubclass(exc, ProgramError) and issubclass(exc, NSReasonError)


# -- canonical -----------------------------------------------------------------------------------


def test_canonical_of_a_post_order_tree_is_itself():
    p = Program(RELATE)
    assert p.canonical() == p


def test_canonical_renumbers_in_post_order_inputs_left_to_right():
    # CLEVR numbering: the right branch is built first.
    p = Program(
        [
            S("scene"),                       # 0: right branch
            S("filter_shape", (0,), ("cube",)),  # 1
            S("count", (1,)),                 # 2
            S("scene"),                       # 3: left branch
            S("count", (3,)),                 # 4
            S("greater_than", (4, 2)),        # 5
        ]
    ).validate()
    c = p.canonical()
    assert c.steps == (
        S("scene"),
        S("count", (0,)),
        S("scene"),
        S("filter_shape", (2,), ("cube",)),
        S("count", (3,)),
        S("greater_than", (1, 4)),
    )
    c.validate()
    assert c.canonical() == c
    assert c.to_text() == p.to_text() == "greater_than(count(scene()), count(filter_shape[cube](scene())))"


def test_canonical_drops_steps_that_do_not_feed_the_answer():
    p = Program([S("scene"), S("count", (0,)), S("scene"), S("exist", (2,))])
    assert p.canonical() == Program([S("scene"), S("exist", (0,))])


def test_canonical_writes_shared_steps_once_per_use():
    p = Program([S("scene"), S("unique", (0,)), S("equal_object", (1, 1))]).validate()
    c = p.canonical()
    assert c.steps == (S("scene"), S("unique", (0,)), S("scene"), S("unique", (2,)), S("equal_object", (1, 3)))
    assert Program.from_text(p.to_text()) == c
    assert Program.from_postfix(p.to_postfix()) == c
    assert Program.from_prefix(p.to_prefix()) == c


def test_canonical_keeps_the_vocabulary():
    p = Program([S("scene"), S("scene"), S("count", (1,))], "scene_graph")
    assert p.canonical().vocabulary == "scene_graph"


def test_canonical_of_an_empty_program():
    assert Program([]).canonical() == Program([])


def test_canonical_of_a_deep_program_does_not_recurse():
    p = Program(chain(*[("filter_color", ("red",))] * 5000, ("count", ())))
    assert p.canonical() == p
    q = Program([*p.steps[:-1], S("scene"), S("count", (len(p) - 2,))])  # dead scene() before count
    assert q.canonical() == p


@pytest.mark.parametrize("bad", [5, 2, -1, True, "0"])
def test_canonical_refuses_steps_that_read_no_earlier_step(bad):
    p = Program([S("scene"), S("unique", (0,)), S("count", (bad,))])
    with pytest.raises(ProgramFormatError) as info:
        p.canonical()
    assert info.value.path == "program[2].inputs"
    assert str(info.value) == f"program[2].inputs: step 2 (count) reads step {bad!r}, which is not an earlier step"


def test_canonical_refuses_a_self_loop_instead_of_hanging():
    with pytest.raises(ProgramFormatError):
        Program([S("scene"), S("count", (1,))]).canonical()
    with pytest.raises(ProgramFormatError):
        Program([S("scene"), S("count", (1,))]).to_postfix()


def test_canonical_refuses_exponential_trees():
    # Each union reads the previous one twice: 2**40 steps written out as a tree.
    steps = [S("scene")] + [S("union", (i, i)) for i in range(40)] + [S("count", (40,))]
    p = Program(steps).validate()
    with pytest.raises(ProgramFormatError, match=f"more than {MAX_TREE_STEPS} steps"):
        p.canonical()
    assert repr(p) == "Program('42 steps')"  # no hang
    # small shared DAGs are fine
    small = Program([S("scene")] + [S("union", (i, i)) for i in range(5)] + [S("count", (5,))])
    assert len(small.canonical()) == 2**6 - 1 + 1


def test_program_converters_are_reachable_as_methods():
    p = Program(RELATE)
    assert Program.from_text(p.to_text()) == p
    assert Program.from_prefix(p.to_prefix()) == p
    assert Program.from_postfix(p.to_postfix()) == p
    assert Program.from_clevr(p.to_clevr()) == p
    assert Program.from_clevr(p.to_clevr(generator=True)) == p
    assert p.get_vocabulary() is get_vocabulary("clevr")
