"""Where and how a run's model computes: its device, the memory layout of its weights and inputs, the finishing of
uint8 clips on its device, DDP and ``torch.compile``.

The engine's loaders hand over uint8 clips (:class:`~harutils.data.transforms.ClipTransform`'s ``uint8_clips``),
normalised by a forward pre-hook on the model's own device, so every pass of the engine (training, precise
BatchNorm, validation, test views, the temporal-order probe) takes them alike; float clips pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import RunConfig
from .data.transforms import normalise_clips
from .runtime import DistInfo


@dataclass(frozen=True)
class FinishUint8Clips:
    """Forward pre-hook: a uint8 clip (the first argument) normalised as the model's weights expect, on its device."""

    preprocessing: object
    subtract_mean_frame: bool

    def __call__(self, module: nn.Module, args: tuple) -> tuple:
        if args and isinstance(args[0], torch.Tensor) and args[0].dtype == torch.uint8:
            return (normalise_clips(args[0], self.preprocessing, self.subtract_mean_frame), *args[1:])
        return args


def clips_channels_last(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: the clip (the first argument) in channels-last 3D, the layout of the 3D models' weights.
    Given in the default layout, CPU convolutions of those weights ran about a third slower (I3D on the demo)."""
    return (args[0].contiguous(memory_format=torch.channels_last_3d), *args[1:])


def place_model(model: nn.Module, cfg: RunConfig, device: torch.device, info: DistInfo) -> nn.Module:
    """Move the model to the device in the card's memory layout, finishing uint8 clips there; return what the loop
    calls (DDP, compiled)."""
    model.to(device)
    model.register_forward_pre_hook(FinishUint8Clips(model.card.preprocessing, cfg.subtract_mean_frame))
    if cfg.channels_last:
        model.to(memory_format=model.card.memory_format)
        if not model.card.per_frame:  # every pass, training or evaluation, gets its clips in the weights' layout
            model.register_forward_pre_hook(clips_channels_last)
    net = model
    if info.world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[info.local_rank] if device.type == "cuda"
                                                  else None)
    return torch.compile(net) if cfg.compile else net
