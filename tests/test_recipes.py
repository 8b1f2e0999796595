"""The full profile's two recipes: `reference` is the report as published (its heads, frames, weights and ImageNet
normalisation everywhere), `improved` follows each checkpoint; the README's table of differences is the code's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO

from harutils import recipes
from harutils.config import make_config
from harutils.data import pipeline
from harutils.data.transforms import ClipTransform
from harutils.experiment import build_run_model
from harutils.models import weights as W


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "standin_weights.py"), str(folder / "w")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return folder / "w"


def _counts(model):
    return (sum(p.numel() for p in model.parameters()),
            sum(p.numel() for p in model.parameters() if p.requires_grad))


@pytest.mark.parametrize("name, expected", [("late_fusion", (59_244_709, 1_100_901)),
                                            ("lrcn", (62_398_629, 4_254_821))])
def test_the_reference_heads_are_the_reports_code(name, expected):
    """Parameter counts of the report's own classes (../shared/parity/seed_lf_lrcn.json, 101 classes): a frozen
    ResNet-152, a trainable Linear(2048, 512), then ReLU + mean + linear, or a 2-layer bidirectional LSTM of 256."""
    cfg = make_config(name, "ucf101", "full", recipe="reference", pretrained=False)
    model = build_run_model(cfg, {"ucf101": 101})
    assert _counts(model) == expected
    assert model.card.input_size == (5, 256, 256) and model.card.sampling == "uniform"
    assert not cfg.crop and not cfg.hflip and cfg.test_views == 1


@pytest.mark.parametrize("name, improved", [("late_fusion", W.IMAGENET), ("c3d", W.C3D_SPORTS1M),
                                            ("nonlocal", W.KINETICS_CAFFE2)])
def test_preprocessing_follows_the_checkpoint_or_the_report(standin, name, improved):
    """One test per checkpoint family (ImageNet, Sports-1M, Kinetics-400 Caffe2), loaded from the weights folder
    under its published name: the improved recipe feeds each what it expects, the reference one ImageNet's
    statistics, as the report did; the card states it."""
    for recipe, expected in (("improved", improved), ("reference", W.IMAGENET)):
        cfg = make_config(name, "ucf101", "full", recipe=recipe, weights_dir=str(standin))
        model = build_run_model(cfg, {"ucf101": 101})
        assert model.card.preprocessing == expected, recipe
        assert str(standin) in model.card.weights and "missing 0" in model.card.weights


def test_the_reference_clips_and_frames():
    for name in ("i3d", "nonlocal"):
        ref = make_config(name, "ucf101", "full", recipe="reference")
        imp = make_config(name, "ucf101", "full", recipe="improved")
        assert ref.model_options["num_frames"] == 16 and imp.model_options["num_frames"] == 32
    assert make_config("c3d", "ucf101", "full").pretrained == "sports1m"
    assert make_config("nonlocal", "ucf101", "full").pretrained == "kinetics400"
    assert make_config("c3d", "ucf101", "full").recipe == "reference"  # the full profile's default
    with pytest.raises(ValueError, match="recipes .* are the full profile's"):
        make_config("c3d", "ucf101", "demo", recipe="improved")
    with pytest.raises(ValueError, match="recipe must be one of"):
        make_config("c3d", "ucf101", "full", recipe="best")


def test_resize_only_changes_the_aspect_and_crops_nothing():
    frames = torch.zeros(4, 240, 320, 3, dtype=torch.uint8)
    frames[:, :, :160] = 255  # the left half bright
    out = ClipTransform((256, 256), training=True, preprocessing=W.UNNORMALISED, crop=False)(frames)
    assert out.shape == (3, 4, 256, 256)
    assert out[:, :, :, :120].min() > 0.99 and out[:, :, :, 136:].max() < 0.01  # the half stays a half


def test_the_readme_lists_every_difference_between_the_recipes():
    rows = recipes.differences()
    assert {r["setting"] for r in rows} >= {"normalisation", "crop", "hflip", "model: num_frames", "model: projection"}
    assert recipes.differences_markdown() in (REPO / "README.md").read_text()


def test_the_frame_stores_to_build_cover_every_models_frame_size():
    from harutils.config import frame_settings, joint_models

    demo = frame_settings("demo", "data")
    sizes = sorted({make_config(m, "ucf101", "demo").frame_size for m in recipes.DEMO})
    assert [f.frame_size for f in demo] == sizes and len(sizes) > 1  # ViViT reads 96 px frames, the others 64
    assert all(f.frame_store == "arrays" and f.data_dir == "data" for f in demo)
    joint = frame_settings("demo", "data", models=joint_models("demo"))
    assert [f.frame_size for f in joint] == sorted({make_config(m, "ucf101", "demo").frame_size
                                                   for m in joint_models("demo")})
    assert [f.frame_size for f in frame_settings("demo", "data", frame_size=48)] == [48]
    full = frame_settings("full", "data")  # a video store per store side, every model resizing on read
    assert [f.frame_size for f in full] == [128, 256] and all(f.frame_store == "video" for f in full)
    built = {pipeline.frame_store(f, "ucf101", Path("UCF-101")).root for f in full}
    for recipe in recipes.RECIPES:  # every run of the full profile reads a store that notebook 02 builds
        for model in recipes.FULL[recipe]:
            cfg = make_config(model, "ucf101", "full", recipe=recipe)
            assert pipeline.frame_store(cfg.frames, "ucf101", Path("UCF-101")).root in built, (recipe, model)
    c3d = make_config("c3d", "ucf101", "full", recipe="improved")
    assert pipeline.frame_store(c3d.frames, "ucf101", Path("UCF-101")).max_side == 128  # C3D's 128 px frames
