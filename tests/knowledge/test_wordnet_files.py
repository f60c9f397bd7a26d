"""The WordNet database-file parsers of knowledge/build.py: valid lines, malformed lines
(typed errors naming file, line and what was expected), and the real files."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import InputError
from tests.knowledge.conftest import kb_build

WordNetFormatError = kb_build.WordNetFormatError

TEDDY = ("04399382 06 n 02 teddy 0 teddy_bear 0 002 @ 03964744 n 0000 + 01742912 v 0201 "
         "| plaything consisting of a child's toy bear (usually plush and stuffed with soft materials)  ")
INDEX = "teddy_bear n 1 2 @ + 1 0 04399382  "


def test_parses_a_data_line():
    s = kb_build.parse_data_line(TEDDY)
    assert s.offset == "04399382" and s.lex_filenum == 6 and s.ss_type == "n"
    assert s.words == (("teddy", 0), ("teddy_bear", 0))
    assert s.pointers == (("@", "03964744", "n", "0000"), ("+", "01742912", "v", "0201"))
    assert s.gloss.startswith("plaything consisting") and s.gloss.endswith("soft materials)")


def test_parses_an_index_line():
    e = kb_build.parse_index_line(INDEX)
    assert (e.lemma, e.pos, e.pointer_symbols, e.tagsense_cnt, e.offsets) == (
        "teddy_bear", "n", ("@", "+"), 0, ("04399382",))


# --- generated valid lines round-trip ------------------------------------------------------

_word = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABC_-.'0123456789"), min_size=1, max_size=12)
_offset = st.integers(0, 99_999_999).map(lambda n: f"{n:08d}")
_pointer = st.tuples(st.sampled_from(["@", "@i", "~", "#p", "%p", "#m", "%s", "+", ";c", "-r"]),
                     _offset, st.sampled_from(list("nvasr")),
                     st.integers(0, 0xFFFF).map(lambda n: f"{n:04x}"))
_gloss = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)


@given(_offset, st.integers(0, 44), st.lists(st.tuples(_word, st.integers(0, 15)), min_size=1,
       max_size=20), st.lists(_pointer, max_size=30), _gloss)
def test_generated_data_lines_round_trip(offset, lexfile, words, pointers, gloss):
    fields = [offset, f"{lexfile:02d}", "n", f"{len(words):02x}"]
    for w, lex_id in words:
        fields += [w, f"{lex_id:x}"]
    fields.append(f"{len(pointers):03d}")
    for p in pointers:
        fields += list(p)
    line = " ".join(fields) + " | " + gloss + "  \n"
    s = kb_build.parse_data_line(line)
    assert s.offset == offset and s.lex_filenum == lexfile
    assert s.words == tuple(words)
    assert s.pointers == tuple(pointers)
    assert s.gloss == gloss.strip()


# --- malformed lines: typed errors -----------------------------------------------------------


def _check_error(err: WordNetFormatError, file: str, line: int):
    assert isinstance(err, InputError) and isinstance(err, ValueError)
    assert err.file == file and err.line == line
    assert err.expected and str(err).startswith(f"{file}: line {line}: expected ")


@pytest.mark.parametrize(("line", "expected"), [
    ("0439938 06 n 02 teddy 0 teddy_bear 0 000 | gloss", "8-digit synset offset"),
    ("04399382 6x n 01 teddy 0 000 | gloss", "lexicographer file number"),
    ("04399382 06 q 01 teddy 0 000 | gloss", "synset type"),
    ("04399382 06 n zz teddy 0 000 | gloss", "hexadecimal word count"),
    ("04399382 06 n 00 000 | gloss", "word count of at least 1"),
    ("04399382 06 n 02 teddy 0 000 | gloss", "1-digit hexadecimal lex_id"),
    ("04399382 06 n 01 teddy 0 001 @ 03964744 n | gloss", "source/target"),
    ("04399382 06 n 01 teddy 0 001 @ 0396474 n 0000 | gloss", "target synset offset"),
    ("04399382 06 n 01 teddy 0 001 @ 03964744 x 0000 | gloss", "target part of speech"),
    ("04399382 06 n 01 teddy 0 000 extra | gloss", "end of the pointer list"),
    ("04399382 06 n 01 teddy 0 000 no gloss bar", "' | ' before the gloss"),
])
def test_malformed_data_lines(line, expected):
    with pytest.raises(WordNetFormatError) as info:
        kb_build.parse_data_line(line, file="data.noun", line=17)
    _check_error(info.value, "data.noun", 17)
    assert expected in info.value.expected


@pytest.mark.parametrize(("line", "expected"), [
    ("teddy_bear x 1 0 1 0 04399382", "part of speech"),
    ("teddy_bear n one 0 1 0 04399382", "synset count"),
    ("teddy_bear n 1 2 @ 1 0 04399382", "sense count"),  # the pointer count eats a field
    ("teddy_bear n 2 0 2 0 04399382", "8-digit synset offset"),
    ("teddy_bear n 1 0 1 0 04399382 04399383", "exactly 1 synset offsets"),
    ("teddy_bear n 1 0 2 0 04399382", "sense count equal"),
])
def test_malformed_index_lines(line, expected):
    with pytest.raises(WordNetFormatError) as info:
        kb_build.parse_index_line(line, file="index.noun", line=3)
    _check_error(info.value, "index.noun", 3)
    assert expected in info.value.expected


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_arbitrary_text_gives_a_synset_or_a_typed_error(text):
    try:
        kb_build.parse_data_line(text, file="data.noun", line=5)
    except WordNetFormatError as err:
        _check_error(err, "data.noun", 5)
    try:
        kb_build.parse_index_line(text, file="index.noun", line=6)
    except WordNetFormatError as err:
        _check_error(err, "index.noun", 6)


@settings(max_examples=300)
@given(st.data())
def test_mutated_valid_lines_give_a_synset_or_a_typed_error(data):
    """Drop, duplicate or replace one field of a real line: never anything but a typed error."""
    head, _, gloss = TEDDY.partition(" | ")
    fields = head.split(" ")
    i = data.draw(st.integers(0, len(fields) - 1))
    how = data.draw(st.sampled_from(["drop", "dup", "replace"]))
    if how == "drop":
        del fields[i]
    elif how == "dup":
        fields.insert(i, fields[i])
    else:
        fields[i] = data.draw(st.text(st.characters(blacklist_characters=" |\n"), max_size=9))
    try:
        s = kb_build.parse_data_line(" ".join(fields) + " | " + gloss, line=9)
    except WordNetFormatError as err:
        _check_error(err, "data.noun", 9)
    else:
        assert s.words and len(s.offset) == 8


def test_exception_lines():
    assert kb_build.parse_exception_line("mice mouse") == ("mice", ("mouse",))
    with pytest.raises(WordNetFormatError, match=r"noun.exc: line 2: expected an inflected form"):
        kb_build.parse_exception_line("lonely", line=2)


def test_wordnet_errors_name_the_file_when_the_archive_lacks_one(tmp_path):
    import tarfile

    path = tmp_path / "wn.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(__file__, arcname="wordnet/README")
    with pytest.raises(WordNetFormatError, match="data.noun"):
        kb_build.WordNet.from_tarball(path)


# --- the real files ----------------------------------------------------------------------


@pytest.mark.data
def test_real_wordnet(wordnet):
    assert len(wordnet.index) == 117_798  # WordNet 3.0 noun lemmas
    assert wordnet.name("04399382") == "teddy.n.01"
    assert wordnet.morphy("children") == ["child"]
    assert wordnet.morphy("teddy_bears") == ["teddy_bear"]
    assert "mouse" in wordnet.morphy("mice")
    synsets = [wordnet.synset(o) for o in wordnet.index["roosevelt"].offsets]
    theodore = [s for s in synsets if any(w == "Theodore_Roosevelt" for w, _ in s.words)]
    assert len(theodore) == 1


def test_build_script_doctests():
    """knowledge/ is outside the doctest collection: run build.py's examples here."""
    import doctest

    result = doctest.testmod(kb_build, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0
