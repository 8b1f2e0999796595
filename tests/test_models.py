"""Every registered model: shapes, parameter counts, gradients, inflation, non-local identity, weights."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from harutils.models import MODEL_NAMES, JointModel, build_model
from harutils.models import weights as W
from harutils.models.i3d import I3D, I3D_R50
from harutils.models.inflate import inflate_into
from harutils.models.nonlocal_net import NonLocalBlock
from harutils.models.resnet import ResNet, resnet_spec

NAMES = sorted(MODEL_NAMES)


def _n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("name", NAMES)
def test_demo_forward_backward_reaches_every_parameter(name):
    model = build_model(name, num_classes=7, model_size="small")
    clip = torch.randn(2, 3, *model.card.input_size)  # (B, C, T, H, W)
    out = model(clip)
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    out.logsumexp(1).sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
    # non-local output BN starts at zero scale: its inner convs get gradients only after the first step
    no_grad = [n for n in no_grad if not ("after_block" in n and any(s in n for s in ("theta", "phi", "g.", "out.")))]
    assert not no_grad, f"no gradient reaches {no_grad}"
    assert model.card.sampling in ("uniform", "clip") and model.card.preprocessing is not None


@pytest.mark.parametrize(
    "name, classes, expected",
    [
        # torchvision ResNet-152 with its 1000-way head: 60,192,808 (torchvision model docs)
        ("late_fusion", 1000, 60_192_808),
        # C3D with a 101-way head: 78.4M (MMAction2 C3D model zoo, UCF101 fine-tuning)
        ("c3d", 101, 78_400_000),
        # I3D ResNet-50, 400-way head: 28.0M (MMAction2 i3d_imagenet-pretrained-r50, Kinetics-400)
        ("i3d", 400, 28_000_000),
        # Non-local I3D ResNet-50, 5 embedded-Gaussian blocks, 400-way head: 35.4M (MMAction2 i3d nl gaussian)
        ("nonlocal", 400, 35_400_000),
    ],
)
def test_full_size_parameter_counts(name, classes, expected):
    with torch.device("meta"):
        model = build_model(name, classes, model_size="paper")
    assert _n_params(model) == pytest.approx(expected, rel=0.01)


def test_lrcn_full_is_resnet152_plus_lstm():
    with torch.device("meta"):
        model = build_model("lrcn", 101, model_size="paper")
    lstm = 4 * (512 * (2048 + 512) + 2 * 512)  # PyTorch LSTM: W_ih, W_hh, two biases per gate
    assert _n_params(model) == 58_143_808 + lstm + 512 * 101 + 101


@pytest.mark.parametrize("name", NAMES)
def test_full_size_forward_shape(name):
    model = build_model(name, 11, model_size="paper").eval()
    if name == "c3d":  # a full C3D forward is slow on 2 CPU cores: check it on the meta device
        with torch.device("meta"):
            model = build_model(name, 11, model_size="paper")
            out = model(torch.empty(2, 3, 16, 112, 112))
    elif name == "vivit":  # position embeddings of ViT-B/16 at 224 px; 2 frames = one time step
        model = build_model(name, 11, model_size="paper", num_frames=2).eval()
        with torch.no_grad():
            out = model(torch.randn(1, 3, 2, 224, 224))
    else:
        t = 2 if name in ("late_fusion", "lrcn") else 8
        with torch.no_grad():
            out = model(torch.randn(1, 3, t, 64, 64))
    assert out.shape[-1] == 11


def test_resnet2d_is_torchvision_resnet():
    ours = ResNet(resnet_spec(50), dim=2).eval()
    theirs = torchvision.models.resnet50().eval()
    ours.load_state_dict({k: v for k, v in theirs.state_dict().items() if not k.startswith("fc.")})
    theirs.fc = torch.nn.Identity()
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(ours.features(x), theirs(x))


@pytest.mark.parametrize("padding", ["replicate", "zeros"])
def test_inflated_i3d_on_a_still_clip_equals_the_2d_resnet(padding):
    """Carreira & Zisserman's boring-video check on the full I3D ResNet-50 with (random) 2D ResNet-50 weights."""
    r2d = torchvision.models.resnet50()
    for m in r2d.modules():  # non-trivial BatchNorm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    r2d.eval()
    # the Caffe2 I3D's stem pool has no spatial padding (224 -> 55) where the 2D ResNet's has (-> 56): the check of
    # the inflation arithmetic compares the same spatial network
    spec = dataclasses.replace(I3D_R50, temporal_padding=padding, pool1_pad=1)
    i3d = I3D(spec, num_classes=5).eval()
    report = inflate_into(i3d.backbone, r2d.state_dict())
    assert not report.missing and not report.shape_mismatch
    frame = torch.randn(1, 3, 64, 64)
    clip = frame.unsqueeze(2).repeat(1, 1, 16, 1, 1)  # (1, 3, H, W) -> (1, 3, 16, H, W)
    r2d.fc = torch.nn.Identity()
    with torch.no_grad():
        want = r2d(frame)
        if padding == "replicate":
            torch.testing.assert_close(i3d.features(clip), want, rtol=1e-4, atol=1e-4)
        else:  # zero padding in time: equal away from the clip's edges only, so compare a long clip's centre
            long = frame.unsqueeze(2).repeat(1, 1, 192, 1, 1)  # 24 steps after the temporal strides
            fmap = i3d.backbone(long)  # (1, 2048, T', h, w)
            centre = fmap[:, :, fmap.shape[2] // 2].flatten(2).mean(-1)
            torch.testing.assert_close(centre, want, rtol=1e-4, atol=1e-4)


def test_nonlocal_blocks_are_identity_at_init():
    i3d = build_model("i3d", 6, model_size="small").eval()
    nl = build_model("nonlocal", 6, model_size="small").eval()
    report = W.load_matching(nl, i3d.state_dict())
    assert not report.unexpected and all("after_block" in k for k in report.missing)
    clip = torch.randn(2, 3, *i3d.card.input_size)
    with torch.no_grad():
        torch.testing.assert_close(nl(clip), i3d(clip))
    block = NonLocalBlock(8)
    x = torch.randn(2, 8, 4, 6, 6)
    torch.testing.assert_close(block(x), x)


def test_nonlocal_attends_once_trained():
    block = NonLocalBlock(8)
    torch.nn.init.ones_(block.bn.weight)
    x = torch.randn(2, 8, 4, 6, 6)
    assert not torch.allclose(block(x), x)


@pytest.mark.parametrize("name", NAMES)
def test_weights_round_trip(tmp_path, name):
    model = build_model(name, 4, model_size="small").eval()
    path = tmp_path / "w.pt"
    torch.save(model.state_dict(), path)
    again = build_model(name, 4, model_size="small").eval()
    again.load_state_dict(torch.load(path, weights_only=True))
    clip = torch.randn(1, 3, *model.card.input_size)
    with torch.no_grad():
        torch.testing.assert_close(again(clip), model(clip))


def test_c3d_loads_a_sports1m_pickle_layout(tmp_path):
    demo = build_model("c3d", 487, model_size="small")
    # write a checkpoint in the c3d.pickle naming: conv1..conv5b, fc6, fc7, fc8 (487 Sports-1M classes)
    state = {k.replace("head.1.", "fc8."): v.clone() for k, v in demo.state_dict().items()}
    path = tmp_path / "c3d.pickle"
    torch.save(state, path)
    model = build_model("c3d", 101, model_size="small", pretrained=path)
    assert model.card.preprocessing == W.C3D_SPORTS1M
    assert "shape mismatch 2" in model.card.weights  # the 487-way fc8 does not fit a 101-way head
    torch.testing.assert_close(model.conv3a.weight, demo.conv3a.weight)
    with pytest.raises(W.WeightsNotFoundError, match="nowhere.pickle.*c3d.pickle"):
        build_model("c3d", 101, model_size="small", pretrained=tmp_path / "nowhere.pickle")
    with pytest.raises(ValueError, match="no ImageNet weights"):
        build_model("c3d", 101, pretrained="imagenet")


def test_nonlocal_loads_kinetics_conversion_layout(tmp_path):
    src = build_model("nonlocal", 400, model_size="small")
    torch.nn.init.normal_(src.backbone.after_block["layer2_0"].bn.weight)
    state = {}
    for k, v in src.state_dict().items():  # rename ours -> the conversion's names
        if k.startswith("backbone.after_block."):
            rest = k.removeprefix("backbone.after_block.")
            layer, tail = rest.split(".", 1)
            stage, block = layer.removeprefix("layer").split("_")
            k = f"layer{stage}.{block}.nl.{tail}"
        elif k.startswith("head.1."):
            k = "fc." + k.removeprefix("head.1.")
        else:
            k = k.removeprefix("backbone.")
        state[k] = v
    path = tmp_path / "nl_kinetics.pth"
    torch.save({"state_dict": state}, path)
    model = build_model("nonlocal", 400, model_size="small", pretrained=path)
    assert model.card.preprocessing == W.KINETICS_CAFFE2 and "missing 0" in model.card.weights
    torch.testing.assert_close(model.backbone.after_block["layer2_0"].bn.weight,
                               src.backbone.after_block["layer2_0"].bn.weight)


def test_imagenet_weights_missing_from_the_cache_say_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.hub.set_dir(str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(W.WeightsNotFoundError, match=r"hub/checkpoints/resnet50-.*\.pth"):
        build_model("i3d", 10, model_size="paper", pretrained="imagenet")


def test_imagenet_weights_folder_comes_before_the_torch_cache(tmp_path, monkeypatch):
    """$HARUTILS_WEIGHTS holds the files under their published names; the load report names the file it read."""
    monkeypatch.setenv("HARUTILS_WEIGHTS", str(tmp_path / "weights"))
    torch.hub.set_dir(str(tmp_path / "hub"))
    reference = torchvision.models.resnet50()
    (tmp_path / "weights").mkdir()
    torch.save(reference.state_dict(), tmp_path / "weights" / "resnet50-0676ba61.pth")
    model = build_model("i3d", 10, model_size="paper", pretrained="imagenet")
    assert "weights/resnet50-0676ba61.pth (sha256 " in model.card.weights and "missing 0" in model.card.weights
    with pytest.raises(W.WeightsNotFoundError, match=r"weights/resnet152-394f9c45.pth, .*hub/checkpoints"):
        build_model("late_fusion", 10, model_size="paper", pretrained="imagenet")


def test_imagenet_weights_load_from_the_torch_cache(tmp_path, monkeypatch):
    """A state dict placed in the cache under torchvision's file name is what gets loaded (no network)."""
    torch.hub.set_dir(str(tmp_path / "hub"))
    enum = torchvision.models.ResNet152_Weights.IMAGENET1K_V1
    ckpt = tmp_path / "hub" / "checkpoints" / enum.url.rsplit("/", 1)[1]
    ckpt.parent.mkdir(parents=True)
    reference = torchvision.models.resnet152()
    torch.save(reference.state_dict(), ckpt)
    monkeypatch.setattr("torch.hub.download_url_to_file", lambda *a, **k: pytest.fail("tried to download"))
    model = build_model("late_fusion", 10, model_size="paper", pretrained="imagenet")
    torch.testing.assert_close(model.encoder.backbone.layer4[2].conv3.weight, reference.layer4[2].conv3.weight)


def test_joint_model_has_one_head_per_dataset():
    joint = JointModel(build_model("c3d", 3, model_size="small"), {"ucf101": 5, "hmdb51": 4})
    clip = torch.randn(2, 3, 8, 64, 64)
    assert joint(clip, "ucf101").shape == (2, 5) and joint(clip, "hmdb51").shape == (2, 4)
    with pytest.raises(KeyError, match="no head for dataset 'kinetics'"):
        joint(clip, "kinetics")


def test_unknown_model_and_size():
    with pytest.raises(KeyError, match="unknown model 'x3d'"):
        build_model("x3d", 10)
    with pytest.raises(ValueError, match="size must be one of"):
        build_model("c3d", 10, model_size="tiny")


def test_late_fusion_average_ignores_frame_order_and_lrcn_does_not():
    lf = build_model("late_fusion", 5, model_size="small").eval()
    lrcn = build_model("lrcn", 5, model_size="small").eval()
    clip = torch.randn(1, 3, 5, 64, 64)
    rev = clip.flip(2)
    with torch.no_grad():
        torch.testing.assert_close(lf(clip), lf(rev))
        assert not torch.allclose(lrcn(clip), lrcn(rev))


def test_lrcn_steps_readout_predicts_at_every_step_in_training_and_averages_them_to_classify():
    torch.manual_seed(0)
    model = build_model("lrcn", 5, model_size="small", readout="steps", bidirectional=True, dropout=0.0)
    clip = torch.randn(2, 3, 8, 64, 64)
    steps = model.train()(clip)
    assert steps.shape == (2, 8, 5)  # one prediction per frame, each trained against the clip's label
    model.eval()
    with torch.no_grad():
        per_step = model.head(model.lstm(model.encoder(clip))[0])  # (B, T, classes) with eval-mode BatchNorm
        torch.testing.assert_close(model(clip), per_step.mean(1))
        assert model.features(clip).shape == (2, model.num_features)  # joint training's heads read the mean
    with pytest.raises(ValueError, match="readout must be one of"):
        build_model("lrcn", 5, model_size="small", readout="first")


def test_standin_weights_load_as_the_real_files_would(tmp_path, monkeypatch):
    """scripts/standin_weights.py writes every named file in its published layout (no BatchNorm counters) into a
    fresh weights folder, each loads completely through the builders, and it never overwrites a file."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "standin_weights.py"
    folder = tmp_path / "weights"
    run = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    monkeypatch.setenv("HARUTILS_WEIGHTS", str(folder))
    kinetics = torch.load(folder / "i3d_r50_nl_kinetics.pth", weights_only=True)
    assert len(kinetics) == 327 and "layer2.1.nl.theta.weight" in kinetics
    assert len(torch.load(folder / "c3d.pickle", weights_only=True)) == 22
    for name, weights in [("c3d", "sports1m"), ("nonlocal", "kinetics400"), ("late_fusion", "imagenet"),
                          ("vivit", "imagenet")]:
        model = build_model(name, 7, model_size="paper", pretrained=weights)
        assert str(folder) in model.card.weights and "missing 0" in model.card.weights, model.card.weights
    again = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True, text=True)
    assert again.returncode != 0 and "exists" in again.stderr


def test_named_weights_missing_say_which_file_where_and_from_where(tmp_path, monkeypatch):
    monkeypatch.delenv("HARUTILS_WEIGHTS", raising=False)
    with pytest.raises(W.WeightsNotFoundError, match=r"no weights folder is set. Put c3d.pickle \(22 tensors"):
        build_model("c3d", 101, model_size="paper", pretrained="sports1m")
    monkeypatch.setenv("HARUTILS_WEIGHTS", str(tmp_path))
    with pytest.raises(W.WeightsNotFoundError, match=r"i3d_r50_nl_kinetics.pth is not in the weights folder .*327"):
        build_model("nonlocal", 101, model_size="paper", pretrained="kinetics400")
