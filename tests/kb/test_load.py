"""KB specs, the backend registry, MultiKB, and light imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import RegistryError
from nsreason.kb import (
    KB_BACKENDS,
    KBFormatError,
    KBSpecError,
    MemoryKB,
    MultiKB,
    NetworkxKB,
    OxigraphKB,
    RdflibKB,
    SparqlEndpointKB,
    TableKB,
    load_kb,
    parse_spec,
)
from nsreason.testing.kb_conformance import SAMPLE
from tests.kb.conftest import write_nt

NAMES = ["csv", "memory", "networkx", "oxigraph", "rdf", "sparql", "tsv"]


def test_every_builtin_backend_is_registered():
    assert set(NAMES) <= set(KB_BACKENDS.names())


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(RegistryError) as err:
        load_kb("neo4j:bolt://localhost")
    for name in NAMES:
        assert repr(name) in str(err.value)


@pytest.mark.parametrize("spec, cls", [
    ("memory:", MemoryKB), ("networkx:", NetworkxKB), ("oxigraph:", OxigraphKB),
    ("sparql:http://127.0.0.1:1/query", SparqlEndpointKB),
])
def test_specs_without_files(spec, cls):
    assert type(load_kb(spec)) is cls


def test_specs_with_files(tmp_path):
    nt = write_nt(SAMPLE, tmp_path / "kb.nt")
    (tmp_path / "kb.csv").write_text("dog,IsA,animal\n")
    (tmp_path / "kb.tsv").write_text("dog\tIsA\tanimal\n")
    assert len(load_kb(f"rdf:{nt}")) == len(SAMPLE)
    assert isinstance(load_kb(str(nt)), RdflibKB)  # a bare path picks the backend
    assert isinstance(load_kb(tmp_path / "kb.csv"), TableKB)
    assert len(load_kb(f"tsv:{tmp_path / 'kb.tsv'}")) == 4  # the triple and three names
    store = tmp_path / "store"
    kb = load_kb(f"oxigraph:{store}", load=[nt])
    assert len(kb) == len(SAMPLE)
    del kb
    assert isinstance(load_kb(str(store)), OxigraphKB)  # an existing directory
    assert len(load_kb(f"memory:{nt}")) == len(SAMPLE)


def test_a_list_of_specs_is_their_union(tmp_path):
    (tmp_path / "a.csv").write_text("dog,IsA,animal\n")
    kb = load_kb(["memory:", str(tmp_path / "a.csv")])
    assert isinstance(kb, MultiKB) and len(kb.members) == 2
    assert kb.entities_by_label("dog") == ["urn:nsreason:dog"]


def test_an_instance_is_returned_as_is():
    kb = MemoryKB()
    assert load_kb(kb) is kb
    with pytest.raises(KBSpecError):
        load_kb(kb, format="ttl")


@pytest.mark.parametrize("spec, message", [
    ("rdf:", "needs a file"), ("rdf:/no/such/file.ttl", "no such file"),
    ("csv:/no/such.csv", "no such file"), ("networkx:graph.gml", "takes no argument"),
    ("sparql:ftp://x", "http"), ("", "empty"), ("kb.unknownext", "cannot tell the backend"),
    ("rdf:\x00", "NUL"),
])
def test_malformed_specs_say_what_is_wrong(spec, message):
    with pytest.raises(KBSpecError, match=message):
        load_kb(spec)


def test_a_registered_plugin_is_found_by_name():
    KB_BACKENDS.register("test-reversed", lambda arg, **kw: MemoryKB([(arg[::-1], "urn:p", "urn:o")]))
    try:
        kb = load_kb("test-reversed:a:nru")
        assert [t.subject for t in kb.match()] == ["urn:a"]
    finally:
        KB_BACKENDS._items.pop("test-reversed")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_spec_fuzz_gives_a_name_and_argument_or_a_spec_error(text):
    try:
        name, arg = parse_spec(text)
    except KBSpecError:
        return
    assert name and (text == f"{name}:{arg}" or text == arg)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
       st.text(max_size=20).filter(lambda s: "\x00" not in s))
def test_load_kb_fuzz_unknown_names_raise_registry_errors_listing_backends(name, arg):
    if name in KB_BACKENDS:
        return
    with pytest.raises(RegistryError, match="available: .*'memory'"):
        load_kb(f"{name}:{arg}")


def test_importing_nsreason_kb_imports_no_backend_library():
    code = ("import sys, nsreason, nsreason.kb\n"
            "kb = nsreason.kb.load_kb('memory:')\n"
            "print(sorted(m for m in ('rdflib', 'pyoxigraph', 'networkx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reprs_show_sizes(tmp_path):
    assert repr(MemoryKB(SAMPLE)) == "MemoryKB(triples=15)"
    assert repr(MultiKB([MemoryKB(), NetworkxKB()])) == (
        "MultiKB(MemoryKB(triples=0), NetworkxKB(nodes=0, edges=0))")
    assert repr(OxigraphKB(None)) == "OxigraphKB(path=None, triples=0)"


def test_gzipped_rdf_loads_in_every_rdf_backend(tmp_path):
    import gzip

    nt = write_nt(SAMPLE, tmp_path / "kb.nt")
    gz = tmp_path / "kb.nt.gz"
    gz.write_bytes(gzip.compress(nt.read_bytes()))
    assert isinstance(load_kb(str(gz)), RdflibKB)
    for spec in (f"rdf:{gz}", f"memory:{gz}", str(gz)):
        assert len(load_kb(spec)) == len(SAMPLE), spec
    assert len(OxigraphKB(None, load=[gz])) == len(SAMPLE)
    bad = tmp_path / "bad.nt.gz"
    bad.write_bytes(gzip.compress(b"<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> oops .\n"))
    for make in (RdflibKB, lambda p: OxigraphKB(None, load=[p])):
        with pytest.raises(KBFormatError, match="line 2"):
            make(bad)
    (tmp_path / "broken.nt.gz").write_bytes(b"not gzip at all")
    with pytest.raises(KBFormatError):
        OxigraphKB(None, load=[tmp_path / "broken.nt.gz"])
