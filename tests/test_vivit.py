"""The video transformer (ViViT, factorised encoder): torchvision's ViT file layout loads into it, and on a clip of
one repeated frame its inflated patch embedding reproduces torchvision's ViT-B/16 features; it sees frame order."""

from __future__ import annotations

import pytest
import torch
import torchvision

from harutils.models import build_model
from harutils.models import weights as W

VIT_FILE = "vit_b_16-c867db91.pth"  # torchvision's ViT_B_16_Weights.IMAGENET1K_V1


@pytest.fixture(scope="module")
def vit_and_folder(tmp_path_factory):
    """A ViT-B/16 with deterministic non-trivial weights, saved in torchvision's layout under its release name."""
    torch.manual_seed(0)
    vit = torchvision.models.vit_b_16().eval()
    with torch.no_grad():
        for name, p in vit.named_parameters():
            if name.endswith("bias") or "ln" in name:  # torchvision starts these at 0 and 1: make them count
                p.add_(torch.randn_like(p) * 0.05)
    folder = tmp_path_factory.mktemp("weights")
    torch.save(vit.state_dict(), folder / VIT_FILE)
    return vit, folder


def _vit_features(vit, images):
    x = vit._process_input(images)
    x = torch.cat([vit.class_token.expand(len(images), -1, -1), x], dim=1)
    return vit.encoder(x)[:, 0]


def test_torchvision_vit_file_loads_whole_by_name(vit_and_folder, monkeypatch):
    vit, folder = vit_and_folder
    monkeypatch.setenv(W.WEIGHTS_ENV, str(folder))
    model = build_model("vivit", 101, model_size="paper", pretrained="imagenet", num_frames=4)
    assert "loaded 150 tensors; missing 0" in model.card.weights and VIT_FILE in model.card.weights
    assert model.card.preprocessing == W.IMAGENET
    torch.testing.assert_close(model.spatial.encoder.layers[3].mlp[0].weight, vit.encoder.layers[3].mlp[0].weight)


def test_still_clip_reproduces_torchvision_vit_features(vit_and_folder):
    """The ViViT paper's filter inflation, checked as I3D's "boring video": every time step gives the 2D features."""
    vit, folder = vit_and_folder
    model = build_model("vivit", 7, model_size="paper", pretrained=folder / VIT_FILE, num_frames=4).eval()
    images = torch.randn(2, 3, 224, 224)
    clip = images[:, :, None].expand(-1, -1, 4, -1, -1)  # (2, 3, 4, 224, 224): each image repeated
    with torch.no_grad():
        got, want = model.frame_features(clip), _vit_features(vit, images)
    assert got.shape == (2, 2, 768)  # 4 frames, tubelets of 2
    for step in range(2):
        err = ((got[:, step] - want).abs().max() / want.abs().max()).item()
        assert err < 1e-4, f"time step {step}: relative error {err:.2e}"


def test_a_file_that_does_not_fit_is_refused_naming_it(vit_and_folder, tmp_path):
    vit, _ = vit_and_folder
    state = {k: v for k, v in vit.state_dict().items() if "encoder_layer_5.mlp" not in k}
    partial = tmp_path / "partial_vit.pth"
    torch.save(state, partial)
    with pytest.raises(ValueError, match=r"partial_vit\.pth.*encoder_layer_5\.mlp"):
        build_model("vivit", 7, model_size="paper", pretrained=partial, num_frames=2)
    other = tmp_path / "vit_b_32.pth"
    torch.save(torchvision.models.vit_b_32().state_dict(), other)
    with pytest.raises(ValueError, match=r"shape mismatch [1-9].*conv_proj"):
        build_model("vivit", 7, model_size="paper", pretrained=other, num_frames=2)


def test_small_vivit_has_no_imagenet_weights():
    with pytest.raises(ValueError, match="paper-size"):
        build_model("vivit", 7, model_size="small", pretrained="imagenet")


def test_paper_size_parameter_count():
    """torchvision's ViT-B/16 (86,567,656 with its 1000-way head, torchvision's model docs) without its head, plus
    the second time slice of the tubelet kernel, 4 temporal layers (ViViT's factorised encoder, L_t = 4) and ours."""
    with torch.device("meta"):
        model = build_model("vivit", 400, model_size="paper")
    layer = 4 * 768 * 768 + 4 * 768 + 2 * 768 * 3072 + 3072 + 768 + 4 * 768  # attention, MLP, two LayerNorms
    temporal = 4 * layer + 2 * 768 + 17 * 768 + 768  # layers, final LayerNorm, positions (16 steps + class), token
    expected = 86_567_656 - (768 * 1000 + 1000) + 768 * 3 * 16 * 16 + temporal + 768 * 400 + 400
    assert sum(p.numel() for p in model.parameters()) == expected


def test_it_sees_frame_order():
    """Unlike an average over frames, reversing the clip changes what the temporal encoder gives."""
    torch.manual_seed(0)
    model = build_model("vivit", 5, model_size="small").eval()
    clip = torch.rand(1, 3, *model.card.input_size)
    with torch.no_grad():
        forward, backward = model(clip), model(clip.flip(2))
    assert (forward - backward).abs().max() > 1e-3


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="multiple of the patch"):
        build_model("vivit", 5, model_size="small", input_side=60)
    with pytest.raises(ValueError, match="multiple of the tubelet"):
        build_model("vivit", 5, model_size="small", num_frames=7)
