"""``nsreason eval refexp``: CLEVR-Ref+ referring expressions grounded on their scenes.

:func:`evaluate_refexp` grounds every expression of a CLEVR-Ref+ refexps file
(:func:`~nsreason.datasets.clevr.refexps.load_refexps`) on its scene, with its own program
(``parser="gold"``), from its text with a program parser (``"default"``: the shipped parser,
which reads CLEVR-Ref+ expressions as well as questions; any registered name or checkpoint
folder; the text goes through :meth:`Reasoner.ground_many <nsreason.api.Reasoner.ground_many>`),
or from its words with the syntax-tree grounder (``parser="tree"``: :mod:`nsreason.parse.tree`,
the shipped weights or ``tree_weights``), and scores **exact-set accuracy**: the predicted
set of objects equals the referred set (the last node's
``_output``), overall and per template family (``template_filename``). With the symbolic
executor it also checks every step against the generator's ``_output``
(``step_accuracy``); object sets are compared as sets, since the generator writes some of
them (``filter_visible``) in Python's set order.

With ``predictions`` (a text file open for writing), one JSON line per expression in file
order: ``{"refexp_index", "objects": [ids], "scores": {id: score}}``, plus ``"failure"``
when the program failed on its scene.

Scenes may come in any format :func:`nsreason.scene.load_scenes` reads; CLEVR-Ref+ scenes
(with ``obj_mask``/``obj_bbox``) are read by the CLEVR loader, which derives what
``filter_visible`` needs.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import IO, Any

from ..api import Reasoner
from ..datasets.clevr.refexps import RefExp, load_refexps
from ..errors import InputError, ProgramError
from ..execute.executors import Executor, execute_pairs, get_executor
from ..execute.grounding import Grounding, check_referring, grounding_from_answer, grounding_from_tree
from ..execute.symbolic import SymbolicExecutor, decode_value
from ..parse.base import Parser, get_parser
from ..scene.graph import SceneGraph
from ..scene.io import load_scenes
from ..train.split import in_images
from .clevr import outputs_match, scene_of, scenes_by_image

__all__ = ["PARSERS", "evaluate_refexp", "steps_matching"]

PARSERS = ("gold", "default", "tree")
"""The usual values of ``parser`` (a registered parser name or a checkpoint folder works too)."""


def evaluate_refexp(
    scenes: str | Path,
    refexps: str | Path,
    *,
    parser: str | Parser = "gold",
    executor: str | Executor = "symbolic",
    limit: int | None = None,
    predictions: IO[str] | None = None,
    scene_format: str = "auto",
    images: str = "all",
    tree_weights: str | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """Ground every expression and score it (see the module docstring). Returns the report
    printed by ``nsreason eval refexp --json``: ``refexps``, ``correct``, ``accuracy``,
    ``by_family`` (``{family: {"accuracy", "refexps"}}``), ``step_accuracy`` and ``steps``
    (symbolic executor only; else None), ``failures`` and ``failure_codes``, ``seconds``
    (grounding) and ``load_seconds``; with a parser, ``program_accuracy`` (the parsed program
    equals the gold one). ``images``: ``all``, or only the expressions about even or odd
    image indices (the half a parser trained with ``nsreason train supervised --images``
    or ``nsreason train tree --images`` did not see). With a program parser, ``verify``
    has the tree grounder (``tree_weights``, default the shipped one) check each program
    (:func:`~nsreason.api.verify_grounding`); ``verify=False`` scores the parser alone."""
    in_images(0, images)  # an unknown `images` is an error before anything is loaded
    tree = parser == "tree"
    runner = get_executor(executor)  # an unknown name fails before anything is loaded
    symbolic = runner if type(runner) is SymbolicExecutor and not tree else None
    verifier = (tree_weights or "tree") if verify else None
    reasoner = None if parser == "gold" or tree else Reasoner(get_parser(parser), runner, verifier=verifier)
    t0 = time.perf_counter()
    jobs = [(r, s) for r, s in _load_jobs(scenes, refexps, limit, scene_format) if in_images(r.image_index, images)]
    load_seconds = time.perf_counter() - t0

    start = time.perf_counter()
    if tree:
        groundings = _tree_groundings(jobs, tree_weights)
    elif reasoner is None:
        answers = execute_pairs(runner, [(r.program, s) for r, s in jobs], trace=symbolic is None)
        groundings = [grounding_from_answer(a, s) for a, (_, s) in zip(answers, jobs)]
    else:
        groundings = reasoner.ground_many([(s, r.text) for r, s in jobs], trace=symbolic is None)
    seconds = time.perf_counter() - start

    correct = exact_programs = 0
    failure_codes: Counter[str] = Counter()
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    steps_total = steps_ok = 0
    has_outputs = (reasoner is None and symbolic is not None and bool(jobs)
                   and all(r.outputs is not None for r, _ in jobs))
    for (r, scene), g in zip(jobs, groundings):
        positions = sorted(scene.index.ids.index(o) for o in g.objects)
        right = g.failure is None and r.objects is not None and positions == r.objects
        if reasoner is not None and g.program is not None and r.program is not None:
            exact_programs += g.program == r.program
        correct += right
        family = r.family or "unknown"
        per[family][0] += right
        per[family][1] += 1
        if g.failure is not None:
            failure_codes[g.failure.code] += 1
        if has_outputs and symbolic is not None:
            ok, total = steps_matching(symbolic, r, scene)
            steps_ok += ok
            steps_total += total
        if predictions is not None:
            predictions.write(json.dumps(_prediction(r, g)) + "\n")
    n = len(jobs)
    return {
        "parser": parser if isinstance(parser, str) else repr(parser),
        "executor": None if tree else executor if isinstance(executor, str) else repr(executor),
        **({"weights": tree_weights or "shipped"} if tree else {}),
        **({"verified_by": None if verifier is None else f"tree:{tree_weights or 'shipped'}"}
           if reasoner is not None else {}),
        "images": images,
        "refexps": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "by_family": {k: {"accuracy": c / t, "refexps": t} for k, (c, t) in sorted(per.items())},
        "program_accuracy": exact_programs / n if reasoner is not None and n else None,
        "step_accuracy": steps_ok / steps_total if has_outputs and steps_total else None,
        "steps": steps_total if has_outputs else None,
        "failures": sum(failure_codes.values()),
        "failure_codes": dict(failure_codes),
        "seconds": seconds,
        "refexps_per_second": n / seconds if seconds > 0 else None,
        "load_seconds": load_seconds,
    }


def steps_matching(executor: SymbolicExecutor, r: RefExp, scene: SceneGraph) -> tuple[int, int]:
    """(steps whose output equals the generator's ``_output``, steps with an ``_output``)
    for one expression; object sets compared as sets. A program that fails matches up to
    the failing step."""
    expected = r.outputs or []
    compiled = executor.compile(r.program)
    if compiled.invalid is not None:
        return 0, len(expected)
    try:
        outs, _, _ = executor.run_all(compiled, scene.index)
    except Exception:  # noqa: BLE001  a failing step: count what ran before it
        outs = []
    ok = 0
    for k, (raw, want) in enumerate(zip(outs, expected)):
        ours = decode_value(raw, compiled.kinds[k], scene.index)
        if compiled.kinds[k] == "object_set" and isinstance(want, list) and isinstance(ours, list):
            ok += sorted(ours) == sorted(want)
        else:
            ok += outputs_match(ours, want)
    return ok, len(expected)


def _load_jobs(scenes: str | Path, refexps: str | Path, limit: int | None,
               scene_format: str) -> list[tuple[RefExp, SceneGraph]]:
    by_image = scenes_by_image(load_scenes(scenes, scene_format), scenes)
    rs = load_refexps(refexps)
    if limit is not None:
        rs = rs[: max(limit, 0)]
    jobs = []
    for i, r in enumerate(rs):
        scene = scene_of(by_image, r.image_index, scenes, f"refexps[{i}].image_index", refexps)
        try:
            check_referring(r.program)  # e.g. a program ending in a count: not a referring expression
        except ProgramError as err:
            raise InputError(err.message, path=f"refexps[{i}].program", source=str(refexps)) from None
        scene.index  # noqa: B018  build the index now, not while timing
        jobs.append((r, scene))
    return jobs


def _prediction(r: RefExp, g: Grounding) -> dict[str, Any]:
    row: dict[str, Any] = {
        "refexp_index": r.refexp_index,
        "objects": list(g.objects),
        "scores": {str(k): round(v, 6) for k, v in g.scores.items()},
    }
    if g.failure is not None:
        row["failure"] = str(g.failure)
    return row


def _tree_groundings(jobs: list[tuple[RefExp, SceneGraph]], weights: str | None) -> list[Grounding]:
    """Each expression's words grounded by the tree grounder (``parser="tree"``): trees
    built in one spaCy batch, scene tensors made once a scene."""
    from ..parse.tree import BuildError, TreeGrounder, build_tree_from_tokens, scene_tensors, tokens_many

    grounder = TreeGrounder.load(weights)
    toks = tokens_many([r.text for r, _ in jobs])
    tensors: dict[int, Any] = {}
    out = []
    for (r, scene), t in zip(jobs, toks):
        key = id(scene)
        if key not in tensors:
            tensors[key] = scene_tensors(scene)
        try:
            tree = build_tree_from_tokens(t)
        except BuildError:
            tree = None  # ground() rebuilds it and reports the failure
        tg = grounder.ground(scene, r.text, tree=tree, tensors=tensors[key])
        out.append(grounding_from_tree(tg, scene.id, trace=False))
    return out
