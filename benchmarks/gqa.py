"""GQA-format questions on the 100 shared real GQA val scene graphs: accuracy per question
kind of the text parser (``--parser default``: the ``scene_graph`` parser reading the
question's text, grounded on the graph) and of the gold programs (``--parser gold``).

    .venv/bin/python benchmarks/gqa.py [--scenes ../shared/data/gqa/gqa_val_scene_graphs_100.json]
        [--graphs 50:100] [--per-kind 3] [--seed 0] [--json PATH]

Data: questions written by ``python -m nsreason.datasets.gqa.generate --graphs 50:100
--per-kind 3 --seed 0`` (GQA's format; answers read off the graphs). The parser and the
grounder were developed on graphs 0-49 only; graphs 50-99 are held out (by image). The
gold column is a consistency check: the generator keeps only questions whose converted
gold program gives the answer, so it is 100% by construction.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default=str(REPO.parent / "shared/data/gqa/gqa_val_scene_graphs_100.json"))
    ap.add_argument("--graphs", default="50:100")
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the reports here")
    args = ap.parse_args()

    from nsreason.datasets.gqa.generate import _slice, generate
    from nsreason.eval.gqa import evaluate_gqa

    questions = generate(args.scenes, _slice(args.graphs), per_kind=args.per_kind, seed=args.seed)
    kind_of = {qid: q["kind"] for qid, q in questions.items()}
    reports = {}
    for parser in ("default", "gold"):
        import io

        rows = io.StringIO()
        report = evaluate_gqa(args.scenes, questions, parser=parser, predictions=rows)
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for line in rows.getvalue().splitlines():
            row = json.loads(line)
            k = kind_of[row["questionId"]]
            per[k][0] += row["prediction"] == questions[row["questionId"]]["answer"]
            per[k][1] += 1
        report["by_kind"] = {k: {"accuracy": c / t, "questions": t} for k, (c, t) in sorted(per.items())}
        reports[parser] = report
    print(f"GQA-format questions, graphs {args.graphs} of {Path(args.scenes).name} (held out: "
          f"development used graphs 0-49), generator seed {args.seed}, {args.per_kind} per kind "
          f"and graph; symbolic executor")
    print(f"command: .venv/bin/python benchmarks/gqa.py --graphs {args.graphs} --per-kind "
          f"{args.per_kind} --seed {args.seed}")
    print(f"{'kind':<18}{'questions':>10}{'default (text)':>16}{'gold':>8}")
    for k, v in reports["default"]["by_kind"].items():
        print(f"{k:<18}{v['questions']:>10}{v['accuracy']:>16.1%}"
              f"{reports['gold']['by_kind'][k]['accuracy']:>8.1%}")
    print(f"{'all':<18}{reports['default']['questions']:>10}{reports['default']['accuracy']:>16.1%}"
          f"{reports['gold']['accuracy']:>8.1%}")
    print("failures (default):", {k: len(v) for k, v in reports["default"]["failures"].items()})
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
