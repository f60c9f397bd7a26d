"""Renderings of a :class:`~nsreason.trace.Trace`: plain text and rich tables."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .trace import Trace, TraceStep

__all__ = ["format_time", "format_value", "json_safe", "printable", "render_rich", "render_text",
           "render_tree"]

_HEADER = ("#", "op", "args", "inputs", "output", "time")

# What a terminal acts on or cannot encode: C0 and C1 controls (escape codes, line breaks that
# would forge table rows), DEL, line and paragraph separators, bidirectional overrides and
# lone surrogates (an undecodable byte of argv or of a file read with surrogateescape).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
# The same, less what JSON already escapes (C0): in JSON text these become \uXXXX escapes.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` safe to print on a terminal: control characters, bidirectional overrides
    and lone surrogates written as ``\x1b``, ``\u202e``, ``\ud800`` (an object named with
    escape codes cannot clear the screen or forge a table row, and printing cannot fail to
    encode). Idempotent.

    >>> printable("cube\x1b[2J\nrow\ud800")
    'cube\\x1b[2J\\nrow\\ud800'
    """
    return _UNPRINTABLE.sub(_escape, text)


def json_safe(text: str) -> str:
    r"""JSON ``text`` (as written by ``json.dumps(..., ensure_ascii=False)``) that is valid
    UTF-8 and safe on a terminal: lone surrogates, C1 controls and bidirectional overrides
    (only possible inside strings) become ``\uXXXX`` escapes, which JSON reads back as the
    same characters.

    >>> json.loads(json_safe(json.dumps("a\ud800\x9b", ensure_ascii=False))) == "a\ud800\x9b"
    True
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def format_value(value: Any, limit: int = 60) -> str:
    """Compact one-line form of a step output."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(ns: int) -> str:
    if ns < 1_000_000:
        return f"{ns / 1000:.1f}µs"
    return f"{ns / 1_000_000:.1f}ms"


def _row(step: TraceStep) -> tuple[str, ...]:
    if step.status == "ok":
        output = format_value(step.output)
    elif step.status == "failed":
        failure = step.failure
        output = f"FAILED {failure.code}: {failure.reason}" if failure else "FAILED"
    else:
        output = "(skipped)"
    args = ",".join("-" if a is None else str(a) for a in step.args)
    if step.status == "ok" and step.details.get("executor") == "neural":
        output = f"{output}  {_soft(step.details)}".rstrip()
    if step.op == "parse":  # the question → program step (index -1, before the program)
        args = format_value(args, limit=50)
        score = step.details.get("score")
        if step.status == "ok" and score is not None:
            output = f"{output} (p={score:.2f})"
    return (
        "-" if step.index < 0 else str(step.index),
        step.op,
        args,
        ",".join(map(str, step.inputs)),
        output,
        "" if step.status == "skipped" else format_time(step.time_ns),
    )


def _soft(details: dict[str, Any], shown: int = 3) -> str:
    """A neural step's evidence on one line: its most attended objects with their weights
    (``[0:0.98 2:0.41]``), how unique a ``unique`` was, the probability of its output."""
    parts = []
    attention = details.get("attention")
    if attention:
        top = sorted(attention.items(), key=lambda kv: -kv[1])[:shown]
        parts.append("[" + " ".join(f"{k}:{w:.2f}" for k, w in top) + "]")
    if "uniqueness" in details:
        parts.append(f"unique p={details['uniqueness']:.2f}")
    distribution = details.get("distribution")
    if distribution:
        parts.append(f"p={max(distribution.values()):.2f}")
    return " ".join(parts)


def _all_steps(trace: Trace) -> list[TraceStep]:
    return [trace.parse, *trace.steps] if trace.parse is not None else trace.steps


def _headline(trace: Trace) -> str:
    if trace.failure is not None:
        return f"failed: {trace.failure}"
    answer = f"answer: {format_value(trace.answer, limit=200)}"
    return answer if trace.confidence is None else f"{answer} (p={trace.confidence:.2f})"


def render_text(trace: Trace) -> str:
    """A headline (answer or failure), one aligned row per step, then the evidence of the
    knowledge steps (objects linked to entities; the facts ranked, with sources)."""
    rows = [_HEADER, *(tuple(map(printable, _row(s))) for s in _all_steps(trace))]
    widths = [max(len(r[c]) for r in rows) for c in range(len(_HEADER))]
    lines = [_headline(trace)]
    if trace.program:
        lines.append(f"program: {trace.program}")
    for r in rows:
        cells = [r[0].rjust(widths[0])] + [r[c].ljust(widths[c]) for c in range(1, len(r))]
        lines.append(("  " + "  ".join(cells)).rstrip())
    for step in trace.steps:
        if step.status == "ok" and isinstance(step.output, dict):
            lines.extend(_evidence(step))
        if "relation" in step.details and isinstance(step.details["relation"], dict):
            lines.extend(_relation_evidence(step))
        tree = step.details.get("tree")
        if step.op == "tree_ground" and isinstance(tree, dict):
            lines.append(f"step {step.index} tree (node, phrase, best objects with their scores):")
            lines.extend(render_tree(tree))
    return "\n".join(map(printable, lines))


