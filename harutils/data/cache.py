"""The frame cache: decode every video once into compact uint8 arrays, so training epochs decode no video.

This is the reference report's "Extracting Frames" step. Two kinds of entry, chosen by ``sampler``:

- ``sampler=None`` (for training): **all frames** of the video at the training resolution, ``(N, h, w, 3)``.
  Random sampling (a random clip start, a random frame per segment) then draws fresh indices every epoch
  from the cached frames, exactly as from the video; caching only a few pre-drawn clips would freeze the
  augmentation. The cost is disk: at a 128-pixel shorter side UCF101 takes about 160 GB, at 256 about 640 GB,
  which is why the demo profile caches (64 px; notebook 02 reports the size on disk) and the full profile decodes in
  the DataLoader workers.
- ``sampler=<eval sampler>`` (for validation and test): only the evaluation-mode frames of that sampler,
  ``(V, T, h, w, 3)`` (5 uniform frames, one centred clip, five clips): a few hundred KB per video.

Entries are ``.npy`` files read with memory mapping, so a clip read touches only its frames. The key of each
entry hashes the file identity (resolved path, size, mtime), the sampler and its parameters, the frame size and
the cache format version: a changed video or setting is a miss, never a stale read. Writes go to a temporary
file renamed into place, so a killed build leaves no half-written entry and a rerun resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .parallel import map_with_progress
from .sampling import FrameSampler, sampler_key
from .video import VideoError, probe, read_frames

FORMAT_VERSION = 1


class CacheWriteError(OSError):
    """The frame cache cannot be written (a full or read-only disk): not a bad video, so the build stops."""


@dataclass
class CacheReport:
    """What a cache build did.

    Attributes:
        built: entries decoded now.
        reused: entries already present and valid.
        bad: ``(path, cause)`` of the videos that could not be decoded (left out, never fatal).
        probed: videos only probed, for runs without a cache (decoded on the fly).
        disk_bytes: the size on disk of the cache entries of these videos.
    """

    built: int = 0
    reused: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)
    probed: int = 0
    disk_bytes: int = 0

    def __str__(self) -> str:
        if self.probed:
            head = f"no frame cache (clips decoded on the fly): {self.probed} videos probed"
        else:
            head = f"frame cache: {self.built} built, {self.reused} reused ({self.disk_bytes / 2**20:.0f} MB)"
        lines = [f"{head}, {len(self.bad)} bad videos skipped"]
        lines += [f"  bad: {p}: {c}" for p, c in self.bad[:20]]
        if len(self.bad) > 20:
            lines.append(f"  ... and {len(self.bad) - 20} more")
        return "\n".join(lines)


class FrameCache:
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
        self.root = Path(root)
        self.frame_size = tuple(frame_size) if isinstance(frame_size, list | tuple) else frame_size
        self.sampler = sampler
        self.backend = backend
        frames = "all" if sampler is None else sampler_key(sampler)
        self.spec = f"v{FORMAT_VERSION}|size={self.frame_size}|frames={frames}"

    def key(self, video: str | Path) -> str:
        """Hash of the file identity and the cache settings."""
        video = Path(video)
        st = video.stat()
        ident = f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.spec}"
        return hashlib.sha1(ident.encode()).hexdigest()

    def entry_path(self, video: str | Path) -> Path:
        key = self.key(video)
        return self.root / key[:2] / f"{key}.npy"

    def has(self, video: str | Path) -> bool:
        return self.entry_path(video).is_file()

    def _decode(self, video: Path) -> np.ndarray:
        count = probe(video).frame_count  # a truncated file is a bad video here as everywhere
        if self.sampler is None:
            idx = np.arange(count)
        else:
            idx = self.sampler(count, training=False)  # (V, T)
        frames = read_frames(video, idx.ravel(), frame_size=self.frame_size, backend=self.backend).numpy()
        return frames if self.sampler is None else frames.reshape(*idx.shape, *frames.shape[1:])

    def _write(self, path: Path, array: np.ndarray) -> None:
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, array)
            os.replace(tmp, path)  # atomic: readers see the whole entry or none
        except OSError as exc:  # the disk, not the video: stop the build
            raise CacheWriteError(
                f"cannot write the frame cache entry {path} ({exc.strerror or exc}): free space on that disk or "
                f"choose another data_dir, then run again; the entries already written are complete and are "
                f"reused") from exc
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def load(self, video: str | Path, build: bool = True) -> np.ndarray:
        """The cached array of a video, memory-mapped; decoded and stored first on a miss when ``build``.

        Returns:
            (N, h, w, 3) uint8 for an all-frames cache; (V, T, h, w, 3) for a sampler cache.
        """
        video = Path(video)
        path = self.entry_path(video)
        if path.is_file():
            try:
                return np.load(path, mmap_mode="r")
            except (ValueError, OSError):
                path.unlink(missing_ok=True)  # unreadable entry (disk trouble): rebuild it
        if not build:
            raise KeyError(f"{video} is not in the frame cache {self.root}")
        array = self._decode(video)
        self._write(path, array)
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

    def _build_one(self, video: str) -> tuple[str, str | None, bool]:
        """Cache one video; a video that cannot be decoded is reported, any other failure stops the build."""
        try:
            if self.has(video):
                return video, None, False
            self.load(video)
            return video, None, True
        except VideoError as exc:
            return video, exc.cause, False

    def build(self, videos, workers: int | None = None, progress: bool = True) -> CacheReport:
        """Fill the cache for ``videos`` in parallel; resumable (present entries are reused).

        Args:
            videos: video paths, or a dataset with ``.samples``.
            workers: processes (default: the CPU count).
            progress: show a tqdm bar.

        Returns:
            CacheReport with the counts and the bad videos, which are skipped, not fatal.
        """
        paths = [str(p) for p, _ in videos.samples] if hasattr(videos, "samples") else [str(v) for v in videos]
        report = CacheReport()
        for path, err, built in map_with_progress(self._build_one, paths, workers, "caching frames", progress):
            if err is not None:
                report.bad.append((path, err))
            elif built:
                report.built += 1
            else:
                report.reused += 1
        report.bad.sort()
        report.disk_bytes = sum(self.entry_path(p).stat().st_size for p in paths if self.has(p))
        return report
