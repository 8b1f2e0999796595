"""Resizing decoded frames: one function for a batch, and the decoder's finisher that resizes the frames a few
at a time as they decode.

An antialiased resize of 8 frames at once costs about half of 8 resizes of one frame (the dispatch per call),
and the pixels are the same: each frame is resized on its own either way.
"""

from __future__ import annotations

import numpy as np
import torch

# frames held at the decoded size before they are resized together: memory stays near the output size
RESIZE_BATCH = 8


def resize_frames(frames: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize ``(T, H, W, 3)`` uint8 frames (antialiased bilinear).

    Args:
        frames: (T, H, W, 3) uint8.
        size: an int resizes the shorter side to it keeping the aspect ratio; ``(h, w)`` is exact.

    Returns:
        (T, h, w, 3) uint8.
    """
    from torchvision.transforms.v2 import functional as TF

    chw = frames.permute(0, 3, 1, 2)  # (T, H, W, C) -> (T, C, H, W)
    resized = TF.resize(chw, list(size) if isinstance(size, tuple | list) else [size], antialias=True)
    return resized.permute(0, 2, 3, 1).contiguous()  # (T, C, h, w) -> (T, h, w, C)


class FrameFinisher:
    """What a decoder does with each frame it keeps: queue it for resizing and hand back a token; :meth:`frames`
    turns tokens into the finished frames. At most :data:`RESIZE_BATCH` frames wait at the decoded size.

    Args:
        frame_size: None keeps the decoded size; an int sets the shorter side; ``(h, w)`` is exact.
    """

    def __init__(self, frame_size: int | tuple[int, int] | None):
        self.frame_size = frame_size
        self.clear()

    def clear(self) -> None:
        """Forget every frame (those of a read that is abandoned)."""
        self._done: list[np.ndarray] = []
        self._waiting: np.ndarray | None = None  # (RESIZE_BATCH, H, W, 3): the frames waiting to be resized
        self._count = 0  # how many wait

    def __call__(self, frame: np.ndarray) -> int:
        """Take one decoded ``(H, W, 3)`` uint8 frame; returns its token."""
        if self.frame_size is None:
            self._done.append(frame)
            return len(self._done) - 1
        if self._waiting is None or self._waiting.shape[1:] != frame.shape:
            self._finish_waiting()
            self._waiting = np.empty((RESIZE_BATCH, *frame.shape), np.uint8)
        self._waiting[self._count] = frame
        self._count += 1
        if self._count == RESIZE_BATCH:
            self._finish_waiting()
        return len(self._done) + self._count - 1

    def _finish_waiting(self) -> None:
        if self._count:
            batch = torch.from_numpy(self._waiting[: self._count])  # (k, H, W, 3)
            self._done.extend(resize_frames(batch, self.frame_size).numpy())
            self._count = 0

    def frames(self, tokens: list[int]) -> torch.Tensor:
        """``(T, h, w, 3)`` uint8: the finished frames of ``tokens``, in their order (repeats allowed)."""
        self._finish_waiting()
        return torch.from_numpy(np.stack([self._done[t] for t in tokens]))
