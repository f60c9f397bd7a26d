"""The main job on bundled data: load CLEVR scenes, run programs, print answers and traces.

Run with ``make demo`` (or ``python examples/demo.py``). The scenes and questions are three
scenes of ../shared/data/clevr/val bundled in examples/data (CC BY 4.0).
"""

from __future__ import annotations

from pathlib import Path

from nsreason import Program, SymbolicExecutor, load_clevr_scenes
from nsreason.datasets.clevr import load_clevr_questions

DATA = Path(__file__).parent / "data"


def main() -> None:
    scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr_val_sample_scenes.json")}
    questions = load_clevr_questions(DATA / "clevr_val_sample_questions.json")
    executor = SymbolicExecutor()

    print("== Questions of the bundled CLEVR scenes, answered by their programs ==\n")
    for q in questions[:3]:
        answer = executor.execute(q.program, scenes[q.image_index])
        print(f"Q: {q.question}")
        print(f"A: {answer.text}   (expected {q.answer})")
        print(answer.trace.render_text(), end="\n\n")

    correct = sum(
        executor.execute(q.program, scenes[q.image_index], trace=False).text == q.answer
        for q in questions
    )
    print(f"All {len(questions)} bundled questions: {correct} answered correctly.\n")

    print("== A program that cannot be answered: the failure is in the trace ==\n")
    scene = scenes[1]
    program = Program.from_text("query_shape(unique(filter_color[red](scene())))")
    answer = executor.execute(program, scene)
    print(answer.trace.render_text())


if __name__ == "__main__":
    main()
