"""Late Fusion (Karpathy et al., "Large-scale Video Classification with CNNs", CVPR 2014, the late-fusion
variant as used in the reference report): a 2D ResNet on each of N frames sampled uniformly, per-frame features
fused after the backbone (average or concatenation), then a linear classifier. No temporal modelling: the
average is invariant to frame order, which the temporal-order probe makes visible.
"""

from __future__ import annotations

import torch
from torch import nn

from .card import check_model_size
from .frames2d import FrameFeatures, per_frame_card
from .heads import linear_head
from .resnet import ResNetSpec, resnet_spec


class LateFusion(nn.Module):
    """Args:
        spec: 2D ResNet backbone.
        num_classes: classes.
        num_frames: frames per clip (needed for concatenation).
        fusion: "avg" (order-free) or "concat" (keeps the frame slots).
        freeze_backbone: train the head (and the projection) only.
        projection: a trainable ``Linear(F, projection)`` and ReLU after the backbone, before fusion (0: none); the
            reference report's Late Fusion: frozen ResNet-152, 512 and ReLU, mean over frames, linear.
        dropout: before the classifier.
    """

    def __init__(self, spec: ResNetSpec, num_classes: int, num_frames: int = 5, fusion: str = "avg",
                 freeze_backbone: bool = False, projection: int = 0, dropout: float = 0.5):
        super().__init__()
        if fusion not in ("avg", "concat"):
            raise ValueError(f"fusion must be 'avg' or 'concat', got {fusion!r}")
        self.encoder = FrameFeatures(spec, freeze_backbone, projection, projection_relu=True)
        self.fusion, self.num_frames = fusion, num_frames
        self.num_features = self.encoder.out_channels * (num_frames if fusion == "concat" else 1)
        self.head = linear_head(self.num_features, num_classes, dropout)

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, F)."""
        per_frame = self.encoder(clip)  # (B, T, F)
        if self.fusion == "avg":
            return per_frame.mean(1)  # (B, T, F) -> (B, F)
        if per_frame.shape[1] != self.num_frames:
            raise ValueError(f"concatenation fusion expects {self.num_frames} frames, got {per_frame.shape[1]}")
        return per_frame.flatten(1)  # (B, T, F) -> (B, T*F)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clip))


SMALL_2D = ResNetSpec("basic", (1, 1, 1, 1), 16)  # the demo's per-frame ResNet: 16-128 channels


def build_late_fusion(num_classes: int, model_size: str = "paper", pretrained=None, *, depth: int = 152,
                      num_frames: int = 5, input_side: int | None = None, **overrides) -> LateFusion:
    """Late Fusion over a 2D ResNet-152 (paper size) on 5 uniform frames at 224 px; small: 16-128 channels, 64 px.

    Args:
        num_classes: classes.
        model_size: "paper" or "small".
        pretrained: None (random initialisation), "imagenet" (torchvision's weights) or the path of a checkpoint in
            torchvision's ResNet layout.
        depth: ResNet depth at paper size.
        num_frames: frames per video.
        input_side: height and width of the frames (default 224 at paper size, 64 small).
        **overrides: :class:`LateFusion` arguments (fusion, freeze_backbone, projection, dropout).
    """
    check_model_size(model_size)
    paper = model_size == "paper"
    model = LateFusion(resnet_spec(depth) if paper else SMALL_2D, num_classes, num_frames, **overrides)
    model.card = per_frame_card(model.encoder, pretrained, depth, model_size, num_frames, input_side)
    return model
