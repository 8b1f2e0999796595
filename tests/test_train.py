"""The training engine: learning on synthetic data, metrics, resume after a kill, joint training, tracking, DDP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO

from harutils import evaluate as E
from harutils import experiment, placement
from harutils import train as T
from harutils.config import joint_models, make_config, other_dataset
from harutils.data import pipeline
from harutils.data import synthetic as S
from harutils.data.transforms import normalise_clips
from harutils.models import JointModel
from harutils.runtime import DistInfo

EASY = ["Wave", "JumpingJack", "Squat", "WalkLeft"]


@pytest.fixture(scope="module")
def tiny_ucf(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "ucf"
    return S.generate("ucf101", root, seed=1, classes=EASY, groups=6, clips_per_group=4, frames=(24, 32),
                      workers=2, progress=False)


@pytest.fixture(scope="module")
def tiny_hmdb(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "hmdb"
    return S.generate("hmdb51", root, seed=1, classes=["wave", "jump", "march"], groups=5, clips_per_group=2,
                      frames=(24, 32), workers=2, progress=False)


def _cfg(tmp_path, root, model="late_fusion", **kw):
    params = {"epochs": 3, "wandb_mode": "disabled", "out_dir": str(tmp_path / "art"),
              "data_dir": str(tmp_path / "data"), "data_root": str(root), **kw}
    return make_config(model, "ucf101", "demo", **params)


def test_a_demo_model_learns_well_above_chance(tmp_path, tiny_ucf):
    cfg = _cfg(tmp_path, tiny_ucf, "i3d", epochs=8, test_views=1)
    out = experiment.run(cfg, progress=False)
    rows = out["history"]
    first, last = rows[0], rows[-1]
    assert last["train_loss/ucf101"] < 0.7 * first["train_loss/ucf101"]
    # 4 classes: chance is 0.25; a pipeline with shuffled labels or broken frames stays near it
    assert last["train_acc/ucf101"] >= 0.6, rows
    assert out["test"]["ucf101"]["video_top1"] >= 0.5, out["test"]["ucf101"]
    saved = json.loads((cfg.run_dir / "metrics.json").read_text())
    assert saved["test"]["ucf101"]["views"].startswith("1 centred clip")
    assert set(saved["test"]["ucf101"]["temporal_order_probe"]) == {"ordered", "shuffle", "reverse"}
    assert saved["config"]["model"] == "i3d" and saved["environment"]["torch"] == torch.__version__
    assert saved["timings"]["fit_seconds"] > 0 and 0 <= saved["timings"]["data_share_of_step"] < 1


def test_metrics_match_hand_computed_values():
    classes = ["a", "b", "c"]
    # 4 videos, 2 views, 3 classes
    probs = np.array([
        [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]],  # label 0: both views right
        [[0.5, 0.4, 0.1], [0.1, 0.8, 0.1]],  # label 1: view 1 wrong, mean [0.3, 0.6, 0.1] right
        [[0.2, 0.3, 0.5], [0.3, 0.3, 0.4]],  # label 2: right
        [[0.1, 0.2, 0.7], [0.2, 0.2, 0.6]],  # label 0: wrong (predicts 2); 0 is third
    ], dtype=np.float32)
    labels = np.array([0, 1, 2, 0])
    m = E.compute_metrics(probs, labels, classes)
    assert m["clip_top1"] == pytest.approx(5 / 8)
    assert m["video_top1"] == pytest.approx(3 / 4)
    assert m["video_top5"] == 1.0  # k clipped to the 3 classes
    assert m["per_class_accuracy"] == {"a": 0.5, "b": 1.0, "c": 1.0}
    assert m["mean_class_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["confusion_matrix"] == [[1, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert (m["num_videos"], m["num_views"]) == (4, 2)
    assert [row[:2] for row in m["predictions"]] == [[0, 0], [1, 1], [2, 2], [0, 2]]  # (true, predicted) per video
    assert m["predictions"][3][2] == pytest.approx(0.65) and m["predictions"][3][3] == pytest.approx(-np.log(0.15))


def test_temporal_perturbations():
    clips = torch.arange(2 * 3 * 6 * 1 * 1, dtype=torch.float32).view(2, 3, 6, 1, 1)
    assert torch.equal(E.perturb_time(clips, "reverse")[:, :, 0], clips[:, :, -1])
    shuffled = E.perturb_time(clips, "shuffle", torch.Generator().manual_seed(0))
    assert not torch.equal(shuffled, clips)
    assert torch.equal(shuffled.sort(dim=2).values, clips)
    with pytest.raises(ValueError, match="perturbation must be"):
        E.perturb_time(clips, "rotate")


def test_batch_schedules():
    rng = np.random.default_rng(0)
    assert T.batch_schedule({"a": 3, "b": 1}, "alternate", rng) == ["a", "b", "a", "a"]
    order = T.batch_schedule({"a": 30, "b": 10}, "proportional", rng)
    assert order.count("a") == 30 and order.count("b") == 10 and order != sorted(order)
    with pytest.raises(ValueError, match="joint schedule"):
        T.batch_schedule({"a": 1}, "random", rng)


def _train_cli(out: Path, root: Path, data: Path, epochs: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "harutils.experiment", "--model", "late_fusion", "--data-root", str(root),
           "--epochs", str(epochs), "--out", str(out), "--data-dir", str(data), "--wandb", "disabled",
           "--no-progress"]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _final_weights(out: Path) -> dict:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return torch.load(run / "last.pt", weights_only=True)


def test_killed_run_resumes_to_the_same_weights(tmp_path, tiny_ucf):
    data = tmp_path / "data"
    straight = _train_cli(tmp_path / "straight", tiny_ucf, data, 3)
    assert straight.wait(timeout=600) == 0, straight.stdout.read()
    # the same run, killed (SIGKILL, no clean-up) once its first epoch's checkpoint exists
    killed = _train_cli(tmp_path / "killed", tiny_ucf, data, 3)
    deadline = time.time() + 600
    while not list((tmp_path / "killed").glob("*/last.pt")) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    ckpt = _final_weights(tmp_path / "killed")
    assert ckpt["epoch"] < 2, "the run finished before it could be killed"
    # the checkpoint read above loaded whole: a kill during a write leaves at most a stray .tmp beside it
    resumed = _train_cli(tmp_path / "killed", tiny_ucf, data, 3)
    log = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, log
    assert "resuming" in log
    a, b = _final_weights(tmp_path / "straight"), _final_weights(tmp_path / "killed")
    assert a["epoch"] == b["epoch"] == 2
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=0, atol=0, msg=k)


def test_joint_training_updates_both_heads(tmp_path, tiny_ucf, tiny_hmdb):
    cfg = _cfg(tmp_path, tiny_ucf, "c3d", epochs=1, joint_with="hmdb51", joint_root=str(tiny_hmdb), test_views=1)
    model = experiment.build_run_model(cfg, {"ucf101": 4, "hmdb51": 3})
    assert isinstance(model, JointModel)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bundles = {n: pipeline.build_data(cfg, model.card, n, progress=False) for n in ("ucf101", "hmdb51")}
    info, dev = DistInfo(), torch.device("cpu")
    train = {n: pipeline.make_loader(b.train, cfg, True, info, dev) for n, b in bundles.items()}
    val = {n: pipeline.make_loader(b.val, cfg, False, info, dev) for n, b in bundles.items()}
    history = T.fit(model, train, val, cfg, progress=False)
    after = model.state_dict()
    for head in ("heads.ucf101.1.weight", "heads.hmdb51.1.weight", "backbone.conv1.weight"):
        assert not torch.equal(before[head], after[head]), f"{head} did not change"
    row = history.rows[0]
    assert {"train_loss/ucf101", "train_loss/hmdb51", "val_acc/ucf101", "val_acc/hmdb51", "val_acc"} <= set(row)
    assert row["val_acc"] == pytest.approx((row["val_acc/ucf101"] + row["val_acc/hmdb51"]) / 2)


def test_offline_tracking_writes_a_run_and_stays_local(tmp_path, monkeypatch):
    import socket

    from harutils.tracking import Tracker

    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or "/" in host):
            attempts.append(address)
            raise OSError("network is off in this test")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    with Tracker({"lr": 0.1}, tmp_path / "run", mode=None, name="t") as tracker:
        assert tracker.mode == "offline"
        tracker.log({"loss": 1.0}, step=1)
        tracker.summary({"acc": 0.5})
        tracker.log_confusion("confusion/test", [[2, 1], [0, 3]], ["sit", "stand"], "t: test")
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert runs, list((tmp_path / "run").rglob("*"))[:20]
    (table,) = runs[0].glob("files/media/table/confusion/test*.table.json")  # W&B's chart, from the counts
    cells = {(actual, predicted): n for actual, predicted, n in json.loads(table.read_text())["data"]}
    assert cells == {("sit", "sit"): 2, ("sit", "stand"): 1, ("stand", "sit"): 0, ("stand", "stand"): 3}
    assert not attempts
    assert not (tmp_path / "wandb").exists(), "offline mode wrote ./wandb into the working directory"


def test_tracking_modes(tmp_path, monkeypatch):
    from harutils.tracking import Tracker, resolve_mode

    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode(None) == "disabled"
    assert Tracker({}, tmp_path).run is None
    with pytest.raises(ValueError, match="wandb mode must be"):
        resolve_mode("sometimes")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="wandb login"):
        Tracker({}, tmp_path, mode="online")


def test_config_profiles():
    demo = make_config("i3d", "hmdb51", "demo")
    assert (demo.model_size, demo.device, demo.pretrained, demo.subtract_mean_frame) == ("small", "cpu", None, True)
    full = make_config("i3d", "ucf101", "full", epochs=3, recipe="improved")
    assert (full.model_size, full.pretrained, full.hflip, full.epochs) == ("paper", "imagenet", True, 3)
    reference = make_config("i3d", "ucf101", "full", epochs=3)  # the report as published: no crops or flips
    assert (reference.recipe, reference.hflip, reference.crop, reference.test_views) == ("reference", False, False, 1)
    # the reference's recipe on the full profile: Adam 1e-4, batch 64 (LRCN 32, for memory), gamma 0.999
    assert (full.optimizer, full.lr, full.batch_size, full.lr_gamma) == ("adam", 1e-4, 64, 0.999)
    assert make_config("lrcn", "ucf101", "full", recipe="improved").batch_size == 32
    assert (demo.batch_size, demo.lr_gamma) == (8, 0.88)  # I3D's own decay over its 10 demo epochs
    assert make_config("late_fusion", "ucf101", "demo").lr_gamma == 0.9
    # full: frames decoded at 8/7 of each model's crop, in the DataLoader workers (no all-frames cache)
    assert (full.frame_size, full.frame_store) == (256, "video")
    assert make_config("c3d", "ucf101", "full", recipe="improved").frame_size == 128
    assert (demo.frame_size, demo.frame_store) == (64, "arrays")
    with pytest.raises(ValueError, match="profile must be"):
        make_config("i3d", profile="laptop")
    # a joint epoch covers both datasets: half the epochs, unless given
    assert make_config("late_fusion", "ucf101", joint_with="hmdb51").epochs == 5
    assert make_config("c3d", "ucf101", joint_with="hmdb51").epochs == 4  # C3D's 9 demo epochs
    assert make_config("c3d", "ucf101", joint_with="hmdb51", epochs=2).epochs == 2
    assert joint_models("demo") == ["nonlocal"]
    assert joint_models("full") == ["late_fusion", "c3d", "lrcn", "i3d", "nonlocal", "vivit"]
    assert joint_models("demo", " i3d, lrcn ") == ["i3d", "lrcn"]
    assert (other_dataset("ucf101"), other_dataset("hmdb51")) == ("hmdb51", "ucf101")
    with pytest.raises(ValueError, match="dataset must be"):
        other_dataset("kinetics")
    with pytest.raises(ValueError, match="unknown models"):
        joint_models("full", "resnet")
    with pytest.raises(ValueError, match="unknown parameters"):
        make_config("i3d", learning_rate=1)


def test_frames_smaller_than_the_model_crop_are_refused_before_training(tmp_path):
    from harutils.models import build_model

    model = build_model("i3d", 5, model_size="paper")
    cfg = make_config("i3d", "ucf101", "full", recipe="improved", frame_size=128, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="frame_size=128 is smaller than the i3d crop of 224 px"):
        pipeline.build_data(cfg, model.card, progress=False)
    pipeline.check_frame_size(make_config("i3d", "ucf101", "full", recipe="improved"), model.card)  # its own size


@pytest.mark.slow
def test_ddp_two_cpu_processes_agree(tmp_path, tiny_ucf):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
           "-m", "harutils.experiment", "--model", "late_fusion", "--data-root", str(tiny_ucf), "--epochs", "2",
           "--out", str(tmp_path / "art"), "--data-dir", str(tmp_path / "data"), "--wandb", "disabled",
           "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (run,) = [p for p in (tmp_path / "art").iterdir() if p.is_dir()]
    r0, r1 = (json.loads((run / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["weights_sum"] == r1["weights_sum"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    # each rank computed the same gathered test metrics as the written ones
    assert r0["test"]["ucf101"] == r1["test"]["ucf101"] == metrics["test"]["ucf101"]["video_top1"]
    n_test = len(__import__("harutils.data.ucf101", fromlist=["UCF101"]).UCF101(tiny_ucf, subset="test"))
    assert metrics["test"]["ucf101"]["num_videos"] == n_test


@pytest.mark.slow
def test_full_profile_path_on_the_real_fixture_clips(tmp_path):
    """The full profile end to end on the real UCF101 clips of ../shared (CPU, one epoch, no pretrained weights,
    which cannot be downloaded here): the reference recipe's Late Fusion (a frozen paper-size ResNet-152 with the
    report's head, 5 frames resized to 256x256), real split files, missing videos, clips read by a loader worker
    and handed over as uint8 (the profile's path: workers on every core but one)."""
    from conftest import UCF101_FIXTURE

    if not UCF101_FIXTURE.is_dir():
        pytest.skip(f"the real fixtures are not at {UCF101_FIXTURE}")
    cfg = make_config("late_fusion", "ucf101", "full", data_root=str(UCF101_FIXTURE), epochs=1, device="cpu",
                      pretrained=False, num_workers=1, batch_size=2, wandb_mode="disabled", test_views=1,
                      out_dir=str(tmp_path / "art"), data_dir=str(tmp_path / "data"))
    with pytest.warns(UserWarning, match="not on disk and were left out"):
        out = experiment.run(cfg, progress=False)
    test = out["test"]["ucf101"]
    assert test["num_videos"] == 10 and len(test["per_class_accuracy"]) == 101
    assert out["parameters"] > 58_000_000 and out["config"]["model_size"] == "paper"
    assert (cfg.run_dir / "best.pt").is_file()
    # the videos went once into the video store (one entry per present video, none per frame size): re-encoded,
    # or kept as they are where the original seeks exactly every 12 frames; read from it, resized to 256 pixels
    assert tuple(out["card"]["input_size"]) == (5, 256, 256)
    assert test["cache"].startswith("video store: 11 built") and not (tmp_path / "data" / "cache").exists()
    copies = list((tmp_path / "data" / "video_store").rglob("*.mp4"))
    kept = list((tmp_path / "data" / "video_store").rglob("*.original.json"))
    assert len(copies) + len(kept) == 11 and len(kept) == 7 and "7 of them the original videos" in test["cache"]


@pytest.mark.parametrize("name", ["c3d", "late_fusion"])
def test_channels_last_is_only_a_layout(name):
    """The channels-last layout (the card's memory_format: 3D for C3D/I3D/Non-local, 2D for the per-frame ResNets)
    gives the same loss and gradients as the default layout, up to float rounding."""
    from harutils.models import build_model

    torch.manual_seed(0)
    plain = build_model(name, 5, model_size="small").train()
    fast = build_model(name, 5, model_size="small").train()
    fast.load_state_dict(plain.state_dict())
    fast = fast.to(memory_format=fast.card.memory_format)
    clips = torch.randn(4, 3, *plain.card.input_size)
    labels = torch.tensor([0, 1, 2, 3])
    losses = []
    for model, x in ((plain, clips), (fast, clips.contiguous(memory_format=torch.channels_last_3d))):
        torch.manual_seed(1)  # the same dropout masks
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    for (pname, p), q in zip(plain.named_parameters(), fast.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-3, atol=1e-5, msg=pname)
    conv = next(p for p in fast.parameters() if p.ndim >= 4)
    assert conv.is_contiguous(memory_format=fast.card.memory_format)


def test_multi_view_evaluation_forwards_at_most_a_batch_of_clips_at_a_time():
    """5 views of a batch of B videos go through the model B clips at a time (training-size memory), with the same
    scores as one forward of all B*V clips."""
    torch.manual_seed(0)
    weights = torch.randn(3 * 2 * 4 * 4, 6)
    seen = []

    class Linear(torch.nn.Module):
        def forward(self, x):
            seen.append(len(x))
            return x.flatten(1) @ weights

    loader = [(torch.randn(4, 5, 3, 2, 4, 4), torch.arange(4)), (torch.randn(3, 5, 3, 2, 4, 4), torch.arange(3))]
    probs, labels = E.predict(Linear(), loader, torch.device("cpu"))
    assert max(seen) <= 4 and sum(seen) == 7 * 5
    clips = torch.cat([c for c, _ in loader])
    expected = torch.softmax(clips.flatten(0, 1).flatten(1) @ weights, -1).view(7, 5, -1)
    np.testing.assert_allclose(probs, expected.numpy(), rtol=1e-5, atol=1e-6)
    assert labels.tolist() == [0, 1, 2, 3, 0, 1, 2]


def test_the_order_probe_reads_the_test_set_once_and_scores_as_passes_of_its_own():
    """Ordered, shuffled and reversed scores come from one pass over the loader (each batch loaded, i.e. decoded,
    once) and equal what a pass per perturbation gives: the same shuffles, the same scores. The probe of a test
    scores the centre view of each video in all three orders; the test itself every view in order."""
    torch.manual_seed(0)
    weights = torch.randn(3 * 4 * 2 * 2, 5)
    batches = [(torch.randn(3, 3, 3, 4, 2, 2), torch.tensor([0, 1, 2])),
               (torch.randn(2, 3, 3, 4, 2, 2), torch.tensor([3, 4]))]
    reads, seen = [], []

    class Loader:
        def __init__(self, views: slice | None = None):
            self.views = views or slice(None)

        def __iter__(self):
            reads.append(1)
            return iter([(clips[:, self.views], y) for clips, y in batches])

    def model(x):
        seen.append(len(x))
        return x.flatten(1) @ weights

    net = torch.nn.Module()
    net.forward = model
    classes = list("abcde")
    together = E.evaluate_orders(net, Loader(), torch.device("cpu"), classes, "3 clips")
    assert len(reads) == 1 and set(together) == set(E.PERTURBATIONS)
    for how in E.PERTURBATIONS:
        alone = E.evaluate(net, Loader(), torch.device("cpu"), classes, "3 clips", perturb=how)
        assert alone["predictions"] == together[how]["predictions"] and alone["perturbation"] == (how or "none")
    assert together["shuffle"]["predictions"] != together[None]["predictions"]  # the probe does perturb

    reads.clear(), seen.clear()
    tested = E.evaluate_with_probe(net, Loader(), torch.device("cpu"), classes, "3 clips")
    assert len(reads) == 1 and sum(seen) == 5 * 3 + 2 * 5  # every view in order, then the centre view twice
    assert tested["predictions"] == together[None]["predictions"] and tested["views"] == "3 clips"
    probe = tested["temporal_order_probe"]
    assert set(probe) == {"ordered", "shuffle", "reverse"} and tested["probe_views"].startswith("view 2 of 3")
    for key, how in (("ordered", None), ("shuffle", "shuffle"), ("reverse", "reverse")):
        centre = E.evaluate(net, Loader(slice(1, 2)), torch.device("cpu"), classes, "centre clip", perturb=how)
        assert probe[key] == {k: centre[k] for k in ("video_top1", "mean_class_accuracy")}


@pytest.mark.parametrize("channels_last", [True, False])
def test_placed_3d_model_gets_its_clips_in_the_weights_layout_in_every_pass(tmp_path, channels_last):
    cfg = make_config("i3d", "ucf101", "demo", out_dir=str(tmp_path), wandb_mode="disabled",
                      channels_last=channels_last)
    model = experiment.build_run_model(cfg, {"ucf101": 5})
    net = placement.place_model(model, cfg, torch.device("cpu"), DistInfo())
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv3d))
    seen = []
    first.register_forward_pre_hook(lambda m, a: seen.append(a[0].is_contiguous(memory_format=torch.channels_last_3d)))
    clips = torch.randn(2, 3, *model.card.input_size)
    net.train()(clips)  # a training step
    with torch.no_grad():
        E.predict(net, [(clips, torch.tensor([0, 1]))], torch.device("cpu"))  # validation, test and the probe
    assert seen == [channels_last, channels_last]
    assert first.weight.is_contiguous(memory_format=torch.channels_last_3d) == channels_last


