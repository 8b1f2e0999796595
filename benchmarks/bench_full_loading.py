"""Full-profile data loading on the real fixture clips: what one DataLoader worker delivers per model.

The full profile caches no frames (an all-frames cache of UCF101 at 256 px would take about 640 GB): each
training clip is decoded, resized to the profile's shorter side (256, or 128 for C3D), cropped and normalised in a
DataLoader worker. This measures that whole ``dataset[i]`` path in one process, per model, for training items
(one random clip, or 5 random uniform frames) and test items (5 clips, or 5 uniform frames), on the real UCF101
and HMDB51 clips of ``../shared/fixtures``. Divide the GPU's training rate by the per-worker rate to size
``num_workers``.

    .venv/bin/python benchmarks/bench_full_loading.py [--repeats 2] [--out benchmarks/results/full_loading_cpu.json]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch

from harutils import experiment, results
from harutils.config import make_config
from harutils.data import pipeline
from harutils.data.base import MissingVideosWarning
from harutils.models import MODEL_NAMES

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def items_per_second(dataset, repeats: int) -> float:
    dataset[0]  # warm up (imports, decoder)
    start = time.perf_counter()
    for _ in range(repeats):
        for i in range(len(dataset)):
            dataset[i]
    return repeats * len(dataset) / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "full_loading_cpu.json")
    args = parser.parse_args(argv)
    if not FIXTURES.is_dir():
        print(f"no fixture clips under {FIXTURES}", file=sys.stderr)
        return 1
    torch.set_num_threads(1)  # one DataLoader worker
    torch.manual_seed(0)
    figures: dict = {"items_per_second_one_worker": {}}
    for name in MODEL_NAMES:
        for dataset in ("ucf101", "hmdb51"):
            cfg = make_config(name, dataset, "full", data_root=str(FIXTURES / dataset), pretrained=False,
                              device="cpu", data_dir="/nonexistent-no-cache")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingVideosWarning)
                model = experiment.build_run_model(cfg, {dataset: pipeline.class_count(cfg, dataset, False)})
                bundle = pipeline.build_data(cfg, model.card, progress=False)
            row = {"videos": len(bundle.train) + len(bundle.val) + len(bundle.test),
                   "frame_size": cfg.frame_size, "input": list(model.card.input_size)}
            both = torch.utils.data.ConcatDataset([bundle.train, bundle.val])
            row["train_items_per_s"] = round(items_per_second(both, args.repeats), 2)
            row["test_items_per_s"] = round(items_per_second(bundle.test, args.repeats), 2)
            figures["items_per_second_one_worker"][f"{name}/{dataset}"] = row
            print(f"{name:12s} {dataset:7s} train {row['train_items_per_s']:6.2f}/s  "
                  f"test {row['test_items_per_s']:6.2f}/s  ({row['videos']} videos, {cfg.frame_size} px)", flush=True)
            del model
    results.write_benchmark(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
