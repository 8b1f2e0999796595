"""ViViT, factorised encoder (Arnab et al., "ViViT: A Video Vision Transformer", ICCV 2021, Model 2).

A clip is cut into tubelets (``t x p x p`` voxels, a 3D convolution of that kernel and stride); a spatial
transformer encodes the tokens of each time step with its own class token, exactly as an image ViT encodes an
image; a temporal transformer then attends over the time steps' class tokens, and the head reads its own class
token. Why this variant: its spatial encoder *is* an ImageNet ViT, so torchvision's ViT-B/16 weights load
unchanged (the paper's initialisation, Sec. 3.4); it is the cheapest of the paper's models (attention within a
frame, then across frames, never over all space-time tokens, which a 2-core CPU and the demo's clips can afford);
and, unlike an average over frames, its temporal encoder sees order, which is the series' lesson.

Paper size: ViT-B/16 (12 spatial layers, hidden 768, 12 heads) with 4 temporal layers, tubelets 2x16x16, 32x224x224
clips (16 time steps). The patch embedding is inflated along time as the paper's "filter inflation" (repeat the 2D
kernel ``t`` times, divided by ``t``), so on a clip of one repeated frame every time step's class token is
torchvision's ViT feature of that frame. Small: the same class at hidden 64 on 8x64x64 clips, 8x8 patches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torchvision.models.vision_transformer import Encoder

from . import weights as W
from .card import ModelCard, check_model_size
from .heads import linear_head
from .inflate import inflate_into


@dataclass(frozen=True)
class ViViTSpec:
    """Sizes of a factorised-encoder ViViT."""

    patch: int
    tubelet: int  # frames per tubelet
    hidden: int
    spatial_layers: int
    temporal_layers: int
    heads: int
    mlp: int
    embed_norm: bool = False  # LayerNorm on the tubelet embeddings (timm's and Swin's "patch norm")


VIT_B16 = ViViTSpec(patch=16, tubelet=2, hidden=768, spatial_layers=12, temporal_layers=4, heads=12, mlp=3072)
SMALL = ViViTSpec(patch=8, tubelet=2, hidden=64, spatial_layers=3, temporal_layers=2, heads=4, mlp=128,
                  embed_norm=True)
SMALL_INPUT = (8, 64, 64)
IMAGENET_HOW = ("Pass 'imagenet' (torchvision's vit_b_16-c867db91.pth from the weights folder or the torch cache) or "
                "the path of a checkpoint in torchvision's ViT-B/16 layout (class_token, conv_proj.weight, "
                "encoder.layers.encoder_layer_0...).")


class SpatialViT(nn.Module):
    """The image ViT applied to each time step; parameter names are torchvision's ``VisionTransformer``'s."""

    def __init__(self, spec: ViViTSpec, side: int, dropout: float = 0.0):
        super().__init__()
        if side % spec.patch:
            raise ValueError(f"the frame side ({side}) must be a multiple of the patch size ({spec.patch})")
        self.class_token = nn.Parameter(torch.zeros(1, 1, spec.hidden))
        kernel = (spec.tubelet, spec.patch, spec.patch)
        self.conv_proj = nn.Conv3d(3, spec.hidden, kernel_size=kernel, stride=kernel)
        fan_in = 3 * spec.tubelet * spec.patch * spec.patch  # torchvision's initialisation of the patch embedding
        nn.init.trunc_normal_(self.conv_proj.weight, std=(1.0 / fan_in) ** 0.5)
        nn.init.zeros_(self.conv_proj.bias)
        # the demo's clips (raw [0, 1] values less the mean frame, std about 0.03) would embed far below the
        # position embeddings: normalising the embeddings lets the small model learn as fast as the 3D CNNs
        self.embed_norm = nn.LayerNorm(spec.hidden) if spec.embed_norm else nn.Identity()
        self.encoder = Encoder((side // spec.patch) ** 2 + 1, spec.spatial_layers, spec.heads, spec.hidden, spec.mlp,
                               dropout, dropout)


class ViViT(nn.Module):
    """Args:
        spec: sizes (:data:`VIT_B16` at paper size).
        num_classes: classes.
        num_frames, side: the clip's frames and its height and width.
        dropout: before the classifier.
    """

    def __init__(self, spec: ViViTSpec, num_classes: int, num_frames: int, side: int, dropout: float = 0.0):
        super().__init__()
        if num_frames % spec.tubelet:
            raise ValueError(f"num_frames ({num_frames}) must be a multiple of the tubelet length ({spec.tubelet})")
        self.spatial = SpatialViT(spec, side)
        self.patch_grid = nn.Identity()  # patch tokens as a (B, D, T', h, w) map: the layer explanations look at
        self.temporal_token = nn.Parameter(torch.zeros(1, 1, spec.hidden))
        self.temporal = Encoder(num_frames // spec.tubelet + 1, spec.temporal_layers, spec.heads, spec.hidden,
                                spec.mlp, 0.0, 0.0)
        self.num_features = spec.hidden
        self.head = linear_head(spec.hidden, num_classes, dropout)

    def frame_features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, T', D): the spatial encoder's class token of each time step (T' = T / tubelet)."""
        x = self.spatial.conv_proj(clip)  # (B, D, T', h, w)
        b, d, t, h, w = x.shape
        x = self.spatial.embed_norm(x.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, d))
        x = torch.cat([self.spatial.class_token.expand(b * t, -1, -1), x], dim=1)
        encoder = self.spatial.encoder  # torchvision's Encoder.forward, with the patch grid before the last layer
        x = encoder.dropout(x + encoder.pos_embedding)
        for layer in encoder.layers[:-1]:
            x = layer(x)
        grid = self.patch_grid(x[:, 1:].reshape(b, t, h, w, d).permute(0, 4, 1, 2, 3))
        x = torch.cat([x[:, :1], grid.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, d)], dim=1)
        x = encoder.ln(encoder.layers[-1](x))
        return x[:, 0].reshape(b, t, d)

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, D): the temporal encoder's class token."""
        frames = self.frame_features(clip)
        tokens = torch.cat([self.temporal_token.expand(len(frames), -1, -1), frames], dim=1)
        return self.temporal(tokens)[:, 0]

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clip))


