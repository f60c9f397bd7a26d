"""Fuzz: any vocabulary dict or YAML/JSON file loads or raises a VocabularyError naming the
file and field, quickly (a YAML file's aliases can make a short file exponentially large);
what loads round-trips through ``to_dict``."""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.errors import NSReasonError, VocabularyError
from nsreason.program.vocab import Vocabulary, load_vocabulary
from tests.fuzzing import json_values, or_junk

KINDS = ["object", "object_set", "integer", "bool", "value", "record"]
TYPE_NAMES = ["Set", "Obj", "Color", "Int", "Flag"]
FIELDS = ["name", "types", "ops", "kind", "domain", "doc", "inputs", "args", "output", "impl",
          "params", "optional", "template_only", "description", "type", *TYPE_NAMES]
keys, json_like = json_values(FIELDS, [*KINDS, *TYPE_NAMES, "red", "", "no"])
# a vocabulary has many fields: junk more often and almost no drawn vocabulary would load
_or_junk = or_junk(json_like, one_in=16)


type_names = st.sampled_from(TYPE_NAMES)
KIND_OF = {"Set": "object_set", "Obj": "object", "Color": "value", "Int": "integer", "Flag": "bool"}


def type_spec(kind: str) -> st.SearchStrategy:
    domain = st.one_of(st.lists(st.sampled_from(["red", "blue", "red "]), min_size=1, max_size=3, unique=True),
                       st.lists(st.sampled_from(["red", ""]), max_size=3))  # empty, "", twice
    return st.fixed_dictionaries(
        {"kind": _or_junk(st.just(kind))},
        optional={"doc": _or_junk(st.text(max_size=5)),
                  **({"domain": _or_junk(domain)} if kind == "value" else {})},
    )


types = st.fixed_dictionaries({name: _or_junk(type_spec(kind)) for name, kind in KIND_OF.items()})
arg_specs = st.fixed_dictionaries(
    {"name": _or_junk(st.sampled_from(["color", "n", "flag"])),
     "type": _or_junk(st.sampled_from(["Color", "Int", "Flag"]))},
    optional={"optional": _or_junk(st.booleans())},
)
op_specs = st.fixed_dictionaries(
    {"output": _or_junk(type_names)},
    optional={
        "inputs": _or_junk(st.lists(type_names, max_size=2)),
        "args": _or_junk(st.lists(arg_specs, max_size=2)),
        "impl": _or_junk(st.sampled_from(["filter_attribute", "count", "scene"])),
        "params": _or_junk(st.dictionaries(st.sampled_from(["attribute", "then"]), json_like, max_size=2)),
        "doc": _or_junk(st.text(max_size=5)),
        "template_only": _or_junk(st.booleans()),
    },
)
op_names = _or_junk(st.sampled_from(["scene", "count", "filter_color", "kb.lookup", "gqa:select"]))
vocabularies = st.fixed_dictionaries(
    {
        "name": _or_junk(st.sampled_from(["toy", "x"])),
        "types": _or_junk(types),
        "ops": _or_junk(st.dictionaries(op_names.filter(lambda k: isinstance(k, (str, int, bool))),
                                        _or_junk(op_specs), min_size=1, max_size=3)),
    },
    optional={"description": _or_junk(st.text(max_size=5))},
)


def _load(load, data):
    try:
        return load(data)
    except VocabularyError as err:
        assert err.message
        return None
    except NSReasonError as err:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"{type(err).__name__} instead of a VocabularyError: {err}") from err
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"loading a vocabulary raised {type(exc).__name__}: {exc}") from exc


def _check_loaded(vocab: Vocabulary, data) -> None:
    assert vocab.name == data["name"] and set(vocab.ops) == set(data["ops"])
    assert set(vocab.types) == set(data["types"])
    assert Vocabulary.from_dict(vocab.to_dict()) == vocab
    for op in vocab.ops.values():
        assert isinstance(op.impl, str) and isinstance(op.doc, str)
        assert all(isinstance(a.name, str) and isinstance(a.optional, bool) for a in op.args)
        op.describe()


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(vocabularies, vocabularies, json_like))
def test_any_dict_loads_or_raises_a_vocabulary_error(data):
    vocab = _load(Vocabulary.from_dict, data)
    if vocab is not None:
        _check_loaded(vocab, data)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.mark.slow
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from([".yaml", ".json"]),
       st.one_of(vocabularies.map(lambda d: yaml.safe_dump(d).encode()),
                 vocabularies.map(lambda d: json.dumps(d).encode()),
                 st.text(max_size=40).map(str.encode), st.binary(max_size=30)))
