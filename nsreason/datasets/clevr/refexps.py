"""CLEVR-Ref+ referring expression files (``CLEVR-Ref+_<split>_refexps.json``).

The official generator (ccvl/clevr-refplus-dataset-gen) writes ``{"info": ...,
"refexps": [...]}``; each expression has its text (``refexp``), ``image_index``,
``template_filename`` (the template family: ``zero_hop.json``, ``single_or.json``...), and a
``program`` in the generator format (``{"type", "inputs", "value_inputs"/"side_inputs",
"_output"}``). The referred objects are the last node's ``_output`` (a list of object
indices); there is no answer field.

>>> data = {"refexps": [{"refexp": "The first one of the cubes from left",
...     "image_index": 0, "template_filename": "zero_hop.json", "program": [
...     {"type": "scene", "inputs": [], "value_inputs": [], "_output": [0, 1]},
...     {"type": "filter_shape", "inputs": [0], "value_inputs": ["cube"], "_output": [0, 1]},
...     {"type": "filter_ordinal", "inputs": [1],
...      "value_inputs": ["the first one of the", "from left"], "_output": [1]}]}]}
>>> r = load_refexps(data)[0]
>>> r.objects, r.family, r.program.steps[-1].args
([1], 'zero_hop.json', ('the first one of the', 'from left'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError, ProgramError
from ...jsonio import read_json
from ...program.clevr import clevr_outputs, program_from_clevr
from ...program.ir import Program, Step

__all__ = ["RefExp", "load_refexps"]


@dataclass(slots=True)
class RefExp:
    """One referring expression: its text, program, scene (``image_index``), the referred
    object ids (``objects``, ascending; None when the program has no ``_output``), the
    template family (``family``: the template file name) and every step's ``_output``."""

    refexp_index: int
    image_index: int
    text: str
    program: Program
    objects: list[int] | None
    family: str | None = None
    outputs: list[Any] | None = None


def load_refexps(source: str | Path | Mapping[str, Any], *, vocabulary: str = "clevr") -> list[RefExp]:
    """Read a CLEVR-Ref+ refexps file (or its parsed JSON). A malformed file raises an
    :class:`~nsreason.errors.InputError` naming the file and ``refexps[i].field``."""
    origin = str(source) if isinstance(source, (str, Path)) else None
    data = read_json(source, InputError) if isinstance(source, (str, Path)) else source
    try:
        return _refexps(data, vocabulary)
    except InputError as err:
        raise (err.with_source(origin) if origin else err) from None
    except ProgramError as err:
        raise InputError(err.message, path=err.path, source=origin) from None


def _refexps(data: Any, vocabulary: str) -> list[RefExp]:
    if not isinstance(data, Mapping) or "refexps" not in data:
        got = f"keys {sorted(map(str, data))[:8]}" if isinstance(data, Mapping) else type(data).__name__
        raise InputError(f"expected a CLEVR-Ref+ refexps file: an object with a 'refexps' list, got {got}")
    raw = data["refexps"]
    if not isinstance(raw, list):
        raise InputError(f"expected a list, got {type(raw).__name__}", path="refexps")
    out = []
    shared: dict[tuple[Any, ...], Step] = {}
    for i, r in enumerate(raw):
        path = f"refexps[{i}]"
        if not isinstance(r, Mapping):
            raise InputError(f"expected an object, got {type(r).__name__}", path=path)
        image_index: Any = r.get("image_index")
        if not _is_int(image_index):
            raise InputError(f"expected an integer, got {image_index!r}", path=f"{path}.image_index")
        text = r.get("refexp", "")
        if not isinstance(text, str):
            raise InputError(f"expected a string, got {text!r}", path=f"{path}.refexp")
        family = r.get("template_filename")
        if family is not None and not isinstance(family, str):
            raise InputError(f"expected a string, got {family!r}", path=f"{path}.template_filename")
        index: Any = r.get("refexp_index", i)
        if not _is_int(index):
            raise InputError(f"expected an integer, got {index!r}", path=f"{path}.refexp_index")
        nodes = r.get("program")
        if nodes is None:
            raise InputError("missing field 'program'", path=path)
        program = program_from_clevr(nodes, vocabulary, path=f"{path}.program", shared=shared)
        if not program.steps:
            raise InputError("expected at least one node", path=f"{path}.program")
        outputs = clevr_outputs(nodes)
        objects = None
        if outputs is not None:
            last = outputs[-1]
            if not isinstance(last, list) or not all(_is_int(j) for j in last):
                raise InputError(
                    f"expected the referred objects (a list of object indices), got {last!r}",
                    path=f"{path}.program[{len(nodes) - 1}]._output",
                )
            objects = sorted(last)
        out.append(RefExp(int(index), int(image_index), text, program, objects, family, outputs))
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
