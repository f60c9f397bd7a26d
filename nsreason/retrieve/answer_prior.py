"""The answer prior: the most rewarding answer per question prefix (the "question type").

Inference code (layer 3): the OK-VQA answerers (:mod:`nsreason.okvqa`) fit it, a saved
answer model (:mod:`nsreason.retrieve.answer_model`) keeps it as JSON."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InputError
from ..parse.text import first_words
from .vqa_answers import normalize_answer

if TYPE_CHECKING:
    from ..scene.graph import SceneGraph


class HumanAnswers(Protocol):
    """What the prior learns from per question (as :class:`nsreason.datasets.okvqa.OkvqaAnswers`):
    the human answers' counts and the official accuracy of an answer."""

    counts: Mapping[str, int]

    def accuracy(self, answer: str | None) -> float: ...

__all__ = ["AnswerPrior", "question_prefix"]


def question_prefix(question: str, words: int) -> str:
    """The first ``words`` words of a question, lower-cased, punctuation dropped: the
    prior's question type, and the reranker's "what kind of thing" phrase (4 words).

    >>> question_prefix("What is the hairstyle of the blond called?", 3)
    'what is the'
    >>> question_prefix("Which breed of dog is this?", 4)
    'which breed of dog'
    """
    return first_words(question, words)


class AnswerPrior:
    """The most rewarding answer per question prefix (the "question type").

    OK-VQA has no VQA-style ``question_type`` (its ``question_type`` field is the
    knowledge category), so the type of a question is its first words, as VQA's types
    are ("what is the", "how many"). Fitting sums, for each prefix of 1 to ``max_words``
    words and for the empty prefix, the official accuracy each normalised human answer
    would have scored on each training question with that prefix. A question is answered
    with the best answer of its longest prefix that at least ``min_support`` training
    questions share (else a shorter one, at last the overall best); the score is that
    answer's mean accuracy on those training questions.

    >>> from nsreason.datasets.okvqa import OkvqaAnswers
    >>> prior = AnswerPrior(min_support=1).fit([
    ...     ("How many legs?", OkvqaAnswers(1, 1, {"4": 10})),
    ...     ("What sport is this?", OkvqaAnswers(2, 2, {"tennis": 6, "ball": 4}))])
    >>> prior.predict("How many wheels?")
    ('4', 1.0, 'how many')
    """

    def __init__(self, max_words: int = 3, min_support: int = 5) -> None:
        if max_words < 0 or min_support < 1:
            raise ValueError("max_words must be >= 0 and min_support >= 1")
        self.max_words = max_words
        self.min_support = min_support
        self._best: dict[str, tuple[str, float]] = {}

    def __repr__(self) -> str:
        return (f"AnswerPrior(max_words={self.max_words}, min_support={self.min_support}, "
                f"prefixes={len(self._best)})")

    def fit(self, examples: Iterable[tuple[str, HumanAnswers]]) -> AnswerPrior:
        """Learn from ``(question text, answers)`` pairs; returns ``self``."""
        gains: dict[str, Counter[str]] = defaultdict(Counter)
        support: Counter[str] = Counter()
        for question, answers in examples:
            candidates = {normalize_answer(a) for a in answers.counts}
            scored = [(c, answers.accuracy(c)) for c in candidates if c]
            for k in range(self.max_words + 1):
                key = question_prefix(question, k)
                if k and len(key.split()) < k:
                    break  # shorter question: its longer prefixes repeat this one
                support[key] += 1
                for c, acc in scored:
                    gains[key][c] += acc
        self._best = {}
        for key, n in support.items():
            if n >= self.min_support or key == "":
                # the highest sum; ties go to the alphabetically first answer
                answer, total = min(gains[key].items(), key=lambda kv: (-kv[1], kv[0]),
                                    default=("", 0.0))
                if answer:
                    self._best[key] = (answer, total / n)
        return self

    def to_json(self) -> dict[str, Any]:
        """Everything :meth:`from_json` needs (the fitted prefixes and their answers).

        >>> from nsreason.datasets.okvqa import OkvqaAnswers
        >>> p = AnswerPrior(min_support=1).fit([("How many legs?", OkvqaAnswers(1, 1, {"4": 10}))])
        >>> AnswerPrior.from_json(p.to_json()).predict("How many eyes?")
        ('4', 1.0, 'how many')
        """
        return {"max_words": self.max_words, "min_support": self.min_support,
                "best": {k: [a, s] for k, (a, s) in sorted(self._best.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str | None = None) -> AnswerPrior:
        """The prior :meth:`to_json` wrote; a malformed one raises
        :class:`~nsreason.errors.InputError` naming the field."""
        try:
            prior = cls(int(data["max_words"]), int(data["min_support"]))
            prior._best = {str(k): (str(v[0]), float(v[1])) for k, v in data["best"].items()}
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError(f"expected an answer prior (max_words, min_support, best: "
                             f"{{prefix: [answer, score]}}): {exc!r}", path="prior", source=source) from None
        return prior

    def predict(self, question: str) -> tuple[str | None, float | None, str | None]:
        """``(answer, mean training accuracy, prefix used)``; Nones before fitting."""
        for k in range(self.max_words, -1, -1):
            hit = self._best.get(question_prefix(question, k))
            if hit is not None:
                return hit[0], hit[1], question_prefix(question, k)
        return None, None, None

    def __call__(self, question: str, scene: SceneGraph) -> tuple[str | None, None, float | None]:
        answer, score, _ = self.predict(question)
        return answer, None, score
