"""Knowledge base behind a remote SPARQL 1.1 endpoint, over HTTP with the standard library.

Queries are POSTed (``application/x-www-form-urlencoded``) and answered as SPARQL JSON
results. Every request has a socket timeout (the query's remaining time budget): a slow
endpoint raises :class:`~nsreason.kb.errors.KBTimeoutError`, one that is down
:class:`~nsreason.kb.errors.KBConnectionError`, an HTTP error (a query the server rejects)
:class:`~nsreason.kb.errors.KBQueryError` with the server's message.

User terms reach the server only through :func:`~nsreason.kb.sparql.sparql_term` (escaped
literals, validated IRIs). Blank nodes are not stable across requests, so a pattern that
binds a blank node matches nothing here; :meth:`facts` resolves provenance in one query.

>>> SparqlEndpointKB("http://127.0.0.1:7878/query")
SparqlEndpointKB(url='http://127.0.0.1:7878/query')
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from .base import KnowledgeBase
from .errors import KBConnectionError, KBQueryError, KBSpecError, KBTimeoutError
from .limits import Budget, Limits, cut
from .sparql import SparqlQueries, rows_from_json, sparql_term, term_from_json, values_clause
from .terms import IRI, BNode, Term, Triple

__all__ = ["SparqlEndpointKB"]

_ACCEPT = "application/sparql-results+json, application/json;q=0.9"
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class SparqlEndpointKB(SparqlQueries, KnowledgeBase):
    """A read-only SPARQL endpoint at ``url`` (``http://`` or ``https://``)."""

    name = "sparql"
    supports_sparql = True

    def __init__(self, url: str, *, limits: Limits | None = None,
                 headers: dict[str, str] | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise KBSpecError(f"a SPARQL endpoint needs an http(s) URL, got {url!r}")
        self.url = url
        self.headers = dict(headers or {})
        if limits is not None:
            self.limits = limits

    def _source(self) -> str | None:
        return self.url

    def __repr__(self) -> str:
        return f"SparqlEndpointKB(url={self.url!r})"

    # ------------------------------------------------------------------ HTTP
    def _request(self, query: str, budget: Budget) -> dict[str, Any]:
        timeout = budget.remaining()
        if timeout <= 0:
            budget.check()
        body = urllib.parse.urlencode({"query": query}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "nsreason", **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace").strip()
            raise KBQueryError(f"the endpoint answered HTTP {exc.code}: {detail or exc.reason}",
                               source=self.url) from None
        except TimeoutError as exc:
            raise self._timeout(budget) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)) or budget.remaining() <= 0:
                raise self._timeout(budget) from exc
            raise KBConnectionError(f"cannot reach the SPARQL endpoint: {exc.reason}",
                                    source=self.url) from exc
        except OSError as exc:  # ConnectionError and socket errors outside urllib's wrapping
            if budget.remaining() <= 0:
                raise self._timeout(budget) from exc
            raise KBConnectionError(f"connection to the SPARQL endpoint failed: {exc}",
                                    source=self.url) from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise KBQueryError(f"the endpoint's answer exceeds {MAX_RESPONSE_BYTES} bytes; "
                               "narrow the query or add LIMIT", source=self.url)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise KBQueryError(f"the endpoint did not answer SPARQL JSON: {exc}",
                               source=self.url) from exc

    def _timeout(self, budget: Budget) -> KBTimeoutError:
        return KBTimeoutError(f"{budget.what}: the SPARQL endpoint did not answer within "
                              f"{budget.timeout:g} s", source=self.url)

    def _select(self, query: str, bindings: dict[str, Term],
                budget: Budget) -> Iterator[dict[str, Term]]:
        if not all(_writable(v) for v in bindings.values()):
            # blank nodes cannot be named in a new request; a string that is not an IRI
            # (or a literal with a bad language tag) is in no triple of the endpoint
            return iter(())
        rows = rows_from_json(self._request(query.replace("{values}", values_clause(bindings)),
                                            budget))
        if isinstance(rows, bool):
            raise KBQueryError("expected SELECT results, got a boolean", source=self.url)
        return rows

    # ------------------------------------------------------------------ core
    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        bound = {k: v for k, v in (("s", s), ("p", p), ("o", o)) if v is not None}
        query = "SELECT * WHERE { {values} ?s ?p ?o }"
        if budget.limit is not None:
            query += f" LIMIT {int(budget.limit)}"
        for row in self._select(query, bound, budget):
            row = {**bound, **row}
            yield Triple(row["s"], row["p"], row["o"])

    def sparql(self, query: str, *, limit: int | None = None,
               timeout: float | None = None) -> Any:
        n = self._limit(limit)
        budget = self._budget(timeout, "sparql")
        with budget:
            data = self._request(query, budget)
        if "boolean" in data:
            return bool(data["boolean"])
        if "results" not in data:  # CONSTRUCT answered as JSON-LD is not supported
            raise KBQueryError("only SELECT and ASK queries are supported over HTTP",
                               source=self.url)
        out = []
        for row in data["results"]["bindings"]:
            out.append({k: term_from_json(v) for k, v in row.items()})
            if len(out) > n:
                break
        return cut(out, n)


def _writable(term: Term) -> bool:
    if isinstance(term, BNode):
        return False
    try:
        sparql_term(term)
    except KBQueryError:
        return False
    return True
