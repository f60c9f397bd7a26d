"""The hostile-input acceptance run (issue 15): a fresh, seeded set of hostile inputs of every
class, run against the ``nsreason`` command and the API, each in a subprocess with a time bound.

    .venv/bin/python benchmarks/hostile.py --seed 1 [--per-class N] [--jobs 2] [--json PATH]

The cases are *generated* from the seed (new nestings, encodings, KB bombs, endpoint
misbehaviours, request floods...), never the fixed cases of ``tests/hostile``. Classes:

* ``depth-size``: deep JSON (scene files, ``@FILE`` programs, CLEVR programs), huge integers,
  huge fields, devices and oversized files, YAML alias bombs as ``--vocabulary``, nested
  ``memory:`` specs;
* ``printable``: control characters, bidi overrides and lone surrogates in scene strings
  (text and ``--json`` output), undecodable bytes in questions;
* ``questions``: over-long words and floods of punctuation/emoji (CLI, with the question limit
  raised, through the knowledge path) and non-string questions (API);
* ``kb-files``: missing or misplaced ``--kb`` specs next to the default KB, billion-laughs and
  flat-entity RDF/XML, parameter entities, over-long N-Triples lines (plain and gzipped),
  FIFOs, directories of other files (CLI and ``load_kb``);
* ``endpoints``: a loopback SPARQL endpoint misbehaving as drawn (silent, slow, trickling
  head or body, endless, random status, random bytes, wrong JSON shapes, redirects), through
  every KB method and the entity linker (API) and ``ask --kb sparql:URL`` (CLI);
* ``files``: FIFOs as ``--scene``/``@FILE``/``--vocabulary``, ``@FILE`` programs holding a
  secret, traces mutated at random (``Trace.from_json``), native scenes mutated at random;
* ``server``: ``nsreason serve`` sent huge, malformed and slow requests.

A case is **bad** when: stderr holds a Python traceback; the exit code is not 0, 1 or 2; it
ran past its bound; a secret of the input shows in the output (``leak``); a file appeared
where none should (the working directory, a KB directory: ``wrote``); output that is not
valid UTF-8 or holds terminal controls (``unprintable``); for the server, no 4xx within the
bound or a 5xx. The table prints, per class, the cases and the bad cases by reason.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import json
import os
import random
import re
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.hostile.endpoints import HostileEndpoint  # noqa: E402

PY = str(REPO / ".venv" / "bin" / "python")
NSREASON = str(REPO / ".venv" / "bin" / "nsreason")
SCENES = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"
CONTROLS = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
KNOWLEDGE_Q = "What is the cube used for?"


@dataclass
class Case:
    cls: str
    name: str
    argv: list[str | bytes] | None = None  # CLI arguments
    api: str | None = None  # Python code (the API)
    bound: float = 60.0
    secret: bytes | None = None
    watch: list[Path] = field(default_factory=list)  # folders that must not change
    env: dict[str, str] = field(default_factory=dict)
    endpoint: Any = None  # a HostileEndpoint to start for the case
    printable: bool = True  # check that output is printable


# ---------------------------------------------------------------------------- generators
class Gen:
    def __init__(self, seed: int, work: Path) -> None:
        self.r = random.Random(seed)
        self.seed = seed
        self.work = work
        self.n = 0

    def path(self, suffix: str) -> Path:
        self.n += 1
        folder = self.work / f"in{self.n}"
        folder.mkdir()
        return folder / f"{''.join(self.r.choices(string.ascii_lowercase, k=6))}{suffix}"

    def deep_json(self, depth: int) -> str:
        opens, closes = [], []
        for _ in range(depth):
            if self.r.random() < 0.5:
                opens.append("[")
                closes.append("]")
            else:
                key = json.dumps("".join(self.r.choices("abcxyz", k=self.r.randint(1, 4))))
                opens.append("{" + key + ":")
                closes.append("}")
        inner = self.r.choice(["1", "null", '"x"', "[]", "{}"])
        tail = "".join(reversed(closes)) if self.r.random() < 0.8 else "".join(reversed(closes))[: depth // 2]
        return "".join(opens) + inner + tail

    def weird(self, n: int) -> str:
        pool = [
            "\x1b[2J",
            "\x1b]0;t\x07",
            "\x9b",
            "\ud800",
            "\udfff",
            "\u202e",
            "\u2066",
            "\x00",
            "\r",
            "\x08",
            "\u0085",
            "\ufeff",
            "é",
            "😀",
            "\n  9 forged |",
            "\x7f",
        ]
        return "".join(self.r.choice(pool + list("abc ")) for _ in range(n))

    def secret(self) -> bytes:
        return f"SECRET{self.r.getrandbits(64):016x}".encode()


def depth_size(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    for i in range(n):
        kind = i % 7
        if kind == 0:
            f = g.path(".json")
            f.write_text(g.deep_json(g.r.randint(150, 60_000)))
            out.append(Case("depth-size", "deep scene file", ["run", "--scene", str(f), "--program", "count(scene())"]))
        elif kind == 1:
            f = g.path(".json")
            f.write_text(g.deep_json(g.r.randint(150, 60_000)))
            out.append(Case("depth-size", "deep @FILE program", ["run", "--scene", str(SCENES), "--program", f"@{f}"]))
        elif kind == 2:
            digits = "9" * g.r.randint(4_400, 40_000)
            where = g.r.choice(["inputs", "value_inputs", "key"])
            node = {"function": "filter_color", "inputs": [0], "value_inputs": ["red"]}
            text = json.dumps([{"function": "scene", "inputs": []}, node, {"function": "count", "inputs": [1]}])
            text = (
                text.replace("[0]", f"[{digits}]", 1)
                if where == "inputs"
                else text.replace('["red"]', f"[{digits}]")
                if where == "value_inputs"
                else text[:-2] + f', "k": {digits}}}]'
            )
            out.append(
                Case("depth-size", f"huge integer in {where}", ["run", "--scene", str(SCENES), "--program", text])
            )
        elif kind == 3:
            f = g.path(".yaml")
            levels, width = g.r.randint(6, 12), g.r.randint(5, 12)
            lines = [f'a0: &a0 ["{g.r.choice(["lol", "ha", "x" * 50])}"]']
            lines += [f"a{k}: &a{k} [{', '.join(f'*a{k - 1}' for _ in range(width))}]" for k in range(1, levels)]
            f.write_text("\n".join(lines) + "\n")
            out.append(
                Case(
                    "depth-size",
                    "YAML alias bomb vocabulary",
                    ["run", "--scene", str(SCENES), "--program", "count(scene())", "--vocabulary", str(f)],
                )
            )
        elif kind == 4:
            data = json.loads(SCENES.read_text())
            data["scenes"] = data["scenes"][:1]
            field_name = g.r.choice(["color", "shape", "material", "size"])
            data["scenes"][0]["objects"][0][field_name] = g.r.choice("xyz") * g.r.randint(100_000, 5_000_000)
            f = g.path(".json")
            f.write_text(json.dumps(data))
            out.append(
                Case(
                    "depth-size", f"huge {field_name} field", ["run", "--scene", str(f), "--program", "count(scene())"]
                )
            )
        elif kind == 5:
            spec = "memory:" * g.r.randint(2, 5000) + g.r.choice(["", "x.ttl", "rdf:x.nt", "csv:y.csv"])
            out.append(
                Case("depth-size", "nested memory: spec", ["ask", "--scene", str(SCENES), "--kb", spec, KNOWLEDGE_Q])
            )
        else:
            f = g.path(".txt")
            f.write_bytes(b" " * g.r.randint(1_100_000, 3_000_000) + b"count(scene())")
            dev = g.r.choice(["/dev/zero", "/dev/urandom", str(f)])
            flag = g.r.choice(["--program", "--scene"])
            argv = [
                "run",
                "--scene",
                dev if flag == "--scene" else str(SCENES),
                "--program",
                f"@{dev}" if flag == "--program" else "count(scene())",
            ]
            out.append(Case("depth-size", f"device or oversized {flag}", argv))
    return out


def printable(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    for i in range(n):
        if i % 3 == 2:
            q = (
                b"What "
                + bytes(g.r.choice([0xFF, 0xFE, 0xC3, 0x80, 0x1B, 0x9B, 0xED]) for _ in range(g.r.randint(1, 6)))
                + b" color is the cube"
                + bytes([g.r.randint(0x80, 0xFF)])
                + b"?"
            )
            argv: list[str | bytes] = ["ask", "--kb", "none", "--scene", str(SCENES), q]
            out.append(
                Case("printable", "undecodable question", argv + (["--json"] if g.r.random() < 0.5 else []), bound=90)
            )
            continue
        objects = [
            {
                "id": k,
                "name": g.weird(g.r.randint(1, 12)),
                "attributes": {g.r.choice(["color", g.weird(3)]): g.weird(g.r.randint(1, 6))},
            }
            for k in range(g.r.randint(1, 4))
        ]
        f = g.path(".json")
        f.write_text(json.dumps({"format": "nsreason.scene/1", "id": g.weird(5), "objects": objects}), encoding="utf-8")
        program = g.r.choice(["count(scene())", "unique(scene())", "exist(scene())", "query_color(unique(scene()))"])
        argv = ["run", "--scene", str(f), "--program", program] + (["--json"] if g.r.random() < 0.5 else [])
        out.append(Case("printable", "escape codes and surrogates in a scene", argv))
    return out


def questions(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            word = "".join(g.r.choices("abcdefghij", k=g.r.randint(50_000, 120_000)))  # one argument: at most 128 KiB
            out.append(
                Case(
                    "questions",
                    "one huge word (limit raised)",
                    ["ask", "--kb", "none", "--scene", str(SCENES), f"What color is the {word}?"],
                    env={"NSREASON_LIMITS": "question_chars=300000"},
                    bound=90,
                )
            )
        elif kind == 1:
            flood = "".join(
                g.r.choices(
                    ["?", "!", ".", ",", ";", "😀", "🎉", "‽", "…", "\u200d", "👍🏽"], k=g.r.randint(10_000, 28_000)
                )
            )
            out.append(
                Case(
                    "questions",
                    "punctuation/emoji flood, knowledge path",
                    ["ask", "--scene", str(SCENES), f"What is {flood} used for?"],
                    env={"NSREASON_LIMITS": "question_chars=100000"},
                    bound=120,
                )
            )
        elif kind == 2:
            flood = "".join(g.r.choices("?!.😀", k=g.r.randint(2_001, 28_000)))
            out.append(Case("questions", "over-long question (default limit)", ["ask", "--scene", str(SCENES), flood]))
        else:
            value = g.r.choice(
                [
                    'b"What is the bed used for?"',
                    "None",
                    "42",
                    "['What', 'is']",
                    "3.5",
                    "bytearray(b'What color')",
                    "type('S', (), {'__str__': lambda s: 'What color?'})()",
                ]
            )
            method = g.r.choice(["ask", "ground"])
            out.append(
                Case(
                    "questions",
                    f"non-string question ({method})",
                    api=(
                        "from nsreason.api import Reasoner\nfrom nsreason.scene.clevr import load_clevr_scenes\n"
                        f"s = load_clevr_scenes({str(SCENES)!r})[0]\n"
                        f"r = Reasoner('clevr', kb='default')\nr.{method}(s, {value})\n"
                        "print('answered a non-string question', file=sys.stderr)\nraise SystemExit(3)\n"
                    ),
                    bound=90,
                )
            )
    return out


def _laughs(g: Gen) -> str:
    levels, width = g.r.randint(4, 12), g.r.randint(4, 20)
    ents = [f'<!ENTITY e0 "{g.r.choice(["lol", "ha", "x" * 30])}">'] + [
        f'<!ENTITY e{k} "{"".join(f"&e{k - 1};" for _ in range(width))}">' for k in range(1, levels)
    ]
    where = g.r.choice(["text", "attr"])
    body = (
        f'<rdf:Description rdf:about="urn:x"><rdfs:label>&e{levels - 1};</rdfs:label></rdf:Description>'
        if where == "text"
        else f'<rdf:Description rdf:about="urn:x" rdfs:label="&e{levels - 1};"/>'
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{chr(10).join(ents)}\n]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n{body}\n</rdf:RDF>\n'
    )


def _flat(g: Gen) -> str:
    uses, elements = g.r.randint(50, 400), g.r.randint(50, 3000)
    body = "".join(
        f'<rdf:Description rdf:about="urn:x{k}"><rdfs:label>{"&e;" * uses}</rdfs:label></rdf:Description>\n'
        for k in range(elements)
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY e "{"y" * g.r.randint(200, 2000)}">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n{body}</rdf:RDF>\n'
    )


def kb_files(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    for i in range(n):
        kind = i % 8
        watch: list[Path] = []
        if kind == 0:
            spec = (
                g.r.choice(["", "csv:", "tsv:", "rdf:", "memory:"])
                + f"/nonexistent/{g.r.randint(0, 10**6)}.{g.r.choice(['ttl', 'nt', 'csv', 'rdf.gz', 'nq', 'tsv'])}"
            )
            name = "missing file spec"
        elif kind == 1:
            folder = g.path("")
            folder.mkdir()
            for k in range(g.r.randint(1, 4)):
                (folder / f"mine{k}.txt").write_text("mine")
            watch.append(folder)
            spec = g.r.choice([str(folder), f"oxigraph:{folder}"])
            name = "directory of other files"
        elif kind == 2:
            f = g.path(g.r.choice([".rdf", ".owl", ".rdf.gz"]))
            text = _laughs(g).encode()
            f.write_bytes(gzip.compress(text) if f.name.endswith(".gz") else text)
            spec, name = str(f), "billion laughs RDF/XML"
        elif kind == 3:
            f = g.path(".rdf")
            f.write_text(_flat(g))
            spec, name = str(f), "flat entity expansion"
        elif kind == 4:
            f = g.path(g.r.choice([".nt", ".nq", ".nt.gz"]))
            line = (
                f'<urn:a> <http://www.w3.org/2000/01/rdf-schema#label> "{"z" * g.r.randint(300_000, 20_000_000)}" .\n'
            )
            data = b"<urn:a> <urn:b> <urn:c> .\n" * g.r.randint(0, 1000) + line.encode()
            f.write_bytes(gzip.compress(data) if f.name.endswith(".gz") else data)
            spec, name = str(f), "over-long N-Triples line"
        elif kind == 5:
            f = g.path(g.r.choice([".ttl", ".nt", ".csv"]))
            os.mkfifo(f)
            spec, name = str(f), "FIFO as KB file"
        elif kind == 6:
            f = g.path(".rdf")
            f.write_text(
                f'<!DOCTYPE rdf:RDF [<!ENTITY % p{g.r.randint(0, 99)} "x"> ]>'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
            )
            spec, name = str(f), "parameter entity"
        else:
            spec = f"sparql:{g.r.choice(['ftp://x/q', 'http://', 'file:///etc/passwd', 'http://[::1', 'gopher://a'])}"
            name = "bad sparql: URL"
        if g.r.random() < 0.6:
            argv: list[str | bytes] = ["ask", "--scene", str(SCENES), "--kb", "default", "--kb", spec, KNOWLEDGE_Q]
            out.append(Case("kb-files", f"{name} (CLI, next to default)", argv, bound=120, watch=watch))
        else:
            out.append(
                Case(
                    "kb-files",
                    f"{name} (load_kb)",
                    api=f"from nsreason.kb import load_kb\nload_kb({spec!r})\n",
                    bound=60,
                    watch=watch,
                )
            )
    return out


def _random_script(g: Gen) -> tuple[str, Any]:
    """A misbehaviour drawn at random: (name, script for HostileEndpoint)."""
    kind = g.r.choice(["status", "bytes", "shape", "trickle", "partial-head", "redirect", "deep", "big"])
    status = g.r.choice([100, 101, 199, 204, 206, 300, 304, 401, 404, 418, 500, 502, 503, 599])
    junk = bytes(g.r.getrandbits(8) for _ in range(g.r.randint(0, 3000)))
    shapes = [
        '{"results": {"bindings": {"a": 1}}}',
        '{"boolean": "yes"}',
        '{"results": []}',
        "[]",
        "17",
        '{"results": {"bindings": [{"x": {"type": "weird", "value": "v"}}]}}',
        '{"results": {"bindings": [{"x": {"type": "literal", "value": "v", "xml:lang": 5}}]}}',
        '{"head": {}, "results": {"bindings": [{"x": {"type": "uri"}}]}}',
        '{"boolean": NaN}',
        '{"results": {"bindings": [' + ", ".join(['{"x": {"type": "uri", "value": "urn:a"}}'] * 3) + "]}, "
        '"results": 1}',
    ]
    shape = g.r.choice(shapes).encode()
    gap = g.r.uniform(0.01, 0.4)
    depth = g.r.randint(200, 200_000)

    def head(code: int, length: int | None, extra: str = "") -> bytes:
        lines = [f"HTTP/1.1 {code} X", "Content-Type: application/sparql-results+json", "Connection: close"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()

    def script(conn: socket.socket, request: bytes, ep: HostileEndpoint) -> None:
        if kind == "status":
            conn.sendall(head(status, len(junk)) + junk)
        elif kind == "bytes":
            conn.sendall(junk)
        elif kind == "shape":
            conn.sendall(head(200, len(shape)) + shape)
        elif kind == "trickle":
            conn.sendall(head(200, 10_000))
            while not ep.stop.wait(gap):
                conn.sendall(b"[")
        elif kind == "partial-head":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Ty")
            ep.stop.wait(60)
        elif kind == "redirect":
            loc = g.r.choice([ep.url, "file:///etc/passwd", "http://127.0.0.1:1/x", "//", "javascript:1"])
            conn.sendall(head(g.r.choice([301, 302, 303, 307, 308]), 0, f"Location: {loc}\r\n"))
        elif kind == "deep":
            body = b"[" * depth + b"]" * depth
            conn.sendall(head(200, len(body)) + body)
        else:
            conn.sendall(head(200, None))
            while not ep.stop.is_set():
                conn.sendall(b" " * 65536)

    return kind, script


def endpoints(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    calls = [
        "kb.sparql('SELECT * WHERE { ?s ?p ?o } LIMIT 3')",
        "kb.sparql('ASK { ?s ?p ?o }')",
        "list(kb.match(IRI('urn:ex:cube')))",
        "kb.labels(IRI('urn:ex:cube'))",
        "kb.entities_by_label('cube')",
        "kb.facts(IRI('urn:ex:cube'))",
        "EntityLinker(kb).link('cubes')",
        "EntityLinker(MultiKB([MemoryKB(), kb])).link('the cube')",
        "list(kb.paths('urn:a', 'urn:b'))",
    ]
    for i in range(n):
        if g.r.random() < 0.5:
            mode = g.r.choice(
                [
                    "silent",
                    "slow",
                    "trickle-body",
                    "trickle-head",
                    "endless",
                    "chunked-endless",
                    "huge-length",
                    "not-http",
                    "reset",
                    "short-body",
                    "bad-chunks",
                    "close",
                ]
            )
            ep = HostileEndpoint(mode, hold=g.r.uniform(5, 60), gap=g.r.uniform(0.01, 0.3))
            name = mode
        else:
            name, script = _random_script(g)
            ep = HostileEndpoint(script=script)
            name = f"random {name}"
        if i % 6 == 5:
            out.append(
                Case(
                    "endpoints",
                    f"{name} (CLI ask --kb sparql:)",
                    ["ask", "--scene", str(SCENES), "--kb", "sparql:URL", KNOWLEDGE_Q],
                    bound=120,
                    endpoint=ep,
                )
            )
            continue
        timeout = round(g.r.uniform(0.2, 3.0), 2)
        call = g.r.choice(calls)
        api = (
            "from nsreason.kb import IRI, Limits, MemoryKB, SparqlEndpointKB\nfrom nsreason.kb.multi import MultiKB\n"
            "from nsreason.retrieve.link import EntityLinker\n"
            f"kb = SparqlEndpointKB('URL', limits=Limits(timeout={timeout}))\n{call}\n"
        )
        out.append(
            Case("endpoints", f"{name} ({call.split('(')[0]})", api=api, bound=max(20.0, 6 * timeout + 10), endpoint=ep)
        )
    return out


def files(g: Gen, n: int) -> list[Case]:
    out: list[Case] = []
    trace = json.loads(
        subprocess.run(
            [NSREASON, "run", "--scene", str(SCENES), "--program", "count(filter_color[red](scene()))", "--json"],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
    )
    for i in range(n):
        kind = i % 4
        if kind == 0:
            f = g.path(g.r.choice([".json", ".yaml", ".txt"]))
            os.mkfifo(f)
            where = g.r.choice(["--scene", "--program", "--vocabulary"])
            argv: list[str | bytes] = [
                "run",
                "--scene",
                str(f) if where == "--scene" else str(SCENES),
                "--program",
                f"@{f}" if where == "--program" else "count(scene())",
            ]
            if where == "--vocabulary":
                argv += ["--vocabulary", str(f)]
            out.append(Case("files", f"FIFO as {where}", argv))
        elif kind == 1:
            secret = g.secret()
            f = g.path(g.r.choice([".txt", ".json", ".env"]))
            body = (
                g.r.choice(
                    [
                        b"KEY=%s\nPATH=/usr/bin\n",
                        b'{"token": "%s"}',
                        b"count(filter_color[%s](scene()))",
                        b'[{"function": "%s", "inputs": []}]',
                        b"scene %s count",
                        b"%s",
                    ]
                )
                % secret
            )
            f.write_bytes(body)
            out.append(
                Case(
                    "files",
                    "@FILE holding a secret",
                    ["run", "--scene", str(SCENES), "--program", f"@{f}"],
                    secret=secret,
                )
            )
        elif kind == 2:
            data = json.loads(json.dumps(trace))
            for _ in range(g.r.randint(1, 3)):
                _mutate(g, data)
            text = json.dumps(data, allow_nan=True)
            if g.r.random() < 0.3:
                text = text.replace('"answer"', '"answer": 1, "answer"', 1)
            f = g.path(".json")
            f.write_text(text, encoding="utf-8", errors="surrogatepass")
            out.append(
                Case(
                    "files",
                    "mutated trace (Trace.from_json)",
                    api=(
                        "from nsreason.trace import Trace\n"
                        f"t = Trace.from_json(open({str(f)!r}, 'rb').read())\nt.render_text(); t.to_json()\n"
                    ),
                )
            )
        else:
            data = {
                "format": "nsreason.scene/1",
                "id": 1,
                "objects": [{"id": 0, "name": "cube", "attributes": {"color": "red"}, "box": [0, 0, 1, 1]}],
                "relations": [],
            }
            for _ in range(g.r.randint(1, 3)):
                _mutate(g, data)
            f = g.path(".json")
            f.write_text(json.dumps(data, allow_nan=True), encoding="utf-8", errors="surrogatepass")
            out.append(
                Case(
                    "files",
                    "mutated native scene",
                    [
                        "run",
                        "--scene",
                        str(f),
                        "--program",
                        g.r.choice(["count(scene())", "query_color(unique(scene()))"]),
                    ],
                )
            )
    return out


def _mutate(g: Gen, data: Any) -> None:
    """Change one value somewhere in ``data`` to something hostile."""
    node, key = data, None
    for _ in range(g.r.randint(1, 5)):
        if isinstance(node, dict) and node:
            key = g.r.choice(list(node))
        elif isinstance(node, list) and node:
            key = g.r.randrange(len(node))
        else:
            break
        if isinstance(node[key], (dict, list)) and g.r.random() < 0.7:
            node = node[key]
            key = None
        else:
            break
    if key is None:
        if isinstance(node, dict):
            key = g.r.choice(list(node) or ["x"])
        elif isinstance(node, list) and node:
            key = g.r.randrange(len(node))
        else:
            return
    deep: Any = 0
    for _ in range(g.r.randint(100, 900)):
        deep = [deep]
    node[key] = g.r.choice(
        [
            float("nan"),
            float("inf"),
            -1,
            -(10**30),
            10**200,
            True,
            None,
            "",
            "x" * 3_000_000,
            "\ud800\x1b[2J",
            [],
            {},
            deep,
            1.5,
            "0",
            [None] * 1000,
            {"\ud800": 1},
        ]
    )


SERVER_REQUESTS = [
    "huge length",
    "negative length",
    "garbage",
    "slow body",
    "trickled body",
    "trickled head",
    "bad form",
    "bad utf-8",
    "json body",
    "long path",
    "many headers",
    "other host",
    "method",
    "silent",
]


def server_case(g: Gen, port: int, kind: str) -> tuple[bytes, list[bytes], float]:
    """(head, more parts, gap between them) of one hostile request."""
    host = b"Host: 127.0.0.1\r\n"
    form = b"POST /ask HTTP/1.1\r\n" + host + b"Content-Type: application/x-www-form-urlencoded\r\n"
    if kind == "huge length":
        return form + f"Content-Length: {g.r.randint(16_385, 10**15)}\r\n\r\n".encode(), [], 0
    if kind == "negative length":
        return (
            form
            + f"Content-Length: {g.r.choice(['-1', '1e9', '0x10', ' ', '99999999999999999999999'])}\r\n\r\n".encode(),
            [],
            0,
        )
    if kind == "garbage":
        return bytes(g.r.getrandbits(8) for _ in range(g.r.randint(1, 4000))) + b"\r\n\r\n", [], 0
    if kind == "slow body":
        return form + b"Content-Length: 500\r\n\r\nscene=", [], 0
    if kind == "trickled body":
        return form + b"Content-Length: 400\r\n\r\n", [b"q"] * 200, g.r.uniform(0.05, 0.3)
    if kind == "trickled head":
        return b"G", [bytes([c]) for c in b"ET / HTTP/1.1\r\nX-A: " + b"a" * 400], g.r.uniform(0.05, 0.3)
    if kind == "bad form":
        body = "&".join(
            f"{g.r.choice(['scene', 'question', 'x'])}={g.r.choice(['', '1', '%ZZ', '%00', 'a' * 600])}"
            for _ in range(g.r.randint(1, 30))
        ).encode()
        return form + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body, [], 0
    if kind == "bad utf-8":
        body = b"scene=0&question=" + bytes(g.r.getrandbits(8) for _ in range(50))
        return form + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body, [], 0
    if kind == "json body":
        body = ("[" * g.r.randint(10, 10_000)).encode()[:16_000]
        return (
            (
                b"POST /ask HTTP/1.1\r\n"
                + host
                + b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            ),
            [],
            0,
        )
    if kind == "long path":
        return b"GET /" + b"%2e%2e/" * g.r.randint(10, 20_000) + b" HTTP/1.1\r\n" + host + b"\r\n", [], 0
    if kind == "many headers":
        return b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * g.r.randint(101, 5000) + b"\r\n", [], 0
    if kind == "other host":
        return (
            f"GET / HTTP/1.1\r\nHost: {g.r.choice(['evil.example', '10.0.0.1', 'localhost.evil'])}\r\n".encode()
            + b"Connection: close\r\n\r\n",
            [],
            0,
        )
    if kind == "method":
        return (
            f"{g.r.choice(['PUT', 'DELETE', 'TRACE', 'CONNECT', 'FOO'])} / HTTP/1.1\r\n".encode()
            + host
            + b"Connection: close\r\n\r\n",
            [],
            0,
        )
    return b"", [], 0  # silent: connect and say nothing


def run_server(g: Gen, n: int, work: Path) -> list[dict[str, Any]]:
    proc = subprocess.Popen(
        [NSREASON, "serve", "--scenes", str(SCENES), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=work,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    port = int(re.search(r":(\d+)/", line).group(1))  # type: ignore[union-attr]
    results = []
    for i in range(n):
        kind = SERVER_REQUESTS[i % len(SERVER_REQUESTS)] if i < len(SERVER_REQUESTS) else g.r.choice(SERVER_REQUESTS)
        head, parts, gap = server_case(g, port, kind)
        bound = 20.0
        t0 = time.perf_counter()
        reply, bad = b"", []
        with socket.create_connection(("127.0.0.1", port), timeout=bound) as s:
            try:
                s.sendall(head)
                for p in parts:
                    if time.perf_counter() - t0 > bound:
                        break
                    time.sleep(gap)
                    s.sendall(p)
            except OSError:
                pass  # the server closed the connection: fine
            try:
                while True:
                    left = bound - (time.perf_counter() - t0)
                    if left <= 0:
                        bad.append("time")
                        break
                    s.settimeout(left)
                    data = s.recv(65536)
                    if not data:
                        break
                    reply += data
            except TimeoutError:
                bad.append("time")
            except OSError:
                pass
        took = time.perf_counter() - t0
        m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
        code = int(m.group(1)) if m else (400 if b"Error code: 400" in reply else None)
        if code is not None and code >= 500:
            bad.append("5xx")
        if code is None and kind not in ("trickled head", "silent") and "time" not in bad:
            bad.append("no 4xx")
        if b"Traceback" in reply:
            bad.append("traceback")
        results.append({"cls": "server", "name": kind, "bad": bad, "seconds": round(took, 2), "rc": code})
    alive = proc.poll() is None
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if not alive or b"Traceback" in err:
        results.append(
            {
                "cls": "server",
                "name": "server process",
                "bad": ["traceback" if alive else "died"],
                "seconds": 0,
                "rc": proc.returncode,
            }
        )
    return results


# ---------------------------------------------------------------------------- running
HARNESS = """import sys
from nsreason.errors import NSReasonError
try:
    exec(compile({code!r}, "<case>", "exec"))
