"""GQA-format questions generated on GQA scene graphs, answers read off the graphs.

    python -m nsreason.datasets.gqa.generate --scenes ../shared/data/gqa/gqa_val_scene_graphs_100.json \\
        --graphs 50:100 --per-kind 3 --seed 0 --out /tmp/gqa_heldout.json

writes GQA's own question format (``{questionId: {"imageId", "question", "answer",
"semantic", "types": {"structural", "semantic", "detailed"}}}``), one question set per
graph range: develop on graphs 0-49, measure on 50-99 (held out by image).

Kinds (``types.detailed`` as GQA names them where GQA has the kind): ``exist`` (and
``existAttr``, ``existRelS``), ``count`` (GQA's release has none; its program uses a
``count`` step), ``directOf`` (colour of a named object), ``materialVerify`` (what it is
made of; GQA's name for the kind), ``relO``/``relS`` (what stands in a relation to an
object), ``relVerify`` (whether a relation holds, yes or no), ``relChooser`` (left or right
of another object).

Wordings follow GQA's (as in released GQA val questions: "Are there carts near the
pond?", "Who is wearing a shirt?", "Do you see any trash cans to the left of the car?",
"Is the faucet to the right or to the left of the toilet?", "What is the bridge made
of?"), several per kind, chosen at random. Only unambiguous questions are written: every
object a question names is the only one its description fits in the graph (its name alone,
or with an attribute or a relation to another uniquely named object), and each question's
``semantic`` program, converted by :func:`~nsreason.program.gqa.program_from_gqa` and run
on the graph, gives its answer (a question where it does not is dropped).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...execute.symbolic import SymbolicExecutor
from ...program.gqa import ATTRIBUTE_CATEGORIES, program_from_gqa
from ...scene.gqa import load_gqa_scenes
from ...scene.graph import SceneGraph, SceneObject

__all__ = ["KINDS", "generate", "main", "plural"]

KINDS = ("exist", "count", "color", "material", "relation_query", "relation_verify", "left_right")

_LEFT_RIGHT = ("to the left of", "to the right of")
_PLURAL_ONLY = frozenset({"pants", "jeans", "shorts", "glasses", "people", "clothes",
                          "scissors", "trousers", "sunglasses", "goggles", "leaves", "skis",
                          "bleachers", "headphones", "tongs", "trunks"})
_IRREGULAR = {"man": "men", "woman": "women", "person": "people", "child": "children",
              "foot": "feet", "tooth": "teeth", "mouse": "mice", "leaf": "leaves",
              "knife": "knives", "shelf": "shelves", "sheep": "sheep", "fish": "fish",
              "deer": "deer", "life": "lives", "wife": "wives", "goose": "geese"}
_PERSONS = frozenset({"man", "woman", "person", "boy", "girl", "child", "lady", "guy",
                      "player", "skier", "surfer", "skateboarder", "spectator", "people",
                      "kid", "biker", "rider", "snowboarder", "tennis player", "batter",
                      "catcher", "umpire", "pitcher", "chef", "driver", "customer"})
_VERB_PREDICATES = ("wearing", "holding", "riding", "carrying", "eating", "watching",
                    "using", "reading", "throwing", "pulling", "touching", "playing with",
                    "walking with", "covering", "swinging")


def gqa_answer(value: Any) -> str:
    """A value as GQA writes answers (``yes``/``no``, digits, the name or value)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def is_plural(name: str) -> bool:
    """Whether an object name is a plural ("windows", "pants")."""
    last = name.split()[-1]
    return last in _PLURAL_ONLY or last in _IRREGULAR.values() or (
        last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3)


def plural(name: str) -> str:
    """The plural of an object name: ``plural("bus")`` = "buses".

    >>> [plural(w) for w in ("cup", "bus", "man", "strawberry", "pants", "tennis racket")]
    ['cups', 'buses', 'men', 'strawberries', 'pants', 'tennis rackets']
    """
    *head, last = name.split()
    if is_plural(name):
        out = last
    elif last in _IRREGULAR:
        out = _IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        out = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        out = last[:-1] + "ies"
    else:
        out = last + "s"
    return " ".join([*head, out])


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _be(name: str) -> str:
    return "are" if is_plural(name) else "is"


