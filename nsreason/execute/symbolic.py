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

import itertools
import threading
import time
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ..errors import ExecutionFailure, ProgramError, RegistryError
from ..program.ir import Program, Step, check_args
from ..program.vocab import Vocabulary, get_vocabulary
from ..registry import Registry
from ..scene.graph import SceneGraph
from ..scene.index import SceneIndex
from ..trace.trace import Failure, Trace, TraceStep
from .answer import Answer
from .codegen import Shape, StepBinding, runners
from .ops import OPS

__all__ = ["SymbolicExecutor", "CompiledProgram", "decode_value"]

class CompiledProgram:
    """A validated program bound to its implementations (see
    :mod:`nsreason.execute.codegen`): ``run(index)`` gives the final raw value,
    ``run_all(index, outs, clocks, clock)`` fills every output and clock reading.
    ``kinds`` and ``types`` are the kind and type name of every step's output. ``invalid``
    holds the failure of a program that did not validate; such a program never runs.

    Programs of the same shape share their generated code (``plan``); what is particular
    to a program is ``bindings``: per step, its implementation and constants."""

    __slots__ = ("program", "kinds", "types", "invalid", "bindings", "plan")

    def __init__(
        self,
        program: Program,
        plan: _Plan | None,
        bindings: tuple[StepBinding, ...] = (),
        invalid: Failure | None = None,
    ) -> None:
        self.program = program
        self.plan = plan
        self.bindings = bindings
        self.invalid = invalid
        self.kinds: tuple[str, ...] = plan.kinds if plan is not None else ()
        self.types: tuple[str, ...] = plan.types if plan is not None else ()

    def __repr__(self) -> str:
        state = f"invalid: {self.invalid}" if self.invalid is not None else f"{len(self.kinds)} steps"
        return f"CompiledProgram({self.program!r}, {state})"

    def run(self, index: SceneIndex) -> Any:
        """The last step's raw value (raises what a step raises; see
        :meth:`SymbolicExecutor.run` for failures as values)."""
        if self.plan is None:
            raise ProgramError(str(self.invalid))
        return self.plan.run(index, self.bindings)

    def run_all(self, index: SceneIndex, outs: list[Any], clocks: list[int],
                clock: Callable[[], int]) -> None:
        """Append every step's raw output to ``outs`` and clock readings to ``clocks`` (one
        before the first step, one after each); raises what a step raises."""
        if self.plan is None:
            raise ProgramError(str(self.invalid))
        self.plan.run_all(index, self.bindings, outs, clocks, clock)


class _Plan:
    """What programs with the same step tags share: the generated runners and the kind
    and type name of every step's output. Exists only for tag sequences that validated."""

    __slots__ = ("run", "run_all", "kinds", "types")

    def __init__(self, shape: Shape, kinds: tuple[str, ...], types: tuple[str, ...]) -> None:
        self.run, self.run_all = runners(shape)
        self.kinds = kinds
        self.types = types


class _BindCache:
    """One executor's compile caches for one vocabulary (and one generation of its op
    registry).

    * ``steps``: ``(op, inputs, args)`` → the step's binding ``(tag, impl, *constants,
      [check])``, for steps whose op is known and whose value arguments are valid for it.
      Only steps whose arguments are all strings or None are kept, so that a lookup cannot
      hit with an argument that is merely equal (``1`` for ``True``, ``1.0`` for ``1``).
    * ``tags``: what a step contributes to its program's validity and code, interned as an
      int: (inputs, the op's input types, output type, number of constants, checked).
    * ``plans``: a tuple of tags → the :class:`_Plan`, stored only after a program with
      those tags passed :meth:`Program.validate`. A program's validity is a function of its
      tags (op types and wiring) and its steps' arguments (checked by ``steps``), so a
      program whose steps are all in ``steps`` and whose tags have a plan is valid.
    """

    __slots__ = ("vocab", "generation", "steps", "tags", "tag_info", "plans")

    def __init__(self, vocab: Vocabulary, generation: int) -> None:
        self.vocab = vocab  # held so that the id() it is filed under stays its own
        self.generation = generation
        self.steps: dict[tuple[Any, ...], StepBinding] = {}
        self.tags: dict[tuple[Any, ...], int] = {}
        self.tag_info: dict[int, tuple[Any, ...]] = {}
        self.plans: dict[tuple[int, ...], _Plan] = {}


_TAG = itemgetter(0)


def _int_inputs(steps: tuple[Step, ...]) -> bool:
    """Whether every input of every step is an ``int`` and not a ``bool``."""
    return all(type(j) is int or (isinstance(j, int) and not isinstance(j, bool))
               for s in steps for j in s.inputs)

_MAX_STEPS_CACHED = 1 << 16  # bindings kept per executor and vocabulary
_MAX_PLANS_CACHED = 1 << 14  # plans kept per executor and vocabulary
_MAX_VOCABULARIES_CACHED = 32


