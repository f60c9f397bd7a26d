"""CSV/TSV triple files: cells, sources, malformed rows, fuzzing."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.kb import IRI, RDFS, XSD, BNode, KBFormatError, Literal, Triple
from nsreason.kb.table import dump_table, format_cell, load_table


def _load(text: str, delimiter: str = ",", **kw):
    return load_table(io.StringIO(text), delimiter=delimiter, name="kb.csv", **kw)


def test_cells_of_every_kind():
    text = ('<http://e/dog>,rdfs:label,"""dog""@en"\n'  # CSV quoting around "dog"@en
            'http://e/dog,http://e/legs,"""4""^^xsd:integer"\n'
            '_:f1,rdf:subject,<http://e/dog>\n'
            "hot dog,is a,snack\n"
            '# a comment,,\n'
            '\n')
    kb = _load(text, label_names=False)
    tsv = ('<http://e/dog>\trdfs:label\t"dog"@en\n'
           'http://e/dog\thttp://e/legs\t"4"^^xsd:integer\n'
           '_:f1\trdf:subject\t<http://e/dog>\n'
           "hot dog\tis a\tsnack\n")
    assert set(kb.match()) == set(_load(tsv, "\t", label_names=False).match())
    assert set(kb.match()) == {
        Triple(IRI("http://e/dog"), RDFS.label, Literal("dog", language="en")),
        Triple(IRI("http://e/dog"), IRI("http://e/legs"), Literal("4", datatype=XSD.integer)),
        Triple(BNode("f1"), IRI("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject"),
               IRI("http://e/dog")),
        Triple(IRI("urn:nsreason:hot%20dog"), IRI("urn:nsreason:is%20a"),
               IRI("urn:nsreason:snack")),
    }


def test_names_get_labels_and_the_source_column_gives_provenance():
    kb = _load("head,relation,tail,source\ndog,IsA,animal,ConceptNet 5.7\ncat,IsA,animal\n")
    assert kb.entities_by_label("hot dog") == []
    assert kb.labels("urn:nsreason:dog") == ["dog"]
    (f,) = kb.facts("urn:nsreason:dog")
    assert f.source == IRI("urn:nsreason:ConceptNet%205.7") and f.source_label == "ConceptNet 5.7"
    assert kb.facts("urn:nsreason:cat")[0].source is None


def test_tsv_needs_no_quoting():
    kb = load_table(io.StringIO('dog\tsays\t"woof, \\"woof\\""@en\n'), delimiter="\t")
    (t,) = kb.match(None, "urn:nsreason:says")
    assert t.object == Literal('woof, "woof"', language="en")


@pytest.mark.parametrize("text, where, message", [
    ("dog,IsA\n", "line 1", "expected 3 or 4 fields"),
    ("a,b,c\ndog,IsA,animal,src,extra\n", "line 2", "got 5"),
    ("a,b,c\n,IsA,animal\n", "line 2, field 'head'", "empty head"),
    ("<http://e/a b>,IsA,animal\n", "line 1, field 'head'", "<IRI>"),
    ("_:bad label,IsA,animal\n", "line 1, field 'head'", "blank node"),
    ('dog,IsA,"x"\n"a""b,c', "line 2", "malformed row"),
    ('dog,IsA,"unterminated\n', "line 1", "malformed row"),  # CSV quoting itself is broken
])
def test_malformed_csv_rows_name_file_line_and_field(text, where, message):
    with pytest.raises(KBFormatError) as err:
        _load(text)
    assert err.value.source == "kb.csv" and err.value.path == where, str(err.value)
    assert message in err.value.message


@pytest.mark.parametrize("text, where, message", [
    ('dog\tIsA\t"unterminated\n', "line 1, field 'tail'", "expected a literal"),
    ('a\tb\tc\n"x"@en\tIsA\tanimal\n', "line 2, field 'head'", "control character or quote"),
    ('dog\t"rel"@en\tanimal\n', "line 1, field 'relation'", "quote"),
    ('dog\tIsA\t"bad \\q escape"\n', "line 1, field 'tail'", "unknown escape"),
    ('dog\tIsA\t"\\uD800"\n', "line 1, field 'tail'", "not a character"),
    ('dog\tIsA\tanimal\t"src"\n', "line 1, field 'source'", "quote"),
])
def test_malformed_tsv_cells_name_file_line_and_field(text, where, message):
    with pytest.raises(KBFormatError) as err:
        _load(text, "\t")
    assert err.value.source == "kb.csv" and err.value.path == where, str(err.value)
    assert message in err.value.message


def test_bad_bytes_name_the_line(tmp_path):
    path = tmp_path / "kb.csv"
    path.write_bytes(b"dog,IsA,animal\ncat,IsA,\xff\n")
    with pytest.raises(KBFormatError, match="line 2: not UTF-8") as err:
        load_table(path)
    assert err.value.source == str(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list('ab:_<>"\\@^#, \t\nxu0\x00é')), max_size=60),
       st.sampled_from([",", "\t"]))
def test_fuzz_any_text_loads_or_raises_a_located_format_error(text, delimiter):
    try:
        kb = _load(text, delimiter)
    except KBFormatError as err:
        assert err.source == "kb.csv" and err.path and err.path.startswith("line ")
        return
    assert all(isinstance(t, Triple) for t in kb.match())


_iri = st.from_regex(r"http://e/[A-Za-z0-9._~%-]{1,8}", fullmatch=True).map(IRI)
_node = st.one_of(_iri, st.from_regex(r"[A-Za-z0-9_]{1,6}", fullmatch=True).map(BNode))
_lit = st.builds(Literal, st.text(max_size=12),
                 language=st.one_of(st.none(), st.sampled_from(["en", "fr-be"])))
_triples = st.lists(st.tuples(_node, _iri, st.one_of(_node, _lit)).map(lambda t: Triple(*t)),
                    max_size=8)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(_triples, st.sampled_from([",", "\t"]))
def test_fuzz_dump_then_load_gives_the_same_triples(triples, delimiter):
    buf = io.StringIO()
    dump_table(triples, buf, delimiter=delimiter)
    kb = load_table(io.StringIO(buf.getvalue()), delimiter=delimiter)
    assert set(kb.match()) == set(triples)


def test_format_cell_writes_n_triples_terms():
    assert format_cell(Literal('a"\n', language="en")) == '"a\\"\\n"@en'
    assert format_cell(IRI("http://e/x")) == "<http://e/x>"
