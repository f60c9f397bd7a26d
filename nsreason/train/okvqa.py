"""``nsreason train okvqa``: fit an OK-VQA answer model once on every question given and
save it (:class:`~nsreason.retrieve.answer_model.AnswerModel`: safetensors and JSON).

The model answers questions about detection scenes (one object per detected label); it is
evaluated on other questions with ``nsreason eval okvqa --model DIR`` and answers through
``Reasoner(okvqa_model=DIR)``. The saved ``config.json`` records its provenance: the data
files (size and SHA-256), how many questions and images, which detectors' labels the scenes
held, the seed, the settings and the command.
"""

from __future__ import annotations

import datetime
import hashlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..datasets.okvqa import (
    detection_scene,
    load_okvqa_answers,
    load_okvqa_detections,
    load_okvqa_questions,
    okvqa_scenes,
)
from ..errors import InputError
from ..okvqa.answerer import KbPlugin, TrainingExample
from ..retrieve.answer_model import AnswerModel

__all__ = ["MODEL_ANSWERERS", "train_okvqa"]

MODEL_ANSWERERS = ("kb", "kb-without-kb")
"""The answerers ``nsreason train okvqa`` can save: ``kb`` (KB candidates from ``kb``) and
``kb-without-kb`` (without them)."""


def _file_info(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    data = p.read_bytes()
    return {"path": str(path), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _kb_key(specs: Sequence[str] | None) -> str | None:
    """The content key of the default KB when the model's KB candidates came from it alone
    (the KB a loaded model must retrieve from to see what it was fitted on), else None."""
    if list(specs or []) != ["default"]:
        return None
    from ..kb.default import default_kb_key

    return default_kb_key()


def train_okvqa(questions: str | Path, answers: str | Path, detections: Sequence[str | Path], out: str | Path, *,
                answerer: str = "kb", kb: Sequence[str] = ("default",), seed: int = 0, stack_folds: int = 4,
                command: str | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fit the ``answerer`` (:data:`MODEL_ANSWERERS`) on every question of ``questions``
    with its ``answers`` and its image's ``detections`` (files merged per image), save it
    to ``out`` and return the report (what ``config.json`` records under ``provenance``).

    ``kb``: the KB specs of the ``kb`` answerer's candidates; ``seed``: the stacking's
    image folds and the reranker; ``command``: recorded as given (default: this process's
    command line)."""
    if answerer not in MODEL_ANSWERERS:
        raise InputError(f"expected an answerer of {list(MODEL_ANSWERERS)}, got {answerer!r}", path="--answerer")
    if not detections:
        raise InputError("expected at least one detections file", path="--detections")
    say = log or (lambda line: None)
    t0 = time.perf_counter()
    qs = load_okvqa_questions(questions)
    gold = load_okvqa_answers(answers)
    found = [load_okvqa_detections(p) for p in detections]
    scenes = okvqa_scenes(*found)
    examples = []
    for i, q in enumerate(qs):
        if q.question_id not in gold:
            raise InputError(f"question {q.question_id} has no answers in {answers}",
                             path=f"questions[{i}].question_id", source=str(questions))
        scene = scenes.get(q.image_id) or detection_scene(q.image_id, ())
        examples.append(TrainingExample(q.question_id, q.question, scene, gold[q.question_id]))
    images = {q.image_id for q in qs}
    sources: Counter[str] = Counter()
    for image in images:
        scene = scenes.get(image)
        for source in {o.get("source") for o in scene.objects} if scene is not None else ():
            sources[str(source)] += 1
    load_seconds = time.perf_counter() - t0
    say(f"{len(qs)} questions on {len(images)} images; labels per detector: {dict(sources)}")
    plugin = KbPlugin(kb=list(kb) if answerer == "kb" else None, seed=seed, stack_folds=stack_folds, log=say)
    t0 = time.perf_counter()
    model: AnswerModel = plugin.fit(examples)
    fit_seconds = time.perf_counter() - t0
    provenance = {
        "command": command if command is not None else " ".join(["nsreason", *sys.argv[1:]]),
        "questions": _file_info(questions), "answers": _file_info(answers),
        "detections": [_file_info(p) for p in detections],
        "detection_sources": dict(sorted(sources.items())),
        "n_questions": len(qs), "n_images": len(images),
        "images_without_detections": sum(1 for i in images if i not in scenes),
        "kb_key": _kb_key(model.config.get("kb")),
        "seed": seed, "fit_seconds": round(fit_seconds, 1), "load_seconds": round(load_seconds, 1),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    from .. import __version__

    model.config["provenance"] = {**provenance, "nsreason": __version__}
    model.save(out)
    return {"out": str(out), **model.config}