class _Graph:
    """One scene graph with what the generator asks of it."""

    def __init__(self, scene: SceneGraph) -> None:
        self.scene = scene
        self.objects = [o for o in scene.objects if o.name]
        self.by_name: dict[str, list[SceneObject]] = defaultdict(list)
        for o in self.objects:
            self.by_name[str(o.name)].append(o)
        self.out: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
        self.into: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
        self.holds: set[tuple[Any, str, Any]] = set()
        for r in scene.relations:
            self.out[r.subject].append((r.predicate, r.object))
            self.into[r.object].append((r.predicate, r.subject))
            self.holds.add((r.subject, r.predicate, r.object))
        self.obj = {o.id: o for o in self.objects}

    def labels(self, o: SceneObject) -> list[str]:
        return [a.value for a in o.attributes]

    def category_value(self, o: SceneObject, category: str) -> str | None:
        found = [v for v in self.labels(o) if v in ATTRIBUTE_CATEGORIES[category]]
        return found[0] if len(found) == 1 else None

    def reference(self, o: SceneObject, rng: random.Random, avoid: str | None = None,
                  depth: int = 0) -> tuple[str, list[dict[str, Any]]] | None:
        """A description only ``o`` fits, and its GQA steps (the last one selects ``o``);
        ``avoid``: an attribute the description must not use (the one asked about)."""
        name = str(o.name)
        same = self.by_name[name]
        sel = {"operation": "select", "argument": f"{name} ({o.id})", "dependencies": []}
        if len(same) == 1:
            return f"the {name}", [sel]
        # an attribute only this one of its name has
        for v in rng.sample(self.labels(o), len(self.labels(o))):
            if v == avoid or v in ("on", "off", "up"):
                continue
            if sum(v in self.labels(x) for x in same) == 1:
                cat = next((c for c, vs in ATTRIBUTE_CATEGORIES.items() if v in vs), None)
                op = f"filter {cat}" if cat else "filter"
                return f"the {v} {name}", [
                    {**sel, "argument": f"{name} ({', '.join(str(x.id) for x in same)})"},
                    {"operation": op, "argument": v, "dependencies": [0]}]
        if depth:
            return None
        # a relation (not left/right: the graphs hold it between most pairs) to an object
        # named uniquely
        options = []
        for pred, other in self.out[o.id]:
            oo = self.obj.get(other)
            if pred in _LEFT_RIGHT or oo is None or len(self.by_name[str(oo.name)]) != 1:
                continue
            if sum((x.id, pred, other) in self.holds for x in same) == 1:
                options.append((pred, oo, "s"))
        for pred, other in self.into[o.id]:
            oo = self.obj.get(other)
            if pred not in _VERB_PREDICATES or oo is None or len(self.by_name[str(oo.name)]) != 1:
                continue
            if sum((other, pred, x.id) in self.holds for x in same) == 1:
                options.append((pred, oo, "o"))
        if not options:
            return None
        pred, oo, d = rng.choice(options)
        other_sel = {"operation": "select", "argument": f"{oo.name} ({oo.id})", "dependencies": []}
        rel = {"operation": "relate", "argument": f"{name},{pred},{d} ({o.id})", "dependencies": [0]}
        if d == "s":
            text = rng.choice([f"the {name} {pred} the {oo.name}",
                               f"the {name} that {_be(name)} {pred} the {oo.name}"])
        else:
            text = rng.choice([f"the {name} the {oo.name} {_be(str(oo.name))} {pred}",
                               f"the {name} that the {oo.name} {_be(str(oo.name))} {pred}"])
        return text, [other_sel, rel]


def _shift(steps: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    return [{**s, "dependencies": [d + k for d in s["dependencies"]]} for s in steps]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] + "?"


