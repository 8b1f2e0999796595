"""I3D with a ResNet-50 trunk, as the I3D baseline of Wang et al., "Non-local Neural Networks", CVPR 2018
(Table 1), following Carreira and Zisserman's inflation ("Quo Vadis, Action Recognition?", CVPR 2017).

A 5x7x7 stem, 3x1x1 temporal kernels on the first convolution of alternate residual blocks (all of res2, blocks
1, 3 of res3, 1, 3, 5 of res4 and 2 of res5), temporal max pooling after res2, global average pooling, dropout and
a linear head: 28.0M parameters with a 400-way head (MMAction2's I3D R50). Its ImageNet weights are torchvision's
ResNet-50 inflated along time (:mod:`.inflate`).
"""

from __future__ import annotations

import torch
from torch import nn

from .heads import linear_head
from .resnet import ResNet, ResNetSpec

# res2..res5 temporal kernels of the first convolution of each block (MMAction2 "inflate" 3x1x1 pattern)
I3D_R50_TEMPORAL = ((3, 3, 3), (3, 1, 3, 1), (3, 1, 3, 1, 3, 1), (1, 3, 1))
I3D_R50 = ResNetSpec("bottleneck", (3, 4, 6, 3), 64, I3D_R50_TEMPORAL, stem_t=5, stem_stride_t=2,
                     pool1_stride_t=2, pool2_t=True)


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
