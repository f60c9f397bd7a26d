"""The HTML page of a trace (nsreason.trace.html), without a browser: structure, escaping of
hostile scene strings, self-containment, every kind of trace.

The traces in tests/fixtures/traces are the engine's own (regenerate with the commands in
tests/fixtures/traces/README.md); tests/trace/test_html_browser.py drives the pages in Chromium.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from nsreason.scene.io import load_scenes
from nsreason.scene.native import scene_from_dict
from nsreason.trace import Trace, TraceStep
from nsreason.trace.html import embed_json, render_html

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "tests" / "fixtures" / "traces"
CLEVR = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"
REFPLUS = REPO / "tests" / "fixtures" / "clevr_refplus_scenes_small.json"
GQA = REPO / "tests" / "fixtures" / "gqa_val_scene_graphs_3.json"

HOSTILE = "<script>alert(1)</script>"


def fetches(page: str) -> list[str]:
    """Everything in a page that would make a browser fetch from outside."""
    pattern = r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:|//)|@import|url\(\s*["']?(?:https?:|//)"""
    return re.findall(pattern, page, flags=re.IGNORECASE)


class _Collect(HTMLParser):
    """Tags, attributes and script bodies of a page (the standard library's HTML parser)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self.scripts.append((self._in_script, data))


def parse(page: str) -> _Collect:
    c = _Collect()
    c.feed(page)
    return c


def objects_drawn(page: str) -> list[str]:
    return [a["data-object"] for t, a in parse(page).tags if "data-object" in a]  # type: ignore[misc]


@pytest.fixture(scope="module")
def clevr_scene():
    return load_clevr_scenes(CLEVR)[1]


def run(program: str, scene) -> Trace:
    answer = SymbolicExecutor().execute(Program.from_text(program), scene, trace=True)
    assert answer.trace is not None
    return answer.trace


def test_symbolic_page_has_steps_scene_and_data(clevr_scene):
    trace = run("count(filter_color[red](scene()))", clevr_scene)
    page = render_html(trace, clevr_scene, title="red things", gold="3")
    c = parse(page)
    rows = [a["data-step"] for t, a in c.tags if t == "tr" and "data-step" in a]
    assert rows == ["0", "1", "2"]
    assert [a["data-node"] for t, a in c.tags if "data-node" in a] == ["0", "1", "2"]
    # one shape per object, each in its CLEVR colour
    shapes = [(a["data-object"], a["data-colour"]) for t, a in c.tags if "data-object" in a]
    assert sorted(int(i) for i, _ in shapes) == list(range(len(clevr_scene.objects)))
    red = {str(o.id) for o in clevr_scene.objects if o.get("color") == "red"}
    assert {i for i, colour in shapes if colour == "#ad2323"} == red
    data = json.loads(next(text for attrs, text in c.scripts if attrs.get("id") == "nsr-data"))
    assert set(data["steps"]["1"]["objects"]) == red
    assert 'data-verdict="right"' in page
    assert fetches(page) == []


def test_relate_step_uses_the_scene_edges(clevr_scene):
    trace = run("relate[left](unique(filter_shape[cube](filter_color[cyan](scene()))))", clevr_scene)
    page = render_html(trace, clevr_scene)
    data = json.loads(parse(page).scripts[0][1])
    edges = data["steps"]["4"]["edges"]
    assert edges, "the relate step should name the relations it followed"
    cube = next(o.id for o in clevr_scene.objects if o.get("color") == "cyan" and o.get("shape") == "cube")
    for k in edges:
        r = clevr_scene.relations[k]
        assert r.predicate == "left" and cube in (r.subject, r.object)
    assert len(edges) == len(trace[4].output)


def test_failure_shows_where_and_why(clevr_scene):
    trace = run("query_color(unique(filter_shape[cube](scene())))", clevr_scene)
    assert trace.failure is not None
    page = render_html(trace, clevr_scene, gold="red")
    assert "failed at step 2" in page and "not_unique" in page
    assert "<tr class='step failed' data-step='2'" in page
    assert 'data-verdict="wrong"' in page


@pytest.mark.parametrize("where", ["name", "attribute", "relation", "id", "meta"])
def test_hostile_scene_strings_are_escaped(where):
    obj = {"id": "a", "name": "ball", "attributes": {"color": "red"}, "box": [1, 2, 30, 40]}
    other = {"id": "b", "name": "box", "box": [50, 2, 30, 40]}
    rel = {"subject": "a", "predicate": "near", "object": "b"}
    meta: dict = {}
    if where == "name":
        obj["name"] = HOSTILE
    elif where == "attribute":
        obj["attributes"] = {"color": HOSTILE}
    elif where == "relation":
        rel["predicate"] = HOSTILE
    elif where == "id":
        obj["id"] = rel["subject"] = HOSTILE
    else:
        meta = {"meta": {"image_filename": HOSTILE + ".png", "width": 100, "height": 50}}
    scene = scene_from_dict({"format": "nsreason.scene/1", "id": HOSTILE, "objects": [obj, other],
                             "relations": [rel], **meta})
    steps = [TraceStep(0, "scene", (), (), [o.id for o in scene.objects], "ObjectSet"),
             TraceStep(1, "select", (HOSTILE,), (0,), [scene.objects[0].id], "ObjectSet",
                       details={"note": HOSTILE}),
             TraceStep(2, "query", ("'\"><img src=x onerror=alert(1)>",), (1,), HOSTILE, "Name")]
    parse_step = TraceStep(-1, "parse", (HOSTILE,), (), HOSTILE, "Program",
                           details={"score": 0.5, "alternatives": [{"program": HOSTILE, "score": 0.5}]})
    trace = Trace(steps, answer=HOSTILE, scene_id=HOSTILE, parse=parse_step)
    page = render_html(trace, scene, gold=HOSTILE)
    assert "<script>alert" not in page and "<img src=x" not in page
    c = parse(page)
    assert [t for t, _ in c.tags].count("script") == 2  # the data block and the page's own script
    assert not any(k.startswith("on") for _, a in c.tags for k in a)
    data_text = next(text for attrs, text in c.scripts if attrs.get("type") == "application/json")
    assert "</" not in data_text
    assert json.loads(data_text)["objects"][0] == str(scene.objects[0].id)


def test_embedded_json_cannot_close_its_script():
    text = embed_json({"k": "</script><!-- \u2028 &"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"k": "</script><!-- \u2028 &"}


def test_page_policy_blocks_fetches_and_runs_only_its_script(clevr_scene):
    page = render_html(run("count(scene())", clevr_scene), clevr_scene)
    policy = next(a["content"] for t, a in parse(page).tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in policy and "img-src data:" in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", policy)
    assert "://" not in page


def test_image_embedded_only_when_on_disk(tmp_path):
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    (tmp_path / "photo.png").write_bytes(png)
    base = {"format": "nsreason.scene/1", "objects": [{"id": 1, "name": "cat", "box": [0, 0, 1, 1]}]}
    here = scene_from_dict({**base, "meta": {"image_filename": "photo.png"}})
    gone = scene_from_dict({**base, "meta": {"image_filename": "missing.png"}})
    trace = Trace([TraceStep(0, "scene", (), (), [1], "ObjectSet")], answer=[1])
    with_image = render_html(trace, here, image_dir=tmp_path)
    assert "href='data:image/png;base64," in with_image
    assert "<image" not in render_html(trace, gone, image_dir=tmp_path)
    assert fetches(with_image) == []


@pytest.mark.parametrize("kind", ["neural", "tree", "kb"])
def test_engine_traces_of_every_kind_render(kind):
    trace = Trace.from_json((TRACES / f"{kind}.json").read_text())
    scene = {"neural": lambda: load_clevr_scenes(CLEVR)[1], "kb": lambda: load_clevr_scenes(CLEVR)[1],
             "tree": lambda: load_scenes(REFPLUS)[0]}[kind]()
    page = render_html(trace, scene)
    assert fetches(page) == []  # KB URIs are shown as text, never fetched
    c = parse(page)
    assert len(objects_drawn(page)) == len(scene.objects)
    data = json.loads(next(text for attrs, text in c.scripts if attrs.get("id") == "nsr-data"))
    if kind == "neural":
        step = next(s for s in trace.steps if s.details.get("attention"))
        assert data["steps"][str(step.index)]["neural"] is True
        assert "Attention" in page
    elif kind == "tree":
        assert "class='tree'" in page and "data-scores=" in page
        assert data["steps"]["0"]["objects"]["1"] > 0.99
    else:
        assert "Knowledge relation" in page and "Facts followed" in page and "workshop.ttl" in page


def test_trace_and_answer_to_html(clevr_scene):
    from nsreason.execute.answer import Answer

    trace = run("count(scene())", clevr_scene)
    assert trace.to_html(clevr_scene) == render_html(trace, clevr_scene)
    answer = Answer(8, None, trace, scene=clevr_scene)
    assert len(objects_drawn(answer.to_html())) == len(clevr_scene.objects)
    frame = answer._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script" not in frame  # the page is escaped inside
    assert trace._repr_html_().startswith("<iframe")


def test_gqa_scene_draws_boxes_and_relations():
    scene = load_scenes(GQA)[0]
    steps = [TraceStep(0, "scene", (), (), [o.id for o in scene.objects], "ObjectSet")]
    page = render_html(Trace(steps, answer=None), scene)
    c = parse(page)
    assert sorted(objects_drawn(page)) == sorted(str(o.id) for o in scene.objects)
    assert len([a for t, a in c.tags if "data-edge" in a]) == len(scene.relations)
