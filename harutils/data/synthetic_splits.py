"""The split files of a synthetic dataset, in the exact official formats of UCF101 and HMDB51."""

from __future__ import annotations

from pathlib import Path


def test_groups(split: int, groups: int) -> set[int]:
    """Groups held out for testing in ``split``: a rotating block of about 28%, as UCF101's 7 of 25."""
    block = max(1, round(groups * 7 / 25))
    return {((split - 1) * block + i) % groups + 1 for i in range(block)}


def write_ucf101_splits(out: Path, classes, groups, clips, names) -> None:
    """``ucfTrainTestlist/``: classInd, and per split a train list with labels and a test list (CRLF)."""
    lists = out / "ucfTrainTestlist"
    lists.mkdir(parents=True, exist_ok=True)
    (lists / "classInd.txt").write_bytes("".join(f"{i} {c}\r\n" for i, c in enumerate(classes, 1)).encode())
    for split in (1, 2, 3):
        test = test_groups(split, groups)
        train_lines, test_lines = [], []
        for label, cls in enumerate(classes, 1):
            for g in range(1, groups + 1):
                for c in range(1, clips + 1):
                    rel = names[(cls, g, c)]
                    (test_lines.append(f"{rel}\r\n") if g in test else train_lines.append(f"{rel} {label}\r\n"))
        (lists / f"trainlist0{split}.txt").write_bytes("".join(train_lines).encode())
        (lists / f"testlist0{split}.txt").write_bytes("".join(test_lines).encode())


def write_hmdb51_splits(out: Path, classes, groups, clips, names) -> None:
    """``testTrainMulti_7030_splits/<class>_test_split<N>.txt``: one ``<video> <flag>`` line per video."""
    split_dir = out / "testTrainMulti_7030_splits"
    split_dir.mkdir(parents=True, exist_ok=True)
    for split in (1, 2, 3):
        test = test_groups(split, groups)
        for cls in classes:
            lines = [f"{Path(names[(cls, g, c)]).name} {2 if g in test else 1} \n"
                     for g in range(1, groups + 1) for c in range(1, clips + 1)]
            (split_dir / f"{cls}_test_split{split}.txt").write_text("".join(lines))
