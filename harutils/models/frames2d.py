"""Per-frame 2D CNN features for clip models without temporal convolutions (Late Fusion, LRCN)."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn

from .card import ModelCard
from .resnet import ResNet, ResNetSpec, explained_stage
from .weights import IMAGENET, UNNORMALISED, Preprocessing, load_checkpoint, load_matching, torchvision_checkpoint


class FrameFeatures(nn.Module):
    """Apply a 2D ResNet to every frame of a clip.

    Args:
        spec: the 2D ResNet.
        freeze: keep the backbone fixed (no gradients, BatchNorm in eval mode).
        projection: a trainable linear layer to this width after the backbone (0: none), the reference report's
            replacement of ResNet's classifier by ``Linear(2048, 512)``.
        projection_relu: a ReLU after the projection (the reference's Late Fusion has one, its LRCN not).
    """

    def __init__(self, spec: ResNetSpec, freeze: bool = False, projection: int = 0, projection_relu: bool = False):
        super().__init__()
        self.backbone = ResNet(spec, dim=2)
        self.out_channels = projection or self.backbone.out_channels
        if projection:
            layers = [nn.Linear(self.backbone.out_channels, projection)] + ([nn.ReLU()] if projection_relu else [])
            self.project = nn.Sequential(*layers)
        else:
            self.project = nn.Identity()
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
        feats = self.project(self.backbone.features(frames))  # (B*T, F)
        return feats.view(b, t, -1)  # (B*T, F) -> (B, T, F)

    def load_imagenet(self, path: Path) -> str:
        """Load a torchvision ImageNet ResNet checkpoint file into the backbone; returns the load report.

        Raises:
            ValueError: the file does not fit the backbone (any backbone tensor missing or of another shape).
        """
        state = load_checkpoint(path, "torchvision ImageNet ResNet", IMAGENET_HOW)
        report = load_matching(self.backbone, state, file=path)  # the file's fc.* are not ours: unexpected
        return str(report.require(f"this {len(self.backbone.layer3)}-block-res4 ResNet backbone"))


IMAGENET_HOW = ("Use torchvision's IMAGENET1K_V1 file of the ResNet (resnet152-394f9c45.pth for ResNet-152), from "
                "https://pytorch.org/vision/stable/models.html.")


def load_imagenet_2d(encoder: FrameFeatures, pretrained, depth: int, model_size: str) -> tuple[Preprocessing, str]:
    """Initialise a per-frame backbone: nothing (``pretrained`` None/False), torchvision's ImageNet ResNet
    ("imagenet": its file from ``$HARUTILS_WEIGHTS`` or the torch cache), or a checkpoint file in torchvision's
    layout (a path).

    Returns:
        The preprocessing the weights expect and the load report.

    Raises:
        ValueError: ImageNet weights for the small model, or a file that does not fit.
    """
    if pretrained is None or pretrained is False:
        return (UNNORMALISED if model_size == "small" else IMAGENET), "random initialisation"
    if model_size == "small":
        raise ValueError("ImageNet weights exist for the paper-size backbone only (model_size='paper')")
    if pretrained in ("imagenet", True):
        pretrained = torchvision_checkpoint(torchvision.models.get_model_weights(f"resnet{depth}").IMAGENET1K_V1)
    return IMAGENET, encoder.load_imagenet(Path(pretrained))


def per_frame_card(encoder: FrameFeatures, pretrained, depth: int, model_size: str, frames: int,
                   input_side: int | None = None) -> ModelCard:
    """Load a per-frame model's weights (:func:`load_imagenet_2d`) and return its card: ``frames`` uniform frames
    of ``input_side`` pixels (default 224 at paper size, 64 small), explained at the backbone's last block, frame by
    frame (:func:`~harutils.models.resnet.explained_stage`)."""
    preprocessing, weights = load_imagenet_2d(encoder, pretrained, depth, model_size)
    side = input_side or (224 if model_size == "paper" else 64)
    return ModelCard((frames, side, side), "uniform", preprocessing,
                     explain_layer=f"encoder.backbone.{explained_stage(encoder.backbone, model_size)}", per_frame=True,
                     weights=weights)
