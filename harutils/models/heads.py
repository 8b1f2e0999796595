"""The classifier head shared by every model: dropout then one linear layer."""

from torch import nn


def linear_head(in_features: int, num_classes: int, dropout: float = 0.5) -> nn.Sequential:
    """Dropout + Linear, ``(B, F) -> (B, num_classes)``."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, num_classes))
