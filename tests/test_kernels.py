"""The series runner starts each notebook's kernel one notebook ahead, with the libraries imported: the notebook
still runs from a clean namespace, reports its progress, and nothing is left running, whatever happens."""

from __future__ import annotations

import json

import nbformat
import pytest
from test_notebooks import _tiny_notebook

from harutils import kernels, series

LOOK = """import os, sys
print("preloaded:", "harutils.experiment" in sys.modules, "torch" in sys.modules)
print("namespace clean:", "torch" not in dir() and "harutils" not in dir())
print("progress file:", bool(os.environ.get("HARUTILS_PROGRESS_FILE")))
from harutils import runtime
runtime.report_progress("epoch 1/1 done")"""


def _started(monkeypatch, **kwargs) -> list[kernels.NotebookKernel]:
    made = []

    def start(cwd, progress_file):
        made.append(kernels.NotebookKernel(cwd, progress_file, **kwargs))
        return made[-1]

    monkeypatch.setattr(series, "NotebookKernel", start)
    return made


def _outputs(path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_a_notebook_runs_on_its_kernel_started_ahead_with_the_libraries_imported(tmp_path, monkeypatch, capsys):
    notebooks = [_tiny_notebook(tmp_path / f"0{i}_look.ipynb", LOOK) for i in (1, 2)]
    monkeypatch.setattr(series, "discover", lambda only=None: notebooks)
    made = _started(monkeypatch)
    assert series.main(["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art")]) == 0
    for nb in notebooks:
        text = _outputs(tmp_path / "reports" / "executed" / nb.name)
        assert "preloaded: True True" in text and "namespace clean: True" in text and "progress file: True" in text
        executed = nbformat.read(tmp_path / "reports" / "executed" / nb.name, as_version=4)
        assert [c.execution_count for c in executed.cells if c.cell_type == "code"][0] == 1  # the imports left none
    assert capsys.readouterr().out.count("    epoch 1/1 done") == 2  # each kernel's progress reached the console
    assert len(made) == 2 and not any(k.manager.is_alive() for k in made)


def test_a_kernel_whose_imports_fail_is_replaced_and_says_so(tmp_path, monkeypatch, capsys):
    nb = _tiny_notebook(tmp_path / "01_look.ipynb", LOOK)
    monkeypatch.setattr(series, "discover", lambda only=None: [nb])
    made = _started(monkeypatch, warm_up="import a_module_that_does_not_exist")
    assert series.main(["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art")]) == 0
    assert "the kernel started ahead is not usable (ModuleNotFoundError" in capsys.readouterr().err
    text = _outputs(tmp_path / "reports" / "executed" / nb.name)
    assert "preloaded: False False" in text and "progress file: True" in text  # papermill's own kernel ran it
    assert not made[0].manager.is_alive()


def test_failfast_leaves_no_kernel_running(tmp_path, monkeypatch):
    bad = _tiny_notebook(tmp_path / "01_bad.ipynb", 'raise ValueError("boom")')
    later = [_tiny_notebook(tmp_path / f"0{i}_fine.ipynb", 'print("fine")') for i in (2, 3)]
    monkeypatch.setattr(series, "discover", lambda only=None: [bad, *later])
    made = _started(monkeypatch)
    args = ["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art"), "--failfast"]
    assert series.main(args) == 1
    log = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert [e["notebook"] for e in log] == ["01_bad.ipynb"]
    assert len(made) == 2 and not any(k.manager.is_alive() for k in made)  # the one started ahead is stopped too


@pytest.mark.parametrize("code", ["1 / 0", ""])
def test_ready_reports_the_warm_up(tmp_path, code):
    kernel = kernels.NotebookKernel(tmp_path, str(tmp_path / "progress.log"), warm_up=code)
    try:
        assert kernel.ready() is (not code)
        assert (kernel.warm_up_error is None) is (not code)
        if code:
            assert "ZeroDivisionError" in kernel.warm_up_error
    finally:
        kernel.stop()
    assert not kernel.manager.is_alive()
