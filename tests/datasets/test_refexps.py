"""CLEVR-Ref+ refexps files: the loader on the fixture and the shared val file, and fuzzed:
any file loads or raises an InputError naming the file and the field."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.datasets.clevr.refexps import RefExp, load_refexps
from nsreason.errors import InputError
from tests.conftest import shared_path
from tests.fuzzing import json_values, or_junk

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "clevr_refplus_refexps_small.json"


def test_fixture_loads_with_referred_objects_and_families():
    data = json.loads(FIXTURE.read_text())
    loaded = load_refexps(FIXTURE)
    assert len(loaded) == len(data["refexps"])
    for r, raw in zip(loaded, data["refexps"]):
        assert r.refexp_index == raw["refexp_index"] and r.image_index == raw["image_index"]
        assert r.text == raw["refexp"] and r.family == raw["template_filename"]
        assert r.objects == sorted(raw["program"][-1]["_output"])
        assert [s.op for s in r.program.steps] == [n["type"] for n in raw["program"]]
        r.program.validate()


def test_side_inputs_are_read_like_value_inputs():
    nodes = [{"type": "scene", "inputs": [], "side_inputs": [], "_output": [0]},
             {"type": "filter_visible", "inputs": [0], "side_inputs": ["fully visible"], "_output": [0]}]
    (r,) = load_refexps({"refexps": [{"image_index": 0, "refexp": "x", "program": nodes}]})
    assert r.program.steps[-1].args == ("fully visible",) and r.objects == [0] and r.family is None


@pytest.mark.data
def test_shared_val_file_loads_whole():
    loaded = load_refexps(shared_path("clevr-ref+", "CLEVR-Ref+_val_refexps.json"))
    assert len(loaded) == 2959
    assert {r.family for r in loaded} == {"zero_hop.json", "one_hop.json", "two_hop.json", "three_hop.json",
                                         "single_and.json", "single_or.json", "same_relate.json"}
    for r in loaded:
        r.program.validate()


# -- fuzz ---------------------------------------------------------------------------------------
FIELDS = ["refexps", "refexp", "image_index", "template_filename", "refexp_index", "program", "type",
          "inputs", "value_inputs", "side_inputs", "_output"]
keys, json_like = json_values(FIELDS, ["scene", "filter_ordinal", "from left", "fully visible", 10**400])
_or_junk = or_junk(json_like)
nodes = st.lists(st.fixed_dictionaries({
    "type": _or_junk(st.sampled_from(["scene", "filter_visible", "filter_ordinal", "unique", "count"])),
    "inputs": _or_junk(st.lists(st.integers(-1, 3), max_size=2)),
    "value_inputs": _or_junk(st.lists(st.sampled_from(["fully visible", "from left", ""]), max_size=2)),
    "_output": _or_junk(st.lists(st.integers(0, 3), max_size=3)),
}), max_size=3)
refexps = st.fixed_dictionaries(
    {"image_index": _or_junk(st.integers(0, 3)), "refexp": _or_junk(st.text(max_size=8)),
     "program": _or_junk(nodes)},
    optional={"template_filename": _or_junk(st.just("zero_hop.json")),
              "refexp_index": _or_junk(st.integers(0, 9))},
)
files = st.one_of(st.fixed_dictionaries({"refexps": _or_junk(st.lists(_or_junk(refexps), max_size=3))}),
                  json_like)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(files.map(lambda d: json.dumps(d).encode()), st.binary(max_size=30)))
def test_any_refexps_file_loads_or_raises_an_input_error_naming_it(scratch, content):
    path = scratch / "refexps.json"
    path.write_bytes(content)
    try:
        loaded = load_refexps(path)
    except InputError as err:
        assert err.source == str(path) and err.message, err
        data = _json(content)
        if isinstance(data, dict) and isinstance(data.get("refexps"), list) and data["refexps"]:
            assert err.path is None or err.path.startswith("refexps"), err  # names the entry and field
        return
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"load_refexps raised {type(exc).__name__}: {exc}") from exc
    for r in loaded:
        assert isinstance(r, RefExp) and isinstance(r.image_index, int) and isinstance(r.text, str)
        assert r.program.steps and (r.objects is None or all(isinstance(j, int) for j in r.objects))


def _json(content: bytes):
    try:
        return json.loads(content)
    except ValueError:
        return None
