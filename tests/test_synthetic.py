"""The synthetic dataset: official layouts, determinism, and honesty checks (appearance carries no label,
time-reversed pairs look alike frame by frame, group-aware validation holds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from harutils.data import stick_figures
from harutils.data import synthetic as S
from harutils.data import synthetic_render as R
from harutils.data.hmdb51 import HMDB51
from harutils.data.splits import read_hmdb51_split, read_ucf101_split
from harutils.data.ucf101 import UCF101
from harutils.data.video import probe, read_frames


@pytest.fixture(scope="module")
def small_ucf(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "ucf"
    return S.generate("ucf101", root, seed=3, classes=["Wave", "SitDown", "StandUp"], groups=4, clips_per_group=2,
                      frames=(20, 24), workers=2, progress=False)


@pytest.fixture(scope="module")
def small_hmdb(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "hmdb"
    return S.generate("hmdb51", root, seed=3, classes=["wave", "walk_left", "walk_right"], groups=5,
                      clips_per_group=1, frames=(20, 24), workers=2, progress=False)


def test_ucf101_layout_is_read_by_the_real_loader(small_ucf):
    classes, entries = read_ucf101_split(small_ucf / "ucfTrainTestlist", 1)
    assert classes == ["Wave", "SitDown", "StandUp"] and len(entries) == 3 * 4 * 2
    raw = (small_ucf / "ucfTrainTestlist" / "trainlist01.txt").read_bytes()
    assert raw.endswith(b"\r\n") and b"SitDown/v_SitDown_g02_c01.avi 2\r\n" in raw
    for split in (1, 2, 3):
        test = UCF101(small_ucf, split=split, subset="test")
        assert len(test) == 3 * 1 * 2 and not test.missing
    info = probe(small_ucf / "UCF-101" / "Wave" / "v_Wave_g01_c01.avi")
    assert (info.width, info.height, info.fps) == (320, 240, 25.0) and 20 <= info.frame_count <= 24
    import av

    with av.open(str(small_ucf / "UCF-101" / "Wave" / "v_Wave_g01_c01.avi")) as c:
        assert c.streams.video[0].codec_context.codec_tag == "XVID"


def test_hmdb51_layout_is_read_by_the_real_loader(small_hmdb):
    classes, entries = read_hmdb51_split(small_hmdb / "testTrainMulti_7030_splits", 2)
    assert classes == ["walk_left", "walk_right", "wave"]
    assert {e.role for e in entries} == {"train", "test"}
    ds = HMDB51(small_hmdb, split=1, subset="trainval")
    assert not ds.missing and len(ds) == 3 * 4
    widths = set()
    for path, _ in HMDB51(small_hmdb, subset="test").samples + ds.samples:
        info = probe(path)
        assert info.height == 240 and info.fps == 30.0
        widths.add(info.width)
        assert path.name.split("_")[0].startswith("Actor")
    assert widths <= {320, 352, 424}
    meta = json.loads((small_hmdb / "synthetic.json").read_text())
    assert meta["layout"] == "hmdb51" and meta["seed"] == 3


def test_same_seed_same_frames_other_seed_other_frames(tmp_path, small_ucf):
    again = S.generate("ucf101", tmp_path / "again", seed=3, classes=["Wave", "SitDown", "StandUp"], groups=4,
                       clips_per_group=2, frames=(20, 24), workers=1, progress=False)
    rel = "UCF-101/SitDown/v_SitDown_g03_c02.avi"
    n = probe(small_ucf / rel).frame_count
    assert np.array_equal(read_frames(small_ucf / rel, range(n)), read_frames(again / rel, range(n)))
    other = S.generate("ucf101", tmp_path / "other", seed=4, classes=["SitDown"], groups=4, clips_per_group=2,
                       frames=(20, 24), workers=1, progress=False)
    assert not np.array_equal(read_frames(small_ucf / rel, [0]), read_frames(other / rel, [0]))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="layout must be"):
        S.generate("kinetics", tmp_path / "x")
    with pytest.raises(ValueError, match="unknown ucf101 classes"):
        S.generate("ucf101", tmp_path / "x", classes=["Moonwalk"])
    with pytest.raises(ValueError, match="groups must be at least 4"):
        S.generate("ucf101", tmp_path / "x", groups=2)
    (tmp_path / "mine").mkdir()
    with pytest.raises(FileExistsError, match="not a generated synthetic dataset"):
        S.generate("ucf101", tmp_path / "mine")


def test_group_aware_validation_holds_on_generated_data(small_ucf):
    train = UCF101(small_ucf, subset="train")
    val = UCF101(small_ucf, subset="val")
    assert len(val) > 0 and not set(train.groups) & set(val.groups)


def _appearance_features(layout: str, classes, groups, seed=0):
    """Per frame: mean and std colour of the frame, figure scale and colours (what a still frame shows of looks)."""
    rows, labels, group_ids = [], [], []
    for label, cls in enumerate(classes):
        for g in groups:
            scene = S.group_scene(layout, seed, g)
            spec = S.clip_spec(layout, cls, scene, seed, g, 1, (16, 16))
            frames = S.render_clip(spec)
            for f in frames[::3]:
                flat = f.reshape(-1, 3).astype(np.float32)
                rows.append(np.concatenate([flat.mean(0), flat.std(0), [scene.scale], scene.body.shirt]))
                labels.append(label)
                group_ids.append(g)
    return np.array(rows), np.array(labels), np.array(group_ids)


def test_single_frame_appearance_does_not_predict_the_class():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = S.UCF_CLASSES
    x, y, g = _appearance_features("ucf101", classes, groups=range(1, 13))
    train, test = g <= 9, g > 9
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x[train], y[train])
    acc = clf.score(x[test], y[test])
    chance = 1 / len(classes)
    assert acc < 2 * chance, f"appearance predicts the class: {acc:.2f} vs chance {chance:.2f}"


@pytest.mark.parametrize("pair", stick_figures.TEMPORAL_PAIRS, ids=lambda p: "/".join(p))
def test_temporal_pairs_have_the_same_single_frame_distribution(pair):
    """A frame drawn at a random time from either action of a pair follows the same distribution of poses."""
    rng = np.random.default_rng(0)
    samples = {}
    for action in pair:
        values = []
        for i in range(400):
            spec = S.clip_spec("ucf101", "".join(w.title() for w in action.split("_")), S.group_scene("ucf101", 0, 1),
                               0, 1 + i % 8, i, (32, 48))
            u = rng.random()
            p = stick_figures.pose_at(action, u, spec.motion)
            pts = stick_figures.joints(p, stick_figures.Body())
            ys = [v[1] for v in pts.values()]
            values.append((max(ys) - min(ys), abs(p.dx), p.l_shoulder + p.r_shoulder, p.l_knee + p.r_knee))
        samples[action] = np.array(values)
    a, b = samples[pair[0]], samples[pair[1]]
    for k in range(a.shape[1]):
        assert stats.ks_2samp(a[:, k], b[:, k]).pvalue > 0.001, f"feature {k} differs between {pair}"


def test_temporal_pairs_differ_in_time():
    m = stick_figures.Motion()
    assert stick_figures.pose_at("sit_down", 0.0, m).dy > stick_figures.pose_at("sit_down", 1.0, m).dy
    assert stick_figures.pose_at("stand_up", 0.0, m).dy < stick_figures.pose_at("stand_up", 1.0, m).dy
    assert stick_figures.pose_at("walk_left", 1.0, m).dx < 0 < stick_figures.pose_at("walk_right", 1.0, m).dx


def test_clip_geometry_rounds_every_joint_as_one_at_a_time():
    """The clip's joints, converted to sub-pixel coordinates in one array pass, are what rounding each joint of each
    frame on its own gives (the rule the videos were first drawn by)."""
    scene = S.group_scene("hmdb51", 0, 3)
    spec = S.clip_spec("hmdb51", "box", scene, 0, 3, 1, (32, 48))
    walk = R.camera_walk(np.random.default_rng(spec.seed), spec)
    geometry = R.Geometry.of(spec)
    for t in range(spec.frames):
        pose = stick_figures.pose_at(spec.action, t / (spec.frames - 1), spec.motion)
        for name, (bx, by) in stick_figures.joints(pose, scene.body).items():
            x = scene.x + (spec.offset[0] + walk[t, 0]) + bx * scene.scale
            y = scene.ground + (spec.offset[1] + walk[t, 1]) - by * scene.scale
            assert geometry.frame(t)[name] == (int(round(x * 16)), int(round(y * 16))), (t, name)


def test_frames_and_masks_drawn_from_one_geometry_are_their_own_renderings():
    spec = S.clip_spec("ucf101", "SitDown", S.group_scene("ucf101", 0, 5), 0, 5, 1, (20, 24))
    frames, actor, moving = R.render_clip_and_masks(spec)
    alone = R.render_masks(spec)
    assert np.array_equal(frames, R.render_clip(spec))
    assert np.array_equal(actor, alone[0]) and np.array_equal(moving, alone[1])
    assert actor.any() and moving.any() and not (moving & ~actor).any()


def test_ensure_default_generates_once_and_reuses(tmp_path, monkeypatch):
    monkeypatch.setitem(S.DEFAULTS, "hmdb51", {"groups": 4, "clips_per_group": 1, "frames": (12, 12)})
    monkeypatch.setitem(S.LAYOUTS["hmdb51"], "classes", ["wave", "clap"])
    root = S.ensure_default("hmdb51", tmp_path, progress=False)
    stamp = (root / "synthetic.json").stat().st_mtime_ns
    assert S.ensure_default("hmdb51", tmp_path, progress=False) == root
    assert (root / "synthetic.json").stat().st_mtime_ns == stamp
    assert len(HMDB51(root, subset="trainval")) + len(HMDB51(root, subset="test")) == 2 * 4
