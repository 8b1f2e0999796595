"""Small dataset trees written in the exact official UCF101/HMDB51 formats (CRLF, flags, names)."""

from __future__ import annotations

from pathlib import Path

from conftest import moving_square_frames

from harutils.data.encode import write_video

UCF_CLASSES = ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
HMDB_CLASSES = ["brush_hair", "climb", "wave"]


def make_ucf101(root: Path, groups: int = 6, clips: int = 2, frames: int = 12) -> Path:
    """UCF-101/<Class>/v_<Class>_gNN_cNN.avi; groups 1-2 are test, the rest train (as the official lists)."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_bytes(
        "".join(f"{i} {c}\r\n" for i, c in enumerate(UCF_CLASSES, 1)).encode()
    )
    train, test = [], []
    for label, cls in enumerate(UCF_CLASSES, 1):
        stem = "HandStandPushups" if cls == "HandstandPushups" else cls  # the official spelling quirk
        for g in range(1, groups + 1):
            for c in range(1, clips + 1):
                rel = f"{cls}/v_{stem}_g{g:02d}_c{c:02d}.avi"
                write_video(root / "UCF-101" / rel, moving_square_frames(frames, 32, 40, seed=g * 10 + c))
                (test if g <= 2 else train).append((rel, label))
    for n in (1, 2, 3):
        (lists / f"trainlist0{n}.txt").write_bytes("".join(f"{r} {lab}\r\n" for r, lab in train).encode())
        (lists / f"testlist0{n}.txt").write_bytes("".join(f"{r}\r\n" for r, _ in test).encode())
    return root


def make_hmdb51(root: Path, sources: int = 6, clips: int = 2, frames: int = 12) -> Path:
    """<class>/<source>_<class>_<tags>_<n>.avi with <class>_test_split<N>.txt (1 train, 2 test, 0 unused)."""
    split_dir = root / "testTrainMulti_7030_splits"
    split_dir.mkdir(parents=True)
    for cls in HMDB_CLASSES:
        lines = []
        for s in range(sources):
            for n in range(clips):
                name = f"Source_{s}_{cls}_f_nm_np1_fr_med_{n}.avi"
                write_video(root / cls / name, moving_square_frames(frames, 32, 40, seed=s * 10 + n), fps=30)
                flag = 2 if s < 2 else (0 if s == sources - 1 else 1)
                lines.append(f"{name} {flag} \n")
        for k in (1, 2, 3):
            (split_dir / f"{cls}_test_split{k}.txt").write_text("".join(lines))
    return root
