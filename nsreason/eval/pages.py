"""Evaluation pages: ``nsreason eval clevr|gqa|refexp ... --html DIR``.

After an evaluation has scored every question, :func:`write_pages` writes ``DIR/index.html``
(the accuracy overall and per family or type, then one row per question, failures first,
filterable by a text box, a family and a "wrong only" box) and one trace page per chosen
question under ``DIR/pages/`` (:func:`nsreason.trace.html.render_html`, the scene drawn and the
expected answer marked right or wrong). Every page is self-contained and opens offline.

Pages are chosen so a large set stays browsable: every wrong answer first, then a sample of
right ones spread evenly through the set (``successes``), at most ``limit`` pages in all; the
index says how many of each were written. A page's trace comes from running its question
again with tracing on, the way the evaluation ran it (the same parser, executor and KB); the
index's figures are the evaluation's own.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, NSReasonError
from ..scene.graph import SceneGraph
from ..trace.html import esc, page, render_html
from ..trace.trace import Failure, Trace

__all__ = ["Item", "choose", "clevr_items", "gqa_items", "refexp_items", "write_pages"]


@dataclass
class Item:
    """One evaluated question: its key (file order id), text, scene, group (family or type),
    expected and predicted answers, whether it was right, the failure if any, and how to get
    its trace again (``rerun``)."""

    key: str
    text: str
    scene: SceneGraph
    group: str
    gold: Any
    predicted: str
    right: bool
    failure: str | None
    rerun: Callable[[], Trace | None]


def choose(items: Sequence[Item], limit: int, successes: int) -> list[Item]:
    """Every wrong item (in file order), then ``successes`` right ones spread evenly over
    the set, at most ``limit`` in all.

    >>> items = [Item(str(k), "", None, "", None, "", k % 3 != 0, None, lambda: None) for k in range(10)]
    >>> [i.key for i in choose(items, limit=6, successes=3)]
    ['0', '3', '6', '9', '1', '8']
    """
    wrong = [i for i in items if not i.right]
    right = [i for i in items if i.right]
    k = max(0, min(successes, len(right), limit - min(len(wrong), limit)))
    sample = [right[round(j * (len(right) - 1) / max(k - 1, 1))] for j in range(k)] if k else []
    seen: set[str] = set()
    sample = [i for i in sample if not (i.key in seen or seen.add(i.key))]  # type: ignore[func-returns-value]
    return (wrong[:limit] + sample)[:limit]


def _file_name(key: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", key)[:60]
    return f"pages/q-{safe}.html"


def write_pages(out_dir: str | Path, items: Sequence[Item], report: dict[str, Any], *, title: str,
                limit: int = 500, successes: int = 20, image_dir: str | None = None) -> dict[str, Any]:
    """Write the index and the chosen pages; returns ``{"index", "pages", "failures_shown",
    "successes_shown"}``. Raises :class:`InputError` when the folder cannot be written."""
    out = Path(out_dir)
    try:
        (out / "pages").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot make the folder: {err.strerror}", source=str(out)) from None
    chosen = choose(items, max(limit, 0), max(successes, 0))
    written: dict[str, str] = {}
    taken = set()
    for item in chosen:
        name = _file_name(item.key)
        while name in taken:
            name = name.replace(".html", "_.html")
        taken.add(name)
        try:
            trace = item.rerun()
        except NSReasonError as err:
            trace = Trace(failure=Failure("error", str(err)), scene_id=item.scene.id)
        if trace is None:
            continue
        html = render_html(trace, item.scene, title=item.text, gold=item.gold, image_dir=image_dir,
                           prelude=f"<p class='back'><a href='../index.html'>← all questions</a> · question "
                                   f"{esc(item.key)} · {esc(item.group)}</p>")
        (out / name).write_text(html, encoding="utf-8")
        written[item.key] = name
    index = out / "index.html"
    index.write_text(_index(items, written, report, title, limit, successes), encoding="utf-8")
    wrong_shown = sum(1 for i in items if not i.right and i.key in written)
    return {"index": str(index), "pages": len(written), "failures_shown": wrong_shown,
            "successes_shown": len(written) - wrong_shown}


def _index(items: Sequence[Item], written: dict[str, str], report: dict[str, Any], title: str,
           limit: int, successes: int) -> str:
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for i in items:
        groups[i.group][0] += i.right
        groups[i.group][1] += 1
    n, right = len(items), sum(i.right for i in items)
    wrong_total = n - right
    wrong_shown = sum(1 for i in items if not i.right and i.key in written)
    settings = ", ".join(f"{k}: {v}" for k, v in report.items()
                         if k in ("parser", "executor", "images", "weights", "verified_by") and v is not None)
    rows = []
    for i in sorted(items, key=lambda i: (i.right, 0)):
        link = (f"<a href='{esc(written[i.key])}'>{esc(i.text)}</a>" if i.key in written else esc(i.text))
        rows.append(
            f"<tr class='{'right' if i.right else 'wrong'}' data-group='{esc(i.group)}' "
            f"data-key='{esc(i.key)}'><td>{esc(i.key)}</td><td>{link}</td><td>{esc(i.group)}</td>"
            f"<td>{esc(_show(i.gold))}</td><td>{esc(i.predicted)}</td>"
            f"<td>{'✓' if i.right else '✗'}</td><td class='note'>{esc(i.failure or '')}</td></tr>")
    group_rows = "".join(
        f"<tr><td>{esc(g)}</td><td class='num'>{c / t:.2%}</td><td class='num'>{c}</td><td class='num'>{t}</td></tr>"
        for g, (c, t) in sorted(groups.items(), key=lambda kv: kv[1][0] / kv[1][1]))
    options = "".join(f"<option value='{esc(g)}'>{esc(g)}</option>" for g in sorted(groups))
    body = f"""<main><h1>{esc(title)}</h1>
