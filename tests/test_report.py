"""The report's side-by-side table: this run, the published numbers, and the reference report's when supplied."""

import json

import pandas as pd
import pytest

from harutils import results, series
from harutils.runtime import environment


def _results():
    rows = [("c3d", "ucf101", "single", "group-aware", 0.5), ("c3d", "hmdb51", "single", "group-aware", 0.25),
            ("c3d", "ucf101", "joint", "group-aware", 0.6), ("c3d", "ucf101", "single", "leaky", 0.9)]
    return pd.DataFrame(rows, columns=["model", "dataset", "training", "val split", "test video top-1"]).assign(
        recipe="reference")


def test_side_by_side_with_published_numbers_and_the_reference_report():
    table = results.side_by_side(_results()).set_index(["model", "training", "dataset"])
    ours = table[table["this run"].notna()]
    assert len(ours) == 3  # the leaky run is not a result
    assert table.loc[("c3d", "single", "ucf101"), "this run"] == pytest.approx(50.0)
    assert table.loc[("c3d", "single", "ucf101"), "reference report"] == 60.55  # the report's own table
    assert table.loc[("nonlocal", "joint", "ucf101"), "reference report"] == 84.11  # shown even when not run
    assert table.loc[("c3d", "single", "ucf101"), "published"] == results.PUBLISHED["c3d"]["ucf101"]
    assert table.loc[("c3d", "single", "hmdb51"), "published"] == results.PUBLISHED["c3d"]["hmdb51"]
    assert pd.isna(table.loc[("c3d", "joint", "ucf101"), "published"])  # papers publish single-dataset numbers


def test_side_by_side_with_a_reference_csv(tmp_path):
    csv = tmp_path / "reference.csv"
    csv.write_text("model,dataset,training,test top-1\nc3d,ucf101,joint,61.5\nlrcn,ucf101,single,70.0\n")
    table = results.side_by_side(_results(), results.read_reference(csv)).set_index(["model", "training", "dataset"])
    assert table.loc[("c3d", "joint", "ucf101"), "reference report"] == 61.5
    assert pd.isna(table.loc[("c3d", "single", "ucf101"), "reference report"])
    assert pd.isna(table.loc[("lrcn", "single", "ucf101"), "this run"])  # a reference row this run did not train


