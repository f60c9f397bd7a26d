"""The exact symbolic executor.

:meth:`SymbolicExecutor.execute` runs any valid :class:`~nsreason.program.Program` on any
:class:`~nsreason.scene.SceneGraph` and returns an :class:`Answer` with its
:class:`~nsreason.trace.Trace`. On CLEVR it reproduces the official question engine step
for step. Failures (``unique`` on 0 or 3 objects, a value outside the vocabulary, an op
without implementation, an invalid program) are recorded as a :class:`Failure` in the
answer and the trace; execution stops there, as CLEVR's engine does. Nothing is guessed and
nothing escapes as an exception.

How it stays fast: a program is *compiled* once (validated, each step bound to its
implementation in a small closure) and cached on the program; a scene is indexed once
(:class:`~nsreason.scene.index.SceneIndex`: bitsets); running is then one closure call per
step. The traced run adds one clock read per step and decodes bitsets into object ids only
when the trace is read.

>>> from nsreason.scene.clevr import clevr_scene_from_dict
>>> from nsreason.program import Program
>>> scene = clevr_scene_from_dict({"objects": [
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
...     {"shape": "cube", "size": "small", "color": "blue", "material": "rubber"}]})
>>> ex = SymbolicExecutor()
>>> ex.execute(Program.from_text("count(filter_shape[cube](scene()))"), scene).value
2
>>> ans = ex.execute(Program.from_text("query_color(unique(filter_shape[cube](scene())))"), scene)
>>> ans.value, str(ans.failure)
(None, 'step 2: not_unique: expected exactly one object, got 2 objects (0, 1)')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ExecutionFailure, ProgramError, RegistryError
from ..program.ir import Program
from ..program.vocab import Vocabulary, get_vocabulary
from ..registry import Registry
from ..scene.graph import SceneGraph
from ..scene.index import SceneIndex
from ..trace.trace import Failure, Trace, TraceStep
from .answer import Answer
from .codegen import StepBinding, build_runners
from .ops import OPS

__all__ = ["SymbolicExecutor", "CompiledProgram", "decode_value"]

@dataclass(frozen=True, slots=True)
class CompiledProgram:
    """A program bound to its implementations (see :mod:`nsreason.execute.codegen`):
    ``run(index)`` gives the final raw value, ``run_all(index, outs, times, clock)`` fills
    every output and wall time. ``invalid`` holds the failure of a program that did not
    validate; such a program never runs."""

    program: Program
    run: Callable[[SceneIndex], Any] | None
    run_all: Callable[..., None] | None
    kinds: tuple[str, ...]
    types: tuple[str, ...]
    invalid: Failure | None = None


class SymbolicExecutor:
    """Exact execution of programs over scene graphs.

    Parameters
    ----------
    vocabulary:
        Vocabulary to check and bind programs with; default: each program's own.
    ops:
        Registry of op implementations (default :data:`nsreason.execute.ops.OPS`).
    """

    def __init__(
        self, vocabulary: str | Vocabulary | None = None, ops: Registry[Any] = OPS
    ) -> None:
        self.vocabulary = get_vocabulary(vocabulary) if vocabulary is not None else None
        self.ops = ops
        self._token = object()  # identifies this executor in programs' compile caches

    def __repr__(self) -> str:
        name = self.vocabulary.name if self.vocabulary else "per-program"
        return f"SymbolicExecutor(vocabulary={name!r})"

    # -- compiling ------------------------------------------------------------------------
    def compile(self, program: Program) -> CompiledProgram:
        """Validate and bind ``program`` (cached on the program for this executor).
        An invalid program compiles to a :class:`CompiledProgram` whose ``invalid`` failure
        every run reports; :meth:`Program.validate` raises the same error instead."""
        cache = program._compiled
        if cache is not None and cache[0] is self._token:
            return cache[1]
        compiled = self._compile(program)
        program._compiled = (self._token, compiled)
        return compiled

    def _compile(self, program: Program) -> CompiledProgram:
        vocab = self.vocabulary or get_vocabulary(program.vocabulary)
        try:
            program.validate(vocab)
        except ProgramError as err:
            code = _FAILURE_CODES.get(type(err).__name__, "invalid_program")
            failure = Failure(code, str(err), _step_of(err.path))
            return CompiledProgram(program, None, None, (), (), failure)
        bindings: list[StepBinding] = []
        kinds, types = [], []
        for step in program.steps:
            sig = vocab.op(step.op)
            out_type = vocab.types[sig.output]
            try:
                impl = self.ops.get(sig.impl)
            except RegistryError as err:
                bindings.append((_failing("missing_op", f"op {step.op!r}: {err}"), (), (), None))
            else:
                args = step.args + (None,) * (len(sig.args) - len(step.args))
                consts = tuple(v for _, v in sig.params) + args
                check = None
                if out_type.kind == "value" and out_type.domain is not None:
                    check = _domain_check(frozenset(out_type.domain), out_type.name)
                bindings.append((impl, step.inputs, consts, check))
            kinds.append(out_type.kind)
            types.append(out_type.name)
        run, run_all = build_runners(bindings)
        return CompiledProgram(program, run, run_all, tuple(kinds), tuple(types))

    # -- running --------------------------------------------------------------------------
    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer:
        """Run ``program`` on ``scene``; the :class:`Answer` carries a :class:`Trace`
        unless ``trace=False``."""
        compiled = self.compile(program)
        if trace:
            return self.run_traced(compiled, scene)
        value, failure = self.run(compiled, scene.index)
        out_type = compiled.types[-1] if compiled.types else None
        if failure is not None:
            return Answer(None, program, None, failure, out_type)
        return Answer(decode_value(value, compiled.kinds[-1], scene.index), program, None, None, out_type)

    def run(self, compiled: CompiledProgram, index: SceneIndex) -> tuple[Any, Failure | None]:
        """The raw final value (a bitset for sets, a position for objects) and the failure,
        untraced: the fast path of evaluation loops."""
        if compiled.invalid is not None:
            return None, compiled.invalid
        try:
            return compiled.run(index), None  # type: ignore[misc]
        except Exception:
            # Rare path: run again step by step to learn which step failed and why.
            return None, self.run_all(compiled, index)[2]

    def run_all(
        self, compiled: CompiledProgram, index: SceneIndex
    ) -> tuple[list[Any], list[int], Failure | None]:
        """Raw outputs of every step that ran, clock readings (ns; one before the first
        step and one after each step that completed), and the failure if one stopped the
        run (the failing step is ``len(outputs)``)."""
        outs: list[Any] = []
        clocks: list[int] = []
        if compiled.invalid is not None:
            return outs, clocks, compiled.invalid
        try:
            compiled.run_all(index, outs, clocks, time.perf_counter_ns)  # type: ignore[misc]
        except ExecutionFailure as exc:
            clocks.append(time.perf_counter_ns())
            return outs, clocks, Failure(exc.code, exc.reason, len(outs))
        except Exception as exc:  # a faulty (user) op must not crash the caller
            clocks.append(time.perf_counter_ns())
            return outs, clocks, Failure("op_error", f"{type(exc).__name__}: {exc}", len(outs))
        return outs, clocks, None

    def run_traced(self, compiled: CompiledProgram, scene: SceneGraph) -> Answer:
        """Run with a trace: every step's output, failure and wall time. Outputs are
        decoded into object ids when the trace's steps are first read."""
        index = scene.index
        program = compiled.program
        outs, clocks, failure = self.run_all(compiled, index)
        value = None if failure is not None else decode_value(outs[-1], compiled.kinds[-1], index)
        trace = Trace(
            answer=value,
            failure=failure,
            program=program,
            scene_id=scene.id,
            vocabulary=program.vocabulary_name,
            builder=lambda: _trace_steps(compiled, index, outs, clocks, failure),
        )
        out_type = compiled.types[-1] if compiled.types else None
        return Answer(value, program, trace, failure, out_type)


