"""Op vocabularies: what ops exist, their typed inputs, value arguments and output.

Vocabularies are data (``programs/*.yaml``). A file looks like::

    name: clevr
    types:                      # kind: object | object_set | integer | bool | value | record
      ObjectSet: {kind: object_set}
      Color: {kind: value, domain: [gray, red, blue]}   # no domain: any non-empty string
      Value: {kind: value, takes_from: [value]}  # an input of this type takes any value type
    ops:
      filter_color:
        inputs: [ObjectSet]
        args: [{name: color, type: Color}]   # value arguments ("side inputs")
        output: ObjectSet
        impl: filter_attribute                # implementation name (default: the op name)
        neural: filter_attribute              # soft implementation name (default: impl)
        params: {attribute: color}            # constants passed to the implementation

Two vocabularies combine with ``+`` (``get_vocabulary("clevr+knowledge")``: the ops and types
of both; a name in both must mean the same), so that knowledge ops compose with scene ops.

Parsers draw their output space from it, :meth:`Program.validate` type-checks against it
and the executor binds each op to its implementation through it.

>>> clevr = get_vocabulary("clevr")
>>> clevr.op("filter_color").args[0].type, clevr.types["Color"].domain[:3]
('Color', ('gray', 'red', 'blue'))
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from ..errors import NSReasonError, RegistryError, UnknownOpError, VocabularyError
from ..jsonio import read_bounded
from ..limits import get_limits
from ..registry import Registry

__all__ = [
    "TypeKind",
    "ValueType",
    "ArgSpec",
    "OpSignature",
    "Vocabulary",
    "VOCABULARIES",
    "get_vocabulary",
    "load_vocabulary",
    "merge_vocabularies",
    "programs_dir",
    "OP_NAME",
]

TypeKind = Literal["object", "object_set", "integer", "bool", "value", "record"]
_KINDS: tuple[str, ...] = ("object", "object_set", "integer", "bool", "value", "record")
"""``record``: structured data a step hands to the next and shows in the trace (JSON-able
mappings and lists: the links of scene objects to KB entities, ranked facts)."""

OP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")
"""What an op name may look like: it must be writable in the one-line text form and as a
token (``filter_color``, ``kb.lookup``, ``gqa:select``)."""


@dataclass(frozen=True, slots=True)
class ValueType:
    """A type of the vocabulary. ``domain`` lists allowed values of a ``value`` type;
    ``None`` means open (any non-empty string: names, predicates in open graphs)."""

    name: str
    kind: TypeKind
    domain: tuple[str, ...] | None = None
    doc: str = ""
    takes_from: tuple[str, ...] = ()
    """Kinds or type names whose outputs an input of this type also takes (``[value]``: a
    knowledge op's ``Concept`` input takes a CLEVR ``Material``)."""

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a valid *value argument* of this type."""
        if self.kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "value":
            if not isinstance(value, str) or not value:
                return False
            return self.domain is None or value in self.domain
        return False  # objects and object sets are never literal arguments

    def describe_domain(self) -> str:
        if self.kind == "value":
            return f"one of {list(self.domain)}" if self.domain else "a non-empty string"
        return {"integer": "an integer", "bool": "true or false"}.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """A value argument of an op: its name, type and whether it may be left out."""

    name: str
    type: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class OpSignature:
    """One op: typed inputs (outputs of earlier steps), value arguments, output type."""

    name: str
    inputs: tuple[str, ...]
    args: tuple[ArgSpec, ...]
    output: str
    impl: str
    params: tuple[tuple[str, Any], ...] = ()
    doc: str = ""
    template_only: bool = False
    neural: str = ""
    """The name of the op's soft implementation (:mod:`nsreason.execute.neural`); the
    vocabulary file's ``neural``, else ``impl``."""

    def __post_init__(self) -> None:
        if not self.neural:
            object.__setattr__(self, "neural", self.impl)

    @property
    def min_args(self) -> int:
        return sum(not a.optional for a in self.args)

    def describe(self) -> str:
        """``relate[relation: Relation](Object) -> ObjectSet``"""
        args = ", ".join(f"{a.name}: {a.type}{'?' if a.optional else ''}" for a in self.args)
        brackets = f"[{args}]" if args else ""
        return f"{self.name}{brackets}({', '.join(self.inputs)}) -> {self.output}"


@dataclass(frozen=True)
class Vocabulary:
    """A named set of types and ops (see the module docstring for the file format)."""

    name: str
    types: Mapping[str, ValueType]
    ops: Mapping[str, OpSignature]
    description: str = ""
    source: str | None = field(default=None, compare=False)

    def op(self, name: str) -> OpSignature:
        """The signature of op ``name``; the error suggests close names."""
        if not isinstance(name, str):
            raise UnknownOpError(
                f"expected an op name (a string) of vocabulary {self.name!r}, got {name!r}"
            )
        try:
            return self.ops[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self.ops), n=3)
            hint = f"; did you mean {close}?" if close else f"; known ops: {sorted(self.ops)}"
            raise UnknownOpError(
                f"unknown op {name!r} in vocabulary {self.name!r}{hint}"
            ) from None

    def __contains__(self, op: object) -> bool:
        return op in self.ops

    def takes(self, want: str, have: str) -> bool:
        """Whether an input of type ``want`` takes an output of type ``have``: the same
        type, or one that ``want`` accepts (by kind or by name).

        >>> v = get_vocabulary("clevr+knowledge")
        >>> v.takes("Concept", "Material"), v.takes("Material", "Concept"), v.takes("Object", "Object")
        (True, False, True)
        """
        if want == have:
            return True
        w, h = self.types.get(want), self.types.get(have)
        return w is not None and h is not None and (h.kind in w.takes_from or have in w.takes_from)

    def fits(self, have: Any, want: Any) -> bool:
        """:meth:`takes` for one input type or a tuple of them (the executor's wiring)."""
        if isinstance(want, tuple):
            return (isinstance(have, tuple) and len(have) == len(want)
                    and all(self.takes(w, h) for h, w in zip(have, want)))
        return isinstance(have, str) and isinstance(want, str) and self.takes(want, have)

    def __repr__(self) -> str:
        return f"Vocabulary({self.name!r}, ops={len(self.ops)}, types={len(self.types)})"

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> Vocabulary:
        """Build a vocabulary from the parsed YAML/JSON file, checking every field."""
        try:
            return _vocabulary_from_dict(data, source)
        except NSReasonError as err:
            if source:
                err.with_source(source)
            raise

    def to_dict(self) -> dict[str, Any]:
        """The file form (round-trips through :meth:`from_dict`)."""
        types = {}
        for t in self.types.values():
            entry: dict[str, Any] = {"kind": t.kind}
            if t.domain is not None:
                entry["domain"] = list(t.domain)
            if t.doc:
                entry["doc"] = t.doc
            if t.takes_from:
                entry["takes_from"] = list(t.takes_from)
            types[t.name] = entry
        ops = {}
        for o in self.ops.values():
            entry = {"inputs": list(o.inputs), "output": o.output}
            if o.args:
                entry["args"] = [
                    {"name": a.name, "type": a.type, **({"optional": True} if a.optional else {})}
                    for a in o.args
                ]
            if o.impl != o.name:
                entry["impl"] = o.impl
            if o.neural != o.impl:
                entry["neural"] = o.neural
            if o.params:
                entry["params"] = dict(o.params)
            if o.doc:
                entry["doc"] = o.doc
            if o.template_only:
                entry["template_only"] = True
            ops[o.name] = entry
        return {"name": self.name, "description": self.description, "types": types, "ops": ops}


