"""Nothing wrong without saying so: a full disk is not a bad video, damaged videos are left out by one rule and
named, a corrupt checkpoint is named with its remedy, two runs cannot share an output folder, W&B follows
WANDB_MODE."""

from __future__ import annotations

import errno
import json
import threading

import numpy as np
import pytest
import torch
from conftest import moving_square_frames

from harutils import checkpoints, experiment
from harutils.config import make_config
from harutils.data import synthetic
from harutils.data.cache import CacheWriteError, FrameCache
from harutils.data.encode import write_video


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("reliable") / "ucf"
    return synthetic.generate("ucf101", root, seed=3, classes=["Wave", "Squat"], groups=4, clips_per_group=2,
                              frames=(20, 24), workers=2, progress=False)


def _cfg(tmp_path, root, **kw):
    params = {"epochs": 1, "wandb_mode": "disabled", "out_dir": str(tmp_path / "art"),
              "data_dir": str(tmp_path / "data"), "data_root": str(root), "test_views": 1, **kw}
    return make_config("late_fusion", "ucf101", "demo", **params)


def test_a_full_disk_stops_the_cache_build_instead_of_skipping_videos(tmp_path, monkeypatch):
    videos = [write_video(tmp_path / f"v_X_g0{i}_c01.avi", moving_square_frames(20, 48, 64, seed=i)) for i in range(3)]
    cache = FrameCache(tmp_path / "cache", frame_size=24)
    cache.build(videos[:1], workers=1, progress=False)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(CacheWriteError, match=r"cannot write the frame cache entry .*No space left on device.*"
                                              r"free space on that disk or choose another data_dir"):
        cache.build(videos, workers=1, progress=False)
    assert not list((tmp_path / "cache").rglob("*.tmp")), "no partial entry is left behind"
    monkeypatch.undo()
    report = cache.build(videos, workers=1, progress=False)  # the next try completes the same cache
    assert (report.built, report.reused, report.bad) == (2, 1, [])


def test_truncated_and_unreadable_videos_are_left_out_by_one_rule_and_named(tmp_path, tiny, capsys):
    """The cached path rejects a truncated file as the check and the full profile do; the console and the
    metrics say which videos were left out and why."""
    root = tmp_path / "ucf"
    import shutil

    shutil.copytree(tiny, root)
    videos = sorted((root / "UCF-101").rglob("*.avi"))
    data = videos[0].read_bytes()
    videos[0].write_bytes(data[: len(data) // 10 + 4000])  # past the header, most frames gone
    videos[1].write_text("not a video")
    out = experiment.run(_cfg(tmp_path, root), progress=False)
    console = capsys.readouterr().out
    assert "2 unreadable videos left out of the run" in console
    assert videos[0].name in console and "truncated" in console
    left = out["test"]["ucf101"]["left_out"]["unreadable"]
    assert sorted(p for p, _ in left) == sorted(str(v) for v in videos[:2])
    saved = json.loads((_cfg(tmp_path, root).run_dir / "metrics.json").read_text())
    assert len(saved["test"]["ucf101"]["left_out"]["unreadable"]) == 2


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not a checkpoint", "truncated"])
def test_a_corrupt_checkpoint_is_named_with_its_remedy(tmp_path, content):
    path = tmp_path / "last.pt"
    if content == "truncated":
        checkpoints.save_checkpoint(path, {"model": {"w": torch.zeros(1000)}})
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_bytes(content)
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load_checkpoint(path)
    message = str(error.value)
    assert str(path) in message and "delete it" in message and "weights_only=False" not in message


def test_a_full_disk_while_checkpointing_names_the_file_and_keeps_the_last_one(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    checkpoints.save_checkpoint(path, {"model": {"w": torch.ones(3)}})

    def full(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:858] . PytorchStreamWriter failed writing file "
                           "data/0: file write failed; unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(checkpoints.CheckpointError, match=r"last.pt .*is the disk full"):
        checkpoints.save_checkpoint(path, {"model": {"w": torch.zeros(3)}})
    monkeypatch.undo()
    assert torch.equal(checkpoints.load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert not list(tmp_path.glob("*.tmp"))


def test_two_runs_into_one_folder_cannot_run_at_once(tmp_path, tiny):
    cfg = _cfg(tmp_path, tiny)
    held, release = threading.Event(), threading.Event()

    def hold():
        with experiment.exclusive(cfg.run_dir):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(60)
    try:
        with pytest.raises(RuntimeError, match="another run is writing .* now"):
            experiment.run(cfg, progress=False)
    finally:
        release.set()
        holder.join()
    assert experiment.run(cfg, progress=False)["test"]["ucf101"]["num_videos"] > 0  # free again


@pytest.mark.parametrize("env, given, expected", [("disabled", None, "disabled"), ("online", "", "online"),
                                                   (None, None, "offline"), ("disabled", "offline", "offline")])
def test_wandb_mode_follows_the_environment_unless_given(monkeypatch, env, given, expected):
    if env is None:
        monkeypatch.delenv("WANDB_MODE", raising=False)
    else:
        monkeypatch.setenv("WANDB_MODE", env)
    assert make_config("c3d", wandb_mode=given).wandb_mode == expected
    with pytest.raises(ValueError, match="wandb_mode must be"):
        make_config("c3d", wandb_mode="sometimes")