def vit_key_map(key: str) -> str | None:
    """torchvision's ViT names -> the spatial encoder's; its ImageNet classifier (``heads.``) has no place here."""
    return None if key.startswith("heads.") else key


def load_vit_weights(model: ViViT, pretrained) -> str:
    """Load an image ViT in torchvision's layout into the spatial encoder, its patch embedding inflated to tubelets.

    Raises:
        ValueError: a tensor of the spatial encoder is missing or of another shape (another ViT, another size).
    """
    if pretrained in ("imagenet", True):
        pretrained = W.torchvision_checkpoint(torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1)
    state = W.load_checkpoint(pretrained, "torchvision ViT-B/16", IMAGENET_HOW)
    state2d = {vit_key_map(k): v for k, v in state.items() if vit_key_map(k) is not None}
    report = inflate_into(model.spatial, state2d, file=pretrained)
    return f"ImageNet ViT-B/16, patch embedding inflated: {report.require('the spatial encoder of ViViT')}"


def build_vivit(num_classes: int, model_size: str = "paper", pretrained=None, *, num_frames: int | None = None,
                input_side: int | None = None, **overrides) -> ViViT:
    """ViViT factorised encoder (paper size: ViT-B/16 on 32x224x224, 16 time steps); small: :data:`SMALL` on 8x64x64.

    Args:
        num_classes: classes.
        model_size: "paper" or "small".
        pretrained: None, "imagenet" (torchvision's ViT-B/16, inflated) or the path of a checkpoint in that layout.
        num_frames: clip length (None: 32 at paper size, 8 small).
        input_side: height and width (default 224 at paper size, 64 small); ImageNet weights need 224.
        **overrides: :class:`ViViT` arguments.
    """
    check_model_size(model_size)
    paper = model_size == "paper"
    t = num_frames or (32 if paper else SMALL_INPUT[0])
    side = input_side or (224 if paper else SMALL_INPUT[1])
    model = ViViT(VIT_B16 if paper else SMALL, num_classes, t, side, **overrides)
    preprocessing, weights = (W.IMAGENET if paper else W.UNNORMALISED), "random initialisation"
    if pretrained is not None and pretrained is not False:
        if not paper:
            raise ValueError("ImageNet ViT weights exist for the paper-size ViViT only (model_size='paper')")
        weights, preprocessing = load_vit_weights(model, pretrained), W.IMAGENET
    model.card = ModelCard((t, side, side), "clip", preprocessing, explain_layer="patch_grid", weights=weights)
    return model
