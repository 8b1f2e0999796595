"""Per-frame 2D CNN features for clip models without temporal convolutions (Late Fusion, LRCN)."""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from .resnet import ResNet, ResNetSpec
from .weights import IMAGENET, UNNORMALISED, Preprocessing, load_matching, torchvision_state_dict


class FrameFeatures(nn.Module):
    """Apply a 2D ResNet to every frame of a clip.

    Args:
        spec: the 2D ResNet.
        freeze: keep the backbone fixed (no gradients, BatchNorm in eval mode).
    """

    def __init__(self, spec: ResNetSpec, freeze: bool = False):
        super().__init__()
        self.backbone = ResNet(spec, dim=2)
        self.out_channels = self.backbone.out_channels
        self.freeze = freeze
        if freeze:
            self.backbone.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze:
            self.backbone.eval()  # frozen BatchNorm keeps its ImageNet statistics
        return self

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T, F)."""
        b, c, t, h, w = clip.shape
        frames = clip.transpose(1, 2).reshape(b * t, c, h, w)  # (B, C, T, H, W) -> (B*T, C, H, W)
        feats = self.backbone.features(frames)  # (B*T, F)
        return feats.view(b, t, -1)  # (B*T, F) -> (B, T, F)

    def load_imagenet(self, weights_enum) -> str:
        """Load torchvision ImageNet weights into the backbone; returns the load report."""
        report = load_matching(self.backbone, torchvision_state_dict(weights_enum))
        if report.shape_mismatch or len(report.loaded) < len(self.backbone.state_dict()):
            raise ValueError(f"{weights_enum} does not fit this backbone: {report}")
        return str(report)


def load_imagenet_2d(encoder: FrameFeatures, pretrained, depth: int, model_size: str) -> tuple[Preprocessing, str]:
    """Initialise a per-frame backbone: nothing (``pretrained`` None/False) or torchvision's ImageNet ResNet.

    Returns:
        The preprocessing the weights expect and the load report.

    Raises:
        ValueError: weights other than ImageNet, or ImageNet weights for the small model.
    """
    if pretrained is None or pretrained is False:
        return (UNNORMALISED if model_size == "small" else IMAGENET), "random initialisation"
    if pretrained not in ("imagenet", True):
        raise ValueError(f"per-frame ResNets take pretrained=None or 'imagenet', got {pretrained!r}")
    if model_size == "small":
        raise ValueError("ImageNet weights exist for the paper-size backbone only (model_size='paper')")
    weights = torchvision.models.get_model_weights(f"resnet{depth}").IMAGENET1K_V1
    return IMAGENET, encoder.load_imagenet(weights)
