"""Full-size models against the public reference implementations (../shared/parity): each checkpoint, written in
the reference's own key layout, loads through the project's loader (`build_model(..., pretrained=FILE)`), and the
model computes the reference's outputs within 1e-4 relative (the fixtures' float64 reference run; float32 noise is
below 1e-6, and every plausible architecture mistake the fixtures list is 47x above the tolerance).

C3D = c3d-pytorch; I3D and Non-local I3D = the Caffe2 conversion (Tushar-N/pytorch-resnet3d), 16 and 32 frames;
the per-frame ResNet-152 of Late Fusion and LRCN = torchvision's, in the layout of resnet152-394f9c45.pth (no
BatchNorm counters)."""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from conftest import REPO
from torch.nn import functional

from harutils.models import build_model

PARITY = REPO.parent / "shared" / "parity"
pytestmark = [
    pytest.mark.skipif(not PARITY.is_dir(), reason=f"the parity fixtures are not at {PARITY} (../shared/parity)"),
    pytest.mark.slow,
]
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def mw():
    sys.path.insert(0, str(PARITY))
    try:
        import make_weights

        yield make_weights
    finally:
        sys.path.remove(str(PARITY))


@contextmanager
def reference_checkpoint(mw, fixture: str, map_key=lambda k: k):
    """The fixture's deterministic weights, saved in the reference's key layout as a temporary file."""
    spec = mw.load_spec(PARITY / fixture / "SPEC.json")
    state = mw.make_state_dict(spec)
    assert mw.state_dict_digest(state) == spec["weights_sha256"], "regenerated weights differ from the fixture's"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference_layout.pth"
        torch.save({map_key(k): v for k, v in state.items()}, path)
        del state
        yield path, spec


def fixture_input(mw, spec: dict, expected: dict, key: str = "") -> torch.Tensor:
    x = mw.make_input(spec["input_" + key] if key else spec["input"])
    assert mw.input_digest(x) == expected["meta"]["inputs"][key or "main"]["sha256"]
    return x


def assert_close(got: dict[str, torch.Tensor], expected: dict, fixture: str, prefix: str = "") -> None:
    for name, value in got.items():
        ref = expected[prefix + name]
        value = value.detach().float()
        assert value.shape == ref.shape, f"{fixture}:{prefix}{name}: shape {tuple(value.shape)} != {tuple(ref.shape)}"
        err = ((value - ref).abs().max() / ref.abs().max()).item()
        assert err < TOLERANCE, f"{fixture}:{prefix}{name} relative error {err:.2e} >= {TOLERANCE:g}"


def channel_stats(x: torch.Tensor, name: str) -> dict[str, torch.Tensor]:
    """Per-channel mean and population std over every other dimension, as the fixtures store them."""
    flat = x.transpose(0, 1).flatten(1)  # (N, C, ...) -> (C, N*...)
    return {f"{name}_chmean": flat.mean(1), f"{name}_chstd": flat.std(1, unbiased=False)}


@contextmanager
def recorded(model, names: dict[str, str]):
    """Outputs of the named submodules (``names``: fixture name -> module path) during a forward pass."""
    store, handles = {}, []
    for label, path in names.items():
        module = model.get_submodule(path)
        # a copy: the model's in-place ReLUs would otherwise rewrite a pre-activation output
        handles.append(module.register_forward_hook(lambda m, i, o, label=label: store.__setitem__(label, o.clone())))
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


def test_c3d_equals_c3d_pytorch(mw):
    fixture = "c3d_sports1m"
    expected = torch.load(PARITY / fixture / "expected.pt", weights_only=True)
    with reference_checkpoint(mw, fixture) as (path, spec):
        model = build_model("c3d", 487, "paper", pretrained=str(path)).eval()
    assert "missing 0" in model.card.weights and "shape mismatch 0" in model.card.weights
    x = fixture_input(mw, spec, expected)
    with torch.no_grad(), recorded(model, {"fc6_linear": "fc6", "fc7_linear": "fc7"}) as inner:
        logits = model(x)
        pool5 = model._conv_features(x).flatten(1)  # (1, 512, 1, 4, 4) -> (1, 8192) in (C, T, H, W) order
    got = {"logits": logits, "probs": torch.softmax(logits, 1), "pool5": pool5, **inner,
           "fc6": torch.relu(inner["fc6_linear"]), "fc7": torch.relu(inner["fc7_linear"])}
    assert_close(got, expected, fixture)


