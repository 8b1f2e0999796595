"""Qualitative analysis of video models: activation maps, Grad-CAM and guided backpropagation (captum).

Maps are computed for a batch of clips ``(N, 3, T, H, W)`` at once (each clip's own class) and returned as
``(N, T, H, W)`` arrays, each clip's map in [0, 1] and aligned with its frames: 3D models' maps are interpolated in
time and space; for 2D per-frame models (Late Fusion, LRCN) Grad-CAM is computed on every frame's backbone
features. Hooks are always removed: activation capture is a context manager, and captum removes its own.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import matplotlib
import numpy as np
import torch
from captum.attr import GuidedBackprop, LayerGradCam
from PIL import Image
from torch import nn
from torch.nn import functional

from .evaluate import evaluation_mode


def target_layer(model: nn.Module) -> nn.Module:
    """The layer a model's card names for explanations (its last convolutional stage, where Grad-CAM looks)."""
    return model.get_submodule(model.card.explain_layer)


@contextmanager
def captured(layer: nn.Module):
    """Record a layer's output while inside the block; the hook is removed on exit."""
    store: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda m, i, o: store.__setitem__("out", o.detach()))
    try:
        yield store
    finally:
        handle.remove()


def _to_clip_maps(maps: torch.Tensor, clip_shape, per_frame: bool) -> np.ndarray:
    """Layer maps of N clips -> (N, T, H, W), aligned with the clips' frames, each clip's map in [0, 1]."""
    n, (t, h, w) = clip_shape[0], clip_shape[-3:]
    if per_frame:  # (N*T, 1, h', w') from a 2D backbone applied to each frame
        up = functional.interpolate(maps.float(), size=(h, w), mode="bilinear", align_corners=False)
        up = up.view(n, t, h, w)  # (N*T, 1, H, W) -> (N, T, H, W)
    else:  # (N, 1, t', h', w')
        up = functional.interpolate(maps.float(), size=(t, h, w), mode="trilinear", align_corners=False)[:, 0]
    return _per_clip_unit_range(up)


def _per_clip_unit_range(maps: torch.Tensor) -> np.ndarray:
    """(N, ...) -> the same shape, each clip's values shifted and scaled to [0, 1]."""
    flat = maps.flatten(1)
    flat = flat - flat.min(1, keepdim=True).values
    return (flat / flat.max(1, keepdim=True).values.clamp_min(1e-12)).view_as(maps).cpu().numpy()


def _is_per_frame(model: nn.Module) -> bool:
    return model.card.per_frame


def activation_map(model: nn.Module, clips: torch.Tensor, layer: nn.Module | None = None) -> np.ndarray:
    """Mean absolute activation of ``layer`` (default: the last stage) for clips ``(N, 3, T, H, W)``, as
    (N, T, H, W), each in [0, 1]."""
    layer = layer or target_layer(model)
    with explainable(model), captured(layer) as store, torch.no_grad():
        model(clips)
    act = store["out"].abs().mean(1, keepdim=True)  # (N, C, ...) -> (N, 1, ...)
    return _to_clip_maps(act, clips.shape, _is_per_frame(model))


def _without_inplace_relu(model: nn.Module) -> list[nn.ReLU]:
    changed = [m for m in model.modules() if isinstance(m, nn.ReLU) and m.inplace]
    for m in changed:
        m.inplace = False  # backward hooks (guided backprop, Grad-CAM) cannot see through in-place ReLUs
    return changed


@contextmanager
def explainable(model: nn.Module):
    """Eval mode, no in-place ReLUs (and no cuDNN for recurrent models) while explaining; restored afterwards."""
    was_training = model.training
    changed = _without_inplace_relu(model)
    model.eval()
    # cuDNN's LSTM has no backward in eval mode (LRCN on a GPU): use PyTorch's own kernels for recurrent models
    rnn = any(isinstance(m, nn.RNNBase) for m in model.modules())
    try:
        with torch.backends.cudnn.flags(enabled=not rnn and torch.backends.cudnn.enabled):
            yield model
    finally:
        for m in changed:
            m.inplace = True
        model.train(was_training)


