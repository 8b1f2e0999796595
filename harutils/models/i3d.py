"""I3D with a ResNet-50 trunk, as the I3D baseline of Wang et al., "Non-local Neural Networks", CVPR 2018
(Table 1), following Carreira and Zisserman's inflation ("Quo Vadis, Action Recognition?", CVPR 2017).

A 5x7x7 stem, 3x1x1 temporal kernels on the first convolution of alternate residual blocks (all of res2, blocks
1, 3 of res3, 1, 3, 5 of res4 and 2 of res5), temporal max pooling after res2, global average pooling, dropout and
a linear head: 28.0M parameters with a 400-way head (MMAction2's I3D R50). Its ImageNet weights are torchvision's
ResNet-50 inflated along time (:mod:`.inflate`).
"""

from __future__ import annotations

import re

import torch
import torchvision
from torch import nn

from . import weights as W
from .card import ModelCard, check_model_size
from .heads import linear_head
from .inflate import inflate_into
from .resnet import ResNet, ResNetSpec, explained_stage

# res2..res5 temporal kernels of the first convolution of each block (MMAction2 "inflate" 3x1x1 pattern)
I3D_R50_TEMPORAL = ((3, 3, 3), (3, 1, 3, 1), (3, 1, 3, 1, 3, 1), (1, 3, 1))
# the Caffe2 release's stem (Tushar-N/pytorch-resnet3d models/resnet.py:134-138): 5x7x7 conv with stride 2 in time,
# max pool 2x3x3 with stride 2 and no padding (224 -> 112 -> 55), and a 2x1x1 temporal max pool after res2
I3D_R50 = ResNetSpec("bottleneck", (3, 4, 6, 3), 64, I3D_R50_TEMPORAL, stem_t=5, stem_stride_t=2,
                     pool1_t=2, pool1_stride_t=2, pool1_pad=0, pool2_t=2)
# the demo's 3D ResNet: basic blocks at 16-128 channels, 8x64x64 clips, no temporal downsampling
SMALL_3D = ResNetSpec("basic", (1, 1, 1, 1), 16, ((3,), (3,), (3,), (3,)), stem_t=3, stem_stride_t=1,
                      pool1_stride_t=1, pool2_t=0)
SMALL_INPUT = (8, 64, 64)


class I3D(nn.Module):
    """Args:
        spec: the 3D ResNet (``I3D_R50`` at full size).
        num_classes: classes.
        dropout: before the classifier.
        after_block: modules applied after given residual blocks (the non-local blocks).
    """

    def __init__(self, spec: ResNetSpec, num_classes: int, dropout: float = 0.5,
                 after_block: dict[str, nn.Module] | None = None):
        super().__init__()
        self.backbone = ResNet(spec, dim=3, after_block=after_block)
        self.num_features = self.backbone.out_channels
        self.head = linear_head(self.num_features, num_classes, dropout)

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, F), averaged over time and space."""
        return self.backbone.features(clip)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clip))


KINETICS_HOW = ("Pass the path of a Kinetics-400 checkpoint in the layout of the public PyTorch conversion of the "
                "Caffe2 release (keys conv1.weight, layer2.1.nl.theta.weight, fc.weight).")


def kinetics_key_map(key: str) -> str:
    """Names of the public PyTorch conversion of the Caffe2 release (``layer2.1.nl.theta.weight``,
    ``fc.weight``) -> ours (``backbone.after_block.layer2_1.theta.weight``, ``head.1.weight``)."""
    m = re.match(r"layer(\d)\.(\d+)\.nl\.(.*)", key)
    if m:
        return f"backbone.after_block.layer{m.group(1)}_{m.group(2)}.{m.group(3)}"
    if key.startswith("fc."):
        return "head.1." + key[3:]
    return "backbone." + key


def load_i3d_weights(model: I3D, pretrained, model_size: str) -> tuple[W.Preprocessing, str]:
    """Initialise an I3D (or Non-local I3D): nothing, torchvision's ImageNet ResNet-50 inflated, or a
    Kinetics-400 checkpoint file.

    Returns:
        The preprocessing the weights expect and the load report.

    Raises:
        ValueError: ImageNet weights for the small model, or a checkpoint that does not fit.
    """
    if pretrained is None or pretrained is False:
        return (W.UNNORMALISED if model_size == "small" else W.IMAGENET), "random initialisation"
    what = f"{type(model).__name__} ({model_size})"
    if pretrained in ("imagenet", True):
        if model_size == "small":
            raise ValueError("ImageNet weights exist for the paper-size ResNet-50 only (model_size='paper')")
        path = W.torchvision_checkpoint(torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        state2d = W.load_checkpoint(path, "torchvision ImageNet ResNet-50", "")
        report = inflate_into(model.backbone, state2d, file=path)  # the non-local blocks are new: they start at zero
        return W.IMAGENET, f"ImageNet ResNet-50 inflated: {report.require(what, may_differ=('after_block.',))}"
    if pretrained == "kinetics400":
        pretrained = W.named_checkpoint("nonlocal" if len(model.backbone.after_block) else "i3d", "kinetics400")
    state = W.load_checkpoint(pretrained, "Kinetics-400 I3D/Non-local", KINETICS_HOW)
    report = W.load_matching(model, {kinetics_key_map(k): v for k, v in state.items()}, file=pretrained)
    return W.KINETICS_CAFFE2, str(report.require(what, may_differ=("head.",)))


def clip_card(model: I3D, model_size: str, num_frames: int | None, pretrained, input_side: int | None = None
              ) -> ModelCard:
    """The card of a 3D ResNet model after loading its weights (shared by I3D and Non-local I3D)."""
    preprocessing, weights = load_i3d_weights(model, pretrained, model_size)
    t = num_frames or (32 if model_size == "paper" else SMALL_INPUT[0])
    side = input_side or (224 if model_size == "paper" else SMALL_INPUT[1])
    size = (t, side, side)
    layer = f"backbone.{explained_stage(model.backbone, model_size)}"
    return ModelCard(size, "clip", preprocessing, explain_layer=layer, weights=weights)


def build_i3d(num_classes: int, model_size: str = "paper", pretrained=None, *, num_frames: int | None = None,
              input_side: int | None = None, **overrides) -> I3D:
    """I3D ResNet-50 (paper size: 32x224x224, 28.0M parameters with 400 classes); small: :data:`SMALL_3D` on 8x64x64.

    Args:
        num_classes: classes.
        model_size: "paper" or "small".
        pretrained: None, "imagenet" (inflated), "kinetics400" (from the weights folder) or the path of a
            Kinetics-400 checkpoint in the Caffe2 conversion's layout.
        num_frames: clip length (None: 32 at paper size, 8 small).
        input_side: height and width of the clips (default 224 at paper size, 64 small).
        **overrides: :class:`I3D` arguments.
    """
    check_model_size(model_size)
    model = I3D(I3D_R50 if model_size == "paper" else SMALL_3D, num_classes, **overrides)
    model.card = clip_card(model, model_size, num_frames, pretrained, input_side)
    return model
