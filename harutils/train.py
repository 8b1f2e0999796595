"""Training: ``fit`` (``train_one_epoch`` + per-epoch validation), checkpoint and resume, joint training on two
datasets, DistributedDataParallel under ``torchrun``, and a command line for whole runs outside notebooks.

The recipe is the reference report's: cross-entropy, Adam, and ``ExponentialLR`` stepped once per epoch.
Every epoch starts from RNGs seeded by (seed, epoch), and a checkpoint is written (atomically) after every epoch,
so a run killed at any point and started again with the same arguments ends with the same weights.

    python -m harutils.train --model i3d --dataset ucf101 --data-root DIR --profile demo --epochs 5 --out artifacts
    torchrun --nproc_per_node=2 -m harutils.train --model c3d --profile demo --out artifacts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm.auto import tqdm

from . import evaluate as E
from .config import RunConfig, make_config
from .models import JointModel, build_model

# ---------------------------------------------------------------- environment


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for but CUDA is not available; use device='cpu'")
    return torch.device(name)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> DistInfo:
    """Join the process group when launched by ``torchrun`` (WORLD_SIZE > 1); a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    info = DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device.startswith("cuda"):
        torch.cuda.set_device(info.local_rank)
    return info


def memory_format(cfg: RunConfig) -> torch.memory_format:
    """The channels-last layout of a model's convolutions: 3D for C3D, I3D and Non-local, 2D for the per-frame
    ResNets of Late Fusion and LRCN. Faster with cuDNN and with oneDNN on CPUs alike: a demo training step on the
    2-core CPU took 22-35% less time (``benchmarks/bench_models.py``)."""
    return torch.channels_last if cfg.model in ("late_fusion", "lrcn") else torch.channels_last_3d


def environment() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


# ---------------------------------------------------------------- data


@dataclass
class DataBundle:
    """One dataset's subsets for a run, with its class names."""

    name: str
    classes: list[str]
    train: torch.utils.data.Dataset
    val: torch.utils.data.Dataset
    test: torch.utils.data.Dataset
    root: Path
    cache_report: str = ""


def _samplers(model: nn.Module, cfg: RunConfig):
    from .data.sampling import Clip, MultiClip, UniformFrames

    t = model.input_size[0]
    if model.sampling == "uniform":
        uniform = UniformFrames(t)
        return uniform, uniform, uniform, "1 view: uniform frames over the whole video"
    clip = Clip(t, cfg.frame_stride)
    if cfg.test_views > 1:
        test = MultiClip(cfg.test_views, t, cfg.frame_stride)
        return clip, clip, test, f"{cfg.test_views} clips of {t} frames (stride {cfg.frame_stride}) spread evenly"
    return clip, clip, clip, f"1 centred clip of {t} frames (stride {cfg.frame_stride})"


def dataset_root(cfg: RunConfig, name: str, progress: bool = True) -> Path:
    """The user's data root, or the synthetic default in that layout (generated on first use)."""
    from .data.datasets import resolve_root

    return resolve_root(name, cfg.data_root if name == cfg.dataset else cfg.joint_root, cfg.data_dir, progress)


def frame_cache(cfg: RunConfig, name: str, root: Path):
    """The run's all-frames cache of one dataset at ``cfg.cache_size``, under ``data_dir/cache``; None when the
    configuration decodes clips on the fly (``cache_frames=False``)."""
    import hashlib

    from .data.cache import FrameCache

    if not cfg.cache_frames:
        return None
    key = f"{name}_{hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]}_{cfg.cache_size}"
    return FrameCache(Path(cfg.data_dir) / "cache" / key, frame_size=cfg.cache_size)


def prepare_frames(cfg: RunConfig, name: str, root: Path, videos, progress: bool = True):
    """Make a dataset's videos ready to read: build the frame cache, or (without one) probe every video once.

    Args:
        videos: the videos of the run (all subsets).

    Returns:
        CacheReport: what was built or reused, and the videos that cannot be read (to leave out).
    """
    from .data.cache import CacheReport

    cache = frame_cache(cfg, name, root)
    if cache is not None:
        return cache.build(videos, progress=progress)
    from .data.manifest import probe_row
    from .data.parallel import map_with_progress

    report = CacheReport(probed=len(videos))
    for row in map_with_progress(probe_row, [str(v) for v in videos], None, "probing videos", progress):
        if row["status"] != "ok":
            report.bad.append((row["path"], row["status"]))
    report.bad.sort()
    return report


