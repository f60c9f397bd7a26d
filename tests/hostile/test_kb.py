"""Hostile knowledge-base files and specs: a typed error naming the spec or file, in bounded
time, before any parser expands an entity or crawls through an over-long line."""

from __future__ import annotations

import gzip
import os

import pytest

from nsreason.kb import KBFormatError, KBSpecError, load_kb
from nsreason.kb.load import check_spec
from nsreason.kb.rdfio import check_rdf_file
from nsreason.limits import raised
from tests.hostile.bounds import SCENES, run_cli, within

RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"'
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _laughs(levels: int = 9, width: int = 10) -> str:
    """A 1 KB "billion laughs" RDF/XML file: each entity is ``width`` of the one before."""
    ents = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * width}">'
                                     for i in range(1, levels + 1)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{chr(10).join(ents)}\n]>\n<rdf:RDF {RDF}>\n'
            f'<rdf:Description rdf:about="urn:x"><rdfs:label>&a{levels};</rdfs:label></rdf:Description>\n'
            "</rdf:RDF>\n")


def _flat(repeat: int, elements: int = 1) -> str:
    """One flat entity (no entity inside it) referenced ``repeat`` times in each of ``elements``."""
    body = "".join(f'<rdf:Description rdf:about="urn:x{i}"><rdfs:label>{"&e;" * repeat}</rdfs:label>'
                   "</rdf:Description>\n" for i in range(elements))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY e "{"x" * 1000}">]>\n'
            f"<rdf:RDF {RDF}>\n{body}</rdf:RDF>\n")


@pytest.fixture
def bomb(tmp_path):
    f = tmp_path / "lol.rdf"
    f.write_text(_laughs())
    assert f.stat().st_size < 1100
    return f


@pytest.mark.parametrize("spec", ["rdf:{}", "memory:{}", "{}"])
def test_billion_laughs_is_refused_fast(bomb, spec):
    with pytest.raises(KBFormatError, match="another entity") as err:
        within(10, load_kb, spec.format(bomb))
    assert err.value.source == str(bomb)


def test_billion_laughs_gzipped_and_in_a_store(bomb, tmp_path):
    gz = tmp_path / "lol.rdf.gz"
    gz.write_bytes(gzip.compress(bomb.read_bytes()))
    with pytest.raises(KBFormatError, match="another entity"):
        within(10, load_kb, f"rdf:{gz}")
    from nsreason.kb import OxigraphKB

    with pytest.raises(KBFormatError, match="another entity"):
        within(10, OxigraphKB, None, load=[bomb])


def test_flat_entities_still_parse_within_the_expansion_limit(tmp_path):
    ok = tmp_path / "ok.rdf"  # the OWL idiom: a namespace as an entity, a few uses
    ok.write_text(_flat(3, elements=3))
    assert len(within(10, load_kb, f"rdf:{ok}")) == 3
    wide = tmp_path / "wide.rdf"  # one text of 300 kB from a 1 kB file
    wide.write_text(_flat(300))
    with pytest.raises(KBFormatError, match="element's text"):
        within(10, load_kb, f"rdf:{wide}")
    many = tmp_path / "many.rdf"  # many short texts, about 30 times the file
    many.write_text(_flat(3, elements=2000))
    with pytest.raises(KBFormatError, match="times its size"):
        within(10, check_rdf_file, many)
    with raised(xml_expansion=50):
        check_rdf_file(many)


def test_parameter_entities_are_refused(tmp_path):
    f = tmp_path / "pe.rdf"
    f.write_text(f'<!DOCTYPE rdf:RDF [<!ENTITY % p "x"> %p;]><rdf:RDF {RDF}/>')
    with pytest.raises(KBFormatError, match="parameter entity"):
        check_rdf_file(f)


@pytest.mark.parametrize("ext", ["nt", "nq", "nt.gz"])
def test_a_10mb_ntriples_line_is_refused_fast(tmp_path, ext):
    f = tmp_path / f"long.{ext}"
    line = f'<urn:a> <{LABEL}> "{"x" * 10_000_000}" .\n'.encode()
    f.write_bytes(gzip.compress(b"<urn:a> <urn:b> <urn:c> .\n" + line) if ext.endswith(".gz")
                  else b"<urn:a> <urn:b> <urn:c> .\n" + line)
    for spec in (f"rdf:{f}", f"memory:{f}"):
        with pytest.raises(KBFormatError, match="line longer") as err:
            within(10, load_kb, spec)
        assert err.value.path == "line 2"
    with raised(rdf_line_bytes=20_000_000):
        assert check_rdf_file(f) in ("nt", "nq")


def test_line_numbers_across_blocks(tmp_path):
    f = tmp_path / "x.nt"
    short = b"<urn:a> <urn:b> <urn:c> .\n"
    f.write_bytes(short * 100_000 + b"<urn:a> <urn:b> \"" + b"y" * 300_000 + b"\" .\n")
    with pytest.raises(KBFormatError) as err:
        check_rdf_file(f)
    assert err.value.path == "line 100001"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_kb_file_does_not_block(tmp_path):
    fifo = tmp_path / "kb.nt"
    os.mkfifo(fifo)
    with pytest.raises(KBSpecError, match="regular file"):
        within(10, load_kb, f"rdf:{fifo}")


@pytest.mark.parametrize("spec", ["missing.ttl", "rdf:missing.nt", "csv:missing.csv", "tsv:nope.tsv",
                                  "memory:missing.ttl", "csv:", "memory:" * 2000])
def test_bad_specs_are_named(spec):
    with pytest.raises(KBSpecError) as err:
        within(5, check_spec, spec)
    assert "missing" in str(err.value) or "nope" in str(err.value) or "memory:" in str(err.value) \
        or "needs a file" in str(err.value)


def test_a_directory_of_other_files_is_not_made_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KBSpecError, match="no oxigraph store"):
        load_kb(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    with pytest.raises(KBSpecError, match="got a file"):
        load_kb(f"oxigraph:{tmp_path / 'notes.txt'}")
    empty = tmp_path / "store"
    empty.mkdir()
    kb = load_kb(str(empty))  # an empty directory becomes a store
    kb.add("urn:a", "urn:b", "urn:c")
    kb.store.flush()
    del kb
    assert len(load_kb(f"oxigraph:{empty}", read_only=True)) == 1  # and opens again


def test_load_kbs_checks_every_spec_before_hashing(tmp_path):
    from nsreason.retrieve.setup import load_kbs

    for extra in ("missing.ttl", str(tmp_path), "csv:missing.csv"):
        (tmp_path / "x.txt").write_text("x")
        with pytest.raises(KBSpecError):
            load_kbs(["default", extra])


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["missing.ttl", "csv:missing.csv", "DIR", "BOMB", "LONG"])
def test_cli_kb_next_to_the_default(tmp_path, bomb, extra):
    """`--kb default --kb X` is a typed error naming X (exit 2), never a crash or an abort
    inside pyoxigraph (the bomb used to grow to a 3 GB literal there: exit 134)."""
    long = tmp_path / "long.nt"
    long.write_text(f'<urn:a> <{LABEL}> "{"x" * 10_000_000}" .\n')
    (tmp_path / "notes.txt").write_text("mine")
    spec = {"DIR": str(tmp_path), "BOMB": str(bomb), "LONG": str(long)}.get(extra, extra)
    proc = run_cli(["ask", "--scene", str(SCENES), "--kb", "default", "--kb", spec,
                    "What is the cube used for?"], timeout=60)
    assert proc.returncode == 2, proc.stderr
    name = os.path.basename(spec.split(":")[-1]).encode()
    assert name in proc.stderr, proc.stderr
