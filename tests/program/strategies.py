"""Hypothesis strategies for programs: random *valid* programs of any vocabulary.

Generation is type-directed: to build a value of type ``T`` pick an op whose output is
``T`` (and whose inputs can be built within the depth left), build its inputs recursively
(in a random order, so numberings other than post-order come up), then draw its value
arguments from their types' domains. Open-domain types (the ``scene_graph`` vocabulary)
get arbitrary non-empty text: spaces, quotes, commas, brackets, backslashes, unicode.

Optionally an input re-uses an earlier step of the right type (a shared sub-DAG) and an
unused subtree comes before the answer (dead code), so ``p.canonical()`` differs from ``p``.

>>> from hypothesis import given
>>> @given(programs("clevr"))
... def check(p):
...     assert p.validate() is p
>>> check()

Import it as ``from tests.program.strategies import programs``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from nsreason.program import Program, Step, Vocabulary, get_vocabulary
from nsreason.program.vocab import ArgSpec, OpSignature

__all__ = [
    "programs",
    "arg_values",
    "open_values",
    "TOY_VOCABULARY",
    "toy_vocabulary",
    "min_heights",
    "same_program",
]

INF = float("inf")

# Values that stress the text and token forms; all non-empty (open types need that).
TRICKY_VALUES = (
    " ",
    "to the left of",
    'say "hi"',
    "a,b",
    "[x]",
    "(y)",
    "x]",
    "[",
    ")",
    '"',
    "\\",
    'back\\slash"',
    "naïve café",
    "teddy bear",
    "🙂",
    "true",
    "false",
    "3",
    "-1",
    "null",
    "a\nb",
    "\t",
    "\u00a0",
    "\u2028",
    "filter[red](scene())",
    "@file",
)

open_values: st.SearchStrategy[str] = st.one_of(
    st.text(min_size=1, max_size=12),
    st.text(alphabet=' ,[]()"\\\'\t\n:;-_.', min_size=1, max_size=6),
    st.sampled_from(TRICKY_VALUES),
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
)
"""Arbitrary non-empty text: what an open-domain value type accepts."""


# A small vocabulary with integer and bool value arguments, and an optional argument
# *before* a required one: what the built-in vocabularies do not have.
TOY_VOCABULARY: dict[str, Any] = {
    "name": "toy_program_tests",
    "description": "Integer, bool and open value arguments for the program tests.",
    "types": {
        "Set": {"kind": "object_set"},
        "Obj": {"kind": "object"},
        "Int": {"kind": "integer"},
        "Flag": {"kind": "bool"},
        "Color": {"kind": "value", "domain": ["red", "blue", "light green"]},
        "Name": {"kind": "value"},
    },
    "ops": {
        "all": {"inputs": [], "output": "Set"},
        "top": {"inputs": ["Set"], "args": [{"name": "k", "type": "Int"}], "output": "Set"},
        "keep": {
            "inputs": ["Set"],
            "args": [{"name": "flag", "type": "Flag"}, {"name": "n", "type": "Int", "optional": True}],
            "output": "Set",
        },
        "pick": {
            "inputs": ["Set"],
            "args": [
                {"name": "color", "type": "Color", "optional": True},
                {"name": "name", "type": "Name"},
            ],
            "output": "Obj",
        },
        "size": {"inputs": ["Set"], "output": "Int"},
        "merge": {"inputs": ["Set", "Set", "Set"], "output": "Set"},
        "is": {"inputs": ["Obj", "Obj"], "args": [{"name": "strict", "type": "Flag"}], "output": "Flag"},
        "name_of": {"inputs": ["Obj"], "output": "Name"},
        "plus": {"inputs": ["Int", "Int"], "args": [{"name": "bias", "type": "Int", "optional": True}],
                 "output": "Int"},
    },
}


def toy_vocabulary() -> Vocabulary:
    """:data:`TOY_VOCABULARY` as a :class:`Vocabulary`."""
    return Vocabulary.from_dict(TOY_VOCABULARY)


def min_heights(vocab: Vocabulary) -> tuple[dict[str, float], dict[str, float]]:
    """The least tree height that builds each type, and each op (leaf ops: 0);
    ``inf`` for what cannot be built at all (a type no op outputs)."""
    type_h: dict[str, float] = dict.fromkeys(vocab.types, INF)
    op_h: dict[str, float] = dict.fromkeys(vocab.ops, INF)
    changed = True
    while changed:
        changed = False
        for sig in vocab.ops.values():
            h = 0 if not sig.inputs else 1 + max(type_h[t] for t in sig.inputs)
            if h < op_h[sig.name]:
                op_h[sig.name] = h
                changed = True
            if h < type_h[sig.output]:
                type_h[sig.output] = h
                changed = True
    return type_h, op_h


def _value(vocab: Vocabulary, spec: ArgSpec) -> st.SearchStrategy[Any]:
    vtype = vocab.types[spec.type]
    if vtype.kind == "integer":
        return st.integers()
    if vtype.kind == "bool":
        return st.booleans()
    if vtype.domain is not None:
        return st.sampled_from(vtype.domain)
    return open_values


def _full_args(vocab: Vocabulary, sig: OpSignature) -> st.SearchStrategy[tuple[Any, ...]]:
    parts = []
    for spec in sig.args:
        value = _value(vocab, spec)
        # optional arguments are left empty a third of the time
        parts.append(st.one_of(st.none(), value, value) if spec.optional else value)
    return st.tuples(*parts)


def _required(sig: OpSignature) -> int:
    return max((k + 1 for k, a in enumerate(sig.args) if not a.optional), default=0)


@st.composite
def arg_values(draw, vocab: Vocabulary, sig: OpSignature) -> tuple[Any, ...]:
    """Valid value arguments of ``sig``: optional ones sometimes ``None``, and trailing
    optional ones sometimes left out."""
    values = draw(_full_args(vocab, sig))
    return values[: draw(st.integers(_required(sig), len(sig.args)))]


class _Plan:
    """Strategies for one vocabulary, built once (building them per draw is slow)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.type_h, self.op_h = min_heights(vocab)
        producers: dict[str, list[str]] = {t: [] for t in vocab.types}
        for sig in vocab.ops.values():
            if self.op_h[sig.name] < INF:
                producers[sig.output].append(sig.name)
        self.producers = producers
        self.buildable = st.sampled_from(sorted(t for t, ops in producers.items() if ops))
        self.args = {o: _full_args(vocab, sig) for o, sig in vocab.ops.items()}
        self.lengths = {o: st.integers(_required(sig), len(sig.args)) for o, sig in vocab.ops.items()}
        self.orders = {n: st.permutations(range(n)) for n in {len(s.inputs) for s in vocab.ops.values()}}
        self._ops: dict[tuple[str, float], st.SearchStrategy[str]] = {}

    def ops(self, t: str, budget: float) -> st.SearchStrategy[str]:
        key = (t, budget)
        if key not in self._ops:
            self._ops[key] = st.sampled_from([o for o in self.producers[t] if self.op_h[o] <= budget])
        return self._ops[key]


