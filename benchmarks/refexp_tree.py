"""CLEVR-Ref+ referring expressions grounded by the syntax-tree grounder, held out by scene.

    .venv/bin/python benchmarks/refexp_tree.py [--weights DIR] [--images odd] [--json PATH]

Setting: the grounder in ``--weights`` (default: the shipped weights,
``nsreason/parse/weights/tree``, trained by ``make tree`` = ``nsreason train tree --images
even`` on the expressions of the even ``image_index`` scenes of
``clevr-ref+/CLEVR-Ref+_val_refexps.json``) grounds every expression of the ``--images``
half (default ``odd``: never seen in training) from its words alone; the score is
exact-set accuracy (the objects at root score ≥ 0.5 equal the referred set), overall and
per template family, through ``nsreason eval refexp --parser tree``. Weights trained on the
odd half (``nsreason train tree --images odd --out DIR``) are scored with ``--weights DIR
--images even``. Data from ../shared/data (or NSREASON_SHARED_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SCENES = DATA / "clevr-ref+" / "CLEVR-Ref+_val_scenes.json"
REFEXPS = DATA / "clevr-ref+" / "CLEVR-Ref+_val_refexps.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=None, help="tree grounder folder (default: shipped)")
    ap.add_argument("--images", default="odd", choices=["even", "odd", "all"],
                    help="score the expressions of these scenes (default odd: held out from the shipped weights)")
    ap.add_argument("--json", default=None, help="write the report as JSON ('-': stdout)")
    args = ap.parse_args(argv)

    from nsreason.eval.refexp import evaluate_refexp
    from nsreason.parse.tree import SHIPPED_TREE
    from nsreason.train.split import in_images

    weights = Path(args.weights) if args.weights else SHIPPED_TREE
    trained = json.loads((weights / "config.json").read_text()).get("training", {})
    raw = json.loads(REFEXPS.read_text())
    kept = [r for r in raw["refexps"] if in_images(r["image_index"], args.images)]
    with tempfile.TemporaryDirectory() as tmp:
        half = Path(tmp) / "refexps.json"
        half.write_text(json.dumps({"refexps": kept}))
        report = evaluate_refexp(SCENES, half, parser="tree", tree_weights=str(weights))
    held_out = trained.get("images") not in (None, "all", args.images)
    info = machine_info()
    print("CLEVR-Ref+ exact-set accuracy, parser tree (words -> composition tree -> learned scorers)")
    print(f"weights: {weights} (trained on the {trained.get('images', '?')} image_index scenes, "
          f"{trained.get('epochs', '?')} epochs, seed {trained.get('seed', '?')})")
    print(f"scored: the {len(kept)} expressions of the {args.images} scenes of {REFEXPS.name} "
          f"({'held out: no scene seen in training' if held_out else 'NOT held out'})")
    print(f"command: .venv/bin/python benchmarks/refexp_tree.py "
          f"{'--weights ' + str(args.weights) + ' ' if args.weights else ''}--images {args.images}")
    print(machine_line(info))
    print()
    print(f"{'family':<20} {'expressions':>11} {'exact-set':>9}")
    for family, row in report["by_family"].items():
        print(f"{family:<20} {row['refexps']:>11} {row['accuracy']:>9.2%}")
    print(f"{'all':<20} {report['refexps']:>11} {report['accuracy']:>9.2%}")
    print(f"failures (no grounding): {report['failures']} {report['failure_codes']}; "
          f"{report['refexps_per_second']:.0f} expressions/s")
    if args.json:
        write_json(json.dumps({"report": report, "weights": str(weights), "training": trained,
                               "images": args.images, "held_out": held_out, "machine": info}, indent=1),
                   args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