def test_reference_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        results.read_reference(tmp_path / "nowhere.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("model,dataset,top1\nc3d,ucf101,50\n")
    with pytest.raises(ValueError, match=r"bad.csv: missing columns \['training', 'test top-1'\]"):
        results.read_reference(bad)


def test_benchmark_tables_from_recorded_json(tmp_path):
    import json

    (tmp_path / "speed.json").write_text(json.dumps({
        "results": [{"model": "c3d", "clips_per_second": 36.0}, {"model": "i3d", "clips_per_second": 51.0}],
        "per_model": {"c3d": {"train": 19.0, "test": 11.0}},
        "machine": {"cpu_count": 2, "torch": "2.x"},
        "cpu_count": 2,
    }))
    tables = results.benchmark_tables(tmp_path)
    assert list(tables["speed: results"]["clips_per_second"]) == [36.0, 51.0]
    assert tables["speed: per_model"].loc["c3d", "test"] == 11.0
    assert tables["speed: machine"].loc["cpu_count", "value"] == "2"


def test_every_recorded_benchmark_is_shown():
    from conftest import REPO

    files = sorted(p.stem for p in (REPO / "benchmarks" / "results").glob("*.json"))
    shown = {name.split(":")[0] for name in results.benchmark_tables()}
    assert files and shown == set(files)


def test_a_written_benchmark_carries_its_machine_and_is_shown(tmp_path):
    results.write_benchmark(tmp_path / "results" / "speed.json", {"results": [{"model": "c3d", "clips": 3.0}]})
    tables = results.benchmark_tables(tmp_path / "results")
    assert tables["speed: results"].loc[0, "model"] == "c3d"
    assert set(tables["speed: machine"].index) >= {"python", "torch", "cpu_count", "threads", "gpu"}


def test_papermill_warning_about_declared_parameters_is_dropped(caplog):
    """papermill's inspection misses ``epochs: int | None`` (so it warned "Passed unknown parameter: epochs" on
    every training notebook although the notebook declares it); the runner drops that warning, nothing else."""
    import logging
    from pathlib import Path

    from papermill.execute import _infer_parameters
    from papermill.iorw import load_notebook_node

    nb = Path(results.REPO) / "notebooks" / "06_i3d.ipynb"
    seen_by_papermill = {p.name for p in _infer_parameters(load_notebook_node(str(nb)), name="python3",
                                                           language="python")}
    assert "epochs" in series.declared_parameters(nb) and "epochs" not in seen_by_papermill
    series.quiet_papermill_parameter_warnings()
    series.quiet_papermill_parameter_warnings()  # idempotent
    log = logging.getLogger("papermill")
    assert sum(isinstance(f, series._DeclaredParametersOnly) for f in log.filters) == 1
    with caplog.at_level(logging.WARNING, logger="papermill"):
        log.warning("Passed unknown parameter: epochs")
        log.warning("Input notebook does not contain a cell with tag 'parameters'")
    assert [r.getMessage() for r in caplog.records] == ["Input notebook does not contain a cell with tag 'parameters'"]


def test_the_index_says_how_to_read_the_numbers(tmp_path):
    from harutils import index_page

    assert index_page.order_blind_ceiling("ucf101", 14) == pytest.approx(11 / 14)  # 3 pairs only time separates
    assert index_page.order_blind_ceiling("hmdb51", 12) == pytest.approx(10 / 12)
    assert index_page.order_blind_ceiling("ucf101", 101) is None  # the real dataset: no known ceiling
    frame = _results().assign(classes=14, **{"data root": "", "shuffled top-1": None, "reversed top-1": None,
                                            "val top-1": 0.5, "test clip top-1": 0.5, "views": "1", "epochs": 1,
                                            "videos left out": 0, "profile": "demo", "seed": 0, "device": "cpu",
                                            "gpu": None})
    guide = index_page.reading_guide(frame, "demo").set_index("test set")
    assert guide.loc["ucf101", "chance"] == pytest.approx(1 / 14) and "synthetic" in guide.loc["ucf101", "data"]
    assert index_page.results_figure(frame, guide.reset_index()).startswith('<img alt="test accuracy per model"')


def test_confused_pairs_and_hardest_videos_come_from_the_run():
    test = {"per_class_accuracy": {"sit": 0.5, "stand": 1.0, "wave": 1.0},
            "confusion_matrix": [[1, 1, 0], [0, 2, 0], [0, 0, 1]],
            "videos": ["a.avi", "b.avi", "c.avi", "d.avi", "e.avi"],
            "predictions": [[0, 0, 0.9, 0.1], [0, 1, 0.8, 2.3], [1, 1, 0.7, 0.4], [1, 1, 0.6, 0.5], [2, 2, 0.9, 0.1]]}
    pairs = results.confused_pairs(test)
    assert pairs.iloc[0][["true class", "predicted as", "videos"]].tolist() == ["sit", "stand", 1] and len(pairs) == 1
    hardest = results.hardest_videos(test, k=2)
    assert hardest["video"].tolist() == ["b.avi", "d.avi"] and hardest.iloc[0]["predicted"] == "stand"


def test_benchmarks_fold_per_file_with_their_machine_and_no_absolute_paths(tmp_path):
    results.write_benchmark(tmp_path / "speed.json", {"results": [{"model": "c3d", "data": "/tmp/x/y/clips",
                                                                   "clips": 3.14159}]})
    page = results.benchmarks_html(results.benchmark_tables(tmp_path))
    assert page.count("<details>") == 1 and "<b>speed</b>: measured on" in page and "CPU cores" in page
    assert "/tmp/x" not in page and "…/clips" in page and "3.142" in page
    machine = results.benchmark_tables(tmp_path)["speed: machine"]
    recorded = ", ".join(v for v in (environment()["cpu"], environment()["cpu_capability"]) if v)
    assert f"CPU cores ({recorded})," in results.machine_line(machine)  # the processor its figures depend on


def test_a_constant_property_is_said_in_words_not_drawn_as_one_bar():
    import pandas as pd

    from harutils import viz

    table = pd.DataFrame({"status": ["ok"] * 4, "present": [True] * 4, "duration": [1.0, 2, 3, 4],
                          "frames": [25, 50, 75, 100], "fps": [25.0] * 4, "width": [320, 320, 352, 320],
                          "height": [240] * 4, "class": ["a", "a", "b", "b"], "group": [1, 2, 1, 2]})
    fig = viz.video_properties(table)
    assert [t.get_text() for t in fig.axes[2].texts] == ["25.0 fps for all 4 videos"] and not fig.axes[2].patches
    assert not fig.axes[3].texts and len(fig.axes[3].patches) == 2  # two resolutions: drawn
    groups = viz.groups_per_class(table)
    assert [t.get_text() for a in groups.axes for t in a.texts] == ["2 groups for all 2 classes",
                                                                   "1 clips for all 4 groups"]


def test_runs_compared_on_one_figure_and_the_probe_labels_do_not_collide():
    from harutils import viz

    history = [{"epoch": e, "lr": 1e-3, "train_loss/ucf101": 2.0 / e, "train_loss/hmdb51": 2.5 / e,
                "val_acc/ucf101": 0.2 * e, "val_acc/hmdb51": 0.1 * e, "val_acc": 0.15 * e} for e in (1, 2, 3)]
    fig = viz.compared_curves({"c3d": history, "nonlocal": history}, "joint runs")
    assert len(fig.axes) == 3 and len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 4
    assert len(fig.axes[2].lines) == 1  # the same learning rate in every run: drawn once, not hidden under copies
    slower = [{**row, "lr": row["lr"] / 2} for row in history]
    assert len(viz.compared_curves({"c3d": history, "i3d": slower}).axes[2].lines) == 2  # once per run
    probe = viz.temporal_probe({f"model {i} (ucf101)": {k: {"video_top1": 0.5} for k in ("ordered", "shuffled")}
                                for i in range(5)})
    assert [t.get_text() for t in probe.axes[0].get_yticklabels()][0] == "model 0 (ucf101)"  # labels on the y axis


def test_accuracy_on_the_temporal_pairs_and_on_the_other_classes():
    assert results.pair_classes("ucf101") == {"SitDown", "StandUp", "RaiseArms", "LowerArms", "WalkLeft", "WalkRight"}
    assert results.pair_classes("hmdb51") == {"sit_down", "stand_up", "walk_left", "walk_right"}
    assert results.pair_classes("kinetics") == set()
    per_class = {"SitDown": 1.0, "StandUp": 0.0, "Wave": 0.5, "Clap": 1.0}
    assert results.pair_accuracy(per_class, "ucf101") == {"pairs": 0.5, "other classes": 0.75}
    assert results.pair_accuracy({"Wave": 1.0}, "ucf101") == {"pairs": None, "other classes": 1.0}


def test_the_index_states_the_measured_run_to_run_spread(tmp_path):
    from harutils import index_page

    assert index_page.measured_spread("demo", tmp_path) == ""  # not measured: nothing claimed
    results.write_benchmark(tmp_path / index_page.SEEDS_BENCHMARK, {"per_model": {
        "i3d": {"seeds": 3, "test_top1 mean": 0.7, "test_top1 std": 0.05}}})
    line = index_page.measured_spread("demo", tmp_path)
    assert "3 seeds" in line and "i3d 0.70 ± 0.05" in line
    assert index_page.measured_spread("full", tmp_path) == ""  # the demo's spread says nothing of the full profile


def test_randaugment_comparison_calls_small_differences_none(tmp_path):
    assert results.randaugment_comparison(tmp_path) is None  # not measured: the notebook says how to measure it
    runs = []
    for seed, (i3d_off, i3d_on, lf_off, lf_on) in enumerate([(0.70, 0.90, 0.50, 0.52), (0.72, 0.88, 0.52, 0.50)]):
        for model, off, on in (("i3d", i3d_off, i3d_on), ("late_fusion", lf_off, lf_on)):
            for augmented, top1 in ((False, off), (True, on)):
                runs.append({"model": model, "randaugment": augmented, "seed": seed, "test_top1": top1,
                             "pairs_accuracy": top1 - 0.1})
    (tmp_path / "randaugment_demo_cpu.json").write_text(json.dumps({"runs": runs}))
    table = results.randaugment_comparison(tmp_path)
    assert table.loc["i3d", "with - without"] == pytest.approx(0.18) and table.loc["i3d", "verdict"] == "helps"
    assert table.loc["late_fusion", "verdict"] == "no difference" and table.loc["i3d", "seeds"] == 2


def test_real_datasets_have_no_pair_columns():
    per_class = {"SitDown": 1.0, "StandUp": 0.0, "Wave": 0.5}
    assert results.pair_accuracy(per_class, "ucf101", data_root="/data/UCF-101") == {"pairs": None,
                                                                                     "other classes": None}