def stage_outputs(backbone) -> dict[str, str]:
    """Module paths whose outputs are the reference's stage outputs: the stem's pools, and each stage's last block
    (or the non-local block after it, which the reference keeps inside the stage)."""
    out = {"maxpool1": "backbone.maxpool", "maxpool2": "backbone.pool2"}
    for stage in range(1, 5):
        last = f"layer{stage}_{len(getattr(backbone, f'layer{stage}')) - 1}"
        inside = last in backbone.after_block
        out[f"layer{stage}"] = f"backbone.after_block.{last}" if inside else f"backbone.{last.replace('_', '.')}"
    return out


@pytest.mark.parametrize("name, fixture", [("i3d", "i3d_r50_kinetics400"),
                                           ("nonlocal", "nonlocal_i3d_r50_kinetics400")])
def test_i3d_and_nonlocal_equal_the_caffe2_conversion(mw, name, fixture):
    expected = torch.load(PARITY / fixture / "expected.pt", weights_only=True)
    with reference_checkpoint(mw, fixture) as (path, spec):
        model = build_model(name, 400, "paper", pretrained=str(path)).eval()
    assert "missing 0" in model.card.weights and "unexpected 0" in model.card.weights, model.card.weights
    layers = stage_outputs(model.backbone)
    for key in model.backbone.after_block:  # "layer2_1" -> the fixture's "layer2.1.nl"
        layers[f"{key.replace('_', '.')}.nl.out"] = f"backbone.after_block.{key}"
    for key in ("", "t32"):
        x = fixture_input(mw, spec, expected, key)
        with torch.no_grad(), recorded(model, layers) as inner:
            logits = model(x)
        got = {"logits": logits, "pooled": model.features(x)} if not key else {"logits": logits}
        stats = inner if not key else {"layer4": inner["layer4"]}
        for label, value in stats.items():
            got.update(channel_stats(value, label))
        if key:
            got["pooled"] = model.features(x)
        assert_close(got, expected, fixture, prefix=f"{key}." if key else "")


@pytest.mark.parametrize("name", ["late_fusion", "lrcn"])
def test_the_per_frame_resnet152_equals_torchvision(mw, name):
    """resnet152-394f9c45.pth's layout (777 keys, no BatchNorm counters) loads into Late Fusion's and LRCN's
    backbone; its features equal torchvision's, and with the file's own fc, so do its ImageNet logits."""
    fixture = "resnet152_imagenet1k_v1"
    expected = torch.load(PARITY / fixture / "expected.pt", weights_only=True)
    with reference_checkpoint(mw, fixture) as (path, spec):
        model = build_model(name, 10, "paper", pretrained=str(path)).eval()
        fc = torch.load(path, weights_only=True)
    assert "missing 0" in model.card.weights and "unexpected 2" in model.card.weights  # fc.weight, fc.bias
    frames = fixture_input(mw, spec, expected)  # (5, 3, 224, 224): the frames of one clip
    backbone = model.encoder.backbone
    with torch.no_grad(), recorded(backbone, {"maxpool": "maxpool", "layer1": "layer1", "layer2": "layer2",
                                              "layer3": "layer3", "layer4": "layer4"}) as inner:
        per_frame = model.encoder(frames.transpose(0, 1)[None])[0]  # (1, 3, 5, H, W) -> (5, 2048)
    got = {"pooled": per_frame, "logits": functional.linear(per_frame, fc["fc.weight"], fc["fc.bias"])}
    for label, value in inner.items():
        got.update(channel_stats(value, label))
    assert_close(got, expected, fixture)


def test_a_partial_checkpoint_is_refused_naming_the_file(mw, tmp_path):
    with reference_checkpoint(mw, "i3d_r50_kinetics400") as (path, _):
        state = torch.load(path, weights_only=True)
    state.pop("layer3.2.conv2.weight")
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    with pytest.raises(ValueError, match=r"broken.pth.*do not fit I3D.*layer3.2.conv2.weight"):
        build_model("i3d", 400, "paper", pretrained=str(broken))
