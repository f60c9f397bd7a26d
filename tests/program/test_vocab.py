"""Op vocabularies: the built-in files, loading from YAML/JSON, and typed errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from nsreason.errors import RegistryError, UnknownOpError, VocabularyError
from nsreason.program import (
    ArgSpec,
    OpSignature,
    ValueType,
    Vocabulary,
    get_vocabulary,
    load_vocabulary,
)
from nsreason.program.vocab import OP_NAME, programs_dir
from tests.conftest import shared_path
from tests.program.strategies import TOY_VOCABULARY

MINIMAL = {
    "name": "mini",
    "types": {
        "Set": {"kind": "object_set"},
        "Color": {"kind": "value", "domain": ["red", "blue"]},
    },
    "ops": {
        "scene": {"inputs": [], "output": "Set"},
        "filter": {"inputs": ["Set"], "args": [{"name": "color", "type": "Color"}], "output": "Set"},
    },
}


def with_change(path: str, value, base=MINIMAL):
    """A copy of ``base`` with the value at dotted ``path`` replaced (``...`` deletes it)."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


# -- the built-in vocabularies --------------------------------------------------------------


@pytest.mark.parametrize("name", ["clevr", "scene_graph"])
def test_builtin_vocabularies_load_and_round_trip_through_to_dict(name):
    vocab = get_vocabulary(name)
    assert vocab.name == name
    assert Vocabulary.from_dict(vocab.to_dict()) == vocab
    assert vocab.source and Path(vocab.source).name == f"{name}.yaml"
    assert repr(vocab) == f"Vocabulary({name!r}, ops={len(vocab.ops)}, types={len(vocab.types)})"
    for op in vocab.ops:
        assert OP_NAME.fullmatch(op), op
        assert op in vocab


def test_builtin_files_are_in_programs_dir():
    assert {p.stem for p in programs_dir().glob("*.yaml")} >= {"clevr", "scene_graph"}


@pytest.mark.data
def test_clevr_vocabulary_matches_the_official_metadata():
    metadata = json.loads(shared_path("clevr", "metadata.json").read_text())
    vocab = get_vocabulary("clevr")
    for tname, domain in metadata["types"].items():
        assert vocab.types[tname].domain == (tuple(domain) if domain else None)
    for fn in metadata["functions"]:
        sig = vocab.op(fn["name"])
        assert list(sig.inputs) == fn["inputs"], fn["name"]
        assert sig.output == fn["output"], fn["name"]
        assert [a.type for a in sig.args] == fn.get("side_inputs", []), fn["name"]
        assert sig.template_only == fn.get("template_only", False), fn["name"]
    # what nsreason adds for questions people ask (docs/parser.md), and CLEVR-Ref+'s ops
    added = set(vocab.ops) - {fn["name"] for fn in metadata["functions"]}
    assert added == {"extreme", "difference", *(f"{kind}_{attr}" for kind in ("all_same", "most_common")
                     for attr in ("size", "color", "material", "shape")),
                     "filter_ordinal", "filter_visible"}


@pytest.mark.data
def test_clevr_vocabulary_has_clevr_refplus_types_and_functions():
    metadata = json.loads(shared_path("clevr-ref+", "metadata.json").read_text())
    vocab = get_vocabulary("clevr")
    for tname, domain in metadata["types"].items():
        assert vocab.types[tname].domain == (tuple(domain) if domain else None), tname
    # the metadata lists the visibility filter as `filter_visibleout`, the name of its handler;
    # programs and the engine's handler table call it `filter_visible`
    names = {"filter_visible" if fn["name"] == "filter_visibleout" else fn["name"] for fn in metadata["functions"]}
    for name in names:
        sig = vocab.op(name)
        fn = next(f for f in metadata["functions"] if f["name"] in (name, name + "out"))
        assert list(sig.inputs) == fn["inputs"] and sig.output == fn["output"], name
    assert [a.type for a in vocab.op("filter_ordinal").args] == ["Ordinal_number", "Ordinal_direction"]
    assert [a.type for a in vocab.op("filter_visible").args] == ["Visible"]


