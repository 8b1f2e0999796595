"""The video classification dataset shared by UCF101 and HMDB51 (and the synthetic data in their layouts)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import Dataset

from . import splits as S
from .sampling import Clip, FrameSampler
from .video import VideoError, probe, read_frames

if TYPE_CHECKING:
    from .cache import FrameCache


class DatasetLayoutError(FileNotFoundError):
    """A dataset root does not have the expected layout; the message lists what was expected and where."""


class MissingVideosWarning(UserWarning):
    """Videos named by the split files are absent on disk and were left out."""


@dataclass(frozen=True)
class IndexRow:
    """One video of the dataset, whatever its subset.

    Attributes:
        path: absolute path of the video.
        label: integer label.
        role: "train", "val" or "test" (the validation split carved from the official train list).
        group: the source the clip comes from.
        present: whether the file exists on disk.
    """

    path: Path
    label: int
    role: str
    group: str
    present: bool


class VideoClassificationDataset(Dataset):
    """Videos with integer labels, sampled into frames, optionally read from a frame cache.

    ``dataset[i]`` returns ``(frames, label)``: frames are ``(T, H, W, 3)`` uint8 for one view or
    ``(V, T, H, W, 3)`` for several (``MultiClip``), then passed through ``transform`` when given.

    Attributes:
        classes: class names in label order.
        samples: ``(path, label)`` pairs of this subset, present on disk.
        groups: the group of each sample.
        index: every video of the split (all roles), with its presence on disk.
        missing: videos of this subset named by the split but absent on disk.
    """

    name = "videos"

    def __init__(
        self,
        classes: list[str],
        index: list[IndexRow],
        subset: str,
        *,
        sampler: FrameSampler | None = None,
        transform: Callable | None = None,
        training: bool | None = None,
        frame_size: int | tuple[int, int] | None = None,
        cache: FrameCache | None = None,
        backend: str | None = None,
    ):
        if subset not in S.SUBSETS:
            raise ValueError(f"subset must be one of {S.SUBSETS}, got {subset!r}")
        self.classes = classes
        self.class_to_idx = {c: i for i, c in enumerate(classes)}
        self.index = index
        self.subset = subset
        roles = ("train", "val") if subset == "trainval" else (subset,)
        rows = [r for r in index if r.role in roles]
        self.missing = [r.path for r in rows if not r.present]
        rows = [r for r in rows if r.present]
        self.samples = [(r.path, r.label) for r in rows]
        self.groups = [r.group for r in rows]
        self.sampler = sampler or Clip()
        self.transform = transform
        self.training = subset in ("train", "trainval") if training is None else training
        self.frame_size = frame_size
        self.cache = cache
        self.backend = backend
        if self.missing:
            names = ", ".join(p.name for p in self.missing[:5])
            warnings.warn(
                f"{self.name} {subset}: {len(self.missing)} of {len(rows) + len(self.missing)} videos named by the "
                f"split files are not on disk and were left out (first: {names})",
                MissingVideosWarning,
                stacklevel=3,
            )

    def __len__(self) -> int:
        return len(self.samples)

    def exclude(self, paths) -> list[Path]:
        """Drop the given videos (e.g. the bad files a cache build reported); returns what was dropped."""
        bad = {Path(p) for p in paths}
        keep = [i for i, (p, _) in enumerate(self.samples) if p not in bad]
        dropped = [p for p, _ in self.samples if p in bad]
        self.samples = [self.samples[i] for i in keep]
        self.groups = [self.groups[i] for i in keep]
        return dropped

    def _rng(self) -> np.random.Generator:
        # Derived from torch's RNG, which the trainer seeds and DataLoader seeds per worker.
        return np.random.default_rng(int(torch.randint(0, 2**31 - 1, ()).item()))

    def load_frames(self, path: Path) -> torch.Tensor:
        """Sample and read one video's frames: (V, T, H, W, 3) uint8."""
        sampler = self.sampler
        if self.cache is not None:
            frames = self.cache.read(path, sampler, self.training, self._rng())
        else:
            count = probe(path).frame_count  # a truncated file is a bad video here as in the cache and the check
            idx = sampler(count, self.training, self._rng())  # (V, T)
            flat = read_frames(path, idx.ravel(), frame_size=self.frame_size, backend=self.backend)
            frames = flat.reshape(*idx.shape, *flat.shape[1:])  # (V*T, H, W, 3) -> (V, T, H, W, 3)
        return frames

    def __getitem__(self, i: int):
        path, label = self.samples[i]
        try:
            frames = self.load_frames(path)
        except VideoError:
            raise
        except Exception as exc:
            raise VideoError(path, f"{type(exc).__name__}: {exc}") from exc
        if frames.shape[0] == 1:
            frames = frames[0]  # (1, T, H, W, 3) -> (T, H, W, 3)
        if self.transform is not None:
            frames = self.transform(frames)
        return frames, label


