"""Exact seeks: decode only the frames a read needs, from the keyframe before each run of them.

A seek is exact when every frame's presentation time is its index (0, 1, 2, ... in frame units): then the frame a
seek lands on and every frame decoded after it can be checked, and a mismatch falls back to decoding from the
first frame. :func:`harutils.data.video.probe` records the keyframes of such files (``VideoInfo.keyframes``); the
video store writes only such files (a keyframe every 16 frames). Measured on the real fixture clips: UCF101's XviD
AVIs have exact presentation times (most with a keyframe every 12 frames); HMDB51's packed DivX streams do not, and
decord's own seeks return wrong frames there, so those are read from the first frame.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import numpy as np


class SeekMissed(Exception):
    """A seek landed elsewhere than on the keyframe asked for: read sequentially instead."""


def seek_plan(keyframes: tuple[int, ...], wanted: list[int]) -> list[tuple[int, int]]:
    """Where to seek and up to where to decode for the sorted ``wanted`` indices: ``(keyframe, last)`` runs.

    A run starts at the keyframe at or before its first index and takes every later index that decoding on from
    there reaches before a later keyframe would serve it better. Without keyframes (no exact seek) one run starts
    at frame 0.
    """
    runs: list[list[int]] = []
    for i in wanted:
        k = max((f for f in keyframes if f <= i), default=0)
        if runs and k <= runs[-1][1] + 1:  # decoding on from the current run reaches it without a seek
            runs[-1][1] = i
        else:
            runs.append([k, i])
    return [(k, last) for k, last in runs]


def decoded_by_plan(plan: list[tuple[int, int]]) -> int:
    """Frames a plan decodes."""
    return sum(last - k + 1 for k, last in plan)


def read_seeking(path: Path, plan: list[tuple[int, int]], wanted: set[int], finish) -> dict[int, int]:
    """Decode only the runs of a :func:`seek_plan`, checking that every decoded frame is the one expected.

    Raises:
        SeekMissed: a frame other than the expected one decoded (the caller reads sequentially instead).
    """
    import av

    out: dict[int, int] = {}  # frame index -> the token finish gave it
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"  # a few frames per run: starting decoder threads costs more than it saves
        step = pts_per_frame(stream)
        if step is None:
            raise SeekMissed(f"{path}: no whole number of time units per frame")
        for start, last in plan:
            container.seek(start * step, stream=stream, backward=True, any_frame=False)
            expected = start
            for frame in container.decode(stream):
                if frame.pts is not None and frame.pts < expected * step:
                    continue  # landed on an earlier keyframe: decode on to the run's start
                if frame.pts != expected * step:
                    raise SeekMissed(f"{path}: frame {expected} decoded as pts {frame.pts}")
                if expected in wanted:
                    out[expected] = finish(as_displayed(frame))
                if expected >= last:
                    break
                expected += 1
            if expected < last:
                raise SeekMissed(f"{path}: the stream ended at frame {expected}")
    return out


def pts_per_frame(stream) -> int | None:
    """The time units of one frame of a constant-rate stream (1 in AVIs, 512 in PyAV's MP4s at 25 fps); None when
    a frame does not last a whole number of units."""
    rate, base = stream.average_rate or stream.guessed_rate, stream.time_base
    if not rate or not base:
        return None
    step = 1 / (Fraction(rate) * Fraction(base))
    return int(step) if step.denominator == 1 else None


_converters = threading.local()  # one colour converter per thread (a DataLoader worker is a process)


def as_displayed(frame) -> np.ndarray:
    """A decoded PyAV frame as RGB, turned a quarter per 90 degrees of the container's rotation.

    The pixels are ``frame.to_ndarray(format="rgb24")``'s, through one reused ``VideoReformatter``: PyAV otherwise
    makes a new converter (and swscale context) for every frame, which cost 2-3x the conversion itself (0.09
    against 0.26 ms for a 170x128 frame, 0.14 against 0.33-0.41 ms at 320x240, measured on the fixture store).
    """
    if not hasattr(_converters, "rgb"):
        from av.video.reformatter import VideoReformatter

        _converters.rgb = VideoReformatter()
    image = _converters.rgb.reformat(frame, format="rgb24").to_ndarray()
    if frame.rotation:
        image = np.ascontiguousarray(np.rot90(image, int(frame.rotation) // 90))
    return image
