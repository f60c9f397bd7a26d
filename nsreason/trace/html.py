"""One self-contained HTML page per trace: the question, the answer, the parse, the program as
a graph of steps, the scene drawn, and what each step did to it.

The page loads nothing: its CSS, script and drawings (SVG) are inline, an image of the scene
is embedded as a ``data:`` URI, and a Content-Security-Policy forbids any fetch (the one
script runs by its hash). It opens from disk, offline, in any browser.

Selecting a step (a click on its row or its node in the graph, or ``#step=N`` in the URL)
highlights the objects of its output in the scene drawing (a neural step's objects shaded by
their attention), the relations it followed, and shows what it recorded: its arguments and
output, the facts of a knowledge step (with source, licence and score), the tree of a tree
grounding (each node with its score bars), a failure and why.

Every string that comes from a trace or a scene is escaped (scene files are input from
outside): text and attributes through :func:`html.escape`, the data the script reads as JSON
with ``<``, ``>`` and ``&`` written as ``\\u003c``... inside ``<script type="application/json">``.

Stable hooks for tests and tools: step rows carry ``data-step="N"``, graph nodes
``data-node="N"``, scene shapes ``data-object="ID"`` (and, while a step is selected, the
class ``highlighted`` and ``data-weight``), relation edges ``data-edge="K"`` (class ``used``).

>>> from nsreason.trace import Trace, TraceStep
>>> t = Trace([TraceStep(0, "scene", (), (), [0, 1], "ObjectSet"),
...            TraceStep(1, "count", (), (0,), 2, "Integer")], answer=2)
>>> page = render_html(t, title="<b>two</b>")
>>> page.startswith("<!DOCTYPE html>"), "&lt;b&gt;two&lt;/b&gt;" in page, "://" in page
(True, True, False)
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .render import format_time, format_value

if TYPE_CHECKING:  # pragma: no cover
    from ..scene.graph import SceneGraph, SceneObject
    from .trace import Trace, TraceStep

__all__ = ["CLEVR_COLOURS", "answer_string", "embed_json", "esc", "notebook_frame", "page", "render_html",
           "script_hash"]

CLEVR_COLOURS = {
    "gray": "#575757", "grey": "#575757", "red": "#ad2323", "blue": "#2a4bd7", "green": "#1d6914",
    "brown": "#814a19", "purple": "#8126c0", "cyan": "#29d0d0", "yellow": "#ffee33",
    "white": "#f4f4f4", "black": "#202020", "orange": "#ff9233", "pink": "#ff8fc8",
}
"""Fill colours of named colours (CLEVR's eight, as its renderer draws them, and a few more)."""

_MAX_IMAGE_BYTES = 8 * 1024 * 1024
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".webp": "image/webp"}
# CLEVR's camera directions (the scenes of the release carry them in "directions").
_CLEVR_RIGHT = (0.6563112735748291, 0.7544902563095093)
_CLEVR_FRONT = (0.7544902563095093, -0.6563112735748291)


def esc(value: Any) -> str:
    """HTML-escaped text of any value (quotes too: safe in attributes).

    >>> esc('<script>alert("1")</script>')
    '&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;'
    """
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def embed_json(data: Any) -> str:
    """JSON text safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and
    the line separators become ``\\u`` escapes, so no ``</script>`` can end the element.

    >>> embed_json({"name": "</script><script>alert(1)</script>"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(data, ensure_ascii=False, default=str)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def script_hash(script: str) -> str:
    """The CSP source (``'sha256-…'``) that lets exactly this inline script run."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def page(title: str, body: str, *, script: str = "", extra_css: str = "", form_action: bool = False) -> str:
    """A whole page around ``body`` (trusted HTML: escape what goes into it): the shared
    style, ``script`` (allowed by its hash, nothing else runs) and a policy that fetches
    nothing (``form_action``: forms may post to the page's own origin, for the explorer)."""
    policy = ["default-src 'none'", "img-src data:", "style-src 'unsafe-inline'",
              "script-src " + (script_hash(script) if script else "'none'"), "base-uri 'none'",
              "form-action " + ("'self'" if form_action else "'none'")]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{'; '.join(policy)}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{_CSS}{extra_css}</style></head>\n"
        f"<body>\n{body}\n" + (f"<script>{script}</script>\n" if script else "") + "</body></html>\n"
    )


def render_html(
    trace: Trace,
    scene: SceneGraph | None = None,
    *,
    title: str | None = None,
    gold: Any = None,
    image_dir: str | Path | None = None,
    prelude: str = "",
    form_action: bool = False,
    extra_css: str = "",
) -> str:
    """The page of one trace (see the module docstring).

    ``scene``: the scene the trace ran on (a :class:`Trace` holds only its id); without it
    the page has no drawing. ``gold``: the expected answer (an answer string, or object ids
    for a referring expression): the page says right or wrong. ``image_dir``: where a
    relative image name of the scene (``meta["image_filename"]``, ``"image"``, ``"file_name"``)
    is looked up (default: the working directory); the image is embedded when it exists.
    ``prelude``: trusted HTML put above the trace (the explorer's form), ``form_action``: let
    that form post to the page's origin, ``extra_css``: more style rules.
    """
    steps = list(trace.steps)
    question = _question(trace)
    heading = title if title is not None else (question or "nsreason trace")
    data = {
        "steps": {str(s.index): _step_view(s, steps, scene) for s in steps},
        "objects": [str(o.id) for o in scene.objects] if scene is not None else [],
    }
    parts = [prelude, '<main class="trace">', _header(trace, question, gold, heading), _parse_section(trace),
             '<div class="cols"><section class="program"><h2>Program</h2>', _graph_svg(steps),
             _steps_table(steps), '</section><section class="scene"><h2>Scene</h2>',
             _scene_svg(scene, image_dir), _details(steps, scene), "</section></div></main>",
             f'<script type="application/json" id="nsr-data">{embed_json(data)}</script>']
    return page(heading, "\n".join(parts), script=_SCRIPT, form_action=form_action, extra_css=extra_css)


