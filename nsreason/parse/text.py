"""Question text normalisation: case, punctuation, spacing and one-letter typos.

>>> words("  What SIZE is the  red-ball?? ")
['what', 'size', 'is', 'the', 'red', 'ball']
>>> fixed, fixes, unknown = correct_typos(["waht", "color", "is", "teh", "florb"],
...                                       {"what": 9, "color": 5, "is": 9, "the": 9})
>>> fixed, fixes, unknown
(['what', 'color', 'is', 'the', 'florb'], {'waht': 'what', 'teh': 'the'}, ['florb'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..words import words

__all__ = ["correct_typos", "edits1", "words"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edits1(word: str) -> set[str]:
    """Every string one edit (delete, transpose, replace, insert) away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


def correct_typos(
    tokens: Sequence[str], known: Mapping[str, int]
) -> tuple[list[str], dict[str, str], list[str]]:
    """Replace each unknown word by the most frequent known word one edit away.

    ``known`` maps words to their training frequency. Short words have too many
    neighbours: words of one or two letters are never corrected, words of three letters
    only by a transposition or a one-letter substitution. Returns the corrected words, the
    corrections made, and the words left unknown.
    """
    out: list[str] = []
    fixes: dict[str, str] = {}
    unknown: list[str] = []
    for w in tokens:
        if w in known or w.isdigit():
            out.append(w)
            continue
        candidates = [c for c in edits1(w) if c in known] if len(w) > 2 else []
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