def test_clevr_template_ops_have_optional_attribute_arguments():
    sig = get_vocabulary("clevr").op("filter")
    assert sig.template_only
    assert [(a.name, a.optional) for a in sig.args] == [
        ("size", True), ("color", True), ("material", True), ("shape", True)
    ]
    assert sig.min_args == 0
    assert sig.describe() == (
        "filter[size: Size?, color: Color?, material: Material?, shape: Shape?](ObjectSet) -> ObjectSet"
    )
    assert get_vocabulary("clevr").op("relate").describe() == "relate[relation: Relation](Object) -> ObjectSet"
    assert get_vocabulary("clevr").op("scene").describe() == "scene() -> ObjectSet"


def test_scene_graph_value_types_are_open():
    vocab = get_vocabulary("scene_graph")
    for t in ("Name", "Attribute", "Value", "Predicate"):
        assert vocab.types[t].domain is None
        assert vocab.types[t].accepts("to the left of")
        assert not vocab.types[t].accepts("")


# -- lookup -----------------------------------------------------------------------------------


def test_get_vocabulary_by_name_path_and_instance(tmp_path):
    assert get_vocabulary("clevr") is get_vocabulary("clevr")  # cached
    v = Vocabulary.from_dict(MINIMAL)
    assert get_vocabulary(v) is v
    path = tmp_path / "mini.yaml"
    path.write_text(json.dumps(MINIMAL))  # JSON is YAML
    assert get_vocabulary(str(path)) == v
    assert get_vocabulary(path) == v
    assert get_vocabulary(path).source == str(path)


def test_unknown_vocabulary_lists_the_available_ones():
    with pytest.raises(RegistryError, match=r"unknown vocabulary 'clever'; available: \[.*'clevr'.*'scene_graph'"):
        get_vocabulary("clever")


def test_op_lookup_suggests_close_names():
    vocab = get_vocabulary("clevr")
    with pytest.raises(UnknownOpError, match=r"unknown op 'filter_colour' in vocabulary 'clevr'; did you mean \['filter_color'"):
        vocab.op("filter_colour")
    with pytest.raises(UnknownOpError, match=r"known ops: \["):
        vocab.op("zzzzzzzz")
    with pytest.raises(UnknownOpError, match="expected an op name"):
        vocab.op(["scene"])  # unhashable: a typed error, not a TypeError
    assert "scene" in vocab and "nope" not in vocab


def test_value_types_accept_only_their_values():
    clevr = get_vocabulary("clevr")
    color = clevr.types["Color"]
    assert color.accepts("red") and not color.accepts("reddish") and not color.accepts(3)
    integer = ValueType("Int", "integer")
    assert integer.accepts(3) and integer.accepts(-1)
    assert not integer.accepts(True) and not integer.accepts("3") and not integer.accepts(3.0)
    flag = ValueType("Flag", "bool")
    assert flag.accepts(False) and not flag.accepts(0) and not flag.accepts("true")
    assert not clevr.types["ObjectSet"].accepts("anything")
    assert color.describe_domain().startswith("one of ['gray', 'red'")
    assert integer.describe_domain() == "an integer"
    assert flag.describe_domain() == "true or false"
    assert ValueType("Name", "value").describe_domain() == "a non-empty string"


def test_toy_vocabulary_keeps_optional_flags_and_params():
    data = copy.deepcopy(TOY_VOCABULARY)
    data["ops"]["top"]["params"] = {"attributes": ["a", "b"], "then": None}
    data["ops"]["top"]["impl"] = "top_k"
    vocab = Vocabulary.from_dict(data)
    sig = vocab.op("top")
    assert sig.impl == "top_k" and dict(sig.params) == {"attributes": ("a", "b"), "then": None}
    assert vocab.op("size").impl == "size"
    assert vocab.op("pick").args == (ArgSpec("color", "Color", True), ArgSpec("name", "Name", False))
    assert isinstance(sig, OpSignature)
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again == vocab


# -- loading files ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_load_vocabulary_from_each_file_kind(tmp_path, suffix):
    path = tmp_path / f"mini{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(MINIMAL))
    else:
        import yaml

        path.write_text(yaml.safe_dump(MINIMAL))
    vocab = load_vocabulary(path)
    assert vocab == Vocabulary.from_dict(MINIMAL)
    assert vocab.op("filter").args[0].type == "Color"


