"""Open a dataset by name: the user's root, or the synthetic dataset in that layout when no root is given."""

from __future__ import annotations

from pathlib import Path

from .hmdb51 import HMDB51
from .synthetic import ensure_default
from .ucf101 import UCF101

DATASETS = {"ucf101": UCF101, "hmdb51": HMDB51}


def resolve_root(name: str, root: str | Path = "", data_dir: str | Path = "data", progress: bool = True) -> Path:
    """``root`` when given, else the synthetic default under ``data_dir`` (generated on first use)."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    return Path(root) if root else ensure_default(name, data_dir, progress=progress)


def open_dataset(name: str, root: str | Path = "", split: int = 1, subset: str = "train", data_dir: str | Path = "data",
                 **kwargs):
    """A :class:`UCF101` or :class:`HMDB51` subset; the synthetic default when ``root`` is empty."""
    return DATASETS[name](resolve_root(name, root, data_dir), split=split, subset=subset, **kwargs)
