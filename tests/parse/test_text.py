"""Question normalisation and typo correction."""

from __future__ import annotations

from nsreason.parse.text import correct_typos, edits1, words


def test_words_ignore_case_punctuation_and_spacing():
    assert words("What  SIZE is the red-ball??") == words("what size is the red ball") == [
        "what", "size", "is", "the", "red", "ball"
    ]
    assert words("There is a cube; what's its color?") == ["there", "is", "a", "cube", "whats", "its", "color"]
    assert words("") == [] and words(" ?! ") == []


def test_edits1_covers_the_four_edit_kinds():
    e = edits1("cube")
    assert {"cub", "ucbe", "cuba", "cubes"} <= e


def test_typos_are_corrected_by_frequency_and_unknown_words_reported():
    known = {"cube": 10, "cubes": 3, "what": 50, "color": 20, "is": 40, "the": 60, "tube": 1}
    fixed, fixes, unknown = correct_typos(["waht", "colour", "is", "teh", "cuve", "zzzzzz"], known)
    assert fixed == ["what", "color", "is", "the", "cube", "zzzzzz"]
    assert fixes == {"waht": "what", "colour": "color", "teh": "the", "cuve": "cube"}
    assert unknown == ["zzzzzz"]


def test_short_words_are_corrected_carefully():
    _fixed, fixes, unknown = correct_typos(["an", "teh", "tis"], {"as": 5, "and": 9, "the": 9, "this": 4})
    assert fixes == {"teh": "the"}  # two letters: never; three: same length only
    assert unknown == ["an", "tis"]