def notebook_frame(page_html: str, height: int = 720) -> str:
    """A page inside an ``<iframe srcdoc>`` (sandboxed: scripts run, nothing else), so a
    notebook shows it with its own style and script, apart from the notebook's."""
    return (f'<iframe srcdoc="{esc(page_html)}" sandbox="allow-scripts" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>')


# -- header and parse -------------------------------------------------------------------------

def _question(trace: Trace) -> str | None:
    parse = trace.parse
    if parse is not None and parse.args and isinstance(parse.args[0], str):
        return parse.args[0]
    return None


def answer_string(value: Any) -> str:
    """An answer as the data sets write it: ``True`` → ``"yes"``, object ids joined by commas."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _matches_gold(answer: Any, gold: Any) -> bool:
    if isinstance(gold, (list, tuple, set)):
        return isinstance(answer, (list, tuple)) and sorted(map(str, answer)) == sorted(map(str, gold))
    return answer_string(answer).strip().lower() == answer_string(gold).strip().lower()


def _header(trace: Trace, question: str | None, gold: Any, heading: str) -> str:
    out = [f"<header><h1>{esc(heading)}</h1>"]
    if question is not None and question != heading:
        out.append(f'<p class="question">{esc(question)}</p>')
    if trace.failure is not None:
        f = trace.failure
        where = "the parse" if f.step is None else f"step {f.step}"
        out.append(f'<p class="answer failed" id="answer">No answer: failed at {esc(where)} — '
                   f'<code>{esc(f.code)}</code>: {esc(f.reason)}</p>')
    else:
        conf = "" if trace.confidence is None else f' <span class="conf">p = {trace.confidence:.2f}</span>'
        out.append(f'<p class="answer" id="answer">Answer: <strong data-answer>{esc(answer_string(trace.answer))}'
                   f"</strong>{conf}</p>")
    if gold is not None:
        right = trace.failure is None and _matches_gold(trace.answer, gold)
        out.append(f'<p class="verdict {"right" if right else "wrong"}" data-verdict="{"right" if right else "wrong"}">'
                   f'{"Right" if right else "Wrong"}: the expected answer is <strong>{esc(answer_string(gold))}'
                   "</strong></p>")
    meta = []
    if trace.scene_id is not None:
        meta.append(f"scene {esc(trace.scene_id)}")
    if trace.vocabulary:
        meta.append(f"vocabulary {esc(trace.vocabulary)}")
    meta.append(f"{len(trace.steps)} steps, {format_time(trace.time_ns)}")
    out.append(f'<p class="meta">{" · ".join(meta)}</p></header>')
    return "\n".join(out)


def _parse_section(trace: Trace) -> str:
    p = trace.parse
    if p is None:
        return (f'<section class="parse"><h2>Program</h2><p><code>{esc(trace.program)}</code></p></section>'
                if trace.program else "")
    d = p.details
    out = ['<section class="parse"><h2>Parse</h2>']
    if p.status == "failed":
        f = p.failure
        out.append(f'<p class="failed">The question did not parse: <code>{esc(f.code if f else "failed")}</code>'
                   f'{": " + esc(f.reason) if f else ""}</p>')
    else:
        score = d.get("score")
        s = f' <span class="score">score {score:.3f}</span>' if isinstance(score, (int, float)) else ""
        out.append(f'<p>Program: <code class="program-text">{esc(p.output)}</code>{s}</p>')
    info = [f"{esc(k)}: {esc(format_value(d[k], 120))}" for k in ("parser", "reason", "not_referring") if d.get(k)]
    if d.get("parser_choice"):
        ps = d.get("parser_score")
        info.append(f"the parser's own choice, <code>{esc(d['parser_choice'])}</code>"
                    + (f" (score {ps:.3f})" if isinstance(ps, (int, float)) else "")
                    + ", failed on the scene; the first alternative that runs was used")
    if info:
        out.append("<ul class='info'>" + "".join(f"<li>{i}</li>" for i in info) + "</ul>")
    verified = d.get("verified")
    if isinstance(verified, dict):
        out.append(_verified(verified))
    rejected = d.get("rejected") or []
    if rejected:
        out.append(f"<details class='rejected' open><summary>Programs rejected on the scene ({len(rejected)})"
                   "</summary><table class='rejected'><tr><th>program</th><th>why</th></tr>")
        for r in rejected:
            rf = _dict(r.get("failure"))
            where = f" (step {rf['step']})" if rf.get("step") is not None else ""
            out.append(f"<tr><td><code>{esc(r.get('program'))}</code></td>"
                       f"<td><code>{esc(rf.get('code'))}</code>{esc(where)}: {esc(rf.get('reason'))}</td></tr>")
        out.append("</table></details>")
    alts = d.get("alternatives") or []
    if alts:
        out.append(f"<details><summary>Alternatives ({len(alts)})</summary><table class='alternatives'>"
                   "<tr><th>score</th><th>program</th></tr>")
        for a in alts:
            sc = a.get("score")
            out.append(f"<tr><td class='num'>{sc:.3f}</td>" if isinstance(sc, (int, float)) else "<tr><td></td>")
            out.append(f"<td><code>{esc(a.get('program'))}</code></td></tr>")
        out.append("</table></details>")
    extra = {k: v for k, v in d.items() if k not in
             ("score", "alternatives", "rejected", "verified", "parser", "reason", "parser_choice", "parser_score",
              "not_referring")}
    if extra:
        out.append(f"<details><summary>More from the parser</summary><pre>{esc(_pretty(extra))}</pre></details>")
    out.append("</section>")
    return "\n".join(out)


def _verified(v: dict[str, Any]) -> str:
    objs = ", ".join(map(str, v.get("objects") or [])) or "none"
    if v.get("failure"):
        f = v["failure"]
        text = f"could not check: <code>{esc(f.get('code'))}</code>: {esc(f.get('reason'))}"
    elif v.get("agreed"):
        text = f"agrees: both name objects {esc(objs)}"
    elif v.get("replaced"):
        text = (f"disagreed with <code>{esc(v['replaced'])}</code>; the parser's candidate naming the tree "
                f"grounder's objects ({esc(objs)}) was used")
    else:
        text = f"disagrees (it names {esc(objs)}) and no candidate of the parser agrees"
    return f"<p class='verified'>Checked by the {esc(v.get('by', 'tree'))} grounder: {text}</p>"


# -- steps ------------------------------------------------------------------------------------

def _ids(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (int, str)) and not isinstance(v, bool)]
    return []


def _step_objects(step: TraceStep, scene: SceneGraph | None) -> dict[str, float]:
    """The objects a step's output names, each with its weight (1 for a symbolic set; a
    neural step's attention; a tree grounding's root scores)."""
    known = {str(o.id) for o in scene.objects} if scene is not None else None
    weights: dict[str, float] = {}
    attention = step.details.get("attention")
    tree = step.details.get("tree")
    if isinstance(attention, Mapping):
        weights = {str(k): float(w) for k, w in attention.items() if isinstance(w, (int, float))}
    elif isinstance(tree, Mapping) and isinstance(tree.get("scores"), Mapping):
        weights = {str(k): float(w) for k, w in tree["scores"].items() if isinstance(w, (int, float))}
    if step.status == "ok" and not weights:
        if step.output_type in ("ObjectSet", "Objects") or isinstance(step.output, list):
            weights = dict.fromkeys(_ids(step.output), 1.0)
        elif step.output_type == "Object" and isinstance(step.output, (int, str)):
            weights = {str(step.output): 1.0}
    if step.status == "ok" and not weights and isinstance(step.output, Mapping):  # kb_link: objects linked
        rows = step.output.get("objects")
        if isinstance(rows, list):
            weights = {str(r["object"]): 1.0 for r in rows
                       if isinstance(r, Mapping) and isinstance(r.get("object"), (int, str)) and r.get("entities")}
    if known is not None:
        weights = {k: w for k, w in weights.items() if k in known}
    return weights


def _ranked_objects(step: TraceStep, steps: Sequence[TraceStep], scene: SceneGraph | None) -> dict[str, float]:
    """The object behind a ranked fact (kb_rank's first candidate names it by its mention,
    which the kb_link step it reads maps to object ids)."""
    out = step.output
    if step.status != "ok" or not isinstance(out, Mapping) or not isinstance(out.get("candidates"), list):
        return {}
    first = next((c for c in out["candidates"] if isinstance(c, Mapping)), None)
    mention = first.get("object") if first is not None else None
    if mention is None:
        return {}
    by_index = {s.index: s for s in steps}
    ids: dict[str, float] = {}
    for i in step.inputs:
        src = by_index.get(i)
        rows = src.output.get("objects") if src is not None and isinstance(src.output, Mapping) else None
        for r in rows if isinstance(rows, list) else []:
            if isinstance(r, Mapping) and r.get("mention") == mention and isinstance(r.get("object"), (int, str)):
                ids[str(r["object"])] = 1.0
    known = {str(o.id) for o in scene.objects} if scene is not None else None
    return {k: w for k, w in ids.items() if known is None or k in known}


def _step_edges(step: TraceStep, steps: Sequence[TraceStep], scene: SceneGraph | None,
                objects: Mapping[str, float]) -> list[int]:
    """The relations of the scene a relating step followed: from the objects of its inputs
    to the objects of its output, with a predicate named in its arguments."""
    if scene is None or not scene.relations or not objects:
        return []
    by_index = {s.index: s for s in steps}
    sources: set[str] = set()
    for i in step.inputs:
        src = by_index.get(i)
        if src is not None:
            sources |= {k for k, w in _step_objects(src, scene).items() if w >= 0.5}
    predicates = {str(a) for a in step.args if a is not None}
    relation = step.details.get("relation")
    if isinstance(relation, Mapping):
        predicates |= {str(relation[k]) for k in ("relation", "label") if relation.get(k)}
    used_predicates = predicates & {r.predicate for r in scene.relations}
    if not sources or not used_predicates:
        return []
    targets = {k for k, w in objects.items() if w >= 0.5}
    return [k for k, r in enumerate(scene.relations)
            if r.predicate in used_predicates and (
                (str(r.subject) in sources and str(r.object) in targets)
                or (str(r.object) in sources and str(r.subject) in targets))]


def _step_view(step: TraceStep, steps: Sequence[TraceStep], scene: SceneGraph | None) -> dict[str, Any]:
    objects = _step_objects(step, scene) or _ranked_objects(step, steps, scene)
    return {"objects": objects, "edges": _step_edges(step, steps, scene, objects),
            "neural": step.details.get("executor") == "neural" or "tree" in step.details}


def _output_text(step: TraceStep, limit: int = 80) -> str:
    if step.status == "failed":
        f = step.failure
        return f"FAILED {f.code}: {f.reason}" if f else "FAILED"
    if step.status == "skipped":
        return "(skipped)"
    if isinstance(step.output, dict):
        keys = ", ".join(list(step.output)[:4])
        return f"{{{keys}}}"
    return format_value(step.output, limit)


def _args_text(step: TraceStep) -> str:
    return ", ".join("-" if a is None else format_value(a, 40) for a in step.args)


def _steps_table(steps: Sequence[TraceStep]) -> str:
    out = [("<table class='steps'><thead><tr><th>#</th><th>op</th><th>args</th><th>inputs</th>"
           "<th>output</th><th>type</th><th>time</th></tr></thead><tbody>")]
    for s in steps:
        time = "" if s.status == "skipped" else format_time(s.time_ns)
        out.append(
            f"<tr class='step {esc(s.status)}' data-step='{s.index}' tabindex='0'><td class='num'>{s.index}</td>"
            f"<td><code>{esc(s.op)}</code></td><td>{esc(_args_text(s))}</td>"
            f"<td>{esc(', '.join(map(str, s.inputs)))}</td><td class='out'>{esc(_output_text(s))}</td>"
            f"<td>{esc(s.output_type)}</td><td class='num'>{esc(time)}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _graph_svg(steps: Sequence[TraceStep]) -> str:
    """The program as a DAG, read top to bottom: a row per depth (a step is one deeper than
    its deepest input), a box per step, an arrow from each input."""
    if not steps:
        return "<p class='note'>No steps ran.</p>"
    depth: dict[int, int] = {}
    for s in steps:
        depth[s.index] = 1 + max((depth.get(i, 0) for i in s.inputs), default=-1)
    columns: dict[int, list[int]] = {}
    for s in steps:
        columns.setdefault(depth[s.index], []).append(s.index)
    w, h, gx, gy = 150, 38, 16, 22
    pos = {i: (10 + r * (w + gx), 10 + d * (h + gy)) for d, col in columns.items() for r, i in enumerate(col)}
    width = 20 + max(len(c) for c in columns.values()) * (w + gx) - gx
    height = 20 + len(columns) * (h + gy) - gy
    out = [(f"<div class='graph-wrap'><svg class='graph' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' role='img' aria-label='program graph'>"),
           ("<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
           "orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#888'/></marker></defs>")]
    for s in steps:
        x2, y2 = pos[s.index]
        for i in s.inputs:
            if i in pos:
                x1, y1 = pos[i]
                sx, sy, ex, ey = x1 + w / 2, y1 + h, x2 + w / 2, y2
                my = (sy + ey) / 2
                out.append(f"<path class='link' d='M {sx} {sy} C {sx} {my}, {ex} {my}, {ex} {ey}' "
                           "marker-end='url(#arrow)'/>")
    for s in steps:
        x, y = pos[s.index]
        label = s.op if not s.args else f"{s.op}[{_args_text(s)}]"
        out.append(f"<g class='node {esc(s.status)}' data-node='{s.index}' transform='translate({x},{y})'>"
                   f"<title>{esc(label)} → {esc(_output_text(s, 200))}</title>"
                   f"<rect width='{w}' height='{h}' rx='6'/>"
                   f"<text x='6' y='15' class='op'>{s.index}. {esc(format_value(label, 21))}</text>"
                   f"<text x='6' y='31' class='val'>{esc(format_value(_output_text(s), 24))}</text></g>")
    out.append("</svg></div>")
    return "\n".join(out)


# -- scene ------------------------------------------------------------------------------------

def _colour(name: str | None) -> str:
    if name and name.lower() in CLEVR_COLOURS:
        return CLEVR_COLOURS[name.lower()]
    if not name:
        return "#9aa0a6"
    h = int(hashlib.md5(name.encode("utf-8")).hexdigest()[:6], 16) % 360
    return f"hsl({h}, 55%, 50%)"


def _object_colour(o: SceneObject) -> str | None:
    colour = o.get("color") or o.get("colour")
    if colour:
        return colour
    return next((v for v in o.labels if v.lower() in CLEVR_COLOURS), None)


def _image_uri(scene: SceneGraph, image_dir: str | Path | None) -> str | None:
    for key in ("image_path", "image_filename", "image", "file_name", "filename"):
        name = scene.meta.get(key)
        if not isinstance(name, str) or not name or "://" in name:
            continue
        path = Path(name)
        if not path.is_absolute() and image_dir is not None:
            path = Path(image_dir) / path
        mime = _IMAGE_TYPES.get(path.suffix.lower())
        try:
            if mime and path.is_file() and path.stat().st_size <= _MAX_IMAGE_BYTES:
                return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError:
            continue
    return None


def _scene_svg(scene: SceneGraph | None, image_dir: str | Path | None) -> str:
    if scene is None:
        return "<p class='note'>No scene given: the drawing needs the scene (pass it to the renderer).</p>"
    if not scene.objects:
        return "<p class='note'>The scene has no objects.</p>"
    if all(o.coords is not None and len(o.coords) >= 2 for o in scene.objects):
        return _clevr_svg(scene)
    if any(o.box is not None for o in scene.objects):
        return _boxes_svg(scene, image_dir)
    return _list_svg(scene.objects)


def _tooltip(o: SceneObject) -> str:
    return f"<title>{esc(o.describe())}</title>"


def _edges(scene: SceneGraph, centre: Mapping[str, tuple[float, float]], hidden: bool) -> list[str]:
    out = []
    for k, r in enumerate(scene.relations):
        a, b = centre.get(str(r.subject)), centre.get(str(r.object))
        if a is None or b is None:
            continue
        out.append(f"<line class='edge{' dense' if hidden else ''}' data-edge='{k}' x1='{a[0]:.1f}' y1='{a[1]:.1f}' "
                   f"x2='{b[0]:.1f}' y2='{b[1]:.1f}' marker-end='url(#edge-arrow)'>"
                   f"<title>{esc(r.subject)} {esc(r.predicate)} {esc(r.object)}</title></line>")
    return out


_EDGE_DEFS = ("<defs><marker id='edge-arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='6' "
              "markerHeight='6' orient='auto'><path d='M 0 0 L 10 5 L 0 10 z' fill='#e8710a'/></marker></defs>")


def _clevr_svg(scene: SceneGraph) -> str:
    """CLEVR top-down, as the camera sees left/right and front/behind: each object in its
    colour, its shape (cube: a square turned by its rotation; sphere: a shaded circle;
    cylinder: a disc with a rim; others: a diamond) and its size."""
    directions = _dict(scene.meta.get("directions"))
    right = _direction(directions, "right", _CLEVR_RIGHT)
    front = _direction(directions, "front", _CLEVR_FRONT)
    pts = {str(o.id): (o.coords[0] * right[0] + o.coords[1] * right[1],  # type: ignore[index]
                       o.coords[0] * front[0] + o.coords[1] * front[1]) for o in scene.objects}  # type: ignore[index]
    xs, ys = [p[0] for p in pts.values()], [p[1] for p in pts.values()]
    lo_x, hi_x = min(min(xs), -3.5), max(max(xs), 3.5)
    lo_y, hi_y = min(min(ys), -3.5), max(max(ys), 3.5)
    scale, pad = 48.0, 40.0
    width, height = (hi_x - lo_x) * scale + 2 * pad, (hi_y - lo_y) * scale + 2 * pad

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] - lo_x) * scale + pad, (p[1] - lo_y) * scale + pad

    centre = {k: at(p) for k, p in pts.items()}
    out = [(f"<svg class='scene-svg clevr' width='{width:.0f}' height='{height:.0f}' "
           f"viewBox='0 0 {width:.0f} {height:.0f}' role='img' aria-label='scene, top-down'>"), _EDGE_DEFS,
           f"<rect class='floor' x='0' y='0' width='{width:.0f}' height='{height:.0f}'/>",
           f"<text class='dir' x='{width / 2:.0f}' y='14'>behind</text>",
           f"<text class='dir' x='{width / 2:.0f}' y='{height - 5:.0f}'>front (camera)</text>",
           f"<text class='dir' x='4' y='{height / 2:.0f}'>left</text>",
           f"<text class='dir' x='{width - 34:.0f}' y='{height / 2:.0f}'>right</text>"]
    out += _edges(scene, centre, hidden=True)
    order = sorted(scene.objects, key=lambda o: (o.coords[2] if o.coords and len(o.coords) > 2 else 0.0))
    for o in order:
        x, y = centre[str(o.id)]
        size = (o.get("size") or "").lower()
        r = {"large": 0.7, "small": 0.35}.get(size, 0.5) * scale
        fill = _colour(_object_colour(o))
        shape = (o.get("shape") or o.name or "").lower()
        metal = (o.get("material") or "").lower() == "metal"
        cls = "obj" + (" metal" if metal else "")
        attrs = (f"class='{cls}' data-object='{esc(o.id)}' data-shape='{esc(shape)}' data-colour='{esc(fill)}'")
        out.append(f"<g {attrs}>{_tooltip(o)}")
        if shape == "cube":
            rot = float(o.extra.get("rotation", 0.0)) if isinstance(o.extra.get("rotation"), (int, float)) else 0.0
            side = r * 2 / math.sqrt(2) * 1.15
            out.append(f"<rect class='shape' x='{x - side / 2:.1f}' y='{y - side / 2:.1f}' width='{side:.1f}' "
                       f"height='{side:.1f}' fill='{fill}' transform='rotate({rot % 90:.0f} {x:.1f} {y:.1f})'/>")
        elif shape == "sphere":
            out.append(f"<circle class='shape' cx='{x:.1f}' cy='{y:.1f}' r='{r:.1f}' fill='{fill}'/>"
                       f"<circle class='gloss' cx='{x - r / 3:.1f}' cy='{y - r / 3:.1f}' r='{r / 3:.1f}'/>")
        elif shape == "cylinder":
            out.append(f"<circle class='shape' cx='{x:.1f}' cy='{y:.1f}' r='{r:.1f}' fill='{fill}'/>"
                       f"<circle class='rim' cx='{x:.1f}' cy='{y:.1f}' r='{r * 0.7:.1f}'/>")
        else:
            out.append(f"<polygon class='shape' points='{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} "
                       f"{x - r:.1f},{y:.1f}' fill='{fill}'/>")
        out.append(f"<text class='oid' x='{x:.1f}' y='{y + 4:.1f}'>{esc(o.id)}</text></g>")
    out.append("</svg>")
    legend = ("<p class='note'>Top-down, as the camera sees it (front at the bottom). Square: cube, "
              "disc with a rim: cylinder, shaded circle: sphere; large objects are drawn larger, metal ones "
              "with a bright outline. <label><input type='checkbox' id='all-edges'> all relations</label></p>")
    return "\n".join(out) + legend


def _direction(directions: Mapping[str, Any], name: str, default: tuple[float, float]) -> tuple[float, float]:
    v = directions.get(name)
    if isinstance(v, (list, tuple)) and len(v) >= 2 and all(isinstance(c, (int, float)) for c in v[:2]):
        n = math.hypot(v[0], v[1]) or 1.0
        return v[0] / n, v[1] / n
    return default


def _boxes_svg(scene: SceneGraph, image_dir: str | Path | None) -> str:
    """Boxes in image coordinates, over the image when it exists on disk; relations as
    arrows between box centres."""
    boxed = [o for o in scene.objects if o.box is not None]
    width = _number(scene.meta.get("width")) or max(o.box.x + o.box.w for o in boxed)  # type: ignore[union-attr]
    height = _number(scene.meta.get("height")) or max(o.box.y + o.box.h for o in boxed)  # type: ignore[union-attr]
    width, height = max(width, 1.0), max(height, 1.0)
    shown = 640.0 / width if width > 640 else 1.0
    out = [(f"<svg class='scene-svg boxes' width='{width * shown:.0f}' height='{height * shown:.0f}' "
           f"viewBox='0 0 {width:.1f} {height:.1f}' role='img' aria-label='scene, boxes in image coordinates'>"),
           _EDGE_DEFS]
    image = _image_uri(scene, image_dir)
    if image is not None:
        out.append(f"<image class='photo' x='0' y='0' width='{width:.1f}' height='{height:.1f}' href='{image}'/>")
    else:
        out.append(f"<rect class='canvas' x='0' y='0' width='{width:.1f}' height='{height:.1f}'/>")
    centre = {str(o.id): (o.box.x + o.box.w / 2, o.box.y + o.box.h / 2) for o in boxed}  # type: ignore[union-attr]
    out += _edges(scene, centre, hidden=False)
    stroke = max(1.0, width / 320)
    for o in sorted(boxed, key=lambda o: -(o.box.w * o.box.h)):  # type: ignore[union-attr]
        b = o.box
        assert b is not None
        colour = _colour(_object_colour(o) or o.name)
        out.append(f"<g class='obj box' data-object='{esc(o.id)}' data-colour='{esc(colour)}'>{_tooltip(o)}"
                   f"<rect class='shape' x='{b.x:.1f}' y='{b.y:.1f}' width='{max(b.w, 1):.1f}' "
                   f"height='{max(b.h, 1):.1f}' stroke='{colour}' style='stroke-width:{stroke:.1f}px' "
                   f"fill='{colour}'/>"
                   f"<text class='label' x='{b.x + 2:.1f}' y='{b.y + 12 * stroke:.1f}' "
                   f"style='font-size:{11 * stroke:.0f}px'>{esc(o.name or o.id)}</text></g>")
    out.append("</svg>")
    note = "over the scene's image" if image is not None else "the image is not on disk: boxes only"
    unboxed = [o for o in scene.objects if o.box is None]
    extra = f"; {len(unboxed)} object(s) without a box listed below" if unboxed else ""
    return "\n".join(out) + f"<p class='note'>Boxes in image coordinates ({note}{extra}).</p>" + (
        _list_svg(unboxed) if unboxed else "")


def _list_svg(objects: Iterable[SceneObject]) -> str:
    """Objects without geometry: one labelled tile each."""
    objs = list(objects)
    per_row, w, h = 4, 150, 40
    rows = math.ceil(len(objs) / per_row)
    out = [(f"<svg class='scene-svg tiles' width='{per_row * (w + 8)}' height='{rows * (h + 8)}' role='img' "
           "aria-label='scene objects'>")]
    for k, o in enumerate(objs):
        x, y = (k % per_row) * (w + 8), (k // per_row) * (h + 8)
        colour = _colour(_object_colour(o) or o.name)
        out.append(f"<g class='obj tile' data-object='{esc(o.id)}' data-colour='{esc(colour)}'>{_tooltip(o)}"
                   f"<rect class='shape' x='{x}' y='{y}' width='{w}' height='{h}' rx='5' fill='{colour}'/>"
                   f"<text class='label' x='{x + 6}' y='{y + 24}'>{esc(format_value(o.describe(), 22))}</text></g>")
    out.append("</svg>")
    return "\n".join(out)


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


# -- step details -----------------------------------------------------------------------------

def _details(steps: Sequence[TraceStep], scene: SceneGraph | None) -> str:
    out = [("<section class='details'><h2>Step</h2><p class='note' id='pick'>Select a step (its row or its node) to "
           "see what it did; its objects light up in the drawing.</p>")]
    for s in steps:
        out.append(f"<div class='detail' data-detail='{s.index}' hidden>{_detail(s, scene)}</div>")
    out.append("</section>")
    return "\n".join(out)


def _detail(s: TraceStep, scene: SceneGraph | None) -> str:
    out = [f"<h3>{s.index}. <code>{esc(s.op)}</code>"
           + (f"[{esc(_args_text(s))}]" if s.args else "") + f" → {esc(s.output_type)}</h3>"]
    if s.inputs:
        out.append(f"<p>reads step {esc(', '.join(map(str, s.inputs)))}</p>")
    if s.status == "failed":
        f = s.failure
        out.append(f"<p class='failed'>Failed here: <code>{esc(f.code if f else '')}</code>: "
                   f"{esc(f.reason if f else '')}</p>")
    elif s.status == "skipped":
        out.append("<p class='note'>Skipped: an earlier step failed.</p>")
    elif isinstance(s.output, Mapping):
        out.append(f"<p>output: a record <span class='note'>({esc(format_time(s.time_ns))})</span></p>")
    else:
        out.append(f"<p>output: <code>{esc(format_value(s.output, 300))}</code> "
                   f"<span class='note'>({esc(format_time(s.time_ns))})</span></p>")
    d = s.details
    names = {str(o.id): o.describe() for o in scene.objects} if scene is not None else {}
    if isinstance(d.get("attention"), Mapping):
        out.append("<h4>Attention</h4>" + _bars(d["attention"], names))
    if "uniqueness" in d and isinstance(d["uniqueness"], (int, float)):
        out.append(f"<p>probability that exactly one object is meant: {d['uniqueness']:.2f}</p>")
    if isinstance(d.get("distribution"), Mapping):
        out.append("<h4>Output distribution</h4>" + _bars(d["distribution"], {}))
    if isinstance(d.get("tree"), Mapping):
        out.append("<h4>Composition tree</h4><p class='note'>Each node's best objects with their scores; "
                   "click a node to shade the scene by its scores.</p>" + _tree(d["tree"], names))
    if isinstance(d.get("relation"), Mapping):
        out.append(_relation(d))
    if s.status == "ok" and isinstance(s.output, Mapping):
        out.append(_record(s.output))
    rest = {k: v for k, v in d.items() if k not in ("attention", "distribution", "tree", "uniqueness")}
    if rest or isinstance(s.output, (Mapping, list)):
        body = {"output": s.output, **({"details": rest} if rest else {})}
        out.append(f"<details><summary>everything recorded</summary><pre>{esc(_pretty(body))}</pre></details>")
    return "\n".join(out)


def _bars(weights: Mapping[Any, Any], names: Mapping[str, str], shown: int = 12) -> str:
    items = sorted(((str(k), float(v)) for k, v in weights.items() if isinstance(v, (int, float))),
                   key=lambda kv: -kv[1])[:shown]
    rows = "".join(
        f"<tr><td>{esc(names.get(k, k))}</td><td class='bar'><span style='width:{max(0.0, min(v, 1.0)) * 100:.0f}%'>"
        f"</span></td><td class='num'>{v:.2f}</td></tr>" for k, v in items)
    return f"<table class='bars'>{rows}</table>"


def _tree(node: Mapping[str, Any], names: Mapping[str, str], shown: int = 3) -> str:
    head = str(node.get("type", "?")) + (f"[{node['op']}]" if node.get("op") is not None else "")
    scores = _dict(node.get("scores"))
    top = sorted(((str(k), float(v)) for k, v in scores.items() if isinstance(v, (int, float))),
                 key=lambda kv: -kv[1])[:shown]
    bars = "".join(f"<span class='tbar' title='{esc(names.get(k, k))}'><span class='tid'>{esc(k)}</span>"
                   f"<span class='fill' style='width:{max(0.0, min(v, 1.0)) * 60:.0f}px'></span>"
                   f"<span class='num'>{v:.2f}</span></span>" for k, v in top)
    words = _list(node.get("words"))
    extra = ""
    if words and node.get("type") != "single":
        extra = f" <span class='note'>({esc(' '.join(map(str, words)))})</span>"
    children = _list(node.get("children"))
    kids = "".join(_tree(c, names, shown) for c in children if isinstance(c, Mapping))
    return (f"<ul class='tree'><li><span class='tnode' data-scores='{esc(embed_json(scores))}'>"
            f"<code>{esc(head)}</code> “{esc(node.get('phrase', ''))}”{extra} {bars}</span>{kids}</li></ul>")


def _fact(f: Mapping[str, Any]) -> str:
    labels = _list(f.get("labels")) or [None, None, None]
    parts = [lab or str(raw).rsplit("/", 1)[-1] for lab, raw in zip(labels, (f.get("head"), f.get("relation"),
                                                                             f.get("tail")))]
    return f"{esc(parts[0])} <span class='rel'>—{esc(parts[1])}→</span> {esc(parts[2])}"


def _fact_row(f: Mapping[str, Any], score: Any = None, note: str = "") -> str:
    source = f.get("source_label") or f.get("source") or "no source"
    sc = f"{score:+.2f}" if isinstance(score, (int, float)) else (
        f"{f['score']:.2f}" if isinstance(f.get("score"), (int, float)) else "")
    return (f"<tr class='fact'><td class='num'>{sc}</td><td>{_fact(f)}{note}</td><td>{esc(source)}</td>"
            f"<td>{esc(f.get('licence') or '')}</td></tr>")


_FACT_HEAD = "<table class='facts'><tr><th>score</th><th>fact</th><th>source</th><th>licence</th></tr>"


def _relation(d: Mapping[str, Any], shown: int = 30) -> str:
    rel = d["relation"]
    score = rel.get("score")
    out = [f"<h4>Knowledge relation</h4><p>“{esc(rel.get('phrase'))}” → <strong>{esc(rel.get('label'))}</strong> "
           f"({esc(rel.get('method'))}" + (f", {score:.2f}" if isinstance(score, (int, float)) else "")
           + f") <code>{esc(rel.get('relation'))}</code></p>"]
    lookups = [x for x in d.get("lookups") or [] if isinstance(x, Mapping)]
    rows = [x for x in d.get("objects") or [] if isinstance(x, Mapping)]
    for look in lookups:
        if not look.get("entities"):
            out.append(f"<p class='note'>“{esc(look.get('concept'))}”: no entity of the KB</p>")
    facts = [f for x in lookups + rows for f in x.get("facts") or [] if isinstance(f, Mapping)]
    if facts:
        out.append(f"<h4>Facts followed ({len(facts)})</h4>" + _FACT_HEAD
                   + "".join(_fact_row(f) for f in facts[:shown]) + "</table>")
        if len(facts) > shown:
            out.append(f"<p class='note'>… {len(facts) - shown} more (everything recorded, below)</p>")
    if d.get("closed_world"):
        out.append(f"<p class='note'>{esc(d['closed_world'])}</p>")
    return "\n".join(out)


def _record(out: Mapping[str, Any], shown: int = 10) -> str:
    """The record outputs of knowledge steps: links (kb_link) and ranked facts (kb_rank)."""
    html_out = []
    if isinstance(out.get("objects"), list):
        html_out.append("<h4>Objects linked to the KB</h4><ul>")
        for row in out["objects"]:
            if not isinstance(row, Mapping):
                continue
            ents = _list(row.get("entities"))
            found = ", ".join(f"{esc(e.get('label'))} ({esc(e.get('method'))})" for e in ents
                              if isinstance(e, Mapping)) or "nothing"
            html_out.append(f"<li>{esc(row.get('mention'))} → {found}</li>")
        html_out.append("</ul>")
    if isinstance(out.get("candidates"), list):
        cands = [c for c in out["candidates"] if isinstance(c, Mapping)]
        asks = (out.get("asks_for") or {}).get("answer_type") if isinstance(out.get("asks_for"), Mapping) else None
        if asks:
            html_out.append(f"<p>The question asks for: <strong>{esc(asks)}</strong>"
                            + (" (no object of the scene is one)" if out.get("answer_outside_scene") else "") + "</p>")
        html_out.append(f"<h4>Facts ranked ({esc(out.get('considered', len(cands)))} considered; "
                        f"best {min(shown, len(cands))}, the first used)</h4>" + _FACT_HEAD)
        for c in cands[:shown]:
            fact = _dict(c.get("fact"))
            note = f" ⇒ <strong>{esc(c.get('answer'))}</strong> <span class='note'>({esc(c.get('side'))}" + (
                ", type matches" if c.get("type_match") else "") + ")</span>"
            html_out.append(_fact_row(fact, c.get("score"), note))
        html_out.append("</table>")
    return "\n".join(html_out)


def _dict(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (trace details are free-form JSON)."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


_CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--hi:#e8710a;--bad:#c62828;--good:#2e7d32;--sel:#fff4e5}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;
padding:12px 18px;background:#fafbfc}h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:14px 0 6px;
border-bottom:1px solid var(--line)}h3{font-size:14px;margin:10px 0 4px}h4{font-size:13px;margin:8px 0 3px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}pre{white-space:pre-wrap;max-height:320px;
overflow:auto;background:#f3f4f6;padding:6px}.question{font-size:16px;margin:2px 0}.answer{font-size:16px;margin:4px 0}
.answer.failed,.failed{color:var(--bad)}.verdict.right{color:var(--good);font-weight:600}.verdict.wrong{color:var(--bad);
font-weight:600}.meta,.note{color:var(--muted);font-size:12px}.conf{color:var(--muted)}.cols{display:flex;flex-wrap:wrap;
gap:18px}.cols>section{flex:1 1 520px;min-width:0}table{border-collapse:collapse;margin:4px 0}td,th{padding:2px 8px;
border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}td.num{text-align:right;
font-variant-numeric:tabular-nums}tr.step{cursor:pointer}tr.step:hover{background:#f0f3f6}tr.step.selected{
background:var(--sel);outline:2px solid var(--hi)}tr.step.failed td{color:var(--bad)}tr.step.skipped td{
color:#aaa}td.out{max-width:320px;overflow-wrap:anywhere}.graph-wrap{overflow:auto;max-width:100%}
svg text{font:11px system-ui,sans-serif}
.scene-svg{max-width:100%;height:auto}.node{cursor:pointer}.node rect{fill:#fff;stroke:#8c959f}
.node.failed rect{stroke:var(--bad);stroke-width:2}.node.skipped{opacity:.45}.node.selected rect{stroke:var(--hi);
stroke-width:3;fill:var(--sel)}.node .val{fill:var(--muted)}.link{fill:none;stroke:#aaa;stroke-width:1.3}
.floor{fill:#e9e7e1}.canvas{fill:#f1f1f1}.dir{fill:#9a968c;font-size:10px}.obj .shape{stroke:#333;stroke-width:1;
transition:opacity .15s}.obj.metal .shape{stroke:#fff;stroke-width:2.5}.obj .gloss{fill:#fff;opacity:.35}
.obj .rim{fill:none;stroke:#0005;stroke-width:1.5}.obj .oid{text-anchor:middle;fill:#fff;font-weight:700;
paint-order:stroke;stroke:#000;stroke-width:2px}.obj.box .shape{fill-opacity:0.08}.obj.box .label{fill:#fff;
paint-order:stroke;stroke:#000;stroke-width:2px}.obj.tile .label{fill:#fff;paint-order:stroke;stroke:#000;
stroke-width:2px}.selecting .obj{opacity:.25}.selecting .obj.highlighted{opacity:1}.selecting .obj.weighted{
opacity:var(--w)}.obj.highlighted .shape{stroke:var(--hi);stroke-width:4}.obj.box.highlighted .shape{
fill-opacity:.3}.edge{stroke:var(--hi);stroke-width:2;opacity:.35}.edge.dense{display:none}
.show-edges .edge.dense{display:inline;opacity:.15}.edge.used{display:inline;opacity:1;stroke-width:3}
.selecting .edge:not(.used){opacity:.1}.bars td.bar{width:160px}.bars td.bar span,.tbar .fill{display:inline-block;
height:10px;background:var(--hi)}.tree{list-style:none;padding-left:16px;margin:2px 0}.tnode{cursor:pointer}
.tnode.selected{background:var(--sel)}.tbar{display:inline-flex;align-items:center;gap:3px;margin-left:8px}
.tbar .tid{font-size:11px;color:var(--muted)}.rel{color:var(--muted)}.facts td{font-size:12px}
.detail{border-left:3px solid var(--hi);padding-left:8px}.info{margin:2px 0;padding-left:18px}
"""

