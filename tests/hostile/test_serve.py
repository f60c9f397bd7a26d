"""Hostile clients of the local server (``nsreason serve``): huge, malformed and slow
requests get a 4xx (or, still sending their head, a closed connection) in bounded time, and
the server keeps answering others meanwhile."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from nsreason.scene.clevr import load_clevr_scenes
from nsreason.serve import Explorer, make_server
from tests.hostile.bounds import SCENES

READ = 1.0  # the server's read deadline in these tests (READ_SECONDS is 10)


@pytest.fixture(scope="module")
def address():
    explorer = Explorer(load_clevr_scenes(SCENES), None, source="scenes.json")  # refusals only
    server = make_server(explorer, "127.0.0.1", 0, read_seconds=READ)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def exchange(address, parts: list[bytes], gap: float = 0.0, bound: float = 10) -> tuple[bytes, float]:
    """Send ``parts`` (``gap`` s apart) and read until the server closes; (reply, seconds)."""
    t0 = time.perf_counter()
    with socket.create_connection(address, timeout=bound) as s:
        for part in parts:
            try:
                s.sendall(part)
            except OSError:
                break
            if gap:
                time.sleep(gap)
        out = b""
        while True:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            out += data
    return out, time.perf_counter() - t0


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


HEAD = b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"


@pytest.mark.parametrize(("request_bytes", "expected"), [
    (HEAD + b"Content-Length: 99999999999\r\n\r\n", 413),
    (HEAD + b"Content-Length: -5\r\n\r\n", 413),
    (HEAD + b"Content-Length: 1e3\r\n\r\n", 413),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411),
    (b'POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"a": [1,',
     415),
    (HEAD + b"Content-Length: 6\r\nConnection: close\r\n\r\nscene=", 400),
    (HEAD + b"Content-Length: 12\r\nConnection: close\r\n\r\nscene=\xff\xfe\x00zzzz", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n", 400),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 150 + b"\r\n", 431),
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 404),
    (b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 421),
    (b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
    (b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
    (b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
    (b"\x1b[2J / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405),
])
def test_malformed_requests_get_a_4xx(address, request_bytes, expected):
    reply, took = exchange(address, [request_bytes])
    # a request line without an HTTP version is answered the HTTP/0.9 way: the page alone
    assert status(reply) == expected or (expected == 400 and b"Error code: 400" in reply), reply[:300]
    assert took < 5 and b"Traceback" not in reply and b"root:" not in reply
    assert b"\x1b" not in reply


def test_a_body_that_never_comes_gets_408(address):
    reply, took = exchange(address, [HEAD + b"Content-Length: 100\r\n\r\nscene=1"])
    assert status(reply) == 408 and READ * 0.8 < took < READ + 4


def test_a_trickled_body_gets_408_by_the_deadline(address):
    # a byte every 0.2 s never times one read out: the deadline is for the whole request
    parts = [HEAD + b"Content-Length: 1000\r\n\r\n", *([b"a"] * 30)]
    reply, _ = exchange(address, parts, gap=0.2)
    assert status(reply) == 408, reply[:200]


def test_a_trickled_head_is_cut_off(address):
    parts = [bytes([b]) for b in b"GET / HTTP/1.1\r\nX-Slow: " + b"a" * 200]
    t0 = time.perf_counter()
    reply, _ = exchange(address, parts, gap=0.05, bound=15)
    assert status(reply) in (0, 408)
    # the server closed the connection long before the client finished (200 x 0.05 s)
    assert time.perf_counter() - t0 < 15


def test_a_silent_connection_is_closed_and_others_are_served(address):
    silent = socket.create_connection(address)
    try:
        reply, took = exchange(address, [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"])
        assert status(reply) == 200 and took < 5
        silent.settimeout(READ + 4)
        assert silent.recv(10) == b""  # closed by the server after READ s
    finally:
        silent.close()
