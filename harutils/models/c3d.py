"""C3D (Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks", ICCV 2015).

Eight 3x3x3 convolutions (conv1a 64, conv2a 128, conv3a/b 256, conv4a/b 512, conv5a/b 512), five max pools
(pool1 1x2x2, the others 2x2x2; pool5 pads H and W by one as the Caffe model), fc6 and fc7 of 4096 with
dropout, on 16x112x112 clips: 78.4M parameters with a 101-way head.

The Sports-1M weights converted to PyTorch (``c3d.pickle``, keys ``conv1.*``, ``conv2.*``, ``conv3a.*`` ...
``fc8.*``) load from a local file and expect BGR, 0-255, mean-subtracted input (:data:`C3D_SPORTS1M`).
"""

from __future__ import annotations

import torch
from torch import nn

from . import weights as W
from .card import ModelCard, check_model_size
from .heads import linear_head

CONV_NAMES = ("conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b")


def _pooled_size(input_size, pool_t) -> int:
    """Positions left after the five pools (3x3x3 convolutions with padding 1 keep the size)."""
    size = list(input_size)
    for i, t in enumerate(pool_t):
        kernel, pad = (t, 2, 2), (0, 1, 1) if i == 4 else (0, 0, 0)
        size = [(n + 2 * p - k) // k + 1 for n, k, p in zip(size, kernel, pad, strict=True)]
    if min(size) < 1:
        raise ValueError(f"clips of {tuple(input_size)} are too small for C3D's pools {pool_t}")
    return size[0] * size[1] * size[2]


class C3D(nn.Module):
    """Args:
        num_classes: classes.
        widths: channels of conv1, conv2, conv3, conv4, conv5 (a and b share a width).
        fc: width of fc6 and fc7.
        input_size: (T, H, W) of the clips; fixes the fc6 input size.
        pool_t: temporal kernel and stride of pool1..pool5 (1 for pool1 in the paper).
        dropout: after fc6 and fc7.
        batch_norm: a BatchNorm3d after every convolution (``bn1`` ... ``bn5b``). The paper's C3D has none; small
            C3Ds trained from scratch (the demo) do not learn without it.
    """

    def __init__(self, num_classes: int, widths=(64, 128, 256, 512, 512), fc: int = 4096,
                 input_size=(16, 112, 112), pool_t=(1, 2, 2, 2, 2), dropout: float = 0.5, batch_norm: bool = False):
        super().__init__()
        chans = [3, widths[0], widths[1], widths[2], widths[2], widths[3], widths[3], widths[4], widths[4]]
        for name, cin, cout in zip(CONV_NAMES, chans[:-1], chans[1:], strict=True):
            setattr(self, name, nn.Conv3d(cin, cout, 3, padding=1))
            setattr(self, name.replace("conv", "bn"), nn.BatchNorm3d(cout) if batch_norm else nn.Identity())
        self.pools = nn.ModuleList(
            nn.MaxPool3d((t, 2, 2), (t, 2, 2), padding=(0, 1, 1) if i == 4 else 0) for i, t in enumerate(pool_t)
        )
        self.relu = nn.ReLU(inplace=True)
        self.input_size = tuple(input_size)
        flat = widths[4] * _pooled_size(self.input_size, pool_t)
        self.fc6 = nn.Linear(flat, fc)
        self.fc7 = nn.Linear(fc, fc)
        self.dropout = nn.Dropout(dropout)
        self.num_features = fc
        self.head = linear_head(fc, num_classes, dropout=0.0)  # fc8; dropout already follows fc7

    def _conv_features(self, x: torch.Tensor) -> torch.Tensor:
        # pools follow conv1, conv2, conv3b, conv4b, conv5b
        pool_after = {"conv1": 0, "conv2": 1, "conv3b": 2, "conv4b": 3, "conv5b": 4}
        for name in CONV_NAMES:
            x = self.relu(getattr(self, name.replace("conv", "bn"))(getattr(self, name)(x)))
            if name in pool_after:
                x = self.pools[pool_after[name]](x)
        return x

    def features(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, fc): the fc7 activations."""
        if tuple(clip.shape[2:]) != self.input_size:
            raise ValueError(f"C3D was built for clips of {self.input_size} (T, H, W), got {tuple(clip.shape[2:])}")
        x = self._conv_features(clip).flatten(1)  # (B, C, t, h, w) -> (B, C*t*h*w)
        x = self.dropout(self.relu(self.fc6(x)))
        return self.dropout(self.relu(self.fc7(x)))

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clip))


def c3d_pickle_key_map(key: str) -> str:
    """``c3d.pickle`` names -> ours: ``fc8.*`` is the classifier (``head.1.*``)."""
    return key.replace("fc8.", "head.1.") if key.startswith("fc8.") else key


C3D_HOW = ("Get the Sports-1M C3D weights converted to PyTorch (c3d.pickle, e.g. from the c3d-pytorch project) and "
           "pass its path: build_model('c3d', n, pretrained='/path/to/c3d.pickle').")
# the demo's C3D: 8-64 channels, BatchNorm, fc 128 and no dropout (dropout 0.2 kept it near chance on the
# HMDB51-layout demo data), on 8x64x64 clips with no temporal pooling at pool1 and pool5
SMALL = {"widths": (8, 16, 32, 64, 64), "fc": 128, "dropout": 0.0, "input_size": (8, 64, 64),
         "pool_t": (1, 2, 2, 2, 1), "batch_norm": True}


def load_sports1m(model: C3D, path) -> str:
    """Load c3d-pytorch's ``c3d.pickle`` (Sports-1M) into ``model``; returns the load report.

    Raises:
        ValueError: a tensor other than the classifier's is missing or of another shape.
    """
    state = W.load_checkpoint(path, "C3D Sports-1M", C3D_HOW)
    report = W.load_matching(model, {c3d_pickle_key_map(k): v for k, v in state.items()}, file=path)
    return str(report.require("C3D", may_differ=("head.",)))


def build_c3d(num_classes: int, model_size: str = "paper", pretrained=None, **overrides) -> C3D:
    """C3D at 16x112x112 (paper size, 78.4M parameters with 101 classes); small: :data:`SMALL`.

    Args:
        num_classes: classes.
        model_size: "paper" or "small".
        pretrained: None (random initialisation), "sports1m" (``c3d.pickle`` from the weights folder) or the path
            of c3d-pytorch's ``c3d.pickle``.
        **overrides: :class:`C3D` arguments.
    """
    check_model_size(model_size)
    model = C3D(num_classes, **({**SMALL, **overrides} if model_size == "small" else overrides))
    preprocessing = W.UNNORMALISED if model_size == "small" else W.IMAGENET
    weights = "random initialisation"
    if pretrained is not None and pretrained is not False:
        if pretrained in ("imagenet", True):
            raise ValueError(f"C3D has no ImageNet weights. {C3D_HOW}")
        if pretrained == "sports1m":
            pretrained = W.named_checkpoint("c3d", "sports1m")
        weights, preprocessing = load_sports1m(model, pretrained), W.C3D_SPORTS1M
    # the small C3D's conv5b map is 4x4 (and one time step) at 64 px: its explanations look at conv3b (16x16)
    layer = "conv5b" if model_size == "paper" else "conv3b"
    model.card = ModelCard(model.input_size, "clip", preprocessing, explain_layer=layer, weights=weights)
    return model
