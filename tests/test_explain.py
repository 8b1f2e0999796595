"""Qualitative analysis: maps for every model, aligned with the input, hooks removed, model state restored."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from harutils import explain
from harutils.models import MODELS, build_model


def _hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_maps_for_every_model(name):
    torch.manual_seed(0)
    model = build_model(name, 4, size="demo").train()
    inplace_before = [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)]
    clip = torch.randn(2, 3, *model.input_size)  # two views: the first is explained
    result = explain.explain_clip(model, clip, target=2)
    t, h, w = model.input_size
    assert result["frames"].shape == (t, h, w, 3) and result["frames"].dtype == np.uint8
    for heat in result["maps"].values():
        assert heat.shape == (t, h, w) and heat.min() >= 0 and heat.max() <= 1 and np.isfinite(heat).all()
    assert result["importance"].shape == (t,)
    assert result["gif"][:6] == b"GIF89a"
    assert _hooks(model) == 0, "a hook was left on the model"
    assert model.training and [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)] == inplace_before


def test_grad_cam_follows_the_evidence():
    """Evidence only in frames 2-3, top-left quadrant: Grad-CAM lights up those frames and that corner, so time
    and space are not swapped or flipped on the way back to the clip."""

    class RegionModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Module()
            self.body = nn.Conv3d(3, 4, 1)
            self.backbone.layer4 = nn.ModuleList([self.body])

        def forward(self, x):
            f = torch.relu(self.body(x))  # (B, 4, T, H, W)
            region = f[:, :, 2:4, :8, :8].mean((1, 2, 3, 4))
            return torch.stack([-region, region], 1)

    model = RegionModel()
    nn.init.constant_(model.body.weight, 1.0)
    nn.init.zeros_(model.body.bias)
    clip = torch.zeros(1, 3, 6, 16, 16)
    clip[:, :, 2:4, :8, :8] = torch.rand(1, 3, 2, 8, 8) + 0.5
    cam = explain.grad_cam(model, clip, target=1, layer=model.body)
    assert cam[2:4, :8, :8].mean() > 5 * cam[:, 8:, 8:].mean() + 1e-6
    assert explain.frame_importance(cam)[2:4].sum() > explain.frame_importance(cam)[4:].sum()
