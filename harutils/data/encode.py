"""Video encoding: the synthetic dataset's clips and the video store's re-encoded copies.

``write_video`` is the project's one way to write a video; decoding lives in :mod:`harutils.data.video`.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

# The video store's encoding (measured on the real fixture clips, see harutils.data.video_store): H.264 with a
# keyframe every 16 frames and no B-frames, so that any frame is at most 15 decodes away from a keyframe and
# decode order is display order; CRF 18 is visually lossless at this resolution; "fastdecode" drops CABAC.
STORE_GOP = 16
STORE_CODEC = "libx264"
STORE_OPTIONS = {"crf": "18", "preset": "veryfast", "tune": "fastdecode",
                 "x264-params": f"keyint={STORE_GOP}:min-keyint={STORE_GOP}:scenecut=0:bframes=0"}


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray | torch.Tensor,
    fps: float = 25.0,
    codec: str = "mpeg4",
    fourcc: str | None = "XVID",
    quality: int = 4,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames to a video file (XviD-tagged MPEG-4 in AVI by default).

    Frame ``i`` gets presentation time ``i / fps``.

    Args:
        path: output file; its suffix picks the container (.avi, .mp4, .m4v for a raw stream).
        frames: (T, H, W, 3) uint8; H and W must be even (yuv420p).
        fps: frame rate.
        codec: ffmpeg encoder name.
        fourcc: codec tag written in the container (UCF101's clips are tagged XVID); None keeps the default.
        quality: MPEG-4 quantiser scale, 1 (best) to 31 (``codec="mpeg4"`` only).
        options: encoder options (e.g. :data:`STORE_OPTIONS` for libx264); replace ``quality``.

    Returns:
        The path written.
    """
    import av

    path = Path(path)
    frames = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"frame height and width must be even for yuv420p, got {h}x{w}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.thread_type = "NONE"  # single-threaded encoding: bit-identical output for the same frames
        if fourcc and path.suffix.lower() == ".avi":
            stream.codec_tag = fourcc
        if options is not None:
            stream.options = dict(options)
        elif codec == "mpeg4":  # fixed quantiser: qmin = qmax
            stream.options = {"qmin": str(quality), "qmax": str(quality)}
        for i in range(t):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frames[i], format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
