"""Explanations scored against where the action really is, on the synthetic dataset (whose generator knows it).

For a map ``(T, H, W)`` (non-negative) and the clip's actor and moving-limb masks aligned with the model's input:

- **actor share**: the share of the map's mass on the actor (an energy-based pointing game, Wang et al., Score-CAM,
  2020); a uniform map scores the share of the frame the actor covers, the **actor baseline**;
- **moving share** and **moving baseline**: the same for the limbs that move in each frame;
- **temporal agreement**: the correlation over frames between the map's mass and the moving limbs' area: does the
  map follow the frames where the limbs move? (Undefined, so left out, when either is constant.)

Real videos have no masks: :func:`has_ground_truth` says so, and nothing is scored.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from . import explain
from .data.actor_masks import has_masks, read_masks
from .data.video import resize_frames
from .models.weights import UNNORMALISED

METHODS = {"activation": explain.activation_map, "Grad-CAM": explain.grad_cam,
           "guided backprop": explain.guided_backprop}


def has_ground_truth(dataset) -> bool:
    """Whether every video of a dataset has actor masks (the synthetic dataset does; real ones never)."""
    return bool(dataset.samples) and all(has_masks(p) for p, _ in dataset.samples)


def clip_masks(dataset, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The actor and moving-limb masks of ``dataset[index]``'s first view as ``(T, h, w)`` floats in [0, 1]: the same
    frame indices, resize and centre crop as the model's input (soft at the edges, as the frames are)."""
    path, _ = dataset.samples[index]
    actor, moving = read_masks(path)
    idx = dataset.sampler(len(actor), False)[0]  # (T,): the deterministic evaluation frames of the first view
    both = np.concatenate([actor[idx], moving[idx]]).astype(np.uint8) * 255  # (2T, H, W)
    frames = torch.from_numpy(np.repeat(both[..., None], 3, -1))  # (2T, H, W) -> (2T, H, W, 3)
    if dataset.frame_size is not None:
        frames = resize_frames(frames, dataset.frame_size)
    plain = replace(dataset.transform, training=False, preprocessing=UNNORMALISED, subtract_mean_frame=False,
                    hflip=False, randaugment=False)
    masks = plain(frames)[0].numpy()  # (3, 2T, h, w) -> (2T, h, w)
    return masks[: len(idx)], masks[len(idx):]


def _share(heat: np.ndarray, mask: np.ndarray) -> float:
    total = heat.sum()
    return float((heat * mask).sum() / total) if total > 0 else float("nan")


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def score_map(heat: np.ndarray, actor: np.ndarray, moving: np.ndarray) -> dict[str, float]:
    """Scores of one ``(T, H, W)`` map against masks of the same shape (see the module docstring)."""
    if heat.shape != actor.shape or actor.shape != moving.shape:
        raise ValueError(f"map {heat.shape} and masks {actor.shape}, {moving.shape} must have one shape")
    heat = np.clip(heat, 0, None)
    return {"actor share": _share(heat, actor), "actor baseline": float(actor.mean()),
            "moving share": _share(heat, moving), "moving baseline": float(moving.mean()),
            "temporal agreement": _correlation(heat.sum((1, 2)), moving.sum((1, 2)))}


def score_model(model, dataset, indices) -> pd.DataFrame:
    """One row per (clip, method): the clip's class, the scores of each method's map for the true class.

    Args:
        model: a trained registered model (with its card), on the device it should run on.
        dataset: its test set (synthetic, with masks), whose transform gives the model's input.
        indices: the test videos to score.
    """
    device = next(model.parameters()).device
    rows = []
    for i in indices:
        clip, label = dataset[int(i)]
        clip = (clip if clip.ndim == 4 else clip[0])[None].to(device)  # first view: (1, 3, T, H, W)
        actor, moving = clip_masks(dataset, int(i))
        for method, explainer in METHODS.items():
            heat = explainer(model, clip) if method == "activation" else explainer(model, clip, int(label))
            rows.append({"index": int(i), "class": dataset.classes[label], "method": method,
                         **score_map(heat, actor, moving)})
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per (model, method) and the lift over a uniform map (share / baseline; 1 is no better)."""
    table = scores.groupby(["model", "method"]).mean(numeric_only=True).drop(columns="index", errors="ignore")
    table["actor lift"] = table["actor share"] / table["actor baseline"]
    table["moving lift"] = table["moving share"] / table["moving baseline"]
    return table[["actor share", "actor baseline", "actor lift", "moving share", "moving baseline", "moving lift",
                  "temporal agreement"]]
