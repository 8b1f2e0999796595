"""The six models of the series, in a registry: the one place that lists their names.

``build_model(name, num_classes, model_size="paper"|"small", pretrained=None, **overrides)`` returns an
``nn.Module`` taking ``(B, 3, T, H, W)`` float clips and returning ``(B, num_classes)`` logits. Every model also
has ``features(clip) -> (B, F)``, ``num_features``, ``head``, and a :class:`~harutils.models.card.ModelCard`
(``model.card``: input size, sampling, preprocessing, the layer to explain, where its weights came from).

``model_size="small"`` is the same class at 16-32-64-128 channels and small inputs, for the 2-core CPU demo.
``pretrained``: None (random initialisation), ``"imagenet"`` (torchvision weights for the 2D backbones, inflated
for I3D and Non-local) or a path to a local checkpoint (C3D Sports-1M ``c3d.pickle``, Kinetics-400 I3D/Non-local).
Each builder lives beside its class: :mod:`.late_fusion`, :mod:`.c3d`, :mod:`.lrcn`, :mod:`.i3d`,
:mod:`.nonlocal_net`, :mod:`.vivit` (the video transformer, beyond the reference).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import nn

from .c3d import C3D, build_c3d
from .card import MODEL_SIZES, ModelCard
from .i3d import I3D, build_i3d
from .joint import JointModel
from .late_fusion import LateFusion, build_late_fusion
from .lrcn import LRCN, build_lrcn
from .nonlocal_net import NonLocalI3D, build_nonlocal
from .vivit import ViViT, build_vivit

MODELS: dict[str, Callable[..., nn.Module]] = {
    "late_fusion": build_late_fusion,
    "c3d": build_c3d,
    "lrcn": build_lrcn,
    "i3d": build_i3d,
    "nonlocal": build_nonlocal,
    "vivit": build_vivit,
}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def build_model(name: str, num_classes: int, model_size: str = "paper", pretrained: str | Path | None = None,
                **overrides) -> nn.Module:
    """Build a registered model. See the module docstring for the arguments.

    Raises:
        KeyError: an unregistered name.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    return MODELS[name](num_classes, model_size, pretrained, **overrides)


__all__ = ["MODELS", "MODEL_NAMES", "MODEL_SIZES", "build_model", "ModelCard", "JointModel", "C3D", "I3D", "LRCN",
           "LateFusion", "NonLocalI3D", "ViViT"]