def test_a_placed_model_finishes_uint8_clips_on_its_device_and_takes_float_clips_as_they_are(tmp_path):
    cfg = make_config("c3d", "ucf101", "demo", out_dir=str(tmp_path), wandb_mode="disabled")
    model = experiment.build_run_model(cfg, {"ucf101": 5})
    net = placement.place_model(model, cfg, torch.device("cpu"), DistInfo()).eval()
    clips = torch.randint(0, 256, (2, 3, *model.card.input_size), dtype=torch.uint8)
    finished = normalise_clips(clips, model.card.preprocessing, cfg.subtract_mean_frame)
    assert cfg.subtract_mean_frame and finished.abs().max() <= 1.0  # the demo's: [0, 1], less the mean frame
    with torch.no_grad():
        torch.testing.assert_close(net(clips), net(finished))
        assert not torch.allclose(net(clips.float()), net(finished), atol=1e-3)  # float clips are not normalised


def test_with_loader_workers_a_run_reads_uint8_batches_and_trains_on_them(tmp_path, tiny_ucf):
    cfg = _cfg(tmp_path, tiny_ucf, "late_fusion", epochs=1, num_workers=1, test_views=1)
    model = experiment.build_run_model(cfg, {"ucf101": 4})
    in_main = torch.stack([clip for clip, _ in pipeline.build_data(cfg, model.card, progress=False).val])
    bundle = pipeline.build_data(cfg, model.card, progress=False, uint8_clips=True)  # the engine's
    batches = list(pipeline.make_loader(bundle.val, cfg, False, DistInfo(), torch.device("cpu")))
    from_workers = torch.cat([clips for clips, _ in batches])
    assert in_main.dtype == torch.float32 and from_workers.dtype == torch.uint8
    finished = normalise_clips(from_workers, model.card.preprocessing, cfg.subtract_mean_frame)
    assert torch.equal(finished, in_main)
    out = experiment.run(cfg, progress=False)
    assert np.isfinite(out["history"][0]["train_loss/ucf101"]) and out["test"]["ucf101"]["num_videos"] > 0


