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

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from . import explain
from .data.actor_masks import has_masks, read_masks
from .data.resize import resize_frames
from .evaluate import evaluation_mode
from .models.weights import UNNORMALISED

METHODS = {"activation": explain.activation_map, "Grad-CAM": explain.grad_cam,
           "guided backprop": explain.guided_backprop}
BATCH = 8  # clips explained together: the demo's training batch (the full profile trains at 32-64)


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


def score_model(model, dataset, indices, batch: int = BATCH) -> pd.DataFrame:
    """One row per (clip, method): the clip's class, the scores of each method's map for the true class.

    Args:
        model: a trained registered model (with its card), on the device it should run on.
        dataset: its test set (synthetic, with masks), whose transform gives the model's input.
        indices: the test videos to score.
        batch: clips explained together (each map is its clip's alone: the model runs in eval mode).
    """
    rows = []
    for chunk in _batches(indices, batch):
        clips, labels = _first_views(dataset, chunk, model)
        maps = {method: explainer(model, clips) if method == "activation" else explainer(model, clips, labels)
                for method, explainer in METHODS.items()}
        for k, i in enumerate(chunk):
            actor, moving = clip_masks(dataset, i)
            rows += [{"index": i, "class": dataset.classes[labels[k]], "method": method,
                      **score_map(maps[method][k], actor, moving)} for method in METHODS]
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per (model, method) and the lift over a uniform map (share / baseline; 1 is no better)."""
    table = scores.groupby(["model", "method"]).mean(numeric_only=True).drop(columns="index", errors="ignore")
    table["actor lift"] = table["actor share"] / table["actor baseline"]
    table["moving lift"] = table["moving share"] / table["moving baseline"]
    return table[["actor share", "actor baseline", "actor lift", "moving share", "moving baseline", "moving lift",
                  "temporal agreement"]]


def spread(count: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``count`` items (all of them when there are fewer)."""
    return sorted({int(i) for i in np.linspace(0, count - 1, min(k, count)).round()}) if count else []


def teaching_examples(scores: pd.DataFrame, order_only: set[str]) -> dict[int, str]:
    """The clips worth showing from one model's scores: the best and the worst explained by Grad-CAM (its share on
    the actor), and one clip of a class that only time tells from another (sit down / stand up, ...)."""
    cam = scores[scores["method"] == "Grad-CAM"].dropna(subset=["actor share"]).sort_values("actor share")
    picks: dict[int, str] = {}
    if len(cam):
        best, worst = cam.iloc[-1], cam.iloc[0]
        picks[int(best["index"])] = f"best explained (Grad-CAM actor share {best['actor share']:.2f})"
        picks.setdefault(int(worst["index"]), f"worst explained (Grad-CAM actor share {worst['actor share']:.2f})")
    timed = cam[cam["class"].isin(order_only)]
    if len(timed):
        picks.setdefault(int(timed.iloc[len(timed) // 2]["index"]), "a class only time tells apart")
    return picks


def describe(summary: pd.DataFrame) -> list[str]:
    """One sentence per model on what its maps point at, in measured words (from :func:`summarise`)."""
    lines = []
    for model, rows in summary.groupby(level="model"):
        best = rows["actor lift"].idxmax()[1]
        parts = [f"{method} {r['actor share']:.2f} of its mass on the actor ({r['actor lift']:.1f}x a uniform map), "
                 f"{r['moving share']:.2f} on the moving limbs ({r['moving lift']:.1f}x)"
                 for (_, method), r in rows.iterrows()]
        agreement = rows["temporal agreement"].dropna()
        follows = (f"; over time, the maps' mass follows the moving limbs with a correlation of "
                   f"{agreement.min():.2f} to {agreement.max():.2f}" if len(agreement) else "")
        lines.append(f"{model}: {'; '.join(parts)}{follows}. Closest to the actor: {best}.")
    return lines


def stage_layers(model) -> dict[str, str]:
    """The last block of each stage of a model, coarse to fine: where Grad-CAM can look (the card names the last).

    ResNets (Late Fusion, LRCN, I3D, Non-local) have stages res2..res5 (``layer1``..``layer4``); C3D conv2..conv5b;
    ViViT one token map (the patch tokens before the spatial encoder's last layer)."""
    resnet = re.match(r"(.*)layer\d\.\d+$", model.card.explain_layer)
    if resnet:
        prefix = resnet.group(1)
        return {f"res{s + 1}": f"{prefix}layer{s}.{len(model.get_submodule(f'{prefix}layer{s}')) - 1}"
                for s in (4, 3, 2, 1)}
    if model.card.explain_layer.startswith("conv"):
        return {name: name for name in ("conv5b", "conv4b", "conv3b", "conv2")}
    return {"tokens": model.card.explain_layer}


def score_stages(model, dataset, indices, batch: int = BATCH) -> pd.DataFrame:
    """Grad-CAM's actor and moving-limb lift (share / uniform share) at each stage's last block: how much of a
    weak score is the coarseness of the last stage's map rather than where the model looks."""
    layers = {stage: model.get_submodule(path) for stage, path in stage_layers(model).items()}
    rows, sizes = [], {}
    for chunk in _batches(indices, batch):
        clips, labels = _first_views(dataset, chunk, model)
        masks = [clip_masks(dataset, i) for i in chunk]
        for stage, layer in layers.items():
            if stage not in sizes:  # one forward per stage: setdefault would run it for every batch
                sizes[stage] = "x".join(map(str, layer_size(model, layer, clips[:1])))
            cams = explain.grad_cam(model, clips, labels, layer)
            for cam, (actor, moving) in zip(cams, masks, strict=True):
                s = score_map(cam, actor, moving)
                rows.append({"stage": stage, "map size": sizes[stage],
                             "actor lift": s["actor share"] / s["actor baseline"],
                             "moving lift": s["moving share"] / s["moving baseline"]})
    return pd.DataFrame(rows).groupby(["stage", "map size"], sort=False).mean().reset_index()


def _batches(indices, size: int) -> list[list[int]]:
    indices = [int(i) for i in indices]
    return [indices[k:k + size] for k in range(0, len(indices), size)]


def _first_views(dataset, indices: list[int], model) -> tuple[torch.Tensor, list[int]]:
    """The first view of each ``dataset[i]`` as one batch ``(N, 3, T, H, W)`` on the model's device, and the
    labels."""
    items = [dataset[i] for i in indices]
    clips = torch.stack([clip if clip.ndim == 4 else clip[0] for clip, _ in items])
    return clips.to(next(model.parameters()).device), [int(label) for _, label in items]


def layer_size(model, layer, clip) -> tuple[int, ...]:
    """The spatial size (h, w) of a layer's output for ``clip``."""
    with explain.captured(layer) as store, torch.no_grad(), evaluation_mode(model):
        model(clip)
    return tuple(store["out"].shape[-2:])
