"""The HTML trace pages in a real browser: headless Chromium (Debian's ``chromium`` package,
which ``.ci/run`` installs) driven over the DevTools protocol (nsreason.testing.browser).

Each test loads a page from a file:// URL, selects steps (clicks on their rows or nodes) and
asserts which objects of the scene drawing are highlighted, how neural steps are shaded, that
every object is drawn in its colour, and that the page asked for nothing but itself. They skip,
saying why, when no Chromium is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from nsreason.scene.io import load_scenes
from nsreason.scene.native import scene_from_dict
from nsreason.testing.browser import Browser
from nsreason.trace import Trace, TraceStep
from nsreason.trace.html import CLEVR_COLOURS, render_html
from tests.conftest import chromium
from tests.trace.test_html import CLEVR, GQA, REFPLUS, TRACES

pytestmark = pytest.mark.slow


HIGHLIGHTED = "[...document.querySelectorAll('.obj.highlighted')].map(e => e.dataset.object).sort()"


@pytest.fixture(scope="module")
def browser():
    b = chromium()
    yield b
    b.close()


@pytest.fixture(scope="module")
def scene():
    return load_clevr_scenes(CLEVR)[1]


def write(tmp_path: Path, name: str, html: str) -> str:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


def load(browser: Browser, url: str) -> None:
    browser.events.clear()
    browser.open(url)


def click(browser: Browser, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def only_itself(browser: Browser, url: str) -> None:
    """The page asked for nothing but its own file (no script, style, font or image URL)."""
    assert browser.requests == [url]
    assert browser.console_errors == []


def program_trace(program: str, scene) -> Trace:
    answer = SymbolicExecutor().execute(Program.from_text(program), scene, trace=True)
    assert answer.trace is not None
    return answer.trace


def test_ask_html_page_renders_steps_and_the_scene_in_colour(browser, scene, tmp_path, capsys):
    from nsreason.cli import main

    page = tmp_path / "ask.html"
    assert main(["ask", "--scene", str(CLEVR), "--index", "1", "--kb", "none", "--html", str(page),
                 "How many red things are there?"]) == 0
    capsys.readouterr()
    url = page.as_uri()
    load(browser, url)
    assert browser.evaluate("document.querySelector('[data-answer]').textContent") == "3"
    rows = browser.evaluate("[...document.querySelectorAll('tr[data-step]')].filter(e => e.offsetHeight > 0).length")
    assert rows == 3
    # one visible shape per object, each filled with its CLEVR colour
    fills = browser.evaluate("""[...document.querySelectorAll('.scene-svg [data-object]')].map(g => {
        const s = g.querySelector('.shape'); const r = s.getBoundingClientRect();
        return [g.dataset.object, getComputedStyle(s).fill, r.width > 5 && r.height > 5]; })""")
    assert sorted(int(i) for i, _, _ in fills) == list(range(len(scene.objects)))
    assert all(visible for _, _, visible in fills)
    for oid, fill, _ in fills:
        want = CLEVR_COLOURS[scene.object(int(oid)).get("color")]
        assert fill == "rgb({}, {}, {})".format(*(int(want[k:k + 2], 16) for k in (1, 3, 5)))
    assert len({fill for _, fill, _ in fills}) > 1
    click(browser, '[data-step="1"]')
    red = sorted(str(o.id) for o in scene.objects if o.get("color") == "red")
    assert browser.evaluate(HIGHLIGHTED) == red
    only_itself(browser, url)


def test_selecting_steps_highlights_their_objects_and_relations(browser, scene, tmp_path):
    trace = program_trace("relate[left](unique(filter_shape[cube](filter_color[cyan](scene()))))", scene)
    url = write(tmp_path, "relate.html", render_html(trace, scene))
    load(browser, url)
    assert browser.evaluate(HIGHLIGHTED) == []  # nothing selected yet
    click(browser, '[data-step="1"]')
    cyan = sorted(str(o.id) for o in scene.objects if o.get("color") == "cyan")
    assert len(cyan) > 1 and browser.evaluate(HIGHLIGHTED) == cyan
    assert browser.evaluate("document.querySelector('tr[data-step=\"1\"]').classList.contains('selected')")
    click(browser, '[data-step="4"]')
    assert browser.evaluate(HIGHLIGHTED) == sorted(str(i) for i in trace[4].output)
    used = browser.evaluate("""[...document.querySelectorAll('.edge.used')].map(e =>
        [e.dataset.edge, getComputedStyle(e).display])""")
    assert len(used) == len(trace[4].output) and all(display != "none" for _, display in used)
    cube = trace[3].output
    for k, _ in used:
        r = scene.relations[int(k)]
        assert r.predicate == "left" and cube in (r.subject, r.object)
    # the graph's nodes select too; the unused objects fade
    browser.evaluate("document.querySelector('[data-node=\"3\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert browser.evaluate(HIGHLIGHTED) == [str(cube)]
    assert browser.evaluate("document.querySelectorAll('.edge.used').length") == 0
    assert float(browser.evaluate("getComputedStyle(document.querySelector('.obj:not(.highlighted)')).opacity")) < 0.5
    assert browser.evaluate("document.querySelector('[data-detail=\"3\"]').hidden") is False
    only_itself(browser, url)


def test_step_in_the_url_is_selected_on_load(browser, scene, tmp_path):
    url = write(tmp_path, "hash.html", render_html(program_trace("filter_shape[sphere](scene())", scene), scene))
    load(browser, url + "#step=1")
    spheres = sorted(str(o.id) for o in scene.objects if o.get("shape") == "sphere")
    assert browser.evaluate(HIGHLIGHTED) == spheres


def test_neural_steps_shade_objects_by_attention(browser, scene, tmp_path):
    trace = Trace.from_json((TRACES / "neural.json").read_text())
    url = write(tmp_path, "neural.html", render_html(trace, scene))
    load(browser, url)
    step = next(s for s in trace.steps if len(s.details.get("attention") or {}) > 1
                and 0.05 < sorted(s.details["attention"].values())[-2] < 0.95)  # one with a soft weight
    click(browser, f'[data-step="{step.index}"]')
    shown = browser.evaluate("""Object.fromEntries([...document.querySelectorAll('.obj')].map(e =>
        [e.dataset.object, [Number(e.dataset.weight), Number(getComputedStyle(e).opacity),
                            e.classList.contains('highlighted')]]))""")
    for oid, w in step.details["attention"].items():
        weight, opacity, highlighted = shown[oid]
        assert weight == pytest.approx(w, abs=1e-3)
        assert opacity == pytest.approx(0.15 + 0.85 * w, abs=0.02)
        assert highlighted == (w >= 0.5)
    assert "Attention" in browser.evaluate(f"document.querySelector('[data-detail=\"{step.index}\"]').innerText")
    only_itself(browser, url)


def test_tree_grounding_shows_the_tree_with_scores(browser, tmp_path):
    refplus = load_scenes(REFPLUS)[0]
    trace = Trace.from_json((TRACES / "tree.json").read_text())
    url = write(tmp_path, "tree.html", render_html(trace, refplus))
    load(browser, url)
    click(browser, '[data-step="0"]')
    assert browser.evaluate(HIGHLIGHTED) == ["1"]
    nodes = browser.evaluate("document.querySelectorAll('[data-detail=\"0\"] .tnode').length")
    assert nodes >= 3
    bars = browser.evaluate("[...document.querySelectorAll('[data-detail=\"0\"] .tbar .fill')]"
                            ".map(e => e.getBoundingClientRect().width)")
    assert bars and max(bars) > 50 and min(bars) < 5  # a bar per score, as long as the score
    click(browser, "[data-detail='0'] .tree .tree .tnode")  # a child node: the scene shaded by its scores
    child = trace[0].details["tree"]["children"][0]["scores"]
    assert browser.evaluate(HIGHLIGHTED) == sorted(k for k, v in child.items() if v >= 0.5)
    only_itself(browser, url)


def test_knowledge_steps_list_their_facts(browser, scene, tmp_path):
    trace = Trace.from_json((TRACES / "kb.json").read_text())
    url = write(tmp_path, "kb.html", render_html(trace, scene))
    load(browser, url)
    step = next(s for s in trace.steps if "relation" in s.details)
    click(browser, f'[data-step="{step.index}"]')
    text = browser.evaluate(f"document.querySelector('[data-detail=\"{step.index}\"]').innerText")
    assert "Facts followed" in text and "workshop.ttl" in text and "common use" in text
    only_itself(browser, url)


def test_failure_shows_where_and_why(browser, scene, tmp_path):
    trace = program_trace("query_color(unique(filter_shape[cube](scene())))", scene)
    url = write(tmp_path, "fail.html", render_html(trace, scene))
    load(browser, url)
    assert "failed at step 2" in browser.evaluate("document.getElementById('answer').innerText")
    click(browser, '[data-step="2"]')
    assert "not_unique" in browser.evaluate("document.querySelector('[data-detail=\"2\"]').innerText")
    assert browser.evaluate("getComputedStyle(document.querySelector('tr[data-step=\"2\"] td')).color") == \
        "rgb(198, 40, 40)"


def test_hostile_scene_strings_do_not_run(browser, tmp_path):
    payloads = ["<script>window.pwned=1</script>", "<img src=x onerror=\"window.pwned=2\">",
                "\"><svg onload=\"window.pwned=3\">", "</script><script>window.pwned=4</script>"]
    objects = [{"id": f"o{k}", "name": p, "attributes": {"color": p}, "box": [10 + 40 * k, 10, 30, 30]}
               for k, p in enumerate(payloads)]
    hostile = scene_from_dict({"format": "nsreason.scene/1", "id": payloads[0], "objects": objects,
                               "relations": [{"subject": "o0", "predicate": payloads[1], "object": "o1"}]})
    steps = [TraceStep(0, "scene", (), (), [o.id for o in hostile.objects], "ObjectSet"),
             TraceStep(1, "select", (payloads[2],), (0,), ["o1"], "ObjectSet", details={"x": payloads[3]})]
    url = write(tmp_path, "hostile.html", render_html(Trace(steps, answer=payloads[3]), hostile, title=payloads[1]))
    load(browser, url)
    click(browser, '[data-step="1"]')
    assert browser.evaluate("window.pwned === undefined")
    assert browser.evaluate(HIGHLIGHTED) == ["o1"]
    assert browser.evaluate("document.title") == payloads[1]
    only_itself(browser, url)


def test_gqa_boxes_highlight_the_selected_objects(browser, tmp_path):
    gqa = load_scenes(GQA)[0]
    man = next(o for o in gqa.objects if o.name == "man")
    steps = [TraceStep(0, "scene", (), (), [o.id for o in gqa.objects], "ObjectSet"),
             TraceStep(1, "select", ("man",), (0,), [man.id], "ObjectSet")]
    url = write(tmp_path, "gqa.html", render_html(Trace(steps, answer=[man.id]), gqa))
    load(browser, url)
    assert browser.evaluate("document.querySelectorAll('.scene-svg [data-object]').length") == len(gqa.objects)
    click(browser, '[data-step="1"]')
    assert browser.evaluate(HIGHLIGHTED) == [str(man.id)]
    only_itself(browser, url)


def test_boxes_are_drawn_over_the_scene_image_embedded_in_the_page(browser, tmp_path):
    (tmp_path / "room.png").write_bytes(tiny_png())  # the scene's image, next to the scene file
    scene = scene_from_dict({"format": "nsreason.scene/1", "meta": {"image_filename": "room.png", "width": 2,
                                                                     "height": 2},
                             "objects": [{"id": "cup", "name": "cup", "box": [0, 0, 1, 1]},
                                         {"id": "mat", "name": "mat", "box": [0, 1, 2, 1]}]})
    steps = [TraceStep(0, "scene", (), (), ["cup", "mat"], "ObjectSet"),
             TraceStep(1, "select", ("cup",), (0,), ["cup"], "ObjectSet")]
    url = write(tmp_path, "image.html", render_html(Trace(steps, answer=["cup"]), scene, image_dir=tmp_path))
    (tmp_path / "room.png").unlink()  # the page must not need the file any more
    load(browser, url)
    size = browser.evaluate("(() => { const i = document.querySelector('image.photo').getBBox();"
                            " return [i.width, i.height]; })()")
    assert size == [2, 2]
    decoded = browser.evaluate("new Promise(done => { const im = new Image(); im.onload = () => done(im.naturalWidth);"
                               " im.onerror = () => done(-1);"
                               " im.src = document.querySelector('image.photo').getAttribute('href'); })",
                               await_promise=True)
    assert decoded == 2  # the embedded image itself decodes
    click(browser, '[data-step="1"]')
    assert browser.evaluate(HIGHLIGHTED) == ["cup"]
    assert [u for u in browser.requests if not u.startswith("data:")] == [url]


def tiny_png() -> bytes:
    """A 2x2 RGB PNG (red, green / blue, white), written with the standard library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"\x00\xff\x00\x00\x00\xff\x00" + b"\x00\x00\x00\xff\xff\xff\xff"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