def test_a_per_step_prediction_is_scored_at_every_step_and_counted_once_per_clip():
    labels = torch.tensor([0, 2])
    clip_logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    loss, logits = T.training_loss(clip_logits, labels)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(clip_logits, labels))
    assert logits is clip_logits
    steps = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 4.0, 0.0]], [[0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]])  # (B, T, C)
    loss, logits = T.training_loss(steps, labels, label_smoothing=0.1)
    every_step = [torch.nn.functional.cross_entropy(steps[:, t], labels, label_smoothing=0.1) for t in range(2)]
    torch.testing.assert_close(loss, torch.stack(every_step).mean())
    torch.testing.assert_close(logits, steps.mean(1))  # the clip's prediction: its steps' mean
    assert (logits.argmax(1) == labels).tolist() == [False, True]


def test_a_compiled_model_checkpoints_and_loads_under_its_own_keys(tmp_path):
    # torch.compile wraps the model as ``_orig_mod``: a checkpoint of the wrapper's keys would not load into the
    # model that evaluates the best epoch (compile=True failed so, after training, before this)
    cfg = make_config("c3d", "ucf101", "demo", out_dir=str(tmp_path), wandb_mode="disabled", compile=True)
    model = experiment.build_run_model(cfg, {"ucf101": 5})
    net = placement.place_model(model, cfg, torch.device("cpu"), DistInfo())
    assert net is not model and E.unwrap(net) is model  # compiled lazily: nothing is compiled here
    saved = E.unwrap(net).state_dict()
    assert not [k for k in saved if k.startswith("_orig_mod.")]
    experiment.build_run_model(cfg, {"ucf101": 5}).load_state_dict(saved)
