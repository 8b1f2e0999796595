"""Pretrained weights: torchvision's ImageNet files (from ``$HARUTILS_WEIGHTS`` or the torch cache) and local
checkpoint files, each load reported (file, sha256, loaded / missing / unexpected / reshaped keys).

Nothing here downloads behind the user's back into a silent fallback: when weights are asked for and are not
available, the error names where we looked and how to get them. Checkpoints load with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import os
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

    def __call__(self, clip: torch.Tensor, channel_dim: int | None = None, value_max: float = 1.0,
                 in_place: bool = False) -> torch.Tensor:
        """Normalise float clips holding RGB values in ``[0, value_max]``: ``(x[channels] / value_max * scale - mean)
        / std``, as at most one multiplication and one subtraction (none for :data:`UNNORMALISED` at
        ``value_max=1``: the clip itself comes back, on the data loader's hot path).

        Args:
            clip: ``(B, 3, T, H, W)`` or ``(3, T, H, W)`` float, or any float tensor with ``channel_dim``.
            channel_dim: the dimension of the three channels; None: 1 for 5-D clips, else 0.
            value_max: the value of full intensity in ``clip`` (255 for frames just converted from uint8).
            in_place: overwrite ``clip`` (a tensor the caller owns) instead of making a new one.
        """
        c_dim = channel_dim if channel_dim is not None else (1 if clip.ndim == 5 else 0)
        if self.channel_order == "BGR":
            clip, in_place = clip.flip(c_dim), True  # flip makes a copy
        factors = [self.scale / value_max / s for s in self.std]
        offsets = [m / s for m, s in zip(self.mean, self.std, strict=True)]
        if factors != [1.0] * 3:
            factor = self._per_channel(factors, clip, c_dim)
            clip, in_place = (clip.mul_(factor) if in_place else clip * factor), True
        if any(offsets):
            offset = self._per_channel(offsets, clip, c_dim)
            clip = clip.sub_(offset) if in_place else clip - offset
        return clip

    @staticmethod
    def _per_channel(values: list[float], clip: torch.Tensor, c_dim: int) -> float | torch.Tensor:
        """One number for every channel alike (as ``ToDtype`` scales), else a tensor broadcast along ``c_dim``."""
        if len(set(values)) == 1:
            return values[0]
        shape = [1] * clip.ndim
        shape[c_dim] = 3
        return torch.tensor(values, dtype=clip.dtype, device=clip.device).view(shape)


IMAGENET = Preprocessing("RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# c3d-pytorch's Sports-1M c3d.pickle as its own predict.py feeds it (predict.py:35-47): RGB, raw 0-255, no mean
C3D_SPORTS1M = Preprocessing("RGB", 255.0)
# Kinetics-400 I3D/Non-local conversions of the Caffe2 release (Tushar-N/pytorch-resnet3d utils/util.py:5-9):
# RGB 0-255, then (x - 114.75) / 57.375 with one mean and std for every channel
KINETICS_CAFFE2 = Preprocessing("RGB", 255.0, (114.75, 114.75, 114.75), (57.375, 57.375, 57.375))
UNNORMALISED = Preprocessing()  # models trained from scratch on clips in [0, 1] (the demo)


WEIGHTS_ENV = "HARUTILS_WEIGHTS"  # a folder of checkpoint files, looked in before the torch cache


def torchvision_checkpoint(weights_enum) -> Path:
    """Where the file of a torchvision weights entry is: ``$HARUTILS_WEIGHTS/<file>`` or the torch cache.

    Raises:
        WeightsNotFoundError: in neither place, naming both, the file and where to get it.
    """
    filename = Path(weights_enum.url).name
    places = ([Path(os.environ[WEIGHTS_ENV]) / filename] if os.environ.get(WEIGHTS_ENV) else [])
    places.append(Path(torch.hub.get_dir()) / "checkpoints" / filename)
    for path in places:
        if path.is_file():
            return path
    raise WeightsNotFoundError(
        f"{weights_enum} ({filename}) is in none of {', '.join(map(str, places))}. Download {weights_enum.url} "
        f"(torchvision's page: https://pytorch.org/vision/stable/models.html) and put it in the folder "
        f"${WEIGHTS_ENV} names, or in {places[-1].parent} (TORCH_HOME moves it).")


@dataclass(frozen=True)
class WeightsFile:
    """A published checkpoint the weights folder may hold: its file name, tensor count and where to get it."""

    name: str
    tensors: int
    source: str


# named weights of the paper-size models, looked for in the weights folder under these names
NAMED_WEIGHTS = {
    ("c3d", "sports1m"): WeightsFile(
        "c3d.pickle", 22, "http://imagelab.ing.unimore.it/files/c3d_pytorch/c3d.pickle (DavideA/c3d-pytorch README)"),
    ("i3d", "kinetics400"): WeightsFile(
        "i3d_r50_kinetics.pth", 267, "i3d_baseline_32x2_IN_pretrain_400k.pkl of facebookresearch/video-nonlocal-net, "
        "converted by Tushar-N/pytorch-resnet3d utils/convert_weights.py"),
    ("nonlocal", "kinetics400"): WeightsFile(
        "i3d_r50_nl_kinetics.pth", 327, "i3d_nonlocal_32x2_IN_pretrain_400k.pkl of "
        "facebookresearch/video-nonlocal-net, converted by Tushar-N/pytorch-resnet3d utils/convert_weights.py"),
}


def named_checkpoint(model: str, weights: str) -> Path:
    """The file of named weights (``"sports1m"``, ``"kinetics400"``) in the weights folder (``$HARUTILS_WEIGHTS``).

    Raises:
        WeightsNotFoundError: no folder set, or the file is not there; naming the file, the folder and the source.
        ValueError: no such named weights for this model.
    """
    if (model, weights) not in NAMED_WEIGHTS:
        known = sorted(w for m, w in NAMED_WEIGHTS if m == model)
        raise ValueError(f"{model} has no weights named {weights!r}; named weights: {known or 'none'} (or a path)")
    entry = NAMED_WEIGHTS[(model, weights)]
    folder = os.environ.get(WEIGHTS_ENV, "")
    if not folder:
        raise WeightsNotFoundError(f"{model} {weights} weights: no weights folder is set. Put {entry.name} "
                                   f"({entry.tensors} tensors; from {entry.source}) in a folder and name it with "
                                   f"${WEIGHTS_ENV} or the weights_dir parameter (run_all.sh --weights DIR)")
    path = Path(folder) / entry.name
    if not path.is_file():
        raise WeightsNotFoundError(f"{model} {weights} weights: {entry.name} is not in the weights folder {folder}. "
                                   f"Get it ({entry.tensors} tensors) from {entry.source}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_checkpoint(path: str | Path, what: str, how: str) -> dict[str, torch.Tensor]:
    """A state dict from a local file (``weights_only=True``); unwraps ``{"state_dict": ...}`` and ``module.``.

    Raises:
        WeightsNotFoundError: no such file (the message says how to get it).
        ValueError: the file is not a state dict torch can read safely, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{what} weights not found at {path}. {how}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, a pickle of objects, not a checkpoint at all
        raise ValueError(f"{path} cannot be read as a {what} checkpoint ({type(exc).__name__}); "
                         f"get the file again. {how}") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def is_counter(key: str) -> bool:
    """BatchNorm's ``num_batches_tracked``: absent from the Caffe2 conversions and torchvision's V1 re-saves, and
    unused by BatchNorm with a momentum, so never counted as missing."""
    return key.endswith("num_batches_tracked")


@dataclass
class LoadReport:
    """What loading a checkpoint into a model matched, skipped and left at initialisation.

    Attributes:
        file, sha256: the checkpoint file and its digest ("" when the state came from memory).
    """

    loaded: list[str]
    missing: list[str]
    unexpected: list[str]
    shape_mismatch: list[str]
    file: str = ""
    sha256: str = ""

    def __str__(self) -> str:
        def few(xs):
            return ", ".join(xs[:6]) + (" ..." if len(xs) > 6 else "")

        source = f"{self.file} (sha256 {self.sha256[:16]}): " if self.file else ""
        return (f"{source}loaded {len(self.loaded)} tensors; missing {len(self.missing)} [{few(self.missing)}]; "
                f"unexpected {len(self.unexpected)} [{few(self.unexpected)}]; "
                f"shape mismatch {len(self.shape_mismatch)} [{few(self.shape_mismatch)}]")

    def require(self, what: str, may_differ: tuple[str, ...] = ()) -> LoadReport:
        """Refuse a partial load: every parameter and buffer must have loaded, except under the prefixes in
        ``may_differ`` (a classifier head of another size, blocks new to this model).

        Raises:
            ValueError: naming the file, what is missing or of another shape, and what was expected.
        """
        bad = [k for k in self.missing + self.shape_mismatch if not k.startswith(may_differ)]
        if bad:
            raise ValueError(f"{self.file or 'the weights'} do not fit {what}: {self}. Only "
                             f"{', '.join(may_differ) or 'nothing'} may be missing or of another shape")
        return self


def load_matching(module: torch.nn.Module, state: dict[str, torch.Tensor], file: str | Path = "") -> LoadReport:
    """Load the tensors whose names and shapes match; report the rest (a classifier head of another size).
    BatchNorm counters absent from the file are not reported missing (:func:`is_counter`)."""
    own = module.state_dict()
    ok = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    mismatch = sorted(k for k, v in state.items() if k in own and own[k].shape != v.shape)
    module.load_state_dict(ok, strict=False)
    missing = sorted(k for k in set(own) - set(ok) - set(mismatch) if not (is_counter(k) and k not in state))
    digest = file_sha256(Path(file)) if file else ""
    return LoadReport(sorted(ok), missing, sorted(set(state) - set(own)), mismatch, str(file), digest)
