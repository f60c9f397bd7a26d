"""OK-VQA files: questions, answers, detector outputs per image, MAVEx knowledge types.

* questions (:func:`load_okvqa_questions`): the official
  ``OpenEnded_mscoco_<split>_questions.json``, ``{"questions": [{"image_id",
  "question", "question_id"}, ...]}``.
* answers (:func:`load_okvqa_answers`), in either of two shapes:

  - the official annotations, ``{"annotations": [{"question_id", "image_id",
    "answers": [{"answer": ...}, ...], "question_type": ...}]}``: the humans' answers
    as given, counted;
  - soft scores, ``[{"question_id", "img_id": "COCO_train2014_000000051606",
    "label": {"pony tail": 1, "braid": 0.667}, "class": 4, "sent": ...}]``: each score
    ``min(1, n/3)`` is turned back into the count *n* of humans. OK-VQA collected 5
    answers per question and repeated each twice to make VQA's 10, so counts are even:
    0.667 is 2 humans, 1 is at least 4 (the official accuracy is the same for any count
    from 4 up, so 4 is used). ``repeats=1`` reads plain VQA soft scores (0.333 -> 1,
    0.667 -> 2, 1 -> 3, where 3 is a lower bound).

  OK-VQA's ``question_type`` / ``class`` is its knowledge category (an index into its 11
  categories), kept as :attr:`OkvqaAnswers.category`.
* detections (:func:`load_okvqa_detections`): ``{"<image id>": [label, ...]}`` (or
  entries ``{"label": ..., "score": ...}``), one file per detector: COCO objects,
  Places365 scenes, ImageNet top-3. :func:`detection_scene` makes a
  :class:`~nsreason.scene.SceneGraph` of one image: one object per detected label.
* MAVEx labels (:func:`load_mavex_labels`): ``[{"question_id", "image_id", "question",
  "knowledge_type": "kb" | "common_sense" | "answer_in_image",
  "question_is_unambiguous", "image_is_needed"}]``.

Every loader takes a path or the already-parsed JSON value, and a malformed file raises an
:class:`~nsreason.errors.InputError` naming the file, the place (``questions[3].image_id``)
and what was expected.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsonio import read_json
from ..retrieve.vqa_answers import accuracy_from_counts, soft_score
from ..scene.graph import Attribute, SceneGraph, SceneObject

__all__ = [
    "KNOWLEDGE_TYPES",
    "Detection",
    "KnowledgeLabel",
    "OkvqaAnswers",
    "OkvqaQuestion",
    "detection_scene",
    "load_mavex_labels",
    "load_okvqa_answers",
    "load_okvqa_detections",
    "load_okvqa_questions",
    "okvqa_scenes",
]

KNOWLEDGE_TYPES = ("kb", "common_sense", "answer_in_image")
"""MAVEx's knowledge types: facts from a knowledge base, common sense, or the answer is
visible in the image."""

Source = str | Path | Any


@dataclass(frozen=True, slots=True)
class OkvqaQuestion:
    question_id: int
    image_id: int
    question: str


@dataclass(frozen=True, slots=True)
class OkvqaAnswers:
    """The humans' answers to one question: how many of ``annotators`` gave each."""

    question_id: int
    image_id: int
    counts: Mapping[str, int]
    annotators: int = 10
    category: str | int | None = None
    question: str | None = None

    def accuracy(self, prediction: str | None) -> float:
        """The official VQA accuracy of ``prediction`` (leave-one-human-out averaged)."""
        return accuracy_from_counts(prediction, self.counts, self.annotators)

    def soft_score(self, prediction: str | None) -> float:
        """The simplified ``min(1, n/3)``."""
        return soft_score(prediction, self.counts, self.annotators)

    @property
    def best(self) -> str:
        """The answer most humans gave (the first listed on a tie)."""
        return max(self.counts, key=lambda a: self.counts[a])


@dataclass(frozen=True, slots=True)
class Detection:
    """One label a detector gave an image; ``rank`` is its place in the detector's list
    (0 first), ``score`` its confidence when the file has one."""

    label: str
    source: str
    rank: int
    score: float | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeLabel:
    """MAVEx's annotation of one question."""

    question_id: int
    image_id: int
    knowledge_type: str
    question_is_unambiguous: bool
    image_is_needed: bool
    question: str = field(default="", compare=False)


