"""Self-supervised pretraining (the playback pretext task) and fine-tuning on a fraction of the labels."""

from __future__ import annotations

import pytest
import torch

from harutils import experiment, pretext
from harutils.config import make_config
from harutils.data import synthetic as S
from harutils.models import build_model


class FakeClips(torch.utils.data.Dataset):
    """Clips whose frame t is filled with the value t, so a clip's order can be read off it."""

    def __init__(self, n: int, views: int = 0):
        self.samples = [(f"video{i}.avi", i % 2) for i in range(n)]
        self.views = views

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        clip = torch.arange(8.0).view(1, 8, 1, 1).expand(3, 8, 4, 4)
        return (clip.expand(self.views, -1, -1, -1, -1) if self.views else clip), self.samples[i][1]


def _order(clip: torch.Tensor) -> list[int]:
    return clip[..., 0, :, 0, 0].reshape(-1, 8)[0].long().tolist()


def test_playback_orders():
    g = torch.Generator().manual_seed(0)
    assert pretext.playback_order(0, 6, g).tolist() == [0, 1, 2, 3, 4, 5]
    assert pretext.playback_order(1, 6, g).tolist() == [5, 4, 3, 2, 1, 0]
    for _ in range(50):
        shuffled = pretext.playback_order(2, 3, g).tolist()
        assert sorted(shuffled) == [0, 1, 2] and shuffled not in ([0, 1, 2], [2, 1, 0])


def test_evaluation_items_are_fixed_and_every_view_plays_alike():
    ds = pretext.PlaybackDataset(FakeClips(6, views=3), training=False, seed=0)
    for i in range(6):
        clip, kind = ds[i]
        again, _ = ds[i]
        assert kind == i % 3 and torch.equal(clip, again)
        orders = [clip[v, 0, :, 0, 0].long().tolist() for v in range(3)]
        assert orders[0] == orders[1] == orders[2]
        assert (orders[0] == list(range(8))) == (kind == 0) and (orders[0] == list(range(7, -1, -1))) == (kind == 1)
    assert ds.classes == ["forward", "backward", "shuffled"] and [s[1] for s in ds.samples] == [0, 1, 2, 0, 1, 2]


def test_training_items_draw_their_order_and_label_together():
    torch.manual_seed(0)
    ds = pretext.PlaybackDataset(FakeClips(4), training=True)
    seen = set()
    for _ in range(60):
        clip, kind = ds[0]
        order = clip[0, :, 0, 0].long().tolist()
        assert (order == list(range(8))) == (kind == 0)
        assert (order == list(range(7, -1, -1))) == (kind == 1)
        seen.add(kind)
    assert seen == {0, 1, 2}


def test_label_subset_keeps_a_share_of_every_class():
    labels = [0] * 20 + [1] * 10 + [2] * 3
    kept = pretext.label_subset(labels, 0.1, seed=0)
    assert [labels[i] for i in kept].count(0) == 2 and [labels[i] for i in kept].count(1) == 1
    assert [labels[i] for i in kept].count(2) == 1  # never a class without a clip
    assert kept == pretext.label_subset(labels, 0.1, seed=0) != pretext.label_subset(labels, 0.1, seed=1)
    assert pretext.label_subset(labels, 1.0, seed=0) == list(range(33))
    with pytest.raises(ValueError, match="label_fraction"):
        pretext.label_subset(labels, 0.0, seed=0)


class FakeBundle:
    def __init__(self, n: int):
        self.name, self.train = "ucf101", FakeClips(n)
        self.train.groups = [f"g{i}" for i in range(n)]


def test_a_label_fraction_epoch_makes_as_many_steps_as_one_on_all_the_labels(capsys):
    bundle = pretext.for_run(make_config("i3d", "ucf101", "demo", label_fraction=0.1), FakeBundle(40))
    kept = {path for path, _ in bundle.train.samples}
    assert len(kept) == 4 == pretext.distinct_clips(bundle.train)  # 2 of each class's 20
    assert len(bundle.train) == 40 and len(bundle.train.groups) == 40  # 10 passes over the 4 clips an epoch
    assert sorted(bundle.train.samples) == sorted([s for s in bundle.train.samples[:4]] * 10)
    assert "10 passes over them an epoch" in capsys.readouterr().out
    once = pretext.for_run(make_config("i3d", "ucf101", "demo", label_fraction=0.1, steps_as_all_labels=False),
                           FakeBundle(40))
    assert len(once.train) == 4 == pretext.distinct_clips(once.train)
    assert "passes" not in capsys.readouterr().out
    assert pretext.for_run(make_config("i3d", "ucf101", "demo"), FakeBundle(40)).train.samples == FakeClips(40).samples


