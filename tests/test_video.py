"""Video decoding on the real fixture clips and on broken files made here."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from conftest import REAL_CLIPS, needs_shared

from harutils.data import video as V
from harutils.data.encode import write_video
from harutils.data.resize import RESIZE_BATCH, resize_frames
from harutils.data.video import VideoError, probe, read_frames

clip_ids = [p.name[:40] for p, *_ in REAL_CLIPS]


def _sequential_pyav(path):
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


@needs_shared
def test_fixture_table_is_read():
    assert len(REAL_CLIPS) == 18


@needs_shared
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=clip_ids)
def test_probe_counts_what_ffmpeg_decodes(clip):
    path, frames, fps, width, height = clip
    info = probe(path)
    assert info.frame_count == frames
    assert info.fps == pytest.approx(fps, abs=1e-3)
    assert (info.width, info.height) == (width, height)
    assert info.duration == pytest.approx(frames / fps, rel=1e-4)  # the table rounds fps


@needs_shared
def test_the_reused_colour_converter_gives_pyavs_own_rgb_across_clips_of_other_sizes():
    """One converter serves every frame of a process; frames of clips of other sizes and pixel formats,
    interleaved, must come out exactly as each frame's own ``to_ndarray(format="rgb24")``."""
    import av

    from harutils.data.seeking import as_displayed

    clips = sorted({(w, h): p for p, _, _, w, h in REAL_CLIPS}.values())[:4]  # four sizes
    assert len(clips) >= 2
    containers = [av.open(str(p)) for p in clips]
    try:
        decoders = [c.decode(video=0) for c in containers]
        for _ in range(12):
            for decoder in decoders:
                frame = next(decoder)
                np.testing.assert_array_equal(as_displayed(frame), frame.to_ndarray(format="rgb24"))
    finally:
        for c in containers:
            c.close()