def _vocabulary_from_dict(data: Any, source: str | None) -> Vocabulary:
    def need(cond: bool, path: str, msg: str) -> None:
        if not cond:
            raise VocabularyError(msg, path=path)

    need(isinstance(data, Mapping), "", f"expected a mapping, got {type(data).__name__}")
    name = data.get("name")
    need(isinstance(name, str) and bool(name), "name", f"expected a non-empty string, got {_short(name)}")
    raw_types = data.get("types")
    need(isinstance(raw_types, Mapping), "types", "expected a mapping of type name → spec")
    types: dict[str, ValueType] = {}
    for tname, spec in raw_types.items():
        path = f"types.{tname}"
        need(isinstance(tname, str) and bool(tname), path,
             f"type names must be non-empty strings, got {_short(tname)} (quote it in YAML)")
        spec = spec or {}
        need(isinstance(spec, Mapping), path, f"expected a mapping, got {type(spec).__name__}")
        raw_kind = spec.get("kind")
        need(raw_kind in _KINDS, f"{path}.kind",
             f"expected one of {list(_KINDS)}, got {_short(raw_kind)}")
        kind = cast(TypeKind, raw_kind)  # one of _KINDS, checked just above
        domain = spec.get("domain")
        if domain is not None:
            need(kind == "value", f"{path}.domain", "only 'value' types have a domain")
            need(
                isinstance(domain, list) and all(isinstance(v, str) and v for v in domain),
                f"{path}.domain",
                f"expected a list of non-empty strings, got {_short(domain)}",
            )
            need(bool(domain), f"{path}.domain",
                 "expected at least one value; leave 'domain' out for an open type")
            dupes = sorted(v for v, n in Counter(domain).items() if n > 1)
            need(not dupes, f"{path}.domain", f"values listed twice: {dupes}")
            domain = tuple(domain)
        takes_from = spec.get("takes_from", [])
        need(isinstance(takes_from, list) and all(isinstance(a, str) and a for a in takes_from),
             f"{path}.takes_from", f"expected a list of kinds or type names, got {_short(takes_from)}")
        types[tname] = ValueType(tname, kind, domain, _text(spec, "doc", path), tuple(takes_from))
    raw_ops = data.get("ops")
    need(isinstance(raw_ops, Mapping) and bool(raw_ops), "ops",
         "expected a mapping of op name → spec")
    ops: dict[str, OpSignature] = {}
    def known(t: Any) -> bool:
        return isinstance(t, str) and t in types

    for oname, spec in raw_ops.items():
        path = f"ops.{oname}"
        need(isinstance(oname, str) and OP_NAME.fullmatch(oname) is not None, path,
             f"op names must match {OP_NAME.pattern} (letters, digits, _ . : -), got {_short(oname)}"
             + (" (quote it in YAML)" if not isinstance(oname, str) else ""))
        need(isinstance(spec, Mapping), path, f"expected a mapping, got {type(spec).__name__}")
        inputs = spec.get("inputs", [])
        need(isinstance(inputs, list), f"{path}.inputs", "expected a list of type names")
        for i, t in enumerate(inputs):
            need(known(t), f"{path}.inputs[{i}]", f"unknown type {_short(t)}; known: {sorted(types)}")
        output = spec.get("output")
        need(known(output), f"{path}.output", f"unknown type {_short(output)}; known: {sorted(types)}")
        args = []
        raw_args = spec.get("args", [])
        need(isinstance(raw_args, list), f"{path}.args", "expected a list of {name, type}")
        for i, a in enumerate(raw_args):
            apath = f"{path}.args[{i}]"
            need(isinstance(a, Mapping) and "name" in a and "type" in a, apath,
                 "expected a mapping with 'name' and 'type'")
            need(known(a["type"]), f"{apath}.type",
                 f"unknown type {_short(a['type'])}; known: {sorted(types)}")
            need(types[a["type"]].kind in ("value", "integer", "bool"), f"{apath}.type",
                 f"value arguments must be of a value, integer or bool type, not {_short(a['type'])}")
            need(isinstance(a["name"], str) and bool(a["name"]), f"{apath}.name",
                 f"expected a non-empty string, got {_short(a['name'])}")
            args.append(ArgSpec(a["name"], a["type"], _flag(a, "optional", apath)))
        params = spec.get("params", {}) or {}
        need(isinstance(params, Mapping), f"{path}.params", "expected a mapping")
        impl = spec.get("impl", oname)
        need(isinstance(impl, str) and bool(impl), f"{path}.impl",
             f"expected the name of an implementation, got {_short(impl)}")
        neural = spec.get("neural", impl)
        need(isinstance(neural, str) and bool(neural), f"{path}.neural",
             f"expected the name of a soft implementation, got {_short(neural)}")
        budget = [_PARAM_VALUES]
        ops[oname] = OpSignature(
            name=oname,
            inputs=tuple(inputs),
            args=tuple(args),
            output=output,
            impl=impl,
            params=tuple((str(k), _freeze(v, f"{path}.params.{k}", budget)) for k, v in params.items()),
            doc=_text(spec, "doc", path),
            template_only=_flag(spec, "template_only", path),
            neural=neural,
        )
    return Vocabulary(name, types, ops, _text(data, "description", ""), source)


