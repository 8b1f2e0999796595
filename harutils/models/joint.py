"""Joint training model: one shared backbone, one linear head per dataset (the reference's best setting)."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from .heads import linear_head


class JointModel(nn.Module):
    """Wrap a registered model: its ``features`` are shared, its head is replaced by one head per dataset.

    Args:
        model: any model of the registry (it has ``features``, ``num_features`` and ``card``).
        num_classes: dataset name -> number of classes, e.g. ``{"ucf101": 101, "hmdb51": 51}``.
        dropout: before each head.
    """

    def __init__(self, model: nn.Module, num_classes: dict[str, int], dropout: float = 0.5):
        super().__init__()
        self.backbone = model
        # the same inputs and explained layer as the wrapped model, one level down
        self.card = replace(model.card, explain_layer=f"backbone.{model.card.explain_layer}")
        model.head = nn.Identity()  # the shared part ends at the features
        self.heads = nn.ModuleDict({name: linear_head(model.num_features, n, dropout)
                                    for name, n in num_classes.items()})

    def forward(self, clip: torch.Tensor, dataset: str) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, classes of ``dataset``)."""
        if dataset not in self.heads:
            raise KeyError(f"no head for dataset {dataset!r}; heads: {sorted(self.heads)}")
        return self.heads[dataset](self.backbone.features(clip))