def grad_cam(model: nn.Module, clips: torch.Tensor, targets, layer: nn.Module | None = None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., ICCV 2017) of clips ``(N, 3, T, H, W)``, each for its class in ``targets`` (one
    class for all, or one per clip): (N, T, H, W), each in [0, 1]."""
    layer = layer or target_layer(model)
    with explainable(model):
        attr = LayerGradCam(model, layer).attribute(clips.requires_grad_(True), target=_per_clip(targets, clips),
                                                    relu_attributions=True)
    return _to_clip_maps(attr.detach(), clips.shape, _is_per_frame(model))


def _per_clip(targets, clips: torch.Tensor) -> list[int]:
    """One class index per clip (an int is every clip's)."""
    return [int(targets)] * len(clips) if np.ndim(targets) == 0 else [int(t) for t in targets]


def guided_backprop(model: nn.Module, clips: torch.Tensor, targets) -> np.ndarray:
    """Guided backpropagation (Springenberg et al., 2015) of clips ``(N, 3, T, H, W)``, each for its class in
    ``targets`` (as :func:`grad_cam`): |gradient| per pixel, max over colour.

    Returns:
        (N, T, H, W), each clip's map in [0, 1].
    """
    with explainable(model):
        attr = GuidedBackprop(model).attribute(clips.clone().requires_grad_(True), target=_per_clip(targets, clips))
    return _per_clip_unit_range(attr.detach().abs().amax(1))  # (N, 3, T, H, W) -> (N, T, H, W)


def frame_importance(cam: np.ndarray) -> np.ndarray:
    """Grad-CAM mass per frame: (T, H, W) -> (T,)."""
    return cam.reshape(len(cam), -1).sum(1)


def overlay(frames: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a (T, H, W) map in [0, 1] over (T, H, W, 3) uint8 frames with a jet colour map."""
    colours = matplotlib.colormaps["jet"](heat)[..., :3] * 255  # (T, H, W, 3)
    return (frames * (1 - alpha) + colours * alpha).clip(0, 255).astype(np.uint8)


def to_gif(frames: np.ndarray, fps: float = 6.0, width: int = 224) -> bytes:
    """An animated GIF of (T, H, W, 3) uint8 frames, resized to ``width`` pixels wide.

    Small demo frames are enlarged (nearest neighbour, so pixels stay visible); full-size frames are kept at about
    their size rather than enlarged, which keeps a report with a dozen animations a few MB.
    """
    h, w = frames.shape[1:3]
    size = (width, max(1, round(h * width / w)))
    resample = Image.NEAREST if width >= w else Image.BILINEAR
    images = [Image.fromarray(f).resize(size, resample) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()


def display_frames(clip: torch.Tensor) -> np.ndarray:
    """A normalised model input (1, 3, T, H, W) back to viewable (T, H, W, 3) uint8 (min-max per clip)."""
    x = clip[0].detach().permute(1, 2, 3, 0).float()  # (3, T, H, W) -> (T, H, W, 3)
    x = (x - x.min()) / (x.max() - x.min()).clamp_min(1e-12)
    return (x.cpu().numpy() * 255).astype(np.uint8)


def explain_clip(model: nn.Module, clip: torch.Tensor, target: int, seen: torch.Tensor | None = None) -> dict:
    """Everything the qualitative notebook shows for one clip and its class.

    Args:
        model: a trained registered model.
        clip: one view ``(3, T, H, W)``, several ``(V, 3, T, H, W)`` (the first is used) or a batch of one.
        target: the class to explain.
        seen: the same view as a person sees it, ``(T, H, W, 3)`` uint8 (``ClipTransform.as_seen``); None shows
            the normalised input stretched to 0-255.

    Returns:
        dict with ``frames`` (T, H, W, 3) uint8, ``maps`` (name -> (T, H, W) in [0, 1]: activation, Grad-CAM,
        guided backprop), ``importance`` (Grad-CAM mass per frame), ``gif`` (the animated Grad-CAM overlay),
        ``predicted`` (the class index the model gives this view) and ``confidence`` (its probability).
    """
    if clip.ndim == 4:
        clip = clip[None]  # (3, T, H, W) -> (1, 3, T, H, W)
    clip = clip[:1].to(next(model.parameters()).device)  # the first view or clip, where the model is
    with evaluation_mode(model), torch.no_grad():
        probs = torch.softmax(model(clip).float(), dim=1)[0]
    cam = grad_cam(model, clip, target)[0]
    frames = display_frames(clip) if seen is None else np.asarray(seen, dtype=np.uint8)
    maps = {"activation": activation_map(model, clip)[0], "Grad-CAM": cam,
            "guided backprop": guided_backprop(model, clip, target)[0]}
    return {"frames": frames, "maps": maps, "importance": frame_importance(cam),
            "gif": to_gif(overlay(frames, cam)), "predicted": int(probs.argmax()),
            "confidence": float(probs.max())}