def render_tree(tree: dict[str, Any], indent: int = 1, shown: int = 3) -> list[str]:
    """Indented lines of a grounded composition tree (``details["tree"]`` of a
    ``tree_ground`` step, :mod:`nsreason.parse.tree`): each node's type, phrase and its
    best objects with their scores.

    >>> print("\\n".join(render_tree({"type": "sum", "op": "and", "phrase": "red cubes",
    ...     "scores": {"0": 0.98, "1": 0.01}, "children": [
    ...     {"type": "single", "phrase": "red", "words": ["red"], "scores": {"0": 0.99, "1": 0.02}}]})))
      sum[and] 'red cubes'  [0:0.98 1:0.01]
        single 'red'  [0:0.99 1:0.02]
    """
    head = tree.get("type", "?") + (f"[{tree['op']}]" if tree.get("op") is not None else "")
    scores = tree.get("scores") or {}
    top = sorted(scores.items(), key=lambda kv: -kv[1])[:shown]
    bar = " ".join(f"{k}:{v:.2f}" for k, v in top)
    words = f" ({' '.join(tree['words'])})" if tree.get("words") and tree.get("type") != "single" else ""
    lines = [f"{'  ' * indent}{head} {tree.get('phrase', '')!r}{words}  [{bar}]"]
    for child in tree.get("children", ()):
        lines += render_tree(child, indent + 1, shown)
    return lines


def _fact_line(fact: dict[str, Any]) -> str:
    head, relation, tail = [
        label or str(raw).rsplit("/", 1)[-1]
        for label, raw in zip(fact.get("labels") or [None] * 3,
                              (fact["head"], fact["relation"], fact["tail"]))
    ]
    source = fact.get("source_label") or fact.get("source") or "no source"
    licence = f", {fact['licence']}" if fact.get("licence") else ""
    return f"{head} --{relation}--> {tail}  [{source}{licence}]"


def _relation_evidence(step: TraceStep, shown: int = 8) -> list[str]:
    """Readable lines for a relation op's details (``kb_query``, ``kb_filter``...: see
    nsreason.retrieve.ops): the relation matched, then the facts followed."""
    d = step.details
    rel = d["relation"]
    head = (f"step {step.index} relation: {rel.get('phrase')!r} -> {rel.get('label')!r} "
            f"({rel.get('method')}, {rel.get('score', 0):.2f}) <{rel.get('relation')}>")
    lines = [head]
    facts = [f for look in d.get("lookups", []) for f in look.get("facts", [])]
    facts += [f for row in d.get("objects", []) for f in row.get("facts", [])]
    for look in d.get("lookups", []):
        if not look.get("entities"):
            lines.append(f"  {look.get('concept')!r}: no entity of the KB")
    for f in facts[:shown]:
        lines.append(f"  {_fact_line(f)}")
    if len(facts) > shown:
        lines.append(f"  ... {len(facts) - shown} more facts (JSON trace)")
    if d.get("closed_world"):
        lines.append(f"  {d['closed_world']}")
    return lines


def _evidence(step: TraceStep, shown: int = 5) -> list[str]:
    """Readable lines for record outputs of knowledge steps (see nsreason.retrieve.ops) and
    of an answer model's candidates (``model_rank``, nsreason.retrieve.answer_model)."""
    out = step.output
    lines = []
    if "objects" in out:  # kb_link
        lines.append(f"step {step.index} links:")
        for row in out["objects"]:
            found = ", ".join(f"{e['label']} ({e['method']})" for e in row["entities"]) or "nothing"
            lines.append(f"  {row['mention']} -> {found}")
    if "candidates" in out and all("from" in c for c in out["candidates"]):  # model_rank
        lines.append(f"step {step.index} candidates ({out.get('considered', len(out['candidates']))} "
                     f"considered; best {min(shown, len(out['candidates']))}, the first used; score = "
                     "predicted accuracy):")
        for k, c in enumerate(out["candidates"][:shown], 1):
            lines.append(f"  {k}. {c['score']:+.2f}  {c['answer']}  (from {', '.join(c['from']) or 'nothing'})")
            if c.get("fact"):
                lines.append(f"       fact: {_fact_line(c['fact'])}")
    elif "candidates" in out:  # kb_rank
        asks = (out.get("asks_for") or {}).get("answer_type")
        if asks:
            where = " (no object of the scene is one)" if out.get("answer_outside_scene") else ""
            lines.append(f"step {step.index} the question asks for: {asks}{where}")
        lines.append(f"step {step.index} facts ({out.get('considered', len(out['candidates']))} "
                     f"considered; best {min(shown, len(out['candidates']))}, the first used):")
        for k, c in enumerate(out["candidates"][:shown], 1):
            match = ", type matches" if c.get("type_match") else ""
            lines.append(
                f"  {k}. {c['score']:+.2f}  {_fact_line(c['fact'])}  => {c['answer']} "
                f"({c['side']}{match})"
            )
            for t in c.get("type_facts", [])[:1]:
                lines.append(f"       type: {_fact_line(t)}")
            if c.get("grounding_fact"):
                lines.append(f"       object: {_fact_line(c['grounding_fact'])}")
    return lines


def render_rich(trace: Trace) -> Any:
    """A ``rich.table.Table`` of the trace (rich is imported here, not at import time)."""
    from rich.table import Table
    from rich.text import Text

    # Text, not str: rich reads markup (`[bold]`) in a str, and a scene's names are not markup.
    table = Table(title=Text(printable(_headline(trace))),
                  caption=Text(printable(trace.program)) if trace.program else None)
    for name in _HEADER:
        table.add_column(name, justify="right" if name in ("#", "time") else "left")
    for step in _all_steps(trace):
        style = {"failed": "bold red", "skipped": "dim"}.get(step.status)
        table.add_row(*(Text(printable(c)) for c in _row(step)), style=style)
    return table
