"""UCF101 (Soomro, Zamir and Shah 2012): 13,320 clips of 101 actions, 25 groups per class, 3 official splits.

Expected layout (the extracted official archives)::

    <root>/UCF-101/<Class>/v_<Class>_gNN_cNN.avi           UCF101.rar
    <root>/ucfTrainTestlist/classInd.txt                   UCF101TrainTestSplits-RecognitionTask.zip
    <root>/ucfTrainTestlist/{trainlist,testlist}0{1,2,3}.txt
"""

from __future__ import annotations

from pathlib import Path

from . import splits as S
from .base import DatasetLayoutError, OfficialSplitDataset

VIDEO_DIR = "UCF-101"
WHERE = (
    "Download UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from "
    "https://www.crcv.ucf.edu/data/UCF101.php and extract both into the root "
    "(see README, 'Getting the real data')."
)


def check_root(root: Path, split_dir: Path | None = None) -> tuple[Path, Path]:
    """The video folder and the split folder of a UCF101 root, or an error naming what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetLayoutError(f"UCF101 root {root} does not exist. Expected {root}/{VIDEO_DIR}/ and "
                                 f"{root}/{S.UCF101_SPLIT_DIR}/. {WHERE}")
    video_root, split_dir = root / VIDEO_DIR, Path(split_dir) if split_dir else root / S.UCF101_SPLIT_DIR
    missing = [str(p) for p in (video_root, split_dir) if not p.is_dir()]
    if missing:
        raise DatasetLayoutError(f"UCF101 root {root} lacks {', '.join(missing)}. Expected {VIDEO_DIR}/<Class>/*.avi "
                                 f"and {S.UCF101_SPLIT_DIR}/classInd.txt, trainlist0N.txt, testlist0N.txt. {WHERE}")
    return video_root, split_dir


class UCF101(OfficialSplitDataset):
    """UCF101 for one official split and subset; labels follow ``classInd.txt``.

    Args: see :class:`~harutils.data.base.OfficialSplitDataset`, with ``root`` the folder holding ``UCF-101/``
    and ``ucfTrainTestlist/``.
    """

    name = "UCF101"
    locate = staticmethod(check_root)
    read_split = staticmethod(S.read_ucf101_split)
