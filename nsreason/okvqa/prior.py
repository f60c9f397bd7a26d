"""The answer prior: the most rewarding answer per question prefix (the "question type")."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..datasets.vqa_answers import normalize_answer
from ..parse.text import first_words

if TYPE_CHECKING:
    from ..datasets.okvqa import OkvqaAnswers
    from ..scene.graph import SceneGraph

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

    def fit(self, examples: Iterable[tuple[str, OkvqaAnswers]]) -> AnswerPrior:
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
