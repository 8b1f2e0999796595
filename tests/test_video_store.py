"""The video store (full profile) and exact seeks: every real fixture clip read from the store equals a sequential
decode of the stored file; reads of the originals that seek equal reads that do not; keys, resume, bad videos."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch
from conftest import REAL_CLIPS, moving_square_frames, needs_shared

from harutils.data import seeking
from harutils.data import video as V
from harutils.data.encode import STORE_GOP, write_video
from harutils.data.resize import resize_frames
from harutils.data.sampling import Clip, MultiClip, UniformFrames
from harutils.data.store import CacheWriteError
from harutils.data.video import probe, read_frames
from harutils.data.video_store import STORE_SIDES, VideoStore, serves_as_is, store_side


def clip_ids(clip):
    return clip[0].name[:40]


def _sequential(path) -> np.ndarray:
    """Every frame of a file, decoded from the first by PyAV without any seek."""
    n = probe(path, allow_truncated=True).frame_count
    frames = V._read_pyav(path, set(range(n)), n - 1, lambda f: f)
    return np.stack([frames[i] for i in range(n)])


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return VideoStore(tmp_path_factory.mktemp("video_store"), keep_originals=False)  # a copy of every clip


@needs_shared
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=clip_ids)
def test_store_reads_are_exact_and_faithful_on_every_real_clip(clip, store):
    path, n, fps, width, height = clip
    info = store.load(path)
    entry = store.entry_path(path)
    assert info.frame_count == n and info.fps == pytest.approx(fps, abs=1e-3)
    assert probe(entry).keyframes == info.keyframes == tuple(range(0, n, STORE_GOP))  # what the header promises
    stored = _sequential(entry)
    assert stored.shape == (n, height - height % 2, width - width % 2, 3)
    rng = np.random.default_rng(0)
    for idx in [rng.integers(0, n, 16), np.arange(n - 16, n), UniformFrames(5)(n)[0], MultiClip(5, 16)(n).ravel()]:
        assert np.array_equal(read_frames(entry, idx, backend="pyav", info=info).numpy(), stored[idx])
    original = read_frames(path, np.arange(n)).numpy()[:, : stored.shape[1], : stored.shape[2]]
    assert _psnr(original, stored) > 35  # CRF 18: the worst real clip measures 35.5 dB


@needs_shared
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=clip_ids)
def test_reads_that_seek_equal_reads_from_the_first_frame(clip, monkeypatch):
    path, n, *_ = clip
    reference = _sequential(path)
    rng = np.random.default_rng(1)
    calls = []
    real = seeking.read_seeking
    monkeypatch.setattr(V, "read_seeking", lambda *a: calls.append(1) or real(*a))
    for idx in [rng.integers(0, n, 6), np.array([n - 1]), np.arange(n // 2, n // 2 + 16)]:
        assert np.array_equal(read_frames(path, idx, backend="pyav").numpy(), reference[idx])
    keyframes = probe(path).keyframes
    if len(keyframes) > 1 and keyframes[1] <= n // 2:  # the late 16-frame clip skips a quarter or more
        assert calls, "a file with exact seeks was decoded from its first frame"
    if "hmdb51" in str(path):
        assert keyframes == ()  # HMDB51's packed DivX streams: no exact seek, decoded from the first frame


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    return VideoStore(tmp_path_factory.mktemp("video_store_128"), max_side=128)


@needs_shared
@pytest.mark.parametrize("clip", REAL_CLIPS, ids=clip_ids)
def test_the_128_px_store_is_exact_and_faithful_to_the_original_at_its_size(clip, small_store):
    path, n, *_ = clip
    info = small_store.load(path)
    entry = small_store.entry_path(path)
    stored = _sequential(entry)
    assert stored.shape[1] == 128 and info.frame_count == n
    idx = MultiClip(5, 16)(n).ravel()
    assert np.array_equal(read_frames(entry, idx, backend="pyav", info=info).numpy(), stored[idx])
    original = resize_frames(read_frames(path, np.arange(n)), 128).numpy()[:, :, : stored.shape[2]]
    assert _psnr(original, stored) > 33  # the worst real clip measures 33.6 dB at 128 px (35.5 at 256)


@needs_shared
def test_originals_that_seek_exactly_and_often_are_read_in_place_with_the_same_frames(tmp_path):
    store = VideoStore(tmp_path / "s", frame_size=112)
    clips = [c[0] for c in REAL_CLIPS]
    report = store.build(clips, progress=False)
    kept = [c for c in clips if store.kept_path(c).is_file()]
    assert kept == [c for c in clips if serves_as_is(probe(c), 256)]
    assert kept and all("UCF-101" in str(c) for c in kept)  # XviD with a keyframe every 12 frames; no HMDB51 clip
    assert report.kept == len(kept) and "read in place" in str(report)
    assert report.disk_bytes == sum(store.entry_path(c).stat().st_size for c in clips if c not in kept)
    for clip in kept:
        assert not store.entry_path(clip).exists()
        n = probe(clip).frame_count
        assert store.load(clip) == probe(clip)
        for sampler in (UniformFrames(5), MultiClip(3, 16)):
            idx = sampler(n)
            got = store.read(clip, sampler, training=False)
            assert torch.equal(got, read_frames(clip, idx.ravel(), frame_size=112, backend="pyav").reshape(got.shape))
    again = store.build(clips, progress=False)
    assert again.built == 0 and again.kept == len(kept)


def test_an_original_is_kept_only_when_a_copy_would_read_no_better():
    from harutils.data.video import VideoInfo

    every_12 = VideoInfo(100, 25.0, 320, 240, 4.0, 100, "mpeg4", 0, tuple(range(0, 100, 12)))
    assert serves_as_is(every_12, 256)
    assert not serves_as_is(every_12, 128)  # the 128 px store shrinks it
    assert not serves_as_is(dataclasses.replace(every_12, keyframes=()), 256)  # no exact seek (HMDB51)
    assert not serves_as_is(dataclasses.replace(every_12, keyframes=(0, 12, 60)), 256)  # 48 frames apart
    assert not serves_as_is(dataclasses.replace(every_12, keyframes=(0, 12, 24, 80)), 256)  # the last 20 frames
    assert not serves_as_is(dataclasses.replace(every_12, rotation=-90), 256)
    assert not serves_as_is(dataclasses.replace(every_12, width=321), 256)  # odd: the copy trims it


def test_each_frame_size_reads_the_smallest_store_not_below_it():
    assert [store_side(s) for s in (64, 112, 128, 129, 224, 256)] == [128, 128, 128, 256, 256, 256]
    assert store_side((112, 112)) == 128 and store_side((112, 160)) == 256  # (h, w): neither side scaled up
    assert store_side(None) == store_side(320) == STORE_SIDES[-1]  # as stored, or scaled up from the largest


def test_seek_plan_runs_and_cost():
    assert seeking.seek_plan((), [3, 50]) == [(0, 50)]
    assert seeking.seek_plan((0, 16, 32, 48), [3, 5, 40, 41, 47]) == [(0, 5), (32, 47)]
    assert seeking.seek_plan((0, 16, 32), [15, 16, 17]) == [(0, 17)]  # decoding on reaches 16: no seek
    assert seeking.decoded_by_plan([(0, 5), (32, 47)]) == 22


def test_a_seek_that_lands_wrong_falls_back_to_a_sequential_read(tmp_path, monkeypatch):
    store = VideoStore(tmp_path / "s", keep_originals=False)
    video = write_video(tmp_path / "v.avi", moving_square_frames(48, 48, 64))
    entry, info = store.entry_path(video), store.load(video)

    def missed(*_):
        raise seeking.SeekMissed("landed elsewhere")

    monkeypatch.setattr(V, "read_seeking", missed)
    assert np.array_equal(read_frames(entry, [40, 41], backend="pyav", info=info).numpy(), _sequential(entry)[40:42])


def test_one_store_serves_every_frame_size_and_random_sampling_stays_random(tmp_path):
    video = write_video(tmp_path / "v.avi", moving_square_frames(60, 48, 64))
    full = VideoStore(tmp_path / "s", keep_originals=False)
    small = VideoStore(tmp_path / "s", frame_size=24, keep_originals=False)
    assert full.entry_path(video) == small.entry_path(video)  # the frame size is applied on read, not stored
    full.load(video)
    whole = torch.from_numpy(_sequential(full.entry_path(video)))
    clip = Clip(8)
    a = small.read(video, clip, training=True, rng=np.random.default_rng(0))
    b = small.read(video, clip, training=True, rng=np.random.default_rng(1))
    assert a.shape == (1, 8, 24, 32, 3) and not torch.equal(a, b)  # a fresh clip start per draw
    start = int(clip(60, True, np.random.default_rng(0))[0, 0])
    assert torch.equal(a[0], resize_frames(whole[start : start + 8], 24))


def test_key_follows_the_video_and_the_store_settings(tmp_path):
    video = write_video(tmp_path / "v.avi", moving_square_frames(20, 48, 64))
    store = VideoStore(tmp_path / "s")
    key = store.key(video)
    assert key != VideoStore(tmp_path / "s", max_side=128).key(video)
    assert key != VideoStore(tmp_path / "s", keep_originals=False).key(video)
    store.load(video)
    write_video(video, moving_square_frames(12, 48, 64, seed=3))
    os.utime(video, ns=(1, 1_000_000_000))
    assert not store.has(video) and store.load(video).frame_count == 12  # a changed video is a miss, never stale


def test_large_sources_are_stored_at_max_side_and_odd_sides_are_trimmed(tmp_path):
    video = write_video(tmp_path / "v.avi", moving_square_frames(10, 64, 96))
    info = VideoStore(tmp_path / "s", max_side=32).load(video)
    assert (info.height, info.width) == (32, 48)
    assert VideoStore(tmp_path / "t", max_side=33).load(video).height == 32  # 33 x 49.5 -> even sides


def test_build_reports_bad_videos_resumes_and_leaves_no_partial_entry(tmp_path, monkeypatch):
    videos = [write_video(tmp_path / f"v{i}.avi", moving_square_frames(20, 48, 64, seed=i)) for i in range(3)]
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video")
    store = VideoStore(tmp_path / "s", keep_originals=False)
    report = store.build(videos[:2] + [bad], workers=1, progress=False)
    assert (report.built, report.reused) == (2, 0) and report.bad[0][0] == str(bad)
    assert "video store: 2 built" in str(report) and report.disk_bytes > 0

    def disk_full(path, *a, **k):
        open(path, "wb").write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("harutils.data.video_store.write_video", disk_full)
    with pytest.raises(CacheWriteError, match="No space left"):
        store.build(videos, workers=1, progress=False)
    assert not store.has(videos[2]) and not list((tmp_path / "s").rglob("*.tmp*"))
    monkeypatch.undo()
    report = store.build(videos, workers=1, progress=False)
    assert (report.built, report.reused) == (1, 2)
