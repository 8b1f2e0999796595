"""The manifest (one row per video, cached) and the dataset tree check."""

from __future__ import annotations

import os

import pytest
from conftest import HMDB51_FIXTURE, UCF101_FIXTURE, needs_shared
from fake_trees import make_ucf101

from harutils.data import check, manifest
from harutils.data.ucf101 import UCF101


def test_manifest_rows_and_cache(tmp_path, monkeypatch):
    root = make_ucf101(tmp_path / "ucf", groups=5, clips=1)
    bad = root / "UCF-101" / "YoYo" / "v_YoYo_g03_c01.avi"
    bad.write_bytes(b"garbage")
    (root / "UCF-101" / "YoYo" / "v_YoYo_g04_c01.avi").unlink()
    ds = UCF101(root, subset="test")
    out = tmp_path / "manifest.csv"
    m = manifest.scan(ds, out, workers=1, progress=False)
    assert list(m.columns) == manifest.COLUMNS and len(m) == 15 and out.is_file()
    row = m.set_index("path").loc[str(root / "UCF-101" / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g01_c01.avi")]
    assert (row["class"], row["role"], row["frames"], row["width"], row["status"]) == (
        "ApplyEyeMakeup", "test", 12, 40, "ok")
    assert set(m["role"]) == {"train", "val", "test"}
    bad_rows = manifest.bad_files(m)
    assert bad_rows["path"].tolist() == [str(bad)] and "cannot decode" in bad_rows["status"].iloc[0]
    assert (m["status"] == "missing").sum() == 1
    # a rescan probes only what changed
    calls = []
    real = manifest.probe_row
    monkeypatch.setattr(manifest, "probe_row", lambda p: calls.append(p) or real(p))
    again = manifest.scan(ds, out, workers=1, progress=False)
    assert calls == [] and again["frames"].tolist() == m["frames"].tolist()
    os.utime(bad, ns=(1, 1_000_000_000))
    manifest.scan(ds, out, workers=1, progress=False)
    assert calls == [str(bad)]


def test_check_reports_a_wrong_root(tmp_path, capsys):
    assert check.main(["ucf101", str(tmp_path / "nothing")]) == 1
    out = capsys.readouterr().out
    assert "does not exist" in out and "UCF-101" in out and "ucfTrainTestlist" in out


@needs_shared
def test_check_passes_a_complete_tree_and_names_each_problem(tmp_path, capsys):
    """Real split files with a stand-in file for every listed video: complete; then break it in three ways."""
    root = tmp_path / "ucf101"
    (root / "ucfTrainTestlist").mkdir(parents=True)
    (root / "UCF-101").mkdir()
    for f in (UCF101_FIXTURE / "ucfTrainTestlist").iterdir():
        (root / "ucfTrainTestlist" / f.name).write_bytes(f.read_bytes())
    _, listed, video_root = check._listed("ucf101", root)
    assert len(listed) == 13320
    for rel in listed:
        p = root / "UCF-101" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch()
    assert check.check_tree("ucf101", root, decode=False) == []
    (root / "UCF-101" / "YoYo" / "v_YoYo_g01_c01.avi").unlink()
    (root / "UCF-101" / "YoYo" / "v_YoYo_g99_c01.avi").touch()
    problems = check.check_tree("ucf101", root, decode=False)
    assert any("1 videos named by the splits are not on disk (by class: YoYo: 1)" in p for p in problems)
    assert any("1 .avi files on disk are in no split file; first: YoYo/v_YoYo_g99_c01.avi" in p for p in problems)
    (root / "ucfTrainTestlist" / "testlist02.txt").unlink()
    assert check.main(["ucf101", str(root), "--no-decode"]) == 1
    assert "testlist02.txt" in capsys.readouterr().out


@needs_shared
def test_check_decodes_the_real_hmdb51_clips(capsys):
    problems = check.check_tree("hmdb51", HMDB51_FIXTURE, decode=True, workers=2)
    assert not any("unreadable" in p for p in problems)
    assert any("6759 videos named by the splits are not on disk" in p for p in problems)


def test_check_finds_an_unreadable_video(tmp_path):
    root = tmp_path / "hmdb"
    from fake_trees import make_hmdb51

    make_hmdb51(root, sources=3, clips=1)
    bad = root / "wave" / "Source_0_wave_f_nm_np1_fr_med_0.avi"
    bad.write_bytes(bad.read_bytes()[:100])
    problems = check.check_tree("hmdb51", root, decode=True, workers=1)
    assert any(p.startswith(f"unreadable video {bad}") for p in problems)
    with pytest.raises(ValueError, match="'ucf101' or 'hmdb51'"):
        check.check_tree("kinetics", root)


def test_check_reports_repeats_and_exits_non_zero_on_a_train_test_overlap(tmp_path, capsys):

    root = make_ucf101(tmp_path / "ucf", groups=3, clips=1, frames=4)
    lists = root / "ucfTrainTestlist"
    train = (lists / "trainlist02.txt").read_bytes()
    (lists / "trainlist02.txt").write_bytes(train + train.splitlines(keepends=True)[0])
    problems = check.check_tree("ucf101", root, decode=False)
    assert any("trainlist02.txt names 1 videos more than once" in p for p in problems), problems
    test = (lists / "testlist03.txt").read_bytes()
    (lists / "testlist03.txt").write_bytes(test + train.splitlines(keepends=True)[0].split(b" ")[0] + b"\r\n")
    assert check.main(["ucf101", str(root), "--no-decode"]) == 1
    assert "videos are in both the train and the test list" in capsys.readouterr().out
