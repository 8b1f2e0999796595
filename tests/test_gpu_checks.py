"""benchmarks/gpu_checks.sh (the GPU benchmarks and the full series in one command): its arguments, and a clear
refusal on a machine without CUDA rather than CPU runs recorded as GPU figures."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from conftest import REPO

SCRIPT = REPO / "benchmarks" / "gpu_checks.sh"


def _run(*args, tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "TMPDIR": str(tmp_path)}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=tmp_path)


def test_data_roots_are_required(tmp_path):
    run = _run(tmp_path=tmp_path)
    assert run.returncode == 2 and "--ucf101 DIR and --hmdb51 DIR" in run.stderr
    run = _run("--ucf101", "a", "--hmdb51", "b", "--epoch", "1", tmp_path=tmp_path)
    assert run.returncode == 2 and "unknown argument: --epoch" in run.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_refuses_without_cuda_and_records_nothing(tmp_path):
    results = sorted((REPO / "benchmarks" / "results").glob("*.json"))
    before = {p: p.stat().st_mtime_ns for p in results}
    run = _run("--ucf101", str(tmp_path), "--hmdb51", str(tmp_path), "--work", str(tmp_path / "w"),
               tmp_path=tmp_path)
    assert run.returncode == 1 and "no CUDA device" in run.stderr
    assert {p: p.stat().st_mtime_ns for p in results} == before
