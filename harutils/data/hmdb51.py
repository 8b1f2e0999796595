"""HMDB51 (Kuehne et al. 2011): 6,766 clips of 51 actions cut from movies and web videos, 3 official splits.

Expected layout (the extracted official archives)::

    <root>/<class>/<source>_<class>_<tags>_<n>.avi            hmdb51_org.rar (one .rar per class, extract each)
    <root>/testTrainMulti_7030_splits/<class>_test_split<N>.txt  test_train_splits.rar (1 train, 2 test, 0 unused)
"""

from __future__ import annotations

from pathlib import Path

from . import splits as S
from .base import DatasetLayoutError, VideoClassificationDataset, build_index

WHERE = (
    "Download hmdb51_org.rar and test_train_splits.rar from "
    "https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/, extract hmdb51_org.rar, "
    "then each per-class .rar inside it, into the root (see README, 'Getting the real data')."
)


def check_root(root: Path, split_dir: Path | None = None) -> Path:
    root = Path(root)
    split_dir = Path(split_dir) if split_dir else root / S.HMDB51_SPLIT_DIR
    if not root.is_dir():
        raise DatasetLayoutError(f"HMDB51 root {root} does not exist. Expected {root}/<class>/*.avi and "
                                 f"{root}/{S.HMDB51_SPLIT_DIR}/. {WHERE}")
    if not split_dir.is_dir():
        raise DatasetLayoutError(f"HMDB51 root {root} lacks {split_dir}: expected 153 files "
                                 f"<class>_test_split{{1,2,3}}.txt. {WHERE}")
    return split_dir


class HMDB51(VideoClassificationDataset):
    """HMDB51 for one official split and subset; labels follow the sorted class names.

    Args: as :class:`~harutils.data.ucf101.UCF101`, with ``root`` the folder holding the class folders
    and ``testTrainMulti_7030_splits/``.
    """

    name = "HMDB51"

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
        split_dir = check_root(self.root, split_dir)
        classes, entries = S.read_hmdb51_split(split_dir, split)
        self.split = split
        index = build_index(entries, self.root, val_fraction, seed, leaky_val)
        super().__init__(classes, index, subset, **loading)
