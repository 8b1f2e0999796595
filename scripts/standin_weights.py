"""Write randomly initialised ResNet-50/152 state dicts under torchvision's ImageNet file names.

For smoke runs of the full profile on a machine that cannot download the ImageNet weights (an offline GPU box, CI):
the loading, inflation and training code paths run exactly as with the real files, but the accuracies mean nothing.
Never point it at your real torch cache: it refuses to overwrite a file that is already there.

    python scripts/standin_weights.py DIR        # then: TORCH_HOME=DIR ./run_all.sh --profile full ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torchvision


def write(torch_home: Path) -> list[Path]:
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for depth in (50, 152):
        enum = torchvision.models.get_model_weights(f"resnet{depth}").IMAGENET1K_V1
        path = folder / Path(enum.url).name
        if path.exists():
            raise FileExistsError(f"{path} exists; stand-in weights are written only into an empty torch cache")
        torch.manual_seed(depth)
        torch.save(torchvision.models.get_model(f"resnet{depth}", weights=None).state_dict(), path)
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("torch_home", type=Path, help="a new folder to use as TORCH_HOME")
    args = parser.parse_args(argv)
    for path in write(args.torch_home):
        print(f"stand-in (random) weights: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
