"""The five models of the series, one builder each, in a registry.

``build_model(name, num_classes, size="full"|"demo", pretrained=None, **overrides)`` returns an ``nn.Module``
taking ``(B, 3, T, H, W)`` float clips and returning ``(B, num_classes)`` logits. Every model also has
``features(clip) -> (B, F)``, ``num_features``, ``head``, and the attributes the data pipeline reads:
``input_size`` (T, H, W), ``sampling`` ("uniform": frames spread over the video; "clip": consecutive frames)
and ``preprocessing`` (what its weights expect, :class:`~harutils.models.weights.Preprocessing`).

``size="demo"`` is the same class at 16-32-64-128 channels and small inputs, for the 2-core CPU demo.
``pretrained``: None (random init), ``"imagenet"`` (torchvision weights for the 2D backbones, inflated for
I3D and Non-local) or a path to a local checkpoint (C3D Sports-1M ``c3d.pickle``, Kinetics-400 I3D/Non-local).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from . import weights as W
from .c3d import C3D, c3d_pickle_key_map
from .i3d import I3D, I3D_R50
from .inflate import inflate_into
from .joint import JointModel
from .late_fusion import LateFusion
from .lrcn import LRCN
from .nonlocal_net import NL5_POSITIONS, NonLocalI3D, kinetics_key_map
from .resnet import ResNetSpec, resnet_spec

SIZES = ("full", "demo")
DEMO_2D = ResNetSpec("basic", (1, 1, 1, 1), 16)
DEMO_3D = ResNetSpec("basic", (1, 1, 1, 1), 16, ((3,), (3,), (3,), (3,)), stem_t=3, stem_stride_t=1,
                     pool1_stride_t=1, pool2_t=False)
DEMO_INPUT = (8, 64, 64)


def _check(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")


def _finish(model: nn.Module, input_size, sampling: str, preprocessing: W.Preprocessing) -> nn.Module:
    model.input_size, model.sampling, model.preprocessing = tuple(input_size), sampling, preprocessing
    model.load_report = getattr(model, "load_report", "random initialisation")
    return model


def _imagenet_2d(model, pretrained, depth: int):
    import torchvision

    if pretrained is None or pretrained is False:
        return W.DEMO if depth == 0 else W.IMAGENET
    if pretrained not in ("imagenet", True):
        raise ValueError(f"{type(model).__name__} takes pretrained=None or 'imagenet', got {pretrained!r}")
    if depth == 0:
        raise ValueError("ImageNet weights exist for the full-size backbone only (size='full')")
    enum = torchvision.models.get_model_weights(f"resnet{depth}").IMAGENET1K_V1
    model.load_report = model.encoder.load_imagenet(enum)
    return W.IMAGENET


def build_late_fusion(num_classes: int, size: str = "full", pretrained=None, *, depth: int = 152,
                      num_frames: int | None = None, **overrides) -> LateFusion:
    """Late Fusion over a 2D ResNet-152 (full) on 5 uniform frames at 224 px; demo: 16-128 channels, 64 px."""
    _check(size)
    full = size == "full"
    frames = num_frames or 5
    model = LateFusion(resnet_spec(depth) if full else DEMO_2D, num_classes, frames, **overrides)
    pre = _imagenet_2d(model, pretrained, depth if full else 0)
    return _finish(model, (frames, 224, 224) if full else (frames, 64, 64), "uniform", pre)


def build_lrcn(num_classes: int, size: str = "full", pretrained=None, *, depth: int = 152,
               num_frames: int | None = None, **overrides) -> LRCN:
    """LRCN: 2D ResNet-152 features per frame into an LSTM of 512 (full, 16 frames); demo: LSTM of 64."""
    _check(size)
    full = size == "full"
    frames = num_frames or (16 if full else 8)
    overrides.setdefault("hidden", 512 if full else 64)
    model = LRCN(resnet_spec(depth) if full else DEMO_2D, num_classes, **overrides)
    pre = _imagenet_2d(model, pretrained, depth if full else 0)
    return _finish(model, (frames, 224, 224) if full else (frames, 64, 64), "uniform", pre)


C3D_HOW = ("Get the Sports-1M C3D weights converted to PyTorch (c3d.pickle, e.g. from the c3d-pytorch project) and "
           "pass its path: build_model('c3d', n, pretrained='/path/to/c3d.pickle').")


def build_c3d(num_classes: int, size: str = "full", pretrained=None, **overrides) -> C3D:
    """C3D at 16x112x112 (full, 78.4M parameters with 101 classes); demo: 8-64 channels, BatchNorm, fc 128, no
    dropout, 8x64x64. (Measured on the demo data: dropout 0.2 left the demo C3D at 0.17 test accuracy on the
    HMDB51-layout set, 0.46 without; doubling the widths gave 0.27 at twice the time.)"""
    _check(size)
    if size == "demo":
        overrides = {"widths": (8, 16, 32, 64, 64), "fc": 128, "dropout": 0.0, "input_size": DEMO_INPUT,
                     "pool_t": (1, 2, 2, 2, 1), "batch_norm": True, **overrides}
    model = C3D(num_classes, **overrides)
    pre = W.DEMO if size == "demo" else W.IMAGENET
    if pretrained is not None and pretrained is not False:
        if pretrained in ("imagenet", True):
            raise ValueError(f"C3D has no ImageNet weights. {C3D_HOW}")
        state = W.load_checkpoint(pretrained, "C3D Sports-1M", C3D_HOW)
        report = W.load_matching(model, {c3d_pickle_key_map(k): v for k, v in state.items()})
        if any(k.startswith("conv") for k in report.missing + report.shape_mismatch):
            raise ValueError(f"{pretrained} does not fit C3D ({size}): {report}")
        model.load_report, pre = str(report), W.C3D_SPORTS1M
    return _finish(model, model.input_size, "clip", pre)


KINETICS_HOW = ("Pass the path of a Kinetics-400 checkpoint in the layout of the public PyTorch conversion of the "
                "Caffe2 release (keys conv1.weight, layer2.1.nl.theta.weight, fc.weight).")


def _i3d_weights(model: I3D, pretrained, size: str) -> W.Preprocessing:
    import torchvision

    if pretrained is None or pretrained is False:
        return W.DEMO if size == "demo" else W.IMAGENET
    if pretrained in ("imagenet", True):
        if size == "demo":
            raise ValueError("ImageNet weights exist for the full-size ResNet-50 only (size='full')")
        state2d = W.torchvision_state_dict(torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        report = inflate_into(model.backbone, state2d)
        model.load_report = f"ImageNet ResNet-50 inflated: {report}"
        return W.IMAGENET
    state = W.load_checkpoint(pretrained, "Kinetics-400 I3D/Non-local", KINETICS_HOW)
    report = W.load_matching(model, {kinetics_key_map(k): v for k, v in state.items()})
    model.load_report = str(report)
    if not report.loaded or any(k.startswith("backbone.layer") for k in report.missing):
        raise ValueError(f"{pretrained} does not fit {type(model).__name__} ({size}): {report}")
    return W.KINETICS_CAFFE2


def build_i3d(num_classes: int, size: str = "full", pretrained=None, *, num_frames: int | None = None,
              **overrides) -> I3D:
    """I3D ResNet-50 (full: 32x224x224, 28.0M parameters with 400 classes); demo: 3D 16-128 channels, 8x64x64."""
    _check(size)
    model = I3D(I3D_R50 if size == "full" else DEMO_3D, num_classes, **overrides)
    pre = _i3d_weights(model, pretrained, size)
    t = num_frames or (32 if size == "full" else DEMO_INPUT[0])
    return _finish(model, (t, 224, 224) if size == "full" else (t, *DEMO_INPUT[1:]), "clip", pre)


def build_nonlocal(num_classes: int, size: str = "full", pretrained=None, *, num_frames: int | None = None,
                   positions=None, **overrides) -> NonLocalI3D:
    """Non-local I3D ResNet-50 with 5 blocks (full, 35.4M parameters with 400 classes); demo: one block in
    each of res3 and res4."""
    _check(size)
    spec = I3D_R50 if size == "full" else DEMO_3D
    positions = positions or (NL5_POSITIONS if size == "full" else {2: (0,), 3: (0,)})
    model = NonLocalI3D(spec, num_classes, positions, **overrides)
    pre = _i3d_weights(model, pretrained, size)
    t = num_frames or (32 if size == "full" else DEMO_INPUT[0])
    return _finish(model, (t, 224, 224) if size == "full" else (t, *DEMO_INPUT[1:]), "clip", pre)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "late_fusion": build_late_fusion,
    "c3d": build_c3d,
    "lrcn": build_lrcn,
    "i3d": build_i3d,
    "nonlocal": build_nonlocal,
}


def build_model(name: str, num_classes: int, size: str = "full", pretrained: str | Path | None = None,
                **overrides) -> nn.Module:
    """Build a registered model. See the module docstring for the arguments."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    return MODELS[name](num_classes, size, pretrained, **overrides)


__all__ = ["MODELS", "build_model", "JointModel", "C3D", "I3D", "LRCN", "LateFusion", "NonLocalI3D"]
