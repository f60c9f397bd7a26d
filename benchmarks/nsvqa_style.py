"""The peer for executor throughput: a plain CLEVR program interpreter in the style of
NS-VQA's symbolic executor (Yi et al., NeurIPS 2018, ``reason/executors/clevr_executor.py``).

Written here from its published algorithm, not copied: scenes are lists of object dicts,
a program is NS-VQA's token list (prefix order, run from the end), execution keeps two
registers (``ans`` and ``temp``; a second ``scene`` token pushes ``ans`` into ``temp``),
every module is one Python method looked up in a dict by token (``filter_color[red]``...),
filters loop over object dicts, relations compare coordinates, and a failure is the
string ``'error'``. Only what the benchmark needs: speed on the same programs and scenes.

Relations compare ``3d_coords`` along CLEVR's ``directions`` vectors with CLEVR's 0.2
margin, so that this peer answers like the official engine and the comparison is fair.
"""

from __future__ import annotations

from typing import Any

ATTRS = ("size", "color", "material", "shape")
EPS = 0.2  # CLEVR's compute_all_relationships margin


def load_scenes(raw_scenes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """CLEVR scenes → NS-VQA-style lists of object dicts with an ``id`` and a ``position``
    (the coordinates projected on each direction vector)."""
    scenes = []
    for s in raw_scenes:
        dirs = s["directions"]
        objs = []
        for i, o in enumerate(s["objects"]):
            x, y, z = o["3d_coords"]
            proj = {
                rel: x * dirs[rel][0] + y * dirs[rel][1] + z * dirs[rel][2]
                for rel in ("left", "right", "front", "behind")
            }
            objs.append({"id": i, "position": proj, **{a: o[a] for a in ATTRS}})
        scenes.append(objs)
    return scenes


def to_tokens(nodes: list[dict[str, Any]]) -> list[str]:
    """CLEVR release nodes → NS-VQA's prefix tokens (``filter_color[red]``, ``relate[left]``)."""

    def tok(n: dict[str, Any]) -> str:
        f = n.get("function", n.get("type"))
        return f"{f}[{n['value_inputs'][0]}]" if n["value_inputs"] else f

    def prefix(i: int) -> list[str]:
        out = [tok(nodes[i])]
        for j in nodes[i]["inputs"]:
            out += prefix(j)
        return out

    return prefix(len(nodes) - 1)


class NSVQAStyleExecutor:
    def __init__(self) -> None:
        self.modules: dict[str, Any] = {
            "count": lambda a, t: len(a) if type(a) == list else "error",
            "exist": lambda a, t: ("yes" if a else "no") if type(a) == list else "error",
            "unique": self.unique,
            "union": self.union,
            "intersect": self.intersect,
            "equal_integer": self.equal_int,
            "less_than": lambda a, t: self.cmp_int(a, t, lambda x, y: x < y),
            "greater_than": lambda a, t: self.cmp_int(a, t, lambda x, y: x > y),
        }
        values = {
            "color": ["gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"],
            "size": ["small", "large"],
            "material": ["rubber", "metal"],
            "shape": ["cube", "sphere", "cylinder"],
        }
        for attr, vals in values.items():
            for v in vals:
                self.modules[f"filter_{attr}[{v}]"] = self.make_filter(attr, v)
            self.modules[f"query_{attr}"] = self.make_query(attr)
            self.modules[f"equal_{attr}"] = self.make_equal(vals)
            self.modules[f"same_{attr}"] = self.make_same(attr)
        for rel in ("left", "right", "front", "behind"):
            self.modules[f"relate[{rel}]"] = self.make_relate(rel)
        self.modules["equal_object"] = lambda a, t: ("yes" if a is t else "no")

    def run(self, tokens: list[str], scene: list[dict[str, Any]]) -> str:
        ans: Any = None
        temp: Any = None
        for i in range(len(tokens) - 1, -1, -1):
            token = tokens[i]
            if token == "scene":
                if temp is not None:
                    ans = "error"
                    break
                temp = ans
                ans = list(scene)
            elif token in self.modules:
                module = self.modules[token]
                if token.startswith("same") or token.startswith("relate"):
                    ans = module(ans, scene)
                else:
                    ans = module(ans, temp)
                if ans == "error":
                    break
        return str(ans)

    @staticmethod
    def make_filter(attr: str, value: str):
        def f(scene, _):
            if type(scene) == list:
                out = []
                for o in scene:
                    if o[attr] == value:
                        out.append(o)
                return out
            return "error"

        return f

    @staticmethod
    def make_query(attr: str):
        return lambda obj, _: obj[attr] if type(obj) == dict else "error"

    @staticmethod
    def make_equal(vals: list[str]):
        def f(a, b):
            if type(a) == str and a in vals and type(b) == str and b in vals:
                return "yes" if a == b else "no"
            return "error"

        return f

    @staticmethod
    def make_same(attr: str):
        def f(obj, scene):
            if type(obj) == dict and type(scene) == list:
                out = []
                for o in scene:
                    if o[attr] == obj[attr] and o["id"] != obj["id"]:
                        out.append(o)
                return out
            return "error"

        return f

    @staticmethod
    def make_relate(rel: str):
        def f(obj, scene):
            if type(obj) == dict and type(scene) == list:
                out = []
                p = obj["position"][rel]
                for o in scene:
                    if o["position"][rel] - p > EPS:
                        out.append(o)
                return out
            return "error"

        return f

    @staticmethod
    def unique(scene, _):
        if type(scene) == list and len(scene) == 1:
            return scene[0]
        return "error"

    @staticmethod
    def union(a, b):
        if type(a) == list and type(b) == list:
            out = list(b)
            for o in a:
                if o not in b:
                    out.append(o)
            return out
        return "error"

    @staticmethod
    def intersect(a, b):
        if type(a) == list and type(b) == list:
            return [o for o in a if o in b]
        return "error"

    @staticmethod
    def equal_int(a, b):
        if type(a) == int and type(b) == int:
            return "yes" if a == b else "no"
        return "error"

    @staticmethod
    def cmp_int(a, b, op):
        if type(a) == int and type(b) == int:
            return "yes" if op(a, b) else "no"
        return "error"
