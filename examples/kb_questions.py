"""Questions that need the scene and your own knowledge base together.

    .venv/bin/python examples/kb_questions.py

The knowledge base is a Turtle file of yours (examples/knowledge/workshop.ttl); its
relations ("common use", "invented by", "can roll"...) are read when it loads, found in
the question's words, and joined with the scene steps the CLEVR parser reads. A chain of
them is a multi-hop path; every hop is a step of the trace with the fact it used.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    from nsreason import Reasoner
    from nsreason.scene.clevr import load_clevr_scenes

    scene = load_clevr_scenes(HERE / "data" / "clevr_val_sample_scenes.json")[1]
    reasoner = Reasoner(kb=f"rdf:{HERE / 'knowledge' / 'workshop.ttl'}")
    multi_hop = "Who invented the common use of the material of the large cyan cube?"
    answer = reasoner.ask(scene, multi_hop)
    print(f"Q: {multi_hop}")
    print(answer.trace.render_text())
    for question in ["How many things in the scene can roll?",
                     "Does the material of the large gray cylinder conduct electricity?",
                     "What is the birthplace of the inventor of the common use of the material of the big red cube?",
                     "What is the melting point of the material of the large cyan cube?"]:
        a = reasoner.ask(scene, question)
        shown = a.value if a.ok else f"refused: {a.failure}"
        print(f"\nQ: {question}\nA: {shown}\n   {a.program.to_text() if a.program else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
