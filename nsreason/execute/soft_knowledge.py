"""Soft knowledge ops: ``kb_query``, ``kb_check``, ``kb_property``, ``kb_verify`` and
``kb_filter`` (``programs/knowledge.yaml``) in the neural executor.

The knowledge base is *injected*, never imported (``execute`` sits below nothing that
holds a KB): :class:`~nsreason.execute.neural.NeuralExecutor` takes a ``knowledge`` object
with the small protocol :class:`Knowledge`; the api builds it from the KB it loads
(:class:`nsreason.retrieve.ops.KnowledgeTable`). The KB is read as crisp: for a relation
``r`` and a concept ``v`` (an attribute value, a KB answer) the KB gives the answers of
``v`` and ``truth(r, v)`` (1 when some value is a true literal or an entity; no fact is
false, as the symbolic ops take it). The uncertainty is the scene's:

=============  ===============================================================================
kb_filter      ``a_i · P_i``, ``P_i = 1 - Π_attr (1 - Σ_v P(attr_i = v) truth(r, v))``: the relation
               holds of any attribute value of the object (or its name), as ``kb_verify`` reads it
kb_verify      ``Σ_i o_i P_i``
kb_check       ``Σ_v p(v) truth(r, v)`` over a value distribution
kb_query       a value distribution → a distribution over the KB's answers,
               ``q(a) = Σ_v p(v) [answer(v) = a]``; a value without a fact puts its mass on
               the label :data:`NO_FACT`, chained hops carry it; chained ``kb_query`` is a
               multi-hop path over label distributions
kb_property    per object, with each attribute giving one answer or none:
               ``P_i(a) = Π_attr (q_attr(a) + q_attr(none)) - Π_attr q_attr(none)`` (every
               attribute gives ``a`` or nothing, and one gives ``a``); ``Π q(none)`` goes to
               :data:`NO_FACT`, the rest (attributes that disagree, or a value with several
               answers) to :data:`AMBIGUOUS`; then ``Σ_i o_i P_i(a)``
=============  ===============================================================================

A step whose failure label outweighs every answer (:data:`NO_FACT`, :data:`AMBIGUOUS`), or
a ``kb_check`` whose value is more likely a non-truth than a truth, fails as the symbolic
op does (``no_fact``, ``ambiguous_fact``, ``not_a_truth``); a relation the KB lacks fails
the step (``unknown_relation``). Each step's ``details`` hold the relation matched and the
lookups with every fact and its source, laid out as the symbolic ops lay them out (the
text and HTML renderers draw both alike), plus the probability of each concept looked up
(``kb_query``/``kb_check``) or of the relation holding of each object (``kb_filter``,
``kb_verify``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ExecutionFailure
from .neural import SOFT_OPS, ExecutionError, SoftContext

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["AMBIGUOUS", "FAILURE_LABELS", "KNOWLEDGE_SOFT_OPS", "NO_FACT", "Knowledge"]

NO_FACT = "<no fact>"
"""The label of a value distribution's mass the KB has no fact for."""
AMBIGUOUS = "<ambiguous>"
"""The label of ``kb_property``'s mass where the object's values give different answers."""
FAILURE_LABELS = {NO_FACT: "no_fact", AMBIGUOUS: "ambiguous_fact"}
"""Failure labels and the failure code each stands for."""
KNOWLEDGE_SOFT_OPS = ("kb_query", "kb_check", "kb_property", "kb_verify", "kb_filter")
"""The soft ops that read a knowledge base."""


class Knowledge(Protocol):
    """What the soft knowledge ops read of a KB.

    ``relation(phrase)``: the relation a phrase names, as JSON for the trace (with its
    ``label``); raises :class:`~nsreason.errors.ExecutionFailure` ``unknown_relation``.
    ``facts(phrase, concept)``: a mapping with ``answers`` (list of answer labels),
    ``holds`` (bool: the relation holds of the concept), ``is_truth`` (bool: its values
    are truths, or it has none) and ``record`` (the lookup for the trace: ``concept``,
    ``entities``, ``facts`` with their ``source``).
    """

    def relation(self, phrase: str) -> Mapping[str, Any]: ...

    def facts(self, phrase: str, concept: str) -> Mapping[str, Any]: ...