def check_frame_size(cfg: RunConfig, model: nn.Module) -> None:
    """Frames decoded smaller than the model's crop would be padded with black borders: refuse early.

    Raises:
        ValueError: ``cfg.cache_size`` (the shorter side frames are decoded at) is below the crop.
    """
    crop = max(model.input_size[1:])
    if cfg.cache_size is not None and cfg.cache_size < crop:
        raise ValueError(f"cache_size={cfg.cache_size} is smaller than the {cfg.model} crop of {crop} px: frames "
                         f"would be padded; use at least {crop} (the papers resize to 8/7 of the crop)")


def build_data(cfg: RunConfig, model: nn.Module, name: str | None = None, progress: bool = True) -> DataBundle:
    """Datasets of one run: group-aware train/val, official test, read through a frame cache built first (or
    decoded on the fly at ``cfg.cache_size`` when the configuration caches no frames)."""
    from .data.hmdb51 import HMDB51
    from .data.transforms import ClipTransform
    from .data.ucf101 import UCF101

    check_frame_size(cfg, model)
    name = name or cfg.dataset
    root = dataset_root(cfg, name, progress)
    cls = UCF101 if name == "ucf101" else HMDB51
    train_s, val_s, test_s, views = _samplers(model, cfg)
    size = tuple(model.input_size[1:])

    def transform(training):
        return ClipTransform(size, training, model.preprocessing, hflip=cfg.hflip and training,
                             randaugment=cfg.randaugment and training, subtract_mean_frame=cfg.subtract_mean_frame)

    common = {"split": cfg.split, "seed": cfg.seed, "cache": frame_cache(cfg, name, root),
              "frame_size": cfg.cache_size, "leaky_val": cfg.leaky_val}
    train = cls(root, subset="train", sampler=train_s, transform=transform(True), **common)
    val = cls(root, subset="val", sampler=val_s, transform=transform(False), training=False, **common)
    test = cls(root, subset="test", sampler=test_s, transform=transform(False), training=False, **common)
    report = prepare_frames(cfg, name, root, [p for ds in (train, val, test) for p, _ in ds.samples], progress)
    bad = [p for p, _ in report.bad]
    for ds in (train, val, test):
        ds.exclude(bad)
    bundle = DataBundle(name, train.classes, train, val, test, root, str(report))
    bundle.test.views = views
    return bundle


def make_loader(ds, cfg: RunConfig, training: bool, info: DistInfo, device: torch.device, epoch_seed: int = 0):
    """A DataLoader: shuffled (and sharded by DistributedSampler under DDP) for training; for evaluation each rank
    takes videos rank, rank+W, ... (no padding, so gathered metrics count every video once)."""
    sampler = None
    if training and info.world > 1:
        sampler = torch.utils.data.distributed.DistributedSampler(ds, info.world, info.rank, shuffle=True,
                                                                  seed=cfg.seed)
    if not training and info.world > 1:
        ds = Subset(ds, list(range(info.rank, len(ds), info.world)))
    workers = cfg.num_workers
    return DataLoader(ds, batch_size=cfg.batch_size, shuffle=training and sampler is None, sampler=sampler,
                      num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=workers > 0,
                      drop_last=False, generator=torch.Generator().manual_seed(epoch_seed))


# ---------------------------------------------------------------- the loop


@dataclass
class History:
    """Per-epoch rows (losses, accuracies, learning rate, timings) and the best epoch on validation."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -1.0
    resumed_from: int | None = None

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)


def make_optimizer(cfg: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")


def make_scheduler(cfg: RunConfig, optimizer):
    if cfg.scheduler == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_gamma)
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    raise ValueError(f"scheduler must be 'exponential' or 'cosine', got {cfg.scheduler!r}")


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def forward_for(model: nn.Module, task: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The logits function of one dataset: the joint model's head for ``task``, or the model itself."""
    if isinstance(_unwrap(model), JointModel):
        return lambda x: model(x, task)
    return model


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
    clips_3d_last = cfg.channels_last and memory_format(cfg) == torch.channels_last_3d  # as the model's weights
    tick = time.perf_counter()
    for name in tqdm(order, desc=f"epoch {epoch + 1}", leave=False, disable=not progress):
        clips, labels = next(iters[name])
        clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        if clips_3d_last:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        start = time.perf_counter()
        data_time += start - tick
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = forward_for(model, name)(clips)
            loss = nn.functional.cross_entropy(logits.float(), labels)
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
                forward_for(model, name)(clips.to(device, non_blocking=True))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            for buf in (m.running_mean, m.running_var):
                dist.all_reduce(buf)
                buf /= dist.get_world_size()


