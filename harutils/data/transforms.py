"""Clip transforms on uint8 frames with torchvision.transforms.v2: resize, crop, flip, RandAugment, normalise.

Input: the dataset's frames, ``(T, H, W, 3)`` or ``(V, T, H, W, 3)`` uint8. Output: the model's clips,
``(3, T, h, w)`` or ``(V, 3, T, h, w)`` float. Normalisation is the model's weights' own
(:class:`~harutils.models.weights.Preprocessing`): channel order, scale, mean and std.

The training engine's transforms (``uint8_clips``) stop before normalising: their clips cross from DataLoader
workers to the main process, and from there to the GPU, as uint8 (a quarter of the bytes), and :func:`normalise_clips`
finishes them a batch at a time on the model's device (the engine's model hook), as MMAction2's data preprocessor
does. The float work leaves the workers (``benchmarks/results/loader_handover_cpu.json`` measures one worker either
way), and without workers it is one batched pass instead of one per clip, to the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2


def normalise_clips(clips: torch.Tensor, preprocessing, subtract_mean_frame: bool = False) -> torch.Tensor:
    """uint8 clips ``(..., 3, T, h, w)`` -> the model's float input, on their own device: the weights'
    normalisation, then (if asked) the clip's mean frame subtracted from every frame.

    The float copy keeps the clips' memory layout and is normalised in place: the weights' normalisation gives a
    clip the same values whatever its layout or batch; the mean frame, a sum over T, may differ in float rounding.
    """
    x = preprocessing(clips.to(torch.float32), channel_dim=clips.ndim - 4, value_max=255.0, in_place=True)
    if subtract_mean_frame:
        x = x - x.mean(dim=-3, keepdim=True)  # mean over T
    return x


@dataclass
class ClipTransform:
    """Frames -> normalised clips.

    Args:
        size: (h, w) of the model input.
        training: random crop (and flip, RandAugment when asked) instead of a centre crop.
        crop: crop to ``size`` after ``resize``; False resizes the frames to exactly ``size`` (the reference
            report's "resize and normalise only", which changes the aspect ratio).
        preprocessing: the model's input normalisation (``model.preprocessing``).
        resize: shorter side before cropping (default: keep the frames' size, e.g. the cache's).
        hflip: random horizontal flips in training. Off for data whose classes are mirror images
            (the synthetic walk left / walk right).
        randaugment: RandAugment on every frame of a clip alike, in training.
        subtract_mean_frame: subtract the clip's mean frame from every frame, leaving what moves; the static
            background no longer dominates small networks trained from scratch (the demo profile uses it).
        uint8_clips: return the clips as uint8, geometry applied but not normalised (:func:`normalise_clips`
            finishes them, the engine's model hook on the model's device).
    """

    size: tuple[int, int]
    training: bool
    preprocessing: object
    resize: int | None = None
    hflip: bool = False
    randaugment: bool = False
    subtract_mean_frame: bool = False
    crop: bool = True
    uint8_clips: bool = False

    def __post_init__(self):
        ops: list = []
        if not self.crop:
            ops.append(v2.Resize(list(self.size), antialias=True))
        elif self.resize and self.resize < max(self.size):
            raise ValueError(f"resize={self.resize} is smaller than the {self.size[0]}x{self.size[1]} crop")
        if self.resize and self.crop:
            ops.append(v2.Resize(self.resize, antialias=True))
        if self.training:
            if self.crop:
                ops.append(v2.RandomCrop(self.size))
            if self.hflip:
                ops.append(v2.RandomHorizontalFlip())
            if self.randaugment:
                ops.append(v2.RandAugment())
        elif self.crop:
            ops.append(v2.CenterCrop(self.size))
        self._spatial = v2.Compose(ops)

    def _geometry(self, frames: torch.Tensor) -> torch.Tensor:
        """Resize, crop, flip, RandAugment of ``(V, T, H, W, 3)`` uint8: ``(V, T, 3, h, w)`` uint8."""
        v, t, h, w = frames.shape[:4]
        if self.crop and not self.resize and (h < self.size[0] or w < self.size[1]):
            raise ValueError(f"frames of {h}x{w} are smaller than the {self.size[0]}x{self.size[1]} crop; decode "
                             "them larger (frame_size) rather than padding them with black borders")
        video = tv_tensors.Video(frames.flatten(0, 1).permute(0, 3, 1, 2))  # -> (V*T, 3, H, W), one crop for all
        x = self._spatial(video).as_subclass(torch.Tensor)
        return x.reshape(v, t, *x.shape[1:])  # (V*T, 3, h, w) -> (V, T, 3, h, w)

    def as_seen(self, frames: torch.Tensor) -> torch.Tensor:
        """The model's input as a person sees it: the same resize and crop, without normalisation or mean-frame
        subtraction; ``(V, T, h, w, 3)`` (or ``(T, h, w, 3)``) uint8."""
        views = frames.ndim == 5
        x = self._geometry(frames if views else frames.unsqueeze(0))
        seen = x.permute(0, 1, 3, 4, 2)  # (V, T, 3, h, w) -> (V, T, h, w, 3)
        return seen if views else seen[0]

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        views = frames.ndim == 5
        if not views:
            frames = frames.unsqueeze(0)  # (T, H, W, 3) -> (1, T, H, W, 3)
        x = self._geometry(frames).permute(0, 2, 1, 3, 4)  # (V, T, 3, h, w) -> (V, 3, T, h, w), a view
        if not self.uint8_clips:
            # normalised in the contiguous (V, T, 3, h, w) memory the float copy keeps: one new tensor, at most two
            # passes more (the demo's unnormalised clips: one multiplication by 1/255, exactly ToDtype(scale=True)'s)
            x = normalise_clips(x, self.preprocessing, self.subtract_mean_frame)
        return x if views else x[0]
