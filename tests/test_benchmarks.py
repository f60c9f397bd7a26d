"""The benchmark scripts still run (tiny sizes: a smoke test, not a measurement)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

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
@pytest.mark.slow
def test_parser_benchmark_runs(tmp_path):
    shared_path("clevr-humans", "CLEVR-Humans_train_questions.json")
    shared_path("clevr", "templates")
    out = tmp_path / "parser.json"
    proc = _run("benchmarks/parser.py", "--limit", "12", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["val"]["questions"] == 12 and "by_shape" in report["compositional"]
    halves = report["humans"]["by_half"]
    assert set(halves) <= {"even images", "odd images"}
    assert sum(g["questions"] for g in halves.values()) == report["humans"]["questions"] == 12
    # every question is of a seen or an unseen shape, and each group has its row in the table
    shapes = report["compositional"]["by_shape"]
    assert shapes and set(shapes) <= {"seen shape", "unseen shape"}
    assert sum(g["questions"] for g in shapes.values()) == report["compositional"]["questions"]
    for shape, g in shapes.items():
        assert re.search(rf"^\|   {shape} +\| {g['questions']} +\| {100 * g['accuracy']:.2f}% ", proc.stdout,
                         re.MULTILINE), shape