def test_missing_file_is_a_vocabulary_error(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(VocabularyError, match="cannot read vocabulary file") as info:
        load_vocabulary(path)
    assert info.value.source == str(path)
    assert str(info.value) == f"{path}: cannot read vocabulary file: file not found"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "name: x\ntypes: {A: {kind: value}\n", "not valid YAML"),
        ("bad.yml", "name: [unclosed\n", "not valid YAML"),
        ("bad.json", '{"name": "x", "types": ', "not valid JSON"),
        ("bad.json", "{'name': 'x'}", "not valid JSON"),
        ("noext", "name: [unclosed\n", "not valid YAML"),
        ("list.yaml", "- a\n- b\n", "expected a mapping, got list"),
        ("empty.yaml", "", "expected a mapping, got NoneType"),
        ("scalar.json", "3", "expected a mapping, got int"),
    ],
)
def test_malformed_files_are_vocabulary_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(VocabularyError, match=message) as info:
        load_vocabulary(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


def test_yaml_boolean_keys_for_op_names_are_refused(tmp_path):
    # YAML 1.1 reads `on:` and `no:` as booleans: the message says to quote the name.
    path = tmp_path / "v.yaml"
    path.write_text(
        "name: v\ntypes: {Set: {kind: object_set}}\nops:\n  on: {inputs: [], output: Set}\n"
    )
    with pytest.raises(VocabularyError, match=r"ops\.True: op names must match .*got True \(quote it in YAML\)"):
        load_vocabulary(path)


@pytest.mark.parametrize(
    ("change", "value", "path", "message"),
    [
        ("name", ..., "name", "expected a non-empty string, got None"),
        ("name", "", "name", "expected a non-empty string, got ''"),
        ("name", 3, "name", "expected a non-empty string, got 3"),
        ("types", ..., "types", "expected a mapping of type name"),
        ("types", ["Set"], "types", "expected a mapping of type name"),
        ("types.Set", "object_set", "types.Set", "expected a mapping, got str"),
        ("types.Set", None, "types.Set.kind", "expected one of ['object', 'object_set', 'integer', 'bool', 'value', 'record'], got None"),
        ("types.Set.kind", "objects", "types.Set.kind", "got 'objects'"),
        ("types.Set.kind", ["object_set"], "types.Set.kind", "got ['object_set']"),
        ("types.Set.domain", ["a"], "types.Set.domain", "only 'value' types have a domain"),
        ("types.Color.domain", "red", "types.Color.domain", "expected a list of non-empty strings, got 'red'"),
        ("types.Color.domain", ["red", ""], "types.Color.domain", "expected a list of non-empty strings"),
        ("types.Color.domain", ["red", 3], "types.Color.domain", "expected a list of non-empty strings"),
        ("types.Color.domain", [], "types.Color.domain", "expected at least one value"),
        ("types.Color.domain", ["red", "blue", "red"], "types.Color.domain", "values listed twice: ['red']"),
        ("ops", ..., "ops", "expected a mapping of op name"),
        ("ops", {}, "ops", "expected a mapping of op name"),
        ("ops.scene", ["Set"], "ops.scene", "expected a mapping, got list"),
        ("ops.scene.output", ..., "ops.scene.output", "unknown type None; known: ['Color', 'Set']"),
        ("ops.scene.output", "Sets", "ops.scene.output", "unknown type 'Sets'"),
        ("ops.scene.output", ["Set"], "ops.scene.output", "unknown type ['Set']"),
        ("ops.filter.inputs", "Set", "ops.filter.inputs", "expected a list of type names"),
        ("ops.filter.inputs", ["Set", "Thing"], "ops.filter.inputs[1]", "unknown type 'Thing'"),
        ("ops.filter.inputs", [["Set"]], "ops.filter.inputs[0]", "unknown type ['Set']"),
        ("ops.filter.inputs", [{"a": 1}], "ops.filter.inputs[0]", "unknown type"),
        ("ops.filter.args", {"name": "color"}, "ops.filter.args", "expected a list of"),
        ("ops.filter.args", ["color"], "ops.filter.args[0]", "expected a mapping with 'name' and 'type'"),
        ("ops.filter.args", [{"name": "color"}], "ops.filter.args[0]", "expected a mapping with 'name' and 'type'"),
        ("ops.filter.args", [{"name": "c", "type": "Colour"}], "ops.filter.args[0].type", "unknown type 'Colour'"),
        ("ops.filter.args", [{"name": "c", "type": ["Color"]}], "ops.filter.args[0].type", "unknown type"),
        ("ops.filter.args", [{"name": "c", "type": "Set"}], "ops.filter.args[0].type",
         "value arguments must be of a value, integer or bool type, not 'Set'"),
        ("ops.filter.params", ["a"], "ops.filter.params", "expected a mapping"),
    ],
)
def test_bad_fields_name_their_path(change, value, path, message):
    data = with_change(change, value)
    with pytest.raises(VocabularyError) as info:
        Vocabulary.from_dict(data)
    assert info.value.path == path
    assert message in info.value.message
    assert str(info.value) == f"{path}: {info.value.message}"


@pytest.mark.parametrize("bad", ["filter color", "filter[x]", "1st", "", "f(x)", "a,b", 'q"'])
def test_op_names_must_be_writable_in_the_text_form(bad):
    data = copy.deepcopy(MINIMAL)
    data["ops"][bad] = {"inputs": [], "output": "Set"}
    with pytest.raises(VocabularyError, match="op names must match") as info:
        Vocabulary.from_dict(data)
    assert info.value.path == f"ops.{bad}"


@pytest.mark.parametrize("good", ["kb.lookup", "gqa:select", "relate-in", "_x", "Filter2"])
def test_op_names_with_dots_colons_and_dashes_are_fine(good):
    data = copy.deepcopy(MINIMAL)
    data["ops"][good] = {"inputs": ["Set"], "output": "Set"}
    assert good in Vocabulary.from_dict(data)


def test_type_names_must_be_strings():
    data = copy.deepcopy(MINIMAL)
    data["types"][1] = {"kind": "integer"}
    with pytest.raises(VocabularyError, match="type names must be non-empty strings, got 1"):
        Vocabulary.from_dict(data)


def test_from_dict_with_source_names_the_file():
    with pytest.raises(VocabularyError) as info:
        Vocabulary.from_dict(with_change("ops.scene.output", "Nope"), source="my.yaml")
    assert str(info.value).startswith("my.yaml: ops.scene.output: unknown type 'Nope'")


def test_a_null_type_spec_reads_as_an_empty_one():
    with pytest.raises(VocabularyError, match="got None") as info:
        Vocabulary.from_dict(with_change("types.Set", None))
    assert info.value.path == "types.Set.kind"


def test_vocabulary_errors_are_value_errors():
    with pytest.raises(ValueError):
        Vocabulary.from_dict([])


def test_vocabularies_combine_with_plus_and_a_takes_from_type_accepts_any_value_type():
    from nsreason.errors import ProgramTypeError
    from nsreason.program import Program
    from nsreason.program.vocab import Vocabulary, get_vocabulary, merge_vocabularies

    v = get_vocabulary("clevr+knowledge")
    assert {"filter_color", "kb_query", "kb_filter", "kb_rank"} <= set(v.ops)
    assert v.takes("Concept", "Material") and v.takes("Concept", "Concept") and not v.takes("Material", "Concept")
    assert not v.takes("Concept", "ObjectSet") and v.fits(("Concept",), ("Concept",))
    Program.from_text('kb_query["typical use"](query_material(unique(scene())))', "clevr+knowledge").validate()
    with pytest.raises(ProgramTypeError, match="expected Concept"):
        Program.from_text('kb_query["x"](scene())', "clevr+knowledge").validate()
    assert Vocabulary.from_dict(v.to_dict()).types["Concept"].takes_from == ("value",)
    clash = Vocabulary.from_dict({"name": "x", "types": {"Object": {"kind": "object_set"}},
                                  "ops": {"scene": {"inputs": [], "output": "Object"}}})
    with pytest.raises(VocabularyError, match="type 'Object' differs"):
        merge_vocabularies("clevr+x", [get_vocabulary("clevr"), clash])
    with pytest.raises(VocabularyError, match="takes_from"):
        Vocabulary.from_dict({"name": "y", "types": {"T": {"kind": "value", "takes_from": "value"}},
                              "ops": {"o": {"inputs": [], "output": "T"}}})
