"""Fixtures of the KB tests: a real `oxigraph serve` on a free loopback port, a TCP
listener that counts connection attempts, and writers of the sample KB as files."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from nsreason.kb import Triple
from nsreason.kb.table import format_cell


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_nt(triples: Iterable[Triple], path: Path) -> Path:
    """N-Triples: the table writer's cells are N-Triples terms."""
    path.write_text("".join(" ".join(format_cell(x) for x in t) + " .\n" for t in triples),
                    encoding="utf-8")
    return path


def _oxigraph_cli() -> str:
    exe = Path(sys.executable).with_name("oxigraph")
    found = str(exe) if exe.exists() else shutil.which("oxigraph")
    if not found:
        pytest.skip("the oxigraph command (PyPI package 'oxigraph') is not installed")
    return found


class OxigraphServer:
    """`oxigraph serve` over a store directory; `replace(triples)` swaps its content."""

    def __init__(self, location: Path, seed: Path) -> None:
        cli = _oxigraph_cli()
        subprocess.run([cli, "load", "--location", str(location), "--file", str(seed)],
                       check=True, capture_output=True, timeout=60)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/query"
        self.proc = subprocess.Popen(
            [cli, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                q = urllib.parse.urlencode({"query": "ASK {}"})
                with urllib.request.urlopen(f"{self.url}?{q}", timeout=1) as r:
                    r.read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    self.stop()
                    raise RuntimeError(f"oxigraph serve did not start: {err}") from None
                time.sleep(0.05)

    def _post(self, path: str, body: bytes, ctype: str) -> None:
        req = urllib.request.Request(self.base + path, data=body, method="POST",
                                     headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def replace(self, triples: Iterable[Triple], tmp: Path) -> None:
        self._post("/update", b"DROP ALL", "application/sparql-update")
        data = write_nt(triples, tmp / "replace.nt").read_bytes()
        if data:
            self._post("/store?default", data, "application/n-triples")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[OxigraphServer]:
    from nsreason.testing.kb_conformance import SAMPLE

    tmp = tmp_path_factory.mktemp("oxserve")
    server = OxigraphServer(tmp / "store", write_nt(SAMPLE, tmp / "sample.nt"))
    try:
        yield server
    finally:
        server.stop()


class Listener:
    """A TCP server on a free loopback port that counts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            self._held.append(conn)

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=2)
        for c in self._held:
            c.close()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    try:
        yield lst
    finally:
        lst.close()
