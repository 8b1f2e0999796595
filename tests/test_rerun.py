"""Running again never rewrites results with something else: evaluation is always in eval mode, a complete run
reports what it has, more epochs continue it, and a run changed in what alters its result is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from harutils import evaluate, experiment
from harutils.config import changed_fields, make_config
from harutils.data import synthetic

CLASSES = ["Wave", "JumpingJack", "Squat"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun") / "ucf"
    return synthetic.generate("ucf101", root, seed=2, classes=CLASSES, groups=4, clips_per_group=2,
                              frames=(20, 24), workers=2, progress=False)


def _cfg(tmp_path, root, **kw):
    params = {"epochs": 2, "wandb_mode": "disabled", "out_dir": str(tmp_path / "art"),
              "data_dir": str(tmp_path / "data"), "data_root": str(root), "test_views": 1, **kw}
    return make_config("late_fusion", "ucf101", "demo", **params)


def test_evaluation_runs_in_eval_mode_and_restores_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3))
    loader = [(torch.randn(4, 3, 1, 2, 2), torch.tensor([0, 1, 2, 0])) for _ in range(3)]
    model.train()
    first, _ = evaluate.predict(model, loader, torch.device("cpu"))
    assert model.training, "the caller's training mode is given back"
    second, _ = evaluate.predict(model, loader, torch.device("cpu"))
    model.eval()
    reference, _ = evaluate.predict(model, loader, torch.device("cpu"))
    assert not model.training
    np.testing.assert_array_equal(first, second)  # no dropout, no batch statistics
    np.testing.assert_array_equal(first, reference)


def test_a_complete_run_reports_its_results_and_trains_nothing(tmp_path, tiny, capsys):
    cfg = _cfg(tmp_path, tiny)
    first = experiment.run(cfg, progress=False)
    last = (cfg.run_dir / "last.pt").stat().st_mtime_ns
    again = experiment.run(cfg, progress=False)
    assert "already complete" in capsys.readouterr().out
    assert again["test"] == json.loads(json.dumps(first["test"], default=str))
    assert (cfg.run_dir / "last.pt").stat().st_mtime_ns == last, "nothing was trained again"


def test_a_run_killed_after_training_tests_the_best_checkpoint_identically(tmp_path, tiny):
    cfg = _cfg(tmp_path, tiny)
    first = experiment.run(cfg, progress=False)
    (cfg.run_dir / "metrics.json").unlink()  # as if killed during the test
    again = experiment.run(cfg, progress=False)
    assert again["test"]["ucf101"]["video_top1"] == first["test"]["ucf101"]["video_top1"]
    assert again["test"]["ucf101"]["confusion_matrix"] == first["test"]["ucf101"]["confusion_matrix"]


def test_more_epochs_continue_fewer_or_another_setting_are_refused(tmp_path, tiny):
    experiment.run(_cfg(tmp_path, tiny, epochs=1), progress=False)
    longer = experiment.run(_cfg(tmp_path, tiny, epochs=2), progress=False)
    assert len(longer["history"]) == 2 and longer["resumed_from_epoch"] == 1
    with pytest.raises(ValueError, match="records 2 trained epochs, more than the 1 asked for"):
        experiment.run(_cfg(tmp_path, tiny, epochs=1), progress=False)
    with pytest.raises(ValueError, match=r"another configuration \(lr differ\)"):
        experiment.run(_cfg(tmp_path, tiny, epochs=3, lr=1e-2), progress=False)
    (_cfg(tmp_path, tiny).run_dir / "metrics.json").unlink()  # the checkpoint alone is checked the same way
    with pytest.raises(ValueError, match=r"another configuration \(data_root, seed differ\)"):
        experiment.run(_cfg(tmp_path, tiny, epochs=3, seed=5, data_root=str(tmp_path)), progress=False)


def test_settings_that_do_not_change_the_result_may_change():
    cfg = make_config("c3d", "ucf101", "demo")
    recorded = json.loads(json.dumps(cfg.to_dict()))
    moved = make_config("c3d", "ucf101", "demo", out_dir="elsewhere", wandb_mode="disabled", epochs=20)
    assert changed_fields(recorded, moved) == []
    assert changed_fields(recorded, make_config("c3d", "ucf101", "demo", frame_size=96)) == ["frame_size"]


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_the_training_cli_refuses_bad_epochs_in_one_line(epochs, capsys):
    assert experiment.main(["--model", "c3d", "--epochs", epochs, "--wandb", "disabled"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"epochs must be a whole number of at least 1, got {epochs}" in err
    assert "Traceback" not in err


def test_a_run_recorded_before_a_rename_or_a_new_setting_is_the_same_run():
    cfg = make_config("i3d", "ucf101", "demo")  # its recipe leaves label smoothing at the default, none
    assert cfg.label_smoothing == 0.0
    recorded = json.loads(json.dumps(cfg.to_dict(), default=str))
    recorded["cache_frames"] = recorded.pop("frame_store") == "arrays"  # the setting's name before the video store
    del recorded["label_smoothing"]  # added since: that run had none
    assert changed_fields(recorded, cfg) == []
    recorded["cache_frames"] = False  # decoded the originals: not the demo's array cache
    assert changed_fields(recorded, cfg) == ["frame_store"]


def test_a_run_recorded_before_label_smoothing_is_another_run_where_the_recipe_now_smooths():
    cfg = make_config("c3d", "ucf101", "demo")
    assert cfg.label_smoothing > 0  # C3D's demo recipe smooths its labels
    recorded = json.loads(json.dumps(cfg.to_dict(), default=str))
    del recorded["label_smoothing"]  # that run trained without smoothing: its result is not this recipe's
    assert changed_fields(recorded, cfg) == ["label_smoothing"]


def test_a_label_fraction_run_recorded_before_its_epochs_matched_all_the_labels_is_another_run():
    cfg = make_config("i3d", "ucf101", "demo", label_fraction=0.1)
    assert cfg.steps_as_all_labels  # today's label-fraction epoch: as many steps as on all the labels
    recorded = json.loads(json.dumps(cfg.to_dict(), default=str))
    del recorded["steps_as_all_labels"]  # that run passed once over its tenth of the clips an epoch
    assert changed_fields(recorded, cfg) == ["steps_as_all_labels"]
    assert changed_fields(recorded, make_config("i3d", "ucf101", "demo", label_fraction=0.1,
                                                steps_as_all_labels=False)) == []


def test_a_run_on_another_version_of_the_synthetic_dataset_is_another_run():
    """Runs recorded before the demo dataset grew (or by an older generator) are not reported as this run."""
    cfg = make_config("c3d", "ucf101", "demo")
    assert cfg.data_version.startswith("ucf101: synthetic v") and "groups x" in cfg.data_version
    recorded = json.loads(json.dumps(cfg.to_dict(), default=str))
    recorded["data_version"] = "ucf101: synthetic v3, 8 groups x 4 clips"
    assert changed_fields(recorded, cfg) == ["data_version"]
    del recorded["data_version"]  # recorded before the field existed: which data it read is unknown
    assert changed_fields(recorded, cfg) == ["data_version"]
    assert make_config("c3d", "ucf101", "demo", data_root="/real/UCF-101").data_version == ""
    joint = make_config("c3d", "ucf101", "demo", joint_with="hmdb51")
    assert joint.data_version.count("synthetic") == 2
