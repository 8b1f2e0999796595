"""The data of one run: its datasets (group-aware train/val, official test) with the samplers and transforms its
model's card asks for, the frame preparation before training (cache build or probe), and the DataLoaders.

The run's configuration (:class:`~harutils.config.RunConfig`) and the model's card
(:class:`~harutils.models.card.ModelCard`) come in as arguments: the data layer reads them and imports neither.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torch.utils.data.distributed import DistributedSampler

from . import splits as S
from .cache import FrameCache, build_caches
from .datasets import DATASETS, resolve_root
from .manifest import probe_row
from .parallel import map_with_progress
from .sampling import Clip, FrameSampler, MultiClip, UniformFrames
from .store import CacheReport, FrameStore
from .transforms import ClipTransform
from .video_store import VideoStore, store_side

FRAME_STORES = ("arrays", "video", "none")

if TYPE_CHECKING:  # annotations only: the configuration and the card are passed in
    from ..config import RunConfig
    from ..models.card import ModelCard
    from ..runtime import DistInfo


@dataclass(frozen=True)
class FrameSettings:
    """How a dataset's frames are prepared.

    Attributes:
        data_dir: where generated data and the frame caches live.
        frame_size: the shorter side frames are decoded at (None: as stored).
        frame_store: where training reads frames from: "arrays" (every frame decoded once into uint8 arrays at
            ``frame_size``: the demo), "video" (every video re-encoded once as a short-GOP H.264 copy, resized on
            read: the full profile) or "none" (clips decoded from the original videos in the DataLoader workers).
    """

    data_dir: str
    frame_size: int | None
    frame_store: str


@dataclass
class DataBundle:
    """One dataset's subsets for a run, with its class names.

    Attributes:
        views: how the test set is viewed ("5 clips of 16 frames ..."), reported with the test metrics.
        cache_report: what preparing the frames built, reused and left out.
        left_out: the videos of the split left out of the run, by reason: "unreadable" ``[(path, cause)]`` and
            "missing" ``[path]`` (named by the split files, not on disk).
    """

    name: str
    classes: list[str]
    train: Dataset
    val: Dataset
    test: Dataset
    root: Path
    views: str
    cache_report: str = ""
    left_out: dict[str, list] = field(default_factory=dict)


def samplers_for(card: ModelCard, cfg: RunConfig) -> tuple[FrameSampler, FrameSampler, FrameSampler, str]:
    """Train, validation and test samplers for a model's card, and a description of the test views."""
    t = card.input_size[0]
    if card.sampling == "uniform":
        uniform = UniformFrames(t)
        return uniform, uniform, uniform, "1 view: uniform frames over the whole video"
    clip = Clip(t, cfg.frame_stride)
    if cfg.test_views > 1:
        test = MultiClip(cfg.test_views, t, cfg.frame_stride)
        return clip, clip, test, f"{cfg.test_views} clips of {t} frames (stride {cfg.frame_stride}) spread evenly"
    return clip, clip, clip, f"1 centred clip of {t} frames (stride {cfg.frame_stride})"


def dataset_root(cfg: RunConfig, name: str, progress: bool = True) -> Path:
    """The user's data root of dataset ``name`` in this run, or the synthetic default (generated on first use)."""
    return resolve_root(name, cfg.data_root if name == cfg.dataset else cfg.joint_root, cfg.data_dir, progress)


def class_count(cfg: RunConfig, name: str, progress: bool = True) -> int:
    """Classes of dataset ``name`` in this run, read from its split files."""
    root = dataset_root(cfg, name, progress)
    if name == "ucf101":
        return len(S.ucf101_classes(root / S.UCF101_SPLIT_DIR))
    return len(S.hmdb51_classes(root / S.HMDB51_SPLIT_DIR))


def frame_store(frames: FrameSettings, name: str, root: Path) -> FrameStore | None:
    """The frame store of one dataset: an all-frames cache at ``frame_size`` under ``data_dir/cache``, the video
    store under ``data_dir/video_store`` (one per dataset and store side, read at any frame size up to that side),
    or None (decode the originals).

    Raises:
        ValueError: an unknown ``frame_store``.
    """
    if frames.frame_store not in FRAME_STORES:
        raise ValueError(f"frame_store must be one of {FRAME_STORES}, got {frames.frame_store!r}")
    folder = f"{name}_{hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]}"
    if frames.frame_store == "arrays":
        return FrameCache(Path(frames.data_dir) / "cache" / f"{folder}_{frames.frame_size}",
                          frame_size=frames.frame_size)
    if frames.frame_store == "video":
        side = store_side(frames.frame_size)
        return VideoStore(Path(frames.data_dir) / "video_store" / f"{folder}_{side}", frame_size=frames.frame_size,
                          max_side=side)
    return None


def prepare_frames(frames: FrameSettings, name: str, root: Path, videos, progress: bool = True) -> CacheReport:
    """Make a dataset's videos ready to read: build the frame store, or (without one) probe every video once.

    Args:
        videos: the videos of the run (all subsets).

    Returns:
        What was built or reused, and the videos that cannot be read (to leave out).
    """
    store = frame_store(frames, name, root)
    if store is not None:
        return store.build(videos, progress=progress)
    report = CacheReport(probed=len(videos))
    for row in map_with_progress(probe_row, [str(v) for v in videos], None, "probing videos", progress):
        if row["status"] != "ok":
            report.bad.append((row["path"], row["status"]))
    report.bad.sort()
    return report


