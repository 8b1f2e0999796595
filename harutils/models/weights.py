"""Pretrained weights: ImageNet through torchvision's weights API (the torch cache), others from local files.

Nothing here downloads behind the user's back into a silent fallback: when weights are asked for and are not
available, the error names where we looked and how to get them. Checkpoints load with ``weights_only=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights were asked for and are not where we looked."""


@dataclass(frozen=True)
class Preprocessing:
    """The input a set of weights expects: channel order, value scale and normalisation.

    A clip in ``[0, 1]`` RGB becomes ``(x[channels] * scale - mean) / std``.
    """

    channel_order: str = "RGB"
    scale: float = 1.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        """Normalise ``(B, 3, T, H, W)`` or ``(3, T, H, W)`` float clips in [0, 1], RGB."""
        c_dim = 1 if clip.ndim == 5 else 0
        if self.channel_order == "BGR":
            clip = clip.flip(c_dim)
        shape = [1] * clip.ndim
        shape[c_dim] = 3
        mean = torch.tensor(self.mean, dtype=clip.dtype, device=clip.device).view(shape)
        std = torch.tensor(self.std, dtype=clip.dtype, device=clip.device).view(shape)
        return (clip * self.scale - mean) / std


IMAGENET = Preprocessing("RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# C3D Sports-1M (Caffe): BGR, 0-255, minus the per-channel mean of the Sports-1M mean cube.
C3D_SPORTS1M = Preprocessing("BGR", 255.0, (90.25, 97.66, 101.41), (1.0, 1.0, 1.0))
# Kinetics-400 I3D/Non-local conversions of the Caffe2 release: RGB 0-255, mean/std of ImageNet in 0-255.
KINETICS_CAFFE2 = Preprocessing("RGB", 255.0, (114.75, 114.75, 114.75), (57.375, 57.375, 57.375))
UNNORMALISED = Preprocessing()  # models trained from scratch on clips in [0, 1] (the demo)


def torchvision_state_dict(weights_enum) -> dict[str, torch.Tensor]:
    """State dict of a torchvision weights entry from the torch cache, or a clear error where it is not cached."""
    filename = Path(weights_enum.url).name
    cached = Path(torch.hub.get_dir()) / "checkpoints" / filename
    try:
        return weights_enum.get_state_dict(progress=False, check_hash=False)
    except Exception as exc:  # offline: URLError, or a partial file
        raise WeightsNotFoundError(
            f"{weights_enum} is not in the torch cache ({cached}) and could not be downloaded "
            f"({type(exc).__name__}). On a machine with internet run "
            f"`python -c \"import torchvision; torchvision.models.get_weight('{weights_enum}').get_state_dict()\"` "
            f"and copy {filename} to {cached}, or set TORCH_HOME."
        ) from exc


def load_checkpoint(path: str | Path, what: str, how: str) -> dict[str, torch.Tensor]:
    """A state dict from a local file (``weights_only=True``); unwraps ``{"state_dict": ...}`` and ``module.``."""
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{what} weights not found at {path}. {how}")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return {k.removeprefix("module."): v for k, v in obj.items()}


@dataclass
class LoadReport:
    """What loading a checkpoint into a model matched, skipped and left at initialisation."""

    loaded: list[str]
    missing: list[str]
    unexpected: list[str]
    shape_mismatch: list[str]

    def __str__(self) -> str:
        def few(xs):
            return ", ".join(xs[:6]) + (" ..." if len(xs) > 6 else "")

        return (f"loaded {len(self.loaded)} tensors; missing {len(self.missing)} [{few(self.missing)}]; "
                f"unexpected {len(self.unexpected)} [{few(self.unexpected)}]; "
                f"shape mismatch {len(self.shape_mismatch)} [{few(self.shape_mismatch)}]")


def load_matching(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> LoadReport:
    """Load the tensors whose names and shapes match; report the rest (a classifier head of another size)."""
    own = module.state_dict()
    ok = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    mismatch = sorted(k for k, v in state.items() if k in own and own[k].shape != v.shape)
    module.load_state_dict(ok, strict=False)
    return LoadReport(sorted(ok), sorted(set(own) - set(ok) - set(mismatch)),
                      sorted(set(state) - set(own)), mismatch)