# -- helpers ------------------------------------------------------------------------------
_FAILURE_CODES = {
    "UnknownValueError": "unknown_value",
    "UnknownOpError": "unknown_op",
    "ProgramTypeError": "type_error",
}


def _step_of(path: str | None) -> int | None:
    if path and path.startswith("program[") and "]" in path:
        try:
            return int(path[len("program[") : path.index("]")])
        except ValueError:
            return None
    return None


def decode_value(raw: Any, kind: str, index: SceneIndex) -> Any:
    """A raw executor value as users see it: object sets → lists of object ids, an
    object → its id, anything else unchanged."""
    if kind == "object_set":
        return index.decode(raw)
    if kind == "object":
        return index.ids[raw]
    return raw


def _trace_steps(
    compiled: CompiledProgram,
    index: SceneIndex,
    outs: list[Any],
    clocks: list[int],
    failure: Failure | None,
) -> list[TraceStep]:
    steps = []
    kinds, types = compiled.kinds, compiled.types
    for i, step in enumerate(compiled.program.steps):
        out_type = types[i] if i < len(types) else ""
        elapsed = clocks[i + 1] - clocks[i] if i + 1 < len(clocks) else 0
        if i < len(outs):
            output = decode_value(outs[i], kinds[i], index)
            steps.append(TraceStep(i, step.op, step.args, step.inputs, output, out_type,
                                   "ok", None, elapsed))
        elif failure is not None and failure.step == i:
            steps.append(TraceStep(i, step.op, step.args, step.inputs, None, out_type,
                                   "failed", failure, elapsed))
        else:
            steps.append(TraceStep(i, step.op, step.args, step.inputs, None, out_type, "skipped"))
    return steps


def _failing(code: str, reason: str) -> Callable[..., Any]:
    def fail(ix: SceneIndex, *_: Any) -> Any:
        raise ExecutionFailure(code, reason)

    return fail


def _domain_check(domain: frozenset[str], type_name: str) -> Callable[[Any], Any]:
    """A scene value outside a closed vocabulary domain (a 'pink' object for CLEVR's
    Color) is a failure, not an answer."""

    def check(value: Any) -> Any:
        if value not in domain:
            raise ExecutionFailure(
                "unknown_value",
                f"{value!r} is not a {type_name} of the vocabulary ({sorted(domain)})",
            )
        return value

    return check
