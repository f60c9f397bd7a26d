"""CLEVR question files, in both formats the official tools write.

* release format (``CLEVR_<split>_questions.json``): program nodes with ``function``,
  answers as strings ("yes", "3", "red");
* generator format (``..._questions_generator.json``): nodes with ``type`` and the
  ground-truth ``_output`` of every step, answers as JSON booleans, integers, strings.

Both load into :class:`ClevrQuestion` with the answer normalised to the CLEVR answer
string and, for the generator format, every step's expected output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError, ProgramError
from ...execute.answer import answer_text
from ...jsonio import read_json
from ...program.clevr import clevr_outputs, program_from_clevr
from ...program.ir import Program, Step

__all__ = ["ClevrQuestion", "load_clevr_questions"]


@dataclass(slots=True)
class ClevrQuestion:
    """One CLEVR question. ``program`` is None when the file has none (CLEVR-Humans);
    ``outputs`` holds the generator's per-step ``_output`` (None in the release format)."""

    question_index: int
    image_index: int
    question: str
    answer: str | None
    program: Program | None
    outputs: list[Any] | None = None
    family: int | None = None


def load_clevr_questions(
    source: str | Path | Mapping[str, Any], *, vocabulary: str = "clevr"
) -> list[ClevrQuestion]:
    """Read a CLEVR questions file (either format). Malformed entries raise an
    :class:`~nsreason.errors.InputError` naming the file and ``questions[i].field``."""
    origin = str(source) if isinstance(source, (str, Path)) else None
    data = read_json(source) if isinstance(source, (str, Path)) else source
    try:
        return _questions(data, vocabulary)
    except InputError as err:
        raise (err.with_source(origin) if origin else err) from None
    except ProgramError as err:
        raise InputError(err.message, path=err.path, source=origin) from None


def _questions(data: Any, vocabulary: str) -> list[ClevrQuestion]:
    if isinstance(data, Mapping) and "questions" in data:
        raw = data["questions"]
    else:
        raise InputError(
            "expected a CLEVR questions file: an object with a 'questions' list, got "
            + (f"keys {sorted(map(str, data))[:8]}" if isinstance(data, Mapping) else type(data).__name__)
        )
    if not isinstance(raw, list):
        raise InputError(f"expected a list, got {type(raw).__name__}", path="questions")
    out = []
    shared: dict[tuple[Any, ...], Step] = {}  # equal steps of the file's programs: one object
    for i, q in enumerate(raw):
        path = f"questions[{i}]"
        if not isinstance(q, Mapping):
            raise InputError(f"expected an object, got {type(q).__name__}", path=path)
        image_index = q.get("image_index")
        if not _is_int(image_index):
            raise InputError(f"expected an integer, got {image_index!r}", path=f"{path}.image_index")
        text = q.get("question", "")
        if not isinstance(text, str):
            raise InputError(f"expected a string, got {text!r}", path=f"{path}.question")
        answer = q.get("answer")
        if answer is not None and not isinstance(answer, (str, int, bool)):
            raise InputError(f"expected a string, integer or boolean, got {answer!r}", path=f"{path}.answer")
        try:
            answer = None if answer is None else answer_text(answer).lower()
        except ValueError:  # an integer over Python's int-to-str digit limit
            raise InputError("expected an answer, got an integer too long to write",
                             path=f"{path}.answer") from None
        family = q.get("question_family_index")
        if family is not None and not _is_int(family):
            raise InputError(f"expected an integer, got {family!r}", path=f"{path}.question_family_index")
        qi = q.get("question_index")  # CLEVR-Humans writes strings: the position stands in
        qi = qi if _is_int(qi) else i
        nodes = q.get("program")
        program = outputs = None
        if nodes is not None:
            program = program_from_clevr(nodes, vocabulary, path=f"{path}.program", shared=shared)
            outputs = clevr_outputs(nodes)
        out.append(
            ClevrQuestion(
                question_index=qi,
                image_index=image_index,
                question=text,
                answer=answer,
                program=program,
                outputs=outputs,
                family=family,
            )
        )
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
