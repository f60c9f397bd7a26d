"""Question text normalisation: words, function words, case, punctuation, spacing and
one-letter typos. The question parser, the knowledge question reader, the retriever and the
OK-VQA answerers all split text with :func:`words`.

>>> words("  What SIZE is the  red-ball?? ")
['what', 'size', 'is', 'the', 'red', 'ball']
>>> words("What's the man's T-shirt say?")
['whats', 'the', 'mans', 't', 'shirt', 'say']
>>> first_words("Which breed of dog is this?", 4)
'which breed of dog'
>>> [w for w in words("What is the cat sitting on?") if w not in CLOSED_CLASS]
['what', 'cat', 'sitting']
>>> fixed, fixes, unknown = correct_typos(["waht", "color", "is", "teh", "florb"],
...                                       {"what": 9, "color": 5, "is": 9, "the": 9})
>>> fixed, fixes, unknown
(['what', 'color', 'is', 'the', 'florb'], {'waht': 'what', 'teh': 'the'}, ['florb'])
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

__all__ = ["CLOSED_CLASS", "FUNCTION_WORDS", "correct_typos", "edits1", "first_words", "for_spacy",
           "words"]

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


FUNCTION_WORDS = CLOSED_CLASS | frozenset([
    "about", "across", "after", "against", "along", "although", "among", "around", "because",
    "before", "beneath", "beside", "besides", "between", "beyond", "both", "despite", "during",
    "each", "either", "every", "except", "few", "how", "however", "if", "inside", "itself",
    "many", "more", "most", "much", "neither", "nor", "off", "once", "onto", "other", "others",
    "out", "outside", "own", "same", "several", "since", "some", "through", "toward", "towards",
    "unless", "until", "upon", "via", "what", "whatever", "when", "where", "whether", "which",
    "while", "who", "whom", "whose", "why", "within", "without", "yet", "himself", "herself",
    "themselves", "ourselves", "yourself", "myself", "anything", "everything", "nothing",
    "something", "anyone", "everyone", "someone", "none", "any", "all", "whats", "thats",
    "theres", "doesnt", "dont", "didnt", "isnt", "arent", "wasnt", "werent", "cant", "couldnt",
    "wouldnt", "shouldnt", "wont", "hasnt", "havent", "hadnt", "its", "lets", "im", "youre",
    "theyre", "ive", "id", "ill",
])
"""English function words, apostrophes dropped as :func:`words` drops them ("doesn't" →
"doesnt"): words a parser may not know yet that are still English (WordNet lists content
words only)."""


def words(text: str) -> list[str]:
    """Lower-cased words: Unicode compatibility forms folded (NFKC), punctuation, hyphens
    and extra spaces dropped, apostrophes dropped inside words ("that's" → "thats")."""
    text = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("’", "")
    return _WORD.findall(text)


_SYMBOL_RUN = re.compile(r"[^\w\s]{8,}")


def for_spacy(text: str, chars: int = 1_000, word_chars: int = 40) -> str:
    """``text`` made cheap for spaCy, whose tokenizer splits the affixes off a long "word"
    one at a time (quadratic: 10,000 characters of punctuation or emoji took 25 s): runs of
    eight or more symbols become a space, words are cut to ``word_chars`` characters, white
    space is collapsed and the text is cut to ``chars`` characters (at a word). An ordinary
    question comes back as it was, with its spacing collapsed.

    >>> for_spacy("What  is the cat on?")
    'What is the cat on?'
    >>> for_spacy("What is " + "?!😀" * 3000 + " the " + "x" * 100)
    'What is the xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
    """
    words = [w[:word_chars] for w in _SYMBOL_RUN.sub(" ", text[: chars * 20]).split()]
    out: list[str] = []
    size = -1
    for w in words:
        size += len(w) + 1
        if size > chars:
            break
        out.append(w)
    return " ".join(out)


def first_words(text: str, n: int) -> str:
    """The first ``n`` words of ``text`` (see :func:`words`), joined by spaces."""
    return " ".join(words(text)[:n])

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edits1(word: str) -> set[str]:
    """Every string one edit (delete, transpose, replace, insert) away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


LONGEST_CORRECTED = 45
"""The longest word :func:`correct_typos` tries to correct (longer than any English word of
a question)."""


def correct_typos(
    tokens: Sequence[str], known: Mapping[str, int]
) -> tuple[list[str], dict[str, str], list[str]]:
    """Replace each unknown word by the most frequent known word one edit away.

    ``known`` maps words to their training frequency. Short words have too many
    neighbours: words of one or two letters are never corrected, words of three letters
    only by a transposition or a one-letter substitution. Words longer than
    ``LONGEST_CORRECTED`` letters are never corrected either (their neighbours would take
    memory quadratic in their length: a 100,000-letter word, gigabytes). Returns the corrected words, the
    corrections made, and the words left unknown.
    """
    out: list[str] = []
    fixes: dict[str, str] = {}
    unknown: list[str] = []
    for w in tokens:
        if w in known or w.isdigit():
            out.append(w)
            continue
        candidates = [c for c in edits1(w) if c in known] if 2 < len(w) <= LONGEST_CORRECTED else []
        if len(w) == 3:
            candidates = [c for c in candidates if len(c) == len(w)]
        if candidates:
            best = max(candidates, key=lambda c: (known[c], c))
            fixes[w] = best
            out.append(best)
        else:
            unknown.append(w)
            out.append(w)
    return out, fixes, unknown
