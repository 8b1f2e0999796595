"""LRCN (Donahue et al., "Long-term Recurrent Convolutional Networks for Visual Recognition and Description",
CVPR 2015): per-frame 2D ResNet features fed in order to an LSTM; the class comes from the last step, from the
mean of the outputs over all steps, or, as in the paper, from a prediction at every step: each step is trained
against the clip's label and the steps' predictions are averaged to classify.
"""

from __future__ import annotations

import torch
from torch import nn

from .card import check_model_size
from .frames2d import FrameFeatures, per_frame_card
from .heads import linear_head
from .late_fusion import SMALL_2D
from .resnet import ResNetSpec, resnet_spec

READOUTS = ("last", "mean", "steps")


class LRCN(nn.Module):
    """Args:
        spec: 2D ResNet backbone.
        num_classes: classes.
        hidden: LSTM hidden size.
        layers: LSTM layers.
        bidirectional: a bidirectional LSTM.
        readout: "last" (the last step), "mean" (the head on the mean of the steps' outputs) or "steps" (the head
            on every step: in training the forward returns per-step logits ``(B, T, classes)``, each scored against
            the clip's label by the training step; in evaluation their mean, ``(B, classes)``).
        freeze_backbone: train the projection, LSTM and head only.
        projection: a trainable ``Linear(F, projection)`` (no ReLU) between the backbone and the LSTM (0: none); the
            reference report's LRCN: frozen ResNet-152, 512, a 2-layer bidirectional LSTM of 256, the last step.
        dropout: before the classifier.
    """

    def __init__(self, spec: ResNetSpec, num_classes: int, hidden: int = 512, layers: int = 1,
                 bidirectional: bool = False, readout: str = "last", freeze_backbone: bool = False,
                 projection: int = 0, dropout: float = 0.5):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.encoder = FrameFeatures(spec, freeze_backbone, projection)
        self.lstm = nn.LSTM(self.encoder.out_channels, hidden, layers, batch_first=True,
                            bidirectional=bidirectional)
        self.readout = readout
        self.num_features = hidden * (2 if bidirectional else 1)
        self.head = linear_head(self.num_features, num_classes, dropout)

    def steps(self, clip: torch.Tensor) -> torch.Tensor:
        """The LSTM's output at every step: (B, C, T, H, W) -> (B, T, H*directions)."""
        return self.lstm(self.encoder(clip))[0]  # (B, T, F) -> (B, T, H*dirs)

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, H*directions)."""
        seq = self.steps(clip)
        return seq[:, -1] if self.readout == "last" else seq.mean(1)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if self.readout == "steps" and self.training:
            return self.head(self.steps(clip))  # (B, T, classes): a prediction at every step
        # the linear head of the mean of the steps is the mean of the steps' predictions
        return self.head(self.features(clip))


def build_lrcn(num_classes: int, model_size: str = "paper", pretrained=None, *, depth: int = 152,
               num_frames: int | None = None, input_side: int | None = None, **overrides) -> LRCN:
    """LRCN: 2D ResNet-152 features of 16 uniform frames into an LSTM of 512 (paper size); small: 8 frames at
    64 px, 16-128 channels, an LSTM of 64.

    Args:
        num_classes: classes.
        model_size: "paper" or "small".
        pretrained: None (random initialisation), "imagenet" (torchvision's weights) or the path of a checkpoint in
            torchvision's ResNet layout.
        depth: ResNet depth at paper size.
        num_frames: frames per video (None: 16 at paper size, 8 small).
        input_side: height and width of the frames (default 224 at paper size, 64 small).
        **overrides: :class:`LRCN` arguments (hidden, layers, bidirectional, readout, freeze_backbone, projection,
            dropout).
    """
    check_model_size(model_size)
    paper = model_size == "paper"
    frames = num_frames or (16 if paper else 8)
    overrides.setdefault("hidden", 512 if paper else 64)
    model = LRCN(resnet_spec(depth) if paper else SMALL_2D, num_classes, **overrides)
    model.card = per_frame_card(model.encoder, pretrained, depth, model_size, frames, input_side)
    return model
