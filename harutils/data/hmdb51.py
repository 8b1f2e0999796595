"""HMDB51 (Kuehne et al. 2011): 6,766 clips of 51 actions cut from movies and web videos, 3 official splits.

Expected layout (the extracted official archives)::

    <root>/<class>/<source>_<class>_<tags>_<n>.avi            hmdb51_org.rar (one .rar per class, extract each)
    <root>/testTrainMulti_7030_splits/<class>_test_split<N>.txt  test_train_splits.rar (1 train, 2 test, 0 unused)
"""

from __future__ import annotations

from pathlib import Path

from . import splits as S
from .base import DatasetLayoutError, OfficialSplitDataset

WHERE = (
    "Download hmdb51_org.rar and test_train_splits.rar from "
    "https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/, extract hmdb51_org.rar, "
    "then each per-class .rar inside it, into the root (see README, 'Getting the real data')."
)


def check_root(root: Path, split_dir: Path | None = None) -> tuple[Path, Path]:
    """The video folder (the root) and the split folder of an HMDB51 root, or an error naming what is missing."""
    root = Path(root)
    split_dir = Path(split_dir) if split_dir else root / S.HMDB51_SPLIT_DIR
    if not root.is_dir():
        raise DatasetLayoutError(f"HMDB51 root {root} does not exist. Expected {root}/<class>/*.avi and "
                                 f"{root}/{S.HMDB51_SPLIT_DIR}/. {WHERE}")
    if not split_dir.is_dir():
        raise DatasetLayoutError(f"HMDB51 root {root} lacks {split_dir}: expected 153 files "
                                 f"<class>_test_split{{1,2,3}}.txt. {WHERE}")
    return root, split_dir


class HMDB51(OfficialSplitDataset):
    """HMDB51 for one official split and subset; labels follow the sorted class names.

    Args: see :class:`~harutils.data.base.OfficialSplitDataset`, with ``root`` the folder holding the class
    folders and ``testTrainMulti_7030_splits/``.
    """

    name = "HMDB51"
    locate = staticmethod(check_root)
    read_split = staticmethod(S.read_hmdb51_split)
