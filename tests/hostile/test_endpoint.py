"""Hostile SPARQL endpoints (a loopback server, :mod:`tests.hostile.endpoints`): silent,
slow, trickling, huge and malformed answers each end in bounded time with a typed error."""

from __future__ import annotations

import time

import pytest

from nsreason.kb import IRI, KBConnectionError, KBQueryError, KBTimeoutError, Limits, MemoryKB, SparqlEndpointKB
from nsreason.kb.errors import KBError
from nsreason.kb.multi import MultiKB
from nsreason.kb.terms import RDFS, Literal
from nsreason.limits import raised
from nsreason.retrieve.link import EntityLinker
from tests.hostile.bounds import SCENES, run_cli, within
from tests.hostile.endpoints import HostileEndpoint

TIMEOUT = 0.5
BOUND = 5  # seconds: TIMEOUT plus a generous margin on a loaded machine


def _kb(ep: HostileEndpoint, timeout: float = TIMEOUT) -> SparqlEndpointKB:
    return SparqlEndpointKB(ep.url, limits=Limits(timeout=timeout))


CALLS = {
    "sparql": lambda kb: kb.sparql("SELECT * WHERE { ?s ?p ?o } LIMIT 5"),
    "ask": lambda kb: kb.sparql("ASK { ?s ?p ?o }"),
    "match": lambda kb: list(kb.match(IRI("urn:ex:cube"))),
    "labels": lambda kb: kb.labels(IRI("urn:ex:cube")),
    "by_label": lambda kb: kb.entities_by_label("cube"),
    "facts": lambda kb: kb.facts(IRI("urn:ex:cube")),
    "link": lambda kb: EntityLinker(kb).link("cubes"),
}

EXPECT = {
    "silent": KBTimeoutError, "slow": KBTimeoutError, "trickle-body": KBTimeoutError,
    "trickle-head": KBTimeoutError, "endless": (KBQueryError, KBTimeoutError),
    "chunked-endless": (KBQueryError, KBTimeoutError), "huge-length": KBQueryError,
    "deep-json": KBQueryError, "not-json": KBQueryError, "nan-json": KBQueryError,
    "wrong-shape": KBQueryError, "bad-term": KBQueryError, "bad-datatype": KBQueryError,
    "list-json": KBQueryError, "string-json": KBQueryError, "dup-keys": KBQueryError,
    "http-500": KBQueryError, "redirect-loop": KBQueryError, "redirect-file": KBQueryError,
    "not-http": KBQueryError, "reset": (KBConnectionError, KBQueryError),
    "short-body": (KBConnectionError, KBQueryError), "bad-chunks": (KBQueryError, KBConnectionError),
    "close": (KBConnectionError, KBQueryError),
}


@pytest.mark.parametrize("mode", sorted(EXPECT))
def test_each_misbehaviour_is_a_typed_error_in_time(mode):
    with HostileEndpoint(mode, hold=30) as ep, raised(response_bytes=4 << 20):
        kb = _kb(ep)
        t0 = time.perf_counter()
        with pytest.raises(EXPECT[mode]) as err:
            within(BOUND, CALLS["sparql"], kb)
        assert time.perf_counter() - t0 < BOUND
        assert err.value.source == ep.url
        assert "\x1b" not in str(err.value) or mode == "http-500"


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("mode", ["silent", "trickle-body", "trickle-head", "wrong-shape"])
def test_every_kb_method_and_the_linker_keep_the_budget(mode, call):
    with HostileEndpoint(mode, hold=30) as ep:
        kb = _kb(ep)
        t0 = time.perf_counter()
        with pytest.raises(KBError):
            within(BOUND, CALLS[call], kb)
        assert time.perf_counter() - t0 < BOUND


def test_a_trickling_server_is_cut_off_by_a_total_deadline():
    # a byte every 0.05 s never lets one read wait its timeout: only a total deadline ends it
    with HostileEndpoint("trickle-body", gap=0.05) as ep:
        t0 = time.perf_counter()
        with pytest.raises(KBTimeoutError, match="0.5 s"):
            within(BOUND, _kb(ep).sparql, "ASK {}")
        assert 0.4 < time.perf_counter() - t0 < 3


def test_a_good_endpoint_still_answers_and_links_by_query():
    with HostileEndpoint("good") as ep:
        kb = _kb(ep, timeout=5)
        assert kb.sparql("ASK { ?s ?p ?o }") is True
        links = EntityLinker(kb).link("Cubes")
        assert [(str(link.entity), link.method) for link in links] == [("urn:ex:cube", "variant")]
        # linking asked for the mention's forms, never paged through the endpoint's labels
        assert ep.requests <= 6


def test_a_union_with_an_endpoint_indexes_the_local_part_and_queries_the_rest():
    local = MemoryKB([(IRI("urn:loc:bed"), RDFS.label, Literal("bed"))])
    with HostileEndpoint("good") as ep:
        kb = MultiKB([local, _kb(ep, timeout=5)])
        assert kb.remote
        found = {str(link.entity) for link in EntityLinker(kb).link("bed")}
        assert found == {"urn:loc:bed", "urn:ex:bed"}
    with HostileEndpoint("silent") as ep:
        kb = MultiKB([local, _kb(ep)])
        with pytest.raises(KBTimeoutError):
            within(BOUND, EntityLinker(kb).link, "bed")


def test_an_answer_over_the_response_limit_is_refused():
    with HostileEndpoint("endless") as ep, raised(response_bytes=1 << 20), \
            pytest.raises(KBQueryError, match="exceeds 1,048,576 bytes"):
        within(BOUND, _kb(ep, timeout=20).sparql, "ASK {}")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["silent", "trickle-body", "not-json"])
def test_cli_with_a_hostile_endpoint(mode):
    """`ask --kb sparql:URL` with a knowledge question: exit 2 with a typed error well within
    the documented 30 s budget (plus the time to load the encoder)."""
    with HostileEndpoint(mode, hold=120) as ep:
        t0 = time.perf_counter()
        proc = run_cli(["ask", "--scene", str(SCENES), "--kb", f"sparql:{ep.url}",
                        "What is the cube used for?"], timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert ep.url.encode() in proc.stderr
        assert time.perf_counter() - t0 < 100
