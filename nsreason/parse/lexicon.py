"""WordNet 3.0, compact and offline: lemmas, senses, synonyms and noun hypernyms.

The open-vocabulary word grounder (:mod:`nsreason.parse.words`) needs three things of
WordNet: whether a word is English at all (a word no vocabulary knows is refused by name),
a word's synonyms (the other lemmas of its synsets) and, for nouns, the hypernym closure of
its senses ("animal" subsumes "dog"). :data:`SHIPPED` is a derived file holding exactly
that, read from Princeton's database files by :func:`build_lexicon`::

    python -m nsreason.parse.lexicon --wordnet ../shared/data/knowledge/wordnet-3.0/wordnet-3.0-lf.tar.gz \\
        --out nsreason/parse/data/wordnet-3.0-lexicon.txt.gz

Format (gzip text, one record a line, tab-separated; the WordNet 3.0 licence first, as
``#`` lines, as the licence asks of every copy):

* ``i POS LEMMA OFFSETS``: a lemma (lowercase, ``_`` for spaces) of part of speech ``n``,
  ``v``, ``a`` (adjectives and satellites) or ``r``, and its synsets in WordNet's sense
  order, offsets in base 36;
* ``h OFFSET HYPERNYMS``: the hypernyms (``@`` and instance ``@i``) of a noun synset;
* ``x POS FORM BASES``: an irregular form and its base forms (``mice`` → ``mouse``).

>>> lex = load_lexicon()
>>> lex.known("blorptastic"), lex.known("colour"), lex.known("running")
(False, True, True)
>>> "automobile" in lex.synonyms("car", "n")
True
>>> lex.base_forms("mice", "n"), lex.base_forms("glasses", "n")[:1]
(['mouse'], ['glasses'])
>>> lex.subsumes("animal", "dog"), lex.subsumes("vehicle", "car"), lex.subsumes("animal", "man")
(True, True, False)
>>> lex.subsumes("vehicle", "bus")  # WordNet: bus < public transport < conveyance > vehicle
False
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import tarfile
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import InputError

__all__ = ["SHIPPED", "Lexicon", "build_lexicon", "load_lexicon", "read_archive_files"]

SHIPPED = Path(__file__).resolve().parent / "data" / "wordnet-3.0-lexicon.txt.gz"
"""The shipped derived file (WordNet 3.0, Princeton University; licence in its header)."""

POS = ("n", "v", "a", "r")
_INDEX_FILES = {"n": "index.noun", "v": "index.verb", "a": "index.adj", "r": "index.adv"}
_EXC_FILES = {"n": "noun.exc", "v": "verb.exc", "a": "adj.exc", "r": "adv.exc"}
_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
_OFFSET = re.compile(r"^\d{8}$")


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class Lexicon:
    """The compact WordNet: ``index[pos][lemma]`` (synset offsets in sense order),
    ``hypernyms[offset]`` (noun synsets), ``exceptions[pos][form]``."""

    def __init__(self) -> None:
        self.index: dict[str, dict[str, tuple[str, ...]]] = {p: {} for p in POS}
        self.hypernyms: dict[str, tuple[str, ...]] = {}
        self.exceptions: dict[str, dict[str, tuple[str, ...]]] = {p: {} for p in POS}
        self._members: dict[str, dict[str, list[str]]] | None = None
        self._closure: dict[str, frozenset[str]] = {}

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def from_lines(cls, lines: Iterable[str], *, source: str = "<lexicon>") -> Lexicon:
        lex = cls()
        for n, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            try:
                if f[0] == "i":
                    lex.index[f[1]][f[2]] = tuple(f[3].split())
                elif f[0] == "h":
                    lex.hypernyms[f[1]] = tuple(f[2].split())
                elif f[0] == "x":
                    lex.exceptions[f[1]][f[2]] = tuple(f[3].split())
                else:
                    raise KeyError(f[0])
            except (IndexError, KeyError):
                raise InputError(f"malformed lexicon record {line[:60]!r}",
                                 path=f"{source}:{n}") from None
        return lex

    # -- words -----------------------------------------------------------------------------
    @staticmethod
    def key(word: str) -> str:
        """WordNet's spelling of a word or phrase: lowercase, ``_`` between words."""
        return "_".join(word.lower().replace("-", " ").split())

    def base_forms(self, word: str, pos: str) -> list[str]:
        """The lemmas ``word`` may be a form of, WordNet's morphy: itself, its irregular
        bases, then the detachment rules (only forms in the index)."""
        form = self.key(word)
        index = self.index[pos]
        found: list[str] = []
        if "-" in word and form not in index:
            form = "_".join(word.lower().split())  # WordNet keeps some hyphens: "t-shirt"
        for candidate in (form, *self.exceptions[pos].get(form, ())):
            if candidate in index and candidate not in found:
                found.append(candidate)
        for suffix, ending in _RULES[pos]:
            if form.endswith(suffix) and len(form) > len(suffix):
                candidate = form[: len(form) - len(suffix)] + ending
                if candidate in index and candidate not in found:
                    found.append(candidate)
        return found

    def known(self, word: str) -> bool:
        """Whether any part of speech has ``word`` (or a base form of it)."""
        return any(self.base_forms(word, p) for p in POS)

    def senses(self, word: str, pos: str, limit: int | None = None) -> list[str]:
        """Synset offsets of ``word`` (any of its base forms) in sense order, at most
        ``limit`` per base form."""
        out: list[str] = []
        for base in self.base_forms(word, pos):
            for off in self.index[pos][base][:limit]:
                if off not in out:
                    out.append(off)
        return out

    def members(self, offset: str, pos: str) -> list[str]:
        """The lemmas of a synset (spaces, not underscores)."""
        if self._members is None:
            members: dict[str, dict[str, list[str]]] = {p: {} for p in POS}
            for p in POS:
                for lemma, offs in self.index[p].items():
                    for off in offs:
                        members[p].setdefault(off, []).append(lemma.replace("_", " "))
            self._members = members
        return self._members[pos].get(offset, [])

    def synonyms(self, word: str, pos: str, limit: int | None = 3) -> set[str]:
        """Other lemmas of the first ``limit`` senses of ``word``."""
        out: set[str] = set()
        for off in self.senses(word, pos, limit):
            out.update(self.members(off, pos))
        return out

    def closure(self, offset: str) -> frozenset[str]:
        """A noun synset and all its hypernyms (instance hypernyms too)."""
        found = self._closure.get(offset)
        if found is None:
            seen = {offset}
            todo = [offset]
            while todo:
                for h in self.hypernyms.get(todo.pop(), ()):
                    if h not in seen:
                        seen.add(h)
                        todo.append(h)
            found = self._closure[offset] = frozenset(seen)
        return found

    def subsumes(self, category: str, word: str, *, word_senses: int = 3,
                 category_senses: int | None = None) -> bool:
        """Whether a sense of noun ``category`` is a hypernym of one of the first
        ``word_senses`` senses of noun ``word`` (or the same synset: a synonym)."""
        cats = set(self.senses(category, "n", category_senses))
        return bool(cats) and any(cats & self.closure(off)
                                  for off in self.senses(word, "n", word_senses))

    def depth_distance(self, category: str, word: str, word_senses: int = 3) -> int | None:
        """How many hypernym links lead from ``word`` up to ``category`` (0: a synonym);
        None when it does not subsume it."""
        cats = set(self.senses(category, "n"))
        best: int | None = None
        for off in self.senses(word, "n", word_senses):
            level, seen, d = {off}, {off}, 0
            while level and (best is None or d < best):
                if level & cats:
                    best = d
                    break
                level = {h for s in level for h in self.hypernyms.get(s, ()) if h not in seen}
                seen |= level
                d += 1
        return best


