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
import warnings
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


class DuplicateEntriesWarning(UserWarning):
    """A split file names a video more than once; the repeats were dropped (the message names file and videos)."""


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
    """The non-blank lines of a split file (CRLF or LF; a UTF-8 byte-order mark is dropped).

    Raises:
        SplitError: missing, not UTF-8 text, or without a single entry; naming the file and the remedy.
    """
    if not path.is_file():
        raise SplitError(f"missing split file {path}: {hint}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SplitError(f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}): "
                         f"re-save it as UTF-8 or get the official file again; {hint}") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise SplitError(f"{path} lists nothing: get the official file again; {hint}")
    return lines


def _fields(path: Path, number: int, line: str, expected: str, count: tuple[int, ...]) -> list[str]:
    """The whitespace-separated fields of one line, or an error naming the file, the line and the format."""
    parts = line.split()
    if len(parts) not in count:
        raise SplitError(f"{path}, line {number}: expected {expected!r}, got {line!r} (names with spaces are not "
                         f"official names)")
    return parts


def _unique(entries: list[SplitEntry], path: Path) -> list[SplitEntry]:
    """Drop repeated videos of one list, saying so."""
    seen, out, repeats = set(), [], []
    for e in entries:
        (repeats if e.relpath in seen else out).append(e)
        seen.add(e.relpath)
    if repeats:
        warnings.warn(f"{path} names {len(repeats)} videos more than once (first: {repeats[0].relpath}); each is "
                      f"used once", DuplicateEntriesWarning, stacklevel=3)
    return out


def check_disjoint(train: list[SplitEntry], test: list[SplitEntry], where: Path) -> None:
    """A video in both the train and the test list would inflate test accuracy: refuse it.

    Raises:
        SplitError: naming the split files and the first shared videos.
    """
    both = sorted({e.relpath for e in train} & {e.relpath for e in test})
    if both:
        raise SplitError(f"{where}: {len(both)} videos are in both the train and the test list (first: "
                         f"{', '.join(both[:3])}): they would inflate test accuracy; fix the split files or get "
                         f"the official ones again")


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
    path = split_dir / "classInd.txt"
    pairs = []
    for number, ln in enumerate(_read_lines(path, UCF101_HINT), 1):
        idx, name = _fields(path, number, ln, "<index> <ClassName>", (2,))
        if not idx.isdigit():
            raise SplitError(f"{path}, line {number}: the index {idx!r} is not a number")
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
    lists = {}
    for role, fname in (("train", f"trainlist0{split}.txt"), ("test", f"testlist0{split}.txt")):
        path = split_dir / fname
        lists[role] = _unique([_ucf101_entry(path, number, ln, label_of, role)
                               for number, ln in enumerate(_read_lines(path, UCF101_HINT), 1)], path)
    check_disjoint(lists["train"], lists["test"], split_dir / f"{{train,test}}list0{split}.txt")
    return classes, lists["train"] + lists["test"]


def _ucf101_entry(path: Path, number: int, line: str, label_of: dict[str, int], role: str) -> SplitEntry:
    parts = _fields(path, number, line, "<Class>/v_<Class>_gNN_cNN.avi [<label>]", (1, 2))
    relpath, cls = parts[0], parts[0].split("/")[0]
    if cls not in label_of:
        raise SplitError(f"{path}, line {number}: class folder {cls!r} is not in classInd.txt")
    label = label_of[cls]
    if len(parts) > 1 and (not parts[1].isdigit() or int(parts[1]) - 1 != label):
        raise SplitError(f"{path}, line {number}: label {parts[1]!r} disagrees with classInd.txt for {relpath} "
                         f"(expected {label + 1})")
    try:
        group = ucf101_group(relpath)
    except ValueError as exc:
        raise SplitError(f"{path}, line {number}: {exc}") from None
    return SplitEntry(relpath, label, role, group)


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
        for number, ln in enumerate(_read_lines(path, HMDB51_HINT), 1):
            name, flag = _fields(path, number, ln, "<video>.avi <0|1|2>", (2,))
            if flag not in ("0", "1", "2"):
                raise SplitError(f"{path}, line {number}: flag {flag!r} is not 0, 1 or 2")
            if flag == "0":
                continue
            try:
                group = hmdb51_group(name, cls)
            except ValueError as exc:
                raise SplitError(f"{path}, line {number}: {exc}") from None
            (train if flag == "1" else test).append(SplitEntry(f"{cls}/{name}", label, "train" if flag == "1"
                                                               else "test", group))
    where = split_dir / f"*_test_split{split}.txt"
    train, test = _unique(train, where), _unique(test, where)
    check_disjoint(train, test, where)
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
