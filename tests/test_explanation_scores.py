"""Explanations scored against the synthetic ground truth: the masks follow the figure without changing a byte of
the videos, line up with the model's input, and the scores can fail (a shifted or time-reversed map scores worse)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harutils import explanation_scores as scores
from harutils.data import actor_masks, synthetic
from harutils.data.sampling import Clip
from harutils.data.transforms import ClipTransform
from harutils.data.ucf101 import UCF101
from harutils.data.video import read_frames
from harutils.models.weights import UNNORMALISED


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("masks")
    kw = {"seed": 4, "classes": ["Wave", "SitDown"], "groups": 4, "clips_per_group": 1, "frames": (16, 20),
          "workers": 1, "progress": False}
    return synthetic.generate("ucf101", root / "with", **kw), synthetic.generate("ucf101", root / "without",
                                                                                 masks=False, **kw)


def _digests(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.avi")}


def test_masks_leave_the_videos_byte_for_byte_unchanged(tiny):
    with_masks, without = tiny
    assert _digests(with_masks) == _digests(without)
    videos = sorted(with_masks.rglob("*.avi"))
    assert all(actor_masks.has_masks(v) for v in videos) and not any(actor_masks.has_masks(v)
                                                                     for v in without.rglob("*.avi"))


def test_the_actor_mask_is_where_the_figure_is_drawn(tiny):
    """The figure differs from the background: inside the mask the frame is far from the clip's median frame
    (the background, where the figure has moved on), outside close to it."""
    video = sorted(tiny[0].rglob("v_SitDown_*.avi"))[0]
    actor, moving = actor_masks.read_masks(video)
    frames = read_frames(video, range(len(actor))).numpy().astype(float)
    assert actor.shape == frames.shape[:3] and moving.shape == actor.shape
    assert (moving <= actor).all() and moving.any(), "moving limbs are part of the actor"
    seen = np.abs(frames - np.median(frames, 0)).mean(-1)  # (T, H, W)
    assert seen[actor].mean() > 3 * seen[~actor].mean()


def test_masks_line_up_with_the_model_input(tiny):
    """The aligned mask of a clip equals the mask taken through the dataset's own sampling, resize and crop."""
    ds = UCF101(tiny[0], subset="test", sampler=Clip(8), frame_size=64, training=False,
                transform=ClipTransform((64, 64), training=False, preprocessing=UNNORMALISED))
    actor, moving = scores.clip_masks(ds, 0)
    assert actor.shape == moving.shape == (8, 64, 64) and 0 <= actor.min() and actor.max() <= 1
    frames = ds[0][0].numpy()  # (3, 8, 64, 64) in [0, 1]: the model's input
    background = np.median(frames, 1, keepdims=True)
    seen = np.abs(frames - background).mean(0)
    assert seen[actor > 0.5].mean() > 3 * seen[actor < 0.05].mean()
    assert scores.has_ground_truth(ds)


def test_a_shifted_or_time_reversed_map_scores_worse():
    rng = np.random.default_rng(0)
    actor = np.zeros((10, 32, 32))
    actor[:, 8:20, 4:12] = 1
    moving = np.zeros_like(actor)
    for t in range(10):  # the limb moves in the second half only, more and more
        moving[t, 8:12, 4:4 + max(0, t - 4)] = 1
    right = actor * (0.2 + moving) + rng.uniform(0, 0.001, actor.shape)
    good = scores.score_map(right, actor, moving)
    shifted = scores.score_map(np.roll(right, 16, axis=2), actor, moving)
    reversed_ = scores.score_map(right[::-1], actor, moving)
    assert good["actor share"] > 0.95 > 0.1 > shifted["actor share"]
    assert good["actor baseline"] == pytest.approx(actor.mean())
    assert good["temporal agreement"] > 0.9 and reversed_["temporal agreement"] < 0
    uniform = scores.score_map(np.ones_like(actor), actor, moving)
    assert uniform["actor share"] == pytest.approx(uniform["actor baseline"])


def test_every_stage_can_be_explained_and_small_models_explain_at_res3():
    from harutils.models import build_model

    for name, small_layer in [("i3d", "backbone.layer2.0"), ("late_fusion", "encoder.backbone.layer2.0"),
                              ("c3d", "conv3b")]:
        model = build_model(name, 3, model_size="small")
        assert model.card.explain_layer == small_layer
        stages = scores.stage_layers(model)
        assert len(stages) == 4 and all(model.get_submodule(path) is not None for path in stages.values())
    assert build_model("c3d", 3, model_size="paper").card.explain_layer == "conv5b"
    assert scores.stage_layers(build_model("vivit", 3, model_size="small")) == {"tokens": "patch_grid"}
