"""The exact symbolic executor.

:meth:`SymbolicExecutor.execute` runs any valid :class:`~nsreason.program.Program` on any
:class:`~nsreason.scene.SceneGraph` and returns an :class:`Answer` with its
:class:`~nsreason.trace.Trace`. On CLEVR it reproduces the official question engine step
for step. Failures (``unique`` on 0 or 3 objects, a value outside the vocabulary, an op
without implementation, an invalid program) are recorded as a :class:`Failure` in the
answer and the trace; execution stops there, as CLEVR's engine does. Nothing is guessed and
nothing escapes as an exception.

How it stays fast, end to end: a program is *compiled* once (validated, each step bound
to its implementation and constants) and cached on the program. Compiling is itself cached
by the executor: a step met before (the same ``Step`` object, or an equal one) keeps its
binding, and a program structure (every step's inputs and op types) whose wiring was
checked before is not checked again, so a new program of known steps and structure is
bound with a few dictionary lookups and no validation pass; anything new or invalid goes
through the checks of :meth:`Program.validate`, with its errors. A structure runs
interpreted (one runner call per step) until it has run often, then by code generated for
its shape (:mod:`nsreason.execute.codegen`), which also serves every later executor of the
process. A program run before it is compiled (:meth:`SymbolicExecutor.run_program`,
:meth:`SymbolicExecutor.execute`) skips the compile step: one loop binds, checks and runs
each step (:meth:`SymbolicExecutor._run_cold`), reading the binding cached on the ``Step``
object itself (one attribute read), or making it once the step passes the checks
:meth:`Program.validate` makes of a step (:func:`~nsreason.program.ir.check_step`). A scene is
indexed once (:class:`~nsreason.scene.index.SceneIndex`: bitsets). The
traced run adds one clock read per step and decodes bitsets into object ids only when the
trace is read. Measured figures: ``benchmarks/README.md``.

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
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from ..errors import ExecutionFailure, ProgramError, RegistryError
from ..program.ir import Program, Step, check_step
from ..program.vocab import Vocabulary, get_vocabulary
from ..registry import Registry
from ..scene.graph import SceneGraph
from ..scene.index import SceneIndex
from ..trace.evidence import evidence_of, plain
from ..trace.trace import Failure, Trace, TraceStep
from .answer import Answer
from .codegen import (
    Shape,
    StepBinding,
    any_generated,
    generated,
    runners,
    step_runner,
)
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
        state = (f"invalid: {self.invalid}" if self.invalid is not None
                 else f"{len(self.kinds)} steps")
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
    """What programs with the same step tags share: how to run them (interpreted at first,
    generated code once the shape has run often), each step's tag facts (from which the
    shape is made only when code is generated or looked up: most structures never need
    it), and the kind and type name of every step's output. Made only for tags whose
    wiring passed the checks of :meth:`Program.validate`."""

    __slots__ = ("infos", "kinds", "run", "run_all", "runs_left", "types")

    def __init__(self, infos: tuple[tuple[Any, ...], ...], kinds: tuple[str, ...],
                 types: tuple[str, ...], generate_after: int) -> None:
        self.infos = infos  # per step, its tag's info (see _tag_info): the shape, when needed
        self.kinds = kinds
        self.types = types
        self.runs_left = generate_after
        made = generated(self.shape) if any_generated() else None
        if made is None and generate_after <= 0:
            made = runners(self.shape)
        if made is not None:
            self.run, self.run_all = made
        else:
            self.run, self.run_all = self._interpret, self._interpret_all

    @property
    def shape(self) -> Shape:
        """Per step: its input steps, number of constants, and whether it is checked."""
        return tuple(map(_SHAPE, self.infos))

    def _interpret(self, ix: SceneIndex, bindings: tuple[StepBinding, ...]) -> Any:
        # codegen.interpret, inlined: most structures only ever run interpreted (on CLEVR
        # val, 1,320 structures for 5,000 questions, none reaching the default 256 runs).
        self.runs_left -= 1
        if self.runs_left <= 0:
            self.run, self.run_all = runners(self.shape)
        vals: list[Any] = []
        ap = vals.append
        for b in bindings:
            ap(b[5](ix, vals))
        return vals[-1]

    def _interpret_all(self, ix: SceneIndex, bindings: tuple[StepBinding, ...],
                       outs: list[Any], clocks: list[int], clock: Callable[[], int]) -> None:
        # codegen.interpret_all, inlined (as in _interpret)
        self.runs_left -= 1
        if self.runs_left <= 0:
            self.run, self.run_all = runners(self.shape)
        ap = outs.append
        tk = clocks.append
        tk(clock())
        for b in bindings:
            ap(b[5](ix, outs))
            tk(clock())


class _BindCache:
    """One executor's compile caches for one vocabulary (and one generation of its op
    registry). A step's binding is ``(tag, impl, constants, check, step)``; its tag stands
    for what the step contributes to its program's validity and code: (inputs, the op's
    input types, output type, number of constants, checked, kind).

    * ``by_id``: ``id(step)`` → the binding of that very ``Step`` object, which the binding
      holds (so the id cannot be reused while the entry lives). Readers that share equal
      steps between programs (:func:`nsreason.datasets.clevr.load_clevr_questions`) make
      this the whole lookup. The same binding, without the step, is cached on the step
      (``Step._bound``); its last element, ``token``, says which caches made it, so an
      executor reads it there only when it is its own.
    * ``by_value``: ``(op, inputs, args)`` → a binding, and ``by_op_args``: ``(op, args)``
      → ``(info, impl, constants, check)``, for steps met before in other objects. Only
      arguments that are all strings or None are kept, so that a lookup cannot hit with an
      argument that is merely equal (``1`` for ``True``); inputs are checked to be ints
      before these are read.
    * ``plans``: a tuple of tags → the :class:`_Plan`, made only once the wiring of those
      tags passed the checks of :meth:`Program.validate`. Every entry of the step tables
      comes from a step whose op exists and whose arguments passed those checks
      (:func:`check_step`), so a
      program whose steps all have bindings and whose tags have a plan is valid.
    """

    __slots__ = ("by_id", "by_op_args", "by_value", "generation", "plans", "tag_info",
                 "tags", "token", "vocab")

    def __init__(self, vocab: Vocabulary, generation: int) -> None:
        self.vocab = vocab  # held so that the id() it is filed under stays its own
        self.generation = generation
        self.by_id: dict[int, StepBinding] = {}
        self.by_value: dict[tuple[Any, ...], StepBinding] = {}
        self.by_op_args: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.tags: dict[tuple[Any, ...], int] = {}
        self.tag_info: dict[int, tuple[Any, ...]] = {}
        self.plans: dict[tuple[int, ...], _Plan] = {}
        self.token = object()  # the last element of this cache's bindings


_TAG = itemgetter(0)
_OUT, _KIND, _SHAPE = itemgetter(2), itemgetter(3), itemgetter(4)  # of a tag's info
_NO_VOCABULARY = Vocabulary("", {}, {})
_MAX_STEPS_CACHED = 1 << 16  # entries per step table, per executor and vocabulary
_MAX_PLANS_CACHED = 1 << 14  # plans per executor and vocabulary
_MAX_VOCABULARIES_CACHED = 32
_MAX_TAGS_CACHED = 1 << 16  # a new cache beyond: tags grow with the programs' shapes


def _tag_info(info: tuple[Any, ...]) -> tuple[Any, ...]:
    """What :meth:`SymbolicExecutor._plan` reads of a tag made of ``info`` = (inputs, input
    types, output type, constants, checked, kind): a getter of the input steps' types from
    the output types of the steps before, and what it must return; the output type; the
    kind; the step's shape. A step without inputs gets ``type``, which returns ``list`` for
    the list of types before it, whatever its length."""
    inputs, want, out, n_consts, checked, kind = info
    if not inputs:
        getter, expected = type, list
    elif len(inputs) == 1:
        getter, expected = itemgetter(inputs[0]), want[0]
    else:
        getter, expected = itemgetter(*inputs), tuple(want)
    return (getter, expected, out, kind, (inputs, n_consts, checked))


def _int_inputs(steps: tuple[Step, ...]) -> bool:
    """Whether every input of every step is an ``int`` and not a ``bool``."""
    return all(type(j) is int or (isinstance(j, int) and not isinstance(j, bool))
               for s in steps for j in s.inputs)


_PLAIN_TYPES = frozenset({str, type(None)})


def _plain_args(args: tuple[Any, ...]) -> bool:
    """Whether every argument is a ``str`` or None (exactly: no subclass)."""
    return all(map(_PLAIN_TYPES.__contains__, map(type, args)))


class SymbolicExecutor:
    """Exact execution of programs over scene graphs.

    Parameters
    ----------
    vocabulary:
        Vocabulary to check and bind programs with; default: each program's own.
    ops:
        Registry of op implementations (default :data:`nsreason.execute.ops.OPS`).
    generate_after:
        Runs of a program structure after which its code is generated (0: at once).
        Generating a shape's code costs far more than interpreting a program once, so a
        structure first runs interpreted, one runner call per step; a shape whose code
        this process has generated before (for any executor) runs it at once.

    Compiling is cached per executor: on the program (a program compiles once), and by
    step and structure (a new program whose steps and wiring the executor has met before
    is bound without validating again; see :class:`_BindCache`). New structures are
    interpreted until they have run often, then run by generated code. The caches belong
    to the executor, its registry and vocabulary, and are safe to share between threads.
    """

    def __init__(
        self,
        vocabulary: str | Vocabulary | None = None,
        ops: Registry[Any] = OPS,
        *,
        generate_after: int = 256,
    ) -> None:
        self.vocabulary = get_vocabulary(vocabulary) if vocabulary is not None else None
        self.ops = ops
        self.generate_after = generate_after
        self._token = object()  # identifies this executor in programs' compile caches
        self._caches: dict[int, _BindCache] = {}
        self._lock = threading.Lock()  # serialises making caches and tags
        self._tag_counter = itertools.count()
        self._last: tuple[Any, _BindCache] = (None, _BindCache(_NO_VOCABULARY, -1))
        self._ran_cold = (object(), None)  # on a program run by _run_cold (not compiled)

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
        # The fast path: every Step object bound before, and the steps' tags wired before
        # (or now). Anything new, invalid or odd takes the general path.
        try:
            spec, known = self._last  # the vocabulary of the last program, and its caches
            if spec is not program.vocabulary or known.generation != self.ops.generation:
                known = self._cache_for(self.vocabulary or get_vocabulary(program.vocabulary))
                self._last = (program.vocabulary, known)
            bindings = tuple(map(known.by_id.get, map(id, program.steps)))
            try:
                tags = tuple(map(_TAG, bindings))
            except TypeError:  # None[0]: a Step object not met before; equal ones may have
                bindings = self._known_bindings(known, program, bindings)  # type: ignore
                tags = tuple(map(_TAG, bindings))  # type: ignore[arg-type]  # None: raises
            plan = known.plans.get(tags) or self._plan(known, tags, check=True)
            compiled = CompiledProgram(program, plan, bindings)
        except Exception:  # LookupError: a check failed; TypeError: a new step
            compiled = self._compile(program)
        program._compiled = (self._token, compiled)
        return compiled

    def _compile(self, program: Program) -> CompiledProgram:
        """The general path: bind the steps from the caches and check the wiring; when a
        step is new or a check fails, :meth:`Program.validate` decides (and an invalid
        program reports exactly the error, and the first one, that it raises)."""
        vocab = self.vocabulary or get_vocabulary(program.vocabulary)
        cache = self._cache_for(vocab)
        bindings = self._known_bindings(cache, program)
        if bindings is not None:
            tags = tuple(map(_TAG, bindings))
            try:
                plan = cache.plans.get(tags) or self._plan(cache, tags, check=True)
            except LookupError:
                pass
            else:
                return CompiledProgram(program, plan, bindings)
        try:
            program.validate(vocab)
        except ProgramError as err:
            code = _FAILURE_CODES.get(type(err).__name__, "invalid_program")
            failure = Failure(code, str(err), _step_of(err.path))
            return CompiledProgram(program, None, (), failure)
        bindings = tuple(self._bind(cache, step) for step in program.steps)
        tags = tuple(map(_TAG, bindings))
        plan = cache.plans.get(tags) or self._plan(cache, tags, check=False)
        return CompiledProgram(program, plan, bindings)

    def _known_bindings(
        self,
        cache: _BindCache,
        program: Program,
        by_identity: tuple[StepBinding | None, ...] | None = None,
    ) -> tuple[StepBinding, ...] | None:
        """Every step's binding from the caches (remembering each new Step object), or
        None when a step is new or odd. ``by_identity``: the lookup by identity, if made."""
        steps = program.steps
        if not getattr(program, "_int_inputs", False) and not _int_inputs(steps):
            return None
        by_id = cache.by_id
        bindings = list(by_identity if by_identity is not None else map(by_id.get, map(id, steps)))
        if None not in bindings:
            return tuple(bindings)
        for k, binding in enumerate(bindings):
            if binding is None:
                binding = self._step_binding(cache, steps[k])
                if binding is None:
                    return None
                bindings[k] = binding
        return tuple(bindings)  # type: ignore[arg-type]  # no None left

    def _step_binding(self, cache: _BindCache, step: Step) -> StepBinding | None:
        """The binding of a ``Step`` object not met before (by identity), remembered under
        the object's id: from an equal step's, else from its op and arguments bound before,
        else bound now once :func:`check_step` passes. None when its arguments are not
        plain strings (or None) or it does not check: the caller's general path decides.
        The caller has checked that the step's inputs are ints; their wiring is its to
        check."""
        try:
            if not _plain_args(step.args):
                return None
            key = (step.op, step.inputs, step.args)
            binding = cache.by_value.get(key)
            if binding is None:  # a step value not met before: bind it, held by step
                bound = cache.by_op_args.get((step.op, step.args))
                if bound is None:  # an op and arguments not met before: check them
                    try:
                        check_step(step, cache.vocab)
                    except ProgramError:
                        return None
                    bound = self._bound_op(cache.vocab, step)
                    self._remember(cache.by_op_args, (step.op, step.args), bound)
                binding = self._with_inputs(cache, bound, step)
                if binding is None:
                    return None
                self._remember(cache.by_value, key, binding)
            else:  # met before in another Step object: the binding must hold this one
                binding = (*binding[:4], step, *binding[5:])
        except TypeError:  # unhashable arguments or inputs
            return None
        self._remember_step(cache, step, binding)
        return binding

    def _bind(self, cache: _BindCache, step: Step) -> StepBinding:
        """The binding of a step of a validated program (and its cache entries)."""
        plain = _plain_args(step.args)
        bound = cache.by_op_args.get((step.op, step.args)) if plain else None
        if bound is None:
            bound = self._bound_op(cache.vocab, step)
            if plain:
                self._remember(cache.by_op_args, (step.op, step.args), bound)
        binding = self._with_inputs(cache, bound, step, full_ok=True)
        assert binding is not None  # validated: as many inputs as the op takes
        if plain:
            self._remember(cache.by_value, (step.op, step.inputs, step.args), binding)
        self._remember_step(cache, step, binding)
        return binding

    def _bound_op(self, vocab: Vocabulary, step: Step) -> tuple[Any, ...]:
        """``(info, impl, constants, check)`` for a valid step's op and arguments; info is
        (input types, output type, number of constants, checked, kind)."""
        sig = vocab.op(step.op)
        out_type = vocab.types[sig.output]
        check = None
        try:
            impl = self.ops.get(sig.impl)
        except RegistryError as err:
            impl, consts = _failing("missing_op", f"op {step.op!r}: {err}"), ()
        else:
            args = step.args + (None,) * (len(sig.args) - len(step.args))
            consts = tuple(v for _, v in sig.params) + args
            if out_type.kind == "value" and out_type.domain is not None:
                check = _domain_check(frozenset(out_type.domain), out_type.name)
        info = (sig.inputs, sig.output, len(consts), check is not None, out_type.kind)
        return (info, impl, consts, check)

    def _with_inputs(self, cache: _BindCache, bound: tuple[Any, ...], step: Step, *,
                     full_ok: bool = False) -> StepBinding | None:
        """The binding of ``step`` (which it holds) from its bound op (``bound``, from
        :meth:`_bound_op`), or None when the op takes another number of inputs, or when it
        needs a new tag and the cache holds its most (unless ``full_ok``: the general path
        then starts a new cache, see :meth:`_cache_for`)."""
        inputs = step.inputs
        op_info = bound[0]
        if len(inputs) != len(op_info[0]) or (inputs and min(inputs) < 0):
            return None
        info = (inputs, *op_info)
        tag = cache.tags.get(info)
        if tag is None:
            if len(cache.tags) >= _MAX_TAGS_CACHED and not full_ok:
                return None
            with self._lock:  # two threads must not give two infos one tag
                tag = cache.tags.get(info)
                if tag is None:
                    tag = next(self._tag_counter)
                    cache.tag_info[tag] = _tag_info(info)
                    cache.tags[info] = tag
        _, impl, consts, check = bound
        get, want, out, kind, _ = cache.tag_info[tag]
        return (tag, impl, consts, check, step, step_runner(impl, inputs, consts, check),
                get, want, out, kind, cache.token)

    def _remember_step(self, cache: _BindCache, step: Step, binding: StepBinding) -> None:
        """File ``binding`` under ``step``'s id, and cache it on the step (without the
        step itself, so that no cycle is made) for the cold paths' one attribute read."""
        self._remember(cache.by_id, id(step), binding)
        object.__setattr__(step, "_bound", (*binding[:4], None, *binding[5:]))

    @staticmethod
    def _remember(table: dict[Any, Any], key: Any, value: Any) -> None:
        if len(table) >= _MAX_STEPS_CACHED:
            table.clear()
        table[key] = value

    def _plan(self, cache: _BindCache, tags: tuple[int, ...], *, check: bool) -> _Plan:
        """The plan of programs with these tags. With ``check``, first the checks of
        :meth:`Program.validate` on the wiring (``LookupError`` when one fails): at least
        one step, each input an earlier step (the bindings hold only int inputs) of the
        type the op takes. The ops and arguments were checked when the bindings were made."""
        if not tags:
            raise LookupError
        infos = tuple(map(cache.tag_info.__getitem__, tags))
        if check:
            # Tags are only made for as many inputs as the op takes, none negative: check
            # that every input is an earlier step (a later one is past the end of the
            # types so far: IndexError, a LookupError) of the type the op takes there.
            types: list[str] = []
            add = types.append
            fits = cache.vocab.fits
            for get, want, out, _, _ in infos:
                if get(types) != want and not fits(get(types), want):
                    raise LookupError
                add(out)
        else:
            types = list(map(_OUT, infos))
        plan = _Plan(infos, tuple(map(_KIND, infos)), tuple(types), self.generate_after)
        if len(cache.plans) >= _MAX_PLANS_CACHED:
            cache.plans.clear()
        cache.plans[tags] = plan
        return plan

    def _cache_for(self, vocab: Vocabulary) -> _BindCache:
        """This executor's caches for ``vocab``: new ones when there are none yet, when the
        op registry changed, or when the tags (which grow with the programs' shapes) are
        at their most. A replaced cache is dropped, never cleared: a thread still using it
        keeps a consistent one."""
        generation = self.ops.generation
        cache = self._caches.get(id(vocab))
        if (cache is None or cache.vocab is not vocab or cache.generation != generation
                or len(cache.tags) >= _MAX_TAGS_CACHED):
            with self._lock:
                cache = self._caches.get(id(vocab))
                if (cache is None or cache.vocab is not vocab or cache.generation != generation
                        or len(cache.tags) >= _MAX_TAGS_CACHED):
                    if len(self._caches) >= _MAX_VOCABULARIES_CACHED:
                        self._caches.clear()
                    cache = self._caches[id(vocab)] = _BindCache(vocab, generation)
                    self._last = (None, cache)  # the fast path looks the caches up again
        return cache

    # -- running --------------------------------------------------------------------------
    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer:
        """Run ``program`` on ``scene``; the :class:`Answer` carries a :class:`Trace`
        unless ``trace=False``. The answer of ``run_traced(compile(program), scene)`` (or,
        untraced, of :meth:`run` decoded); a program this executor has not compiled or run
        before runs by :meth:`_run_cold_traced` or :meth:`_run_cold`, without a compile
        step, where the caches know its steps."""
        cached = program._compiled
        if cached is None or (cached[0] is not self._token and cached is not self._ran_cold):
            if trace:
                answer = self._run_cold_traced(program, scene)
                if answer is not None:
                    return answer
            else:
                done = self._run_cold(program, scene.index)
                if done is not None:
                    raw, fail, kind, last_type = done
                    if fail is not None:
                        return Answer(None, program, None, fail, last_type)
                    return Answer(decode_value(raw, kind, scene.index), program, None, None,
                                  last_type)
        compiled = self.compile(program)
        if trace:
            return self.run_traced(compiled, scene)
        value, failure = self.run(compiled, scene.index)
        out_type = compiled.types[-1] if compiled.types else None
        if failure is not None:
            return Answer(None, program, None, failure, out_type)
        return Answer(decode_value(value, compiled.kinds[-1], scene.index), program, None, None, out_type)

    def run_program(self, program: Program, index: SceneIndex) -> tuple[Any, Failure | None]:
        """``run(compile(program), index)``: the same raw final value and failure. A program
        this executor has not compiled or run before is run by :meth:`_run_cold`, without
        a compile step; one met before by its compiled form (cached on the program)."""
        cached = program._compiled
        if cached is None or (cached[0] is not self._token and cached is not self._ran_cold):
            done = self._run_cold(program, index)
            if done is not None:
                return done[0], done[1]
        return self.run(self.compile(program), index)

    def _run_cold(
        self, program: Program, index: SceneIndex
    ) -> tuple[Any, Failure | None, str, str] | None:
        """Run a program not compiled yet, untraced, binding and checking each step as it
        runs: ``(raw value, failure, kind and type name of the last step's output)``, or
        None where the caller must take the compiled path (:meth:`compile`, then
        :meth:`run`), which then gives the answer: a step that does not check or has odd
        arguments, or a program that does not validate.

        One loop over the steps does what :meth:`compile`'s fast path and
        :meth:`_Plan._interpret` do in two passes and a plan: per step, its binding (the
        one cached on the ``Step`` object when these caches made it, else by identity, by
        value or by op and arguments, else bound after :func:`check_step`); the check
        of :meth:`_plan` (every input an earlier step of the type the op takes: the getter
        reads the output types of the steps before, so an input that is not an earlier
        step is past their end, an ``IndexError``); then the step's runner on the values
        before it (the implementation, then the domain check). The checks are those of
        the compiled path, so a program runs here only if it compiles there, and then to
        the same value. Validation errors win over runtime failures, as there (a program
        that does not validate never runs): ops are pure, so after a step fails, the
        later steps are only bound and checked, and the failure is reported only if they
        pass; otherwise the compiled path reports the validation error, exactly as
        :meth:`Program.validate` words it. The failure of a step is the one
        :meth:`run_all` gives. Nothing is cached on the program but a mark that it ran
        once: run again, it is compiled (its structure planned, its code generated when
        hot). Only the executor's step caches (and the steps' cached bindings) are read
        and extended, as compiling does."""
        steps = program.steps
        spec, known = self._last  # the vocabulary of the last program, and its caches
        if spec is not program.vocabulary or known.generation != self.ops.generation:
            known = self._caches_of(program)  # type: ignore[assignment]
            if known is None:
                return None
        if not steps:
            return None
        token = known.token
        types: list[str] = []  # output types of the steps so far
        add_type = types.append
        vals: list[Any] = []  # their values
        add = vals.append
        for step in steps:
            _, _, _, _, _, run, get, want, out, kind, made_by = step._bound
            if made_by is not token:  # not bound by these caches (or bound before them)
                binding = self._cold_binding(known, program, step)
                if binding is None:
                    return None
                _, _, _, _, _, run, get, want, out, kind, _ = binding
            try:
                if get(types) != want and not known.vocab.fits(get(types), want):
                    return None
            except IndexError:  # an input that is not an earlier step
                return None
            add_type(out)
            try:
                add(run(index, vals))
            except ExecutionFailure as exc:
                failure = Failure(exc.code, exc.reason, len(vals))
                break
            except Exception as exc:  # a faulty (user) op must not crash the caller
                failure = Failure("op_error", f"{type(exc).__name__}: {exc}", len(vals))
                break
        else:
            program._compiled = self._ran_cold
            return vals[-1], None, kind, out
        last = self._check_rest(known, program, types, kind, out)
        if last is None:
            return None
        program._compiled = self._ran_cold
        return None, failure, *last

    def _cold_binding(self, known: _BindCache, program: Program, step: Step) -> StepBinding | None:
        """For the cold paths: the binding of a step whose cached binding (``step._bound``)
        is not from ``known``, as :meth:`_known_bindings` finds it (then cached on the
        step), or None (the compiled path decides)."""
        binding = known.by_id.get(id(step))
        if binding is not None:  # bound by these caches, then on the step by others
            object.__setattr__(step, "_bound", (*binding[:4], None, *binding[5:]))
            return binding
        if not getattr(program, "_int_inputs", False) and not _int_inputs(program.steps):
            return None
        return self._step_binding(known, step)

    def _check_rest(self, known: _BindCache, program: Program, types: list[str],
                    kind: str, out: str, kinds: list[str] | None = None) -> tuple[str, str] | None:
        """For the cold paths, after a step failed: bind and check the steps after the
        ``len(types)`` whose output types are ``types``, without running them, extending
        ``types`` (and ``kinds``, when given) with theirs; the kind and type of the last
        step's output (``kind`` and ``out`` are the failed step's), or None where a step is
        new or its wiring does not check (the compiled path then reports the validation
        error)."""
        for step in program.steps[len(types):]:
            binding = self._cold_binding(known, program, step)
            if binding is None:
                return None
            _, _, _, _, _, _, get, want, out, kind, _ = binding
            try:
                if get(types) != want and not known.vocab.fits(get(types), want):
                    return None
            except IndexError:
                return None
            types.append(out)
            if kinds is not None:
                kinds.append(kind)
        return kind, out

    def _caches_of(self, program: Program) -> _BindCache | None:
        """This executor's caches for the program's vocabulary (as :meth:`compile` finds
        them), or None for a vocabulary that does not exist (the compiled path reports it)."""
        try:
            spec, known = self._last  # the vocabulary of the last program, and its caches
            if spec is not program.vocabulary or known.generation != self.ops.generation:
                known = self._cache_for(self.vocabulary or get_vocabulary(program.vocabulary))
                self._last = (program.vocabulary, known)
        except Exception:
            return None
        return known

    def _run_cold_traced(self, program: Program, scene: SceneGraph) -> Answer | None:
        """:meth:`_run_cold` with a trace: ``run_traced(compile(program), scene)``, the same
        answer and trace, or None where the caller must take the compiled path. The loop is
        :meth:`_run_cold`'s (see there why it is equivalent) with, as in :meth:`run_all`,
        every output kept and a clock read before the first step and after each step that
        ran, and every step's output kind and type kept for the trace."""
        steps = program.steps
        known = self._caches_of(program)
        if known is None or not steps:
            return None
        token = known.token
        kinds: list[str] = []
        types: list[str] = []  # output types of the steps so far
        add_kind, add_type = kinds.append, types.append
        index = scene.index
        outs: list[Any] = []
        add = outs.append
        clock = time.perf_counter_ns
        clocks = [clock()]
        tick = clocks.append
        failure = None
        for step in steps:
            _, _, _, _, _, run, get, want, out, kind, made_by = step._bound
            if made_by is not token:  # as in _run_cold
                binding = self._cold_binding(known, program, step)
                if binding is None:
                    return None
                _, _, _, _, _, run, get, want, out, kind, _ = binding
            try:
                if get(types) != want and not known.vocab.fits(get(types), want):
                    return None
            except IndexError:
                return None
            add_type(out)
            add_kind(kind)
            try:
                add(run(index, outs))
            except ExecutionFailure as exc:
                failure = Failure(exc.code, exc.reason, len(outs))
            except Exception as exc:  # a faulty (user) op must not crash the caller
                failure = Failure("op_error", f"{type(exc).__name__}: {exc}", len(outs))
            tick(clock())
            if failure is not None:
                last = self._check_rest(known, program, types, kind, out, kinds)
                if last is None:
                    return None
                kind, out = last
                break
        program._compiled = self._ran_cold
        value = None if failure is not None else decode_value(outs[-1], kind, index)
        vocabulary = program.vocabulary
        trace = Trace.lazy(
            value, failure, program, scene.id,
            vocabulary if type(vocabulary) is str else program.vocabulary_name,
            lambda: _trace_steps(steps, kinds, types, index, outs, clocks, failure),
        )
        return Answer(value, program, trace, failure, out)

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
        plan = compiled.plan
        if plan is None:
            outs, clocks, failure = self.run_all(compiled, index)
        else:  # run_all, inlined: the hot path of traced evaluation
            outs, clocks, failure = [], [], None
            try:
                plan.run_all(index, compiled.bindings, outs, clocks, time.perf_counter_ns)
            except ExecutionFailure as exc:
                clocks.append(time.perf_counter_ns())
                failure = Failure(exc.code, exc.reason, len(outs))
            except Exception as exc:  # a faulty (user) op must not crash the caller
                clocks.append(time.perf_counter_ns())
                failure = Failure("op_error", f"{type(exc).__name__}: {exc}", len(outs))
        value = None if failure is not None else decode_value(outs[-1], compiled.kinds[-1], index)
        vocabulary = program.vocabulary
        trace = Trace.lazy(  # Trace(answer=..., builder=...) with positional arguments
            value, failure, program, scene.id,
            vocabulary if type(vocabulary) is str else program.vocabulary_name,
            lambda: _trace_steps(program.steps, compiled.kinds, compiled.types, index, outs,
                                 clocks, failure),
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
    return plain(raw)  # a looked-up value's evidence goes to the trace, not the answer


def _trace_steps(
    program_steps: tuple[Step, ...],
    kinds: Sequence[str],
    types: Sequence[str],
    index: SceneIndex,
    outs: list[Any],
    clocks: list[int],
    failure: Failure | None,
) -> list[TraceStep]:
    steps = []
    for i, step in enumerate(program_steps):
        out_type = types[i] if i < len(types) else ""
        elapsed = clocks[i + 1] - clocks[i] if i + 1 < len(clocks) else 0
        if i < len(outs):
            output = decode_value(outs[i], kinds[i], index)
            steps.append(TraceStep(i, step.op, step.args, step.inputs, output, out_type,
                                   "ok", None, elapsed, evidence_of(outs[i]) or {}))
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
