"""Official UCF101/HMDB51 split files and group-aware validation splits.

UCF101 (Soomro et al. 2012) ships ``ucfTrainTestlist/`` with ``classInd.txt`` and three
``trainlist0N.txt``/``testlist0N.txt`` pairs; HMDB51 (Kuehne et al. 2011) ships
``testTrainMulti_7030_splits/<class>_test_split<N>.txt`` with one ``<video>.avi <flag>`` line per video
(1 train, 2 test, 0 unused). Lines keep the official CRLF endings and spellings
(folder ``HandstandPushups``, files ``v_HandStandPushups_*``); we never rebuild file names from class names.

A validation split cut at random from the train list leaks: UCF101's clips of one group (``gNN``) and HMDB51's
clips of one source video are near-duplicates, so validation accuracy then overstates test accuracy.
:func:`group_val_split` keeps each group on one side; :func:`leaky_val_split` exists only to measure the cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UCF101_SPLIT_DIR = "ucfTrainTestlist"
HMDB51_SPLIT_DIR = "testTrainMulti_7030_splits"
SUBSETS = ("train", "val", "test", "trainval")

_UCF_GROUP = re.compile(r"_g(\d+)_c(\d+)\.avi$", re.IGNORECASE)
# HMDB51 names: <source>_<class>_<body>_<camera>_<people>_<view>_<quality>_<n>.avi
_HMDB_TAGS = r"[a-z]+_(?:cm|nm)_np\d+_(?:fr|ba|le|ri)_(?:bad|med|goo)_\d+\.avi$"


class SplitError(FileNotFoundError):
    """A split file or folder is missing or malformed; the message names the file and what was expected."""


@dataclass(frozen=True)
class SplitEntry:
    """One video named by a split file.

    Attributes:
        relpath: path relative to the video root, as written in the split file (``Class/v_...avi``).
        label: integer class label.
        role: ``"train"`` or ``"test"`` in the official split.
        group: the source the clip was cut from (UCF101 ``gNN``; HMDB51 source video name).
    """

    relpath: str
    label: int
    role: str
    group: str


def check_split(split: int) -> int:
    if split not in (1, 2, 3):
        raise ValueError(f"split must be 1, 2 or 3, got {split!r}")
    return split


def _read_lines(path: Path, hint: str) -> list[str]:
    if not path.is_file():
        raise SplitError(f"missing split file {path}: {hint}")
    # Official files use CRLF; strip both kinds and skip blank lines.
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


UCF101_HINT = (
    "expected <root>/ucfTrainTestlist/{classInd,trainlist01..03,testlist01..03}.txt from "
    "UCF101TrainTestSplits-RecognitionTask.zip (https://www.crcv.ucf.edu/data/UCF101.php)"
)
HMDB51_HINT = (
    "expected <root>/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt (153 files) from "
    "test_train_splits.rar (https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/)"
)


def ucf101_group(filename: str) -> str:
    """UCF101 group of a clip: ``v_Class_g08_c01.avi`` -> ``Class_g08`` (clips of one group share actor and scene)."""
    name = Path(filename).name
    m = _UCF_GROUP.search(name)
    if m is None or not name.startswith("v_"):
        raise ValueError(f"not a UCF101 clip name (expected v_<Class>_gNN_cNN.avi): {filename}")
    cls = name[2 : m.start()]  # drop "v_"
    return f"{cls.lower()}_g{m.group(1)}"


def hmdb51_group(filename: str, class_name: str) -> str:
    """HMDB51 source video of a clip: the name before ``_<class>_<tags>_<n>.avi``."""
    name = Path(filename).name
    m = re.search(rf"_{re.escape(class_name)}_{_HMDB_TAGS}", name)
    if m is None:
        # A few official names have irregular tags; fall back to the last "_<class>_".
        idx = name.rfind(f"_{class_name}_")
        if idx <= 0:
            raise ValueError(f"cannot find the source video in HMDB51 name {name!r} (class {class_name!r})")
        return name[:idx]
    return name[: m.start()]


def ucf101_classes(split_dir: Path) -> list[str]:
    """Class names in ``classInd.txt`` order (label 0 is classInd 1)."""
    lines = _read_lines(split_dir / "classInd.txt", UCF101_HINT)
    pairs = []
    for ln in lines:
        idx, name = ln.split()
        pairs.append((int(idx), name))
    pairs.sort()
    if [i for i, _ in pairs] != list(range(1, len(pairs) + 1)):
        raise SplitError(f"{split_dir / 'classInd.txt'}: indices are not 1..{len(pairs)}")
    return [n for _, n in pairs]


def read_ucf101_split(split_dir: Path | str, split: int = 1) -> tuple[list[str], list[SplitEntry]]:
    """Parse UCF101's classInd and train/test lists for one split.

    Returns:
        (classes, entries): class names in label order; one entry per listed video, train entries first.
    """
    split_dir = Path(split_dir)
    check_split(split)
    if not split_dir.is_dir():
        raise SplitError(f"missing split folder {split_dir}: {UCF101_HINT}")
    classes = ucf101_classes(split_dir)
    label_of = {c: i for i, c in enumerate(classes)}
    entries: list[SplitEntry] = []
    for role, fname in (("train", f"trainlist0{split}.txt"), ("test", f"testlist0{split}.txt")):
        for ln in _read_lines(split_dir / fname, UCF101_HINT):
            relpath = ln.split()[0]
            cls = relpath.split("/")[0]
            if cls not in label_of:
                raise SplitError(f"{split_dir / fname}: class folder {cls!r} is not in classInd.txt")
            label = label_of[cls]
            parts = ln.split()
            if len(parts) > 1 and int(parts[1]) - 1 != label:
                raise SplitError(f"{split_dir / fname}: label {parts[1]} disagrees with classInd for {relpath}")
            entries.append(SplitEntry(relpath, label, role, ucf101_group(relpath)))
    return classes, entries


def hmdb51_classes(split_dir: Path) -> list[str]:
    """Class names, sorted (HMDB51's conventional label order), from the split file names."""
    if not split_dir.is_dir():
        raise SplitError(f"missing split folder {split_dir}: {HMDB51_HINT}")
    names = sorted({p.name.rsplit("_test_split", 1)[0] for p in split_dir.glob("*_test_split[123].txt")})
    if not names:
        raise SplitError(f"no <class>_test_split<N>.txt files in {split_dir}: {HMDB51_HINT}")
    return names


def read_hmdb51_split(split_dir: Path | str, split: int = 1) -> tuple[list[str], list[SplitEntry]]:
    """Parse HMDB51's per-class split files for one split (flag 1 train, 2 test, 0 unused).

    Returns:
        (classes, entries): sorted class names; one entry per train/test video, train entries first.
    """
    split_dir = Path(split_dir)
    check_split(split)
    classes = hmdb51_classes(split_dir)
    train, test = [], []
    for label, cls in enumerate(classes):
        path = split_dir / f"{cls}_test_split{split}.txt"
        for ln in _read_lines(path, HMDB51_HINT):
            parts = ln.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise SplitError(f"{path}: malformed line {ln!r} (expected '<video>.avi <0|1|2>')")
            name, flag = parts
            if flag == "0":
                continue
            entry = SplitEntry(f"{cls}/{name}", label, "train" if flag == "1" else "test", hmdb51_group(name, cls))
            (train if flag == "1" else test).append(entry)
    return classes, train + test


def hmdb51_class_videos(split_dir: Path | str, class_name: str) -> list[str]:
    """Every video of an HMDB51 class, whatever its flag, from its split-1 file."""
    path = Path(split_dir) / f"{class_name}_test_split1.txt"
    return [ln.split()[0] for ln in _read_lines(path, HMDB51_HINT)]


def group_val_split(labels: np.ndarray, groups: list[str], val_fraction: float = 0.2, seed: int = 0):
    """Split train indices into train/val, stratified by class, with no group on both sides.

    Classes are visited in a seeded random order; each class moves whole groups, in a seeded random order,
    to validation while that brings its validation share closer to ``val_fraction`` (at least one group when
    it has two or more). A group already placed by an earlier class (an HMDB51 movie spans classes) keeps its
    side. Unlike k-fold group splitters this works for small classes and never drops a class from validation.

    Args:
        labels: (N,) integer labels of the official train list.
        groups: N group names (clips of one group always fall on the same side).
        val_fraction: share of each class's clips held out, e.g. 0.2 for the 80/20 split.
        seed: makes the split reproducible.

    Returns:
        (train_idx, val_idx): sorted integer arrays.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    if len(groups) != len(labels):
        raise ValueError(f"{len(labels)} labels but {len(groups)} groups")
    rng = np.random.default_rng(seed)
    in_val: dict[str, bool] = {}
    for cls in rng.permutation(np.unique(labels)):
        names, counts = np.unique(groups[labels == cls], return_counts=True)
        size = dict(zip(names.tolist(), counts.tolist(), strict=False))
        target = val_fraction * counts.sum()
        current = sum(n for g, n in size.items() if in_val.get(g))
        free = [g for g in rng.permutation(names).tolist() if g not in in_val]
        for g in free:
            closer = abs(current + size[g] - target) <= abs(current - target)
            first = current == 0 and len(size) > 1
            in_val[g] = current < target and (closer or first)
            current += size[g] if in_val[g] else 0
    val_mask = np.array([in_val[g] for g in groups.tolist()])
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)


def leaky_val_split(labels: np.ndarray, val_fraction: float = 0.2, seed: int = 0):
    """The naive random stratified split (clips of one group on both sides). Only for measuring the leak."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train_idx, val_idx = train_test_split(idx, test_size=val_fraction, stratify=labels, random_state=seed)
    return np.sort(train_idx), np.sort(val_idx)
