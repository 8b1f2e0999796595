"""Official split files (the real ones in ../shared) and the validation splits."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import HMDB51_FIXTURE, UCF101_FIXTURE, needs_shared

from harutils.data import splits as S

pytestmark = needs_shared

UCF_COUNTS = {1: (9537, 3783), 2: (9586, 3734), 3: (9624, 3696)}


@pytest.mark.parametrize("split", [1, 2, 3])
def test_ucf101_split_counts(split):
    classes, entries = S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", split)
    assert len(classes) == 101
    roles = Counter(e.role for e in entries)
    assert (roles["train"], roles["test"]) == UCF_COUNTS[split]
    assert {e.label for e in entries} == set(range(101))


def test_ucf101_labels_follow_classind_and_quirks_are_kept():
    classes, entries = S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", 1)
    assert classes[0] == "ApplyEyeMakeup" and classes[36] == "HandstandPushups" and classes[-1] == "YoYo"
    hs = [e for e in entries if e.label == 36]
    assert all(e.relpath.startswith("HandstandPushups/v_HandStandPushups_g") for e in hs)
    first = next(e for e in entries if e.role == "test")
    assert first.relpath == "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi" and first.label == 0
    assert first.group == "applyeyemakeup_g01"
    # no stray carriage returns survive the CRLF files
    assert not any("\r" in e.relpath for e in entries)


def test_ucf101_official_split_is_by_group():
    _, entries = S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", 1)
    train = {e.group for e in entries if e.role == "train"}
    test = {e.group for e in entries if e.role == "test"}
    assert not train & test


@pytest.mark.parametrize("split", [1, 2, 3])
def test_hmdb51_split_counts(split):
    classes, entries = S.read_hmdb51_split(HMDB51_FIXTURE / "testTrainMulti_7030_splits", split)
    assert len(classes) == 51 and classes == sorted(classes)
    per_class = Counter((e.label, e.role) for e in entries)
    for label in range(51):
        assert per_class[(label, "train")] == 70 and per_class[(label, "test")] == 30


def test_hmdb51_every_class_lists_all_its_videos():
    split_dir = HMDB51_FIXTURE / "testTrainMulti_7030_splits"
    total = sum(len(S.hmdb51_class_videos(split_dir, c)) for c in S.hmdb51_classes(split_dir))
    assert total == 6766


def test_hmdb51_groups_are_source_videos():
    assert S.hmdb51_group("April_09_brush_hair_u_nm_np1_ba_goo_0.avi", "brush_hair") == "April_09"
    name = "Golf_Tips_-_Hit_The_Driver_300+_Yards!!!_golf_f_nm_np1_fr_med_0.avi"
    assert S.hmdb51_group(name, "golf") == "Golf_Tips_-_Hit_The_Driver_300+_Yards!!!"
    # a class name that also occurs in the source name: the tags after the *last* one decide
    assert S.hmdb51_group("how_to_climb_climb_f_cm_np1_le_med_2.avi", "climb") == "how_to_climb"
    _, entries = S.read_hmdb51_split(HMDB51_FIXTURE / "testTrainMulti_7030_splits", 1)
    groups = Counter(e.group for e in entries)
    assert len(groups) > 1000 and max(groups.values()) < 100  # a movie source spans classes


def test_bad_split_arguments_and_files(tmp_path):
    with pytest.raises(ValueError, match="split must be 1, 2 or 3, got 4"):
        S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", 4)
    with pytest.raises(S.SplitError, match="missing split folder .*ucfTrainTestlist"):
        S.read_ucf101_split(tmp_path / "ucfTrainTestlist", 1)
    (tmp_path / "classInd.txt").write_text("1 A\r\n")
    with pytest.raises(S.SplitError, match="trainlist01.txt.*UCF101TrainTestSplits"):
        S.read_ucf101_split(tmp_path, 1)
    with pytest.raises(S.SplitError, match="no <class>_test_split"):
        S.read_hmdb51_split(tmp_path, 1)
    (tmp_path / "a_test_split1.txt").write_text("x_a_f_nm_np1_fr_med_0.avi 7\n")
    with pytest.raises(S.SplitError, match=r"a_test_split1.txt, line 1: flag '7' is not 0, 1 or 2"):
        S.read_hmdb51_split(tmp_path, 1)


def _ucf(tmp_path, classind: bytes, train: bytes, test: bytes = b"A/v_A_g02_c01.avi\r\n"):
    (tmp_path / "classInd.txt").write_bytes(classind)
    (tmp_path / "trainlist01.txt").write_bytes(train)
    (tmp_path / "testlist01.txt").write_bytes(test)
    return tmp_path


@pytest.mark.parametrize("classind, train, message", [
    (b"1 A\r\n", "A/v_A_g01_c01.avi 1\r\n".encode("utf-16"), r"trainlist01.txt is not UTF-8 text .*re-save it"),
    (b"1 A\r\n", b"A/v_A_g01 c01.avi 1\r\n", r"trainlist01.txt, line 1: expected .*names with spaces"),
    (b"1 A\r\n", b"A/v_A_g01_c01.avi one\r\n", r"trainlist01.txt, line 1: label 'one' disagrees"),
    (b"one A\r\n", b"A/v_A_g01_c01.avi 1\r\n", r"classInd.txt, line 1: the index 'one' is not a number"),
    (b"1 A\r\n", b"A/clip_01.avi 1\r\n", r"trainlist01.txt, line 1: not a UCF101 clip name"),
    (b"1 A\r\n", b"\r\n\r\n", r"trainlist01.txt lists nothing"),
    (b"1 A\r\n", b"A/v_A_g02_c01.avi 1\r\n", r"1 videos are in both the train and the test list"),
])
def test_malformed_split_files_name_the_file_line_and_remedy(tmp_path, classind, train, message):
    with pytest.raises(S.SplitError, match=message):
        S.read_ucf101_split(_ucf(tmp_path, classind, train), 1)


def test_a_byte_order_mark_is_read_and_repeats_are_said_and_dropped(tmp_path):
    split = _ucf(tmp_path, b"\xef\xbb\xbf1 A\r\n", b"A/v_A_g01_c01.avi 1\r\nA/v_A_g01_c01.avi 1\r\n")
    with pytest.warns(S.DuplicateEntriesWarning, match="trainlist01.txt names 1 videos more than once"):
        classes, entries = S.read_ucf101_split(split, 1)
    assert classes == ["A"] and [e.relpath for e in entries] == ["A/v_A_g01_c01.avi", "A/v_A_g02_c01.avi"]


@pytest.mark.parametrize("dataset", ["ucf101", "hmdb51"])
def test_group_val_split_holds_on_the_real_train_lists(dataset):
    if dataset == "ucf101":
        _, entries = S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", 1)
    else:
        _, entries = S.read_hmdb51_split(HMDB51_FIXTURE / "testTrainMulti_7030_splits", 1)
    train = [e for e in entries if e.role == "train"]
    labels = np.array([e.label for e in train])
    groups = [e.group for e in train]
    tr, va = S.group_val_split(labels, groups, 0.2, seed=0)
    assert len(set(tr) & set(va)) == 0 and len(tr) + len(va) == len(train)
    assert not {groups[i] for i in tr} & {groups[i] for i in va}, "a group straddles train and val"
    assert 0.15 < len(va) / len(train) < 0.25
    # stratified: every class is in val
    assert set(labels[va]) == set(labels)
    # reproducible from the seed, different for another seed
    assert np.array_equal(va, S.group_val_split(labels, groups, 0.2, seed=0)[1])
    assert not np.array_equal(va, S.group_val_split(labels, groups, 0.2, seed=1)[1])


def test_leaky_split_does_leak_groups():
    _, entries = S.read_ucf101_split(UCF101_FIXTURE / "ucfTrainTestlist", 1)
    train = [e for e in entries if e.role == "train"]
    labels = np.array([e.label for e in train])
    groups = [e.group for e in train]
    tr, va = S.leaky_val_split(labels, 0.2, seed=0)
    shared = {groups[i] for i in tr} & {groups[i] for i in va}
    assert len(shared) > 100
