"""The local explorer (nsreason.serve, ``nsreason serve``): answers typed questions with trace
pages; refuses bad input with a message and a 4xx status, never a stack trace; listens on
loopback unless told otherwise. The browser test types a question in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nsreason.errors import InputError
from nsreason.scene.clevr import load_clevr_scenes
from nsreason.serve import MAX_BODY, Explorer, is_loopback, make_server
from tests.conftest import chromium

REPO = Path(__file__).resolve().parents[2]
CLEVR = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _DIRECT.open(req, timeout=60) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def form(**fields: str) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def message(page: str) -> str:
    m = re.search(r"id='message'>([^<]*)<", page)
    return m.group(1) if m else ""


def serving(explorer: Explorer) -> Iterator[str]:
    server = make_server(explorer, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def scenes():
    return load_clevr_scenes(CLEVR)


@pytest.fixture(scope="module")
def refusing(scenes):
    """An explorer whose refusals come before any question reaches a reasoner (it has none)."""
    yield from serving(Explorer(scenes, None, source="clevr_val_sample_scenes.json"))


@pytest.fixture(scope="module")
def explorer(scenes):
    from nsreason.api import Reasoner

    return Explorer(scenes, Reasoner("clevr", kb=None), source="clevr_val_sample_scenes.json")


@pytest.fixture(scope="module")
def url(explorer):
    yield from serving(explorer)


def test_loopback_names():
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org", ""]))


def test_a_non_loopback_host_needs_allow_remote(scenes):
    with pytest.raises(InputError, match="--allow-remote"):
        make_server(Explorer(scenes, None), "0.0.0.0", 0)


@pytest.mark.parametrize(
    ("data", "headers", "status", "said"),
    [
        (form(scene="1", question=""), {}, 400, "Type a question."),
        (form(scene="", question="How many?"), {}, 400, "Choose a scene."),
        (form(scene="1", question="x" * 600), {}, 400, "at most 500"),
        (form(scene="1", question="how\x00many"), {}, 400, "control"),
        (form(scene="42", question="How many things?"), {}, 404, "No scene &#x27;42&#x27;"),
        (b"scene=1&question=%ff%fe", {}, 400, "not valid UTF-8"),
        (json.dumps({"scene": 1}).encode(), {"Content-Type": "application/json"}, 415, "form"),
        (b"x" * (MAX_BODY + 1), {}, 413, "too large"),
    ],
)
def test_bad_input_gets_a_message_and_a_4xx(refusing, data, headers, status, said):
    got, page = request(refusing + "/ask", data, headers)
    assert got == status
    assert said in message(page)
    assert "Traceback" not in page and "<form" in page


@pytest.mark.parametrize(("path", "method", "status"), [("/nothing", "GET", 404), ("/", "DELETE", 405),
                                                        ("/ask", "GET", 405), ("/other", "POST", 404)])
def test_other_paths_and_methods_are_refused(refusing, path, method, status):
    got, page = request(refusing + path, b"" if method == "POST" else None, method=method)
    assert got == status and message(page) and "Traceback" not in page


def test_another_host_name_is_refused_on_loopback(refusing):
    got, page = request(refusing + "/", headers={"Host": "attacker.example:80"})
    assert got == 421 and "loopback" in message(page)


def test_home_lists_the_scenes(refusing):
    got, page = request(refusing + "/")
    assert got == 200
    assert re.findall(r"<option value='([^']*)'", page) == ["0", "1", "2"]
    assert "form-action 'self'" in page


@pytest.mark.slow
def test_a_question_gets_its_trace_page(url):
    got, page = request(url + "/ask", form(scene="1", question="How many red things are there?"))
    assert got == 200
    assert re.search(r"data-answer>3<", page) and page.count("data-object=") == 8
    assert "value='How many red things are there?'" in page  # the form, filled, above the trace


@pytest.mark.slow
def test_a_question_the_parser_cannot_read_is_422_with_its_parse(url):
    got, page = request(url + "/ask", form(scene="1", question="How many glorpy things are there?"))
    assert got == 422 and "unknown_word" in page and "glorpy" in page and "Traceback" not in page


@pytest.mark.slow
def test_a_failing_program_is_an_answer_with_where_and_why(url):
    got, page = request(url + "/ask", form(scene="1", question="What color is the cube?"))
    assert got == 200 and "data-verdict" not in page
    assert "not_unique" in page or "data-answer" in page  # a failed parse gave way to one that runs, or not


@pytest.mark.slow
def test_the_explorer_answers_a_typed_question_in_the_browser(url):
    b = chromium()
    with b:
        b.open(url + "/")
        b.evaluate("document.getElementById('scene').value = '1'")
        b.evaluate("document.getElementById('question').value = 'How many red things are there?'")
        b.events.clear()
        b.evaluate("document.getElementById('ask').click()")
        b.wait_for("Page.loadEventFired")
        assert b.evaluate("document.querySelector('[data-answer]').textContent") == "3"
        assert b.evaluate("document.querySelectorAll('.scene-svg [data-object]').length") == 8
        b.evaluate("document.querySelector('[data-step=\"1\"]').click()")  # the page works as from disk
        assert b.evaluate("[...document.querySelectorAll('.obj.highlighted')].length") == 3
        assert all(u.startswith(url + "/") for u in b.requests)
        # a scene the file does not have: the message, on the page
        b.evaluate("document.getElementById('scene').value = '77'")
        b.evaluate("document.getElementById('ask').click()")
        b.wait_for("Page.loadEventFired")
        assert "No scene '77'" in b.evaluate("document.getElementById('message').textContent")
        assert b.console_errors == []


@pytest.mark.slow
def test_nsreason_serve_prints_its_url_and_serves(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "nsreason.cli", "serve", "--scenes", str(CLEVR), "--kb", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line + proc.stderr.read()  # type: ignore[union-attr]
        got, page = request(m.group(0))
        assert got == 200 and "<option value='2'>" in page
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_nsreason_serve_refuses_a_public_host(capsys):
    from nsreason.cli import main

    assert main(["serve", "--scenes", str(CLEVR), "--kb", "none", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