_PARAM_VALUES = 10_000
_PARAM_DEPTH = 32
_repr = reprlib.Repr()  # Python 3.11's Repr takes no arguments
_repr.maxlevel, _repr.maxlist, _repr.maxdict, _repr.maxstring, _repr.maxother = 3, 6, 6, 80, 80
_short = _repr.repr
"""A bounded repr for messages: a YAML file's aliases can make a value of exponential size."""


def _text(spec: Mapping[str, Any], key: str, path: str) -> str:
    value = spec.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise VocabularyError(f"expected a string, got {_short(value)}",
                              path=f"{path}.{key}" if path else key)
    return value


def _flag(spec: Mapping[str, Any], key: str, path: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise VocabularyError(f"expected true or false, got {_short(value)}", path=f"{path}.{key}")
    return value


def _freeze(value: Any, path: str, budget: list[int], depth: int = 0) -> Any:
    """Lists become tuples (params are constants); at most ``_PARAM_VALUES`` values per op,
    nested at most ``_PARAM_DEPTH`` deep (YAML aliases can nest a short file exponentially
    or make a list contain itself)."""
    budget[0] -= 1
    if budget[0] < 0 or depth > _PARAM_DEPTH:
        raise VocabularyError(
            f"expected plain constants: at most {_PARAM_VALUES} values nested at most "
            f"{_PARAM_DEPTH} deep (YAML aliases?)", path=path)
    if isinstance(value, list):
        return tuple(_freeze(v, path, budget, depth + 1) for v in value)
    if isinstance(value, Mapping):  # walked for the limits, kept as it is
        for v in value.values():
            _freeze(v, path, budget, depth + 1)
    return value


def programs_dir() -> Path:
    """The folder holding the built-in vocabularies: ``programs/`` of the repository,
    installed as the package-data folder ``nsreason/_programs`` in a wheel."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "_programs"
    return installed if installed.is_dir() else package.parent / "programs"


def load_vocabulary(path: str | Path) -> Vocabulary:
    """Read a vocabulary from a ``.yaml``/``.yml``/``.json`` file (a regular file within
    :attr:`~nsreason.limits.Limits.program_bytes`: a FIFO or a device is refused unread)."""
    path = Path(path)
    try:
        raw = read_bounded(path, get_limits().program_bytes, VocabularyError, "vocabulary file")
    except VocabularyError as err:
        raise VocabularyError(f"cannot read vocabulary file: {err.message}", source=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VocabularyError(f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                              source=str(path)) from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError / json.JSONDecodeError
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise VocabularyError(f"not valid {kind}: {exc}", source=str(path)) from exc
    return Vocabulary.from_dict(data, source=str(path))


VOCABULARIES: Registry[Vocabulary] = Registry("vocabulary", "nsreason.vocabularies")
_loaded: dict[str, Vocabulary] = {}


def merge_vocabularies(name: str, parts: list[Vocabulary]) -> Vocabulary:
    """One vocabulary with the types and ops of ``parts``; a type or op in several must be
    the same in each (docs aside), else :class:`~nsreason.errors.VocabularyError`."""
    types: dict[str, ValueType] = {}
    ops: dict[str, OpSignature] = {}
    for part in parts:
        for tname, t in part.types.items():
            seen = types.setdefault(tname, t)
            if (seen.kind, seen.domain, seen.takes_from) != (t.kind, t.domain, t.takes_from):
                raise VocabularyError(f"type {tname!r} differs between the vocabularies combined in {name!r}: "
                                      f"{seen.kind} {seen.domain} and {t.kind} {t.domain}", path=f"types.{tname}")
        for oname, o in part.ops.items():
            seen_op = ops.setdefault(oname, o)
            if (seen_op.inputs, seen_op.args, seen_op.output, seen_op.impl, seen_op.params) != (
                    o.inputs, o.args, o.output, o.impl, o.params):
                raise VocabularyError(f"op {oname!r} differs between the vocabularies combined in {name!r}: "
                                      f"{seen_op.describe()} and {o.describe()}", path=f"ops.{oname}")
    description = " + ".join(p.description or p.name for p in parts)
    return Vocabulary(name, types, ops, description)


def get_vocabulary(spec: str | Path | Vocabulary) -> Vocabulary:
    """A vocabulary by name (``"clevr"``, ``"scene_graph"``, a registered plug-in), by file
    path, a ``+`` of names (``"clevr+knowledge"``: :func:`merge_vocabularies`), or passed
    through when already a :class:`Vocabulary`."""
    if isinstance(spec, Vocabulary):
        return spec
    key = str(spec)
    if key in _loaded:
        return _loaded[key]
    if "+" in key and not Path(key).suffix:
        vocab = merge_vocabularies(key, [get_vocabulary(part) for part in key.split("+")])
        _loaded[key] = vocab
        return vocab
    builtin = programs_dir() / f"{key}.yaml"
    if builtin.is_file():
        vocab = load_vocabulary(builtin)
    elif key in VOCABULARIES:
        vocab = VOCABULARIES.get(key)
    elif Path(key).suffix in (".yaml", ".yml", ".json"):
        vocab = load_vocabulary(key)
    else:
        files = {p.stem for p in programs_dir().glob("*.yaml")}
        available = sorted(files | set(VOCABULARIES.names()))
        raise RegistryError(
            f"unknown vocabulary {key!r}; available: {available}, "
            "or the path of a .yaml/.json vocabulary file"
        )
    _loaded[key] = vocab
    return vocab