@needs_shared
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=clip_ids)
def test_backends_return_the_frames_of_a_sequential_decode(clip):
    path, n, *_ = clip
    reference = _sequential_pyav(path)  # (N, H, W, 3)
    assert len(reference) == n
    # middle and late indices, the last included: where decord's random access goes wrong
    idx = sorted({0, 1, n // 3, n // 2, (2 * n) // 3, n - 2, n - 1})
    for backend in V.BACKENDS:
        got = read_frames(path, idx, backend=backend).numpy()
        assert got.shape == (len(idx), *reference.shape[1:]) and got.dtype == np.uint8
        diff = np.abs(got.astype(np.int16) - reference[idx].astype(np.int16))
        # decord and PyAV convert YUV->RGB with different rounding: never more than a few levels
        assert diff.max() <= 3, f"{backend}: max diff {diff.max()}"
        assert diff.mean() < 0.05, f"{backend}: mean diff {diff.mean()}"


@needs_shared
@pytest.mark.parametrize("backend", V.BACKENDS)
def test_last_decodable_frame_and_one_past_it(backend):
    path, n, *_ = next(c for c in REAL_CLIPS if "hmdb51" in str(c[0]))
    assert read_frames(path, [n - 1], backend=backend).shape[0] == 1
    with pytest.raises(VideoError, match=f"{n} out of range.*decodes {n} frames"):
        read_frames(path, [n], backend=backend)


def test_unordered_and_repeated_indices_keep_their_order(small_video):
    frames = read_frames(small_video, list(range(24)))
    got = read_frames(small_video, [5, 2, 5, 0])
    assert torch.equal(got, frames[[5, 2, 5, 0]])


def test_backends_agree_on_written_video(small_video):
    a = read_frames(small_video, range(24), backend="decord")
    b = read_frames(small_video, range(24), backend="pyav")
    assert (a.int() - b.int()).abs().max() <= 3


def test_resize(small_video):
    assert read_frames(small_video, [0, 1], frame_size=32).shape == (2, 32, 40, 3)
    assert read_frames(small_video, [0], frame_size=(16, 16)).shape == (1, 16, 16, 3)


def test_decord_that_cannot_open_falls_back_to_pyav(small_video, monkeypatch):
    import decord

    def refuse(*args, **kwargs):
        raise RuntimeError("cannot open")

    monkeypatch.setattr(decord, "VideoReader", refuse)
    assert read_frames(small_video, [0, 23], backend="decord").shape[0] == 2


def test_pyav_is_used_when_decord_is_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_decord(name, *args, **kwargs):
        if name == "decord":
            raise ImportError("no decord")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_decord)
    assert V.default_backend() == "pyav"


def test_raw_mpeg4_stream_is_read(tmp_path):
    from conftest import moving_square_frames

    path = write_video(tmp_path / "raw.m4v", moving_square_frames(), fps=25, fourcc=None)
    assert probe(path).frame_count == 24
    assert read_frames(path, [0, 23]).shape == (2, 64, 80, 3)


def test_written_video_is_deterministic(tmp_path):
    from conftest import moving_square_frames

    frames = moving_square_frames()
    a = write_video(tmp_path / "a.avi", frames).read_bytes()
    b = write_video(tmp_path / "b.avi", frames).read_bytes()
    assert a == b


# ---- bad input: one VideoError naming the file and the cause ----


def test_missing_file(tmp_path):
    path = tmp_path / "nope.avi"
    with pytest.raises(VideoError, match="nope.avi: no such file"):
        probe(path)
    with pytest.raises(VideoError, match="no such file"):
        read_frames(path, [0])


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.avi"
    path.touch()
    with pytest.raises(VideoError, match=r"empty.avi: empty file \(0 bytes\)"):
        read_frames(path, [0])


@pytest.mark.parametrize("backend", V.BACKENDS)
def test_non_video_file(tmp_path, backend):
    path = tmp_path / "notes.avi"
    path.write_text("this is not a video\n" * 100)
    with pytest.raises(VideoError, match="notes.avi: cannot decode"):
        read_frames(path, [0], backend=backend)
    with pytest.raises(VideoError, match="notes.avi"):
        probe(path)


@pytest.mark.parametrize("backend", V.BACKENDS)
def test_truncated_file(tmp_path, small_video, backend):
    data = small_video.read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(data[: len(data) * 2 // 3])  # past the header, before the end
    with pytest.raises(VideoError, match="cut.avi: truncated: the header claims 24 frames but only"):
        probe(path)
    info = probe(path, allow_truncated=True)
    assert 0 < info.frame_count < 24
    with pytest.raises(VideoError, match="out of range.*truncated"):
        read_frames(path, [20], backend=backend)
    assert read_frames(path, [0], backend=backend).shape[0] == 1


@pytest.mark.parametrize("backend", V.BACKENDS)
def test_index_out_of_range(small_video, backend):
    with pytest.raises(VideoError, match="frame index 24 out of range: the video decodes 24 frames"):
        read_frames(small_video, [0, 24], backend=backend)
    with pytest.raises(VideoError, match="negative frame index"):
        read_frames(small_video, [-1], backend=backend)


def test_bad_arguments(small_video):
    with pytest.raises(ValueError, match="backend must be"):
        read_frames(small_video, [0], backend="opencv")
    with pytest.raises(VideoError, match="non-empty 1-D"):
        read_frames(small_video, [])


def test_probe_sees_a_changed_file(tmp_path):
    from conftest import moving_square_frames

    path = write_video(tmp_path / "a.avi", moving_square_frames(t=10))
    assert probe(path).frame_count == 10
    write_video(path, moving_square_frames(t=14))
    os.utime(path, ns=(1, 1_000_000_000))  # a different mtime even on coarse clocks
    assert probe(path).frame_count == 14


@pytest.mark.slow
@needs_shared
def test_no_memory_leak_over_many_files():
    """Resident memory settles: decoding 600 files grows the peak by well under what leaking frames would."""
    paths = [p for p, *_ in REAL_CLIPS]

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    for p in paths:  # warm up: libraries, caches
        read_frames(p, [0, 8], backend="decord")
        read_frames(p, [0, 8], backend="pyav")
    before = rss_mb()
    for i in range(600):
        p = paths[i % len(paths)]
        read_frames(p, [0, 8, 15], frame_size=112, backend=V.BACKENDS[i % 2])
    grown = rss_mb() - before
    # one leaked decoder or frame buffer per file would be > 600 * 0.2 MB
    assert grown < 60, f"resident memory grew {grown:.0f} MB over 600 decodes"


def test_frames_are_resized_as_they_decode_so_memory_follows_the_output(tmp_path):
    """All 48 frames of a 640x480 clip read at a 32-pixel shorter side: the peak stays near the frames that wait to
    be resized together (RESIZE_BATCH of 0.9 MB) plus the output, far below the 44 MB of the whole clip."""
    import tracemalloc

    from conftest import moving_square_frames

    big = np.repeat(np.repeat(moving_square_frames(t=48, h=60, w=80), 8, 1), 8, 2)  # (48, 480, 640, 3)
    path = write_video(tmp_path / "big.avi", big, fps=25)
    for backend in V.BACKENDS:
        tracemalloc.start()
        frames = V.read_frames(path, range(48), frame_size=32, backend=backend)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert frames.shape == (48, 32, 42, 3)
        assert peak < (RESIZE_BATCH + 4) * 0.9 * 2**20, f"{backend}: peak {peak / 2**20:.1f} MB"


@pytest.mark.parametrize("backend", V.BACKENDS)
def test_frame_by_frame_resizing_equals_resizing_the_clip(small_video, backend):
    full = V.read_frames(small_video, range(10), backend=backend)
    np.testing.assert_array_equal(V.read_frames(small_video, range(10), frame_size=32, backend=backend).numpy(),
                                  resize_frames(full, 32).numpy())


def _rotated_mp4(path, frames):
    """An MP4 whose track header carries a 90-degree display matrix (as a phone's portrait video): written with
    PyAV, then the matrix of the 'tkhd' box set by hand (ffmpeg's muxer no longer takes a 'rotate' tag)."""
    import struct

    write_video(path, frames, codec="mpeg4", fourcc=None)
    data = bytearray(path.read_bytes())
    box = data.index(b"tkhd") - 4
    fields = 4 * 5 + 8 + 2 * 4 if data[box + 8] == 0 else 8 + 8 + 4 + 4 + 8 + 8 + 2 * 4  # version 0 or 1 header
    matrix = box + 12 + fields
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    return path


def test_rotated_videos_come_back_as_displayed_rgb_from_every_backend(tmp_path):
    """decord turns such a file into 4-channel frames; every backend must return the same 3-channel frames,
    turned as a player shows them."""
    frames = np.zeros((6, 48, 64, 3), np.uint8)
    frames[:, :16, :16] = 255  # a bright top-left corner
    path = _rotated_mp4(tmp_path / "portrait.mp4", frames)
    assert probe(path).rotation == -90
    got = {b: read_frames(path, [0, 5], backend=b).numpy() for b in V.BACKENDS}
    for b, f in got.items():
        assert f.shape == (2, 64, 48, 3), b
        # a quarter turn clockwise moves the top-left corner to the top right
        assert f[0, :12, -12:].mean() > 200 and f[0, -12:, :12].mean() < 50, b
    np.testing.assert_array_equal(got["decord"], got["pyav"])
