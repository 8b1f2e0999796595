"""One run configuration built from a notebook's parameters; the profile is applied here and nowhere else.

``demo``: CPU, the synthetic dataset, demo-size models trained from scratch on 8x64x64 clips in minutes.
``full``: GPU, the real datasets, paper-size models with pretrained weights and the reference's recipe.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .data.pipeline import FrameSettings
from .models import MODEL_NAMES

PROFILES = ("demo", "full")
DATASETS = ("ucf101", "hmdb51")

# Per-model settings of each profile: epochs, learning rate, frames stride, views at test time.
# Demo epochs are set so that the whole series fits in 15 minutes on 2 CPU cores (each run's notebook times are in
# reports/run_log.json and the report).
_DEMO = {
    "late_fusion": {"epochs": 10, "lr": 2e-3},
    "c3d": {"epochs": 8, "lr": 2e-3, "joint_epochs": 5},  # the slowest learner: 4 joint epochs left it at 0.17-0.28
    "lrcn": {"epochs": 10, "lr": 2e-3},
    "i3d": {"epochs": 10, "lr": 2e-3},
    "nonlocal": {"epochs": 10, "lr": 2e-3},
}
# Full profile: the reference's recipe (Adam 1e-4, batch 64, ExponentialLR gamma 0.999 stepped each epoch); frames
# are decoded at a shorter side of 8/7 of the model's crop, the papers' resize-then-crop (128 -> 112 for C3D,
# 256 -> 224 for the others). LRCN runs 32 clips a batch: 16 ResNet-152 frames per clip at batch 64 need more memory
# than an 80 GB GPU holds (benchmarks/results/models_cuda.json has the measured peak per batch).
_FULL = {
    "late_fusion": {"epochs": 20, "lr": 1e-4, "pretrained": "imagenet", "frame_size": 256},
    "c3d": {"epochs": 30, "lr": 1e-4, "pretrained": None, "frame_size": 128},
    "lrcn": {"epochs": 20, "lr": 1e-4, "pretrained": "imagenet", "frame_size": 256, "batch_size": 32},
    "i3d": {"epochs": 30, "lr": 1e-4, "pretrained": "imagenet", "frame_size": 256},
    "nonlocal": {"epochs": 30, "lr": 1e-4, "pretrained": "imagenet", "frame_size": 256},
}



# Models trained jointly on UCF101 + HMDB51 (notebook 08): the reference's three on the demo profile, which must fit
# in 15 CPU minutes with the rest of the series; all five on the full profile.
_JOINT_MODELS = {"demo": ("late_fusion", "c3d", "nonlocal"), "full": tuple(_FULL)}


def joint_models(profile: str, models: str = "") -> list[str]:
    """The models of the joint-training notebook: ``models`` (comma-separated) or the profile's list.

    Raises:
        ValueError: an unknown profile or model name.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    names = [m.strip() for m in models.split(",") if m.strip()] or list(_JOINT_MODELS[profile])
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {sorted(MODEL_NAMES)}")
    return names


@dataclass
class RunConfig:
    """Everything a training run depends on (saved with every checkpoint and result).

    Attributes mirror the notebook parameters; ``None`` values are filled from the profile by :func:`make_config`.
    """

    model: str
    dataset: str = "ucf101"
    profile: str = "demo"
    data_root: str = ""
    split: int = 1
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    lr_gamma: float = 0.9  # ExponentialLR, stepped once per epoch (the full profile: 0.999, the reference's)
    weight_decay: float = 0.0
    optimizer: str = "adam"
    scheduler: str = "exponential"
    model_size: str = "small"  # "paper" | "small" (harutils.models.card.MODEL_SIZES)
    pretrained: str | bool | None = None  # None: the profile's; False: no weights; "imagenet"; a checkpoint path
    frame_stride: int = 2
    frame_size: int | None = None  # shorter side frames are decoded at (cached or not); at least the model's crop
    cache_frames: bool | None = None  # True: decode every frame once into data_dir/cache (demo); False: decode
    # clips in the DataLoader workers (full: an all-frames cache of UCF101 at 256 px would take about 640 GB)
    hflip: bool = False
    randaugment: bool = False
    subtract_mean_frame: bool = False
    test_views: int = 5  # clips per video at test time (clip models); 1, 5 or 10
    num_workers: int = 0
    device: str = "auto"
    amp: bool = True  # bf16 autocast on CUDA
    channels_last: bool = True  # channels-last convolutions (the card's memory_format), on CUDA and CPU
    compile: bool = False
    precise_bn_batches: int = 10  # recompute BatchNorm statistics on this many training batches after each epoch
    order_probe: bool | None = None  # test the temporal-order probe too (None: single-dataset runs only; the results
    # notebook compares order sensitivity on those, and on joint runs the probe would only add test time)
    seed: int = 0
    wandb_mode: str = "offline"
    out_dir: str = "artifacts"
    data_dir: str = "data"
    joint_with: str | None = None  # the second dataset of a joint run
    joint_root: str = ""  # its data root (empty: its synthetic default)
    joint_schedule: str = "alternate"
    leaky_val: bool = False  # the random validation split that leaks groups (only to measure its cost)

    @property
    def run_name(self) -> str:
        data = f"{self.dataset}+{self.joint_with}" if self.joint_with else self.dataset
        leak = "_leakyval" if self.leaky_val else ""
        return f"{self.model}_{data}_split{self.split}_{self.profile}{leak}"

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.run_name

    @property
    def frames(self) -> FrameSettings:
        """Where and how this run's frames are prepared."""
        return FrameSettings(self.data_dir, self.frame_size, bool(self.cache_frames))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Settings that change where or how visibly a run executes, not what it computes; a run may resume under other
