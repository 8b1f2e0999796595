"""Write random weights under the published file names and in the published key layouts, into a weights folder.

For smoke runs of the full profile on a machine without the real files (an offline GPU box, CI): the loading,
inflation and training code paths run exactly as with the real files, but the accuracies mean nothing. It writes
torchvision's ``resnet50-0676ba61.pth`` and ``resnet152-394f9c45.pth`` (V1 layout, no BatchNorm counters) and
``vit_b_16-c867db91.pth`` (ViViT's spatial encoder),
c3d-pytorch's ``c3d.pickle`` and the Caffe2 conversions ``i3d_r50_kinetics.pth`` and ``i3d_r50_nl_kinetics.pth``.
It refuses to overwrite a file that is already there, so it can never replace real weights.

    python scripts/standin_weights.py DIR        # then: HARUTILS_WEIGHTS=DIR ./run_all.sh --profile full ...
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch
import torchvision

from harutils.models import build_model
from harutils.models.weights import NAMED_WEIGHTS, is_counter


def _kinetics_layout(key: str) -> str:
    """Ours -> the Caffe2 conversion's names (the inverse of ``i3d.kinetics_key_map``)."""
    m = re.match(r"backbone\.after_block\.layer(\d)_(\d+)\.(.*)", key)
    if m:
        return f"layer{m.group(1)}.{m.group(2)}.nl.{m.group(3)}"
    return "fc." + key.removeprefix("head.1.") if key.startswith("head.1.") else key.removeprefix("backbone.")


def standin_states() -> dict[str, dict[str, torch.Tensor]]:
    """File name -> a random state dict in that file's layout."""
    states = {}
    for depth in (50, 152):
        enum = torchvision.models.get_model_weights(f"resnet{depth}").IMAGENET1K_V1
        torch.manual_seed(depth)
        states[Path(enum.url).name] = torchvision.models.get_model(f"resnet{depth}", weights=None).state_dict()
    torch.manual_seed(16)
    vit_file = Path(torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1.url).name
    states[vit_file] = torchvision.models.vit_b_16().state_dict()
    torch.manual_seed(3)
    c3d = build_model("c3d", 487, "paper").state_dict()
    states[NAMED_WEIGHTS[("c3d", "sports1m")].name] = {k.replace("head.1.", "fc8."): v for k, v in c3d.items()}
    for model in ("i3d", "nonlocal"):
        torch.manual_seed(4)
        state = build_model(model, 400, "paper").state_dict()
        states[NAMED_WEIGHTS[(model, "kinetics400")].name] = {_kinetics_layout(k): v for k, v in state.items()}
    # the published files predate BatchNorm's counters
    return {name: {k: v for k, v in s.items() if not is_counter(k)} for name, s in states.items()}


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    states = standin_states()
    existing = [folder / name for name in states if (folder / name).exists()]
    if existing:
        raise FileExistsError(f"{existing[0]} exists; stand-in weights are written only into an empty folder")
    written = []
    for name, state in states.items():
        torch.save(state, folder / name)
        written.append(folder / name)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a new folder to use as HARUTILS_WEIGHTS")
    args = parser.parse_args(argv)
    for path in write(args.folder):
        print(f"stand-in (random) weights: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
