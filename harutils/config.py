"""One run configuration built from a notebook's parameters; the profile (and on the full profile the recipe) is
applied here and nowhere else, from the tables of :mod:`harutils.recipes`.

``demo``: CPU, the synthetic dataset, small models trained from scratch on 8x64x64 clips in minutes (LRCN from the
frame CNN Late Fusion trained).
``full``: GPU, the real datasets, paper-size models with pretrained weights; recipe ``reference`` (the report as
published, the default) or ``improved`` (this project's practice).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .data import synthetic
from .data.pipeline import FrameSettings
from .data.video_store import store_side
from .models import MODEL_NAMES
from .recipes import PROFILES, settings

DATASETS = ("ucf101", "hmdb51")
PRETEXTS = ("", "playback")  # what a run learns: the labels, or a self-supervised task (harutils.pretext)


def other_dataset(dataset: str) -> str:
    """The dataset a joint run pairs with ``dataset`` (notebooks 02 and 09 prepare and train on both)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    return DATASETS[1 - DATASETS.index(dataset)]


# Models trained jointly on UCF101 + HMDB51 (notebook 09): on the demo profile Non-local, the best temporal model
# (with it at 20 epochs, a second model would put notebook 09 past two minutes on 2 CPU cores); all six on the full
# profile.
_JOINT_MODELS = {"demo": ("nonlocal",), "full": MODEL_NAMES}


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
    label_smoothing: float = 0.0  # cross-entropy label smoothing in training (evaluation losses never smooth)
    recipe: str = "demo"  # full profile: "reference" (the report as published) | "improved"; the demo has one
    model_size: str = "small"  # "paper" | "small" (harutils.models.card.MODEL_SIZES)
    model_options: dict = dataclasses.field(default_factory=dict)  # builder arguments of the recipe (frames, head)
    pretrained: str | bool | None = None  # None: the recipe's; False: none; "imagenet", "sports1m", "kinetics400"
    # (named files of the weights folder), a checkpoint path, or a model's name: the frame CNN of that model's run on
    # the same data, split and seed (the demo's LRCN: "late_fusion")
    weights_dir: str = ""  # the weights folder (empty: $HARUTILS_WEIGHTS)
    normalisation: str = "checkpoint"  # "checkpoint": what the weights expect | "imagenet": ImageNet mean/std
    frame_stride: int = 2
    frame_size: int | None = None  # shorter side frames are decoded at (cached or not); at least the model's crop
    frame_store: str | None = None  # where training reads frames: "arrays" (the demo: every frame once as uint8
    # at frame_size), "video" (full: short-GOP H.264 copies, resized on read) or "none" (the original videos)
    crop: bool = True  # resize then crop (random in training, centred in evaluation); False: resize to the input
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
    order_probe: bool | None = None  # test the temporal-order probe too (None: single-dataset runs on all the labels
    # with the group-aware validation only; the results notebook compares order sensitivity on those, and on joint,
    # leaky-validation and self-supervised study runs the probe would only add test time)
    seed: int = 0
    wandb_mode: str = "offline"
    out_dir: str = "artifacts"
    data_dir: str = "data"
    joint_with: str | None = None  # the second dataset of a joint run
    joint_root: str = ""  # its data root (empty: its synthetic default)
    joint_schedule: str = "alternate"
    leaky_val: bool = False  # the random validation split that leaks groups (only to measure its cost)
    pretext: str = ""  # "" (the labels) | "playback" (self-supervised: forward, backward or shuffled?)
    label_fraction: float = 1.0  # share of each class's training clips kept (the label-efficiency curve)
    steps_as_all_labels: bool = True  # a label-fraction epoch passes over its clips as often as it takes to make
    # as many steps as an epoch on all the labels (False: one pass, as runs recorded before this setting did)
    init_from: str = ""  # a finished run's folder (or best.pt) whose weights, all but the head, start this run
    data_version: str = ""  # the synthetic dataset's generator and size where no data root is given (filled in)

    @property
    def run_name(self) -> str:
        data = f"{self.dataset}+{self.joint_with}" if self.joint_with else self.dataset
        leak = "_leakyval" if self.leaky_val else ""
        task = f"_{self.pretext}" if self.pretext else ""
        labels = f"_labels{round(self.label_fraction * 100)}" if self.label_fraction < 1 else ""
        init = "_finetuned" if self.init_from else ""
        return f"{self.model}_{data}_split{self.split}_{self.profile}{leak}{task}{labels}{init}"

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.run_name

    @property
    def frames(self) -> FrameSettings:
        """Where and how this run's frames are prepared."""
        return FrameSettings(self.data_dir, self.frame_size, self.frame_store)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Settings that change where or how visibly a run executes, not what it computes; a run may resume under other