def validate(model: nn.Module, loaders: dict[str, DataLoader], device: torch.device, classes: dict[str, list[str]],
             cfg: RunConfig) -> dict:
    """Video top-1 on each validation set (one centred view) and their mean, the checkpoint criterion."""
    model.eval()
    out = {}
    for name, dl in loaders.items():
        m = E.evaluate(forward_for(model, name), dl, device, classes[name], "1 centred view", amp=cfg.amp)
        out[f"val_acc/{name}"] = m["video_top1"]
    out["val_acc"] = float(np.mean([out[f"val_acc/{n}"] for n in loaders]))
    return out


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": [v.tolist() if isinstance(v, np.ndarray) else v for v in np.random.get_state()]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_checkpoint(path: Path, state: dict) -> None:
    """Write then rename: a kill never leaves a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def fit(model: nn.Module, train_data, val_data, config: RunConfig, classes: dict[str, list[str]] | None = None,
        tracker=None, progress: bool = True, info: DistInfo | None = None) -> History:
    """Train with per-epoch validation, checkpoints and resume.

    Args:
        model: a registered model, or a :class:`~harutils.models.JointModel` for joint training.
        train_data: a DataLoader, or a dict dataset name -> DataLoader (joint training).
        val_data: the same for validation.
        config: the run's :class:`~harutils.config.RunConfig`; checkpoints go to ``config.run_dir``.
        classes: dataset name -> class names (defaults to the loaders' datasets' ``classes``).
        tracker: a :class:`~harutils.tracking.Tracker` (optional).
        progress: tqdm bars.
        info: the distributed setting (default: single process).

    Returns:
        History; ``run_dir/best.pt`` holds the best-on-validation weights and ``run_dir/last.pt`` the last epoch.
    """
    info = info or DistInfo()
    cfg = config
    if not isinstance(train_data, dict):
        train_data, val_data = {cfg.dataset: train_data}, {cfg.dataset: val_data}
    classes = classes or {n: _dataset_of(dl).classes for n, dl in val_data.items()}
    device = next(model.parameters()).device
    optimizer = make_optimizer(cfg, model)
    scheduler = make_scheduler(cfg, optimizer)
    history = History()
    last, best = cfg.run_dir / "last.pt", cfg.run_dir / "best.pt"
    start = 0
    if last.is_file():
        ckpt = load_checkpoint(last)
        if ckpt["config"]["model"] != cfg.model or ckpt["config"]["dataset"] != cfg.dataset:
            raise ValueError(f"{last} belongs to another run ({ckpt['config']['model']} on "
                             f"{ckpt['config']['dataset']}); choose another out_dir")
        _unwrap(model).load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        history = History(ckpt["history"], ckpt["best_epoch"], ckpt["best_score"], ckpt["epoch"] + 1)
        start = ckpt["epoch"] + 1
        if info.main:
            print(f"resuming {cfg.run_name} from epoch {start} ({last})")
    for epoch in range(start, cfg.epochs):
        seed_everything(cfg.seed * 1000 + epoch)  # each epoch's randomness depends on (seed, epoch) only
        for dl in train_data.values():
            if isinstance(dl.sampler, torch.utils.data.distributed.DistributedSampler):
                dl.sampler.set_epoch(epoch)
            elif dl.generator is not None:
                dl.generator.manual_seed(cfg.seed * 1000 + epoch)
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
            state = {"model": _unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "epoch": epoch, "rng": _rng_state(),
                     "config": cfg.to_dict(), "history": history.rows, "best_epoch": history.best_epoch,
                     "best_score": history.best_score}
            if improved:
                save_checkpoint(best, {"model": state["model"], "epoch": epoch, "config": state["config"]})
            save_checkpoint(last, state)
            if tracker is not None:
                tracker.log({k: v for k, v in row.items() if k != "epoch"}, step=epoch + 1)
            if progress:
                losses = " ".join(f"{k.split('/')[1]} loss {v:.3f}" for k, v in row.items()
                                  if k.startswith("train_loss/"))
                print(f"epoch {epoch + 1:3d}/{cfg.epochs}  {losses}  val acc {row['val_acc']:.3f}  "
                      f"lr {row['lr']:.2e}  {row['epoch_seconds']:.1f}s (data {row['data_seconds']:.1f}s)"
                      + ("  *" if improved else ""))
        if info.world > 1:
            dist.barrier()
    return history


def _dataset_of(loader: DataLoader):
    ds = loader.dataset
    return ds.dataset if isinstance(ds, Subset) else ds


# ---------------------------------------------------------------- whole runs


def build_run_model(cfg: RunConfig, num_classes: dict[str, int]) -> nn.Module:
    """The run's model: a registered model, wrapped in a JointModel for joint runs."""
    first = num_classes[cfg.dataset]
    model = build_model(cfg.model, first, size=cfg.size, pretrained=cfg.pretrained)
    if cfg.joint_with:
        input_size, sampling, pre = model.input_size, model.sampling, model.preprocessing
        model = JointModel(model, num_classes)
        model.input_size, model.sampling, model.preprocessing = input_size, sampling, pre
    return model


