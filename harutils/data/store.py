"""What every frame store shares: entries keyed by the video file and the store's settings, atomic writes, and a
parallel, resumable build that reports bad videos instead of stopping.

Two stores subclass :class:`FrameStore`: :class:`~harutils.data.cache.FrameCache` (uint8 arrays at the training
resolution: the demo profile) and :class:`~harutils.data.video_store.VideoStore` (short-GOP H.264 copies at the
source resolution: the full profile). The key of an entry hashes the file identity (resolved path, size, mtime)
and the store's ``spec`` (its format version and settings): a changed video or setting is a miss, never a stale
read. Writes go to a temporary file renamed into place, so a killed build leaves no half-written entry and a rerun
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .parallel import map_with_progress
from .video import VideoError


class CacheWriteError(OSError):
    """A frame store cannot be written (a full or read-only disk): not a bad video, so the build stops."""


@dataclass
class CacheReport:
    """What a store build did.

    Attributes:
        built: entries decoded now.
        reused: entries already present and valid.
        bad: ``(path, cause)`` of the videos that could not be decoded (left out, never fatal).
        probed: videos only probed, for runs without a store (decoded on the fly).
        disk_bytes: the size on disk of the entries of these videos.
        kind: what the store holds, for the report's first line.
        kept: entries that are the original videos, read in place (the video store's).
    """

    built: int = 0
    reused: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)
    probed: int = 0
    disk_bytes: int = 0
    kind: str = "frame cache"
    kept: int = 0

    def __str__(self) -> str:
        if self.probed:
            head = f"no frame store (clips decoded from the original videos): {self.probed} videos probed"
        else:
            head = f"{self.kind}: {self.built} built, {self.reused} reused ({self.disk_bytes / 2**20:.0f} MB)"
            if self.kept:
                head += f", {self.kept} of them the original videos read in place"
        lines = [f"{head}, {len(self.bad)} bad videos skipped"]
        lines += [f"  bad: {p}: {c}" for p, c in self.bad[:20]]
        if len(self.bad) > 20:
            lines.append(f"  ... and {len(self.bad) - 20} more")
        return "\n".join(lines)


def write_atomically(path: Path, write: Callable[[Path], None], suffix: str = ".tmp",
                     kind: str = "frame cache") -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Raises:
        CacheWriteError: the disk refused (full, read-only): the message names the entry and the remedy.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=suffix)
        os.close(fd)
        write(Path(tmp))
        os.replace(tmp, path)  # atomic: readers see the whole entry or none
    except OSError as exc:  # the disk, not the video: stop the build
        raise CacheWriteError(
            f"cannot write the {kind} entry {path} ({exc.strerror or exc}): free space on that disk or "
            f"choose another data_dir, then run again; the entries already written are complete and are "
            f"reused") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


class FrameStore:
    """Entries per video under ``root``, keyed by the file and ``spec``; subclasses define ``suffix``,
    ``spec`` and :meth:`load` (which decodes and writes an entry on a miss)."""

    suffix = ".npy"
    kind = "frame cache"

    def __init__(self, root: str | Path, spec: str):
        self.root = Path(root)
        self.spec = spec

    def key(self, video: str | Path) -> str:
        """Hash of the file identity and the store settings."""
        video = Path(video)
        st = video.stat()
        ident = f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.spec}"
        return hashlib.sha1(ident.encode()).hexdigest()

    def entry_path(self, video: str | Path) -> Path:
        key = self.key(video)
        return self.root / key[:2] / f"{key}{self.suffix}"

    def has(self, video: str | Path) -> bool:
        return self.entry_path(video).is_file()

    def entry_bytes(self, video: str | Path) -> int:
        """The disk a present entry of ``video`` takes."""
        return self.entry_path(video).stat().st_size

    def load(self, video: str | Path, build: bool = True):
        raise NotImplementedError

    def _build_one(self, video: str) -> tuple[str, str | None, list[bool]]:
        """Store one video; a video that cannot be decoded is reported, any other failure stops the build.

        Returns:
            The video, the cause it is bad (None if it is not) and ``[True]`` where its entry was written now.
        """
        try:
            if self.has(video):
                return video, None, [False]
            self.load(video)
            return video, None, [True]
        except VideoError as exc:
            return video, exc.cause, [False]

    def build(self, videos, workers: int | None = None, progress: bool = True) -> CacheReport:
        """Fill the store for ``videos`` in parallel; resumable (present entries are reused).

        Args:
            videos: video paths, or a dataset with ``.samples``.
            workers: processes (default: the CPU count).
            progress: show a tqdm bar.

        Returns:
            CacheReport with the counts and the bad videos, which are skipped, not fatal.
        """
        return build_stores([self], self._build_one, videos, workers, progress)[0]


def build_stores(stores: list[FrameStore], job: Callable, videos, workers: int | None = None,
                 progress: bool = True) -> list[CacheReport]:
    """Run ``job`` on every video in parallel and report, for each of ``stores``, what it built and reused and the
    videos that could not be decoded (skipped, never fatal).

    Args:
        job: one video path -> (the path, the cause it is bad or None, for each store whether it wrote the entry
            now); picklable.
    """
    paths = video_paths(videos)
    reports = [CacheReport(kind=store.kind) for store in stores]
    kinds = " and ".join(dict.fromkeys(store.kind for store in stores))
    for path, err, built in map_with_progress(job, paths, workers, f"building the {kinds}", progress):
        for report, new in zip(reports, built, strict=True):
            if err is not None:
                report.bad.append((path, err))
            elif new:
                report.built += 1
            else:
                report.reused += 1
    for store, report in zip(stores, reports, strict=True):
        report.bad.sort()
        report.disk_bytes = sum(store.entry_bytes(p) for p in paths if store.has(p))
    return reports


def video_paths(videos) -> list[str]:
    """Video paths of a list of paths or of a dataset (its ``.samples``)."""
    return [str(p) for p, _ in videos.samples] if hasattr(videos, "samples") else [str(v) for v in videos]
