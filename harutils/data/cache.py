"""The frame cache: decode every video once into compact uint8 arrays, so training epochs decode no video.

This is the reference report's "Extracting Frames" step. Two kinds of entry, chosen by ``sampler``:

- ``sampler=None`` (for training): **all frames** of the video at the training resolution, ``(N, h, w, 3)``.
  Random sampling (a random clip start, a random frame per segment) then draws fresh indices every epoch
  from the cached frames, exactly as from the video; caching only a few pre-drawn clips would freeze the
  augmentation. The cost is disk: at a 128-pixel shorter side UCF101 takes about 160 GB, at 256 about 640 GB,
  which is why only the demo profile uses it (64 px; notebook 02 reports the size on disk); the full profile reads
  the video store (:mod:`harutils.data.video_store`).
- ``sampler=<eval sampler>`` (for validation and test): only the evaluation-mode frames of that sampler,
  ``(V, T, h, w, 3)`` (5 uniform frames, one centred clip, five clips): a few hundred KB per video.

Entries are ``.npy`` files. Each process keeps the entries it has read in memory up to :data:`MEMORY_BUDGET` bytes
(the demo's whole store: reading a clip is then a gather, with no file opened); entries beyond the budget are
memory-mapped, so a clip read touches only its frames. Keys (the file, the
sampler and its parameters, the frame size, the format version), atomic writes and the resumable parallel build
are every store's: :mod:`harutils.data.store`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .resize import resize_frames
from .sampling import FrameSampler, sampler_key
from .store import CacheReport, CacheWriteError, FrameStore, build_stores, write_atomically
from .video import VideoError, probe, read_frames

__all__ = ["FORMAT_VERSION", "CacheReport", "CacheWriteError", "FrameCache", "build_caches"]

FORMAT_VERSION = 1
# bytes of entries each cache keeps in memory per process (a DataLoader worker is a process): 1 GiB holds the demo's
# stores many times over; a full-profile store of 100+ GB is memory-mapped past it
MEMORY_BUDGET = 1 << 30


class FrameCache(FrameStore):
    """Decoded, resized frames per video, keyed so that a stale entry is never read.

    Args:
        root: cache folder.
        frame_size: int (shorter side) or (h, w): the size frames are stored at.
        sampler: None to store all frames (training); an evaluation sampler to store only its frames.
        backend: video decoder.
    """

    def __init__(
        self,
        root: str | Path,
        frame_size: int | tuple[int, int],
        sampler: FrameSampler | None = None,
        backend: str | None = None,
    ):
        self.frame_size = tuple(frame_size) if isinstance(frame_size, list | tuple) else frame_size
        self.sampler = sampler
        self.backend = backend
        frames = "all" if sampler is None else sampler_key(sampler)
        super().__init__(root, f"v{FORMAT_VERSION}|size={self.frame_size}|frames={frames}")
        self._held: dict[Path, np.ndarray] = {}  # entry path (so: video identity and settings) -> its frames
        self._held_bytes = 0

    def _decode(self, video: Path) -> np.ndarray:
        count = probe(video).frame_count  # a truncated file is a bad video here as everywhere
        if self.sampler is None:
            idx = np.arange(count)
        else:
            idx = self.sampler(count, training=False)  # (V, T)
        frames = read_frames(video, idx.ravel(), frame_size=self.frame_size, backend=self.backend).numpy()
        return frames if self.sampler is None else frames.reshape(*idx.shape, *frames.shape[1:])

    def _write(self, path: Path, array: np.ndarray) -> None:
        def save(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.save(f, array)

        write_atomically(path, save)

    def load(self, video: str | Path, build: bool = True) -> np.ndarray:
        """The cached array of a video, memory-mapped; decoded and stored first on a miss when ``build``.

        Returns:
            (N, h, w, 3) uint8 for an all-frames cache; (V, T, h, w, 3) for a sampler cache.
        """
        video = Path(video)
        path = self.entry_path(video)
        if path in self._held:
            return self._held[path]
        if path.is_file():
            try:
                return self._hold(path, np.load(path, mmap_mode="r"))
            except (ValueError, OSError):
                path.unlink(missing_ok=True)  # unreadable entry (disk trouble): rebuild it
        if not build:
            raise KeyError(f"{video} is not in the frame cache {self.root}")
        array = self._decode(video)
        self._write(path, array)
        return array

    def _hold(self, path: Path, mapped: np.ndarray) -> np.ndarray:
        """The entry in memory (read-only) while the budget allows, else its memory map."""
        if self._held_bytes + mapped.nbytes > MEMORY_BUDGET:
            return mapped
        array = np.array(mapped)
        array.flags.writeable = False
        self._held[path] = array
        self._held_bytes += array.nbytes
        return array

    def read(
        self, video: str | Path, sampler: FrameSampler, training: bool, rng: np.random.Generator | None = None
    ) -> torch.Tensor:
        """Sampled frames of a video from the cache: (V, T, h, w, 3) uint8.

        Raises:
            ValueError: a sampler cache asked for another sampler or for random (training) sampling.
        """
        array = self.load(video)
        if self.sampler is not None:
            if training or sampler != self.sampler:
                raise ValueError(
                    f"this cache holds the evaluation frames of {sampler_key(self.sampler)}; it cannot serve "
                    f"{'training' if training else sampler_key(sampler)} sampling: use an all-frames cache"
                )
            return torch.from_numpy(np.array(array))  # copy out of the read-only memory map
        idx = sampler(array.shape[0], training, rng)  # (V, T)
        frames = np.ascontiguousarray(array[idx.ravel()])  # mmap gather: reads only these frames
        return torch.from_numpy(frames).reshape(*idx.shape, *frames.shape[1:])  # (V*T,...) -> (V, T, h, w, 3)


def build_caches(caches: list[FrameCache], videos, workers: int | None = None,
                 progress: bool = True) -> list[CacheReport]:
    """Fill several all-frames caches of the same videos (one per frame size) in one parallel pass that decodes each
    video once and resizes its frames to every size missing: the same entries as each cache's own :meth:`build`
    (a frame is resized on its own either way), at the cost of one decode instead of one per size.

    Returns:
        One report per cache, in their order.

    Raises:
        ValueError: a cache of evaluation frames (a sampler's), or caches that decode with different backends.
    """
    if any(cache.sampler is not None for cache in caches) or len({cache.backend for cache in caches}) > 1:
        raise ValueError("build_caches fills all-frames caches that decode alike (sampler None, one backend); "
                         "build the others with their own build()")
    return build_stores(caches, _SharedDecode(caches), videos, workers, progress)


class _SharedDecode:
    """One video into every cache that misses it, decoded once at its own size (a picklable build job)."""

    def __init__(self, caches: list[FrameCache]):
        self.caches = caches

    def __call__(self, video: str) -> tuple[str, str | None, list[bool]]:
        missing = [not cache.has(video) for cache in self.caches]
        if not any(missing):
            return video, None, missing
        try:
            frames = read_frames(video, np.arange(probe(video).frame_count), backend=self.caches[0].backend)
        except VideoError as exc:
            return video, exc.cause, [False] * len(self.caches)
        for cache, miss in zip(self.caches, missing, strict=True):
            if miss:
                resized = frames if cache.frame_size is None else resize_frames(frames, cache.frame_size)
                cache._write(cache.entry_path(Path(video)), resized.numpy())
        return video, None, missing
