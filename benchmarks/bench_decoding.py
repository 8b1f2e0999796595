"""Decoding and frame-cache speed on the real fixture clips (../shared/fixtures).

Measures clips per second for reading one centred 16-frame clip and five uniform frames with decord, PyAV and
OpenCV (decode everything, keep what is asked: OpenCV has no reliable seeking in AVIs), and the time of one
training epoch of reading (random 16-frame clips at 112 px) from the videos against from the frame cache.

    .venv/bin/python benchmarks/bench_decoding.py [--repeats 3] [--out benchmarks/results/decoding.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from harutils import results
from harutils.data.cache import FrameCache
from harutils.data.sampling import Clip, UniformFrames
from harutils.data.video import probe, read_frames

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def opencv_read(path: Path, indices: np.ndarray) -> np.ndarray:
    """Decode every frame with OpenCV up to the last index, checking every read (OpenCV never raises)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    wanted, out = set(indices.tolist()), {}
    try:
        for i in range(int(indices.max()) + 1):
            ok, frame = cap.read()
            if not ok:
                raise RuntimeError(f"{path}: OpenCV read failed at frame {i}")
            if i in wanted:
                out[i] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    return np.stack([out[i] for i in indices.tolist()])


def clips_per_second(paths, counts, sampler, reader, repeats) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        for path, n in zip(paths, counts, strict=False):
            reader(path, sampler(n, training=False).ravel())
    return repeats * len(paths) / (time.perf_counter() - start)


def epoch_seconds(paths, counts, cache: FrameCache | None, size: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    sampler = Clip(16)
    start = time.perf_counter()
    for path, n in zip(paths, counts, strict=False):
        if cache is None:
            read_frames(path, sampler(n, True, rng).ravel(), frame_size=size)
        else:
            cache.read(path, sampler, True, rng)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "decoding.json")
    args = parser.parse_args(argv)
    paths = sorted(FIXTURES.glob("*/**/*.avi"))
    if not paths:
        print(f"no fixture clips under {FIXTURES}", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    counts = [probe(p).frame_count for p in paths]
    readers = {
        "decord": lambda p, i: read_frames(p, i, backend="decord"),
        "pyav": lambda p, i: read_frames(p, i, backend="pyav"),
        "opencv_decode_all": opencv_read,
    }
    samplers = {"clip16": Clip(16), "uniform5": UniformFrames(5)}
    figures = {"clips_per_second": {}}
    for sname, sampler in samplers.items():
        for rname, reader in readers.items():
            reader(paths[0], sampler(counts[0]).ravel())  # warm up
            cps = clips_per_second(paths, counts, sampler, reader, args.repeats)
            figures["clips_per_second"][f"{sname}/{rname}"] = round(cps, 1)
            print(f"{sname:9s} {rname:18s} {cps:7.1f} clips/s")
    with tempfile.TemporaryDirectory() as tmp:
        cache = FrameCache(tmp, frame_size=112)
        t0 = time.perf_counter()
        report = cache.build(paths, workers=1, progress=False)
        build = time.perf_counter() - t0
        video_epoch = min(epoch_seconds(paths, counts, None, 112, s) for s in range(args.repeats))
        cache_epoch = min(epoch_seconds(paths, counts, cache, 112, s) for s in range(args.repeats))
        size_mb = sum(f.stat().st_size for f in Path(tmp).rglob("*.npy")) / 2**20
    figures["epoch_of_random_16_frame_clips_at_112px"] = {
        "videos": len(paths),
        "from_videos_s": round(video_epoch, 4),
        "from_cache_s": round(cache_epoch, 4),
        "speedup": round(video_epoch / cache_epoch, 1),
        "cache_build_s_one_process": round(build, 2),
        "cache_mb": round(size_mb, 1),
        "cache_report": str(report),
    }
    print(json.dumps(figures["epoch_of_random_16_frame_clips_at_112px"], indent=1))
    results.write_benchmark(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
