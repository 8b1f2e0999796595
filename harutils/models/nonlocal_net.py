"""Non-local networks (Wang, Girshick, Gupta and He, "Non-local Neural Networks", CVPR 2018).

An embedded-Gaussian non-local block computes, for every position i of a (T, H, W) feature map,
``y_i = sum_j softmax_j(theta(x_i) . phi(x'_j) / sqrt(d)) g(x'_j)`` and adds ``BN(W y)`` back to ``x``, where ``x'``
is ``x`` max-pooled 1x2x2 (the paper's subsampling) and ``d`` the inner width: the semantics of the Caffe2 release
and of its PyTorch conversion (Tushar-N/pytorch-resnet3d ``models/resnet.py:85-124``), whose Kinetics-400 weights
load here unchanged. Without the scale, the attention of a block started from ImageNet weights is nearly
one-hot. The last BN's scale starts at zero, so an untrained block is the identity and inserting blocks into a
pretrained I3D leaves its output unchanged. Five blocks (two in res3,
three in res4) on the I3D ResNet-50 give 35.4M parameters with a 400-way head (MMAction2's figure).
"""

from __future__ import annotations

import torch
from torch import nn

from .card import check_model_size
from .i3d import I3D, I3D_R50, SMALL_3D, clip_card
from .resnet import ResNetSpec

# blocks followed by a non-local block: 1 and 3 of res3 (layer2), 1, 3 and 5 of res4 (layer3)
NL5_POSITIONS = {2: (1, 3), 3: (1, 3, 5)}


class NonLocalBlock(nn.Module):
    """Embedded-Gaussian non-local block on ``(B, C, T, H, W)``.

    Args:
        channels: C.
        inter_channels: width of theta, phi, g (C/2 in the paper).
        sub_sample: max-pool the input of phi and g by 1x2x2.
    """

    def __init__(self, channels: int, inter_channels: int | None = None, sub_sample: bool = True):
        super().__init__()
        inter = inter_channels or max(channels // 2, 1)
        self.theta = nn.Conv3d(channels, inter, 1)
        self.phi = nn.Conv3d(channels, inter, 1)
        self.g = nn.Conv3d(channels, inter, 1)
        self.pool = nn.MaxPool3d((1, 2, 2)) if sub_sample else nn.Identity()
        self.out = nn.Conv3d(inter, channels, 1)
        self.scale = inter**-0.5
        self.bn = nn.BatchNorm3d(channels)
        self.bn.zero_init = True  # ResNet._init_weights leaves it at zero
        nn.init.zeros_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # (B, C', T, H, W) -> (B, THW, C')
        pooled = self.pool(x)  # (B, C, T, h, w): keys and values see the subsampled map
        phi = self.phi(pooled).flatten(2)  # (B, C', T, h, w) -> (B, C', Thw)
        g = self.g(pooled).flatten(2).transpose(1, 2)  # -> (B, Thw, C')
        attn = torch.softmax((theta @ phi) * self.scale, dim=-1)  # (B, THW, Thw), over the keys
        y = (attn @ g).transpose(1, 2).reshape(b, -1, t, h, w)  # (B, THW, C') -> (B, C', T, H, W)
        return x + self.bn(self.out(y))


def nonlocal_blocks(spec: ResNetSpec, positions: dict[int, tuple[int, ...]]) -> dict[str, nn.Module]:
    """Non-local blocks keyed ``layer{stage}_{block}`` for the ResNet ``spec``."""
    expansion = 4 if spec.block == "bottleneck" else 1
    blocks = {}
    for stage, idxs in positions.items():
        channels = spec.width * 2 ** (stage - 1) * expansion
        for i in idxs:
            if i >= spec.layers[stage - 1]:
                raise ValueError(f"stage {stage} has {spec.layers[stage - 1]} blocks; no block {i}")
            blocks[f"layer{stage}_{i}"] = NonLocalBlock(channels)
    return blocks


class NonLocalI3D(I3D):
    """I3D with non-local blocks after the given residual blocks (``NL5_POSITIONS`` by default)."""

    def __init__(self, spec: ResNetSpec, num_classes: int, positions=None, dropout: float = 0.5):
        super().__init__(spec, num_classes, dropout, after_block=nonlocal_blocks(spec, positions or NL5_POSITIONS))


def build_nonlocal(num_classes: int, model_size: str = "paper", pretrained=None, *, num_frames: int | None = None,
                   input_side: int | None = None, positions=None, **overrides) -> NonLocalI3D:
    """Non-local I3D ResNet-50 with 5 blocks (paper size, 35.4M parameters with 400 classes); small: one block in
    each of res3 and res4.

    Args: as :func:`~harutils.models.i3d.build_i3d`, and ``positions`` (stage -> blocks followed by a non-local
    block; None: :data:`NL5_POSITIONS` at paper size).
    """
    check_model_size(model_size)
    spec = I3D_R50 if model_size == "paper" else SMALL_3D
    positions = positions or (NL5_POSITIONS if model_size == "paper" else {2: (0,), 3: (0,)})
    model = NonLocalI3D(spec, num_classes, positions, **overrides)
    model.card = clip_card(model, model_size, num_frames, pretrained, input_side)
    return model
