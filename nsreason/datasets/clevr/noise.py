"""Noisy CLEVR scenes: a simulated detector's view of a clean scene, with calibrated
confidences.

:func:`noisy_scene` turns a clean CLEVR :class:`~nsreason.scene.graph.SceneGraph` (from
:func:`~nsreason.scene.clevr.load_clevr_scenes`) into what a perception front end with known
error rates would report, every confidence an exact posterior probability of the simulation
(calibrated by construction):

* **Attributes.** For each object and each key (``size``, ``color``, ``material``,
  ``shape``) a simulated classifier observes ``z_v = s * [v == true] + eps_v`` for every
  value ``v`` of the key's domain, ``eps_v ~ N(0, 1)``, with a quality ``s`` drawn per
  observation (``s = m_k * exp(SPREAD * u)``, ``u ~ N(0, 1)``, so that confidences spread).
  Under a uniform prior the exact posterior is ``softmax(s * z)``: the object gets one
  ``Attribute(value, key=k, confidence=p)`` per domain value, most confident first, rounded
  to 4 decimals. ``m_k`` is solved per key (domains: 8 colours, 2 sizes, 3 shapes, 2
  materials) so that the top value is wrong at the rate ``attribute_error``
  (:func:`quality_scale`). The object's ``name`` is its top shape (the true shape would
  leak the answer).
* **Positions.** Each real object's ``coords`` get ``N(0, position_sigma)`` jitter per axis.
  CLEVR's rule (``compute_all_relationships`` of ``render_images.py``, margin ``eps = 0.2``):
  ``j`` is ``left`` of ``i`` iff ``t = (c_j - c_i) · d_left > 0.2`` with ``d_left`` from
  the scene's ``meta["directions"]``. The observed (jittered) projection is
  ``p = t + N(0, 2 sigma^2 |d|^2)``. CLEVR's generator also places objects so that
  ``|t| >= 0.4`` for every pair and direction (``render_images.py --margin 0.4``; true of
  every val scene), so under a prior flat outside that gap the relation holds with
  probability ``A / (A + B)``, ``A = Phi((p - 0.4) / w)``, ``B = Phi((-0.4 - p) / w)``,
  ``w = sqrt(2) sigma |d|``: 0.5 at ``p = 0``. (A flat prior everywhere,
  ``Phi((p - 0.2) / w)``, is miscalibrated on CLEVR scenes: expected calibration error 0.017
  against 0.0009 at level 1.0, ``benchmarks/noisy_symbolic.py``.) Every ordered pair of
  distinct objects and each of left/right/front/behind is considered; a relation is kept
  when its confidence is at least :data:`RELATION_FLOOR` (0.01).
* **Dropped objects** (probability ``drop`` each) are removed with their relations.
* **Spurious objects** (Poisson with mean ``spurious`` per scene) get ids
  ``"spurious-0"``, ``"spurious-1"``... (strings; real CLEVR ids are integers, so they
  cannot clash), a latent random value per key observed like the real ones, a random
  position on CLEVR's ground (x, y uniform in [-3, 3], z the radius of its latent size)
  and relations computed like the others. They are inserted at random positions among the
  real objects: **object ids are the contract, not positions** (real objects keep their
  order relative to each other).
* **Duplicate detections** (Poisson with mean ``duplicates`` per scene; only when a
  ``NoiseLevel`` sets it, never by :meth:`NoiseLevel.at`): a second detection of a random
  real object, id ``"duplicate-0"``..., its attributes observed again like a real object's,
  its position the object's (jittered) position plus ``N(0, 0.1)`` on each ground axis, and
  a detector score drawn like a real object's: its existence confidence says nothing of
  the duplication, which only its neighbourhood (an object with the same look next to it)
  gives away. Calibrated confidences assume no duplicates, as a detector's do.
* **Object confidence.** A simulated detector score is drawn from ``N(+1.5, 1)`` for real
  objects and ``N(-1.5, 1)`` for spurious ones; the object's ``confidence`` is
  ``P(real | score)`` by Bayes with prior odds ``n_real * (1 - drop) : spurious``. With
  ``spurious == 0`` every object is real and gets confidence 1.0.

Levels (:meth:`NoiseLevel.at`): level 0 is the clean scene (every attribute its true value
with confidence 1.0, exactly the clean relations with confidence 1.0, every object
confidence 1.0); level 1.0 is the acceptance setting of issue 11 (top value right on 96% of
attributes, position jitter, no dropped or spurious objects); attribute error and position
sigma grow linearly with the level; dropped and spurious objects appear only above 1.0
(or with an explicit :class:`NoiseLevel`).

Real objects keep their ids (CLEVR: the object's index in the clean scene), so programs and
the generator's per-step outputs still refer to them; the scene keeps its id (the CLEVR
``image_index``) and ``meta`` (directions, image file name), plus ``meta["noise"]`` (the
level's fields and the seed where known). ``extra`` keeps ``rotation`` and drops
``pixel_coords`` (they give away the true position).

Write a noisy native scene file::

    python -m nsreason.datasets.clevr.noise --scenes ../shared/data/clevr/val/CLEVR_val_scenes.json \\
        --out noisy_val.json --level 1.0 --seed 0
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ...errors import InputError, SceneFormatError
from ...scene.clevr import CLEVR_ATTRIBUTES, clevr_domains, load_clevr_scenes
from ...scene.graph import Attribute, ObjectId, Relation, SceneGraph, SceneObject
from ...scene.native import save_native_scenes

__all__ = [
    "NoiseLevel",
    "PLACEMENT_MARGIN",
    "RELATION_FLOOR",
    "RELATION_MARGIN",
    "SPREAD",
    "noisy_scene",
    "noisy_scenes",
    "quality_scale",
]

RELATION_FLOOR = 0.01
"""Relations whose confidence is below this are left out of a noisy scene."""
RELATION_MARGIN = 0.2
"""CLEVR's ``eps`` in ``compute_all_relationships``: a relation holds when the projected
difference of coordinates exceeds it."""
PLACEMENT_MARGIN = 0.4
"""CLEVR's ``--margin`` in ``render_images.py``: no two objects of a scene are closer than
this along any of the four directions (the prior behind relation confidences)."""
SPREAD = 0.5
"""Standard deviation of ``log s`` around ``log m_k``: how much observation quality varies."""
PREDICATES = ("left", "right", "front", "behind")

# CLEVR's scene geometry (render_images.py): objects on [-3, 3]^2, z = the size's radius
_GROUND = 3.0
_RADIUS = {"large": 0.7, "small": 0.35}
# detector scores of real and spurious objects: N(+1.5, 1) and N(-1.5, 1)
_SCORE_REAL, _SCORE_SPURIOUS = 1.5, -1.5
# the acceptance setting (level 1.0)
_ERROR_AT_1 = 0.04
_SIGMA_AT_1 = 0.15
# how far from the object it duplicates a duplicate detection lands (std per ground axis)
_DUPLICATE_OFFSET = 0.1
# above level 1: drop probability and expected spurious objects per level unit
_DROP_PER_LEVEL = 0.05
_SPURIOUS_PER_LEVEL = 0.5
_MAX_LEVEL = 2.0


@dataclass(frozen=True)
class NoiseLevel:
    """How noisy a simulated scene is.

    ``attribute_error``: the rate at which an attribute's most confident value is wrong
    (the same for every key, in [0, 0.5)); ``position_sigma``: standard deviation of the
    Gaussian jitter on each 3D coordinate (CLEVR units); ``drop``: probability that a real
    object is missing; ``spurious``: expected number of spurious objects per scene;
    ``duplicates``: expected number of duplicate detections per scene (a second, confident
    detection of a real object next to it; never set by :meth:`at`).
    """

    attribute_error: float
    position_sigma: float
    drop: float
    spurious: float
    duplicates: float = 0.0

    def __post_init__(self) -> None:
        for name, low, high in (
            ("attribute_error", 0.0, 0.5),  # 0.5 itself is refused below
            ("position_sigma", 0.0, math.inf),
            ("drop", 0.0, 1.0),
            ("spurious", 0.0, math.inf),
            ("duplicates", 0.0, math.inf),
        ):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not low <= value <= high:
                raise InputError(
                    f"expected a finite number in [{low}, {high}], got {value!r}", path=name
                )
        if self.attribute_error >= 0.5:  # a binary key cannot be wrong half the time or more
            raise InputError(
                f"expected a number below 0.5, got {self.attribute_error!r}",
                path="attribute_error",
            )

    @classmethod
    def at(cls, level: float) -> NoiseLevel:
        """The noise of ``level`` in [0, 2]: 0.0 is clean, 1.0 the acceptance setting of
        issue 11 (``attribute_error`` 0.04, ``position_sigma`` 0.15, no dropped or spurious
        objects). Attribute error and sigma are linear in the level (2.0: 0.08 and 0.30);
        above 1.0, ``drop = 0.05 * (level - 1)`` and ``spurious = 0.5 * (level - 1)``."""
        if (
            not isinstance(level, (int, float))
            or isinstance(level, bool)
            or not 0.0 <= level <= _MAX_LEVEL
        ):
            raise InputError(f"expected a noise level in [0, {_MAX_LEVEL}], got {level!r}",
                             path="level")
        above = max(0.0, level - 1.0)
        return cls(
            attribute_error=_ERROR_AT_1 * level,
            position_sigma=_SIGMA_AT_1 * level,
            drop=_DROP_PER_LEVEL * above,
            spurious=_SPURIOUS_PER_LEVEL * above,
        )

    @property
    def clean(self) -> bool:
        return self == NoiseLevel(0.0, 0.0, 0.0, 0.0, 0.0)


# -- attribute confusions ------------------------------------------------------------------
_X = [-7.0 + 0.1 * i for i in range(141)]  # integration grid for eps_true
_U = [-4.0 + 0.25 * i for i in range(33)]  # integration grid for log-quality
_SQRT2 = math.sqrt(2.0)


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def _p_correct(s: float, k: int) -> float:
    """P(argmax z is the true value | quality s, domain size k)."""
    if k == 2:
        return _cdf(s / _SQRT2)
    h = _X[1] - _X[0]
    return sum(_phi(x) * _cdf(x + s) ** (k - 1) for x in _X) * h


def _mean_p_correct(m: float, k: int) -> float:
    weights = [_phi(u) for u in _U]
    total = sum(weights)
    return sum(w * _p_correct(m * math.exp(SPREAD * u), k) for w, u in zip(weights, _U)) / total


@functools.lru_cache(maxsize=256)
def quality_scale(error: float, k: int) -> float:
    """``m`` such that observations of a ``k``-valued key with quality
    ``s = m * exp(SPREAD * u)`` have their top value wrong at rate ``error`` (bisection on
    numerical integrals). ``inf`` for ``error == 0``."""
    if error <= 0.0:
        return math.inf
    if k < 2:
        return math.inf
    if error >= 1.0 - 1.0 / k:
        return 0.0
    lo, hi = 0.0, 1.0
    while 1.0 - _mean_p_correct(hi, k) > error:
        hi *= 2.0
    for _ in range(36):
        mid = 0.5 * (lo + hi)
        if 1.0 - _mean_p_correct(mid, k) > error:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _confusion(
    true: int, domain: Sequence[str], key: str, m: float, rng: random.Random
) -> tuple[Attribute, ...]:
    """One attribute observation: every value of ``domain`` with its posterior."""
    if math.isinf(m):
        return (Attribute(domain[true], key=key, confidence=1.0),)
    s = m * math.exp(SPREAD * rng.gauss(0.0, 1.0))
    gauss = rng.gauss
    logits = [s * (gauss(0.0, 1.0) + (s if v == true else 0.0)) for v in range(len(domain))]
    top = max(logits)
    weights = [math.exp(x - top) for x in logits]
    total = sum(weights)
    order = sorted(range(len(domain)), key=lambda v: -weights[v])
    return tuple(
        Attribute(domain[v], key=key, confidence=round(weights[v] / total, 4)) for v in order
    )


# -- relations -----------------------------------------------------------------------------
def _directions(scene: SceneGraph) -> list[tuple[str, tuple[float, float, float], float]]:
    raw = scene.meta.get("directions")
    if not isinstance(raw, Mapping):
        raise SceneFormatError(
            "expected CLEVR's direction vectors (a CLEVR scene from load_clevr_scenes)",
            path="meta.directions",
        )
    out = []
    for name in PREDICATES:
        vec = raw.get(name)
        if (
            not isinstance(vec, Sequence)
            or len(vec) != 3
            or not all(isinstance(v, (int, float)) for v in vec)
        ):
            raise SceneFormatError(
                f"expected 3 numbers, got {vec!r}", path=f"meta.directions.{name}"
            )
        d = (float(vec[0]), float(vec[1]), float(vec[2]))
        out.append((name, d, math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)))
    return out


def _relations(
    ids: Sequence[ObjectId],
    coords: Sequence[tuple[float, ...]],
    directions: Sequence[tuple[str, tuple[float, float, float], float]],
    sigma: float,
) -> list[Relation]:
    """Relations between every ordered pair with the probability that each holds in the
    true scene, given the observed ``coords`` and the jitter ``sigma``."""
    out: list[Relation] = []
    n = len(ids)
    cdf = _cdf
    gap = PLACEMENT_MARGIN
    for name, (dx, dy, dz), norm in directions:
        proj = [c[0] * dx + c[1] * dy + c[2] * dz for c in coords]
        if sigma > 0.0:
            scale = 1.0 / (_SQRT2 * sigma * norm)
            for i in range(n):  # "j is <name> of i": Relation(j, name, i)
                pi = proj[i]
                for j in range(n):
                    if i != j:
                        d = proj[j] - pi
                        a = cdf((d - gap) * scale)
                        b = cdf((-gap - d) * scale)
                        p = a / (a + b) if a + b > 0.0 else float(d > 0.0)
                        if p >= RELATION_FLOOR:
                            out.append(Relation(ids[j], name, ids[i], round(p, 4)))
        else:
            for i in range(n):
                pi = proj[i] + RELATION_MARGIN
                for j in range(n):
                    if i != j and proj[j] > pi:
                        out.append(Relation(ids[j], name, ids[i], 1.0))
    return out


# -- scenes --------------------------------------------------------------------------------
def _poisson(lam: float, rng: random.Random) -> int:
    if lam <= 0.0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _existence(real: bool, prior_log_odds: float, rng: random.Random) -> float:
    """P(real | detector score) for a score drawn as a real or a spurious object's."""
    score = rng.gauss(_SCORE_REAL if real else _SCORE_SPURIOUS, 1.0)
    # log N(x; a, 1) / N(x; b, 1) = (a - b) x - (a^2 - b^2) / 2
    log_odds = prior_log_odds + (_SCORE_REAL - _SCORE_SPURIOUS) * score - (
        _SCORE_REAL**2 - _SCORE_SPURIOUS**2
    ) / 2.0
    if log_odds > 700.0:
        return 1.0
    if log_odds < -700.0:
        return 0.0
    return round(1.0 / (1.0 + math.exp(-log_odds)), 4)