class OfficialSplitDataset(VideoClassificationDataset):
    """A dataset read from its official split files (UCF101, HMDB51): subclasses say where the videos and the
    split files are (:meth:`locate`) and how the split files read (:meth:`read_split`).

    Args:
        root: the dataset's root folder (its layout in the subclass's docstring).
        split: official split 1, 2 or 3.
        subset: "train" and "val" (group-aware 80/20 of the official train list), "trainval" (all of it) or "test".
        val_fraction: share of the train list held out for validation.
        seed: seed of the validation split.
        leaky_val: use the random (leaky) validation split, only to measure its cost.
        split_dir: split files elsewhere than the layout's.
        **loading: how samples are read: ``sampler`` (default one 16-frame clip), ``transform`` (applied to
            the uint8 frames), ``training`` (random sampling; default True for "train"/"trainval"),
            ``frame_size`` (resize on decode), ``cache`` (a FrameCache), ``backend`` (video decoder);
            see :class:`VideoClassificationDataset`.
    """

    def __init__(
        self,
        root: str | Path,
        split: int = 1,
        subset: str = "train",
        val_fraction: float = 0.2,
        seed: int = 0,
        leaky_val: bool = False,
        split_dir: str | Path | None = None,
        **loading,
    ):
        self.root = Path(root)
        video_root, split_dir = self.locate(self.root, split_dir)
        classes, entries = self.read_split(split_dir, split)
        self.split = split
        index = build_index(entries, video_root, val_fraction, seed, leaky_val)
        super().__init__(classes, index, subset, **loading)

    @staticmethod
    def locate(root: Path, split_dir: Path | None) -> tuple[Path, Path]:
        """The folder video paths in the split files are relative to, and the split folder; raises
        :class:`DatasetLayoutError` naming what is missing."""
        raise NotImplementedError

    @staticmethod
    def read_split(split_dir: Path, split: int) -> tuple[list[str], list[S.SplitEntry]]:
        """Class names in label order and the entries of one official split."""
        raise NotImplementedError


def build_index(
    entries: list[S.SplitEntry],
    video_root: Path,
    val_fraction: float,
    seed: int,
    leaky_val: bool,
) -> list[IndexRow]:
    """Assign official train entries to train/val (group-aware unless ``leaky_val``) and check presence."""
    train = [e for e in entries if e.role == "train"]
    labels = np.array([e.label for e in train])
    if leaky_val:
        _, val_idx = S.leaky_val_split(labels, val_fraction, seed)
    else:
        _, val_idx = S.group_val_split(labels, [e.group for e in train], val_fraction, seed)
    val = set(val_idx.tolist())
    rows = []
    for i, e in enumerate(train):
        path = video_root / e.relpath
        rows.append(IndexRow(path, e.label, "val" if i in val else "train", e.group, path.is_file()))
    for e in entries:
        if e.role == "test":
            path = video_root / e.relpath
            rows.append(IndexRow(path, e.label, "test", e.group, path.is_file()))
    return rows