# values of these (epochs are checked on their own: more continue the run, fewer are refused).
NOT_IN_RESULT = frozenset({"epochs", "device", "wandb_mode", "num_workers", "out_dir", "data_dir", "compile",
                           "weights_dir"})


def summary(cfg: RunConfig) -> str:
    """One line a reader can take in: what trains on what, and how."""
    data = f"{cfg.dataset} + {cfg.joint_with}" if cfg.joint_with else cfg.dataset
    recipe = f", recipe {cfg.recipe}" if cfg.profile == "full" else ""
    return (f"{cfg.model} on {data} split {cfg.split} ({cfg.profile} profile{recipe}, {cfg.model_size} model): "
            f"{cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.optimizer} at lr {cfg.lr:g}, {cfg.scheduler} schedule, "
            f"frames at {cfg.frame_size} px from the {cfg.frame_store} store, {cfg.test_views} test views, "
            f"seed {cfg.seed}" + (f"; pretext task: {cfg.pretext}" if cfg.pretext else "")
            + (f"; {cfg.label_fraction:.0%} of the labels" if cfg.label_fraction < 1 else "")
            + (f"; starting from {Path(cfg.init_from).name}" if cfg.init_from else ""))


def changed_fields(recorded: dict, cfg: RunConfig) -> list[str]:
    """The settings, other than :data:`NOT_IN_RESULT`, in which ``cfg`` differs from a recorded run's config.

    Args:
        recorded: the ``config`` saved with a checkpoint or in ``metrics.json``.
    """
    now = json.loads(json.dumps(cfg.to_dict(), default=str))  # as it would be recorded
    recorded = upgraded(recorded)
    return sorted(k for k in now.keys() | recorded.keys()
                  if k not in NOT_IN_RESULT and now.get(k) != recorded.get(k))


# Settings renamed since a run may have been recorded: old name -> (new name, old value -> new value).
RENAMED = {"cache_frames": ("frame_store", {True: "arrays", False: "none"})}
# Settings added since a run may have been recorded whose default is not what such a run computed with.
BEFORE_ADDED = {"steps_as_all_labels": False}


def upgraded(recorded: dict) -> dict:
    """A config recorded by an earlier version, in today's names; a setting added since is given what that run
    computed with: its default (``label_smoothing=0`` before smoothing existed) or its value in :data:`BEFORE_ADDED`."""
    out = dict(recorded)
    for old, (new, values) in RENAMED.items():
        if old in out and new not in out:
            value = out.pop(old)
            out[new] = values.get(value, value)
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig) if f.default is not dataclasses.MISSING}
    for name, default in {**defaults, **BEFORE_ADDED}.items():
        out.setdefault(name, default)
    return out


