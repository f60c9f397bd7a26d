"""Running bound programs: a small interpreter, and generated code for hot shapes.

A program's *bindings* hold, per step, ``(tag, F, consts, K, owner, runner, *facts)``: a
tag the executor uses to find the program's plan, the implementation ``F``, its constants
after the inputs (params, then value arguments), the domain check ``K`` of a closed value
type or None, what the executor keeps alive with it, the step's :func:`step_runner`, and
the executor's own facts about the step (``BINDING_WIDTH`` elements in all). Its
*shape* is what running it needs besides: per step, the indices of its input steps, how
many constants it takes and whether its output is checked.

:func:`interpret` and :func:`interpret_all` run any bindings with one loop iteration and
one runner call per step. Generated code (:func:`runners`) does without the loop: a
program of ``n`` steps runs as::

    def run(ix, B):                            # untraced: locals only
        [(_, F0, _, _, *_), (_, F1, (C1_0, C1_1), _, *_), (_, F2, _, K2, *_)] = B
        v0 = F0(ix)
        v1 = F1(ix, v0, C1_0, C1_1)
        v2 = K2(F2(ix, v1))
        return v2

    def run_all(ix, B, outs, clocks, clock):   # traced: every output, and a clock
        ...                                    # reading before and after each step

The source is generated from the shape only (never op names, implementations or values),
so programs of one shape share it, but generating and compiling it costs far more than
interpreting a program once: the executor interprets a shape until it has run often
(see :mod:`nsreason.execute.symbolic`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["BINDING_WIDTH", "Shape", "StepBinding", "any_generated", "generated", "interpret", "interpret_all",
           "runners", "step_runner"]

StepBinding = tuple[Any, ...]
"""One bound step: ``(tag, implementation, constants, domain check or None, owner,
runner, *facts)``, ``BINDING_WIDTH`` elements."""

BINDING_WIDTH = 11
"""Elements in a :data:`StepBinding`: the six above, then five facts the executor reads
when it runs a step without a plan (see ``SymbolicExecutor._run_cold``), the last one a
token of the caches that made the binding."""

Shape = tuple[tuple[tuple[int, ...], int, bool], ...]
"""Per step: (input step indices, number of constants, whether the output is checked)."""

Runners = tuple[Callable[..., Any], Callable[..., Any]]


def step_runner(
    f: Callable[..., Any],
    ins: tuple[int, ...],
    consts: tuple[Any, ...],
    check: Callable[[Any], Any] | None,
) -> Callable[[Any, list[Any]], Any]:
    """``runner(ix, values)``: one step's implementation called on the values of its input
    steps and its constants (then its domain check), for :func:`interpret`. Made once per
    bound step; the common arities get a call without argument packing."""
    n, k = len(ins), len(consts)
    if n == 1:
        (j,) = ins
        if k == 0:
            if check is None:
                return lambda ix, v: f(ix, v[j])
            return lambda ix, v: check(f(ix, v[j]))
        if k == 1:
            (a,) = consts
            if check is None:
                return lambda ix, v: f(ix, v[j], a)
            return lambda ix, v: check(f(ix, v[j], a))
        if k == 2 and check is None:
            a, b = consts
            return lambda ix, v: f(ix, v[j], a, b)
    elif n == 0 and k == 0 and check is None:
        return lambda ix, v: f(ix)
    elif n == 2 and k == 0 and check is None:
        i, j = ins
        return lambda ix, v: f(ix, v[i], v[j])
    if check is None:
        return lambda ix, v: f(ix, *[v[j] for j in ins], *consts)
    return lambda ix, v: check(f(ix, *[v[j] for j in ins], *consts))


def interpret(ix: Any, bindings: Sequence[StepBinding]) -> Any:
    """The last step's value: each step's runner (:func:`step_runner`, the binding's last
    element) called in order."""
    vals: list[Any] = []
    ap = vals.append
    for b in bindings:
        ap(b[5](ix, vals))
    return vals[-1]


def interpret_all(
    ix: Any,
    bindings: Sequence[StepBinding],
    outs: list[Any],
    clocks: list[int],
    clock: Callable[[], int],
) -> None:
    """Like :func:`interpret`, appending every output to ``outs`` and a ``clock()``
    reading to ``clocks`` before the first step and after each step."""
    ap = outs.append
    tk = clocks.append
    tk(clock())
    for b in bindings:
        ap(b[5](ix, outs))
        tk(clock())


_REST = ", _" * (BINDING_WIDTH - 4)  # a binding's elements after the check, unread
_GENERATED: dict[Shape, Runners] = {}
_MAX_GENERATED = 8192


def any_generated() -> bool:
    """Whether this process holds generated code for any shape (not so in a new one)."""
    return bool(_GENERATED)


def generated(shape: Shape) -> Runners | None:
    """The generated ``(run, run_all)`` of ``shape`` if :func:`runners` made them."""
    if not _GENERATED:  # as in a new process: no need to hash the shape
        return None
    return _GENERATED.get(shape)


def runners(shape: Shape) -> Runners:
    """``(run, run_all)`` generated for ``shape`` (see the module docstring), made once per
    process and shape: ``run(ix, bindings)`` returns the last step's value; ``run_all(ix,
    bindings, outs, clocks, clock)`` works as :func:`interpret_all`. The memo depends on
    the shape only, never on an executor, registry or vocabulary."""
    made = _GENERATED.get(shape)
    if made is not None:
        return made
    unpack: list[str] = []
    calls: list[str] = []
    for i, (ins, n_consts, checked) in enumerate(shape):
        consts = [f"C{i}_{k}" for k in range(n_consts)]
        call = f"F{i}({', '.join(['ix', *(f'v{j}' for j in ins), *consts])})"
        if checked:
            call = f"K{i}({call})"
        packed = f"({', '.join(consts)},)" if consts else "_"
        unpack.append(f"(_, F{i}, {packed}, {f'K{i}' if checked else '_'}{_REST})")
        calls.append(call)
    last = len(shape) - 1
    bind = f"    [{', '.join(unpack)}] = B"
    src = ["def run(ix, B):", bind]
    src += [f"    v{i} = {call}" for i, call in enumerate(calls)]
    src += [f"    return v{last}", "def run_all(ix, B, outs, clocks, clock):", bind]
    src += ["    ap = outs.append", "    tk = clocks.append", "    tk(clock())"]
    for i, call in enumerate(calls):
        src += [f"    v{i} = {call}", f"    ap(v{i})", "    tk(clock())"]
    namespace: dict[str, Any] = {}
    code = compile("\n".join(src), f"<nsreason program shape, {len(shape)} steps>", "exec")
    exec(code, namespace)
    made = (namespace["run"], namespace["run_all"])
    if len(_GENERATED) >= _MAX_GENERATED:
        _GENERATED.clear()
    _GENERATED[shape] = made
    return made
