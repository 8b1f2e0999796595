"""A run whose ``pretrained`` names a model starts from the frame CNN of that model's run (the demo's LRCN from Late
Fusion's): the source run trains first where it has not, its weights load, and a misfit is refused."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from harutils import experiment
from harutils.checkpoints import load_checkpoint
from harutils.config import make_config
from harutils.data import synthetic as S
from harutils.models import build_model


def test_the_demo_lrcn_starts_from_late_fusion_and_an_epochs_override_reaches_its_source(tmp_path):
    cfg = make_config("lrcn", "ucf101", "demo", out_dir=str(tmp_path), seed=3, split=2)
    assert cfg.pretrained == "late_fusion"
    source = experiment.source_run(cfg)
    assert (source.model, source.dataset, source.seed, source.split, source.out_dir) == (
        "late_fusion", "ucf101", 3, 2, str(tmp_path))
    assert source.epochs == make_config("late_fusion", "ucf101", "demo").epochs  # its own recipe's
    assert experiment.source_run(make_config("lrcn", "ucf101", "demo", epochs=1)).epochs == 1  # a smoke run's
    assert experiment.source_run(make_config("lrcn", "ucf101", "demo", randaugment=True)).randaugment
    assert experiment.source_run(make_config("lrcn", "ucf101", "demo", pretrained=False)) is None
    assert experiment.source_run(make_config("i3d", "ucf101", "demo")) is None
    assert experiment.source_run(make_config("lrcn", "ucf101", "full")) is None  # ImageNet's on the full profile


@pytest.fixture(scope="module")
def tiny_ucf(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "ucf"
    return S.generate("ucf101", root, seed=2, classes=["Wave", "Jump", "SitDown"], groups=5, clips_per_group=1,
                      frames=(24, 32), workers=2, progress=False)


def test_a_run_trains_its_source_first_then_starts_from_its_frame_cnn(tmp_path, tiny_ucf, capsys):
    common = {"wandb_mode": "disabled", "out_dir": str(tmp_path / "art"), "data_dir": str(tmp_path / "data"),
              "data_root": str(tiny_ucf), "test_views": 1, "order_probe": False}
    cfg = make_config("lrcn", "ucf101", "demo", epochs=1, **common)
    start = {}
    real = experiment.start_from_run

    def spy(model, source):  # the weights LRCN starts from, before its own training moves them
        report = real(model, source)
        start.update({k: v.clone() for k, v in model.encoder.state_dict().items()})
        return report

    experiment.start_from_run = spy
    try:
        out = experiment.run(cfg, progress=False)
    finally:
        experiment.start_from_run = real
    said = capsys.readouterr().out
    assert ("lrcn_ucf101_split1_demo starts from the frame CNN of late_fusion_ucf101_split1_demo, which has not "
            "finished: training it first") in said
    source = experiment.source_run(cfg)
    assert (source.run_dir / "metrics.json").is_file() and source.epochs == 1
    assert out["card"]["weights"].startswith("the frame CNN of late_fusion_ucf101_split1_demo")
    trained = load_checkpoint(source.run_dir / "best.pt")["model"]
    for name, tensor in start.items():
        torch.testing.assert_close(tensor, trained[f"encoder.{name}"])
    assert any(not torch.equal(start[k], v) for k, v in out_weights(cfg).items())  # then LRCN trained them
    shutil.rmtree(cfg.run_dir)  # LRCN trains again; its source is complete: reused, not trained nor announced
    again = experiment.run(cfg, progress=False)
    assert "which has not finished" not in capsys.readouterr().out
    assert again["card"]["weights"] == out["card"]["weights"]


def out_weights(cfg) -> dict:
    return {k.removeprefix("encoder."): v for k, v in load_checkpoint(cfg.run_dir / "best.pt")["model"].items()
            if k.startswith("encoder.") and v.is_floating_point()}


def test_a_source_whose_frame_cnn_does_not_fit_is_refused_naming_its_file(tmp_path):
    cfg = make_config("lrcn", "ucf101", "demo", out_dir=str(tmp_path), wandb_mode="disabled")
    source = experiment.source_run(cfg)
    source.run_dir.mkdir(parents=True)
    state = build_model("late_fusion", 14, model_size="small").state_dict()
    state["encoder.backbone.conv1.weight"] = torch.zeros(4, 3, 3, 3)  # a narrower first convolution
    torch.save({"model": state, "epoch": source.epochs - 1}, source.run_dir / "best.pt")
    (source.run_dir / "metrics.json").write_text(json.dumps(
        {"config": json.loads(json.dumps(source.to_dict(), default=str)), "history": [{}] * source.epochs}))
    with pytest.raises(ValueError, match=r"lrcn_ucf101_split1_demo starts from the frame CNN of "
                       r"late_fusion_ucf101_split1_demo \(pretrained='late_fusion'\): .* more than the 1 asked for"):
        experiment.train_source(make_config("lrcn", "ucf101", "demo", out_dir=str(tmp_path), epochs=1),
                                progress=False)  # an epochs override reaches its source, trained for more
    with pytest.raises(ValueError, match=r"best\.pt do not fit the frame CNN of LRCN"):
        experiment.start_from_run(build_model("lrcn", 14, model_size="small"), source)


def test_a_finished_run_whose_start_was_another_run_of_its_source_model_is_refused(tmp_path):
    cfg = make_config("lrcn", "ucf101", "demo", out_dir=str(tmp_path), wandb_mode="disabled")
    source = experiment.source_run(cfg)
    recorded = {"config": json.loads(json.dumps(cfg.to_dict(), default=str)), "history": [{}] * cfg.epochs,
                "source_config": json.loads(json.dumps(source.to_dict(), default=str))}
    cfg.run_dir.mkdir(parents=True)
    (cfg.run_dir / "metrics.json").write_text(json.dumps(recorded))
    assert experiment.completed_results(cfg) == recorded
    recorded["source_config"]["model_options"] = {}  # Late Fusion's recipe then had its head's dropout
    (cfg.run_dir / "metrics.json").write_text(json.dumps(recorded))
    with pytest.raises(ValueError, match="model_options of late_fusion_ucf101_split1_demo, its start differ"):
        experiment.completed_results(cfg)
    del recorded["source_config"]  # recorded before runs named their start: which one is unknown
    (cfg.run_dir / "metrics.json").write_text(json.dumps(recorded))
    with pytest.raises(ValueError, match="its start"):
        experiment.completed_results(cfg)

