"""UCF101 (Soomro, Zamir and Shah 2012): 13,320 clips of 101 actions, 25 groups per class, 3 official splits.

Expected layout (the extracted official archives)::

    <root>/UCF-101/<Class>/v_<Class>_gNN_cNN.avi           UCF101.rar
    <root>/ucfTrainTestlist/classInd.txt                   UCF101TrainTestSplits-RecognitionTask.zip
    <root>/ucfTrainTestlist/{trainlist,testlist}0{1,2,3}.txt
"""

from __future__ import annotations

from pathlib import Path

from . import splits as S
from .base import DatasetLayoutError, VideoClassificationDataset, build_index

VIDEO_DIR = "UCF-101"
WHERE = (
    "Download UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from "
    "https://www.crcv.ucf.edu/data/UCF101.php and extract both into the root "
    "(see README, 'Getting the real data')."
)


def check_root(root: Path, split_dir: Path | None = None) -> tuple[Path, Path]:
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


class UCF101(VideoClassificationDataset):
    """UCF101 for one official split and subset.

    Args:
        root: folder holding ``UCF-101/`` and ``ucfTrainTestlist/``.
        split: official split 1, 2 or 3.
        subset: "train" and "val" (group-aware 80/20 of the official train list), "trainval" (all of it) or "test".
        val_fraction: share of the train list held out for validation.
        seed: seed of the validation split.
        leaky_val: use the random (leaky) validation split, only to measure its cost.
        split_dir: split files elsewhere than ``root/ucfTrainTestlist``.
        **loading: how samples are read: ``sampler`` (default one 16-frame clip), ``transform`` (applied to
            the uint8 frames), ``training`` (random sampling; default True for "train"/"trainval"),
            ``frame_size`` (resize on decode), ``cache`` (a FrameCache), ``backend`` (video decoder);
            see :class:`~harutils.data.base.VideoClassificationDataset`.
    """

    name = "UCF101"

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
        video_root, split_dir = check_root(self.root, split_dir)
        classes, entries = S.read_ucf101_split(split_dir, split)
        self.split = split
        index = build_index(entries, video_root, val_fraction, seed, leaky_val)
        super().__init__(classes, index, subset, **loading)
