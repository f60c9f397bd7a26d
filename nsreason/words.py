"""Words of English text, the one tokenisation every reader of questions and labels shares
(the question parser, the knowledge question reader, the retriever, the OK-VQA answerers).

>>> words("  What's the SIZE of the  red-ball?? ")
['whats', 'the', 'size', 'of', 'the', 'red', 'ball']
>>> first_words("Which breed of dog is this?", 4)
'which breed of dog'
>>> [w for w in words("What is the cat sitting on?") if w not in CLOSED_CLASS]
['what', 'cat', 'sitting']
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CLOSED_CLASS", "first_words", "words"]

_WORD = re.compile(r"[a-z0-9]+")

CLOSED_CLASS = frozenset([
    "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "can", "could",
    "would", "will", "shall", "should", "may", "might", "must", "has", "have", "had", "in",
    "on", "at", "of", "for", "from", "by", "with", "to", "into", "onto", "near", "under",
    "over", "above", "below", "behind", "this", "that", "these", "those", "the", "a", "an",
    "it", "its", "they", "them", "their", "there", "here", "you", "your", "we", "our", "he",
    "she", "his", "her", "i", "my", "me", "not", "no", "and", "or", "but", "as", "if", "than",
    "then", "so", "such",
])
"""Function words (auxiliaries, prepositions, determiners, pronouns, conjunctions): what is
left out when the content words of a phrase are wanted."""


def words(text: str) -> list[str]:
    """Lower-cased words: Unicode compatibility forms folded (NFKC), punctuation, hyphens
    and extra spaces dropped, apostrophes dropped inside words ("that's" → "thats")."""
    text = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("’", "")
    return _WORD.findall(text)


def first_words(text: str, n: int) -> str:
    """The first ``n`` words of ``text`` (see :func:`words`), joined by spaces."""
    return " ".join(words(text)[:n])