def test_config_names_the_runs_and_checks_the_settings(tmp_path):
    cfg = make_config("i3d", "ucf101", "demo", pretext="playback", out_dir=str(tmp_path))
    assert cfg.run_name == "i3d_ucf101_split1_demo_playback" and cfg.order_probe is False
    tuned = make_config("i3d", "ucf101", "demo", label_fraction=0.1, init_from=str(cfg.run_dir))
    assert tuned.run_name == "i3d_ucf101_split1_demo_labels10_finetuned" and tuned.order_probe is False
    assert make_config("i3d", "ucf101", "demo", label_fraction=0.1).order_probe is False  # the study's runs: no probe
    assert make_config("i3d", "ucf101", "demo", leaky_val=True).order_probe is False
    assert make_config("i3d", "ucf101", "demo").order_probe is True
    assert make_config("i3d", "ucf101", "demo", leaky_val=True, order_probe=True).order_probe is True
    with pytest.raises(ValueError, match="pretext must be one of"):
        make_config("i3d", "ucf101", "demo", pretext="jigsaw")
    with pytest.raises(ValueError, match="label_fraction"):
        make_config("i3d", "ucf101", "demo", label_fraction=1.5)


def test_initialise_from_loads_all_but_the_head_and_refuses_misfits(tmp_path):
    torch.manual_seed(0)
    source = build_model("i3d", 3, model_size="small")
    torch.save({"model": source.state_dict(), "epoch": 0}, tmp_path / "best.pt")
    target = build_model("i3d", 14, model_size="small")
    report = pretext.initialise_from(target, tmp_path)
    assert "missing 2" in report  # the new 14-way head
    torch.testing.assert_close(target.backbone.conv1.weight, source.backbone.conv1.weight)
    with pytest.raises(ValueError, match=r"best\.pt do not fit"):
        pretext.initialise_from(build_model("c3d", 14, model_size="small"), tmp_path)
    with pytest.raises(FileNotFoundError, match="train that run first"):
        pretext.initialise_from(target, tmp_path / "nothing_here")


@pytest.fixture(scope="module")
def tiny_ucf(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "ucf"
    return S.generate("ucf101", root, seed=1, classes=["Wave", "Jump", "SitDown", "StandUp"], groups=6,
                      clips_per_group=2, frames=(24, 32), workers=2, progress=False)


def test_pretrain_then_fine_tune_on_a_tenth_of_the_labels(tmp_path, tiny_ucf):
    common = {"wandb_mode": "disabled", "out_dir": str(tmp_path / "art"), "data_dir": str(tmp_path / "data"),
              "data_root": str(tiny_ucf), "test_views": 1}
    pre = make_config("i3d", "ucf101", "demo", epochs=2, pretext="playback", **common)
    out = experiment.run(pre, progress=False)
    test = out["test"]["ucf101"]
    assert list(test["per_class_accuracy"]) == ["forward", "backward", "shuffled"]
    assert "temporal_order_probe" not in test
    tuned = make_config("i3d", "ucf101", "demo", epochs=1, label_fraction=0.1, init_from=str(pre.run_dir), **common)
    out = experiment.run(tuned, progress=False)
    assert "best.pt" in out["card"]["weights"] and "missing 2" in out["card"]["weights"]
    assert out["test"]["ucf101"]["sizes"]["train"] == 4  # one labelled clip of each of the 4 classes
    assert list(out["test"]["ucf101"]["per_class_accuracy"]) == ["Wave", "Jump", "SitDown", "StandUp"]


def test_the_notebooks_epochs_given_else_the_demo_budget_else_the_profiles():
    assert pretext.epochs_for("demo", None, None) == (3, 3)
    assert pretext.epochs_for("demo", 1, None) == (1, 1)  # run_all.sh --epochs 1: a quick run throughout
    assert pretext.epochs_for("demo", None, 2) == (2, 3)
    assert pretext.epochs_for("full", None, None) == (None, None)
