"""CLEVR's question templates: the official ``templates/*.json`` files read into
:class:`ClevrTemplate`, and a template's program expanded into the CLEVR v1.0 release chain
(:func:`expand_program`). How questions are made from them: :mod:`.generate`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...jsonio import read_json
from ...program.vocab import Vocabulary, get_vocabulary

__all__ = ["ClevrTemplate", "TemplateNode", "default_templates_dir", "expand_program", "load_synonyms",
           "load_templates"]

_LETTER_TYPE = {"Z": "Size", "C": "Color", "M": "Material", "S": "Shape", "R": "Relation",
                "D": "Relation"}
# Attribute types in the order the release files write a filter chain.
_FILTER_TYPES = ("Size", "Color", "Material", "Shape")
_ATTRIBUTE = {"Size": "size", "Color": "color", "Material": "material", "Shape": "shape"}
# template-level node type -> what follows the filters (None: nothing)
_FILTER_NODES = {"filter": None, "filter_unique": "unique", "filter_count": "count",
                 "filter_exist": "exist"}
_RELATE_NODES = {"relate_filter": None, "relate_filter_unique": "unique",
                 "relate_filter_count": "count", "relate_filter_exist": "exist"}
# ops over a whole set that nsreason adds to CLEVR's (by name prefix)
_SET_LEVEL = ("extreme", "all_same_", "most_common_")
_CONSTRAINTS = ("NULL", "NOT_NULL", "EQ", "NEQ", "OUT_EQ", "OUT_NEQ")




@dataclass(frozen=True, slots=True)
class TemplateNode:
    """One template-level node: its type, input nodes and parameter names."""

    type: str
    inputs: tuple[int, ...] = ()
    side_inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClevrTemplate:
    """One CLEVR question template (the official JSON format, checked when read).

    ``filename`` and ``family`` (its position in that file) become the question's
    ``template_filename`` and ``question_family_index``.
    """

    filename: str
    family: int
    texts: tuple[str, ...]
    nodes: tuple[TemplateNode, ...]
    params: tuple[tuple[str, str], ...]  # (name, type), as declared
    constraints: tuple[tuple[str, tuple[Any, ...]], ...]  # (type, params)

    @property
    def param_types(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def key(self) -> tuple[str, int]:
        return (self.filename, self.family)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], filename: str = "", family: int = 0,
        vocabulary: str | Vocabulary = "clevr",
    ) -> ClevrTemplate:
        """Read and check one template (``{"text", "nodes", "params", "constraints"}``)."""
        where = f"{filename}[{family}]" if filename else f"template[{family}]"
        vocab = get_vocabulary(vocabulary)
        try:
            texts = tuple(data["text"])
            raw_nodes = data["nodes"]
            params = tuple((p["name"], p["type"]) for p in data.get("params", []))
            raw_constraints = data.get("constraints", [])
        except (KeyError, TypeError) as err:
            raise InputError(f"not a CLEVR template: {err!r}", path=where) from None
        if not texts or not all(isinstance(t, str) and t for t in texts):
            raise InputError("expected a non-empty list of texts", path=f"{where}.text")
        declared = dict(params)
        for name, ptype in params:
            if ptype not in vocab.types:
                raise InputError(f"parameter {name}: unknown type {ptype!r}", path=f"{where}.params")
        nodes = []
        for i, n in enumerate(raw_nodes):
            npath = f"{where}.nodes[{i}]"
            ntype = n.get("type", n.get("function"))
            if ntype not in vocab:
                raise InputError(f"unknown node type {ntype!r}", path=npath)
            inputs = tuple(n.get("inputs", ()))
            if any(not isinstance(j, int) or not 0 <= j < i for j in inputs):
                raise InputError(f"inputs must be earlier nodes, got {list(inputs)}", path=npath)
            side = tuple(n.get("side_inputs", n.get("value_inputs", ())))
            for name in side:
                if name not in declared:
                    raise InputError(f"parameter {name!r} is not declared", path=npath)
            nodes.append(TemplateNode(ntype, inputs, side))
        constraints = []
        for i, c in enumerate(raw_constraints):
            ctype, cparams = c.get("type"), tuple(c.get("params", ()))
            if ctype not in _CONSTRAINTS:
                raise InputError(
                    f"unknown constraint {ctype!r}; known: {list(_CONSTRAINTS)}",
                    path=f"{where}.constraints[{i}]",
                )
            constraints.append((ctype, cparams))
        return cls(filename, family, texts, tuple(nodes), params, tuple(constraints))

    def to_dict(self) -> dict[str, Any]:
        """The official JSON form of this template."""
        return {
            "text": list(self.texts),
            "nodes": [
                {"type": n.type, "inputs": list(n.inputs),
                 **({"side_inputs": list(n.side_inputs)} if n.side_inputs else {})}
                for n in self.nodes
            ],
            "params": [{"type": t, "name": n} for n, t in self.params],
            "constraints": [{"type": t, "params": list(p)} for t, p in self.constraints],
        }


def default_templates_dir() -> Path:
    """Where the official templates are looked for: ``$NSREASON_CLEVR_TEMPLATES``, else
    ``$NSREASON_SHARED_DATA/clevr/templates``, else ``../shared/data/clevr/templates``
    beside the repository."""
    env = os.environ.get("NSREASON_CLEVR_TEMPLATES")
    if env:
        return Path(env)
    shared = os.environ.get("NSREASON_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return base / "clevr" / "templates"


def load_templates(
    templates_dir: str | Path | None = None, vocabulary: str | Vocabulary = "clevr"
) -> list[ClevrTemplate]:
    """Every template of every ``*.json`` file of ``templates_dir`` (default
    :func:`default_templates_dir`), ordered by file name, then position in the file."""
    folder = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise InputError(
            "no CLEVR template files (*.json) found; pass templates_dir= (--templates) or set "
            "NSREASON_CLEVR_TEMPLATES to the official templates folder",
            source=str(folder),
        )
    out = []
    for path in files:
        data = read_json(path)
        if not isinstance(data, list):
            raise InputError("expected a list of templates", source=str(path))
        out.extend(ClevrTemplate.from_dict(t, path.name, i, vocabulary) for i, t in enumerate(data))
    return out


def load_synonyms(path: str | Path) -> dict[str, tuple[str, ...]]:
    """A ``synonyms.json`` file: ``{"sphere": ["sphere", "ball"], ...}``."""
    data = read_json(path)
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and v and all(isinstance(w, str) for w in v) for v in data.values()
    ):
        raise InputError("expected an object of non-empty lists of words", source=str(path))
    return {k: tuple(v) for k, v in data.items()}


def _param_modes(template: ClevrTemplate) -> dict[str, str]:
    """Per parameter: "null" (must be empty), "required" (never empty) or "optional"."""
    modes: dict[str, str] = {}
    for node in template.nodes:
        filtered = node.type in _FILTER_NODES or node.type in _RELATE_NODES
        for k, name in enumerate(node.side_inputs):
            relation = node.type in _RELATE_NODES and k == 0
            modes[name] = "optional" if filtered and not relation else "required"
    for ctype, params in template.constraints:
        for name in params:
            if ctype == "NULL":
                modes[name] = "null"
            elif ctype == "NOT_NULL" and modes.get(name) == "optional":
                modes[name] = "required"
    return modes


def expand_program(template: ClevrTemplate, values: Mapping[str, str]) -> list[dict[str, Any]]:
    """The CLEVR v1.0 release program of ``template`` with parameter ``values``: template-only
    nodes become ``[relate,] filter_size, filter_color, filter_material, filter_shape`` (only
    the non-empty ones, in that order) ``[, unique | count | exist]``."""
    types = template.param_types
    nodes: list[dict[str, Any]] = []
    where: list[int] = []  # template node -> release step holding its output

    def add(function: str, inputs: list[int], value_inputs: list[str]) -> int:
        nodes.append({"inputs": inputs, "function": function, "value_inputs": value_inputs})
        return len(nodes) - 1

    for node in template.nodes:
        ins = [where[j] for j in node.inputs]
        if node.type in _FILTER_NODES or node.type in _RELATE_NODES:
            then = _FILTER_NODES.get(node.type, _RELATE_NODES.get(node.type))
            names = list(node.side_inputs)
            cur = ins[0]
            if node.type in _RELATE_NODES:
                cur = add("relate", [cur], [values[names.pop(0)]])
            by_type = {types[n]: n for n in names}
            for t in _FILTER_TYPES:
                v = values.get(by_type.get(t, ""), "")
                if v:
                    cur = add(f"filter_{_ATTRIBUTE[t]}", [cur], [v])
            if then is not None:
                cur = add(then, [cur], [])
            where.append(cur)
        else:
            where.append(add(node.type, ins, [values[n] for n in node.side_inputs]))
    return nodes


# -- generation -----------------------------------------------------------------------------
