"""The frame cache: hits, misses, invalidation, atomic writes, resume and bad-video reports."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from conftest import moving_square_frames
from fake_trees import make_ucf101

from harutils.data.cache import FrameCache, build_caches
from harutils.data.encode import write_video
from harutils.data.sampling import Clip, MultiClip, UniformFrames
from harutils.data.ucf101 import UCF101
from harutils.data.video import read_frames


@pytest.fixture
def videos(tmp_path):
    return [write_video(tmp_path / f"v_X_g0{i}_c01.avi", moving_square_frames(20, 48, 64, seed=i)) for i in range(3)]


def test_all_frames_entry_matches_decoding(tmp_path, videos):
    cache = FrameCache(tmp_path / "cache", frame_size=24)
    arr = cache.load(videos[0])
    assert arr.shape == (20, 24, 32, 3) and arr.dtype == np.uint8
    assert np.array_equal(arr, read_frames(videos[0], range(20), frame_size=24).numpy())
    held = cache.load(videos[0])  # second read: a hit, read once from the store and then kept in memory
    assert not isinstance(held, np.memmap) and not held.flags.writeable
    assert cache.load(videos[0]) is held and np.array_equal(held, arr)


def test_entries_past_the_memory_budget_are_memory_mapped(tmp_path, videos, monkeypatch):
    cache = FrameCache(tmp_path / "cache", frame_size=24)
    for v in videos:
        cache.load(v)  # build the entries
    entry_bytes = 20 * 24 * 32 * 3
    monkeypatch.setattr("harutils.data.cache.MEMORY_BUDGET", int(entry_bytes * 1.5))
    fresh = FrameCache(tmp_path / "cache", frame_size=24)
    first, second = fresh.load(videos[0]), fresh.load(videos[1])
    assert not isinstance(first, np.memmap) and isinstance(second, np.memmap)
    assert np.array_equal(second, read_frames(videos[1], range(20), frame_size=24).numpy())


def test_sampler_entry_holds_only_eval_frames(tmp_path, videos):
    cache = FrameCache(tmp_path / "cache", frame_size=24, sampler=MultiClip(3, 4))
    arr = cache.load(videos[1])
    assert arr.shape == (3, 4, 24, 32, 3)
    idx = MultiClip(3, 4)(20)
    assert np.array_equal(arr.reshape(12, 24, 32, 3), read_frames(videos[1], idx.ravel(), frame_size=24).numpy())
    got = cache.read(videos[1], MultiClip(3, 4), training=False)
    assert torch.equal(got, torch.from_numpy(np.asarray(arr)))
    with pytest.raises(ValueError, match="cannot serve training"):
        cache.read(videos[1], MultiClip(3, 4), training=True)
    with pytest.raises(ValueError, match="cannot serve Clip"):
        cache.read(videos[1], Clip(4), training=False)


def test_key_changes_with_file_and_settings(tmp_path, videos):
    a = FrameCache(tmp_path / "c", 24)
    key = a.key(videos[0])
    assert key != FrameCache(tmp_path / "c", 32).key(videos[0])
    assert key != FrameCache(tmp_path / "c", 24, sampler=UniformFrames(5)).key(videos[0])
    assert key != FrameCache(tmp_path / "c", 24, sampler=UniformFrames(6)).key(videos[0])
    assert key != a.key(videos[1])
    assert key == FrameCache(tmp_path / "other", 24).key(videos[0])


def test_changed_video_is_a_miss_never_a_stale_read(tmp_path, videos):
    cache = FrameCache(tmp_path / "cache", frame_size=24)
    old = np.array(cache.load(videos[0]))
    write_video(videos[0], moving_square_frames(12, 48, 64, seed=9))
    os.utime(videos[0], ns=(1, 1_000_000_000))
    assert not cache.has(videos[0])
    new = cache.load(videos[0])
    assert new.shape[0] == 12 and old.shape[0] == 20


def test_build_reports_counts_bad_videos_and_resumes(tmp_path, videos):
    bad = tmp_path / "v_X_g09_c01.avi"
    bad.write_bytes(b"not a video")
    cache = FrameCache(tmp_path / "cache", frame_size=24)
    report = cache.build(videos[:2] + [bad], workers=2, progress=False)
    assert (report.built, report.reused) == (2, 0)
    assert len(report.bad) == 1 and report.bad[0][0] == str(bad) and "cannot decode" in report.bad[0][1]
    assert "1 bad videos skipped" in str(report)
    # a killed build leaves finished entries in place: the rerun only does the rest
    report = cache.build(videos, workers=2, progress=False)
    assert (report.built, report.reused) == (1, 2)
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_caches_of_several_sizes_built_in_one_pass_hold_what_each_builds_alone(tmp_path, videos, monkeypatch):
    bad = tmp_path / "v_X_g09_c01.avi"
    bad.write_bytes(b"not a video")
    alone = [FrameCache(tmp_path / f"alone{size}", frame_size=size) for size in (24, (20, 30))]
    for cache in alone:
        cache.build(videos, workers=1, progress=False)
    together = [FrameCache(tmp_path / f"together{size}", frame_size=size) for size in (24, (20, 30))]
    together[1].load(videos[1])  # one entry present already: reused, and that video decoded for the other size
    decodes = []
    import harutils.data.cache as cache_module
    real = cache_module.read_frames
    monkeypatch.setattr(cache_module, "read_frames", lambda *a, **k: decodes.append(a[0]) or real(*a, **k))
    reports = build_caches(together, videos + [bad], workers=1, progress=False)
    assert sorted(decodes) == sorted(map(str, videos))  # each good video decoded once, for every size
    assert [(r.built, r.reused) for r in reports] == [(len(videos), 0), (len(videos) - 1, 1)]
    assert all(len(r.bad) == 1 and r.bad[0][0] == str(bad) and "cannot decode" in r.bad[0][1] for r in reports)
    for a, b in zip(alone, together, strict=True):
        for video in videos:
            assert np.array_equal(a.load(video), b.load(video)), (a.frame_size, video)
    again = build_caches(together, videos, workers=1, progress=False)
    assert [(r.built, r.reused) for r in again] == [(0, len(videos))] * 2
    with pytest.raises(ValueError, match="all-frames caches"):
        build_caches([FrameCache(tmp_path / "eval", frame_size=24, sampler=UniformFrames(5))], videos)


def test_interrupted_write_leaves_no_entry(tmp_path, videos, monkeypatch):
    cache = FrameCache(tmp_path / "cache", frame_size=24)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.load(videos[0])
    assert not cache.has(videos[0])
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_dataset_reads_through_the_cache(tmp_path):
    root = make_ucf101(tmp_path / "ucf", groups=5, clips=1, frames=20)
    torch.manual_seed(0)
    ds = UCF101(root, subset="train", sampler=Clip(8), frame_size=16)
    cache = FrameCache(tmp_path / "cache", frame_size=16)
    assert cache.build(ds, workers=1, progress=False).built == len(ds)
    ds.cache = cache
    frames, _ = ds[0]
    assert frames.shape == (8, 16, 20, 3)
    # training draws a fresh clip start each time from the cached frames
    starts = set()
    all_frames = np.asarray(cache.load(ds.samples[0][0]))
    for _ in range(30):
        clip = ds[0][0].numpy()
        starts.add(next(i for i in range(13) if np.array_equal(all_frames[i : i + 8], clip)))
    assert len(starts) > 3
    # evaluation through the cache equals evaluation from the video
    ev = UCF101(root, subset="test", sampler=MultiClip(2, 8), frame_size=16)
    direct = ev[0][0]
    ev.cache = cache
    assert torch.equal(ev[0][0], direct)


def test_a_datasets_frame_caches_are_prepared_together_and_reported_in_order(tmp_path, videos, monkeypatch):
    from harutils.data.pipeline import FrameSettings, frame_store, prepare_all_frames

    settings = [FrameSettings(str(tmp_path), 24, "arrays"), FrameSettings(str(tmp_path), None, "none"),
                FrameSettings(str(tmp_path), 32, "arrays")]
    decodes = []
    import harutils.data.cache as cache_module
    real = cache_module.read_frames
    monkeypatch.setattr(cache_module, "read_frames", lambda *a, **k: decodes.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # build in this process, where the decodes are counted
    reports = prepare_all_frames(settings, "ucf101", tmp_path, videos, progress=False)
    assert sorted(decodes) == sorted(map(str, videos))  # both caches from one decode of each video
    assert [r.built for r in reports] == [len(videos), 0, len(videos)] and reports[1].probed == len(videos)
    for setting in (settings[0], settings[2]):
        cache = frame_store(setting, "ucf101", tmp_path)
        assert all(cache.has(v) for v in videos) and min(cache.load(videos[0]).shape[1:3]) == setting.frame_size
