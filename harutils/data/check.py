"""Verify an extracted UCF101 or HMDB51 tree and say precisely what is wrong.

Usage::

    python -m harutils.data.check ucf101 ROOT [--no-decode] [--workers N]
    python -m harutils.data.check hmdb51 ROOT

Checks the folders, the split files of all three splits, the classes, the videos per class (on disk against
the split files), stray files, and (unless ``--no-decode``) that every video decodes. Exits 0 when the tree is
complete and readable, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

from . import splits as S
from .base import DatasetLayoutError
from .datasets import DATASETS
from .manifest import probe_row
from .parallel import map_with_progress

EXPECTED = {"ucf101": {"classes": 101, "videos": 13320}, "hmdb51": {"classes": 51, "videos": 6766}}


def _listed(name: str, root: Path) -> tuple[list[str], dict[str, int], Path]:
    """Classes, videos named by any split (relpath -> label) and the video root."""
    dataset = DATASETS[name]
    video_root, split_dir = dataset.locate(root, None)
    read = dataset.read_split
    listed: dict[str, int] = {}
    classes: list[str] = []
    for split in (1, 2, 3):
        classes, entries = read(split_dir, split)
        listed.update({e.relpath: e.label for e in entries})
    if name == "hmdb51":  # every split file lists all of its class's videos, unused ones with flag 0
        listed.update({f"{c}/{v}": i for i, c in enumerate(classes) for v in S.hmdb51_class_videos(split_dir, c)})
    return classes, listed, video_root


def check_tree(name: str, root: str | Path, decode: bool = True, workers: int | None = None) -> list[str]:
    """Problems found in a dataset tree (empty when it is complete and every video decodes)."""
    if name not in EXPECTED:
        raise ValueError(f"dataset must be 'ucf101' or 'hmdb51', got {name!r}")
    root = Path(root)
    try:
        with warnings.catch_warnings(record=True) as repeats:
            warnings.simplefilter("always", S.DuplicateEntriesWarning)
            classes, listed, video_root = _listed(name, root)
    except (DatasetLayoutError, S.SplitError) as exc:
        return [str(exc)]
    problems = [str(w.message) for w in repeats if issubclass(w.category, S.DuplicateEntriesWarning)]
    want = EXPECTED[name]
    if len(classes) != want["classes"]:
        problems.append(f"{len(classes)} classes in the split files, expected {want['classes']}")
    if len(listed) != want["videos"]:
        problems.append(f"the split files name {len(listed)} videos, expected {want['videos']}")
    absent = [cls for cls in classes if not (video_root / cls).is_dir()]
    if absent:
        problems.append(f"{len(absent)} class folders missing in {video_root}: {', '.join(absent[:8])}"
                        + (", ..." if len(absent) > 8 else ""))
    on_disk = {str(p.relative_to(video_root)) for p in video_root.glob("*/*.avi")}
    missing = sorted(set(listed) - on_disk)
    stray = sorted(on_disk - set(listed))
    if missing:
        per_class = Counter(m.split("/")[0] for m in missing)
        worst = ", ".join(f"{c}: {n}" for c, n in per_class.most_common(5))
        problems.append(f"{len(missing)} videos named by the splits are not on disk (by class: {worst}); "
                        f"first: {', '.join(missing[:3])}")
    if stray:
        problems.append(f"{len(stray)} .avi files on disk are in no split file; first: {', '.join(stray[:3])}")
    if decode:
        present = [str(video_root / r) for r in sorted(set(listed) & on_disk)]
        bad = [row for row in map_with_progress(probe_row, present, workers, "decoding", True)
               if row["status"] != "ok"]
        for row in sorted(bad, key=lambda r: r["path"]):
            problems.append(f"unreadable video {row['path']}: {row['status']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harutils.data.check", description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=sorted(EXPECTED))
    parser.add_argument("root", type=Path)
    parser.add_argument("--no-decode", action="store_true", help="skip decoding every video")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    problems = check_tree(args.dataset, args.root, decode=not args.no_decode, workers=args.workers)
    if not problems:
        print(f"{args.dataset} at {args.root}: complete, every video readable")
        return 0
    print(f"{args.dataset} at {args.root}: {len(problems)} problem(s)")
    for p in problems:
        print(f"- {p}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
