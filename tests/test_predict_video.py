"""Trying a model on any video: windows sampled as the model was trained, probabilities over time; the input as a
person sees it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import REAL_CLIPS, moving_square_frames, needs_shared

from harutils.data.encode import write_video
from harutils.data.transforms import ClipTransform
from harutils.models import build_model
from harutils.predict_video import predict_over_time, window_indices


def test_windows_cover_the_video_in_order():
    clips = window_indices(100, 8, 2, uniform=False, windows=5)
    assert clips.shape == (5, 8) and clips[0, 0] == 0 and clips[-1, -1] == 99
    assert (np.diff(clips, axis=1) == 2).all() and (np.diff(clips[:, 0]) > 0).all()
    spread = window_indices(90, 5, 1, uniform=True, windows=4)
    assert spread.shape == (4, 5) and spread.max() < 90 and (np.diff(spread, axis=1) > 0).all()
    short = window_indices(6, 8, 2, uniform=False, windows=3)
    assert short.max() == 5  # a video shorter than a clip holds its last frame


@pytest.mark.parametrize("name", ["c3d", "late_fusion"])
def test_probabilities_over_time_on_a_video(tmp_path, name):
    torch.manual_seed(0)
    video = write_video(tmp_path / "mine.avi", moving_square_frames(40, 48, 64), fps=20)
    model = build_model(name, 6, model_size="small")
    transform = ClipTransform(tuple(model.card.input_size[1:]), training=False, preprocessing=model.card.preprocessing)
    classes = [f"class {i}" for i in range(6)]
    table = predict_over_time(model, video, transform, classes, frame_size=64, frame_stride=2, windows=4, top=3)
    assert list(table.columns[1:]) == [c for c in table.columns[1:] if c in classes] and len(table.columns) == 4
    assert len(table) == 4 and table["time (s)"].is_monotonic_increasing and table["time (s)"].max() < 2.0
    probs = table.iloc[:, 1:].to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all() and (probs.sum(1) <= 1 + 1e-6).all()
    assert table.iloc[:, 1:].mean().is_monotonic_decreasing  # the video's top classes first
    assert model.training  # the model's mode is restored


@needs_shared
def test_a_real_clip_at_its_own_size(tmp_path):
    path = REAL_CLIPS[0][0]
    model = build_model("i3d", 5, model_size="small")
    transform = ClipTransform((64, 64), training=False, preprocessing=model.card.preprocessing)
    table = predict_over_time(model, path, transform, [str(i) for i in range(5)], frame_size=64)
    assert len(table) == 8 and table["time (s)"].iloc[-1] <= REAL_CLIPS[0][1] / REAL_CLIPS[0][2]


def test_the_input_as_a_person_sees_it():
    frames = torch.from_numpy(moving_square_frames(4, 48, 64))
    transform = ClipTransform((32, 32), training=False, preprocessing=lambda x: (x - 0.5) / 0.2,
                              subtract_mean_frame=True)
    seen = transform.as_seen(frames)
    assert seen.shape == (4, 32, 32, 3) and seen.dtype == torch.uint8
    assert torch.equal(seen, frames[:, 8:40, 16:48])  # the centre crop, unnormalised, no mean frame removed
