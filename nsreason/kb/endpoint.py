"""Knowledge base behind a remote SPARQL 1.1 endpoint, over HTTP with the standard library.

Queries are POSTed (``application/x-www-form-urlencoded``) and answered as SPARQL JSON
results. Every request ends by a deadline (the query's remaining time budget, for the whole
exchange: not per read, so a server trickling bytes is cut off too) and reads at most
:attr:`~nsreason.limits.Limits.response_bytes` of answer, parsed within the JSON limits of
:mod:`nsreason.limits`: a slow endpoint raises :class:`~nsreason.kb.errors.KBTimeoutError`,
a huge or malformed answer :class:`~nsreason.kb.errors.KBQueryError`, one that is down
:class:`~nsreason.kb.errors.KBConnectionError`, an HTTP error (a query the server rejects)
:class:`~nsreason.kb.errors.KBQueryError` with the server's message.

User terms reach the server only through :func:`~nsreason.kb.sparql.sparql_term` (escaped
literals, validated IRIs). Blank nodes are not stable across requests, so a pattern that
binds a blank node matches nothing here; :meth:`facts` resolves provenance in one query.

>>> SparqlEndpointKB("http://127.0.0.1:7878/query")
SparqlEndpointKB(url='http://127.0.0.1:7878/query')
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from ..jsonio import loads_json
from ..limits import get_limits, how_to_raise
from .base import KnowledgeBase
from .errors import KBConnectionError, KBQueryError, KBSpecError, KBTimeoutError
from .limits import Budget, Limits, cut
from .sparql import SparqlQueries, rows_from_json, sparql_term, values_clause
from .terms import IRI, BNode, Term, Triple

__all__ = ["SparqlEndpointKB"]

_ACCEPT = "application/sparql-results+json, application/json;q=0.9"
_REDIRECTS = 3


def _proxy_for(scheme: str, host: str) -> tuple[str, int | None] | None:
    """The (host, port) of the proxy the environment names for ``scheme`` (``http_proxy``...),
    None when there is none or ``no_proxy`` exempts ``host``."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return (parts.hostname or "", parts.port) if parts.hostname else None


