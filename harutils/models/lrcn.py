"""LRCN (Donahue et al., "Long-term Recurrent Convolutional Networks for Visual Recognition and Description",
CVPR 2015): per-frame 2D ResNet features fed in order to an LSTM; the class comes from the last step or from
the mean of the outputs over all steps.
"""

from __future__ import annotations

import torch
from torch import nn

from .frames2d import FrameFeatures
from .heads import linear_head
from .resnet import ResNetSpec


class LRCN(nn.Module):
    """Args:
        spec: 2D ResNet backbone.
        num_classes: classes.
        hidden: LSTM hidden size.
        layers: LSTM layers.
        bidirectional: a bidirectional LSTM.
        readout: "last" (the last step) or "mean" (mean over steps).
        freeze_backbone: train LSTM and head only.
        dropout: before the classifier.
    """

    def __init__(self, spec: ResNetSpec, num_classes: int, hidden: int = 512, layers: int = 1,
                 bidirectional: bool = False, readout: str = "last", freeze_backbone: bool = False,
                 dropout: float = 0.5):
        super().__init__()
        if readout not in ("last", "mean"):
            raise ValueError(f"readout must be 'last' or 'mean', got {readout!r}")
        self.encoder = FrameFeatures(spec, freeze_backbone)
        self.lstm = nn.LSTM(self.encoder.out_channels, hidden, layers, batch_first=True,
                            bidirectional=bidirectional)
        self.readout = readout
        self.num_features = hidden * (2 if bidirectional else 1)
        self.head = linear_head(self.num_features, num_classes, dropout)

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, H*directions)."""
        seq, _ = self.lstm(self.encoder(clip))  # (B, T, F) -> (B, T, H*dirs)
        return seq[:, -1] if self.readout == "last" else seq.mean(1)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clip))