class SymbolicExecutor:
    """Exact execution of programs over scene graphs.

    Parameters
    ----------
    vocabulary:
        Vocabulary to check and bind programs with; default: each program's own.
    ops:
        Registry of op implementations (default :data:`nsreason.execute.ops.OPS`).

    Compiling is cached per executor: on the program (a program compiles once) and by
    structure (a new program whose steps and shape the executor has seen before is bound
    without validating or generating code again; see :class:`_BindCache`). The caches
    belong to the executor and its registry and vocabulary, and are safe to share between
    threads.
    """

    def __init__(
        self, vocabulary: str | Vocabulary | None = None, ops: Registry[Any] = OPS
    ) -> None:
        self.vocabulary = get_vocabulary(vocabulary) if vocabulary is not None else None
        self.ops = ops
        self._token = object()  # identifies this executor in programs' compile caches
        self._caches: dict[int, _BindCache] = {}
        self._lock = threading.Lock()  # serialises filling the caches (reading needs none)
        self._tag_counter = itertools.count()

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
        # The fast path: every step bound before (its op known, its arguments valid) and
        # the steps' tags validated together before. Anything new or odd: the full path.
        try:
            vocab = self.vocabulary or get_vocabulary(program.vocabulary)
            known = self._caches.get(id(vocab))
            if known is None or known.vocab is not vocab or known.generation != self.ops.generation:
                raise LookupError
            get = known.steps.get
            steps = program.steps
            bindings = tuple([get((s.op, s.inputs, s.args)) for s in steps])
            plan = known.plans[tuple(map(_TAG, bindings))]  # None[0]: TypeError
            # Cached keys compare equal to bool or float inputs (True == 1): only ints here.
            if not program._int_inputs and not _int_inputs(steps):
                raise LookupError
            compiled = CompiledProgram(program, plan, bindings)
        except Exception:  # unknown, unhashable or malformed: the full path reports it
            compiled = self._compile(program)
        program._compiled = (self._token, compiled)
        return compiled

    def _compile(self, program: Program) -> CompiledProgram:
        """The full path: bind every step (from the cache when known), check the program's
        wiring, find or make its plan, and remember what the fast path needs. Any check
        that fails hands over to :meth:`Program.validate`, so that an invalid program
        reports exactly the error (and the first one) that ``validate`` raises."""
        vocab = self.vocabulary or get_vocabulary(program.vocabulary)
        with self._lock:
            compiled = self._bind_program(program, vocab)
        if compiled is not None:
            return compiled
        try:
            program.validate(vocab)
        except ProgramError as err:
            code = _FAILURE_CODES.get(type(err).__name__, "invalid_program")
            failure = Failure(code, str(err), _step_of(err.path))
            return CompiledProgram(program, None, (), failure)
        raise RuntimeError(  # the checks below are validate()'s: they cannot disagree
            f"internal error: {program!r} passes Program.validate but could not be bound"
        )

    def _bind_program(self, program: Program, vocab: Vocabulary) -> CompiledProgram | None:
        """The compiled program, or None when a check of :meth:`Program.validate` fails:
        step by step, inputs must be earlier steps (ints, not bools) of the types the op
        takes, the op must exist and its value arguments be valid (:meth:`_bind`)."""
        cache = self._cache_for(vocab)
        bindings: list[StepBinding] = []
        types: list[str] = []
        for i, step in enumerate(program.steps):
            inputs = step.inputs
            for j in inputs:
                if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < i:
                    return None
            binding = self._bind(cache, step)
            if binding is None:
                return None
            want, out = cache.tag_info[binding[0]][1:3]
            if len(inputs) != len(want):
                return None
            for j, w in zip(inputs, want):
                if types[j] != w:
                    return None
            bindings.append(binding)
            types.append(out)
        if not bindings:
            return None
        tags = tuple(b[0] for b in bindings)
        plan = cache.plans.get(tags)
        if plan is None:
            infos = [cache.tag_info[t] for t in tags]
            shape = tuple((ins, n, checked) for ins, _, _, n, checked, _ in infos)
            kinds = tuple(kind for *_, kind in infos)
            plan = _Plan(shape, kinds, tuple(types))
            if len(cache.plans) >= _MAX_PLANS_CACHED:
                cache.plans.clear()
            cache.plans[tags] = plan
        return CompiledProgram(program, plan, tuple(bindings))

    def _cache_for(self, vocab: Vocabulary) -> _BindCache:
        generation = self.ops.generation
        cache = self._caches.get(id(vocab))
        if cache is None or cache.vocab is not vocab or cache.generation != generation:
            if len(self._caches) >= _MAX_VOCABULARIES_CACHED:
                self._caches.clear()
            cache = self._caches[id(vocab)] = _BindCache(vocab, generation)
        return cache

    def _bind(self, cache: _BindCache, step: Step) -> StepBinding | None:
        """The binding of one step whose inputs are ints (from the cache when known), or
        None when its op is unknown or its value arguments are not valid for it."""
        key = (step.op, step.inputs, step.args)
        keep = all(a is None or type(a) is str for a in step.args)
        if keep and (known := cache.steps.get(key)) is not None:
            return known
        vocab = cache.vocab
        try:
            sig = vocab.op(step.op)
            check_args(step, sig, vocab, "")
        except ProgramError:
            return None
        out_type = vocab.types[sig.output]
        try:
            impl = self.ops.get(sig.impl)
        except RegistryError as err:
            impl, consts, check = _failing("missing_op", f"op {step.op!r}: {err}"), (), None
        else:
            args = step.args + (None,) * (len(sig.args) - len(step.args))
            consts = tuple(v for _, v in sig.params) + args
            check = None
            if out_type.kind == "value" and out_type.domain is not None:
                check = _domain_check(frozenset(out_type.domain), out_type.name)
        info = (step.inputs, sig.inputs, sig.output, len(consts), check is not None, out_type.kind)
        tag = cache.tags.get(info)
        if tag is None:
            tag = cache.tags[info] = next(self._tag_counter)
            cache.tag_info[tag] = info
        binding: StepBinding = (tag, impl, *consts) + ((check,) if check is not None else ())
        if keep:
            if len(cache.steps) >= _MAX_STEPS_CACHED:
                cache.steps.clear()
            cache.steps[key] = binding
        return binding

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
            return compiled.plan.run(index, compiled.bindings), None  # type: ignore[union-attr]
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
            compiled.plan.run_all(  # type: ignore[union-attr]
                index, compiled.bindings, outs, clocks, time.perf_counter_ns)
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
