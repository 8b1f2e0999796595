"""Qualitative analysis: maps for every model, aligned with the input, hooks removed, model state restored."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn

from harutils import explain
from harutils.models import MODEL_NAMES, ModelCard, build_model
from harutils.models.weights import UNNORMALISED


def _hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("name", sorted(MODEL_NAMES))
def test_maps_for_every_model(name):
    torch.manual_seed(0)
    model = build_model(name, 4, model_size="small").train()
    inplace_before = [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)]
    clip = torch.randn(2, 3, *model.card.input_size)  # two views: the first is explained
    result = explain.explain_clip(model, clip, target=2)
    t, h, w = model.card.input_size
    assert result["frames"].shape == (t, h, w, 3) and result["frames"].dtype == np.uint8
    for heat in result["maps"].values():
        assert heat.shape == (t, h, w) and heat.min() >= 0 and heat.max() <= 1 and np.isfinite(heat).all()
    assert result["importance"].shape == (t,)
    assert result["gif"][:6] == b"GIF89a"
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(clip[:1]), 1)[0]
    model.train()
    assert result["predicted"] == int(probs.argmax()) and result["confidence"] == pytest.approx(float(probs.max()))
    assert _hooks(model) == 0, "a hook was left on the model"
    assert model.training and [m.inplace for m in model.modules() if isinstance(m, nn.ReLU)] == inplace_before


@pytest.mark.parametrize("name", sorted(MODEL_NAMES))
def test_a_batch_of_clips_gets_the_maps_each_clip_gets_alone(name):
    """Explaining clips together (each for its own class) changes no clip's map: the model runs in eval mode,
    every map is scaled to [0, 1] on its own clip, and the targets are not mixed up."""
    torch.manual_seed(0)
    model = build_model(name, 4, model_size="small")
    clips = torch.randn(3, 3, *model.card.input_size)
    targets = [2, 0, 3]
    together = {"activation": explain.activation_map(model, clips.clone()),
                "Grad-CAM": explain.grad_cam(model, clips.clone(), targets),
                "guided backprop": explain.guided_backprop(model, clips.clone(), targets)}
    for k, target in enumerate(targets):
        clip = clips[k:k + 1].clone()
        alone = {"activation": explain.activation_map(model, clip), "Grad-CAM": explain.grad_cam(model, clip, target),
                 "guided backprop": explain.guided_backprop(model, clip.clone(), target)}
        for method, maps in together.items():
            assert maps.shape == (3, *model.card.input_size)
            np.testing.assert_allclose(maps[k], alone[method][0], atol=1e-4, err_msg=f"{method}, clip {k}")


def test_grad_cam_follows_the_evidence():
    """Evidence only in frames 2-3, top-left quadrant: Grad-CAM lights up those frames and that corner, so time
    and space are not swapped or flipped on the way back to the clip."""

    class RegionModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Conv3d(3, 4, 1)
            self.card = ModelCard((6, 16, 16), "clip", UNNORMALISED, explain_layer="body")

        def forward(self, x):
            f = torch.relu(self.body(x))  # (B, 4, T, H, W)
            region = f[:, :, 2:4, :8, :8].mean((1, 2, 3, 4))
            return torch.stack([-region, region], 1)

    model = RegionModel()
    nn.init.constant_(model.body.weight, 1.0)
    nn.init.zeros_(model.body.bias)
    clip = torch.zeros(1, 3, 6, 16, 16)
    clip[:, :, 2:4, :8, :8] = torch.rand(1, 3, 2, 8, 8) + 0.5
    assert explain.target_layer(model) is model.body  # the card names the layer
    cam = explain.grad_cam(model, clip, 1)[0]
    assert cam[2:4, :8, :8].mean() > 5 * cam[:, 8:, 8:].mean() + 1e-6
    assert explain.frame_importance(cam)[2:4].sum() > explain.frame_importance(cam)[4:].sum()


@pytest.mark.parametrize("name", ["lrcn", "i3d"])
def test_recurrent_models_are_explained_without_cudnn(name):
    """cuDNN's LSTM has no backward pass in eval mode (Grad-CAM on LRCN failed on a GPU): explaining a recurrent
    model turns cuDNN off, a convolutional one keeps it, and the setting is restored afterwards."""
    model = build_model(name, 4, model_size="small")
    before = torch.backends.cudnn.enabled
    with explain.explainable(model):
        inside = torch.backends.cudnn.enabled
    assert inside == (before and name != "lrcn")
    assert torch.backends.cudnn.enabled == before


@pytest.mark.parametrize("height, width", [(64, 64), (240, 320)])
def test_gif_has_the_asked_width_and_every_frame(height, width):
    from PIL import Image

    frames = np.random.default_rng(0).integers(0, 255, size=(12, height, width, 3), dtype=np.uint8)
    gif = Image.open(io.BytesIO(explain.to_gif(frames, width=200)))
    assert gif.size == (200, round(height * 200 / width)) and gif.n_frames == 12


def test_explanation_figure_shows_at_most_max_frames():
    from harutils import viz

    t = 32
    result = {"frames": np.zeros((t, 16, 16, 3), np.uint8), "maps": {"Grad-CAM": np.random.rand(t, 16, 16)},
              "importance": np.arange(t, dtype=float)}
    fig = viz.explanation(result, "x", max_frames=8)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 2 * 8  # input and one map, 8 evenly spaced frames each
    assert [len(ax.patches) for ax in fig.axes if ax.patches] == [t]  # the Grad-CAM share still covers every frame
    assert "map value" in fig.axes[-1].get_ylabel()  # the colour bar says what the colours mean
