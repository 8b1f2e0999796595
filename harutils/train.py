"""The training loop: ``fit`` = per epoch ``train_one_epoch``, precise BatchNorm, ``validate`` and a checkpoint,
with resume from the last checkpoint; joint training draws batches from two datasets in a fixed schedule.

The recipe is the reference report's: cross-entropy, Adam, and ``ExponentialLR`` stepped once per epoch.
Every epoch starts from RNGs seeded by (seed, epoch), and a checkpoint is written (atomically) after every epoch,
so a run killed at any point and started again with the same arguments ends with the same weights.
Whole experiments (data, model, test, metrics file, command line) are :mod:`harutils.experiment`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from . import evaluate
from .checkpoints import load_checkpoint, rng_state, save_checkpoint
from .config import RunConfig, changed_fields
from .data.pipeline import dataset_of
from .runtime import DistInfo, is_distributed, progress_bar, report_progress, seed_everything


@dataclass
class History:
    """Per-epoch rows (losses, accuracies, learning rate, timings) and the best epoch on validation."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -1.0
    resumed_from: int | None = None


def make_optimizer(cfg: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Adam (the reference's; its fused kernel, a few per cent faster per step on the demo's CPU) or SGD with
    momentum 0.9, over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")


def make_scheduler(cfg: RunConfig, optimizer: torch.optim.Optimizer):
    """ExponentialLR (the reference's) or cosine annealing over the run's epochs, stepped once per epoch."""
    if cfg.scheduler == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_gamma)
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    raise ValueError(f"scheduler must be 'exponential' or 'cosine', got {cfg.scheduler!r}")


def batch_schedule(lengths: dict[str, int], schedule: str, rng: np.random.Generator) -> list[str]:
    """Which dataset each step of an epoch draws from, covering every batch of every dataset once.

    "alternate": one batch of each in turn (the longer one finishes alone); "proportional": a random order in
    which each dataset's share of the steps follows its number of batches.
    """
    if schedule == "alternate":
        order, left = [], dict(lengths)
        while any(left.values()):
            for name in lengths:
                if left[name]:
                    order.append(name)
                    left[name] -= 1
        return order
    if schedule == "proportional":
        order = [name for name, n in lengths.items() for _ in range(n)]
        return [order[i] for i in rng.permutation(len(order))]
    raise ValueError(f"joint schedule must be 'alternate' or 'proportional', got {schedule!r}")