class SparqlEndpointKB(SparqlQueries, KnowledgeBase):
    """A read-only SPARQL endpoint at ``url`` (``http://`` or ``https://``)."""

    name = "sparql"
    supports_sparql = True
    remote = True

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
        """POST ``query``; the SPARQL JSON answer as a dict. The whole exchange (connect,
        headers, body, redirects) ends by the budget's deadline, however the server sends:
        a watchdog shuts the socket at the deadline, so a server trickling a byte at a
        time is cut off as surely as a silent one."""
        timeout = budget.remaining()
        if timeout <= 0:
            raise self._timeout(budget)
        deadline = time.monotonic() + timeout
        body = urllib.parse.urlencode({"query": query}).encode()
        url = self.url
        for _ in range(_REDIRECTS + 1):
            status, location, raw = self._exchange(url, body, deadline, budget)
            if status in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                    raise KBQueryError(f"the endpoint redirected to {url[:200]!r}, not http(s)",
                                       source=self.url)
                continue
            break
        else:
            raise KBQueryError(f"the endpoint redirected more than {_REDIRECTS} times",
                               source=self.url)
        if not 200 <= status < 300:
            detail = raw[:2000].decode("utf-8", "replace").strip()
            raise KBQueryError(f"the endpoint answered HTTP {status}: {detail or 'no message'}",
                               source=self.url)
        data = loads_json(raw, KBQueryError, source=self.url)
        if not isinstance(data, dict):
            raise KBQueryError(f"the endpoint did not answer SPARQL JSON: expected an object, got "
                               f"{type(data).__name__}", source=self.url)
        return data

    def _exchange(self, url: str, body: bytes, deadline: float,
                  budget: Budget) -> tuple[int, str | None, bytes]:
        """One POST to ``url``: (status, Location header, body), by ``deadline``."""
        import http.client
        import ssl

        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "", parts.port
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timeout(budget)
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        proxy = _proxy_for(parts.scheme, host)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(*(proxy or (host, port)), timeout=left,
                                               context=ssl.create_default_context())
            if proxy:
                conn.set_tunnel(host, port)
        else:
            conn = http.client.HTTPConnection(*(proxy or (host, port)), timeout=left)
            if proxy:
                target = url
        cut_off = threading.Event()
        held: list[socket.socket] = []  # the connection's socket (http.client may drop its own reference)

        def watchdog() -> None:
            cut_off.set()
            for sock in held:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(left, watchdog)
        timer.daemon = True
        timer.start()
        limit = get_limits().response_bytes
        try:
            conn.connect()  # within the timeout given: the time left
            if conn.sock is not None:
                held.append(conn.sock)
            if cut_off.is_set():
                raise self._timeout(budget)
            conn.request("POST", target, body=body, headers={
                "Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "nsreason", **self.headers})
            resp = conn.getresponse()
            length = resp.getheader("Content-Length")
            if length and length.strip().isdigit() and int(length) > limit:
                raise self._too_large(limit)
            chunks: list[bytes] = []
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or cut_off.is_set():
                    raise self._timeout(budget)
                for sock in held:
                    sock.settimeout(left)
                chunk = resp.read1(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise self._too_large(limit)
                chunks.append(chunk)
            if cut_off.is_set():  # the watchdog's shutdown reads as the end of the body
                raise self._timeout(budget)
            return resp.status, resp.getheader("Location"), b"".join(chunks)
        except (KBQueryError, KBTimeoutError):
            raise
        except TimeoutError as exc:
            raise self._timeout(budget) from exc
        except (OSError, http.client.HTTPException) as exc:
            if cut_off.is_set() or time.monotonic() >= deadline:
                raise self._timeout(budget) from exc
            if isinstance(exc, http.client.HTTPException) and not isinstance(exc, ConnectionError):
                raise KBQueryError(f"the endpoint's answer is not valid HTTP: {type(exc).__name__}: "
                                   f"{str(exc)[:200]}", source=self.url) from exc
            reason = exc.strerror or exc if isinstance(exc, OSError) else exc
            raise KBConnectionError(f"cannot reach the SPARQL endpoint: {reason}",
                                    source=self.url) from exc
        finally:
            timer.cancel()
            conn.close()

    def _too_large(self, limit: int) -> KBQueryError:
        return KBQueryError(f"the endpoint's answer exceeds {limit:,} bytes; narrow the query or "
                            f"add LIMIT ({how_to_raise('response_bytes')})", source=self.url)

    def _timeout(self, budget: Budget) -> KBTimeoutError:
        return KBTimeoutError(f"{budget.what}: the SPARQL endpoint did not answer within "
                              f"{budget.timeout:g} s", source=self.url)

    def _select(self, query: str, bindings: dict[str, Term],
                budget: Budget) -> Iterator[dict[str, Term]]:
        if not all(_writable(v) for v in bindings.values()):
            # blank nodes cannot be named in a new request; a string that is not an IRI
            # (or a literal with a bad language tag) is in no triple of the endpoint
            return iter(())
        rows = self._rows(self._request(query.replace("{values}", values_clause(bindings)), budget))
        if isinstance(rows, bool):
            raise KBQueryError("expected SELECT results, got a boolean", source=self.url)
        return rows

    def _rows(self, data: dict[str, Any]) -> bool | Iterator[dict[str, Term]]:
        """:func:`rows_from_json`, its errors naming the endpoint."""
        try:
            rows = rows_from_json(data)
        except KBQueryError as exc:
            raise exc.with_source(self.url) from None
        if isinstance(rows, bool):
            return rows

        def named() -> Iterator[dict[str, Term]]:
            try:
                yield from rows
            except KBQueryError as exc:
                raise exc.with_source(self.url) from None

        return named()

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
        if "boolean" not in data and "results" not in data:  # CONSTRUCT as JSON-LD
            raise KBQueryError("only SELECT and ASK queries are supported over HTTP",
                               source=self.url)
        rows = self._rows(data)
        if isinstance(rows, bool):
            return rows
        out = []
        for row in rows:
            out.append(row)
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
