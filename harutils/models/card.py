"""A model's card: what the data pipeline, the engine, the joint wrapper and the explainer need to know about it.

Every builder attaches one (``model.card``) instead of loose attributes, so nothing downstream guesses from a
model's class or its submodules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from .weights import Preprocessing

SAMPLINGS = ("uniform", "clip")
MODEL_SIZES = ("paper", "small")  # the papers' networks | the same classes narrowed for the 2-core CPU demo


@dataclass(frozen=True)
class ModelCard:
    """Attributes:
        input_size: (T, H, W) of the clips the model takes.
        sampling: "uniform" (frames spread over the whole video) or "clip" (consecutive frames).
        preprocessing: what the model's weights expect of a clip in [0, 1] RGB.
        explain_layer: dotted path (``model.get_submodule``) of the layer Grad-CAM and activation maps look at.
        per_frame: a 2D network applied to every frame (its explained layer has one map per frame).
        weights: where the weights came from (a load report, or "random initialisation").
    """

    input_size: tuple[int, int, int]
    sampling: str
    preprocessing: Preprocessing
    explain_layer: str
    per_frame: bool = False
    weights: str = "random initialisation"

    def __post_init__(self):
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")

    def to_dict(self) -> dict:
        """The card as recorded in a run's metrics (the preprocessing as its fields)."""
        return {**dataclasses.asdict(self), "memory_format": str(self.memory_format)}

    @property
    def memory_format(self) -> torch.memory_format:
        """The channels-last layout of the model's convolutions: 2D for per-frame networks, 3D for the others."""
        return torch.channels_last if self.per_frame else torch.channels_last_3d


def check_model_size(model_size: str) -> None:
    """Raises:
        ValueError: not one of :data:`MODEL_SIZES`.
    """
    if model_size not in MODEL_SIZES:
        raise ValueError(f"model_size must be one of {MODEL_SIZES}, got {model_size!r}")
