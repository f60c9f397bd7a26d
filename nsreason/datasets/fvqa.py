"""FVQA (Fact-based VQA, Wang et al. 2018): questions, per-image concepts, answer matching.

Files as in ``../shared/data/fvqa`` (see its README): ``questions_*.json`` maps a question
id to ``{question, answer, ans_source (image|kb), fact [id], fact_triple [head, relation,
tail], img_file, ...}``; ``concepts_*.json`` maps an image file to the labels of what is
in it (the *scene* of that image: the concepts FVQA's annotators grounded, and in the
``_cluttered`` files four distractors more).

An answer is right when it equals FVQA's answer up to case, punctuation, a leading article
and the number of the last word ("A computer." = "computer", "giraffes" = "giraffe"):
FVQA answers are free text written by annotators, often with an article the fact lacks.

>>> answers_match("A computer.", "computer"), answers_match("giraffes", "Giraffe")
(True, True)
>>> answers_match("bus", "train")
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsonio import read_json

__all__ = ["FvqaQuestion", "answers_match", "load_fvqa_concepts", "load_fvqa_questions"]

SIDE = {"image": "scene", "kb": "kb"}
"""FVQA's ``ans_source`` → the candidate side that answers (:mod:`nsreason.retrieve`)."""


@dataclass(frozen=True, slots=True)
class FvqaQuestion:
    question_id: str
    question: str
    answer: str
    image: str
    side: str  # "scene" (the answer is in the image) or "kb" (it comes from the fact)
    fact_ids: tuple[str, ...]
    fact_triple: tuple[str, str, str]


def _field(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise InputError(f"expected {key!r} as a non-empty {kind.__name__}, got {value!r}", path=where)
    return value


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def load_fvqa_questions(path: str | Path) -> list[FvqaQuestion]:
    """The questions of an FVQA ``questions_*.json`` file, in file order."""
    data = read_json(path)
    if not isinstance(data, Mapping):
        raise InputError("expected an object mapping question ids to questions", source=str(path))
    out = []
    for qid, q in data.items():
        where = str(qid)
        try:
            if not isinstance(q, Mapping):
                raise InputError(f"expected an object, got {type(q).__name__}", path=where)
            source = _field(q, "ans_source", str, where)
            if source not in SIDE:
                raise InputError(f"expected 'ans_source' image or kb, got {source!r}", path=where)
            facts = _field(q, "fact", list, where)
            if not facts or not all(_text(f) for f in facts):
                raise InputError(f"expected 'fact' as a non-empty list of fact ids, got {facts!r}",
                                 path=where)
            triple = _field(q, "fact_triple", list, where)
            if len(triple) != 3 or not all(_text(t) for t in triple):
                raise InputError(f"expected 'fact_triple' as [head, relation, tail], got {triple!r}",
                                 path=where)
            out.append(FvqaQuestion(str(qid), _field(q, "question", str, where).strip(),
                                    _field(q, "answer", str, where).strip(),
                                    _field(q, "img_file", str, where), SIDE[source],
                                    tuple(facts), tuple(triple)))  # type: ignore[arg-type]
        except InputError as err:
            raise err.with_source(str(path)) from None
    return out


def load_fvqa_concepts(path: str | Path) -> dict[str, list[str]]:
    """image file → its concept labels (the image's scene), from ``concepts_*.json``."""
    data = read_json(path)
    if not isinstance(data, Mapping):
        raise InputError("expected an object mapping image files to lists of labels", source=str(path))
    out = {}
    for image, labels in data.items():
        if not isinstance(labels, list) or not all(_text(x) for x in labels):
            raise InputError(f"expected a list of non-empty label strings, got {labels!r}",
                             path=str(image), source=str(path))
        out[str(image)] = list(labels)
    return out


def answers_match(predicted: str, gold: str) -> bool:
    """Whether two answers agree up to case, punctuation, a leading article and the number
    of the last word (see the module docstring)."""
    from ..retrieve.link import variants

    def canonical(text: str) -> set[str]:
        forms = variants(text)
        bare = [f for f in forms if not f.startswith(("a ", "an ", "the "))] or forms
        return {bare[0], *bare[1:2]}  # as written (no article), and its first singular

    return bool(canonical(predicted) & canonical(gold))
