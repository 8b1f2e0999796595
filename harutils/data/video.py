"""Video decoding: ``probe`` and ``read_frames`` over decord (default) and PyAV.

torchvision 0.29 has no video decoding, so this module is the project's one way to read a video.

Decoding strategy, chosen from measurements on the real UCF101/HMDB51 fixture clips
(``tests/test_video.py`` checks it on every clip):

- decord's random access (``get_batch`` / ``seek_accurate``) returns wrong frames at middle and late indices
  of DivX AVIs (HMDB51), so both backends decode **sequentially** from the first frame up to the last
  requested index. Sequential decord output equals PyAV's up to YUV->RGB rounding (max 2 levels).
- decord and the AVI header both claim one frame more than ffmpeg decodes for the HMDB51 DivX clips
  (a packed-bitstream placeholder); decord then repeats the last frame. The frame count is therefore what
  PyAV actually decodes, and decord's last reported frame is only served when PyAV confirms it exists.
- decord cannot open some files PyAV reads (e.g. raw MPEG-4 streams); those fall back to PyAV automatically.

Frames come out as ``(T, H, W, 3)`` uint8 tensors, the project's decoder contract.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .resize import FrameFinisher
from .seeking import SeekMissed, as_displayed, decoded_by_plan, pts_per_frame, read_seeking, seek_plan

BACKENDS = ("decord", "pyav")
# The AVI header may count a trailing placeholder packet that decodes to nothing; more missing than this
# means the file was cut short.
_HEADER_SLACK = 1


class VideoError(RuntimeError):
    """A video cannot be read as asked. The message names the file and the cause."""

    def __init__(self, path: str | os.PathLike, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds, with the frame count that actually decodes.

    Attributes:
        frame_count: frames that ffmpeg decodes (not the header's claim).
        fps: the container's average frame rate.
        width, height: frame size in pixels.
        duration: ``frame_count / fps`` in seconds.
        header_frames: the frame count written in the container header (0 when absent).
        codec: the video codec name.
        rotation: the container's display rotation in degrees (ffmpeg's sign: -90 shows the frames turned a
            quarter clockwise, as phones record portrait video); frames are returned as displayed.
        keyframes: the frame indices a seek lands on exactly; empty when seeking is not exact in this file
            (presentation times other than 0, 1, 2, ... in frame units, as in HMDB51's packed DivX streams), so
            that reads decode from the first frame.
    """

    frame_count: int
    fps: float
    width: int
    height: int
    duration: float
    header_frames: int
    codec: str
    rotation: int = 0
    keyframes: tuple[int, ...] = ()


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise VideoError(path, "no such file")
    if not path.is_file():
        raise VideoError(path, "not a file")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file (0 bytes)")
    return path


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def probe(path: str | os.PathLike, allow_truncated: bool = False) -> VideoInfo:
    """Describe a video, counting the frames that decode.

    Args:
        path: the video file.
        allow_truncated: return the info of a file that decodes fewer frames than its header claims
            instead of raising.

    Returns:
        VideoInfo. Results are memoised per (path, size, mtime), so a changed file is probed again.

    Raises:
        VideoError: missing, empty, unreadable or non-video file; no decodable frame; truncated file.
    """
    path = _check_file(path)
    info = _probe_cached(_file_key(path))
    if not allow_truncated and info.header_frames - info.frame_count > _HEADER_SLACK:
        raise VideoError(
            path,
            f"truncated: the header claims {info.header_frames} frames but only {info.frame_count} decode",
        )
    return info