def training_loss(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The cross-entropy of a training batch and the clip logits its accuracy is counted on.

    ``logits`` is ``(B, classes)``, or ``(B, T, classes)`` from a model that predicts at every step in training
    (LRCN's "steps" readout): then every step is scored against its clip's label (the loss is the mean over the
    steps, as the LRCN paper trains) and the clip's logits are the mean of its steps'.
    """
    if logits.ndim == 3:
        steps = logits.shape[1]
        loss = nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.repeat_interleave(steps),
                                           label_smoothing=label_smoothing)
        return loss, logits.mean(1)
    return nn.functional.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing), logits


def train_one_epoch(model: nn.Module, loaders: dict[str, DataLoader], optimizer, device: torch.device,
                    cfg: RunConfig, epoch: int, progress: bool = True) -> dict:
    """One pass over every training batch (of every dataset, in the joint schedule).

    Returns:
        loss and accuracy per dataset, clips, seconds waiting for data and computing.
    """
    model.train()
    iters = {name: iter(dl) for name, dl in loaders.items()}
    order = batch_schedule({n: len(dl) for n, dl in loaders.items()}, cfg.joint_schedule,
                           np.random.default_rng(cfg.seed * 1000 + epoch))
    stats = {n: {"loss": 0.0, "correct": 0, "clips": 0} for n in loaders}
    data_time = compute_time = 0.0
    amp = cfg.amp and device.type == "cuda"
    tick = time.perf_counter()
    for name in progress_bar(order, desc=f"epoch {epoch + 1}", leave=False, enabled=progress):
        clips, labels = next(iters[name])
        clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        start = time.perf_counter()
        data_time += start - tick
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = evaluate.forward_for(model, name)(clips)
            loss, logits = training_loss(logits, labels, cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        s = stats[name]
        # one device->host copy per step; it also waits for the step, so compute time is measured honestly
        step_loss, step_correct = torch.stack([loss.detach(), (logits.argmax(1) == labels).sum().float()]).tolist()
        s["loss"] += step_loss * len(labels)
        s["correct"] += int(step_correct)
        s["clips"] += len(labels)
        tick = time.perf_counter()
        compute_time += tick - start
    out = {"data_seconds": data_time, "compute_seconds": compute_time,
           "clips": sum(s["clips"] for s in stats.values())}
    for name, s in stats.items():
        out[f"train_loss/{name}"] = s["loss"] / max(s["clips"], 1)
        out[f"train_acc/{name}"] = s["correct"] / max(s["clips"], 1)
    return out


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, loaders: dict[str, DataLoader], batches: int, device: torch.device,
                          cfg: RunConfig) -> None:
    """Recompute BatchNorm running statistics as a plain average over ``batches`` training batches ("precise BN",
    Wu and Johnson, "Rethinking Batch in BatchNorm", 2021). With few steps per epoch and a high learning rate the
    running averages lag far behind the weights: on the demo data evaluation accuracy stayed at chance while
    training accuracy reached 100%, and recalibration restored it. Under DDP the statistics are averaged over ranks.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms or batches <= 0:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch counts equally
    model.train()
    amp = cfg.amp and device.type == "cuda"
    for name, dl in loaders.items():
        for i, (clips, _) in enumerate(dl):
            if i >= batches:
                break
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                evaluate.forward_for(model, name)(clips.to(device, non_blocking=True))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
        if is_distributed():
            for buf in (m.running_mean, m.running_var):
                dist.all_reduce(buf)
                buf /= dist.get_world_size()


def validate(model: nn.Module, loaders: dict[str, DataLoader], device: torch.device, classes: dict[str, list[str]],
             cfg: RunConfig) -> dict:
    """Video top-1 on each validation set (one centred view) and their mean, the checkpoint criterion."""
    out = {}
    for name, dl in loaders.items():
        m = evaluate.evaluate(model, dl, device, classes[name], "1 centred view", task=name, amp=cfg.amp)
        out[f"val_acc/{name}"] = m["video_top1"]
    out["val_acc"] = float(np.mean([out[f"val_acc/{n}"] for n in loaders]))
    return out


def resume(model: nn.Module, optimizer, scheduler, cfg: RunConfig, info: DistInfo) -> tuple[History, int]:
    """Continue from ``run_dir/last.pt`` when there is one: the weights, optimiser, schedule and history.

    Returns:
        The history so far and the first epoch still to train (0 for a fresh run).
    """
    last = cfg.run_dir / "last.pt"
    if not last.is_file():
        return History(), 0
    ckpt = load_checkpoint(last)
    changed = changed_fields(ckpt["config"], cfg)
    if changed:
        raise ValueError(f"{last} records a run of another configuration ({', '.join(changed)} differ): delete "
                         f"{cfg.run_dir} or choose another out_dir")
    if ckpt["epoch"] + 1 > cfg.epochs:
        raise ValueError(f"{last} records {ckpt['epoch'] + 1} trained epochs, more than the {cfg.epochs} asked for: "
                         f"ask for {ckpt['epoch'] + 1} or more, delete {cfg.run_dir}, or choose another out_dir")
    evaluate.unwrap(model).load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    start = ckpt["epoch"] + 1
    if info.main:
        print(f"resuming {cfg.run_name} from epoch {start} ({last})")
    return History(ckpt["history"], ckpt["best_epoch"], ckpt["best_score"], start), start


def _seed_epoch(loaders: dict[str, DataLoader], cfg: RunConfig, epoch: int) -> None:
    """Each epoch's randomness depends on (seed, epoch) only: the generators and the loaders' shuffles."""
    seed_everything(cfg.seed * 1000 + epoch)
    for dl in loaders.values():
        if isinstance(dl.sampler, DistributedSampler):
            dl.sampler.set_epoch(epoch)
        elif dl.generator is not None:
            dl.generator.manual_seed(cfg.seed * 1000 + epoch)


def _save_epoch(model, optimizer, scheduler, cfg: RunConfig, epoch: int, history: History, improved: bool) -> None:
    state = {"model": evaluate.unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "rng": rng_state(),
             "config": cfg.to_dict(), "history": history.rows, "best_epoch": history.best_epoch,
             "best_score": history.best_score}
    if improved:
        save_checkpoint(cfg.run_dir / "best.pt", {"model": state["model"], "epoch": epoch, "config": state["config"]})
    save_checkpoint(cfg.run_dir / "last.pt", state)


def _epoch_line(row: dict, epochs: int, improved: bool) -> str:
    losses = " ".join(f"{k.split('/')[1]} loss {v:.3f}" for k, v in row.items() if k.startswith("train_loss/"))
    return (f"epoch {row['epoch']:3d}/{epochs}  {losses}  val acc {row['val_acc']:.3f}  lr {row['lr']:.2e}  "
            f"{row['epoch_seconds']:.1f}s (data {row['data_seconds']:.1f}s)" + ("  *" if improved else ""))


def fit(model: nn.Module, train_data, val_data, config: RunConfig, classes: dict[str, list[str]] | None = None,
        tracker=None, progress: bool = True, info: DistInfo | None = None) -> History:
    """Train with per-epoch validation, checkpoints and resume.

    Args:
        model: a registered model, or a :class:`~harutils.models.JointModel` for joint training.
        train_data: a DataLoader, or a dict dataset name -> DataLoader (joint training).
        val_data: the same for validation.
        config: the run's :class:`~harutils.config.RunConfig`; checkpoints go to ``config.run_dir``.
        classes: dataset name -> class names (defaults to the loaders' datasets' ``classes``).
        tracker: anything with ``log(values, step)`` (a :class:`~harutils.tracking.Tracker`), optional.
        progress: tqdm bars and one line per epoch.
        info: the distributed setting (default: single process).

    Returns:
        History; ``run_dir/best.pt`` holds the best-on-validation weights and ``run_dir/last.pt`` the last epoch.
    """
    info, cfg = info or DistInfo(), config
    if not isinstance(train_data, dict):
        train_data, val_data = {cfg.dataset: train_data}, {cfg.dataset: val_data}
    classes = classes or {n: dataset_of(dl).classes for n, dl in val_data.items()}
    device = next(model.parameters()).device
    optimizer = make_optimizer(cfg, model)
    scheduler = make_scheduler(cfg, optimizer)
    history, start = resume(model, optimizer, scheduler, cfg, info)
    for epoch in range(start, cfg.epochs):
        _seed_epoch(train_data, cfg, epoch)
        t0 = time.perf_counter()
        row = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"]}
        row.update(train_one_epoch(model, train_data, optimizer, device, cfg, epoch, progress))
        recalibrate_batchnorm(model, train_data, cfg.precise_bn_batches, device, cfg)
        row.update(validate(model, val_data, device, classes, cfg))
        scheduler.step()
        row["epoch_seconds"] = time.perf_counter() - t0
        history.rows.append(row)
        # the first epoch is always kept, so a run whose validation set is empty (or NaN) still has a best.pt
        improved = row["val_acc"] > history.best_score or history.best_epoch < 0
        if improved:
            history.best_epoch, history.best_score = epoch + 1, row["val_acc"]
        if info.main:
            _save_epoch(model, optimizer, scheduler, cfg, epoch, history, improved)
            if tracker is not None:
                tracker.log({k: v for k, v in row.items() if k != "epoch"}, step=epoch + 1)
            if progress:
                print(_epoch_line(row, cfg.epochs, improved))
            report_progress(f"{cfg.run_name}: {_epoch_line(row, cfg.epochs, improved)}")
        if info.world > 1:
            dist.barrier()
    return history
