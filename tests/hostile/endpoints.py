"""A loopback SPARQL endpoint that misbehaves on purpose (standard library only).

:class:`HostileEndpoint` listens on ``127.0.0.1`` on a free port and answers every request
the way its ``mode`` says: silent, slow, trickling, huge, malformed in many ways, or well
(a tiny label table, so linking can be checked end to end). The benchmark
``benchmarks/hostile.py`` draws new misbehaviours from the same building blocks
(:data:`MODES` and :func:`HostileEndpoint` with ``script=``).

>>> with HostileEndpoint("good") as ep:
...     ep.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MODES", "HostileEndpoint", "sparql_json"]

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
GOOD_LABELS = {"cube": "urn:ex:cube", "sphere": "urn:ex:sphere", "bed": "urn:ex:bed"}


def sparql_json(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps({"head": {"vars": sorted({k for r in rows for k in r})},
                       "results": {"bindings": rows}}).encode()


def _head(status: str = "200 OK", ctype: str = "application/sparql-results+json",
          length: int | None = None, extra: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {ctype}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _send(body: bytes, **head: Any) -> Callable[[socket.socket, bytes, HostileEndpoint], None]:
    def reply(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
        conn.sendall(_head(length=len(body), **head) + body)
    return reply


def _good(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    from urllib.parse import parse_qs

    body = request.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    query = (parse_qs(body).get("query") or [""])[0]
    rows = [{"e": {"type": "uri", "value": iri}, "l": {"type": "literal", "value": label}}
            for label, iri in GOOD_LABELS.items() if f'"{label}"' in query]
    if query.lstrip().upper().startswith("ASK"):
        out = json.dumps({"head": {}, "boolean": True}).encode()
    else:
        out = sparql_json(rows)
    conn.sendall(_head(length=len(out)) + out)


def _silent(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    ep.stop.wait(ep.hold)


def _slow(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    if not ep.stop.wait(ep.hold):
        _good(conn, request, ep)


def _trickle_body(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head(length=100_000))
    conn.sendall(b'{"head": {"vars": []}, "results": {"bindings": [')
    while not ep.stop.wait(ep.gap):
        conn.sendall(b" ")


def _trickle_head(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 100_000:
        if ep.stop.wait(ep.gap):
            return
        conn.sendall(bytes([byte]))


def _endless(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head(ctype="application/sparql-results+json"))  # no length: until close
    chunk = b" " * 65536
    while not ep.stop.is_set():
        conn.sendall(chunk)


def _chunked_endless(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head(extra="Transfer-Encoding: chunked\r\n"))
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while not ep.stop.is_set():
        conn.sendall(chunk)


def _redirect_loop(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head("307 Temporary Redirect", "text/plain", 0, f"Location: {ep.url}\r\n"))


def _not_http(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.0\r\n" + b"\x00\xff" * 100)


def _reset(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def _short_body(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head(length=1000) + b'{"head": {}, "res')


def _bad_chunks(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
    conn.sendall(_head(extra="Transfer-Encoding: chunked\r\n") + b"zz\r\nhello\r\n0\r\n\r\n")


MODES: dict[str, Callable[[socket.socket, bytes, HostileEndpoint], None]] = {
    "good": _good,
    "silent": _silent,
    "slow": _slow,
    "trickle-body": _trickle_body,
    "trickle-head": _trickle_head,
    "huge-length": lambda c, r, e: c.sendall(_head(length=10 ** 12) + b"{" * 1000),
    "endless": _endless,
    "chunked-endless": _chunked_endless,
    "deep-json": _send(b"[" * 100_000 + b"]" * 100_000),
    "not-json": _send(b"<html><body>It works!</body></html>", ctype="text/html"),
    "nan-json": _send(b'{"boolean": NaN}'),
    "wrong-shape": _send(b'{"results": {"bindings": [1, "x", null]}}'),
    "bad-term": _send(b'{"results": {"bindings": [{"e": {"type": "uri", "value": 5}}]}}'),
    "bad-datatype": _send(b'{"results": {"bindings": [{"e": {"type": "literal", "value": "x", '
                          b'"datatype": {"a": 1}}}]}}'),
    "list-json": _send(b'["boolean"]'),
    "string-json": _send(b'"boolean"'),
    "dup-keys": _send(b'{"results": {"bindings": []}, "results": {"bindings": []}}'),
    "http-500": _send(b"\x1b[2Jinternal \xff error", status="500 Internal Server Error",
                      ctype="text/plain"),
    "redirect-loop": _redirect_loop,
    "redirect-file": _send(b"", status="302 Found", extra="Location: file:///etc/passwd\r\n"),
    "not-http": _not_http,
    "reset": _reset,
    "short-body": _short_body,
    "bad-chunks": _bad_chunks,
    "close": lambda c, r, e: None,
}
"""Misbehaviour name → what the server does with a connection (after reading the request)."""


class HostileEndpoint:
    """A loopback server answering every request as ``mode`` (one of :data:`MODES`) or with
    ``script(conn, request, endpoint)``. ``hold``: how long silent/slow ones wait; ``gap``:
    seconds between trickled bytes. A context manager; ``requests`` counts requests."""

    def __init__(self, mode: str = "good", *, script: Callable[..., None] | None = None,
                 hold: float = 60.0, gap: float = 0.05) -> None:
        self.handler = script or MODES[mode]
        self.mode = mode
        self.hold, self.gap = hold, gap
        self.stop = threading.Event()
        self.requests = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HostileEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(65536)
                if not data:
                    return
                request += data
            head, _, body = request.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                data = conn.recv(65536)
                if not data:
                    break
                body += data
            self.requests += 1
            conn.settimeout(None)
            self.handler(conn, head + b"\r\n\r\n" + body, self)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def serve_forever(mode: str, port_file: str) -> None:  # pragma: no cover - used by subprocesses
    """Run one endpoint until killed, writing its URL to ``port_file`` (for the benchmark)."""
    with HostileEndpoint(mode) as ep:
        with open(port_file, "w") as fh:
            fh.write(ep.url)
        while True:
            time.sleep(3600)