def prepare_all_frames(settings: list[FrameSettings], name: str, root: Path, videos,
                       progress: bool = True) -> list[CacheReport]:
    """:func:`prepare_frames` for each of ``settings`` (a dataset's stores, as the frame-extraction notebook builds
    them), its all-frames caches (the demo's 64 and 96 px) built together in one pass that decodes each video once.

    Returns:
        One report per setting, in their order.
    """
    arrays = [s for s in settings if s.frame_store == "arrays"]
    reports = {}
    if arrays:
        caches = [frame_store(s, name, root) for s in arrays]
        reports = dict(zip(arrays, build_caches(caches, videos, progress=progress), strict=True))
    return [reports[s] if s in reports else prepare_frames(s, name, root, videos, progress) for s in settings]


def check_frame_size(cfg: RunConfig, card: ModelCard) -> None:
    """Frames decoded smaller than the model's crop would be padded with black borders: refuse early.

    Raises:
        ValueError: ``cfg.frame_size`` (the shorter side frames are decoded at) is below the crop.
    """
    crop = max(card.input_size[1:])
    if cfg.crop and cfg.frame_size is not None and cfg.frame_size < crop:
        raise ValueError(f"frame_size={cfg.frame_size} is smaller than the {cfg.model} crop of {crop} px: frames "
                         f"would be padded; use at least {crop} (the papers resize to 8/7 of the crop)")


def build_data(cfg: RunConfig, card: ModelCard, name: str | None = None, progress: bool = True,
               uint8_clips: bool = False) -> DataBundle:
    """Datasets of one run: group-aware train/val, official test, read through the frame store built first (or
    decoded from the originals at ``cfg.frame_size`` when the configuration has none); unreadable videos are
    left out of every subset and listed in the bundle's cache report. With ``uint8_clips`` (the engine's) the
    clips come unnormalised, for the placed model to finish a batch at a time (:mod:`harutils.placement`)."""
    check_frame_size(cfg, card)
    name = name or cfg.dataset
    root = dataset_root(cfg, name, progress)
    train_s, val_s, test_s, views = samplers_for(card, cfg)
    size = tuple(card.input_size[1:])

    def transform(training):
        return ClipTransform(size, training, card.preprocessing, hflip=cfg.hflip and training,
                             randaugment=cfg.randaugment and training, subtract_mean_frame=cfg.subtract_mean_frame,
                             crop=cfg.crop, uint8_clips=uint8_clips)

    common = {"split": cfg.split, "seed": cfg.seed, "cache": frame_store(cfg.frames, name, root),
              "frame_size": cfg.frame_size, "leaky_val": cfg.leaky_val}
    cls = DATASETS[name]
    train = cls(root, subset="train", sampler=train_s, transform=transform(True), **common)
    val = cls(root, subset="val", sampler=val_s, transform=transform(False), training=False, **common)
    test = cls(root, subset="test", sampler=test_s, transform=transform(False), training=False, **common)
    report = prepare_frames(cfg.frames, name, root, [p for ds in (train, val, test) for p, _ in ds.samples], progress)
    bad = [p for p, _ in report.bad]
    for ds in (train, val, test):
        ds.exclude(bad)
    left_out = {"unreadable": [list(b) for b in report.bad],
                "missing": sorted(str(p) for ds in (train, val, test) for p in ds.missing)}
    say_left_out(name, left_out, sum(len(ds) for ds in (train, val, test)))
    return DataBundle(name, train.classes, train, val, test, root, views, str(report), left_out)


def say_left_out(name: str, left_out: dict[str, list], kept: int) -> None:
    """One line per reason on the console (and so in the notebook), with the first few videos and causes."""
    for reason, videos in left_out.items():
        if videos:
            first = "; ".join(f"{Path(v[0]).name}: {v[1]}" if isinstance(v, list) else Path(v).name
                              for v in videos[:3])
            print(f"{name}: {len(videos)} {reason} videos left out of the run ({kept} used); first: {first}"
                  + (" ..." if len(videos) > 3 else ""))


def make_loader(ds: Dataset, cfg: RunConfig, training: bool, info: DistInfo, device: torch.device,
                epoch_seed: int = 0) -> DataLoader:
    """A DataLoader: shuffled (and sharded by DistributedSampler under DDP) for training; for evaluation each rank
    takes videos rank, rank+W, ... (no padding, so gathered metrics count every video once)."""
    sampler = None
    if training and info.world > 1:
        sampler = DistributedSampler(ds, info.world, info.rank, shuffle=True, seed=cfg.seed)
    if not training and info.world > 1:
        ds = Subset(ds, list(range(info.rank, len(ds), info.world)))
    workers = cfg.num_workers
    return DataLoader(ds, batch_size=cfg.batch_size, shuffle=training and sampler is None, sampler=sampler,
                      num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=workers > 0,
                      drop_last=False, generator=torch.Generator().manual_seed(epoch_seed))


def dataset_of(loader: DataLoader) -> Dataset:
    """The dataset behind a loader (through an evaluation shard's Subset)."""
    ds = loader.dataset
    return ds.dataset if isinstance(ds, Subset) else ds