@lru_cache(maxsize=2)
def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file (default: the shipped :data:`SHIPPED`), once per path."""
    p = Path(path) if path is not None else SHIPPED
    try:
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            return Lexicon.from_lines(fh, source=str(p))
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read the WordNet lexicon: {err}", path=str(p)) from None


# -- building --------------------------------------------------------------------------------
def read_archive_files(path: Path, wanted: Iterable[str]) -> dict[str, str]:
    """The text of each file of a ``.tar.gz`` archive whose base name is in ``wanted``
    (Princeton's WordNet archive: ``wordnet-3.0/dict/data.noun``...); absent ones are left
    out, for the caller to report."""
    names = set(wanted)
    texts: dict[str, str] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if name in names and member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                texts[name] = handle.read().decode("utf-8")
    return texts


def _read_tarball(path: Path) -> dict[str, str]:
    wanted = {*_INDEX_FILES.values(), *_EXC_FILES.values(), "data.noun", "LICENSE"}
    texts = read_archive_files(path, wanted)
    missing = sorted(wanted - set(texts))
    if missing:
        raise InputError(f"the WordNet archive lacks {missing}", path=str(path))
    return texts


def build_lexicon(tarball: str | Path, out: str | Path) -> dict[str, int]:
    """Write the compact lexicon from Princeton's ``wordnet-3.0`` archive (byte-identical
    on every run: sorted records, gzip mtime 0). Returns record counts."""
    texts = _read_tarball(Path(tarball))
    records: list[str] = []
    counts = {"lemmas": 0, "noun_synsets": 0, "exceptions": 0}
    for pos, name in _INDEX_FILES.items():
        for line in texts[name].splitlines():
            if line.startswith("  ") or not line.strip():
                continue
            f = line.split()
            lemma, n_synsets, n_ptrs = f[0], int(f[2]), int(f[3])
            offsets = f[6 + n_ptrs: 6 + n_ptrs + n_synsets]
            if len(offsets) != n_synsets or not all(_OFFSET.match(o) for o in offsets):
                raise InputError(f"malformed index line {line[:60]!r}", path=name)
            records.append(f"i\t{pos}\t{lemma}\t{' '.join(_b36(int(o)) for o in offsets)}")
            counts["lemmas"] += 1
    for line in texts["data.noun"].splitlines():
        if line.startswith("  ") or not line.strip():
            continue
        f = line.split(" | ", 1)[0].split()
        offset, n_words = f[0], int(f[3], 16)
        k = 4 + 2 * n_words
        n_ptrs = int(f[k])
        hyper = [f[k + 1 + 4 * j + 1] for j in range(n_ptrs) if f[k + 1 + 4 * j] in ("@", "@i")]
        if hyper:
            records.append(f"h\t{_b36(int(offset))}\t{' '.join(_b36(int(h)) for h in hyper)}")
        counts["noun_synsets"] += 1
    for pos, name in _EXC_FILES.items():
        for line in texts[name].splitlines():
            f = line.split()
            if len(f) >= 2:
                records.append(f"x\t{pos}\t{f[0]}\t{' '.join(f[1:])}")
                counts["exceptions"] += 1
    header = ["# Derived from Princeton WordNet 3.0 by nsreason.parse.lexicon.build_lexicon:",
              "# lemma index (all parts of speech), noun hypernyms, exception lists.",
              "# The WordNet 3.0 licence, as it asks to appear on every copy:"]
    header += ["# " + x.rstrip() for x in texts["LICENSE"].splitlines()]
    body = "\n".join(header + sorted(records)) + "\n"
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(body.encode("utf-8"))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(raw.getvalue())
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nsreason.parse.lexicon", description=__doc__.split("\n")[0])
    ap.add_argument("--wordnet", required=True, help="wordnet-3.0 .tar.gz (Princeton's database files)")
    ap.add_argument("--out", default=str(SHIPPED))
    args = ap.parse_args(argv)
    counts = build_lexicon(args.wordnet, args.out)
    print(f"wrote {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
