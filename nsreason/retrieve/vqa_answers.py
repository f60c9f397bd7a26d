"""VQA answer normalisation and accuracy, as the official VQA evaluation computes them.

Shared by every VQA-style data set (OK-VQA, FVQA, VQA v2): one place for the rules.

**Normalisation** (:func:`normalize_answer`) reproduces the official evaluation's two
passes, quirks included:

* punctuation (:func:`process_punctuation`): each of ``; / [ ] " { } ( ) = + \\ _ - > < @ `
  , ? !`` is deleted when the answer has it next to a space, or when the answer holds a
  digit-comma-digit group anywhere ("1,000"); otherwise it becomes a space ("t-shirt" ->
  "t shirt"). Then periods are deleted unless a digit follows ("3.5" stays, "yes." ->
  "yes"); like the official code (whose ``re.UNICODE`` lands in the ``count`` argument),
  at most 32 of them. Apostrophes and colons stay ("12:30", "don't").
* digits and articles (:func:`process_digit_article`): lower case, split on white space,
  number words "zero" ... "ten" and "none" become "0" ... "10", the articles "a", "an",
  "the" go, and a contraction written without its apostrophe gets it back ("dont" ->
  "don't", "couldntve" is left alone as the official table leaves it).

**Accuracy** (:func:`vqa_accuracy`) is the official one: with *N* human answers (10 in
VQA and OK-VQA), each human is left out in turn, the prediction scores
``min(1, matches among the other N-1 / 3)``, and the *N* scores are averaged. For an
answer that *n* of 10 humans gave this is 0.3 (n=1), 0.6 (n=2), 0.9 (n=3), 1.0 (n>=4),
not the simplified ``min(1, n/3)`` (:func:`soft_score`; 0.333, 0.667, 1.0) that many
papers' code uses. As in the official code, the prediction is normalised in full; the
humans' answers (which the data sets ship normalised already) only get the punctuation
pass, and only when they disagree (more than one distinct answer); a match is then exact
string equality.

>>> normalize_answer("Two dogs.")
'2 dogs'
>>> normalize_answer("the T-shirt"), normalize_answer("1,000"), normalize_answer("3.5")
('t shirt', '1000', '3.5')
>>> vqa_accuracy("pony tail", ["pony tail"] * 4 + ["ponytail"] * 4 + ["braid"] * 2)
1.0
>>> vqa_accuracy("Braid.", ["pony tail"] * 4 + ["ponytail"] * 4 + ["braid"] * 2)
0.6
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

__all__ = [
    "accuracy_from_counts",
    "answer_counts",
    "leave_one_out_accuracy",
    "normalize_answer",
    "process_digit_article",
    "process_punctuation",
    "soft_score",
    "vqa_accuracy",
]

_PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-",
                ">", "<", "@", "`", ",", "?", "!")  # fmt: skip
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
_PERIOD = re.compile(r"\.(?!\d)")
_PERIOD_LIMIT = 32  # the official code passes re.UNICODE (32) as sub()'s count
_NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
            "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}  # fmt: skip
_ARTICLES = frozenset({"a", "an", "the"})

# The contractions the official table restores. Each written form missing exactly one of
# its apostrophes maps back to it ("dont" -> "don't"; "couldnt've" and "couldn'tve" ->
# "couldn't've", but not "couldntve"). The table's entries with a capital "I" never
# match lower-cased text and are left out; its one backwards entry is kept below.
_CONTRACTIONS = """
ain't aren't can't could've couldn't couldn't've didn't doesn't don't hadn't hadn't've
hasn't haven't he'd he'd've he's how'd how'll how's isn't it'd it'd've it'll ma'am mightn't
mightn't've might've mustn't must've needn't not've o'clock oughtn't 'ow's'at shan't
she'd've should've shouldn't shouldn't've somebody'd've somebody'll somebody's someone'd
someone'd've someone'll someone's something'd something'd've something'll that's there'd
there'd've there're there's they'd they'd've they'll they're they've 'twas wasn't we'd've
we've weren't what'll what're what's what've when's where'd where's where've who'd who'd've
who'll who's who've why'll why're why's won't would've wouldn't wouldn't've y'all y'all'll
y'all'd've you'd you'd've you'll you're you've
"""


def _contraction_table() -> dict[str, str]:
    table = {}
    for word in _CONTRACTIONS.split():
        for i, ch in enumerate(word):
            if ch == "'":
                table[word[:i] + word[i + 1 :]] = word
    table["somebody'd"] = "somebodyd"  # sic: the official table has it this way round
    return table


_CONTRACTION_TABLE = _contraction_table()


def process_punctuation(text: str) -> str:
    """The official ``processPunctuation``: see the module notes."""
    delete_all = _DIGIT_COMMA_DIGIT.search(text) is not None
    out = text
    for p in _PUNCTUATION:
        out = out.replace(p, "") if delete_all or p + " " in text or " " + p in text else out.replace(p, " ")
    return _PERIOD.sub("", out, count=_PERIOD_LIMIT)


def process_digit_article(text: str) -> str:
    """The official ``processDigitArticle``: number words to digits, articles dropped,
    contractions restored, white space collapsed."""
    words = [_NUMBERS.get(w, w) for w in text.lower().split()]
    return " ".join(_CONTRACTION_TABLE.get(w, w) for w in words if w not in _ARTICLES)


def _clean(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()


def normalize_answer(text: str) -> str:
    """The official normalisation of one answer: white space, punctuation, digits,
    articles, contractions (see the module notes)."""
    return process_digit_article(process_punctuation(_clean(text)))


def answer_counts(answers: Iterable[str]) -> dict[str, int]:
    """How many humans gave each answer, as written (white space trimmed)."""
    return dict(Counter(_clean(a) for a in answers))


def leave_one_out_accuracy(matches: int, annotators: int = 10) -> float:
    """The official accuracy of an answer that ``matches`` of ``annotators`` humans gave:
    the mean, over the humans left out in turn, of ``min(1, matches among the rest / 3)``.

    >>> [round(leave_one_out_accuracy(n), 3) for n in range(5)]
    [0.0, 0.3, 0.6, 0.9, 1.0]
    """
    if annotators <= 0 or not 0 <= matches <= annotators:
        raise ValueError(f"expected 0 <= matches <= annotators > 0, got {matches}, {annotators}")
    kept = matches * min(1.0, (matches - 1) / 3) if matches else 0.0
    return (kept + (annotators - matches) * min(1.0, matches / 3)) / annotators


def _matches(prediction: str, counts: Mapping[str, int], annotators: int) -> int:
    """Humans whose answer equals the normalised prediction; the humans' answers get the
    punctuation pass when they disagree (humans missing from ``counts`` gave another
    answer)."""
    prediction = normalize_answer(prediction)
    if len(counts) > 1 or sum(counts.values()) < annotators:
        return sum(n for a, n in counts.items() if process_punctuation(_clean(a)) == prediction)
    return sum(n for a, n in counts.items() if _clean(a) == prediction)


def accuracy_from_counts(
    prediction: str | None, counts: Mapping[str, int], annotators: int | None = None
) -> float:
    """The official accuracy from per-answer human counts (``{"pony tail": 4, ...}``).

    ``annotators`` is how many humans answered (default: the sum of ``counts``); when
    ``counts`` lists fewer, the rest gave answers that match nothing. ``None`` (no
    answer) scores 0.
    """
    total = sum(counts.values()) if annotators is None else annotators
    if prediction is None or total <= 0:
        return 0.0
    return leave_one_out_accuracy(min(_matches(prediction, counts, total), total), total)


def vqa_accuracy(prediction: str | None, answers: Iterable[str]) -> float:
    """The official VQA accuracy of ``prediction`` against the humans' ``answers``
    (usually 10)."""
    return accuracy_from_counts(prediction, answer_counts(answers))


def soft_score(
    prediction: str | None, counts: Mapping[str, int], annotators: int | None = None
) -> float:
    """The simplified score ``min(1, n / 3)`` (no leave-one-out averaging), with the same
    normalisation rule as :func:`accuracy_from_counts`."""
    total = sum(counts.values()) if annotators is None else annotators
    if prediction is None or total <= 0:
        return 0.0
    return min(1.0, _matches(prediction, counts, total) / 3)