# values of these (epochs are checked on their own: more continue the run, fewer are refused).
NOT_IN_RESULT = frozenset({"epochs", "device", "wandb_mode", "num_workers", "out_dir", "data_dir", "compile"})


def changed_fields(recorded: dict, cfg: RunConfig) -> list[str]:
    """The settings, other than :data:`NOT_IN_RESULT`, in which ``cfg`` differs from a recorded run's config.

    Args:
        recorded: the ``config`` saved with a checkpoint or in ``metrics.json``.
    """
    now = json.loads(json.dumps(cfg.to_dict(), default=str))  # as it would be recorded
    return sorted(k for k in now.keys() | recorded.keys()
                  if k not in NOT_IN_RESULT and now.get(k) != recorded.get(k))


def _profile_base(profile: str) -> dict:
    """The settings a profile gives every model (the per-model tables refine them)."""
    if profile == "demo":
        return {"model_size": "small", "batch_size": 8, "frame_size": 64, "cache_frames": True, "frame_stride": 2,
                "hflip": False, "subtract_mean_frame": True, "test_views": 5, "num_workers": 0, "device": "cpu",
                "pretrained": None}
    # decoding workers: all cores but the main process's (with half the cores decoding, the 3D models waited for
    # data for most of each step on the GPU machine: benchmarks/results/training_full_cuda.json)
    return {"model_size": "paper", "batch_size": 64, "lr_gamma": 0.999, "frame_size": 256, "cache_frames": False,
            "hflip": True, "subtract_mean_frame": False, "test_views": 5,
            "num_workers": max(1, min(16, (os.cpu_count() or 2) - 1)), "device": "auto"}


def frame_settings(profile: str, data_dir: str = "data", frame_size: int | None = None) -> FrameSettings:
    """How a profile prepares frames before any model is chosen (the frame-extraction notebook): the demo caches
    every frame at 64 px; the full profile decodes on the fly (each model at 8/7 of its crop) and only probes."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    base = _profile_base(profile)
    return FrameSettings(data_dir, frame_size or base["frame_size"], base["cache_frames"])


def make_config(model: str, dataset: str = "ucf101", profile: str = "demo", **params) -> RunConfig:
    """Build a :class:`RunConfig` from parameters, filling what is ``None`` from the profile.

    Raises:
        ValueError: an unknown profile, dataset or model.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if model not in MODEL_NAMES:
        raise ValueError(f"model must be one of {sorted(MODEL_NAMES)}, got {model!r}")
    table = _DEMO if profile == "demo" else _FULL
    known = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown parameters {unknown}")
    params = {k: v for k, v in params.items() if v is not None and not (k == "device" and v == "auto")}
    # W&B: the caller's mode, else $WANDB_MODE, else offline (an empty string is the notebooks' "not set")
    params["wandb_mode"] = params.get("wandb_mode") or os.environ.get("WANDB_MODE") or "offline"
    if params["wandb_mode"] not in ("online", "offline", "disabled"):
        raise ValueError(f"wandb_mode must be 'online', 'offline' or 'disabled', got {params['wandb_mode']!r}")
    base = _profile_base(profile)
    if profile == "full":
        base["frame_stride"] = 1 if model == "c3d" else 2
    settings = dict(table[model])
    joint_epochs = settings.pop("joint_epochs", None)
    merged = {**base, **settings, **params}
    if merged.get("joint_with") and "epochs" not in params:
        # a joint epoch covers both datasets: half the epochs, unless the profile names a model's own
        merged["epochs"] = joint_epochs or max(1, round(merged["epochs"] * 0.5))
    if merged.get("order_probe") is None:
        merged["order_probe"] = not merged.get("joint_with")
    if not isinstance(merged["epochs"], int) or merged["epochs"] < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {merged['epochs']!r}")
    return RunConfig(model=model, dataset=dataset, profile=profile, **merged)