def frame_settings(profile: str, data_dir: str = "data", frame_size: int | None = None,
                   models=MODEL_NAMES) -> list[FrameSettings]:
    """The frame stores a profile's ``models`` read, for the frame-extraction notebook to build before any training:
    on the demo one uint8 cache per frame size (64 px; ViViT's 96 px, cropped to 64); on the full profile one
    video store per store side the models need (:func:`~harutils.data.video_store.store_side`: 128 px for C3D,
    256 px for the rest), each read at the models' own frame sizes. ``frame_size`` overrides the profile's sizes."""
    per_model = [settings(profile, "", m) for m in models]
    store = per_model[0]["frame_store"]
    if frame_size or store == "none":  # without a store, one probe of the videos
        sizes = [frame_size or per_model[0]["frame_size"]]
    elif store == "video":
        sizes = sorted({store_side(s["frame_size"]) for s in per_model})
    else:
        sizes = sorted({s["frame_size"] for s in per_model})
    return [FrameSettings(data_dir, size, per_model[0]["frame_store"]) for size in sizes]


def data_version(dataset: str, data_root: str, joint_with: str | None = None, joint_root: str = "") -> str:
    """Which synthetic dataset a run reads where it has no data root of its own: a run recorded on an earlier
    version of the generator or its default size is another run, not one to report as complete."""
    def one(name: str, root: str) -> str:
        if root:
            return ""
        d = synthetic.DEFAULTS[name]
        return f"{name}: synthetic v{synthetic.FORMAT_VERSION}, {d['groups']} groups x {d['clips_per_group']} clips"

    return "; ".join(v for v in (one(dataset, data_root), one(joint_with, joint_root) if joint_with else "") if v)


def make_config(model: str, dataset: str = "ucf101", profile: str = "demo", **params) -> RunConfig:
    """Build a :class:`RunConfig` from parameters, filling what is ``None`` from the profile.

    Args:
        model, dataset, profile: what to train, on what, how (profile "demo" or "full").
        **params: any :class:`RunConfig` field; ``recipe`` picks the full profile's ("reference" by default).

    Raises:
        ValueError: an unknown profile, recipe, dataset, model or parameter.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if model not in MODEL_NAMES:
        raise ValueError(f"model must be one of {sorted(MODEL_NAMES)}, got {model!r}")
    known = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown parameters {unknown}")
    params = {k: v for k, v in params.items() if v is not None and not (k == "device" and v == "auto")}
    # W&B: the caller's mode, else $WANDB_MODE, else offline (an empty string is the notebooks' "not set")
    params["wandb_mode"] = params.get("wandb_mode") or os.environ.get("WANDB_MODE") or "offline"
    if params.get("normalisation", "checkpoint") not in ("checkpoint", "imagenet"):
        raise ValueError(f"normalisation must be 'checkpoint' or 'imagenet', got {params['normalisation']!r}")
    if params["wandb_mode"] not in ("online", "offline", "disabled"):
        raise ValueError(f"wandb_mode must be 'online', 'offline' or 'disabled', got {params['wandb_mode']!r}")
    merged = {**settings(profile, params.pop("recipe", ""), model), **params}
    if merged.get("joint_with") and "epochs" not in params:
        merged["epochs"] = max(1, merged["epochs"] // 2)  # a joint epoch covers both datasets
    merged["data_version"] = data_version(dataset, merged.get("data_root", ""), merged.get("joint_with"),
                                          merged.get("joint_root", ""))
    if merged.get("pretext", "") not in PRETEXTS:
        raise ValueError(f"pretext must be one of {PRETEXTS}, got {merged['pretext']!r}")
    if not 0 < merged.get("label_fraction", 1.0) <= 1:
        raise ValueError(f"label_fraction must be in (0, 1], got {merged['label_fraction']!r}")
    if merged.get("order_probe") is None:  # the probe measures an action classifier, not a pretext task
        merged["order_probe"] = not any(merged.get(k) for k in ("joint_with", "pretext", "leaky_val", "init_from")) \
            and merged.get("label_fraction", 1.0) == 1
    if not isinstance(merged["epochs"], int) or merged["epochs"] < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {merged['epochs']!r}")
    return RunConfig(model=model, dataset=dataset, profile=profile, **merged)
