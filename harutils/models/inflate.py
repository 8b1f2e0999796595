"""2D-to-3D inflation of ImageNet weights (Carreira and Zisserman, "Quo Vadis, Action Recognition?", CVPR 2017).

A 2D kernel ``(O, I, h, w)`` becomes ``(O, I, t, h, w)`` by repeating it ``t`` times along time and dividing by
``t``: on a clip of one repeated frame the 3D convolution then gives the 2D response (the "boring video" check).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .weights import LoadReport, load_matching


def inflate_state_dict(state2d: dict[str, torch.Tensor], model3d: nn.Module) -> dict[str, torch.Tensor]:
    """Inflate 2D tensors to the shapes of ``model3d``'s same-named parameters; others are copied as they are."""
    target = model3d.state_dict()
    out = {}
    for name, w in state2d.items():
        if name not in target:
            continue
        want = target[name].shape
        if w.ndim == 4 and len(want) == 5:
            t = want[2]
            out[name] = w.unsqueeze(2).repeat(1, 1, t, 1, 1) / t  # (O, I, h, w) -> (O, I, t, h, w)
        else:
            out[name] = w
    return out


def inflate_into(model3d: nn.Module, state2d: dict[str, torch.Tensor], file: str | Path = "") -> LoadReport:
    """Load inflated 2D weights into a 3D model; returns what matched (``file``: where the 2D weights came from)."""
    return load_matching(model3d, inflate_state_dict(state2d, model3d), file=file)