except NSReasonError as exc:
    said = str(exc)[:300].encode("ascii", "backslashreplace").decode()
    print("typed error:", type(exc).__name__, said, file=sys.stderr)
    sys.exit(2)
"""


def run_case(case: Case, work: Path) -> dict[str, Any]:
    cwd = Path(tempfile.mkdtemp(dir=work, prefix="cwd"))
    before = {p: sorted(os.listdir(p)) for p in case.watch}
    env = {**os.environ, "PYTHONHASHSEED": "0", "NSREASON_LIMITS": "", **case.env}
    if case.endpoint is not None:
        case.endpoint.__enter__()
    try:
        if case.api is not None:
            code = case.api.replace("'URL'", repr(case.endpoint.url)) if case.endpoint else case.api
            cmd: list[str | bytes] = [PY, "-c", HARNESS.format(code=code)]
        else:
            assert case.argv is not None
            argv = [
                a.replace("URL", case.endpoint.url) if isinstance(a, str) and case.endpoint else a for a in case.argv
            ]
            cmd = [NSREASON, *argv]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, capture_output=True, timeout=case.bound, cwd=cwd, env=env, stdin=subprocess.DEVNULL
            )
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = None, exc.stdout or b"", exc.stderr or b""
        took = time.perf_counter() - t0
    finally:
        if case.endpoint is not None:
            case.endpoint.close()
    bad = []
    if rc is None:
        bad.append("time")
    elif rc not in (0, 1, 2):
        bad.append(f"exit {rc}")
    if b"Traceback (most recent call last)" in err:
        bad.append("traceback")
    if case.secret is not None and case.secret in out + err:
        bad.append("leak")
    if os.listdir(cwd) or any(sorted(os.listdir(p)) != names for p, names in before.items()):
        bad.append("wrote")
    if case.printable and case.api is None:
        try:
            (out + err).decode("utf-8")
            if CONTROLS.search((out + err).replace(b"\n", b"").replace(b"\t", b"")):
                bad.append("unprintable")
        except UnicodeDecodeError:
            bad.append("unprintable")
    shutil.rmtree(cwd, ignore_errors=True)
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
    return {
        "cls": case.cls,
        "name": case.name,
        "bad": bad,
        "seconds": round(took, 2),
        "rc": rc,
        "stderr_tail": tail[0][:200] if tail else "",
    }


CLASSES = {
    "depth-size": depth_size,
    "printable": printable,
    "questions": questions,
    "kb-files": kb_files,
    "endpoints": endpoints,
    "files": files,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-class", type=int, default=14, help="cases per class (the server gets as many requests)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once")
    ap.add_argument("--classes", default=",".join([*CLASSES, "server"]))
    ap.add_argument("--json", default=None, help="write every case's result here")
    args = ap.parse_args(argv)
    chosen = args.classes.split(",")
    work = Path(tempfile.mkdtemp(prefix=f"nsreason-hostile-{args.seed}-"))
    g = Gen(args.seed, work)
    cases = [c for name, make in CLASSES.items() if name in chosen for c in make(g, args.per_class)]
    print(
        f"seed {args.seed}: {len(cases)} cases + {args.per_class if 'server' in chosen else 0} server requests, "
        f"{args.jobs} at a time (work folder {work})",
        flush=True,
    )
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        for r in pool.map(lambda c: run_case(c, work), cases):
            results.append(r)
            if r["bad"]:
                print(
                    f"  BAD {r['cls']}: {r['name']}: {r['bad']} rc={r['rc']} {r['seconds']} s  {r['stderr_tail']}",
                    flush=True,
                )
    if "server" in chosen:
        results += run_server(g, args.per_class, work)
    shutil.rmtree(work, ignore_errors=True)
    by_cls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_cls[r["cls"]].append(r)
    print(f"\nhostile inputs, seed {args.seed} ({time.perf_counter() - t0:.0f} s)\n")
    print("| class | cases | bad | traceback | exit | time | leak | wrote | unprintable | other | max s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    total, total_bad = 0, 0
    for name in [*CLASSES, "server"]:
        rs = by_cls.get(name, [])
        if not rs:
            continue
        reasons: Counter[str] = Counter()
        for r in rs:
            for b in r["bad"]:
                reasons[
                    "exit"
                    if b.startswith("exit")
                    else b
                    if b in ("traceback", "time", "leak", "wrote", "unprintable")
                    else "other"
                ] += 1
        nbad = sum(1 for r in rs if r["bad"])
        total += len(rs)
        total_bad += nbad
        print(
            f"| {name} | {len(rs)} | {nbad} | {reasons['traceback']} | {reasons['exit']} | {reasons['time']} | "
            f"{reasons['leak']} | {reasons['wrote']} | {reasons['unprintable']} | {reasons['other']} | "
            f"{max(r['seconds'] for r in rs):.1f} |"
        )
    print(f"| **all** | {total} | {total_bad} | | | | | | | | |")
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "results": results}, indent=1))
    return 1 if total_bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