@functools.lru_cache(maxsize=65536)
def _probe_cached(key: tuple[str, int, int]) -> VideoInfo:
    import av

    path = key[0]
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise VideoError(path, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            count, rotation, keyframes, step = 0, 0, [], pts_per_frame(stream)
            exact = step is not None
            for frame in container.decode(stream):
                rotation = rotation if count else int(frame.rotation or 0)
                exact = exact and frame.pts == count * step  # presentation time = frame index: seeks land exactly
                if frame.key_frame:
                    keyframes.append(count)
                count += 1
            fps = float(stream.average_rate or stream.guessed_rate or 0.0)
            width, height = stream.codec_context.width, stream.codec_context.height
            header = int(stream.frames or 0)
            codec = stream.codec_context.name
    except VideoError:
        raise
    except Exception as exc:  # av.error.FFmpegError and friends
        raise VideoError(path, f"cannot decode ({type(exc).__name__}: {exc})") from exc
    if count == 0:
        raise VideoError(path, "no frame decodes")
    return VideoInfo(count, fps, width, height, count / fps if fps else 0.0, header, codec, rotation,
                     tuple(keyframes) if exact else ())


def _check_indices(indices: Sequence[int] | np.ndarray | torch.Tensor, path: Path) -> np.ndarray:
    idx = np.asarray(indices.tolist() if isinstance(indices, torch.Tensor) else indices)
    if idx.ndim != 1 or idx.size == 0:
        raise VideoError(path, f"indices must be a non-empty 1-D sequence, got shape {idx.shape}")
    if not np.issubdtype(idx.dtype, np.integer):
        raise VideoError(path, f"indices must be integers, got {idx.dtype}")
    if idx.min() < 0:
        raise VideoError(path, f"negative frame index {int(idx.min())}")
    return idx.astype(np.int64)


def _out_of_range(path: Path, max_index: int, count: int, header: int | None = None) -> VideoError:
    note = ""
    if header is not None and header - count > _HEADER_SLACK:
        note = f" (the header claims {header}: the file is truncated)"
    return VideoError(path, f"frame index {max_index} out of range: the video decodes {count} frames{note}")


def _read_pyav(path: Path, wanted: set[int], last: int, finish) -> dict[int, int]:
    import av

    out: dict[int, int] = {}  # frame index -> the token finish gave it
    decoded = 0
    header = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(path, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            header = int(stream.frames or 0)
            for i, frame in enumerate(container.decode(stream)):
                decoded = i + 1
                if i in wanted:
                    out[i] = finish(as_displayed(frame))
                if i >= last:
                    break
    except VideoError:
        raise
    except Exception as exc:
        raise VideoError(path, f"cannot decode ({type(exc).__name__}: {exc})") from exc
    if decoded <= last:
        if decoded == 0:
            raise VideoError(path, "no frame decodes")
        raise _out_of_range(path, last, decoded, header)
    return out


class _DecordCannotOpen(Exception):
    pass


def _read_decord(path: Path, wanted: set[int], last: int, finish) -> dict[int, int]:
    import decord

    decord.logging.set_level(decord.logging.QUIET)
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    except Exception as exc:  # decord raises RuntimeError/DECORDError for files it cannot open
        raise _DecordCannotOpen(str(exc)) from exc
    try:  # read_frames has checked ``last`` against the count PyAV decodes (decord may claim one frame more)
        out: dict[int, int] = {}  # frame index -> the token finish gave it
        for i in range(last + 1):
            try:
                frame = reader.next()
            except StopIteration:
                raise _out_of_range(path, last, i) from None
            if i in wanted:
                out[i] = finish(frame.asnumpy())
        return out
    except VideoError:
        raise
    except Exception as exc:
        raise VideoError(path, f"cannot decode ({type(exc).__name__}: {exc})") from exc
    finally:
        del reader


def default_backend() -> str:
    """decord when importable, else PyAV."""
    try:
        import decord  # noqa: F401
    except ImportError:
        return "pyav"
    return "decord"


def _read_by_seeking(path: Path, info: VideoInfo, wanted: set[int], last: int, finish) -> dict | None:
    """The wanted frames by exact seeks when that saves a quarter of the decoding or more; None otherwise."""
    plan = seek_plan(info.keyframes, sorted(wanted))
    if 4 * decoded_by_plan(plan) > 3 * (last + 1):
        return None
    try:
        return read_seeking(path, plan, wanted, finish)
    except SeekMissed:
        return None  # this file's seeks are not exact after all: decode from the first frame


def read_frames(
    path: str | os.PathLike,
    indices: Sequence[int] | np.ndarray | torch.Tensor,
    frame_size: int | tuple[int, int] | None = None,
    backend: str | None = None,
    info: VideoInfo | None = None,
) -> torch.Tensor:
    """Decode the frames at ``indices``.

    Where the file allows exact seeks (``VideoInfo.keyframes``) and seeking saves at least a quarter of the
    decoding, PyAV seeks to the keyframe before each run of wanted frames and checks every decoded frame's
    presentation time; otherwise (and if a check fails) the file is decoded from its first frame.

    Args:
        path: the video file.
        indices: frame indices, any order, repeats allowed.
        frame_size: None keeps the native size; an int sets the shorter side; ``(h, w)`` is exact.
        backend: "decord", "pyav" or None (decord when installed; PyAV when decord cannot open the file).
        info: what the caller already knows of the file (the video store writes its own); None probes it.

    Returns:
        (T, H, W, 3) uint8 tensor, frames in the order of ``indices``.

    Raises:
        VideoError: missing, empty, non-video or unreadable file; an index beyond the decodable frames.
    """
    path = _check_file(path)
    idx = _check_indices(indices, path)
    backend = backend or default_backend()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
    wanted, last = set(idx.tolist()), int(idx.max())
    info = info or probe(path, allow_truncated=True)
    if last >= info.frame_count:
        raise _out_of_range(path, last, info.frame_count, info.header_frames)
    resized = FrameFinisher(frame_size)  # resizes the frames a batch at a time as they decode

    def finish(frame: np.ndarray) -> int:
        """Each frame as it decodes: checked RGB and queued for resizing; its token in ``resized``."""
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise VideoError(path, f"decoded a frame of shape {frame.shape}, not RGB with 3 channels "
                                   f"({backend}); re-encode the video (e.g. ffmpeg -i IN -pix_fmt yuv420p OUT)")
        return resized(frame)

    by_index = _read_by_seeking(path, info, wanted, last, finish)
    if by_index is None:
        resized.clear()  # the frames of seeks that missed, if any, are not used
    if by_index is None and backend == "decord" and info.rotation:
        by_index = _read_pyav(path, wanted, last, finish)  # decord turns rotated videos into 4-channel frames
    elif by_index is None and backend == "decord":
        try:
            by_index = _read_decord(path, wanted, last, finish)
        except _DecordCannotOpen:
            by_index = _read_pyav(path, wanted, last, finish)
    elif by_index is None:
        by_index = _read_pyav(path, wanted, last, finish)
    return resized.frames([by_index[i] for i in idx.tolist()])  # (T, H, W, 3)
