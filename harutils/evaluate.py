"""Evaluation: clip- and video-level top-1/top-5, mean-class and per-class accuracy, the confusion matrix, and the
temporal-order probe (the centre clip of each test video scored with its frames in order, shuffled and reversed).

Views: a loader may yield one clip per video ``(B, 3, T, H, W)`` or several ``(B, V, 3, T, H, W)``. Clip-level
accuracy scores every view on its own; video-level accuracy averages the softmax over a video's views.
The views used are always returned with the metrics. Every evaluation runs the model in eval mode (BatchNorm on
its running statistics, no dropout) and gives it back in the mode it came in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import distributed as dist
from torch import nn

from .models import JointModel
from .runtime import is_distributed

PERTURBATIONS = (None, "shuffle", "reverse")


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside its torch.compile and DistributedDataParallel wrappers (or the model itself): the one whose
    state dict the checkpoints hold, without the wrappers' key prefixes (``_orig_mod.``, ``module.``)."""
    model = getattr(model, "_orig_mod", model)  # torch.compile's OptimizedModule
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def forward_for(model: nn.Module, task: str | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """The logits function of one dataset: the joint model's head for ``task``, or the model itself."""
    if task is not None and isinstance(unwrap(model), JointModel):
        return lambda x: model(x, task)
    return model


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode inside the block, the caller's mode (training or not) restored on exit."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def perturb_time(clips: torch.Tensor, how: str | None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Reorder the frames of ``(..., 3, T, H, W)`` clips: None keeps them, "reverse" flips, "shuffle" permutes."""
    if how is None:
        return clips
    t_dim = clips.ndim - 3
    if how == "reverse":
        return clips.flip(t_dim)
    if how == "shuffle":
        t = clips.shape[t_dim]
        perm = torch.randperm(t, generator=generator)
        if t > 1 and torch.equal(perm, torch.arange(t)):
            perm = perm.roll(1)  # a shuffle that changes nothing would flatter the probe
        return clips.index_select(t_dim, perm.to(clips.device))
    raise ValueError(f"perturbation must be one of {PERTURBATIONS}, got {how!r}")


def predict(model: nn.Module, loader, device: torch.device, task: str | None = None, perturb: str | None = None,
            amp: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Softmax scores of every view of every video, with the model in eval mode.

    Args:
        model: a registered model, a JointModel (then ``task`` names the dataset's head), or either under DDP.
        task: the dataset whose head scores the clips (joint models only).

    Returns:
        (probs, labels): ``(N, V, K)`` float32 and ``(N,)`` int64; gathered from all ranks under DDP.
    """
    return predict_orders(model, loader, device, task, (perturb,), amp, seed)[perturb]


@torch.no_grad()
def predict_orders(model: nn.Module, loader, device: torch.device, task: str | None = None,
                   perturbations=PERTURBATIONS, amp: bool = False, seed: int = 0, probe_centre: bool = False) -> dict:
    """:func:`predict` under each of ``perturbations``, the loader read once: every batch is loaded (decoded) once
    and scored once per frame order. Each shuffle draws from its own generator seeded with ``seed``, so every
    perturbation gets the scores a pass of its own would give.

    Args:
        probe_centre: the perturbed orders score only the centre view of each video (``(N, 1, K)``), the frames in
            order every view.

    Returns:
        perturbation -> (probs, labels).
    """
    with evaluation_mode(model):
        scored = _scores(forward_for(model, task), loader, device, perturbations, amp, seed, probe_centre)
    out = {}
    for how, (probs, labels) in scored.items():
        p = torch.cat(probs).numpy() if probs else np.zeros((0, 1, 1), np.float32)
        y = torch.cat(labels).numpy() if labels else np.zeros(0, np.int64)
        out[how] = gather(p, y)
    return out


def _scores(forward, loader, device: torch.device, perturbations, amp: bool, seed: int, probe_centre: bool) -> dict:
    """Per perturbation, per-batch softmax scores ``(B, V, K)`` and labels ``(B,)``."""
    generators = {how: torch.Generator().manual_seed(seed) for how in perturbations}
    scored = {how: ([], []) for how in perturbations}
    for clips, y in loader:
        clips = clips.to(device, non_blocking=True)
        if clips.ndim == 5:
            clips = clips.unsqueeze(1)  # (B, 3, T, H, W) -> (B, 1, 3, T, H, W)
        b, v = clips.shape[:2]
        for how, (probs, labels) in scored.items():
            views = clips[:, v // 2:v // 2 + 1] if how is not None and probe_centre else clips
            perturbed = perturb_time(views, how, generators[how])
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
                # (B*V, 3, T, H, W) -> (B*V, K), at most a batch of B clips at a time: 5 views of a batch of 64 at
                # once would ask the GPU for 5x the memory that training needs
                logits = torch.cat([forward(part) for part in perturbed.flatten(0, 1).split(b)])
            probs.append(torch.softmax(logits.float(), -1).view(b, views.shape[1], -1).cpu())
            labels.append(torch.as_tensor(y))
    return scored


def gather(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Under DDP, collect every rank's shard (rank r holds videos r, r+W, ...) back in dataset order."""
    if not is_distributed():
        return probs, labels
    world = dist.get_world_size()
    shards = [None] * world
    dist.all_gather_object(shards, (probs, labels))
    n = sum(len(s[1]) for s in shards)
    out_p = np.zeros((n, *probs.shape[1:]), np.float32)
    out_y = np.zeros(n, np.int64)
    for r, (p, y) in enumerate(shards):
        out_p[r::world], out_y[r::world] = p, y
    return out_p, out_y


def _topk(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, scores.shape[-1])
    top = np.argsort(-scores, axis=-1)[:, :k]
    return float((top == labels[:, None]).any(1).mean()) if len(labels) else float("nan")


def compute_metrics(probs: np.ndarray, labels: np.ndarray, classes: list[str]) -> dict:
    """Metrics of ``(N, V, K)`` view scores against ``(N,)`` labels.

    Returns:
        dict with ``clip_top1``, ``clip_top5`` (every view scored alone), ``video_top1``, ``video_top5``
        (softmax averaged over views), ``mean_class_accuracy``, ``per_class_accuracy`` (name -> accuracy),
        ``confusion_matrix`` (rows: true class, columns: predicted; video level), ``num_videos``, ``num_views``,
        ``predictions`` (per video in dataset order: ``[true label, predicted label, confidence, loss]``, video
        level; the loss is the cross-entropy of the averaged softmax).
    """
    n, v, k = probs.shape
    if n == 0:  # an empty subset (e.g. a validation split with no video on disk): no accuracy to report
        nan = float("nan")
        return {"clip_top1": nan, "clip_top5": nan, "video_top1": nan, "video_top5": nan,
                "mean_class_accuracy": nan, "per_class_accuracy": {c: None for c in classes},
                "confusion_matrix": [[0] * len(classes) for _ in classes], "num_videos": 0, "num_views": int(v),
                "predictions": []}
    clip_scores = probs.reshape(n * v, k)
    clip_labels = np.repeat(labels, v)
    video = probs.mean(1)  # mean of the softmax over views
    pred = video.argmax(1)
    cm = np.bincount(labels * len(classes) + pred, minlength=len(classes) ** 2).reshape(len(classes), len(classes))
    support = cm.sum(1)
    per_class = np.divide(np.diag(cm), support, out=np.full(len(classes), np.nan), where=support > 0)
    return {
        "clip_top1": _topk(clip_scores, clip_labels, 1),
        "clip_top5": _topk(clip_scores, clip_labels, 5),
        "video_top1": _topk(video, labels, 1),
        "video_top5": _topk(video, labels, 5),
        "mean_class_accuracy": float(np.nanmean(per_class)),
        "per_class_accuracy": {c: (None if np.isnan(a) else float(a))
                               for c, a in zip(classes, per_class, strict=True)},
        "confusion_matrix": cm.tolist(),
        "num_videos": int(n),
        "num_views": int(v),
        "predictions": [[int(y), int(p), float(video[i, p]), float(-np.log(max(video[i, y], 1e-12)))]
                        for i, (y, p) in enumerate(zip(labels, pred, strict=True))],
    }


def evaluate(model: nn.Module, loader, device: torch.device, classes: list[str], views: str, task: str | None = None,
             perturb: str | None = None, amp: bool = False) -> dict:
    """:func:`compute_metrics` of :func:`predict`, with the views and the perturbation stated."""
    return evaluate_orders(model, loader, device, classes, views, task, (perturb,), amp)[perturb]


def evaluate_orders(model: nn.Module, loader, device: torch.device, classes: list[str], views: str,
                    task: str | None = None, perturbations=PERTURBATIONS, amp: bool = False) -> dict:
    """:func:`evaluate` under each of ``perturbations`` (None: frames in order), every view, the loader read once
    (:func:`predict_orders`); perturbation -> metrics."""
    scored = predict_orders(model, loader, device, task, perturbations, amp)
    return {how: {**compute_metrics(probs, labels, classes), "views": views, "perturbation": how or "none"}
            for how, (probs, labels) in scored.items()}


def evaluate_with_probe(model: nn.Module, loader, device: torch.device, classes: list[str], views: str,
                        task: str | None = None, amp: bool = False) -> dict:
    """:func:`evaluate` of the frames in order, with the temporal-order probe under ``temporal_order_probe``, from
    one pass over the loader: the probe scores the centre view of each video with its frames in order, shuffled
    and reversed (a model that ignores time scores the same on all three); ``probe_views`` says which view. Scoring
    one view rather than all V makes the two extra orders cost 2 clips a video instead of 2V.
    """
    scored = predict_orders(model, loader, device, task, PERTURBATIONS, amp, probe_centre=True)
    probs, labels = scored[None]
    metrics = {**compute_metrics(probs, labels, classes), "views": views, "perturbation": "none"}
    centre = probs.shape[1] // 2
    probe = {"ordered": (probs[:, centre:centre + 1], labels), "shuffle": scored["shuffle"],
             "reverse": scored["reverse"]}
    metrics["temporal_order_probe"] = {
        how: {key: value for key, value in compute_metrics(p, y, classes).items()
              if key in ("video_top1", "mean_class_accuracy")} for how, (p, y) in probe.items()}
    metrics["probe_views"] = f"view {centre + 1} of {probs.shape[1]} (the centre one)"
    return metrics
