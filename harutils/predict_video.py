"""A trained model on any video ``read_frames`` can open: class probabilities over time ("try it on your own video").

The video is cut into evenly spaced windows; each window is sampled the way the model was trained (a clip of its
frames at its stride for the clip models; its frames spread uniformly over the window for the per-frame models),
transformed as the test set is, and classified. The result says what the model thinks at each moment, and its
top classes over the whole video.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .data.sampling import UniformFrames
from .data.video import probe, read_frames
from .evaluate import evaluation_mode


def window_indices(frame_count: int, frames: int, stride: int, uniform: bool, windows: int) -> np.ndarray:
    """(windows, frames) frame indices: clips of ``frames`` at ``stride`` at evenly spaced starts, or (``uniform``)
    ``frames`` frames spread over evenly spaced windows of a third of the video (at least ``frames`` long)."""
    if uniform:
        length = max(frames, frame_count // 3)
        starts = np.linspace(0, max(frame_count - length, 0), windows).round().astype(int)
        within = UniformFrames(frames)(min(length, frame_count))[0]
        return starts[:, None] + within[None]
    span = (frames - 1) * stride + 1
    starts = np.linspace(0, max(frame_count - span, 0), windows).round().astype(int)
    return np.minimum(starts[:, None] + stride * np.arange(frames)[None], frame_count - 1)


def predict_over_time(model: nn.Module, video: str | Path, transform, classes: list[str], frame_size: int | None,
                      frame_stride: int = 1, windows: int = 8, top: int = 5) -> pd.DataFrame:
    """Class probabilities of evenly spaced windows of a video.

    Args:
        model: a trained registered model (its card gives the frames per window and the sampling).
        video: any file :func:`~harutils.data.video.read_frames` opens.
        transform: the test set's transform (``dataset.transform``).
        classes: class names in label order.
        frame_size: the shorter side frames are decoded at (the run's ``frame_size``).
        frame_stride: the run's stride between a clip's frames.
        windows: how many moments to classify.
        top: the classes kept: the most probable over the whole video.

    Returns:
        One row per window: ``time (s)`` (the window's centre) and the probability of each of the ``top`` classes,
        columns ordered by mean probability.
    """
    info = probe(video)
    card = model.card
    idx = window_indices(info.frame_count, card.input_size[0], frame_stride, card.sampling == "uniform", windows)
    frames = read_frames(video, idx.ravel(), frame_size=frame_size)  # (W*T, H, W, 3) uint8
    clips = transform(frames.reshape(*idx.shape, *frames.shape[1:]))  # (W, T, H, W, 3) -> (W, 3, T, h, w)
    device = next(model.parameters()).device
    with evaluation_mode(model), torch.no_grad():
        probs = torch.softmax(model(clips.to(device)).float(), dim=1).cpu().numpy()  # (W, classes)
    keep = np.argsort(-probs.mean(0))[:top]
    table = pd.DataFrame(probs[:, keep], columns=[classes[k] for k in keep])
    table.insert(0, "time (s)", (idx.mean(1) / (info.fps or 25.0)).round(2))
    return table
