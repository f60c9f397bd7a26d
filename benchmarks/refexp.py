"""CLEVR-Ref+ referring expressions grounded from their words, held out by scene: the
program parser (``default``) and the syntax-tree grounder (``tree``) side by side.

    .venv/bin/python benchmarks/refexp.py [--parser default] [--parser tree] [--weights DIR]
        [--images odd] [--json PATH]

Setting: every expression of the ``--images`` half (default ``odd``) of
``clevr-ref+/CLEVR-Ref+_val_refexps.json`` is grounded from its text alone, through
``nsreason eval refexp --parser P --images odd``; the score is exact-set accuracy (the
predicted objects equal the referred set), overall and per template family.

* ``default``: the shipped program parser (``nsreason/parse/weights/clevr``) parses the
  text to a program, run by the symbolic executor. Its continued training (``make
  parser-continue``: ``nsreason train supervised --images even``) used the expressions of
  the even scenes only.
  Scored twice: as ``Reasoner.ground`` runs it, each program checked by the tree grounder
  (the parser's next candidate that names the tree grounder's objects replaces a program
  that does not: ``verify_grounding`` in nsreason/api.py; column ``default``), and the
  parser alone (``--no-verify``; column ``default-alone``).
* ``tree``: the syntax-tree grounder (``--weights``, default the shipped
  ``nsreason/parse/weights/tree``, trained by ``make tree`` = ``nsreason train tree --images
  even``). Weights trained on the odd half are scored with ``--weights DIR --images even``.

Any other ``--parser`` value is a parser checkpoint folder. Data from ../shared/data (or
NSREASON_SHARED_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SCENES = DATA / "clevr-ref+" / "CLEVR-Ref+_val_scenes.json"
REFEXPS = DATA / "clevr-ref+" / "CLEVR-Ref+_val_refexps.json"


def _trained_on(parser: str, weights: str | None) -> str:
    """Which half of the val scenes the parser or grounder was trained on ('?' if unknown)."""
    if parser == "tree":
        from nsreason.parse.tree import SHIPPED_TREE

        config = json.loads(((Path(weights) if weights else SHIPPED_TREE) / "config.json").read_text())
        return str(config.get("training", {}).get("images", "?"))
    from nsreason.parse.base import SHIPPED

    folder = SHIPPED / "clevr" if parser in ("default", "clevr") else Path(parser)
    config = json.loads((folder / "config.json").read_text())
    continued = config.get("training", {}).get("continued") or [{}]
    return str(continued[-1].get("images", "?"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parser", action="append", default=None,
                    help="default, tree, or a parser checkpoint folder (repeatable; default: default and tree)")
    ap.add_argument("--weights", default=None, help="tree grounder folder (default: shipped)")
    ap.add_argument("--images", default="odd", choices=["even", "odd", "all"],
                    help="score the expressions of these scenes (default odd: held out from the shipped models)")
    ap.add_argument("--json", default=None, help="write the reports as JSON ('-': stdout)")
    args = ap.parse_args(argv)

    from nsreason.eval.refexp import evaluate_refexp

    asked = args.parser or ["default", "tree"]
    parsers = [c for p in asked for c in ([p] if p == "tree" else [p, f"{p}-alone"])]
    reports, trained = {}, {}
    for p in parsers:
        name = p.removesuffix("-alone")
        reports[p] = evaluate_refexp(SCENES, REFEXPS, parser=name, images=args.images, tree_weights=args.weights,
                                     verify=not p.endswith("-alone"))
        halves = [_trained_on(name, args.weights)]
        if name != "tree" and not p.endswith("-alone"):
            halves.append(_trained_on("tree", args.weights))  # the checking tree grounder's
        trained[p] = "+".join(halves)
    info = machine_info()
    print("CLEVR-Ref+ exact-set accuracy from the expressions' words")
    for p in parsers:
        held = not set(trained[p].split("+")) & {"all", args.images, "?"}
        what = ("parser + checking tree grounder" if "+" in trained[p] else "")
        print(f"  {p}: trained on the {trained[p]} image_index scenes {what}; "
              f"{'held out: no scene seen in training' if held else 'NOT known to be held out'}")
    n = reports[parsers[0]]["refexps"]
    print(f"scored: the {n} expressions of the {args.images} scenes of {REFEXPS.name}")
    extra = (" " + " ".join(f"--parser {p}" for p in asked) if args.parser else "") + (
        f" --weights {args.weights}" if args.weights else "")
    print(f"command: .venv/bin/python benchmarks/refexp.py{extra} --images {args.images}")
    print(machine_line(info))
    print()
    print(f"{'family':<20} {'expressions':>11} " + " ".join(f"{p[-12:]:>12}" for p in parsers))
    for family in reports[parsers[0]]["by_family"]:
        row = reports[parsers[0]]["by_family"][family]
        cells = " ".join(f"{reports[p]['by_family'].get(family, {}).get('accuracy', 0):>12.2%}" for p in parsers)
        print(f"{family:<20} {row['refexps']:>11} {cells}")
    print(f"{'all':<20} {n:>11} " + " ".join(f"{reports[p]['accuracy']:>12.2%}" for p in parsers))
    for p in parsers:
        r = reports[p]
        programs = f"; exact programs {r['program_accuracy']:.2%}" if r.get("program_accuracy") is not None else ""
        print(f"{p}: {r['correct']} right, failures {r['failures']} {r['failure_codes']}{programs}; "
              f"{r['refexps_per_second']:.0f} expressions/s")
    if args.json:
        write_json(json.dumps({"reports": reports, "trained_on": trained, "images": args.images,
                               "machine": info}, indent=1), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