<p class='answer'>Accuracy <strong>{(right / n if n else 0):.2%}</strong> ({right} of {n} right){
        ' · ' + esc(settings) if settings else ''}</p>
<p class='note'>Pages: all {wrong_shown} of the {wrong_total} wrong answers{
        ' (the first ' + str(limit) + ': --html-limit)' if wrong_shown < wrong_total else ''} and {
        len(written) - wrong_shown} right ones sampled evenly (--html-successes {successes}); the other rows have
no page. Each page's trace is its question run again with tracing on, as the evaluation ran it.</p>
<h2>By family or type (worst first)</h2><table class='groups'><tr><th>group</th><th>accuracy</th><th>right</th>
<th>questions</th></tr>{group_rows}</table>
<h2>Questions (wrong first)</h2>
<p class='filters'><label>Filter <input id='filter' type='search' placeholder='words, answer, failure…'></label>
<label>Group <select id='group'><option value=''>all</option>{options}</select></label>
<label><input id='wrong-only' type='checkbox'> wrong only</label> <span id='shown' class='note'></span></p>
<table class='questions'><thead><tr><th>#</th><th>question</th><th>group</th><th>expected</th><th>answer</th>
<th></th><th>failure</th></tr></thead><tbody>{''.join(rows)}</tbody></table></main>"""
    return page(title, body, script=_INDEX_SCRIPT, extra_css=_INDEX_CSS)


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


_INDEX_CSS = """
tr.wrong td:nth-child(6){color:var(--bad)}tr.right td:nth-child(6){color:var(--good)}
.questions td{font-size:13px}.filters label{margin-right:14px}.back{font-size:13px}
"""

_INDEX_SCRIPT = """(function(){
var f=document.getElementById('filter'),g=document.getElementById('group'),w=document.getElementById('wrong-only');
var rows=Array.prototype.slice.call(document.querySelectorAll('table.questions tbody tr'));
function apply(){var q=f.value.toLowerCase(),n=0;rows.forEach(function(r){
var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&(!g.value||r.getAttribute('data-group')===g.value)
&&(!w.checked||r.classList.contains('wrong'));r.hidden=!ok;if(ok)n++;});
document.getElementById('shown').textContent=n+' of '+rows.length+' shown';}
f.addEventListener('input',apply);g.addEventListener('change',apply);w.addEventListener('change',apply);apply();})();"""


# -- the data sets ------------------------------------------------------------------------------

def _rows(lines: Sequence[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.strip()]


def clevr_items(rows: Sequence[str], *, scenes: str, questions: str, parser: str, executor: str,
                limit: int | None, images: str, scene_format: str, kb: Sequence[str] | None,
                fallback_beam: int) -> list[Item]:
    """The items of ``eval clevr`` from its prediction lines; grouped by template family
    (else by the gold program's last op)."""
    from ..api import Reasoner
    from ..execute.executors import get_executor
    from ..parse.base import get_parser
    from ..train.split import in_images
    from .clevr import _load_jobs

    jobs = _load_jobs(scenes, questions, limit, need_programs=parser == "gold", scene_format=scene_format)
    jobs = [(q, s) for q, s in jobs if images == "all" or in_images(q.image_index, images)]
    preds = _rows(rows)
    runner = get_executor(executor)
    cache: dict[str, Any] = {}

    def reasoner() -> Any:
        if "r" not in cache:
            cache["r"] = Reasoner(get_parser(parser), runner, fallback_beam=fallback_beam,
                                  kb=list(kb) if kb else None)
        return cache["r"]

    items = []
    for (q, scene), p in zip(jobs, preds):
        if q.family is not None:
            group = f"family {q.family}"
        elif q.program is not None and q.program.steps:
            group = q.program.steps[-1].op
        else:
            group = "all"

        def rerun(q: Any = q, scene: SceneGraph = scene) -> Trace | None:
            if parser == "gold":
                return runner.execute(q.program, scene, trace=True).trace
            return reasoner().ask(scene, q.question).trace  # type: ignore[no-any-return]

        answer = p.get("answer")
        items.append(Item(str(q.question_index), q.question, scene, group, q.answer, answer or "",
                          p.get("failure") is None and answer == q.answer, p.get("failure"), rerun))
    return items


def gqa_items(rows: Sequence[str], *, scenes: str, questions: str, parser: str, executor: str,
              limit: int | None, scene_format: str, kb: Sequence[str] | None) -> list[Item]:
    """The items of ``eval gqa``, grouped by ``types.detailed``."""
    from ..api import Reasoner, scene_graph_parser
    from ..execute.executors import get_executor
    from ..program.gqa import program_from_gqa
    from ..scene.io import load_scenes
    from .gqa import load_gqa_questions

    by_id = {str(s.id): s for s in load_scenes(scenes, scene_format)}
    qs = list(load_gqa_questions(questions, programs=parser == "gold").items())
    if limit is not None:
        qs = qs[: max(limit, 0)]
    preds = {p["questionId"]: p["prediction"] for p in _rows(rows)}
    runner = get_executor(executor)
    cache: dict[str, Any] = {}
    items = []
    for qid, q in qs:
        scene = by_id.get(str(q["imageId"]))
        if scene is None:
            continue

        def rerun(q: Any = q, scene: SceneGraph = scene) -> Trace | None:
            if parser == "gold":
                return runner.execute(program_from_gqa(q["semantic"]), scene, trace=True).trace
            if "r" not in cache:
                cache["r"] = Reasoner(scene_graph_parser(), runner, kb=list(kb) if kb else None)
            return cache["r"].ask(scene, q["question"]).trace  # type: ignore[no-any-return]

        predicted = preds.get(qid, "")
        group = str((q.get("types") or {}).get("detailed") or "unknown")
        items.append(Item(qid, str(q.get("question") or qid), scene, group, str(q["answer"]), predicted,
                          predicted == str(q["answer"]), None if predicted else "no answer", rerun))
    return items


def refexp_items(rows: Sequence[str], *, scenes: str, refexps: str, parser: str, executor: str,
                 limit: int | None, images: str, scene_format: str, tree_weights: str | None,
                 verify: bool) -> list[Item]:
    """The items of ``eval refexp``, grouped by template family; the expected answer is the
    referred objects' ids."""
    from ..api import Reasoner
    from ..execute.executors import get_executor
    from ..execute.grounding import ground_program, grounding_from_tree
    from ..parse.base import get_parser
    from ..train.split import in_images
    from .refexp import _load_jobs

    jobs = [(r, s) for r, s in _load_jobs(scenes, refexps, limit, scene_format) if in_images(r.image_index, images)]
    preds = _rows(rows)
    runner = get_executor(executor)
    cache: dict[str, Any] = {}
    items = []
    for (r, scene), p in zip(jobs, preds):
        gold = [scene.index.ids[k] for k in r.objects] if r.objects is not None else None

        def rerun(r: Any = r, scene: SceneGraph = scene) -> Trace | None:
            if parser == "gold":
                return ground_program(runner, scene, r.program, trace=True).trace
            if parser == "tree":
                from ..parse.tree import TreeGrounder

                if "t" not in cache:
                    cache["t"] = TreeGrounder.load(tree_weights)
                return grounding_from_tree(cache["t"].ground(scene, r.text), scene.id).trace
            if "r" not in cache:
                cache["r"] = Reasoner(get_parser(parser), runner,
                                      verifier=(tree_weights or "tree") if verify else None)
            return cache["r"].ground(scene, r.text).trace  # type: ignore[no-any-return]

        objects = p.get("objects") or []
        right = p.get("failure") is None and gold is not None and sorted(map(str, objects)) == sorted(map(str, gold))
        items.append(Item(str(r.refexp_index), r.text, scene, r.family or "unknown", gold,
                          ",".join(map(str, objects)), right, p.get("failure"), rerun))
    return items