_PLANS: dict[int, _Plan] = {}
_SHARE = st.integers(0, 3)


def _plan(vocab: Vocabulary) -> _Plan:
    plan = _PLANS.get(id(vocab))
    if plan is None or plan.vocab is not vocab:
        plan = _PLANS[id(vocab)] = _Plan(vocab)
    return plan


@st.composite
def programs(
    draw,
    vocabulary: str | Vocabulary = "clevr",
    *,
    max_depth: int = 6,
    max_steps: int = 30,
    shared: bool = True,
    dead_code: bool = True,
    output_type: str | None = None,
) -> Program:
    """Random valid programs of ``vocabulary`` (a name or a :class:`Vocabulary`).

    ``max_depth`` bounds the nesting (raised where a type needs more), ``max_steps``
    makes generation fall back to the shortest ops once reached; ``shared`` lets inputs
    re-use earlier steps, ``dead_code`` adds unused steps; ``output_type`` fixes the type
    of the answer.
    """
    vocab = get_vocabulary(vocabulary)
    plan = _plan(vocab)
    steps: list[Step] = []
    types: list[str] = []

    def build(t: str, budget: float, share: bool = True) -> int:
        if shared and share and t in types and draw(_SHARE) == 0:
            return draw(st.sampled_from([i for i, ti in enumerate(types) if ti == t]))
        if len(steps) >= max_steps:
            budget = plan.type_h[t]
        budget = max(budget, plan.type_h[t])
        op = draw(plan.ops(t, budget))
        sig = vocab.ops[op]
        n = len(sig.inputs)
        order = draw(plan.orders[n]) if n > 1 else range(n)
        inputs: list[int] = [0] * n
        for k in order:
            inputs[k] = build(sig.inputs[k], budget - 1)
        args = draw(plan.args[op])
        if sig.args:
            args = args[: draw(plan.lengths[op])]
        steps.append(Step(op, tuple(inputs), args))
        types.append(t)
        return len(steps) - 1

    if dead_code and draw(_SHARE) == 0:
        build(draw(plan.buildable), 2)
    root = output_type if output_type is not None else draw(plan.buildable)
    build(root, max_depth, share=False)  # the answer is a new step: the last one
    return Program(steps, vocabulary)


def same_program(a: Program, b: Program) -> bool:
    """Equality that also tells ``1`` from ``True`` in value arguments (``==`` does not)."""

    def typed(p: Program) -> list[tuple[Any, ...]]:
        return [(s.op, s.inputs, tuple((type(v), v) for v in s.args)) for s in p.steps]

    return a == b and typed(a) == typed(b)