def _knowledge(ctx: SoftContext, op: str) -> Knowledge:
    if ctx.knowledge is None:
        raise ExecutionFailure("no_knowledge_base", f"{op} reads a knowledge base and the neural executor has none "
                               "(NeuralExecutor(knowledge=...), or Reasoner(executor='neural', kb=...))")
    return ctx.knowledge  # type: ignore[no-any-return]


def _input_labels(ctx: SoftContext, op: str) -> list[str]:
    labels = ctx.input_labels[0] if ctx.input_labels else None
    if labels is None:
        raise ExecutionError(f"{op} reads a value whose labels the neural executor does not know "
                             "(a value type without a domain)")
    return list(labels)


def _name(header: Mapping[str, Any]) -> str:
    return str(header.get("label") or header.get("relation") or "?")


def _record(facts: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {**dict(facts["record"]), **extra}


def _failure(ctx: SoftContext, code: str, mass: torch.Tensor, rival: torch.Tensor,
             reason: Callable[[int], str]) -> None:
    """Declare that a row fails with ``code`` where ``mass`` outweighs ``rival``."""
    ctx.failures.append((code, mass, rival, reason))


def _rival(dist: torch.Tensor, answers: int) -> torch.Tensor:
    """The largest mass on an answer label (the first ``answers`` columns), per row."""
    return dist[:, :answers].max(-1).values if answers else dist.new_zeros(dist.shape[0])


@SOFT_OPS.register("kb_query")
def soft_kb_query(ctx: SoftContext, p: torch.Tensor, relation: str) -> torch.Tensor:
    """A distribution over the KB's answers for a value distribution (see the module
    docstring); failure labels of the input carry over."""
    import torch

    kn = _knowledge(ctx, "kb_query")
    header = dict(kn.relation(relation))
    labels_in = _input_labels(ctx, "kb_query")
    targets, lookups = [], []
    for v in labels_in:
        if v in FAILURE_LABELS:
            targets.append(v)
            continue
        f = kn.facts(relation, v)
        lookups.append(_record(f))
        targets.append(", ".join(sorted(f["answers"])) if f["answers"] else NO_FACT)
    answers = list(dict.fromkeys(t for t in targets if t not in FAILURE_LABELS))
    out_labels = answers + [f for f in FAILURE_LABELS if f in targets]
    col = {lab: j for j, lab in enumerate(out_labels)}
    M = torch.zeros(len(labels_in), len(out_labels), dtype=p.dtype, device=p.device)
    for i, t in enumerate(targets):
        M[i, col[t]] = 1.0
    out = p[:, : len(labels_in)] @ M
    ctx.labels, ctx.evidence = out_labels, {"relation": header, "lookups": lookups}
    missing = [v for v, t in zip(labels_in, targets) if t == NO_FACT and v not in FAILURE_LABELS]
    if NO_FACT in col:
        def reason(r: int) -> str:
            w = {v: float(p[r, i]) for i, v in enumerate(labels_in) if v in missing}
            if not w:
                return f"the knowledge base has no {_name(header)!r} of the value the step before found"
            top = max(w, key=w.__getitem__)
            return f"the knowledge base has no {_name(header)!r} of {top!r} (p={w[top]:.2f})"
        _failure(ctx, "no_fact", out[:, col[NO_FACT]], _rival(out, len(answers)), reason)
    return out


@SOFT_OPS.register("kb_check")
def soft_kb_check(ctx: SoftContext, p: torch.Tensor, relation: str) -> torch.Tensor:
    """P(the relation holds of the value): ``Σ_v p(v) truth(r, v)``."""
    import torch

    kn = _knowledge(ctx, "kb_check")
    header = dict(kn.relation(relation))
    labels_in = _input_labels(ctx, "kb_check")
    truth, value, lookups = [], [], []
    for v in labels_in:
        if v in FAILURE_LABELS:
            truth.append(0.0)
            value.append(0.0)
            continue
        f = kn.facts(relation, v)
        lookups.append(_record(f, **({} if f["record"].get("facts") else {"closed_world": "no fact: taken as false"})))
        truth.append(1.0 if f["holds"] else 0.0)
        value.append(0.0 if f["is_truth"] else 1.0)
    x = p[:, : len(labels_in)]
    t = torch.tensor(truth, dtype=p.dtype, device=p.device)
    nt = torch.tensor(value, dtype=p.dtype, device=p.device)
    ctx.labels, ctx.evidence = None, {"relation": header, "lookups": lookups}
    if any(value):
        not_truth = x @ nt
        _failure(ctx, "not_a_truth", not_truth, 1 - not_truth,
                 lambda r: f"{_name(header)!r} of the most probable value is a value, not true or false")
    return x @ t


def _object_concepts(ctx: SoftContext) -> list[tuple[str, list[str], torch.Tensor]]:
    """``(attribute, values, P)`` for what the objects are: each encoder attribute with its
    domain and refined ``P [m, N, D]``; then, one at a time (``[m, N, 1]``), each stated
    value, label or name of the rows' objects that no encoder domain holds (a CLEVR
    object's name, its shape, is read through the shape)."""
    import torch

    out: list[tuple[str, list[str], torch.Tensor]] = []
    covered: set[str] = set()
    for key in sorted(ctx.value_index):
        index = ctx.value_index[key]
        values = sorted(index, key=index.__getitem__)
        covered.update(values)
        out.append((key, values, ctx.attribute(key)))
    extra: dict[str, str] = {}
    for tables in ctx.scene.open:
        for o in tables.scene.objects:
            for a in o.attributes:
                if a.value and a.value not in covered:
                    extra.setdefault(a.value, a.key or "label")
            if o.name and o.name not in covered:
                extra.setdefault(o.name, "name")
    for value, key in extra.items():
        p = torch.maximum(ctx.rows(lambda t, v=value: t.value(v)), ctx.rows(lambda t, v=value: t.name(v)))
        out.append((key, [value], p[:, :, None]))
    return out


def _holds(ctx: SoftContext, relation: str, op: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """``[m, N]``: P(the relation holds of each object), and the evidence."""
    import torch

    kn = _knowledge(ctx, op)
    header = dict(kn.relation(relation))
    not_any = torch.ones_like(ctx.scene.exist)
    lookups = []
    for key, values, P in _object_concepts(ctx):
        truth = []
        for v in values:
            f = kn.facts(relation, v)
            truth.append(1.0 if f["holds"] else 0.0)
            if f["record"].get("facts"):
                lookups.append(_record(f, attribute=key))
        if any(truth):
            t = torch.tensor(truth, dtype=P.dtype, device=P.device)
            not_any = not_any * (1 - torch.einsum("mnd,d->mn", P, t))
    evidence: dict[str, Any] = {"relation": header, "lookups": lookups}
    if not lookups:
        evidence["closed_world"] = "no fact about the objects' values: taken as false"
    return 1 - not_any, evidence


@SOFT_OPS.register("kb_filter")
def soft_kb_filter(ctx: SoftContext, a: torch.Tensor, relation: str) -> torch.Tensor:
    """Attention × P(the relation holds of the object)."""
    P, ctx.evidence = _holds(ctx, relation, "kb_filter")
    ctx.per_row["holds"] = P
    return a * P


@SOFT_OPS.register("kb_verify")
def soft_kb_verify(ctx: SoftContext, o: torch.Tensor, relation: str) -> torch.Tensor:
    """P(the relation holds of the object): ``Σ_i o_i P_i``."""
    P, ctx.evidence = _holds(ctx, relation, "kb_verify")
    ctx.per_row["holds"] = P
    return (o * P).sum(-1)


@SOFT_OPS.register("kb_property")
def soft_kb_property(ctx: SoftContext, o: torch.Tensor, relation: str) -> torch.Tensor:
    """A distribution over the KB's answers for the object: the answer all its values
    agree on (see the module docstring), with :data:`NO_FACT` and :data:`AMBIGUOUS`."""
    import torch

    kn = _knowledge(ctx, "kb_property")
    header = dict(kn.relation(relation))
    concepts = _object_concepts(ctx)
    per_key: list[tuple[torch.Tensor, list[str]]] = []
    answers: dict[str, int] = {}
    lookups = []
    for key, values, P in concepts:
        targets = []
        for v in values:
            f = kn.facts(relation, v)
            found = list(f["answers"])
            if f["record"].get("facts"):
                lookups.append(_record(f, attribute=key))
            targets.append(found[0] if len(found) == 1 else NO_FACT if not found else AMBIGUOUS)
            if len(found) == 1:
                answers.setdefault(found[0], len(answers))
        per_key.append((P, targets))
    L = len(answers)
    m, n = ctx.scene.exist.shape
    none_all = torch.ones(m, n, dtype=o.dtype, device=o.device)
    agree = torch.ones(m, n, L, dtype=o.dtype, device=o.device)
    for P, targets in per_key:
        M = torch.zeros(len(targets), L + 2, dtype=o.dtype, device=o.device)  # answers, none, several
        for i, t in enumerate(targets):
            M[i, answers[t] if t in answers else L if t == NO_FACT else L + 1] = 1.0
        if not M[:, :L].any() and not M[:, L + 1].any():
            continue  # no value of this attribute has a fact: it agrees with anything
        Q = torch.einsum("mnd,dl->mnl", P, M)
        none = Q[..., L] + (1 - P.sum(-1)).clamp_min(0)  # mass on no listed value: no answer
        agree = agree * (Q[..., :L] + none[..., None])
        none_all = none_all * none
    per_answer = (agree - none_all[..., None]).clamp_min(0)
    several = (1 - per_answer.sum(-1) - none_all).clamp_min(0)
    dist = torch.cat([per_answer, none_all[..., None], several[..., None]], dim=-1)
    out = torch.einsum("mn,mnl->ml", o, dist)
    ctx.labels = [*answers, NO_FACT, AMBIGUOUS]
    ctx.evidence = {"relation": header, "lookups": lookups}
    rival = _rival(out, L)
    _failure(ctx, "no_fact", out[:, L], rival,
             lambda r: f"the knowledge base has no {_name(header)!r} of the object (most probably)")
    _failure(ctx, "ambiguous_fact", out[:, L + 1], rival,
             lambda r: f"the object's values most probably give several {_name(header)!r}")
    return out


def step_details(op: str, evidence: Mapping[str, Any] | None, per_row: Mapping[str, Any],
                 inputs: Sequence[Any], input_labels: Sequence[Any], ids: Sequence[Any]) -> dict[str, Any]:
    """The trace details of a soft knowledge step on one row: its evidence, each concept
    looked up with its probability (``kb_query``, ``kb_check``: the input's, most
    probable first; concepts under 0.5% left out), and P(holds) per object."""
    out: dict[str, Any] = dict(evidence or {})
    if op in ("kb_query", "kb_check") and inputs and input_labels and input_labels[0] is not None:
        weight = {lab: float(inputs[0][i]) for i, lab in enumerate(input_labels[0])}
        looked = [{**rec, "probability": round(weight.get(rec.get("concept"), 0.0), 4)}
                  for rec in out.get("lookups", [])]
        out["lookups"] = sorted((r for r in looked if r["probability"] >= 0.005), key=lambda r: -r["probability"])
    if "holds" in per_row:
        p = per_row["holds"]
        out["holds"] = {str(i): round(float(p[j]), 4) for j, i in enumerate(ids)}
    return out