def _related_names(name: str, names: Sequence[str]) -> bool:
    """Whether another name of the graph may be meant by the same word (a plural or
    singular form, a compound: "window"/"windows", "person"/"people", "light"/"street
    light"): a count or an existence question would be ambiguous."""
    from ...parse.lexicon import load_lexicon

    lex = load_lexicon()
    mine = set(lex.base_forms(name.split()[-1], "n")) | {name.split()[-1]}
    for x in names:
        if x == name:
            continue
        if name in x or x in name or (set(lex.base_forms(x.split()[-1], "n")) | {x.split()[-1]}) & mine \
                or plural(x) == plural(name):
            return True
    return False


def _questions(g: _Graph, rng: random.Random, names_pool: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Candidate questions of every kind for one graph."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names = sorted(g.by_name)

    def q(kind: str, detailed: str, structural: str, semantic: str, text: str, answer: str,
          steps: list[dict[str, Any]]) -> None:
        out[kind].append({"question": _cap(text), "answer": answer, "semantic": steps,
                          "types": {"structural": structural, "semantic": semantic,
                                    "detailed": detailed}})

    # -- existence
    for name in rng.sample(names, min(4, len(names))):
        ids = ", ".join(str(o.id) for o in g.by_name[name])
        pl = plural(name)
        text = rng.choice([f"is there {_article(name)} {name} in the picture",
                           f"are there any {pl}", f"do you see any {pl}",
                           f"are there {pl} in this image", f"is there {_article(name)} {name}"]) \
            if not is_plural(name) else rng.choice([f"are there any {name}", f"do you see any {name}",
                                                   f"are there {name} in the picture"])
        q("exist", "exist", "verify", "obj", text, "yes",
          [{"operation": "select", "argument": f"{name} ({ids})", "dependencies": []},
           {"operation": "exist", "argument": "?", "dependencies": [0]}])
    absent = [n for n in names_pool if n not in g.by_name and not any(
        n in x or x in n for x in g.by_name)]
    for name in rng.sample(absent, min(3, len(absent))):
        text = rng.choice([f"is there {_article(name)} {name} in the picture",
                           f"are there any {plural(name)}", f"do you see any {plural(name)}"]) \
            if not is_plural(name) else f"are there any {name}"
        q("exist", "exist", "verify", "obj", text, "no",
          [{"operation": "select", "argument": f"{name} (-)", "dependencies": []},
           {"operation": "exist", "argument": "?", "dependencies": [0]}])
    for o in rng.sample(g.objects, min(4, len(g.objects))):
        color = g.category_value(o, "color")
        name = str(o.name)
        if color is None or is_plural(name):
            continue
        ids = ", ".join(str(x.id) for x in g.by_name[name])
        other = rng.choice([c for c in ("red", "blue", "green", "white", "black", "yellow") if c != color])
        for value in (color, other):
            has = any(value in g.labels(x) for x in g.by_name[name])
            q("exist", "existAttr", "verify", "attr",
              rng.choice([f"is there {_article(value)} {value} {name}",
                          f"do you see any {value} {plural(name)}",
                          f"are there {value} {plural(name)} in the image"]),
              "yes" if has else "no",
              [{"operation": "select", "argument": f"{name} ({ids})", "dependencies": []},
               {"operation": "filter color", "argument": value, "dependencies": [0]},
               {"operation": "exist", "argument": "?", "dependencies": [1]}])
    # -- existence / counting with relations, relation questions
    for r in rng.sample(list(g.scene.relations), min(40, len(g.scene.relations))):
        s, o = g.obj.get(r.subject), g.obj.get(r.object)
        if s is None or o is None or s.name == o.name:
            continue
        pred = r.predicate
        sname, oname = str(s.name), str(o.name)
        ref_o = g.reference(o, rng)
        if ref_o is None:
            continue
        text_o, steps_o = ref_o
        k = len(steps_o)
        subj_same = [x for x in g.by_name[sname] if (x.id, pred, o.id) in g.holds]
        if pred not in _LEFT_RIGHT and not is_plural(sname) and not _related_names(sname, list(g.by_name)):
            q("exist", "existRelS", "verify", "rel",
              rng.choice([f"are there {plural(sname)} {pred} {text_o}",
                          f"is there {_article(sname)} {sname} {pred} {text_o}",
                          f"do you see any {plural(sname)} {pred} {text_o}"]), "yes",
              [*steps_o, {"operation": "relate", "argument": f"{sname},{pred},s ({s.id})",
                          "dependencies": [k - 1]},
               {"operation": "exist", "argument": "?", "dependencies": [k]}])
            if not _related_names(sname, list(g.by_name)) and not is_plural(sname):
                q("count", "count", "count", "rel",
                  rng.choice([f"how many {plural(sname)} are {pred} {text_o}",
                              f"how many {plural(sname)} are there {pred} {text_o}"]),
                  str(len(subj_same)),
                  [*steps_o, {"operation": "relate", "argument": f"{sname},{pred},s ({s.id})",
                              "dependencies": [k - 1]},
                   {"operation": "count", "argument": "?", "dependencies": [k]}])
        # what stands in the relation
        if pred not in _LEFT_RIGHT:
            subjects = [x for x, p, y in g.holds if p == pred and y == o.id]
            if len(subjects) == 1:
                wh = "who" if sname in _PERSONS else "what"
                text = rng.choice([f"{wh} is {pred} {text_o}", f"what is {pred} {text_o}"]) \
                    if wh == "who" else f"what is {pred} {text_o}"
                if pred in _VERB_PREDICATES and wh == "who":
                    text = f"who is {pred} {text_o}"
                q("relation_query", "relS", "query", "rel", text, sname,
                  [*steps_o, {"operation": "relate", "argument": f"_,{pred},s ({s.id})",
                              "dependencies": [k - 1]},
                   {"operation": "query", "argument": "name", "dependencies": [k]}])
            ref_s = g.reference(s, rng)
            objects = [y for x, p, y in g.holds if p == pred and x == s.id]
            if ref_s is not None and len(objects) == 1:
                text_s, steps_s = ref_s
                ks = len(steps_s)
                text = f"what {_be(sname)} {text_s} {pred}"  # "what is the man wearing", "what is the cup on"
                q("relation_query", "relO", "query", "rel", text, oname,
                  [*steps_s, {"operation": "relate", "argument": f"_,{pred},o ({o.id})",
                              "dependencies": [ks - 1]},
                   {"operation": "query", "argument": "name", "dependencies": [ks]}])
        # whether the relation holds: yes, and no for another object
        ref_s = g.reference(s, rng)
        if ref_s is None:
            continue
        text_s, steps_s = ref_s
        ks = len(steps_s)
        be = _be(sname)
        q("relation_verify", "relVerify", "verify", "rel", f"{be} {text_s} {pred} {text_o}", "yes",
          [*steps_s, {"operation": "verify rel", "argument": f"{oname},{pred},o ({o.id})",
                      "dependencies": [ks - 1]}])
        others = [x for x in g.objects if x.name not in (sname, oname) and
                  len(g.by_name[str(x.name)]) == 1 and (s.id, pred, x.id) not in g.holds]
        if others and pred not in _LEFT_RIGHT:
            x = rng.choice(others)
            q("relation_verify", "relVerify", "verify", "rel", f"{be} {text_s} {pred} the {x.name}", "no",
              [*steps_s, {"operation": "verify rel", "argument": f"{x.name},{pred},o (-)",
                          "dependencies": [ks - 1]}])
        if pred in _LEFT_RIGHT:
            answer = "left" if pred == "to the left of" else "right"
            text = rng.choice([f"{be} {text_s} to the left or to the right of {text_o}",
                               f"{be} {text_s} to the right or to the left of {text_o}",
                               f"on which side of {text_o} {be} {text_s}"])
            first, second = ("to the left of", "to the right of") if "left or" in text or \
                text.startswith("on which") else ("to the right of", "to the left of")
            q("left_right", "relChooser", "choose", "rel", text, answer,
              [*steps_s, {"operation": "choose rel", "argument": f"{oname},{first}|{second},o ({o.id})",
                          "dependencies": [ks - 1]}])
    # -- colour and material of a named object
    for o in g.objects:
        name = str(o.name)
        for category, kind in (("color", "color"), ("material", "material")):
            value = g.category_value(o, category)
            if value is None:
                continue
            ref = g.reference(o, rng, avoid=value)
            if ref is None:
                continue
            text, steps = ref
            be = _be(name)
            if category == "color":
                wording = rng.choice([f"what color {be} {text}", f"what is the color of {text}",
                                      f"which color {be} {text}", f"what colour {be} {text}",
                                      f"{text} {be} what color"])
                detailed = "directOf"
            else:
                wording = rng.choice([f"what {be} {text} made of", f"what material {be} {text}",
                                      f"what is the material of {text}",
                                      f"which material {be} {text} made of"])
                detailed = "materialVerify"
            q(kind, detailed, "query", "attr", wording, value,
              [*steps, {"operation": "query", "argument": category, "dependencies": [len(steps) - 1]}])
    # -- counting by name
    for name in rng.sample(names, min(3, len(names))):
        if is_plural(name) or _related_names(name, list(g.by_name)):
            continue
        ids = ", ".join(str(o.id) for o in g.by_name[name])
        q("count", "count", "count", "obj",
          rng.choice([f"how many {plural(name)} are there", f"how many {plural(name)} are in the picture",
                      f"how many {plural(name)} do you see", f"how many {plural(name)} are in this image"]),
          str(len(g.by_name[name])),
          [{"operation": "select", "argument": f"{name} ({ids})", "dependencies": []},
           {"operation": "count", "argument": "?", "dependencies": [0]}])
    return out


def generate(scenes: str | Path | Any, graphs: slice = slice(None), *, per_kind: int = 3,
             seed: int = 0) -> dict[str, dict[str, Any]]:
    """Questions for the graphs ``graphs`` (a slice of the file's order), at most
    ``per_kind`` per kind and graph; each checked by running its converted program."""
    loaded = load_gqa_scenes(scenes)
    chosen = loaded[graphs]
    pool = sorted({str(o.name) for s in loaded for o in s.objects if o.name and not is_plural(str(o.name))})
    rng = random.Random(seed)
    run = SymbolicExecutor()
    out: dict[str, dict[str, Any]] = {}
    for scene in chosen:
        g = _Graph(scene)
        cands = _questions(g, rng, pool)
        for kind in KINDS:
            seen: set[str] = set()
            items = cands.get(kind, [])
            rng.shuffle(items)
            kept = 0
            for item in items:
                if kept >= per_kind or item["question"] in seen:
                    continue
                try:
                    answer = run.execute(program_from_gqa(item["semantic"]), scene, trace=False)
                except Exception:  # noqa: BLE001  (a candidate the converter cannot read is dropped)
                    continue
                if answer.failure is not None or gqa_answer(answer.value) != item["answer"]:
                    continue
                seen.add(item["question"])
                kept += 1
                qid = f"{scene.id}-{kind}-{kept}"
                out[qid] = {"imageId": str(scene.id), **item, "kind": kind}
    return out


def _slice(text: str) -> slice:
    a, _, b = text.partition(":")
    return slice(int(a) if a else None, int(b) if b else None)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nsreason.datasets.gqa.generate",
                                 description="GQA-format questions on GQA scene graphs")
    ap.add_argument("--scenes", required=True, help="GQA scene graphs file")
    ap.add_argument("--graphs", default=":", help="graphs by position in the file, START:END (50:100)")
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    questions = generate(args.scenes, _slice(args.graphs), per_kind=args.per_kind, seed=args.seed)
    Path(args.out).write_text(json.dumps(questions, indent=1) + "\n")
    kinds: dict[str, int] = defaultdict(int)
    for q in questions.values():
        kinds[q["kind"]] += 1
    print(f"wrote {len(questions)} questions to {args.out}: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
