"""UCF101 and HMDB51 datasets on fake trees in the official formats and on the real fixtures."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import HMDB51_FIXTURE, UCF101_FIXTURE, needs_shared
from fake_trees import HMDB_CLASSES, UCF_CLASSES, make_hmdb51, make_ucf101

from harutils.data.base import DatasetLayoutError, MissingVideosWarning
from harutils.data.hmdb51 import HMDB51
from harutils.data.sampling import Clip, MultiClip, UniformFrames
from harutils.data.ucf101 import UCF101


@pytest.fixture(scope="module")
def ucf_root(tmp_path_factory):
    return make_ucf101(tmp_path_factory.mktemp("ucf"))


@pytest.fixture(scope="module")
def hmdb_root(tmp_path_factory):
    return make_hmdb51(tmp_path_factory.mktemp("hmdb"))


def test_ucf101_fake_tree(ucf_root):
    train = UCF101(ucf_root, subset="train", sampler=Clip(8))
    val = UCF101(ucf_root, subset="val")
    test = UCF101(ucf_root, subset="test")
    assert train.classes == UCF_CLASSES
    assert len(test) == 3 * 2 * 2 and len(train) + len(val) == 3 * 4 * 2
    assert not set(train.groups) & set(val.groups)
    assert sorted({label for _, label in val.samples}) == [0, 1, 2]  # stratified
    frames, label = train[0]
    assert frames.shape == (8, 32, 40, 3) and frames.dtype == torch.uint8
    assert label == train.samples[0][1]
    assert any("HandStandPushups" in str(p) for p, _ in train.samples + val.samples)


def test_ucf101_views_and_resize(ucf_root):
    ds = UCF101(ucf_root, subset="test", sampler=MultiClip(3, 4), frame_size=16)
    frames, _ = ds[0]
    assert frames.shape == (3, 4, 16, 20, 3)
    ds = UCF101(ucf_root, subset="test", sampler=UniformFrames(5))
    assert ds[0][0].shape == (5, 32, 40, 3)


def test_hmdb51_fake_tree(hmdb_root):
    train = HMDB51(hmdb_root, subset="train")
    test = HMDB51(hmdb_root, subset="test")
    trainval = HMDB51(hmdb_root, subset="trainval")
    assert train.classes == sorted(HMDB_CLASSES)
    assert len(test) == 3 * 2 * 2
    assert len(trainval) == 3 * 3 * 2  # flag-0 videos are unused
    assert {g.split("_")[1] for g in trainval.groups} <= {"2", "3", "4"}
    assert test[0][0].shape == (16, 32, 40, 3)  # 12 frames looped to a 16-frame clip


def test_leaky_val_split_is_available(ucf_root):
    leaky = UCF101(ucf_root, subset="val", leaky_val=True, seed=3)
    honest = UCF101(ucf_root, subset="val", seed=3)
    assert leaky.samples != honest.samples


@needs_shared
def test_wrong_root_lists_what_was_expected(tmp_path):
    with pytest.raises(DatasetLayoutError, match="does not exist.*UCF-101.*ucfTrainTestlist.*crcv.ucf.edu"):
        UCF101(tmp_path / "nowhere")
    (tmp_path / "UCF-101").mkdir()
    with pytest.raises(DatasetLayoutError, match="lacks .*ucfTrainTestlist"):
        UCF101(tmp_path)
    with pytest.raises(DatasetLayoutError, match="testTrainMulti_7030_splits.*153 files"):
        HMDB51(tmp_path)
    with pytest.raises(ValueError, match="subset must be"):
        UCF101(UCF101_FIXTURE, subset="validation")


def test_missing_videos_are_reported_and_left_out(tmp_path):
    root = make_ucf101(tmp_path / "ucf", groups=5, clips=1)
    gone = root / "UCF-101" / "YoYo" / "v_YoYo_g01_c01.avi"
    gone.unlink()
    with pytest.warns(MissingVideosWarning, match=r"UCF101 test: 1 of 6 videos .* v_YoYo_g01_c01.avi"):
        ds = UCF101(root, subset="test")
    assert len(ds) == 5 and ds.missing == [gone]


def test_bad_video_in_dataset_raises_naming_the_file(tmp_path):
    root = make_ucf101(tmp_path / "ucf", groups=5, clips=1)
    bad = root / "UCF-101" / "YoYo" / "v_YoYo_g01_c01.avi"
    bad.write_text("garbage")
    ds = UCF101(root, subset="test")
    i = [p for p, _ in ds.samples].index(bad)
    from harutils.data.video import VideoError

    with pytest.raises(VideoError, match="v_YoYo_g01_c01.avi"):
        ds[i]
    assert ds.exclude([bad]) == [bad] and len(ds) == 5


@needs_shared
def test_real_ucf101_fixture():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        test = UCF101(UCF101_FIXTURE, subset="test", sampler=Clip(16))
    assert len(test.classes) == 101 and len(test) == 10  # PlayingGuitar's clip is in the train list
    msg = str(next(w.message for w in caught if issubclass(w.category, MissingVideosWarning)))
    assert "3773 of 3783" in msg
    by_name = {p.name: label for p, label in test.samples}
    assert by_name["v_ApplyEyeMakeup_g01_c01.avi"] == 0
    assert by_name["v_PushUps_g02_c03.avi"] == 71
    frames, label = test[0]
    assert frames.shape == (16, 240, 320, 3)
    with pytest.warns(MissingVideosWarning, match="9536 of 9537"):
        trainval = UCF101(UCF101_FIXTURE, subset="trainval")
    assert [p.name for p, _ in trainval.samples] == ["v_PlayingGuitar_g16_c02.avi"]
    assert trainval.samples[0][1] == 62  # label 63 in the 1-based list


@needs_shared
def test_real_hmdb51_fixture():
    with pytest.warns(MissingVideosWarning):
        trainval = HMDB51(HMDB51_FIXTURE, subset="trainval")
    with pytest.warns(MissingVideosWarning):
        test = HMDB51(HMDB51_FIXTURE, subset="test")
    assert len(trainval.classes) == 51
    assert len(trainval) == 5 and len(test) == 2
    names = {p.parent.name for p, _ in test.samples}
    assert names == {"punch", "climb_stairs"}
    for p, label in trainval.samples + test.samples:
        assert trainval.classes[label] == p.parent.name
    frames, _ = test[0]
    assert frames.shape[0] == 16