@functools.lru_cache(maxsize=8)
def _domains() -> dict[str, tuple[str, ...]]:
    return clevr_domains()


def noisy_scene(
    scene: SceneGraph,
    level: NoiseLevel,
    rng: random.Random,
    *,
    domains: Mapping[str, Sequence[str]] | None = None,
) -> SceneGraph:
    """A noisy view of the clean CLEVR ``scene`` (see the module docstring).

    ``domains`` gives each key's values (default: the CLEVR vocabulary); the scene needs
    ``coords`` on every object and ``meta["directions"]`` (as ``load_clevr_scenes`` gives),
    else a :class:`~nsreason.errors.SceneFormatError` names what is missing. Draws only
    from ``rng``: the same ``rng`` state gives the same scene.
    """
    doms = dict(domains) if domains is not None else _domains()
    directions = _directions(scene)
    scales = {k: quality_scale(level.attribute_error, len(doms[k])) for k in CLEVR_ATTRIBUTES}
    sigma = level.position_sigma
    gauss = rng.gauss

    # (object without confidence, real: True, spurious: False, a duplicate detection: None)
    kept: list[tuple[SceneObject, bool | None]] = []
    for i, obj in enumerate(scene.objects):
        if obj.coords is None or len(obj.coords) != 3:
            raise SceneFormatError("expected 3D coords [x, y, z]", path=f"objects[{i}].coords")
        if level.drop > 0.0 and rng.random() < level.drop:
            continue
        attributes: list[Attribute] = []
        for key in CLEVR_ATTRIBUTES:
            value = obj.get(key)
            domain = doms[key]
            if value is None or value not in domain:
                raise SceneFormatError(
                    f"expected one of {list(domain)}, got {value!r}",
                    path=f"objects[{i}].attributes.{key}",
                )
            attributes.extend(_confusion(domain.index(value), domain, key, scales[key], rng))
        coords: tuple[float, ...] = obj.coords
        if sigma > 0.0:
            coords = tuple(c + gauss(0.0, sigma) for c in coords)
        extra = {k: v for k, v in obj.extra.items() if k != "pixel_coords"}
        top_shape = next(a.value for a in attributes if a.key == "shape")
        kept.append(
            (SceneObject(obj.id, top_shape, tuple(attributes), coords=coords, extra=extra), True)
        )

    n_spurious = _poisson(level.spurious, rng)
    for s in range(n_spurious):
        attributes = []
        size = ""
        for key in CLEVR_ATTRIBUTES:
            domain = doms[key]
            latent = rng.randrange(len(domain))
            if key == "size":
                size = domain[latent]
            attributes.extend(_confusion(latent, domain, key, scales[key], rng))
        coords = (
            rng.uniform(-_GROUND, _GROUND),
            rng.uniform(-_GROUND, _GROUND),
            _RADIUS.get(size, 0.5),
        )
        top_shape = next(a.value for a in attributes if a.key == "shape")
        spurious = SceneObject(f"spurious-{s}", top_shape, tuple(attributes), coords=coords)
        kept.insert(rng.randint(0, len(kept)), (spurious, False))

    n_duplicates = _poisson(level.duplicates, rng)
    originals = [(o, scene.object(o.id)) for o, real in kept if real]
    for d in range(n_duplicates if originals else 0):
        seen, true = originals[rng.randrange(len(originals))]
        attributes = []
        for key in CLEVR_ATTRIBUTES:
            domain = doms[key]
            attributes.extend(_confusion(domain.index(true.get(key)), domain, key, scales[key], rng))
        x, y, *rest = seen.coords or (0.0, 0.0, 0.0)
        coords = (x + gauss(0.0, _DUPLICATE_OFFSET), y + gauss(0.0, _DUPLICATE_OFFSET), *rest)
        top_shape = next(a.value for a in attributes if a.key == "shape")
        duplicate = SceneObject(f"duplicate-{d}", top_shape, tuple(attributes), coords=coords)
        # a detector that fires twice fires confidently: its score looks like a real object's
        kept.insert(rng.randint(0, len(kept)), (duplicate, None))

    if level.spurious > 0.0:
        expected_real = max(len(scene.objects) * (1.0 - level.drop), 1e-9)
        prior = math.log(expected_real / level.spurious)
        objects = [
            SceneObject(o.id, o.name, o.attributes, _existence(real is not False, prior, rng),
                        coords=o.coords, extra=o.extra)
            for o, real in kept
        ]
    else:
        objects = [
            SceneObject(o.id, o.name, o.attributes, 1.0, coords=o.coords, extra=o.extra)
            for o, _ in kept
        ]
    relations = _relations(
        [o.id for o in objects], [o.coords or (0.0, 0.0, 0.0) for o in objects], directions, sigma
    )
    meta = dict(scene.meta)
    meta["noise"] = asdict(level)
    return SceneGraph(objects, relations, id=scene.id, meta=meta)


