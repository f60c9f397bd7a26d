"""The neural executor: programs run softly over GNN-encoded scene graphs.

Where the symbolic executor reads each attribute's most confident value and fails when
``unique`` finds zero or two objects, the neural executor keeps every confidence: a set of
objects is an *attention* vector (the probability that each object is in the set), an
object is a distribution over the scene's objects, a count a distribution over 0..N, a
yes/no a probability, a queried value a distribution over the attribute's domain. The
scene is first encoded (:class:`~nsreason.encode.gnn.SceneEncoder`: message passing over
objects and relations refines the stated probabilities), then each step runs its *soft
implementation* (:data:`SOFT_OPS`, named by the op's ``neural`` field in
``programs/*.yaml``):

===================  =========================================================================
filter               attention × P(object has the value) (the concept-conditioned attention)
relate               attention moved along soft edges: ``a_j = Σ_i P(j rel i) · o_i · P(j)``
unique               attention normalised to a distribution; the trace records P(exactly one)
count                the Poisson-binomial distribution of the number of objects in the set
exist                ``1 - Π(1 - a_i)``
query                ``Σ_i o_i · P(attribute of i)``: a distribution over the domain
equal (any type)     ``Σ_x p(x) q(x)``; less/greater: ``Σ_{x<y} p(x) q(y)``
same_<attribute>     other objects weighted by the probability that their value equals its
union, intersect     ``a + b - ab``, ``ab``; difference ``a (1 - b)``
filter_ordinal       ``a_i`` × P(exactly k-1 members before i along the direction) (CLEVR-Ref+)
filter_visible       attention × P(fully / partially visible), read from the scene's occlusion
kb_filter            attention × ``1 - Π_attr (1 - Σ_v P(attr=v) truth(r, v))``, the KB injected
kb_verify, kb_check  ``Σ_i o_i P_i``; ``Σ_v p(v) truth(r, v)``
kb_query             a value distribution → one over the KB's answers (``<no fact>`` for none)
kb_property          P(every attribute value gives answer ``a`` or none, one gives ``a``)
===================  =========================================================================

The knowledge ops (:mod:`nsreason.execute.soft_knowledge`) read a KB passed as
``NeuralExecutor(knowledge=...)``; a step fails as its symbolic op does when a failure
label (``<no fact>``, ``<ambiguous>``) outweighs every answer.

The answer is the most probable one, with its probability, recalibrated by a temperature
per answer kind (learned with the encoder). Questions are batched across programs: at each
step position, the questions whose step there has the same op and arguments run as one
batched call (dynamic batching), over padded tensors of all their scenes.

Weights: ``nsreason/execute/weights/neural`` (``model.safetensors`` + ``config.json``),
trained by ``nsreason train executor`` (``nsreason.train.executor``); nothing is unpickled.

>>> from nsreason.scene.clevr import clevr_scene_from_dict             # doctest: +SKIP
>>> scene = clevr_scene_from_dict({"objects": [                         # doctest: +SKIP
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"}]})
>>> NeuralExecutor().execute(Program.from_text("count(scene())"), scene).value  # doctest: +SKIP
1
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExecutionFailure, InputError, ProgramError, RegistryError
from ..program.ir import Program
from ..program.vocab import Vocabulary, get_vocabulary
from ..registry import Registry
from ..trace.trace import Failure, Trace, TraceStep
from .answer import Answer

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..encode.gnn import Refined, SceneEncoder
    from ..encode.scene import SceneBatch, SceneSchema
    from ..scene.graph import SceneGraph

__all__ = ["SOFT_OPS", "NeuralExecutor", "RunRecord", "SoftContext", "default_weights_dir", "load_model",
           "model_class", "new_model",
           "run_programs"]

SOFT_OPS: Registry[Callable[..., Any]] = Registry("soft op implementation", "nsreason.soft_ops")
"""Soft implementations by name: ``f(ctx, *inputs, *constants) -> tensor``, batched over
the rows of their inputs (see :class:`SoftContext`)."""

_EPS = 1e-6

SOFT_LABELS: dict[str, Callable[[tuple[Any, ...]], list[str]]] = {
    "query_among": lambda consts: str(consts[0]).split("|"),
    "choose": lambda consts: [str(consts[0]), str(consts[1])],
}
"""The labels of soft ops whose output is a distribution over values their arguments name
(a value type without a domain), from their constants."""
_KINDS = ("bool", "integer", "value")  # answer kinds with a learned temperature


def default_weights_dir() -> Path:
    """The shipped weights: ``nsreason/execute/weights/neural``."""
    return Path(__file__).resolve().parent / "weights" / "neural"


class SoftContext:
    """What a soft op reads besides its inputs: the refined scene of each row (``scene``:
    :class:`~nsreason.encode.gnn.Refined`, one scene per row), each attribute value's
    index in its domain, the injected knowledge base (``knowledge``: see
    :mod:`nsreason.execute.soft_knowledge`; None without one) and the labels of each
    value input without a domain (``input_labels``: None for other inputs).

    What an op may leave for the executor: ``labels`` (those of its output, a value
    distribution whose labels it made), ``evidence`` (trace details shared by the rows),
    ``per_row`` (name → ``[m, ...]`` tensor, one row each in the trace) and ``failures``
    (``(code, mass, rival, reason)``: a row fails with ``code`` where ``mass[r] > rival[r]``,
    ``reason(r)`` saying why)."""

    __slots__ = ("evidence", "failures", "input_labels", "knowledge", "labels", "per_row", "scene", "value_index")

    def __init__(self, scene: Refined, value_index: dict[str, dict[str, int]], knowledge: Any = None,
                 input_labels: Sequence[Sequence[str] | None] = ()) -> None:
        self.scene = scene
        self.value_index = value_index
        self.knowledge = knowledge
        self.input_labels = list(input_labels)
        self.labels: list[str] | None = None
        self.evidence: dict[str, Any] | None = None
        self.per_row: dict[str, Any] = {}
        self.failures: list[tuple[str, Any, Any, Callable[[int], str]]] = []

    def attribute(self, key: str) -> torch.Tensor:
        try:
            return self.scene.attrs[key]
        except KeyError:
            raise ExecutionError(
                f"the encoder knows no attribute {key!r}; known: {sorted(self.scene.attrs)}") from None

    def relation(self, predicate: str) -> torch.Tensor:
        try:
            return self.scene.rels[predicate]
        except KeyError:
            raise ExecutionError(
                f"the encoder knows no relation {predicate!r}; known: {sorted(self.scene.rels)}") from None


    def rows(self, read: Callable[[Any], list[float]]) -> torch.Tensor:
        """``[m, N]``: ``read(tables)`` of each row's scene (its
        :class:`~nsreason.encode.scene.OpenTables`), padded with zeros."""
        import torch

        n = self.scene.exist.shape[1]
        out = [read(t) for t in self.scene.open]
        return torch.tensor([r + [0.0] * (n - len(r)) for r in out], dtype=self.scene.exist.dtype,
                            device=self.scene.exist.device)

    def has_value(self, key: str, value: str) -> torch.Tensor:
        """``[m, N]``: P(object's ``key`` is ``value``): refined for the encoder's own keys,
        as stated otherwise."""
        index = self.value_index.get(key)
        if index is not None and value in index:
            return self.attribute(key)[:, :, index[value]]
        return self.rows(lambda t: t.keyed(key, value))

    def any_relation(self, predicate: str) -> torch.Tensor:
        """``[m, N, N]``: P(i predicate j): refined for the encoder's own predicates, as
        stated otherwise."""
        import torch

        if predicate in self.scene.rels:
            return self.scene.rels[predicate]
        m, n = self.scene.exist.shape
        out = torch.zeros(m, n, n, dtype=self.scene.exist.dtype)
        for r, tables in enumerate(self.scene.open):
            for (i, j), p in tables.relation(predicate).items():
                out[r, i, j] = p
        return out.to(self.scene.exist.device)

    def same_values(self, key: str) -> torch.Tensor:
        """``[m, N, N]``: P(objects i and j have the same value of ``key``) (diagonal
        included)."""
        import torch

        if key in self.value_index:
            A = self.attribute(key)
            return torch.einsum("miv,mjv->mij", A, A)
        m, n = self.scene.exist.shape
        out = torch.zeros(m, n, n, dtype=self.scene.exist.dtype)
        for r, tables in enumerate(self.scene.open):
            vals = tables.scene.objects
            seen = {a.value for o in vals for a in o.attributes if a.key == key}
            for v in seen:
                p = torch.tensor(tables.keyed(key, v) + [0.0] * (n - len(vals)), dtype=out.dtype)
                out[r] += p[:, None] * p[None, :]
        return out.clamp(0, 1).to(self.scene.exist.device)


class ExecutionError(InputError):
    """A program asks the neural executor for what its encoder does not read."""


# -- soft implementations --------------------------------------------------------------------
def _op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return SOFT_OPS.register(name)


@_op("scene")
def soft_scene(ctx: SoftContext) -> torch.Tensor:
    """Every object, weighted by its existence probability."""
    return ctx.scene.exist


@_op("filter_attribute")
def soft_filter(ctx: SoftContext, a: torch.Tensor, attribute: str, value: str) -> torch.Tensor:
    """Attention times the probability that each object's ``attribute`` is ``value``."""
    return a * ctx.has_value(attribute, value)


@_op("filter_attributes")
def soft_filter_attributes(ctx: SoftContext, a: torch.Tensor, attributes: Sequence[str], then: str | None,
                           *values: str | None) -> torch.Tensor:
    """CLEVR's template shorthand: every given filter, then optionally unique/count/exist."""
    for attribute, value in zip(attributes, values):
        if value is not None:
            a = soft_filter(ctx, a, attribute, value)
    return a if then is None else SOFT_OPS.get(then)(ctx, a)


@_op("relate_filter")
def soft_relate_filter(ctx: SoftContext, o: torch.Tensor, attributes: Sequence[str], then: str | None,
                       relation: str, *values: str | None) -> torch.Tensor:
    """Relate, then :func:`soft_filter_attributes`."""
    return soft_filter_attributes(ctx, soft_subjects_of(ctx, o, relation), attributes, then, *values)


@_op("subjects_of")
def soft_subjects_of(ctx: SoftContext, o: torch.Tensor, predicate: str) -> torch.Tensor:
    """Objects ``j`` in relation ``predicate`` to the object: ``Σ_i P(j pred i) o_i``,
    times ``P(j exists)``."""
    import torch

    return torch.einsum("mji,mi->mj", ctx.relation(predicate), o) * ctx.scene.exist


@_op("union")
def soft_union(ctx: SoftContext, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a + b - a * b


@_op("intersect")
def soft_intersect(ctx: SoftContext, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a * b


@_op("difference")
def soft_difference(ctx: SoftContext, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a * (1 - b)


@_op("unique")
def soft_unique(ctx: SoftContext, a: torch.Tensor) -> torch.Tensor:
    """The attention normalised into a distribution over objects (how likely the set had
    exactly one object is :func:`uniqueness`, recorded in the trace)."""
    return a / (a.sum(-1, keepdim=True) + _EPS)


def count_distribution(a: torch.Tensor) -> torch.Tensor:
    """``[m, N] → [m, N+1]``: the distribution of the number of objects in the set when
    each object is in it independently with its probability (Poisson binomial)."""
    import torch

    m, n = a.shape
    dist = a.new_zeros(m, n + 1)
    dist[:, 0] = 1.0
    for i in range(n):
        p = a[:, i : i + 1]
        shifted = torch.cat([a.new_zeros(m, 1), dist[:, :-1]], dim=1)
        dist = dist * (1 - p) + shifted * p
    return dist


def uniqueness(a: torch.Tensor) -> torch.Tensor:
    """P(exactly one object in the set), per row."""
    return count_distribution(a)[:, 1]


@_op("count")
def soft_count(ctx: SoftContext, a: torch.Tensor) -> torch.Tensor:
    return count_distribution(a)


@_op("exist")
def soft_exist(ctx: SoftContext, a: torch.Tensor) -> torch.Tensor:
    import torch

    return 1 - torch.prod(1 - a, dim=-1)


@_op("query_attribute")
def soft_query(ctx: SoftContext, o: torch.Tensor, attribute: str) -> torch.Tensor:
    """The distribution of the object's ``attribute``."""
    import torch

    return torch.einsum("mn,mnd->md", o, ctx.attribute(attribute))


@_op("equal")
def soft_equal(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """P(x = y) for two independent distributions (values, counts or objects)."""
    return (x * y).sum(-1)


def _ordered(x: torch.Tensor, y: torch.Tensor, upper: bool) -> torch.Tensor:
    import torch

    n = x.shape[-1]
    order = torch.triu(x.new_ones(n, n), diagonal=1) if upper else torch.tril(x.new_ones(n, n), diagonal=-1)
    return torch.einsum("mi,ij,mj->m", x, order, y)


@_op("less_than")
def soft_less_than(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return _ordered(x, y, upper=True)


@_op("greater_than")
def soft_greater_than(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return _ordered(x, y, upper=False)


@_op("same_attribute")
def soft_same_attribute(ctx: SoftContext, o: torch.Tensor, attribute: str) -> torch.Tensor:
    """Other objects, each weighted by the probability that its ``attribute`` equals the
    object's: ``a_j = P(j) Σ_{i≠j} o_i Σ_v P(j has v) P(i has v)``."""
    import torch

    same = ctx.same_values(attribute)
    same = same * (1 - torch.eye(same.shape[-1], dtype=same.dtype, device=same.device))
    return torch.einsum("mji,mi->mj", same, o) * ctx.scene.exist


# -- open-vocabulary ops (the scene_graph vocabulary) ----------------------------------------
@_op("select_name")
def soft_select_name(ctx: SoftContext, a: torch.Tensor, name: str) -> torch.Tensor:
    """Objects of category ``name`` (names are read as stated)."""
    return a * ctx.rows(lambda t: t.name(name))


@_op("filter_value")
def soft_filter_value(ctx: SoftContext, a: torch.Tensor, value: str) -> torch.Tensor:
    """Attention times P(object has ``value`` under any key or as a label)."""
    return a * ctx.rows(lambda t: t.value(value))


@_op("exclude_value")
def soft_exclude_value(ctx: SoftContext, a: torch.Tensor, value: str) -> torch.Tensor:
    return a * (1 - ctx.rows(lambda t: t.value(value)))


@_op("relate_out")
def soft_relate_out(ctx: SoftContext, a: torch.Tensor, predicate: str) -> torch.Tensor:
    """Objects ``o`` with ``(s, predicate, o)`` for some ``s`` of the set:
    ``1 - Π_s (1 - a_s P(s pred o))``, times P(o)."""
    import torch

    R = ctx.any_relation(predicate)
    return (1 - torch.prod(1 - a[:, :, None] * R, dim=1)) * ctx.scene.exist


@_op("relate_in")
def soft_relate_in(ctx: SoftContext, a: torch.Tensor, predicate: str) -> torch.Tensor:
    """Objects ``s`` with ``(s, predicate, o)`` for some ``o`` of the set."""
    import torch

    R = ctx.any_relation(predicate)
    return (1 - torch.prod(1 - a[:, None, :] * R, dim=2)) * ctx.scene.exist


@_op("verify_value")
def soft_verify_value(ctx: SoftContext, o: torch.Tensor, value: str) -> torch.Tensor:
    return (o * ctx.rows(lambda t: t.value(value))).sum(-1)


@_op("verify_attribute")
def soft_verify_attribute(ctx: SoftContext, o: torch.Tensor, attribute: str, value: str) -> torch.Tensor:
    return (o * ctx.has_value(attribute, value)).sum(-1)


@_op("verify_name")
def soft_verify_name(ctx: SoftContext, o: torch.Tensor, name: str) -> torch.Tensor:
    return (o * ctx.rows(lambda t: t.name(name))).sum(-1)


@_op("verify_relation")
def soft_verify_relation(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor, predicate: str) -> torch.Tensor:
    """P(x predicate y) = ``Σ_ij x_i y_j P(i pred j)``."""
    import torch

    return torch.einsum("mi,mij,mj->m", x, ctx.any_relation(predicate), y)


@_op("same_value")
def soft_same_value(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor, attribute: str) -> torch.Tensor:
    import torch

    return torch.einsum("mi,mij,mj->m", x, ctx.same_values(attribute), y)


@_op("different_value")
def soft_different_value(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor, attribute: str) -> torch.Tensor:
    return 1 - soft_same_value(ctx, x, y, attribute)


@_op("same_name")
def soft_same_name(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    import torch

    def same(t: Any) -> list[list[float]]:
        names = [o.name for o in t.scene.objects]
        return [[1.0 if a is not None and a == b else 0.0 for b in names] for a in names]

    m, n = x.shape
    M = torch.zeros(m, n, n, dtype=x.dtype)
    for r, tables in enumerate(ctx.scene.open):
        rows = same(tables)
        if rows:
            M[r, : len(rows), : len(rows)] = torch.tensor(rows, dtype=x.dtype)
    return torch.einsum("mi,mij,mj->m", x, M.to(x.device), y)


@_op("query_name")
def soft_query_name(ctx: SoftContext, o: torch.Tensor) -> torch.Tensor:
    """The object's category: the distribution over objects itself, read as a
    distribution over their names when decoded (:func:`name_distribution`)."""
    return o


def name_distribution(final: torch.Tensor, objects: Sequence[Any]) -> tuple[list[str], torch.Tensor]:
    """``(names, probabilities)`` of a ``query_name`` output (a distribution over the
    scene's objects): each name's probability is the sum over the objects of that name."""
    import torch

    names = sorted({str(o.name) for o in objects if o.name is not None})
    where = {n: k for k, n in enumerate(names)}
    probs = final.new_zeros(len(names))
    for i, o in enumerate(objects):
        if o.name is not None:
            probs[where[o.name]] += final[i]
    return names, probs / probs.sum().clamp_min(_EPS) if len(names) else torch.zeros(0)


@_op("query_among")
def soft_query_among(ctx: SoftContext, o: torch.Tensor, options: str) -> torch.Tensor:
    """A distribution over ``options`` (``"white|black|..."``): each option's probability
    on the object, ``Σ_i o_i P(i has v)``, normalised (uniform when none is likely)."""
    import torch

    vals = torch.stack([(o * ctx.rows(lambda t, v=v: t.value(v))).sum(-1) for v in options.split("|")], dim=-1)
    total = vals.sum(-1, keepdim=True)
    return torch.where(total > _EPS, vals / total.clamp_min(_EPS), torch.full_like(vals, 1.0 / vals.shape[-1]))


@_op("choose")
def soft_choose(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor, first: str, second: str) -> torch.Tensor:
    """``[P(first), P(second)]`` given that exactly one of the two tests holds."""
    import torch

    a, b = x * (1 - y), y * (1 - x)
    total = (a + b).clamp_min(_EPS)
    return torch.stack([a / total, b / total], dim=-1)


@_op("and")
def soft_and(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * y


@_op("or")
def soft_or(ctx: SoftContext, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x + y - x * y


@_op("not")
def soft_not(ctx: SoftContext, x: torch.Tensor) -> torch.Tensor:
    return 1 - x


@_op("extreme")
def soft_extreme(ctx: SoftContext, a: torch.Tensor, predicate: str) -> torch.Tensor:
    """Members with no other member in relation ``predicate`` to them:
    ``a_i Π_{j≠i} (1 - a_j P(j pred i))``."""
    import torch

    R = ctx.relation(predicate)
    return a * torch.prod(1 - a[:, :, None] * R, dim=1)


@_op("all_same")
def soft_all_same(ctx: SoftContext, a: torch.Tensor, attribute: str) -> torch.Tensor:
    """P(every member has the same value), given that the set is not empty."""
    import torch

    A = ctx.attribute(attribute)
    per_value = torch.prod(1 - a[:, :, None] * (1 - A), dim=1)  # [m, D]: all members have v
    empty = torch.prod(1 - a, dim=-1)
    some = (per_value.sum(-1) - A.shape[-1] * empty).clamp_min(0)
    return (some / (1 - empty + _EPS)).clamp(0, 1)


@_op("most_common")
def soft_most_common(ctx: SoftContext, a: torch.Tensor, attribute: str) -> torch.Tensor:
    """A distribution over the domain from each value's expected count among the members
    (a softmax with sharpness 4: an approximation of which value is most common)."""
    import torch

    counts = torch.einsum("mn,mnd->md", a, ctx.attribute(attribute))
    return torch.softmax(4.0 * counts, dim=-1)


# -- CLEVR-Ref+ ---------------------------------------------------------------------------------
def _ordinal_before(ctx: SoftContext, direction: str) -> torch.Tensor:
    """``[m, N, N]``: 1 where object ``j`` comes before object ``i`` counted ``direction``
    (the symbolic executor's order, :func:`nsreason.execute.ops.ordinal_order`, read from
    each scene's ``pixel_coords``)."""
    import torch

    from ..errors import ExecutionFailure
    from .ops import ordinal_order

    m, n = ctx.scene.exist.shape
    out = torch.zeros(m, n, n, dtype=ctx.scene.exist.dtype)
    for r, tables in enumerate(ctx.scene.open):
        try:
            order = ordinal_order(tables.scene.index, direction)
        except ExecutionFailure as err:
            raise ExecutionError(err.reason) from None
        for rank, i in enumerate(order):
            for j in order[:rank]:
                out[r, i, j] = 1.0
    return out.to(ctx.scene.exist.device)


@_op("filter_ordinal")
def soft_filter_ordinal(ctx: SoftContext, a: torch.Tensor, number: str, direction: str) -> torch.Tensor:
    """The ``k``-th member counted ``direction``, softly: object ``i`` scores
    ``a_i · P(exactly k-1 members come before i)``, the probability that it is in the set
    with exactly ``k-1`` members ahead of it when each object is in the set independently
    with its attention (a Poisson-binomial count over the objects before ``i``; the order
    itself is read from the scene's image positions, as the symbolic op). On a 0/1
    attention this is the symbolic op; a set with fewer than ``k`` members gives zeros."""
    from .ops import ORDINAL_NUMBERS

    k = ORDINAL_NUMBERS.index(number)
    m, n = a.shape
    if k >= n:
        return a * 0
    before = _ordinal_before(ctx, direction)  # [m, i, j]
    ahead = count_distribution((a[:, None, :] * before).reshape(m * n, n))  # [m*n, n+1]
    return a * ahead[:, k].reshape(m, n)


def _partially_visible(ctx: SoftContext) -> torch.Tensor:
    """``[m, N]``: P(object partially visible) = ``min(1, occlusion / 0.2)``: 0 for an
    object nothing covers, 1 from the generator's 20% on, and a linear reading of the
    0–20% band the generator leaves undecided."""
    from ..scene.occlusion import VISIBLE_THRESHOLD

    def read(tables: Any) -> list[float]:
        row = []
        for o in tables.scene.objects:
            covered = o.extra.get("occlusion")
            if not isinstance(covered, (int, float)) or isinstance(covered, bool):
                raise ExecutionError(
                    f"object {o.id!r} has no occlusion measure: filter_visible needs a scene with object "
                    "masks and boxes (obj_mask, obj_bbox: CLEVR-Ref+ scenes have them)")
            row.append(min(1.0, max(0.0, float(covered) / VISIBLE_THRESHOLD)))
        return row

    return ctx.rows(read)


@_op("filter_visible")
def soft_filter_visible(ctx: SoftContext, a: torch.Tensor, visibility: str) -> torch.Tensor:
    """Attention × P(visible as asked): ``a (1 - p)`` for ``fully visible``, ``a p`` for
    ``partially visible``, with ``p`` from :func:`_partially_visible`."""
    p = _partially_visible(ctx)
    if visibility == "fully visible":
        return a * (1 - p)
    if visibility == "partially visible":
        return a * p
    raise ExecutionError(f"unknown visibility {visibility!r}")


# -- the model ---------------------------------------------------------------------------------
def _make_model_class() -> type:
    import torch
    from torch import nn

    class _NeuralModel(nn.Module):
        """The scene encoder, the word vectors of the vocabulary's words, and one
        temperature per answer kind."""

        def __init__(self, schema: SceneSchema, encoder: SceneEncoder, words: list[str],
                     word_table: torch.Tensor) -> None:
            super().__init__()
            self.schema = schema
            self.encoder = encoder
            self.words = list(words)
            self.register_buffer("word_table", word_table)
            self.log_temperature = nn.Parameter(torch.zeros(len(_KINDS)))
            self._word_index = {w: i for i, w in enumerate(self.words)}
            self._extra_words: dict[str, Any] = {}
            self.value_index = {k: {v: i for i, v in enumerate(d)} for k, d in schema.domains}

        def word_vectors(self, words: Sequence[str]) -> Any:
            """Vectors of ``words``: from the stored table, else MiniLM (an unseen word of a
            GQA or Visual Genome graph), else zeros when MiniLM is not installed."""
            import numpy as np

            table = self.word_table.detach().cpu().numpy()
            missing = [w for w in words if w not in self._word_index and w not in self._extra_words]
            if missing:
                try:
                    from ..encode.text import TextEncoder

                    vectors = TextEncoder().encode(missing)
                except (ImportError, InputError):  # no sentence encoder here: unseen words say nothing
                    vectors = np.zeros((len(missing), table.shape[1]), np.float32)
                self._extra_words.update(zip(missing, vectors))
            return np.stack([table[self._word_index[w]] if w in self._word_index else self._extra_words[w]
                             for w in words]) if words else np.zeros((0, table.shape[1]), np.float32)

        def batch(self, scenes: Sequence[SceneGraph]) -> SceneBatch:
            from ..encode.scene import SceneBatch

            dim = int(self.word_table.shape[1])
            return SceneBatch.from_scenes(scenes, self.schema, self.word_vectors if dim else None, dim)

        def temperature(self, kind: str) -> torch.Tensor:
            return torch.exp(self.log_temperature[_KINDS.index(kind)])

        def config(self) -> dict[str, Any]:
            return {"format": "nsreason.neural-executor/1", "schema": self.schema.to_dict(),
                    "encoder": self.encoder.config(), "words": self.words}

        def save(self, directory: str | Path) -> Path:
            """``model.safetensors`` and ``config.json`` in ``directory``."""
            from safetensors.torch import save_file

            d = Path(directory)
            d.mkdir(parents=True, exist_ok=True)
            save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()},
                      str(d / "model.safetensors"))
            (d / "config.json").write_text(json.dumps(self.config(), indent=1) + "\n", encoding="utf-8")
            return d

    return _NeuralModel


_MODEL_CLASS: type | None = None


def model_class() -> type:
    """The torch ``Module`` class of neural executor models (made on first use, so that
    importing this module does not import torch)."""
    global _MODEL_CLASS
    if _MODEL_CLASS is None:
        _MODEL_CLASS = _make_model_class()
    return _MODEL_CLASS


def new_model(vocabulary: str | Vocabulary = "clevr", *, words: Sequence[str] = (), word_table: Any = None,
              message_passing: bool = True, hidden: int = 64, layers: int = 2, predicate_words: bool = True) -> Any:
    """An untrained model for ``vocabulary`` (its corrections start at zero: it reads
    scenes as stated). ``words``/``word_table``: the word vectors to store (MiniLM rows);
    without them the encoder reads no words."""
    import torch

    from ..encode.gnn import SceneEncoder
    from ..encode.scene import scene_schema

    schema = scene_schema(get_vocabulary(vocabulary))
    table = torch.as_tensor(word_table, dtype=torch.float32) if word_table is not None else torch.zeros(0, 0)
    encoder = SceneEncoder({k: len(d) for k, d in schema.domains}, list(schema.predicates),
                           word_dim=int(table.shape[1]), hidden=hidden, layers=layers,
                           message_passing=message_passing, predicate_words=predicate_words)
    return model_class()(schema, encoder, list(words), table)


def load_model(directory: str | Path | None = None) -> Any:
    """A model saved by ``model.save`` (default: the shipped weights). Typed errors for a
    missing or malformed folder; nothing is unpickled."""
    import torch
    from safetensors.torch import load_file

    from ..encode.gnn import SceneEncoder
    from ..encode.scene import SceneSchema

    d = Path(directory) if directory is not None else default_weights_dir()
    cfg_path, weights = d / "config.json", d / "model.safetensors"
    if not cfg_path.is_file() or not weights.is_file():
        raise InputError(f"{d}: expected a neural executor model folder (config.json and model.safetensors); "
                         "train one with `nsreason train executor`")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        if cfg.get("format") != "nsreason.neural-executor/1":
            raise InputError(f"{cfg_path}: format: expected 'nsreason.neural-executor/1', got {cfg.get('format')!r}")
        schema = SceneSchema.from_dict(cfg["schema"])
        enc_cfg = dict(cfg["encoder"])
        encoder = SceneEncoder(enc_cfg.pop("domains"), enc_cfg.pop("predicates"), **enc_cfg)
        state = load_file(str(weights))
        model = model_class()(schema, encoder, list(cfg["words"]), torch.zeros_like(state["word_table"]))
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{d}: not a neural executor model this version reads: {type(exc).__name__}: {exc}") from exc
    model.eval()
    return model


# -- running -----------------------------------------------------------------------------------
class NeuralExecutor:
    """Soft execution of programs over GNN-encoded scenes (see the module docstring).

    Parameters
    ----------
    model:
        A model (``new_model`` / ``load_model``), a folder of saved weights, or None for
        the shipped weights.
    vocabulary:
        The vocabulary programs are checked against (default: each program's own).
    device:
        ``"cpu"``, ``"cuda"``...; default: CUDA when available.
    batch_size:
        Questions run together by :meth:`execute_many`.
    knowledge:
        A knowledge base for the knowledge ops (``kb_query``, ``kb_filter``...), with the
        protocol :class:`nsreason.execute.soft_knowledge.Knowledge` (the api passes a
        :class:`nsreason.retrieve.ops.KnowledgeTable`); without one, a program that uses
        them fails with ``no_knowledge_base``.
    """

    def __init__(self, model: Any = None, *, vocabulary: str | Vocabulary | None = None,
                 device: str | None = None, batch_size: int = 512, knowledge: Any = None) -> None:
        import torch

        self.model = model if model is not None and not isinstance(model, (str, Path)) else load_model(model)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device)
        self.vocabulary = get_vocabulary(vocabulary) if vocabulary is not None else None
        self.batch_size = batch_size
        self.knowledge = knowledge

    def __repr__(self) -> str:
        kb = ", knowledge=..." if self.knowledge is not None else ""
        return f"NeuralExecutor(device={self.device.type!r}{kb})"

    def with_knowledge(self, knowledge: Any) -> NeuralExecutor:
        """The same executor (model, device, vocabulary) reading ``knowledge``."""
        return NeuralExecutor(self.model, vocabulary=self.vocabulary, device=str(self.device),
                              batch_size=self.batch_size, knowledge=knowledge)

    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer:
        """Run ``program`` on ``scene``: the most probable answer with its probability
        (``Answer.confidence``) and, with ``trace``, every step's attention."""
        return self.execute_many([(program, scene)], trace=trace)[0]

    def execute_many(self, pairs: Sequence[tuple[Program, SceneGraph]], *, trace: bool = False) -> list[Answer]:
        """Answers of many ``(program, scene)`` pairs, batched (scenes encoded once per
        batch, steps batched across programs)."""
        import torch

        out: list[Answer] = []
        with torch.no_grad():
            for start in range(0, len(pairs), self.batch_size):
                out.extend(self._run_chunk(pairs[start : start + self.batch_size], trace))
        return out

    def _run_chunk(self, pairs: Sequence[tuple[Program, SceneGraph]], trace: bool) -> list[Answer]:
        answers: list[Answer | None] = [None] * len(pairs)
        runnable: list[int] = []
        for q, (program, _) in enumerate(pairs):
            failure = self._check(program)
            if failure is not None:
                answers[q] = Answer(None, program, _failed_trace(program, pairs[q][1], failure) if trace else None,
                                    failure)
            else:
                runnable.append(q)
        if runnable:
            scenes: dict[int, int] = {}
            for q in runnable:
                scenes.setdefault(id(pairs[q][1]), len(scenes))
            order = {i: pairs[q][1] for q in runnable for i in [scenes[id(pairs[q][1])]]}
            batch = self.model.batch([order[i] for i in range(len(order))]).to(self.device)
            refined = self.model.encoder(batch)
            programs = [pairs[q][0] for q in runnable]
            rows = [scenes[id(pairs[q][1])] for q in runnable]
            step_ns: list[int] = []
            record = RunRecord()
            values = run_programs(self.model, programs, rows, refined, self._vocab, step_ns,
                                  knowledge=self.knowledge, record=record)
            for k, q in enumerate(runnable):
                program, scene = pairs[q]
                answers[q] = self._answer(program, scene, batch, refined, rows[k], values[k], trace, step_ns,
                                          (record, k))
        return answers  # type: ignore[return-value]

    def _vocab(self, program: Program) -> Vocabulary:
        return self.vocabulary or get_vocabulary(program.vocabulary)

    def _check(self, program: Program) -> Failure | None:
        """None, or the failure of a program that does not validate."""
        vocab = self._vocab(program)
        try:
            program.validate(vocab)
        except ProgramError as err:
            return Failure("invalid_program", str(err), None)
        if self.knowledge is None:
            from .soft_knowledge import KNOWLEDGE_SOFT_OPS

            for i, step in enumerate(program.steps):
                if vocab.op(step.op).neural in KNOWLEDGE_SOFT_OPS:
                    return Failure("no_knowledge_base", f"{step.op} reads a knowledge base and this neural executor "
                                   "has none: NeuralExecutor(knowledge=...), or Reasoner(executor='neural', kb=...)", i)
        return None

    def _answer(self, program: Program, scene: SceneGraph, batch: SceneBatch, refined: Refined, row: int,
                values: list[Any], trace: bool, step_ns: list[int],
                recorded: tuple[RunRecord, int] | None = None) -> Answer:
        vocab = self._vocab(program)
        out_type = vocab.op(program.steps[-1].op).output
        last = vocab.op(program.steps[-1].op)
        rec, k = recorded if recorded is not None else (RunRecord(1), 0)
        failure = rec.failures.get(k)
        if failure is not None:
            tr = None
            if trace:
                steps = _trace_steps(self.model, vocab, program, batch.ids[row], values, step_ns,
                                     refined_row=(refined, row), recorded=(rec, k))
                done = len(steps)
                steps += [TraceStep(i, s.op, tuple(s.args), tuple(s.inputs), None, vocab.op(s.op).output,
                                    "failed" if i == failure.step else "skipped",
                                    failure if i == failure.step else None)
                          for i, s in enumerate(program.steps) if i >= done]
                tr = Trace(steps, failure=failure, program=program, scene_id=scene.id,
                           vocabulary=program.vocabulary_name)
            return Answer(None, program, tr, failure, out_type)
        labels = rec.labels[k][-1] if rec.labels[k] else None
        if last.neural == "query_name":
            names, probs = name_distribution(values[-1], refined.open[row].scene.objects)
            best = int(probs.argmax()) if len(names) else -1
            value, confidence = (names[best], float(probs[best])) if names else (None, 0.0)
        else:
            value, confidence = decode(self.model, vocab, out_type, values[-1], batch.ids[row],
                                       list(labels) if labels is not None else None)
        tr = None
        if trace:
            steps = _trace_steps(self.model, vocab, program, batch.ids[row], values, step_ns,
                                 refined_row=(refined, row), recorded=(rec, k))
            tr = Trace(steps, answer=value, program=program, scene_id=scene.id,
                       vocabulary=program.vocabulary_name, confidence=confidence)
        return Answer(value, program, tr, None, out_type, confidence)


def step_constants(vocab: Vocabulary, step: Any) -> tuple[Any, ...]:
    """The constants after a step's inputs: its op's params, then its value arguments
    (missing optional ones as None), as the symbolic executor binds them."""
    sig = vocab.op(step.op)
    args = tuple(step.args) + (None,) * (len(sig.args) - len(step.args))
    return tuple(v for _, v in sig.params) + args


def soft_implementation(vocab: Vocabulary, op: str) -> Callable[..., Any]:
    """The soft implementation of ``op`` in ``vocab``; a :class:`RegistryError` naming the
    op when it has none."""
    name = vocab.op(op).neural
    if name not in SOFT_OPS:
        raise RegistryError(
            f"op {op!r} of vocabulary {vocab.name!r} has no soft implementation (its `neural` name is "
            f"{name!r}); the neural executor has: {SOFT_OPS.names()}")
    return SOFT_OPS.get(name)


class RunRecord:
    """What :func:`run_programs` keeps besides the values, per program: each step's output
    labels (a tuple for a value distribution whose labels are known, else None), the
    evidence and per-row details of steps that leave them (knowledge steps), and the
    failure that stopped a program (a step that raised
    :class:`~nsreason.errors.ExecutionFailure`, or a failure label that outweighed every
    answer: :mod:`nsreason.execute.soft_knowledge`)."""

    __slots__ = ("evidence", "failures", "labels", "per_row")

    def __init__(self, n: int = 0) -> None:
        self.reset(n)

    def reset(self, n: int) -> None:
        """Empty records for ``n`` programs."""
        self.labels: list[list[tuple[str, ...] | None]] = [[] for _ in range(n)]
        self.evidence: list[dict[int, dict[str, Any]]] = [{} for _ in range(n)]
        self.per_row: list[dict[int, dict[str, Any]]] = [{} for _ in range(n)]
        self.failures: dict[int, Failure] = {}


def _default_labels(vocab: Vocabulary, step: Any) -> tuple[str, ...] | None:
    """The labels of a step's output when its op does not make them: :func:`open_labels`,
    else its value type's domain."""
    labels = open_labels(vocab, step)
    if labels is not None:
        return tuple(labels)
    t = vocab.types[vocab.op(step.op).output]
    return tuple(t.domain) if t.kind == "value" and t.domain is not None else None


def run_programs(model: Any, programs: Sequence[Program], rows: Sequence[int], refined: Refined,
                 vocab_of: Callable[[Program], Vocabulary], step_ns: list[int] | None = None, *,
                 knowledge: Any = None, record: RunRecord | None = None) -> list[list[Any]]:
    """Every step's output of every program (``programs[k]`` on scene row ``rows[k]`` of
    ``refined``), batched: at each step position, the programs whose step there has the
    same op, constants and input labels run as one call on the stacked inputs.
    Differentiable. ``step_ns`` receives, per step position, its time divided by the
    programs that have a step there (the time of one step, amortised over the batch).
    ``knowledge``: the KB the knowledge ops read (:mod:`nsreason.execute.soft_knowledge`).
    ``record`` (a :class:`RunRecord`) receives labels, evidence and failures; a program
    that fails stops there (its values end with the failing step's output, or before it
    when the step raised)."""
    import torch

    values: list[list[Any]] = [[] for _ in programs]
    rec = record if record is not None else RunRecord()
    rec.reset(len(programs))
    longest = max(len(p.steps) for p in programs)
    cache: dict[Any, tuple[Callable[..., Any], tuple[Any, ...], tuple[str, ...] | None]] = {}
    for t in range(longest):
        t0 = time.perf_counter_ns()
        groups: dict[Any, list[int]] = {}
        for k, program in enumerate(programs):
            if t < len(program.steps) and k not in rec.failures:
                step = program.steps[t]
                in_labels = tuple(rec.labels[k][j] for j in step.inputs)
                key = (id(vocab_of(program)), step.op, step.args, in_labels)
                groups.setdefault(key, []).append(k)
        for key, members in groups.items():
            program = programs[members[0]]
            vocab = vocab_of(program)
            step = program.steps[t]
            plain = key[:3]
            if plain not in cache:
                cache[plain] = (soft_implementation(vocab, step.op), step_constants(vocab, step),
                                _default_labels(vocab, step))
            fn, consts, default_labels = cache[plain]
            index = torch.as_tensor([rows[k] for k in members], device=refined.exist.device)
            ctx = SoftContext(refined.take(index), model.value_index, knowledge, key[3])
            inputs = [torch.stack([values[k][programs[k].steps[t].inputs[j]] for k in members])
                      for j in range(len(step.inputs))]
            try:
                out = fn(ctx, *inputs, *consts)
            except ExecutionError as err:
                raise ExecutionError(f"step {t} ({step.op}): {err.message}") from None
            except ExecutionFailure as exc:
                for k in members:
                    rec.failures[k] = Failure(exc.code, exc.reason, t)
                continue
            labels = tuple(ctx.labels) if ctx.labels is not None else default_labels
            for r, k in enumerate(members):
                values[k].append(out[r])
                rec.labels[k].append(labels)
                if ctx.evidence is not None:
                    rec.evidence[k][t] = ctx.evidence
                if ctx.per_row:
                    rec.per_row[k][t] = {name: v[r] for name, v in ctx.per_row.items()}
                for code, mass, rival, reason in ctx.failures:
                    if float(mass[r]) > float(rival[r]):
                        rec.failures[k] = Failure(code, reason(r), t)
                        break
        if step_ns is not None:
            step_ns.append((time.perf_counter_ns() - t0) // max(1, sum(map(len, groups.values()))))
    return values


def open_labels(vocab: Vocabulary, step: Any) -> list[str] | None:
    """The labels of a step whose output is a distribution over values named by its own
    arguments (:data:`SOFT_LABELS`), else None."""
    labels = SOFT_LABELS.get(vocab.op(step.op).neural)
    return labels(step_constants(vocab, step)) if labels is not None else None


def answer_distribution(model: Any, vocab: Vocabulary, out_type: str, final: torch.Tensor, n: int,
                        labels: list[str] | None = None) -> Any:
    """``(labels, probabilities)`` of a final output of a bool, integer or value type,
    calibrated by the model's temperature for that kind; None for object outputs.
    ``labels``: those of a value type without a domain (:func:`open_labels`)."""
    import torch

    kind = vocab.types[out_type].kind
    if kind == "bool":
        p = final.clamp(_EPS, 1 - _EPS)
        probs, labels = torch.stack([p, 1 - p], -1), [True, False]
    elif kind == "integer":
        probs, labels = final[..., : n + 1], list(range(n + 1))
    elif kind == "value":
        domain = vocab.types[out_type].domain
        if domain is None and labels is None:
            return None
        probs, labels = final, list(domain) if domain is not None else labels
    else:
        return None
    logits = torch.log(probs.clamp_min(_EPS)) / model.temperature(kind if kind in _KINDS else "value")
    return labels, torch.softmax(logits, dim=-1)


def decode(model: Any, vocab: Vocabulary, out_type: str, final: torch.Tensor, ids: list[Any],
           labels: list[str] | None = None) -> tuple[Any, float]:
    """The answer value of a final output and its probability."""
    dist = answer_distribution(model, vocab, out_type, final, len(ids), labels)
    if dist is not None:
        labels, probs = dist
        best = int(probs.argmax())
        return labels[best], float(probs[best])
    kind = vocab.types[out_type].kind
    p = final[: len(ids)]
    if kind == "object":
        best = int(p.argmax())
        return ids[best], float(p[best])
    members = [ids[i] for i in range(len(ids)) if float(p[i]) >= 0.5]
    confidence = 1.0
    for x in p.tolist():
        confidence *= max(x, 1 - x)
    return members, confidence


_EDGE_OPS = {"subjects_of": "in", "relate_filter": "in", "relate_in": "in", "relate_out": "out"}


def _edges(refined: Refined, row: int, predicate: str, source: torch.Tensor, ids: list[Any], direction: str,
           shown: int = 5) -> list[dict[str, Any]]:
    """The strongest edges a relation step moved attention along: ``{subject, object,
    weight}``, weight = P(subject predicate object) × the attention on the end it came from."""
    n = len(ids)
    R = refined.rels.get(predicate) if predicate in refined.rels else None
    if R is None:
        tables = refined.open[row]
        pairs = [(i, j, p) for (i, j), p in tables.relation(predicate).items()]
    else:
        m = R[row, :n, :n]
        pairs = [(i, j, float(m[i, j])) for i in range(n) for j in range(n) if float(m[i, j]) > 0]
    src = source[:n].tolist()
    weighted = [(i, j, p * (src[j] if direction == "in" else src[i])) for i, j, p in pairs]
    weighted = sorted((e for e in weighted if e[2] >= 0.01), key=lambda e: -e[2])[:shown]
    return [{"subject": str(ids[i]), "object": str(ids[j]), "weight": round(w, 4)} for i, j, w in weighted]


def _trace_steps(model: Any, vocab: Vocabulary, program: Program, ids: list[Any], values: list[Any],
                 step_ns: list[int], refined_row: tuple[Refined, int] | None = None,
                 recorded: tuple[RunRecord, int] | None = None) -> list[TraceStep]:
    """One :class:`TraceStep` per step: its decoded output, its time (amortised over the
    batch it ran in), and in ``details`` the attention over objects (sets and objects),
    P(exactly one) for ``unique``, the strongest edges a relation step used, the
    distribution of counts, yes/no and values, and for a knowledge step its evidence
    (:func:`nsreason.execute.soft_knowledge.step_details`). A step that failed
    (``recorded``'s failure) is marked so, with its output distribution."""
    steps = []
    n = len(ids)
    rec, k = recorded if recorded is not None else (None, 0)
    failure = rec.failures.get(k) if rec is not None else None
    for i, (step, value) in enumerate(zip(program.steps, values)):
        sig = vocab.op(step.op)
        out_type = sig.output
        kind = vocab.types[out_type].kind
        details: dict[str, Any] = {"executor": "neural"}
        labels = rec.labels[k][i] if rec is not None and i < len(rec.labels[k]) else None
        if rec is not None and i in rec.evidence[k]:
            from .soft_knowledge import step_details

            details.update(step_details(sig.neural, rec.evidence[k][i], rec.per_row[k].get(i, {}),
                                        [values[j] for j in step.inputs],
                                        [rec.labels[k][j] for j in step.inputs], ids))
        if kind in ("object", "object_set"):
            weights = [round(float(x), 4) for x in value[:n]]
            details["attention"] = {str(ids[j]): w for j, w in enumerate(weights)}
            output, _ = decode(model, vocab, out_type, value, ids)
            if sig.neural == "unique" and step.inputs:
                details["uniqueness"] = round(float(uniqueness(values[step.inputs[0]][None, :n])[0]), 4)
            direction = _EDGE_OPS.get(sig.neural)
            if direction and refined_row is not None and step.inputs:
                consts = step_constants(vocab, step)
                predicate = consts[2] if sig.neural == "relate_filter" else consts[-1]
                details["edges"] = _edges(*refined_row, predicate, values[step.inputs[0]], ids, direction)
        else:
            if sig.neural == "query_name" and refined_row is not None:
                names, probs = name_distribution(value, refined_row[0].open[refined_row[1]].scene.objects)
                dist = (names, probs) if names else None
            else:
                dist = answer_distribution(model, vocab, out_type, value, n,
                                           list(labels) if labels is not None else open_labels(vocab, step))
            if dist is None:
                output = None
            else:
                labels, probs = dist
                details["distribution"] = {
                    ("yes" if lab is True else "no" if lab is False else str(lab)): round(float(p), 4)
                    for lab, p in zip(labels, probs)}
                output = labels[int(probs.argmax())]
        failed = failure is not None and failure.step == i
        steps.append(TraceStep(i, step.op, tuple(step.args), tuple(step.inputs), None if failed else output,
                               out_type, "failed" if failed else "ok", failure if failed else None,
                               step_ns[i] if i < len(step_ns) else 0, details))
    return steps


def _failed_trace(program: Program, scene: SceneGraph, failure: Failure) -> Trace:
    return Trace([], failure=failure, program=program, scene_id=scene.id, vocabulary=program.vocabulary_name)



def _register() -> None:
    from . import soft_knowledge  # noqa: F401  (registers the soft knowledge ops)
    from .executors import EXECUTORS

    EXECUTORS.register("neural", NeuralExecutor)  # the same factory again is no error


_register()
