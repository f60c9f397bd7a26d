"""Executors by name: the registry, the protocol, batches through execute_many, and the
answer's confidence (None from the symbolic executor, which is exact on the scene as read)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nsreason.errors import InputError, RegistryError
from nsreason.execute import EXECUTORS, Answer, Executor, SymbolicExecutor, execute_pairs, get_executor
from nsreason.program import Program
from tests.execute.confident import ConfidentExecutor, OneByOneExecutor

COUNT_RED = Program.from_text("count(filter_color[red](scene()))")
NOT_UNIQUE = Program.from_text("query_shape(unique(filter_color[red](scene())))")


def test_symbolic_is_registered_and_gives_no_confidence(four_objects):
    assert "symbolic" in EXECUTORS.names()
    executor = get_executor("symbolic")
    assert type(executor) is SymbolicExecutor and isinstance(executor, Executor)
    answer = executor.execute(COUNT_RED, four_objects)
    assert answer.value == 2 and answer.confidence is None
    assert answer.trace is not None and answer.trace.confidence is None
    assert "(p=" not in answer.trace.render_text()
    assert type(get_executor(None)) is SymbolicExecutor


def test_answer_confidence_is_the_last_field_and_defaults_to_none():
    answer = Answer("red", None, None, None, "Color")
    assert answer.confidence is None
    assert Answer("red", None, None, None, "Color", 0.75).confidence == 0.75
    # appended: the positional order of the first six fields kept (the scene, keyword-only in use, after them)
    assert Answer.__slots__[:6] == ("value", "program", "trace", "failure", "value_type", "confidence")


def test_unknown_names_are_a_registry_error_listing_the_registered_ones(test_executors):
    with pytest.raises(RegistryError, match=r"unknown executor 'oracle'; available: \[.*'confident-test'.*'symbolic'"):
        get_executor("oracle")


def test_registered_names_make_new_executors(test_executors, four_objects):
    a, b = get_executor("confident-test"), get_executor("confident-test")
    assert isinstance(a, ConfidentExecutor) and a is not b and test_executors == [a, b]
    answer = a.execute(COUNT_RED, four_objects)
    assert (answer.value, answer.confidence, answer.trace.confidence) == (2, 0.8, 0.8)
    assert answer.trace.render_text().splitlines()[0] == "answer: 2 (p=0.80)"


def test_instances_pass_through_and_non_executors_are_refused():
    executor = ConfidentExecutor()
    assert get_executor(executor) is executor
    with pytest.raises(InputError, match=r"expected an executor name \(one of \[.*'symbolic'.*\]\) or an object"):
        get_executor(42)  # type: ignore[arg-type]


def test_a_factory_that_makes_no_executor_is_a_registry_error(monkeypatch):
    monkeypatch.setitem(EXECUTORS._items, "broken-test", lambda: "not an executor")
    with pytest.raises(RegistryError, match="executor factory 'broken-test' returned 'not an executor'"):
        get_executor("broken-test")


def test_execute_pairs_batches_through_execute_many_when_there_is_one(four_objects):
    pairs = [(COUNT_RED, four_objects), (NOT_UNIQUE, four_objects), (COUNT_RED, four_objects)]
    batched = ConfidentExecutor(0.6)
    answers = execute_pairs(batched, pairs)
    assert batched.batches == [3] and batched.single == 0
    assert [a.value for a in answers] == [2, None, 2]
    assert [a.confidence for a in answers] == [0.6, None, 0.6]
    assert answers[1].failure.code == "not_unique"
    assert all(a.trace is None for a in answers)  # untraced unless asked

    one_by_one = OneByOneExecutor()
    again = execute_pairs(one_by_one, pairs, trace=True)
    assert one_by_one.inner.single == 3 and one_by_one.inner.batches == []
    assert [a.value for a in again] == [2, None, 2] and all(a.trace is not None for a in again)
    assert [a.value for a in execute_pairs(SymbolicExecutor(), pairs)] == [2, None, 2]


def test_an_execute_many_that_loses_answers_is_a_registry_error(four_objects):
    class Lossy(ConfidentExecutor):
        def execute_many(self, pairs, *, trace=False):
            return super().execute_many(pairs, trace=trace)[:-1]

    with pytest.raises(RegistryError, match="returned 1 answers for 2 questions"):
        execute_pairs(Lossy(), [(COUNT_RED, four_objects)] * 2)


@pytest.mark.slow  # a new interpreter imports torch
def test_neural_is_declared_and_loaded_only_when_asked_for():
    """``import nsreason.execute`` and listing the executors import neither
    ``nsreason.execute.neural`` nor torch; asking for "neural" imports its module, which
    registers the executor, and loads the shipped weights."""
    pytest.importorskip("torch")
    code = (
        "import sys\n"
        "from nsreason.execute import EXECUTORS, get_executor\n"
        "EXECUTORS.names(); assert 'neural' in EXECUTORS\n"
        "assert 'nsreason.execute.neural' not in sys.modules and 'torch' not in sys.modules\n"
        "ex = get_executor('neural')\n"
        "assert type(ex).__name__ == 'NeuralExecutor' and 'nsreason.execute.neural' in sys.modules\n"
        "print('neural')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "neural"
