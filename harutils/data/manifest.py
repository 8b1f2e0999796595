"""The manifest: one CSV row per video with its split role, group and decoded properties.

Exploration, bad-file reports and the check command read it instead of decoding again. Rows are cached by
file identity (size, mtime): a rescan decodes only new or changed videos.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .parallel import map_with_progress
from .video import VideoError, probe

COLUMNS = [
    "path", "class", "label", "role", "group", "present", "status",
    "frames", "fps", "width", "height", "duration", "size_bytes", "mtime_ns",
]


def probe_row(path: str) -> dict:
    """One video's manifest fields; ``status`` is "ok" or the cause it cannot be read."""
    p = Path(path)
    row = {"path": path, "status": "ok", "frames": 0, "fps": 0.0, "width": 0, "height": 0, "duration": 0.0}
    try:
        st = p.stat()
        row.update(size_bytes=st.st_size, mtime_ns=st.st_mtime_ns)
        info = probe(p)
        row.update(frames=info.frame_count, fps=info.fps, width=info.width, height=info.height,
                   duration=info.duration)
    except VideoError as exc:
        row["status"] = exc.cause
    except OSError as exc:
        row["status"] = f"{type(exc).__name__}: {exc}"
    return row


def scan(dataset, out: str | Path | None = None, workers: int | None = None, progress: bool = True) -> pd.DataFrame:
    """Describe every video of a dataset's split (all roles), probing each file once.

    Args:
        dataset: a UCF101/HMDB51 dataset (its ``index`` covers train, val and test).
        out: CSV to read cached rows from and write the result to (None: no file).
        workers: processes for probing (default: all cores).
        progress: show a progress bar.

    Returns:
        DataFrame with columns ``COLUMNS``; ``status`` is "ok", "missing" or the decode error's cause.
    """
    rows = []
    cached: dict[str, dict] = {}
    if out is not None and Path(out).is_file():
        cached = {r["path"]: r for r in pd.read_csv(out, keep_default_na=False).to_dict("records")}
    to_probe = []
    for r in dataset.index:
        base = {"path": str(r.path), "class": dataset.classes[r.label], "label": r.label, "role": r.role,
                "group": r.group, "present": r.present}
        rows.append(base)
        if not r.present:
            base.update(status="missing", frames=0, fps=0.0, width=0, height=0, duration=0.0,
                        size_bytes=0, mtime_ns=0)
            continue
        st = r.path.stat()
        old = cached.get(str(r.path))
        if old is not None and int(old["size_bytes"]) == st.st_size and int(old["mtime_ns"]) == st.st_mtime_ns:
            base.update({k: old[k] for k in ("status", "frames", "fps", "width", "height", "duration",
                                              "size_bytes", "mtime_ns")})
        else:
            to_probe.append(str(r.path))
    probed = {row["path"]: row for row in map_with_progress(probe_row, to_probe, workers, "probing videos", progress)}
    for base in rows:
        if base["path"] in probed:
            base.update(probed[base["path"]])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
    return frame


def bad_files(manifest: pd.DataFrame) -> pd.DataFrame:
    """Rows of present videos that do not decode."""
    return manifest[(manifest["present"]) & (manifest["status"] != "ok")]
