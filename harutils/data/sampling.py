"""Frame sampling strategies of the reference report, as pure index functions.

Each sampler maps a video's frame count to a ``(views, T)`` int64 array of frame indices:

- :class:`UniformFrames` (Late Fusion, LRCN): one frame per equal segment.
- :class:`Clip` (C3D, I3D, Non-local): one clip of consecutive (strided) frames.
- :class:`MultiClip` (evaluation of clip models): ``k`` clips spread evenly over the video.

Training mode draws positions at random from the given generator; evaluation mode is deterministic.

Policy for videos shorter than a clip needs (``short``):
``"loop"`` (default, as the C3D and I3D reference loaders do) runs the clip on from frame 0 when it reaches
the end, as many times as needed; ``"repeat_last"`` holds the last frame instead, so indices stay ordered.
Uniform sampling of a video with fewer frames than segments repeats frames in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

ShortPolicy = Literal["loop", "repeat_last"]


class FrameSampler(Protocol):
    num_views: int
    frames_per_view: int

    def __call__(
        self, num_frames: int, training: bool = False, rng: np.random.Generator | None = None
    ) -> np.ndarray: ...


def _check_num_frames(num_frames: int) -> None:
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={num_frames}")


def _clip_indices(start: int, length: int, stride: int, num_frames: int, short: ShortPolicy) -> np.ndarray:
    idx = start + np.arange(length) * stride
    if idx[-1] < num_frames:
        return idx
    if short == "loop":
        return idx % num_frames
    if short == "repeat_last":
        return np.minimum(idx, num_frames - 1)
    raise ValueError(f"short must be 'loop' or 'repeat_last', got {short!r}")


@dataclass(frozen=True)
class UniformFrames:
    """``n`` frames, one per equal segment: random inside the segment for training, its centre for evaluation.

    Args:
        n: number of frames (5 in the reference report).
    """

    n: int = 5

    @property
    def num_views(self) -> int:
        return 1

    @property
    def frames_per_view(self) -> int:
        return self.n

    def __call__(self, num_frames: int, training: bool = False, rng: np.random.Generator | None = None):
        _check_num_frames(num_frames)
        edges = np.floor(np.linspace(0, num_frames, self.n + 1)).astype(np.int64)
        lo = edges[:-1]
        hi = np.maximum(edges[1:], lo + 1)  # a segment shorter than one frame keeps its first frame
        if training:
            rng = rng or np.random.default_rng()
            idx = lo + np.floor(rng.random(self.n) * (hi - lo)).astype(np.int64)
        else:
            idx = (lo + hi) // 2
        idx = np.minimum(idx, num_frames - 1)
        return idx[None]  # (1, n)


@dataclass(frozen=True)
class Clip:
    """One clip of ``length`` frames every ``stride`` frames: random start for training, centred for evaluation.

    Args:
        length: frames per clip (16 for C3D).
        stride: step between frames.
        short: policy for videos shorter than ``(length - 1) * stride + 1`` frames.
    """

    length: int = 16
    stride: int = 1
    short: ShortPolicy = "loop"

    @property
    def num_views(self) -> int:
        return 1

    @property
    def frames_per_view(self) -> int:
        return self.length

    @property
    def span(self) -> int:
        return (self.length - 1) * self.stride + 1

    def __call__(self, num_frames: int, training: bool = False, rng: np.random.Generator | None = None):
        _check_num_frames(num_frames)
        room = max(num_frames - self.span, 0)
        if training:
            rng = rng or np.random.default_rng()
            start = int(rng.integers(0, room + 1))
        else:
            start = room // 2
        return _clip_indices(start, self.length, self.stride, num_frames, self.short)[None]  # (1, length)


@dataclass(frozen=True)
class MultiClip:
    """``k`` clips with evenly spaced starts over the whole video (first at frame 0, last ending at the end).

    Used for video-level evaluation (the reference's five clips). Deterministic in both modes.

    Args:
        k: number of clips.
        length: frames per clip.
        stride: step between frames.
        short: policy for videos shorter than one clip.
    """

    k: int = 5
    length: int = 16
    stride: int = 1
    short: ShortPolicy = "loop"

    @property
    def num_views(self) -> int:
        return self.k

    @property
    def frames_per_view(self) -> int:
        return self.length

    def __call__(self, num_frames: int, training: bool = False, rng: np.random.Generator | None = None):
        _check_num_frames(num_frames)
        span = (self.length - 1) * self.stride + 1
        room = max(num_frames - span, 0)
        starts = np.round(np.linspace(0, room, self.k)).astype(np.int64)
        # (k, length)
        return np.stack([_clip_indices(int(s), self.length, self.stride, num_frames, self.short) for s in starts])


def sampler_key(sampler: FrameSampler) -> str:
    """A stable text key of a sampler and its parameters (used in cache keys)."""
    return repr(sampler)
