"""The SPARQL endpoint backend against a real `oxigraph serve`, a dead port and a mute one."""

from __future__ import annotations

import time

import pytest

from nsreason.kb import (
    IRI,
    KBConnectionError,
    KBQueryError,
    KBTimeoutError,
    Limits,
    SparqlEndpointKB,
    load_kb,
)
from nsreason.testing.kb_conformance import EX, SAMPLE
from tests.kb.conftest import free_port


def test_queries_a_live_server(oxigraph_server, tmp_path):
    oxigraph_server.replace(SAMPLE, tmp_path)
    kb = load_kb(f"sparql:{oxigraph_server.url}")
    assert len(list(kb.match(limit=100))) == len(SAMPLE)
    assert kb.sparql(f"ASK {{ <{EX}dog> ?p ?o }}") is True


def test_a_rejected_query_gives_the_servers_message(oxigraph_server):
    kb = SparqlEndpointKB(oxigraph_server.url)
    with pytest.raises(KBQueryError, match="HTTP 400") as err:
        kb.sparql("SELECT ?x WHERE { ?x ")
    assert err.value.source == oxigraph_server.url


def test_an_endpoint_that_is_down_gives_a_connection_error():
    url = f"http://127.0.0.1:{free_port()}/query"
    kb = SparqlEndpointKB(url)
    with pytest.raises(KBConnectionError) as err:
        list(kb.match(IRI(EX + "dog")))
    assert err.value.source == url


def test_a_slow_endpoint_gives_a_timeout_error_in_time(listener):
    kb = SparqlEndpointKB(f"http://127.0.0.1:{listener.port}/query", limits=Limits(timeout=0.3))
    t0 = time.perf_counter()
    with pytest.raises(KBTimeoutError, match="0.3 s"):
        kb.labels(IRI(EX + "dog"))
    assert time.perf_counter() - t0 < 3
    with pytest.raises(KBTimeoutError):
        kb.sparql("ASK {}", timeout=0.2)
    assert listener.connections >= 2


def test_answers_that_are_not_sparql_json_are_query_errors(oxigraph_server):
    kb = SparqlEndpointKB(oxigraph_server.base + "/")  # the server's HTML page, not /query
    with pytest.raises(KBQueryError):
        kb.sparql("ASK {}")
