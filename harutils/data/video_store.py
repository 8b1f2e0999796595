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
- all frames kept: random clip starts and random frames per segment are drawn afresh each epoch, as from the video;
- an original that a copy would not read faster is not copied (:func:`serves_as_is`: exact seeks with keyframes
  at most 16 frames apart, already within the store's side): its entry is a note of its facts and reads decode it
  in place. Most UCF101 clips qualify for the 256 px store (7 of the 11 fixture clips; their XviD decodes faster
  than H.264), no HMDB51 clip does.

Candidates measured on the real fixture clips (``benchmarks/bench_frame_store.py``, ``frame_store_cpu.json``):
this store, JPEG frames per video (MMAction2's rawframes: about three times the bytes per frame at the same
resolution, so UCF101 + HMDB51 would not fit in 25 GB) and the originals. Keys, atomic writes and the resumable
parallel build are every store's (:mod:`harutils.data.store`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from .encode import STORE_CODEC, STORE_GOP, STORE_OPTIONS, write_video
from .resize import resize_frames
from .sampling import FrameSampler
from .store import CacheReport, FrameStore, video_paths, write_atomically
from .video import VideoInfo, probe, read_frames

STORE_VERSION = 1
STORE_SIDES = (128, 256)  # the shorter sides stores are kept at (at most; smaller videos keep their own)


def store_side(frame_size: int | tuple[int, int] | None) -> int:
    """The shorter side of the store a run that reads frames at ``frame_size`` uses: the smallest of
    :data:`STORE_SIDES` not below it (for ``(h, w)``, below either side); the largest for None or anything larger,
    whose frames are then scaled up on read."""
    needed = max(frame_size) if isinstance(frame_size, list | tuple) else frame_size
    return next((side for side in STORE_SIDES if needed is not None and side >= needed), STORE_SIDES[-1])


def serves_as_is(info: VideoInfo, max_side: int) -> bool:
    """Whether an original video reads as well as a store copy would: exact seeks with keyframes at most
    :data:`STORE_GOP` frames apart, no side to shrink or trim, no rotation. Most UCF101 clips qualify for the
    256 px store (XviD, 320x240, a keyframe every 12 frames), and decode faster than an H.264 copy."""
    copy_would_change_it = min(info.width, info.height) > max_side or info.width % 2 or info.height % 2
    if not info.keyframes or info.rotation or copy_would_change_it:
        return False
    bounds = (*info.keyframes, info.frame_count)
    return max(b - a for a, b in zip(bounds, bounds[1:], strict=False)) <= STORE_GOP


class VideoStore(FrameStore):
    """Short-GOP H.264 copies of the videos, read with exact seeks and resized to ``frame_size`` on read; an
    original that already reads as well (:func:`serves_as_is`) is kept and read in place, its entry a note of
    its facts (no copy, no disk).

    Args:
        root: store folder (one per dataset and store side, shared by every model and recipe).
        frame_size: the shorter side (int) or ``(h, w)`` frames are resized to as they are read; None: as stored.
        max_side: frames whose shorter side exceeds this are stored at this shorter side.
        backend: decoder of the original videos when building.
        keep_originals: read the originals that :func:`serves_as_is` in place; False copies every video.
    """

    suffix = ".mp4"
    kept_suffix = ".original.json"
    kind = "video store"

    def __init__(self, root: str | Path, frame_size: int | tuple[int, int] | None = None, max_side: int = 256,
                 backend: str | None = None, keep_originals: bool = True):
        self.frame_size = tuple(frame_size) if isinstance(frame_size, list | tuple) else frame_size
        self.max_side = max_side
        self.backend = backend
        self.keep_originals = keep_originals
        options = json.dumps(STORE_OPTIONS, sort_keys=True)
        super().__init__(root, f"v{STORE_VERSION}|{STORE_CODEC}|{options}|max_side={max_side}|"
                               f"keep_originals={keep_originals}")

    def kept_path(self, video: str | Path) -> Path:
        """Where the note of a video kept as the original would be."""
        return self.entry_path(video).with_suffix(self.kept_suffix)

    def has(self, video: str | Path) -> bool:
        copy = self.entry_path(video)
        return copy.is_file() or copy.with_suffix(self.kept_suffix).is_file()

    def entry_bytes(self, video: str | Path) -> int:
        copy = self.entry_path(video)
        return copy.stat().st_size if copy.is_file() else 0  # a kept original takes no space of the store's

    def build(self, videos, workers: int | None = None, progress: bool = True) -> CacheReport:
        report = super().build(videos, workers, progress)
        report.kept = sum(self.kept_path(p).is_file() for p in video_paths(videos))
        return report

    def _encode(self, video: Path, info: VideoInfo, out: Path) -> None:
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
        """The file a read decodes (the copy, or the kept original) and its facts."""
        path = self.entry_path(video)  # one key computation per read: the file's stat and a hash
        if path.is_file():
            return path, stored_info(str(path), path.stat().st_mtime_ns)
        kept = path.with_suffix(self.kept_suffix)
        if kept.is_file():
            return video, kept_info(str(kept), kept.stat().st_mtime_ns)
        if not build:
            raise KeyError(f"{video} is not in the video store {self.root}")
        info = probe(video)  # a truncated file is a bad video here as everywhere
        if self.keep_originals and serves_as_is(info, self.max_side):
            write_atomically(kept, lambda tmp: tmp.write_text(json.dumps(dataclasses.asdict(info))),
                             suffix=".tmp.json", kind=self.kind)
            return video, info
        write_atomically(path, lambda tmp: self._encode(video, info, tmp), suffix=".tmp.mp4", kind=self.kind)
        return path, stored_info(str(path), path.stat().st_mtime_ns)

    def read(self, video: str | Path, sampler: FrameSampler, training: bool,
             rng: np.random.Generator | None = None) -> torch.Tensor:
        """Sampled frames of a video from the store, resized to ``frame_size``: (V, T, h, w, 3) uint8."""
        path, info = self._entry(Path(video))
        idx = sampler(info.frame_count, training, rng)  # (V, T)
        flat = read_frames(path, idx.ravel(), frame_size=self.frame_size, backend="pyav", info=info)
        return flat.reshape(*idx.shape, *flat.shape[1:])  # (V*T, h, w, 3) -> (V, T, h, w, 3)


@functools.lru_cache(maxsize=65536)
def kept_info(note: str, mtime_ns: int) -> VideoInfo:
    """The facts of a kept original, as its note recorded them when the store was built."""
    fields = json.loads(Path(note).read_text())
    return VideoInfo(**{**fields, "keyframes": tuple(fields["keyframes"])})


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