# The page's one script (allowed by its hash in the page's policy). It reads the data block
# and only ever sets classes and attributes: nothing from the trace becomes markup.
_SCRIPT = """(function(){
var D=JSON.parse(document.getElementById('nsr-data').textContent);
var svg=document.querySelector('.scene-svg');var cur=null;
function each(sel,f){Array.prototype.forEach.call(document.querySelectorAll(sel),f);}
function clear(){each('.obj',function(e){e.classList.remove('highlighted','weighted');
e.removeAttribute('data-weight');e.style.removeProperty('--w');});each('.edge.used',function(e){
e.classList.remove('used');});each('.selected',function(e){e.classList.remove('selected');});}
function shade(objs,neural){var box=document.querySelector('.scene');if(box)box.classList.add('selecting');
each('.obj',function(e){var w=objs[e.getAttribute('data-object')];if(w===undefined)return;
e.setAttribute('data-weight',String(Math.round(w*1000)/1000));
if(w>=0.5)e.classList.add('highlighted');
if(neural){e.classList.add('weighted');e.style.setProperty('--w',String(0.15+0.85*Math.max(0,Math.min(1,w))));}});}
function select(i){var s=D.steps[String(i)];if(!s)return;clear();cur=i;shade(s.objects,s.neural);
s.edges.forEach(function(k){each('[data-edge="'+k+'"]',function(e){e.classList.add('used');});});
each('[data-step="'+i+'"],[data-node="'+i+'"]',function(e){e.classList.add('selected');});
each('.detail',function(e){e.hidden=e.getAttribute('data-detail')!==String(i);});
var p=document.getElementById('pick');if(p)p.hidden=true;document.body.setAttribute('data-selected',String(i));}
each('[data-step]',function(e){e.addEventListener('click',function(){select(e.getAttribute('data-step'));});
e.addEventListener('keydown',function(ev){if(ev.key==='Enter')select(e.getAttribute('data-step'));});});
each('[data-node]',function(e){e.addEventListener('click',function(){select(e.getAttribute('data-node'));});});
each('.tnode',function(e){e.addEventListener('click',function(ev){ev.stopPropagation();clear();
e.classList.add('selected');shade(JSON.parse(e.getAttribute('data-scores')),true);});});
var all=document.getElementById('all-edges');if(all)all.addEventListener('change',function(){
var box=document.querySelector('.scene');if(box)box.classList.toggle('show-edges',all.checked);});
var m=/step=(-?\\d+)/.exec(location.hash);if(m)select(m[1]);
window.nsrSelect=select;})();"""