# -- helpers ------------------------------------------------------------------------------
def _read(source: Source) -> tuple[Any, str | None]:
    if isinstance(source, (str, Path)):
        return read_json(source), str(source)
    return source, None


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected an integer id, got {value!r}", path=path)
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {_short(value)}", path=path)
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"expected true or false, got {_short(value)}", path=path)
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _entry(item: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise InputError(f"expected an object, got {type(item).__name__}", path=path)
    return item


def _field(item: Mapping[str, Any], name: str, path: str) -> Any:
    if name not in item:
        raise InputError(
            f"missing field {name!r} (the entry has {sorted(map(str, item))[:8]})", path=path
        )
    return item[name]


def _list(data: Any, what: str, key: str | None = None) -> list[Any]:
    """``data`` itself (``key`` None) or ``data[key]``, which must be a list."""
    if key is not None:
        if not isinstance(data, Mapping) or key not in data:
            got = f"keys {sorted(map(str, data))[:8]}" if isinstance(data, Mapping) else type(data).__name__
            raise InputError(f"expected {what}: an object with a {key!r} list, got {got}")
        data = data[key]
    if not isinstance(data, list):
        raise InputError(f"expected {what} (a list), got {type(data).__name__}", path=key)
    return data


def _image_id(value: Any, path: str) -> int:
    """An integer, a string of digits, or a COCO file stem ``COCO_train2014_000000051606``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"(?:COCO_[A-Za-z]+\d*_)?(\d{1,18})", value)
        if m:
            return int(m.group(1))
    raise InputError(
        f"expected an image id (an integer, or a COCO name like 'COCO_train2014_000000051606'), "
        f"got {_short(value)}",
        path=path,
    )


def _with_source(load):
    """Let ``load`` (which reads parsed JSON) take a path too; errors name the file."""

    @functools.wraps(load)
    def wrapped(source: Source, *args: Any, **kwargs: Any):
        data, origin = _read(source)
        try:
            return load(data, *args, **kwargs)
        except InputError as err:
            raise (err.with_source(origin) if origin and not err.source else err) from None

    return wrapped


def _entries(items: list[Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any], int]]:
    """``(path, entry, question id)`` of each entry; ids must be unique."""
    seen: dict[int, int] = {}
    for i, item in enumerate(items):
        path = f"{prefix}[{i}]"
        item = _entry(item, path)
        qid = _int(_field(item, "question_id", path), f"{path}.question_id")
        if qid in seen:
            raise InputError(f"question_id {qid} appears twice (entries {seen[qid]} and {i})",
                             path=f"{path}.question_id")
        seen[qid] = i
        yield path, item, qid


# -- questions ----------------------------------------------------------------------------
@_with_source
def load_okvqa_questions(data: Any) -> list[OkvqaQuestion]:
    """The questions of an official questions file, in file order.

    >>> load_okvqa_questions({"questions": [
    ...     {"image_id": 51606, "question": "What is the hairstyle called?", "question_id": 516065}]})
    [OkvqaQuestion(question_id=516065, image_id=51606, question='What is the hairstyle called?')]
    """
    out = []
    for path, item, qid in _entries(_list(data, "an OK-VQA questions file", "questions"), "questions"):
        out.append(OkvqaQuestion(
            question_id=qid,
            image_id=_image_id(_field(item, "image_id", path), f"{path}.image_id"),
            question=_str(_field(item, "question", path), f"{path}.question"),
        ))
    return out


# -- answers ------------------------------------------------------------------------------
def _count_from_score(score: Any, repeats: int, path: str) -> int:
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise InputError(f"expected a soft score in [0, 1], got {_short(score)}", path=path)
    if score >= 1:
        return repeats * math.ceil(3 / repeats)  # the least count that scores 1
    for n in range(0, 3, repeats):
        if abs(score - n / 3) < 0.01:
            return n
    raise InputError(
        f"expected a soft score min(1, n/3) for a count n that is a multiple of {repeats} "
        f"({', '.join(f'{n / 3:.3f}' for n in range(0, 3, repeats))} or 1), got {score!r}"
        + (" (OK-VQA repeats each of its 5 answers twice; repeats=1 reads plain VQA scores)"
           if repeats == 2 else ""),
        path=path,
    )


@_with_source
def load_okvqa_answers(data: Any, *, repeats: int = 2) -> dict[int, OkvqaAnswers]:
    """The answers of each question, by question id: from official annotations (humans'
    answers counted) or from a soft-score file (scores turned into counts, see the module
    notes for ``repeats``).

    >>> a = load_okvqa_answers([{"question_id": 1, "img_id": "COCO_train2014_000000000009",
    ...                          "label": {"pony tail": 1, "braid": 0.667}}])
    >>> a[1].counts, a[1].image_id, a[1].accuracy("braid"), a[1].accuracy("pony tail")
    ({'pony tail': 4, 'braid': 2}, 9, 0.6, 1.0)
    """
    if repeats not in (1, 2):
        raise InputError(f"repeats must be 1 (VQA) or 2 (OK-VQA), got {repeats!r}")
    if isinstance(data, Mapping) and "annotations" in data:
        return _official_answers(_list(data, "an OK-VQA annotations file", "annotations"))
    return _soft_answers(_list(data, "an OK-VQA answers file: official annotations or soft "
                                     "scores [{question_id, img_id, label}]"), repeats)


def _official_answers(items: list[Any]) -> dict[int, OkvqaAnswers]:
    out: dict[int, OkvqaAnswers] = {}
    for path, item, qid in _entries(items, "annotations"):
        answers = _field(item, "answers", path)
        if not isinstance(answers, list) or not answers:
            raise InputError(f"expected a non-empty list of answers, got {_short(answers)}",
                             path=f"{path}.answers")
        counts: dict[str, int] = {}
        for j, ans in enumerate(answers):
            apath = f"{path}.answers[{j}]"
            text = _str(_field(_entry(ans, apath), "answer", apath), f"{apath}.answer").strip()
            counts[text] = counts.get(text, 0) + 1
        category = item.get("question_type")
        if category is not None and (isinstance(category, bool) or not isinstance(category, (int, str))):
            raise InputError(f"expected a string, got {_short(category)}", path=f"{path}.question_type")
        out[qid] = OkvqaAnswers(
            question_id=qid,
            image_id=_image_id(_field(item, "image_id", path), f"{path}.image_id"),
            counts=counts,
            annotators=len(answers),
            category=category,
        )
    return out


def _soft_answers(items: list[Any], repeats: int) -> dict[int, OkvqaAnswers]:
    out: dict[int, OkvqaAnswers] = {}
    for path, item, qid in _entries(items, ""):
        label = _field(item, "label", path)
        if not isinstance(label, Mapping):
            raise InputError(f"expected an object {{answer: soft score}}, got {_short(label)}",
                             path=f"{path}.label")
        counts = {}
        for answer, score in label.items():
            n = _count_from_score(score, repeats, f"{path}.label[{answer!r}]")
            if n:
                counts[_str(answer, f"{path}.label").strip()] = n
        if sum(counts.values()) > 10:
            raise InputError(f"the scores add up to more than 10 humans ({sum(counts.values())})",
                             path=f"{path}.label")
        category = item.get("class")
        if category is not None and (isinstance(category, bool) or not isinstance(category, (int, str))):
            raise InputError(f"expected an integer category, got {_short(category)}", path=f"{path}.class")
        question = item.get("sent")
        out[qid] = OkvqaAnswers(
            question_id=qid,
            image_id=_image_id(_field(item, "img_id", path), f"{path}.img_id"),
            counts=counts,
            annotators=10,
            category=category,
            question=None if question is None else _str(question, f"{path}.sent"),
        )
    return out


# -- detections ---------------------------------------------------------------------------
_SOURCE_NAMES = {"coco": "coco", "places": "places", "imagenet": "imagenet"}


def _detector_name(path: str | None) -> str:
    stem = Path(path).stem.lower() if path else ""
    for key, name in _SOURCE_NAMES.items():
        if key in stem:
            return name
    return stem or "detector"


def load_okvqa_detections(
    source: Source, *, detector: str | None = None
) -> dict[int, tuple[Detection, ...]]:
    """Detector labels by image id. ``detector`` names the source ("coco", "places",
    "imagenet"); by default it comes from the file name (``detected_places.json`` ->
    "places").

    >>> d = load_okvqa_detections({"51606": ["tennis racket", {"label": "person", "score": 0.9}]},
    ...                           detector="coco")
    >>> [(x.label, x.rank, x.score) for x in d[51606]]
    [('tennis racket', 0, None), ('person', 1, 0.9)]
    """
    data, origin = _read(source)
    name = detector or _detector_name(origin)
    try:
        return _detections(data, name)
    except InputError as err:
        raise (err.with_source(origin) if origin and not err.source else err) from None


def _detections(data: Any, detector: str) -> dict[int, tuple[Detection, ...]]:
    if not isinstance(data, Mapping):
        raise InputError(
            "expected detections: an object {image id: [label, ...]}, got " + type(data).__name__
        )
    out: dict[int, tuple[Detection, ...]] = {}
    for key, labels in data.items():
        path = f"[{key!r}]"
        image_id = _image_id(key, path)
        if image_id in out:
            raise InputError(f"image {image_id} is listed twice", path=path)
        if not isinstance(labels, list):
            raise InputError(f"expected a list of labels, got {_short(labels)}", path=path)
        found = []
        for rank, entry in enumerate(labels):
            epath = f"{path}[{rank}]"
            score = None
            if isinstance(entry, Mapping):
                label = _str(_field(entry, "label", epath), f"{epath}.label")
                score = entry.get("score")
                if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                                          or not 0 <= score <= 1):
                    raise InputError(f"expected a score in [0, 1], got {_short(score)}",
                                     path=f"{epath}.score")
            elif isinstance(entry, str):
                label = entry
            else:
                raise InputError(
                    f"expected a label string or {{\"label\", \"score\"}}, got {_short(entry)}",
                    path=epath,
                )
            if not label.strip():
                raise InputError("expected a label, got an empty string", path=epath)
            found.append(Detection(label, detector, rank, None if score is None else float(score)))
        out[image_id] = tuple(found)
    return out


def _readable(label: str) -> tuple[str, str | None]:
    """Places365's ``volleyball_court/outdoor`` -> ("volleyball court", "outdoor")."""
    head, _, qualifier = label.partition("/")
    return head.replace("_", " ").strip(), qualifier.replace("_", " ").strip() or None


def detection_scene(image_id: int, detections: Iterable[Detection]) -> SceneGraph:
    """The scene of one image: one object per detected label, no relations.

    An object's ``name`` is the label made readable (underscores to spaces, a Places365
    qualifier such as ``/outdoor`` moved to the attribute ``qualifier``), its attribute
    ``source`` says which detector gave it, ``confidence`` is the detector's score (None
    when the file has none), ``extra`` keeps the raw ``label`` and its ``rank``. Object
    ids are ``"<source>:<rank>"``.

    >>> s = detection_scene(7, [Detection("kennel/outdoor", "places", 0)])
    >>> o = s.object("places:0"); o.name, o.get("source"), o.get("qualifier")
    ('kennel', 'places', 'outdoor')
    """
    objects = []
    for d in detections:
        name, qualifier = _readable(d.label)
        attrs = [Attribute(d.source, key="source")]
        if qualifier:
            attrs.append(Attribute(qualifier, key="qualifier"))
        objects.append(SceneObject(
            f"{d.source}:{d.rank}", name or d.label, tuple(attrs), confidence=d.score,
            extra={"label": d.label, "rank": d.rank},
        ))
    return SceneGraph(objects, id=image_id, meta={"image_id": image_id})


def okvqa_scenes(*detections: Mapping[int, Iterable[Detection]]) -> dict[int, SceneGraph]:
    """One scene per image from any number of detection maps (objects of each map in the
    order given)."""
    merged: dict[int, list[Detection]] = {}
    for found in detections:
        for image_id, labels in found.items():
            merged.setdefault(image_id, []).extend(labels)
    return {image_id: detection_scene(image_id, labels) for image_id, labels in merged.items()}


# -- MAVEx --------------------------------------------------------------------------------
@_with_source
def load_mavex_labels(data: Any) -> dict[int, KnowledgeLabel]:
    """MAVEx's knowledge-type annotations, by question id."""
    out: dict[int, KnowledgeLabel] = {}
    for path, item, qid in _entries(_list(data, "MAVEx knowledge-type labels"), ""):
        kind = _field(item, "knowledge_type", path)
        if kind not in KNOWLEDGE_TYPES:
            raise InputError(f"expected one of {list(KNOWLEDGE_TYPES)}, got {_short(kind)}",
                             path=f"{path}.knowledge_type")
        out[qid] = KnowledgeLabel(
            question_id=qid,
            image_id=_image_id(_field(item, "image_id", path), f"{path}.image_id"),
            knowledge_type=kind,
            question_is_unambiguous=_bool(
                _field(item, "question_is_unambiguous", path), f"{path}.question_is_unambiguous"),
            image_is_needed=_bool(_field(item, "image_is_needed", path), f"{path}.image_is_needed"),
            question=_str(item.get("question", ""), f"{path}.question"),
        )
    return out
