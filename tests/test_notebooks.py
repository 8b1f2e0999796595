"""The notebook series: hygiene of every notebook, and the whole series executed by the report runner on the
smallest settings (one epoch), checked through the files each notebook writes and the rendered index page."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from harutils.config import joint_models

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TRAINING = {"03_late_fusion": "late_fusion", "04_c3d": "c3d", "05_lrcn": "lrcn", "06_i3d": "i3d",
            "07_nonlocal": "nonlocal", "08_vivit": "vivit"}


def test_the_series_is_complete():
    names = [nb.stem for nb in NOTEBOOKS]
    assert names == ["01_dataset_exploration", "02_frame_extraction", *TRAINING, "09_joint_training",
                     "10_qualitative_analysis", "11_self_supervised", "12_results"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert code[0] is tagged[0], "the parameters cell is the first code cell"
    for line in tagged[0].source.splitlines():
        assert re.match(r"^\w+: [\w |\[\],]+ = .+#", line), f"typed, commented parameter: {line!r}"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "committed without outputs"
        src = cell.source
        assert not re.search(r"^\s*(def|class) ", src, re.M), "no def/class in notebooks: logic lives in harutils"
        assert "sys.path" not in src and "!pip" not in src and "import *" not in src


def test_notebooks_are_generated_from_the_script(tmp_path):
    """The committed notebooks equal what scripts/make_notebooks.py writes (one source of truth)."""
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    subprocess.run([sys.executable, str(tmp_path / "scripts" / "make_notebooks.py")], check=True,
                   capture_output=True, cwd=tmp_path)
    for nb in NOTEBOOKS:
        assert (tmp_path / "notebooks" / nb.name).read_text() == nb.read_text(), f"{nb.name} is stale"


# ---------------------------------------------------------------- the whole series, once


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from harutils import series

    tmp = tmp_path_factory.mktemp("series")
    code = series.main(["--epochs", "1", "--reports", str(tmp / "reports"), "--out-dir", str(tmp / "artifacts"),
                        "--data-dir", str(tmp / "data")])
    return {"code": code, "reports": tmp / "reports", "artifacts": tmp / "artifacts"}


def _finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@pytest.mark.notebook
def test_every_notebook_executes(series):
    log = json.loads((series["reports"] / "run_log.json").read_text())
    failed = {e["notebook"]: e.get("error") for e in log if e["status"] != "ok"}
    assert not failed, failed
    assert series["code"] == 0
    assert [e["notebook"] for e in log] == [nb.name for nb in NOTEBOOKS]
    assert all(e["reference_steps_per_s"] > 0 for e in log)  # the machine's speed beside each run time
    for nb in NOTEBOOKS:
        assert (series["reports"] / "executed" / nb.name).is_file()
        assert (series["reports"] / f"{nb.stem}.html").is_file()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_writes_its_key_metrics(series, path):
    metrics = json.loads((series["artifacts"] / "key_metrics" / f"{path.stem}.json").read_text())
    assert metrics and all(_finite(v) for v in metrics.values()), metrics


@pytest.mark.notebook
@pytest.mark.parametrize("stem", TRAINING)
def test_training_notebooks_write_metrics(series, stem):
    (path,) = series["artifacts"].glob(f"{TRAINING[stem]}_ucf101_split1_demo/metrics.json")
    m = json.loads(path.read_text())
    test = m["test"]["ucf101"]
    for key in ("video_top1", "clip_top1", "video_top5", "mean_class_accuracy"):
        assert 0 <= test[key] <= 1, key
    assert test["views"] and len(test["confusion_matrix"]) == len(test["per_class_accuracy"]) == 14
    assert set(test["temporal_order_probe"]) == {"ordered", "shuffle", "reverse"}
    assert m["config"]["epochs"] == 1 and len(m["history"]) == 1
    assert _finite(m["timings"]["fit_seconds"])


@pytest.mark.notebook
def test_joint_and_leaky_runs_exist(series):
    runs = {p.parent.name for p in series["artifacts"].glob("*/metrics.json")}
    for model in joint_models("demo"):
        assert f"{model}_ucf101+hmdb51_split1_demo" in runs
        assert f"{model}_hmdb51_split1_demo" in runs
    assert "late_fusion_ucf101_split1_demo_leakyval" in runs


@pytest.mark.notebook
def test_the_self_supervised_notebook_draws_its_curve(series):
    runs = {p.parent.name for p in (series["artifacts"] / "self_supervised").glob("*/metrics.json")}
    assert runs == {"i3d_ucf101_split1_demo_playback", "i3d_ucf101_split1_demo_labels10",
                    "i3d_ucf101_split1_demo_labels10_finetuned", "i3d_ucf101_split1_demo",
                    "i3d_ucf101_split1_demo_finetuned"}
    metrics = json.loads((series["artifacts"] / "key_metrics" / "11_self_supervised.json").read_text())
    assert set(metrics) == {"pretext accuracy", "gain at 10% labels", "gain at 100% labels"}
    page = (series["reports"] / "11_self_supervised.html").read_text()
    assert "Label efficiency" in page or page.count("<img") >= 2


@pytest.mark.notebook
def test_index_links_every_notebook_and_holds_the_results(series):
    page = (series["reports"] / "index.html").read_text()
    for nb in NOTEBOOKS:
        assert f'href="{nb.stem}.html"' in page
    assert 'class="dataframe results"' in page
    for model in TRAINING.values():
        assert f"<td>{model}</td>" in page


@pytest.mark.notebook
def test_index_renders_in_headless_chromium(series):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (run_tests.sh installs Debian's chromium when it can)")
    shot = series["reports"] / "index.png"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={series['reports'] / 'chromium-profile'}", "--window-size=1280,1600",
         f"--screenshot={shot}", (series["reports"] / "index.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    artifacts = REPO / "reports" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, artifacts / "index.png")


PAGES = ["index"] + [nb.stem for nb in NOTEBOOKS]


@pytest.mark.notebook
@pytest.mark.parametrize("stem", PAGES)
def test_every_page_reads_offline_with_every_figure_and_no_raw_internals(series, stem):
    """Each page as a reader gets it: nothing fetched from the network (no script, stylesheet, image or import
    from http), every figure the executed notebook holds, a title, the navigation, no progress-bar widgets, no
    Python reprs of our objects, no absolute paths of this machine; then Chromium renders it with every network
    request sent to a dead proxy."""
    page = (series["reports"] / f"{stem}.html").read_text()
    text = re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", page)  # inline images say nothing here
    assert not re.search(r"""<(script|img|link|iframe)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)
    assert not re.search(r"""(@import|url\(|\bfrom\s)\s*["']?https?://""", text), "a resource from the network"
    assert "widget-view+json" not in text and "RunConfig(" not in text and "Traceback" not in text
    assert str(REPO) not in text and str(series["reports"].parent) not in text, "an absolute path on the page"
    assert re.search(r"<title>[^<]*\w[^<]*</title>", page) and "<title>Notebook</title>" not in page
    assert stem == "index" or "report index" in page
    if stem != "index":
        executed = nbformat.read(series["reports"] / "executed" / f"{stem}.ipynb", as_version=4)
        figures = sum("image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", []))
        assert page.count('src="data:image/png;base64,') >= figures
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (run_tests.sh installs Debian's chromium when it can)")
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--proxy-server=127.0.0.1:9",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={series['reports'] / 'chromium-profile'}", "--dump-dom",
         (series["reports"] / f"{stem}.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("<img") >= page.count("<img")  # every image made it into the rendered page


def _tiny_notebook(path, body: str):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# tiny"),
        nbformat.v4.new_code_cell('profile: str = "demo"  # profile', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("failfast", [False, True])
def test_a_failing_notebook_is_named_and_the_others_still_render(tmp_path, monkeypatch, capsys, failfast):
    from harutils import series

    bad = _tiny_notebook(tmp_path / "01_bad.ipynb", 'raise ValueError("boom in the notebook")')
    good = _tiny_notebook(tmp_path / "02_good.ipynb", 'print("fine")')
    monkeypatch.setattr(series, "discover", lambda only=None: [bad, good])
    args = ["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art")] + (["--failfast"] * failfast)
    assert series.main(args) == 1
    printed = capsys.readouterr()
    err, out = printed.err, printed.out
    assert "01_bad.ipynb FAILED; partial output in" in err and "boom in the notebook" in err
    assert "[1/2] 01_bad ..." in out and "[1/2] 01_bad failed in" in out and "run_all: summary" in out
    assert ("[2/2] 02_good ok in" in out) != failfast
    log = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert log[0]["status"] == "failed" and (tmp_path / "reports" / "executed" / "01_bad.ipynb").is_file()
    assert log[0]["reference_steps_per_s"] > 0 and "reference steps/s" in out
    assert (tmp_path / "reports" / "01_bad.html").is_file()  # the partial output is rendered too
    if failfast:
        assert len(log) == 1
    else:
        assert log[1]["status"] == "ok" and (tmp_path / "reports" / "02_good.html").is_file()
    page = (tmp_path / "reports" / "index.html").read_text()
    assert 'class="failed"' in page and "01_bad.html" in page


def test_the_machine_speed_is_measured_before_each_notebook_with_no_kernel_starting_beside_it(tmp_path, monkeypatch):
    from harutils import series

    first = _tiny_notebook(tmp_path / "01_first.ipynb", 'print("one")')
    second = _tiny_notebook(tmp_path / "02_second.ipynb", 'print("two")')
    monkeypatch.setattr(series, "discover", lambda only=None: [first, second])
    events, start_kernel = [], series._start_kernel
    monkeypatch.setattr(series.runtime, "reference_speed", lambda: events.append("measure") or 5.0)
    monkeypatch.setattr(series, "_start_kernel", lambda nb: events.append(f"start {nb.stem}") or start_kernel(nb))
    assert series.main(["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art")]) == 0
    # a kernel importing torch beside the measurement took the first notebook's figure from 9 to 2 steps/s
    assert events == ["measure", "start 01_first", "start 02_second", "measure"]
    log = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert [e["reference_steps_per_s"] for e in log] == [5.0, 5.0]


def test_only_reruns_some_notebooks_and_keeps_the_others_in_the_index(tmp_path, monkeypatch):
    from harutils import series

    first = _tiny_notebook(tmp_path / "01_first.ipynb", 'print("one")')
    second = _tiny_notebook(tmp_path / "02_second.ipynb", 'print("two")')
    monkeypatch.setattr(series, "discover", lambda only=None: [first, second] if not only else [second])
    args = ["--reports", str(tmp_path / "reports"), "--out-dir", str(tmp_path / "art")]
    assert series.main(args) == 0
    before = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert series.main(args + ["--only", "02"]) == 0
    log = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert [e["notebook"] for e in log] == ["01_first.ipynb", "02_second.ipynb"]
    assert log[0] == before[0] and log[1]["seconds"] != before[1]["seconds"]  # 02 ran again, 01 kept
    page = (tmp_path / "reports" / "index.html").read_text()
    assert "01_first.html" in page and "02_second.html" in page
    # another profile's entries are not carried over
    assert series.main(args + ["--only", "02", "--profile", "full"]) == 0
    log = json.loads((tmp_path / "reports" / "run_log.json").read_text())
    assert [e["notebook"] for e in log] == ["02_second.ipynb"]


def test_the_runner_passes_every_declared_parameter():
    from types import SimpleNamespace

    from harutils import series

    args = SimpleNamespace(profile="demo", device="cpu", epochs=1, out_dir="/a", data_dir="/d", reports="r",
                           ucf101="/u", hmdb51="/h")
    params = series._parameters_for(REPO / "notebooks" / "09_joint_training.ipynb", args)
    assert params["epochs"] == 1 and params["device"] == "cpu" and params["joint_root"] == "/h"
    assert params["data_root"] == "/u" and params["out_dir"] == "/a"
    assert "reports_dir" not in params  # 09 does not declare it
    args.reference = "ref.csv"
    params = series._parameters_for(REPO / "notebooks" / "12_results.ipynb", args)
    assert params["reference_csv"] == str(Path("ref.csv").resolve())
    assert "reference_csv" not in series._parameters_for(REPO / "notebooks" / "03_late_fusion.ipynb", args)


def test_paths_are_taken_relative_to_where_the_user_typed_them(tmp_path, monkeypatch):
    """`./run_all.sh --ucf101 data/ucf101` works although the notebooks run inside notebooks/."""
    from harutils import series

    seen = {}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(series, "run_series", lambda args: seen.update(vars(args)) or 0)
    assert series.main(["--ucf101", "data/ucf101", "--hmdb51", "h", "--reference", "ref.csv"]) == 0
    assert seen["ucf101"] == str(tmp_path / "data" / "ucf101") and seen["hmdb51"] == str(tmp_path / "h")
    assert seen["reference"] == str(tmp_path / "ref.csv")


@pytest.mark.parametrize("only", ["99", "", " , ", "03,42"])
def test_only_refuses_notebooks_that_do_not_exist(only, capsys):
    from harutils import series

    with pytest.raises(SystemExit) as exit_:
        series.main(["--only", only])
    assert exit_.value.code == 2 and "--only takes notebook numbers among 01, 02" in capsys.readouterr().err


@pytest.mark.notebook
def test_the_qualitative_notebook_scores_every_models_maps(series):
    metrics = json.loads((series["artifacts"] / "key_metrics" / "10_qualitative_analysis.json").read_text())
    lifts = {k: v for k, v in metrics.items() if k.endswith("Grad-CAM actor lift")}
    assert {k.split()[0] for k in lifts} == set(TRAINING.values())
    assert all(_finite(v) and v > 0 for v in lifts.values()), lifts


def test_rendered_pages_are_titled_and_linked(tmp_path):
    from harutils import series

    executed = tmp_path / "03_late_fusion.ipynb"
    shutil.copy(REPO / "notebooks" / "03_late_fusion.ipynb", executed)
    page = series.render_html(executed, tmp_path / "03_late_fusion.html").read_text()
    assert "<title>03 · Late Fusion</title>" in page
    assert 'href="index.html"' in page and 'href="02_frame_extraction.html"' in page
    assert 'href="04_c3d.html"' in page
