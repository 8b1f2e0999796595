"""The video store: every video decoded once and re-encoded as a short-GOP H.264 MP4, which training then reads.

The full profile's frame-extraction step (notebook 02). Decoding a training clip from the original videos means
decoding from the first frame (HMDB51's DivX streams allow no exact seek; many UCF101 clips have one keyframe), so
eight DataLoader workers kept an H200 waiting for data 54-72% of each step. The store re-encodes each video once:

- at the source resolution with the shorter side capped at one of :data:`STORE_SIDES`: a run reads the smallest
  store at least as large as its ``frame_size`` (:func:`store_side`), and frames are resized to the run's
  ``frame_size`` as they are read, exactly as when decoding the original. Two stores serve every model and both
  recipes: 256 px for the 224-256 px models (UCF101's and HMDB51's 240-line videos are kept at their resolution),
  128 px for C3D's 112-128 px clips, which then decode, convert and resize about a third of the pixels;
- H.264 with a keyframe every 16 frames and no B-frames (:data:`~harutils.data.encode.STORE_OPTIONS`), so a read
  seeks to the keyframe before each run of wanted frames and decodes at most 15 frames it does not need; every
  decoded frame's presentation time is checked (:mod:`harutils.data.seeking`);
- all frames kept: random clip starts and random frames per segment are drawn afresh each epoch, as from the video.

Candidates measured on the real fixture clips (``benchmarks/bench_frame_store.py``, ``frame_store_cpu.json``):
this store, JPEG frames per video (MMAction2's rawframes: about three times the bytes per frame at the same
resolution, so UCF101 + HMDB51 would not fit in 25 GB) and the originals. Keys, atomic writes and the resumable
parallel build are every store's (:mod:`harutils.data.store`).
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from .encode import STORE_CODEC, STORE_GOP, STORE_OPTIONS, write_video
from .resize import resize_frames
from .sampling import FrameSampler
from .store import FrameStore, write_atomically
from .video import VideoInfo, probe, read_frames

STORE_VERSION = 1
STORE_SIDES = (128, 256)  # the shorter sides stores are kept at (at most; smaller videos keep their own)


def store_side(frame_size: int | tuple[int, int] | None) -> int:
    """The shorter side of the store a run that reads frames at ``frame_size`` uses: the smallest of
    :data:`STORE_SIDES` not below it (for ``(h, w)``, below either side); the largest for None or anything larger,
    whose frames are then scaled up on read."""
    needed = max(frame_size) if isinstance(frame_size, list | tuple) else frame_size
    return next((side for side in STORE_SIDES if needed is not None and side >= needed), STORE_SIDES[-1])


class VideoStore(FrameStore):
    """Short-GOP H.264 copies of the videos, read with exact seeks and resized to ``frame_size`` on read.

    Args:
        root: store folder (one per dataset, shared by every model and recipe).
        frame_size: the shorter side (int) or ``(h, w)`` frames are resized to as they are read; None: as stored.
        max_side: frames whose shorter side exceeds this are stored at this shorter side.
        backend: decoder of the original videos when building.
    """

    suffix = ".mp4"
    kind = "video store"

    def __init__(self, root: str | Path, frame_size: int | tuple[int, int] | None = None, max_side: int = 256,
                 backend: str | None = None):
        self.frame_size = tuple(frame_size) if isinstance(frame_size, list | tuple) else frame_size
        self.max_side = max_side
        self.backend = backend
        options = json.dumps(STORE_OPTIONS, sort_keys=True)
        super().__init__(root, f"v{STORE_VERSION}|{STORE_CODEC}|{options}|max_side={max_side}")

    def _encode(self, video: Path, out: Path) -> None:
        info = probe(video)  # a truncated file is a bad video here as everywhere
        frames = read_frames(video, np.arange(info.frame_count), backend=self.backend)
        h, w = frames.shape[1:3]
        if min(h, w) > self.max_side:
            frames = resize_frames(frames, self.max_side)
            h, w = frames.shape[1:3]
        if h % 2 or w % 2:  # yuv420p needs even sides: drop the odd last row or column
            frames = frames[:, : h - h % 2, : w - w % 2]
        fps = Fraction(info.fps or 25.0).limit_denominator(1001)
        write_video(out, frames, fps=fps, codec=STORE_CODEC, fourcc=None, options=STORE_OPTIONS)
        stored = stored_info(str(out), out.stat().st_mtime_ns)
        if stored.frame_count != info.frame_count:
            raise RuntimeError(f"{out}: stored {stored.frame_count} frames of {video}'s {info.frame_count}")

    def load(self, video: str | Path, build: bool = True) -> VideoInfo:
        """What the store holds of a video (frame count, keyframes), encoding it first on a miss when ``build``."""
        return self._entry(Path(video), build)[1]

    def _entry(self, video: Path, build: bool = True) -> tuple[Path, VideoInfo]:
        path = self.entry_path(video)  # one key computation per read: the file's stat and a hash
        if not path.is_file():
            if not build:
                raise KeyError(f"{video} is not in the video store {self.root}")
            write_atomically(path, lambda tmp: self._encode(video, tmp), suffix=".tmp.mp4", kind=self.kind)
        return path, stored_info(str(path), path.stat().st_mtime_ns)

    def read(self, video: str | Path, sampler: FrameSampler, training: bool,
             rng: np.random.Generator | None = None) -> torch.Tensor:
        """Sampled frames of a video from the store, resized to ``frame_size``: (V, T, h, w, 3) uint8."""
        path, info = self._entry(Path(video))
        idx = sampler(info.frame_count, training, rng)  # (V, T)
        flat = read_frames(path, idx.ravel(), frame_size=self.frame_size, backend="pyav", info=info)
        return flat.reshape(*idx.shape, *flat.shape[1:])  # (V*T, h, w, 3) -> (V, T, h, w, 3)


@functools.lru_cache(maxsize=65536)
def stored_info(path: str, mtime_ns: int) -> VideoInfo:
    """A stored video's facts from its header: the store wrote every frame, a keyframe every STORE_GOP frames."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        count, fps = int(stream.frames), float(stream.average_rate)
        width, height = stream.codec_context.width, stream.codec_context.height
    return VideoInfo(count, fps, width, height, count / fps, count, STORE_CODEC, 0,
                     tuple(range(0, count, STORE_GOP)))