def test_any_file_loads_or_raises_a_vocabulary_error_naming_it(scratch, suffix, content):
    path = scratch / f"vocab{suffix}"
    path.write_bytes(content)
    try:
        load_vocabulary(path)
    except VocabularyError as err:
        assert err.source == str(path), err
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"load_vocabulary raised {type(exc).__name__}: {exc}") from exc


# -- regressions ---------------------------------------------------------------------------
@contextlib.contextmanager
def _within(seconds: float):
    """Fail (instead of hanging) when the block runs longer than ``seconds``."""
    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# 40 aliases, each a list of two of the one before: 2**40 leaves in 1 KB of YAML
BOMB = "x0: &a0 [x, x]\n" + "".join(f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40))
HEAD = "name: x\ntypes: {T: {kind: object}, V: {kind: value}}\nops:\n"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (BOMB + HEAD + "  o: {output: T, params: {p: *a39}}\n", "ops.o.params.p"),
        (HEAD + "  o: {output: T, params: {p: &r [*r]}}\n", "ops.o.params.p"),  # a list in itself
        (BOMB + HEAD + "  o: {output: T, doc: *a39}\n", "ops.o.doc"),
        (BOMB + HEAD + "  o: {output: T, impl: *a39}\n", "ops.o.impl"),
        (BOMB + HEAD + "  o: {output: T, args: [{name: *a39, type: V}]}\n", "ops.o.args[0].name"),
        (BOMB + HEAD + "  o: {output: *a39}\n", "ops.o.output"),
        (BOMB + "name: x\ntypes: {T: {kind: *a39}}\nops: {o: {output: T}}\n", "types.T.kind"),
        (BOMB + "name: *a39\ntypes: {T: {kind: object}}\nops: {o: {output: T}}\n", "name"),
    ],
)
def test_yaml_alias_bombs_are_refused_quickly(tmp_path, text, path):
    """Regression: params were expanded alias by alias (2**40 values: a hang; a list that
    contains itself: RecursionError), other fields turned into strings with str() and
    every message quoted the whole value with repr()."""
    file = tmp_path / "bomb.yaml"
    file.write_text(text)
    with _within(10), pytest.raises(VocabularyError) as err:
        load_vocabulary(file)
    assert err.value.path == path and len(str(err.value)) < 500


@pytest.mark.parametrize(
    ("op", "path", "message"),
    [
        ({"output": "T", "args": [{"name": "a", "type": "V", "optional": "no"}]}, "ops.o.args[0].optional",
         "expected true or false, got 'no'"),
        ({"output": "T", "template_only": "yes"}, "ops.o.template_only", "expected true or false, got 'yes'"),
        ({"output": "T", "args": [{"name": 3, "type": "V"}]}, "ops.o.args[0].name",
         "expected a non-empty string, got 3"),
        ({"output": "T", "impl": ["count"]}, "ops.o.impl", "expected the name of an implementation, got ['count']"),
        ({"output": "T", "doc": {"text": "x"}}, "ops.o.doc", "expected a string, got {'text': 'x'}"),
    ],
)
def test_flags_names_and_texts_of_the_wrong_type_are_refused(op, path, message):
    """Regression: the quoted string 'no' read as optional=True (bool('no')), and names,
    implementations and docs of any type were turned into strings."""
    data = {"name": "x", "types": {"T": {"kind": "object"}, "V": {"kind": "value"}}, "ops": {"o": op}}
    with pytest.raises(VocabularyError) as err:
        Vocabulary.from_dict(data)
    assert (err.value.path, err.value.message) == (path, message)


def test_a_file_that_is_not_utf8_is_a_vocabulary_error(tmp_path):
    """Regression: the UnicodeDecodeError of reading the file came through."""
    file = tmp_path / "v.yaml"
    file.write_bytes(b"name: \xff\n")
    with pytest.raises(VocabularyError, match="not UTF-8 text: invalid start byte at byte 6") as err:
        load_vocabulary(file)
    assert err.value.source == str(file)