def noisy_scenes(
    scenes: Iterable[SceneGraph], level: NoiseLevel | float, seed: int
) -> list[SceneGraph]:
    """:func:`noisy_scene` of each scene. ``level``: a :class:`NoiseLevel` or a number for
    :meth:`NoiseLevel.at`. Deterministic: scene ``i`` draws from its own generator seeded by
    ``(seed, i)``, so a scene's noise does not depend on the scenes after it."""
    if not isinstance(level, NoiseLevel):
        level = NoiseLevel.at(level)
    out = []
    for i, scene in enumerate(scenes):
        scene = noisy_scene(scene, level, random.Random(f"nsreason.noise/{seed}/{i}"))
        scene.meta["noise"]["seed"] = seed
        out.append(scene)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nsreason.datasets.clevr.noise",
        description="Write noisy CLEVR scenes (calibrated confidences) as a native scene file.",
    )
    parser.add_argument("--scenes", required=True, type=Path, help="a CLEVR scenes file")
    parser.add_argument("--out", required=True, type=Path, help="the native scene file to write")
    parser.add_argument("--level", type=float, default=1.0, help="noise level in [0, 2]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--indent", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        scenes = noisy_scenes(load_clevr_scenes(args.scenes), args.level, args.seed)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_native_scenes(scenes, args.out, indent=args.indent)
    print(f"wrote {len(scenes)} scenes (level {args.level}, seed {args.seed}) to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