def _num_classes(cfg: RunConfig, progress: bool) -> dict[str, int]:
    """Classes per dataset of the run, read from its split files."""
    from .data.splits import HMDB51_SPLIT_DIR, UCF101_SPLIT_DIR, hmdb51_classes, ucf101_classes

    out = {}
    for name in [cfg.dataset] + ([cfg.joint_with] if cfg.joint_with else []):
        root = dataset_root(cfg, name, progress)
        if name == "ucf101":
            out[name] = len(ucf101_classes(root / UCF101_SPLIT_DIR))
        else:
            out[name] = len(hmdb51_classes(root / HMDB51_SPLIT_DIR))
    return out


def run(cfg: RunConfig, progress: bool = True) -> dict:
    """A whole experiment: data and cache, model, ``fit``, then the best checkpoint on the test set(s) with the
    configured views, the temporal-order probe, and ``run_dir/metrics.json`` (metrics, config, views, timings,
    environment, history).

    Returns:
        The metrics dict that was written.
    """
    from .tracking import Tracker

    t_start = time.perf_counter()
    info = init_distributed(cfg.device)
    device = resolve_device(cfg.device)
    if device.type == "cuda" and info.world > 1:
        device = torch.device("cuda", info.local_rank)
    seed_everything(cfg.seed)
    names = [cfg.dataset] + ([cfg.joint_with] if cfg.joint_with else [])
    model = build_run_model(cfg, _num_classes(cfg, progress and info.main))
    t_data = time.perf_counter()
    bundles = {n: build_data(cfg, model, n, progress and info.main) for n in names}
    data_seconds = time.perf_counter() - t_data
    model = model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=memory_format(cfg))
    net = model
    if info.world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[info.local_rank] if device.type == "cuda"
                                                  else None)
    if cfg.compile:
        net = torch.compile(net)
    train_loaders = {n: make_loader(b.train, cfg, True, info, device, cfg.seed) for n, b in bundles.items()}
    val_loaders = {n: make_loader(b.val, cfg, False, info, device) for n, b in bundles.items()}
    classes = {n: b.classes for n, b in bundles.items()}
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    t_fit = time.perf_counter()
    mode = cfg.wandb_mode if info.main else "disabled"
    with Tracker(cfg.to_dict(), cfg.run_dir, mode, cfg.run_name) as tracker:
        history = fit(net, train_loaders, val_loaders, cfg, classes, tracker, progress, info)
        fit_seconds = time.perf_counter() - t_fit
        best = load_checkpoint(cfg.run_dir / "best.pt")
        model.load_state_dict(best["model"])
        results = {}
        t_test = time.perf_counter()
        for n, b in bundles.items():
            loader = make_loader(b.test, cfg, False, info, device)
            metrics = E.evaluate(forward_for(net, n), loader, device, b.classes, b.test.views, amp=cfg.amp)
            if cfg.order_probe:
                metrics["temporal_order_probe"] = E.temporal_order_probe(forward_for(net, n), loader, device,
                                                                         b.classes, b.test.views, cfg.amp,
                                                                         ordered=metrics)
            # validation accuracy of the kept checkpoint, as measured when it was chosen (1 centred view)
            metrics["val_video_top1"] = history.rows[history.best_epoch - 1][f"val_acc/{n}"]
            metrics["sizes"] = {"train": len(b.train), "val": len(b.val), "test": len(b.test)}
            metrics["cache"] = b.cache_report
            results[n] = metrics
            tracker.summary({f"test/{n}/video_top1": metrics["video_top1"],
                             f"test/{n}/clip_top1": metrics["clip_top1"],
                             f"test/{n}/mean_class_accuracy": metrics["mean_class_accuracy"]})
            if tracker.run is not None:
                from . import viz

                figure = viz.confusion(metrics["confusion_matrix"], b.classes, f"{cfg.run_name}: {n} test")
                tracker.log_figure(f"confusion/{n}", figure)
                viz.plt.close(figure)
        test_seconds = time.perf_counter() - t_test
    rows = history.rows
    step_seconds = sum(r["data_seconds"] + r["compute_seconds"] for r in rows)
    out = {
        "run": cfg.run_name, "model": cfg.model, "datasets": names, "config": cfg.to_dict(),
        "test": results, "best_epoch": history.best_epoch, "best_val_acc": history.best_score,
        "history": rows, "resumed_from_epoch": history.resumed_from,
        "parameters": sum(p.numel() for p in model.parameters()),
        "timings": {"data_and_cache_seconds": data_seconds, "fit_seconds": fit_seconds, "test_seconds": test_seconds,
                    "total_seconds": time.perf_counter() - t_start,
                    "train_clips_per_second": sum(r["clips"] for r in rows) / step_seconds if rows else None,
                    "data_share_of_step": sum(r["data_seconds"] for r in rows) / step_seconds if rows else None},
        "environment": environment(),
        "world_size": info.world,
    }
    if info.main:
        (cfg.run_dir / "metrics.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    if info.world > 1:
        digest = float(sum(p.double().sum() for p in model.state_dict().values() if p.is_floating_point()))
        (cfg.run_dir / f"rank{info.rank}.json").write_text(json.dumps(
            {"weights_sum": digest, "test": {n: r["video_top1"] for n, r in results.items()}}) + "\n")
        dist.barrier()
    return out


def load_or_run(cfg: RunConfig, progress: bool = True) -> dict:
    """The metrics of a finished run of ``cfg`` (``run_dir/metrics.json``), running it first if there is none."""
    path = cfg.run_dir / "metrics.json"
    if path.is_file():
        return json.loads(path.read_text())
    return run(cfg, progress)


def load_trained_model(cfg: RunConfig, num_classes: dict[str, int] | None = None) -> nn.Module:
    """The best checkpoint of a finished run, on the CPU, in eval mode."""
    num_classes = num_classes or _num_classes(cfg, progress=False)
    model = build_run_model(cfg, num_classes)
    model.load_state_dict(load_checkpoint(cfg.run_dir / "best.pt")["model"])
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harutils.train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", default="ucf101")
    parser.add_argument("--data-root", default="")
    parser.add_argument("--joint-with", default=None)
    parser.add_argument("--joint-root", default="")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--split", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pretrained", default=None, help="imagenet | none | a checkpoint path (default: profile)")
    parser.add_argument("--wandb", default=None, help="online | offline | disabled (default: WANDB_MODE or offline)")
    parser.add_argument("--out", default="artifacts")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = make_config(args.model, args.dataset, args.profile, data_root=args.data_root, split=args.split,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, device=args.device,
                      num_workers=args.workers, seed=args.seed, wandb_mode=args.wandb, out_dir=args.out,
                      data_dir=args.data_dir, joint_with=args.joint_with, joint_root=args.joint_root,
                      pretrained=False if args.pretrained == "none" else args.pretrained)
    out = run(cfg, progress=not args.no_progress)
    if int(os.environ.get("RANK", "0")) == 0:
        for n, m in out["test"].items():
            print(f"{n}: video top-1 {m['video_top1']:.3f} ({m['views']}), clip top-1 {m['clip_top1']:.3f}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
