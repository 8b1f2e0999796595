"""One ResNet for 2D frames and 3D clips, with torchvision's parameter names.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016. The 3D form follows the I3D ResNet of
Wang et al., "Non-local Neural Networks", CVPR 2018 (Table 1): a 5x7x7 stem and 3x1x1 temporal kernels on the
first 1x1 convolution of chosen residual blocks ("3x1x1 inflation"), temporal max pooling after res2.

Parameter names equal torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, ``fc``),
so ImageNet weights load straight into the 2D form and inflate by name into the 3D form (:mod:`.inflate`).
Width and depth are settings: the CPU demo models are the same classes at 16-32-64-128 channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ResNetSpec:
    """Architecture of a ResNet.

    Attributes:
        block: "basic" (ResNet-18/34) or "bottleneck" (ResNet-50/101/152).
        layers: residual blocks per stage.
        width: channels of the stem and of stage 1 (64 in the paper).
        temporal: for 3D, per stage, the temporal kernel (1 or 3) of each block's first convolution.
        stem_t: temporal kernel of the 3D stem.
        stem_stride_t: temporal stride of the 3D stem.
        pool1_t, pool1_stride_t: temporal kernel and stride of the 3D stem's max pooling (3x3 spatially, stride 2).
        pool1_pad: spatial padding of the 3D stem's max pooling: 1 as torchvision's 2D ResNet (224 -> 56), 0 as the
            Caffe2 I3D (224 -> 55).
        pool2_t: temporal kernel (and stride 2) of the max pooling after stage 1; 0 for none.
        temporal_padding: "zeros" (the papers) or "replicate": repeating the edge frames makes an inflated
            network's response to a still clip equal the 2D response at every time step, edges included.
    """

    block: str = "bottleneck"
    layers: tuple[int, ...] = (3, 4, 6, 3)
    width: int = 64
    temporal: tuple[tuple[int, ...], ...] = field(default_factory=tuple)
    stem_t: int = 5
    stem_stride_t: int = 2
    pool1_t: int = 1
    pool1_stride_t: int = 2
    pool1_pad: int = 1
    pool2_t: int = 0
    temporal_padding: str = "zeros"

    @property
    def out_channels(self) -> int:
        return self.width * 8 * (4 if self.block == "bottleneck" else 1)


# torchvision's depths
RESNET_LAYERS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3)),
                 101: ("bottleneck", (3, 4, 23, 3)), 152: ("bottleneck", (3, 8, 36, 3))}


class TimeReplicateConv3d(nn.Conv3d):
    """A Conv3d that pads time by repeating the edge frames (space keeps zero padding)."""

    def __init__(self, cin, cout, k, stride, pad):
        super().__init__(cin, cout, k, stride, (0, pad[1], pad[2]), bias=False)
        self.pad_t = pad[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_t:
            x = F.pad(x, (0, 0, 0, 0, self.pad_t, self.pad_t), mode="replicate")
        return super().forward(x)


def _conv(dim: int, cin: int, cout: int, k: Sequence[int], stride: Sequence[int], pad: Sequence[int],
          temporal_padding: str = "zeros") -> nn.Module:
    """A bias-free convolution; ``k``, ``stride``, ``pad`` are (t, h, w) and lose t in 2D."""
    if dim == 2:
        return nn.Conv2d(cin, cout, tuple(k[1:]), tuple(stride[1:]), tuple(pad[1:]), bias=False)
    if temporal_padding == "replicate":
        return TimeReplicateConv3d(cin, cout, tuple(k), tuple(stride), tuple(pad))
    return nn.Conv3d(cin, cout, tuple(k), tuple(stride), tuple(pad), bias=False)


def _bn(dim: int, c: int) -> nn.Module:
    return nn.BatchNorm2d(c) if dim == 2 else nn.BatchNorm3d(c)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, dim: int, cin: int, planes: int, stride: int, kt: int, downsample: nn.Module | None,
                 tpad: str = "zeros"):
        super().__init__()
        self.conv1 = _conv(dim, cin, planes, (kt, 3, 3), (1, stride, stride), (kt // 2, 1, 1), tpad)
        self.bn1 = _bn(dim, planes)
        self.conv2 = _conv(dim, planes, planes, (1, 3, 3), (1, 1, 1), (0, 1, 1))
        self.bn2 = _bn(dim, planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, dim: int, cin: int, planes: int, stride: int, kt: int, downsample: nn.Module | None,
                 tpad: str = "zeros"):
        super().__init__()
        self.conv1 = _conv(dim, cin, planes, (kt, 1, 1), (1, 1, 1), (kt // 2, 0, 0), tpad)
        self.bn1 = _bn(dim, planes)
        self.conv2 = _conv(dim, planes, planes, (1, 3, 3), (1, stride, stride), (0, 1, 1))
        self.bn2 = _bn(dim, planes)
        self.conv3 = _conv(dim, planes, planes * 4, (1, 1, 1), (1, 1, 1), (0, 0, 0))
        self.bn3 = _bn(dim, planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet trunk over images ``(N, C, H, W)`` (dim=2) or clips ``(B, C, T, H, W)`` (dim=3), no classifier.

    Args:
        spec: the architecture.
        dim: 2 or 3.
        after_block: optional modules applied after given blocks, keyed ``"layer{stage}_{block}"``
            (the non-local blocks); kept outside the layers so parameter names stay torchvision's.
    """

    def __init__(self, spec: ResNetSpec, dim: int = 2, after_block: dict[str, nn.Module] | None = None):
        super().__init__()
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3, got {dim}")
        if spec.block not in ("basic", "bottleneck"):
            raise ValueError(f"block must be 'basic' or 'bottleneck', got {spec.block!r}")
        self.spec, self.dim = spec, dim
        block = Bottleneck if spec.block == "bottleneck" else BasicBlock
        temporal = spec.temporal if dim == 3 and spec.temporal else tuple((1,) * n for n in spec.layers)
        if [len(t) for t in temporal] != list(spec.layers):
            raise ValueError(f"temporal kernels {temporal} do not match layers {spec.layers}")
        st = spec.stem_t if dim == 3 else 1
        self.conv1 = _conv(dim, 3, spec.width, (st, 7, 7), (spec.stem_stride_t if dim == 3 else 1, 2, 2),
                           (st // 2, 3, 3), spec.temporal_padding)
        self.bn1 = _bn(dim, spec.width)
        self.relu = nn.ReLU(inplace=True)
        if dim == 2:
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.maxpool = nn.MaxPool3d((spec.pool1_t, 3, 3), (spec.pool1_stride_t, 2, 2),
                                        (0, spec.pool1_pad, spec.pool1_pad))
        self.pool2 = (nn.MaxPool3d((spec.pool2_t, 1, 1), (2, 1, 1)) if dim == 3 and spec.pool2_t
                      else nn.Identity())
        cin = spec.width
        for stage, (n, kts) in enumerate(zip(spec.layers, temporal, strict=False), start=1):
            planes, stride = spec.width * 2 ** (stage - 1), 1 if stage == 1 else 2
            blocks = []
            for i in range(n):
                down = None
                if i == 0 and (stride != 1 or cin != planes * block.expansion):
                    down = nn.Sequential(
                        _conv(dim, cin, planes * block.expansion, (1, 1, 1), (1, stride, stride), (0, 0, 0)),
                        _bn(dim, planes * block.expansion),
                    )
                blocks.append(block(dim, cin, planes, stride if i == 0 else 1, kts[i], down, spec.temporal_padding))
                cin = planes * block.expansion
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.after_block = nn.ModuleDict(after_block or {})
        self.out_channels = cin
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm3d) and not getattr(m, "zero_init", False):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, C', H', W') or (B, 3, T, H, W) -> (B, C', T', H', W')."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in range(1, len(self.spec.layers) + 1):
            for i, blk in enumerate(getattr(self, f"layer{stage}")):
                x = blk(x)
                extra = f"layer{stage}_{i}"
                if extra in self.after_block:
                    x = self.after_block[extra](x)
            if stage == 1:
                x = self.pool2(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally average-pooled features: (N, C') or (B, C')."""
        return self.forward(x).flatten(2).mean(-1)  # (N, C', ...) -> (N, C', S) -> (N, C')


def resnet_spec(depth: int, width: int = 64, **kwargs) -> ResNetSpec:
    """The spec of a torchvision-depth ResNet (18, 34, 50, 101, 152) at the given width."""
    if depth not in RESNET_LAYERS:
        raise ValueError(f"depth must be one of {sorted(RESNET_LAYERS)}, got {depth}")
    block, layers = RESNET_LAYERS[depth]
    return ResNetSpec(block=block, layers=layers, width=width, **kwargs)


def explained_stage(resnet: ResNet, model_size: str) -> str:
    """The block explanations look at: the last block of res5 for the papers' networks (a 7x7 map at 224 px); of
    res3 for the small models, whose res5 map is 2x2 at 64 px, too coarse to outline a figure: on the demo, notebook
    09 measures Grad-CAM's share on the actor stage by stage."""
    stage = "layer4" if model_size == "paper" else "layer2"
    return f"{stage}.{len(getattr(resnet, stage)) - 1}"
