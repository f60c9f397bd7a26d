"""Hostile input: SPARQL injection, malformed RDF, parsers that would fetch URLs or files."""

from __future__ import annotations

import pytest

from nsreason.kb import (
    IRI,
    RDFS,
    XSD,
    KBFormatError,
    KBQueryError,
    KBSecurityError,
    Literal,
    OxigraphKB,
    RdflibKB,
)
from nsreason.kb.sparql import sparql_iri, sparql_literal, sparql_term, values_clause
from nsreason.testing.kb_conformance import HOSTILE

INJECTIONS = [*HOSTILE, "a\\", "\\", "\x00nul", "\x1bescape", "\u2028sep", "x\"@en", '"^^<urn:x>']


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_literal_from_user_text_reads_back_as_that_text_in_oxigraph(text):
    kb = OxigraphKB(None)
    q = f"SELECT ?x WHERE {{ BIND({sparql_literal(Literal(text))} AS ?x) }}"
    assert kb.sparql(q) == [{"x": Literal(text)}]


@pytest.mark.parametrize("text", [t for t in INJECTIONS if "\x00" not in t])  # rdflib: no NUL
def test_a_literal_from_user_text_reads_back_as_that_text_in_rdflib(text):
    kb = RdflibKB()
    q = f"SELECT ?x WHERE {{ BIND({sparql_literal(Literal(text, language='en'))} AS ?x) }}"
    assert kb.sparql(q) == [{"x": Literal(text, language="en")}]


def test_injection_attempt_cannot_drop_data_through_a_label_lookup(tmp_path):
    kb = OxigraphKB(tmp_path / "s")
    kb.add("urn:a", RDFS.label, Literal("a"))
    for text in INJECTIONS:
        assert kb.entities_by_label(text) == []
        assert kb.facts(text) == [] and kb.facts(None, None, Literal(text)) == []
    assert len(kb) == 1


@pytest.mark.parametrize("iri", [
    "http://x/a>b", "http://x/a b", "http://x/{}", 'http://x/"', "http://x/\\", "http://x/\n",
    "http://x/> } ; DROP ALL #", "no-scheme", "", "<http://x/>", "http://x/|", "http://x/^`",
])
def test_bad_iris_are_refused_before_reaching_a_query(iri):
    with pytest.raises(KBQueryError):
        sparql_iri(iri)


def test_language_tags_and_datatypes_are_validated():
    with pytest.raises(KBQueryError):
        sparql_literal(Literal("x", language="en} DROP ALL"))
    with pytest.raises(KBQueryError):
        sparql_literal(Literal("x", datatype=IRI("urn:x> } DROP ALL")))
    assert sparql_literal(Literal("1", datatype=XSD.integer)) == (
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')
    with pytest.raises(KBQueryError):
        values_clause({"x } DROP": Literal("a")})
    with pytest.raises(KBQueryError):
        sparql_term(IRI("_:b"))  # a BNode-looking string is no IRI either


MALFORMED = {
    "bad.ttl": ("@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b \"open .\n", "line 3"),
    "bad.nt": ("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> oops .\n", "line 2"),
    "bad.rdf": (('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="urn:r">\n<rdf:Description>\n'
                "</rdf:RDFx>\n"), "line 4"),
    "bad.jsonld": ('{"@id": "urn:a",\n "urn:p": \n', "line 3"),
}


@pytest.mark.parametrize("backend", ["rdflib", "oxigraph"])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_rdf_names_file_and_line(tmp_path, name, backend):
    text, line = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(KBFormatError) as err:
        RdflibKB(path) if backend == "rdflib" else OxigraphKB(tmp_path / "store", load=[path])
    assert err.value.source == str(path), str(err.value)
    if (backend, name) != ("oxigraph", "bad.rdf"):  # pyoxigraph's RDF/XML errors carry no position
        assert err.value.path == line, str(err.value)


def _external(tmp_path, port):
    xml = tmp_path / "entities.rdf"
    xml.write_text(f'''<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY ext SYSTEM "http://127.0.0.1:{port}/evil">
  <!ENTITY loc SYSTEM "file:///etc/hostname"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
<rdf:Description rdf:about="urn:a"><rdfs:label>&ext;&loc;</rdfs:label></rdf:Description>
</rdf:RDF>''')
    remote = tmp_path / "remote.jsonld"
    ctx = f"http://127.0.0.1:{port}/ctx.jsonld"
    remote.write_text(f'{{"@context": "{ctx}", "@id": "urn:a", "label": "x"}}')
    local = tmp_path / "local.jsonld"
    local.write_text('{"@context": "file:///etc/hostname", "@id": "urn:a", "label": "x"}')
    return xml, remote, local


def test_rdflib_parsing_never_fetches_external_entities_or_contexts(tmp_path, listener):
    xml, remote, local = _external(tmp_path, listener.port)
    kb = RdflibKB(xml)  # external entities are not expanded
    assert [t.object for t in kb.match()] == [Literal("")]
    with pytest.raises(KBSecurityError, match="reach the network") as err:
        RdflibKB(remote)
    assert err.value.source == str(remote) and f"127.0.0.1:{listener.port}" in str(err.value)
    with pytest.raises(KBSecurityError, match="open another file"):
        RdflibKB(local)
    assert listener.connections == 0


def test_oxigraph_parsing_never_fetches_external_entities_or_contexts(tmp_path, listener):
    for path in _external(tmp_path, listener.port):
        with pytest.raises(KBFormatError):
            OxigraphKB(None, load=[path])
    assert listener.connections == 0


def test_rdflib_sparql_service_clause_cannot_reach_the_network(listener):
    kb = RdflibKB()
    q = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    with pytest.raises(KBSecurityError):
        kb.sparql(q)
    assert listener.connections == 0


def test_the_guard_is_off_outside_parsing(tmp_path):
    (tmp_path / "a.ttl").write_text("<urn:a> <urn:b> <urn:c> .\n")
    RdflibKB(tmp_path / "a.ttl")
    (tmp_path / "after.txt").write_text("still allowed")
    assert (tmp_path / "after.txt").read_text() == "still allowed"
