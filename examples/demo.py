"""The main job on bundled data: ask questions in English about CLEVR scenes and print the
answers with their traces (parse first, then every program step); then the seed example, a
question answered from knowledge bases.

Run with ``make demo`` (or ``python examples/demo.py``). The scenes and questions are three
scenes of ../shared/data/clevr/val bundled in examples/data (CC BY 4.0); the parser is the
one shipped in the package (nsreason/parse/weights/clevr), the knowledge base the one in
knowledge/ plus examples/knowledge/teddy_bear.ttl, so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

from nsreason import Program, Reasoner, SymbolicExecutor, load_clevr_scenes
from nsreason.datasets.clevr import load_clevr_questions

DATA = Path(__file__).parent / "data"
KNOWLEDGE = Path(__file__).parent / "knowledge"


def main() -> None:
    scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr_val_sample_scenes.json")}
    questions = load_clevr_questions(DATA / "clevr_val_sample_questions.json")
    reasoner = Reasoner("clevr")  # CLEVR questions only: no knowledge base

    print("== Questions in English, answered with a trace of every step ==\n")
    for q in questions[:2]:
        answer = reasoner.ask(scenes[q.image_index], q.question)
        print(f"Q: {q.question}")
        print(f"A: {answer.text}   (expected {q.answer})")
        print(answer.trace.render_text(), end="\n\n")

    scene = scenes[1]
    for question in ["How mnay RED things are there", "Is there a big shiny ball?"]:
        answer = reasoner.ask(scene, question)
        print(f"Q: {question}\nA: {answer.text}\n{answer.trace.render_text()}\n")

    answers = reasoner.ask_many([(scenes[q.image_index], q.question) for q in questions])
    correct = sum(a.text == q.answer for a, q in zip(answers, questions))
    print(f"All {len(questions)} bundled questions: {correct} answered correctly.\n")

    print("== A question the parser cannot map: a clear failure, not a guess ==\n")
    answer = reasoner.ask(scene, "What is the airspeed velocity of an unladen swallow?")
    print(answer.trace.render_text(), end="\n\n")

    print("== A program that cannot be answered: the failure is in the trace ==\n")
    program = Program.from_text("query_shape(unique(filter_color[red](scene())))")
    print(SymbolicExecutor().execute(program, scene).trace.render_text())

    print("\n== A question answered from knowledge bases, every fact with its source ==\n")
    from nsreason.scene.io import load_scenes

    bedroom = load_scenes(KNOWLEDGE / "teddy_bear_scene.json")[0]
    knowing = Reasoner("clevr", kb=["default", KNOWLEDGE / "teddy_bear.ttl"])
    for question in ["Which object in this image is a stuffed animal?",
                     "Which American president is associated with the stuffed animal seen here?"]:
        answer = knowing.ask(bedroom, question)
        print(f"Q: {question}\nA: {answer.text}\n{answer.trace.render_text()}\n")


if __name__ == "__main__":
    main()
