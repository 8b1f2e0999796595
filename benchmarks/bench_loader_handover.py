"""What one DataLoader worker delivers per full-profile model when it hands over uint8 clips (normalised afterwards
on the model's device) rather than normalised float clips, on the real fixture clips read from the video store, and
against the path before the store and the hand-over (the original videos, float clips).

Per recipe, model and dataset: training clips per second through a DataLoader with one worker (the whole
decode-resize-crop path in the worker, the batch collated there and passed to this process; the first pass untimed,
as every epoch but the first of a persistent worker), for float and for uint8 hand-over from the store and for float
from the originals; the bytes of one clip either way; and what the normalisation the worker no longer does costs
this process's CPU per clip (on a GPU it runs on the device instead).

    .venv/bin/python benchmarks/bench_loader_handover.py [--passes 2] \\
        [--out benchmarks/results/loader_handover_cpu.json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from bench_frame_store import WORKERS, fixtures_present, gpu_rates, training_data
from torch.utils.data import ConcatDataset, DataLoader

from harutils import results
from harutils.data.transforms import normalise_clips
from harutils.models import MODEL_NAMES

BATCH = 8  # the clips per batch (the fixtures hold a few videos per dataset: each is read several times a pass)
MIN_ITEMS = 32  # clips per timed pass


def handing_over(dataset: ConcatDataset, uint8: bool) -> ConcatDataset:
    """The same clips with every transform set to hand over uint8 (or float) clips from a worker."""
    for part in dataset.datasets:
        part.transform = replace(part.transform, uint8_clips=uint8)
    return dataset


def clips_per_second(dataset, passes: int) -> tuple[float, torch.Tensor]:
    """Steady-state clips/s of one persistent worker over ``passes`` timed passes, and the last batch."""
    repeated = ConcatDataset([dataset] * -(-MIN_ITEMS // len(dataset)))
    loader = DataLoader(repeated, batch_size=BATCH, shuffle=True, num_workers=1, persistent_workers=True)
    for _batch in loader:  # untimed: the worker starts and probes every video once
        pass
    start = time.perf_counter()
    for _ in range(passes):
        for clips, _labels in loader:
            last = clips
    return passes * len(repeated) / (time.perf_counter() - start), last


def finishing_ms_per_clip(batch: torch.Tensor, card, subtract_mean_frame: bool) -> float:
    """This process's CPU time to normalise a handed-over uint8 batch, per clip (best of 3)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        normalise_clips(batch, card.preprocessing, subtract_mean_frame)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(batch)


# (frame store, hand-over): the store handing over float clips, then uint8; the originals handing over float, the
# path before the video store and the hand-over (issue 14's baseline)
SETUPS = (("video", "float"), ("video", "uint8"), ("none", "float"))


def measure_row(recipe: str, name: str, dataset: str, data_dir: Path, passes: int, first: int) -> dict:
    """One row: clips/s of every setup (started at ``first``, so that no setup always runs first), and what the
    uint8 batches of the store weigh and cost to finish."""
    rates, batches = {}, {}
    for store, handover in SETUPS[first:] + SETUPS[:first]:
        cfg, card, both = training_data(recipe, name, dataset, data_dir, num_workers=1, frame_store=store)
        rates[store, handover], batches[store, handover] = clips_per_second(handing_over(both, handover == "uint8"),
                                                                            passes)
    uint8_batch = batches["video", "uint8"]
    assert batches["video", "float"].dtype == torch.float32 and uint8_batch.dtype == torch.uint8
    as_float, as_uint8, originals = rates["video", "float"], rates["video", "uint8"], rates["none", "float"]
    return {"input": list(card.input_size), "videos": len(both), "batch": BATCH,
            "clip_mb_float": round(uint8_batch[0].numel() * 4 / 2**20, 2),
            "clip_mb_uint8": round(uint8_batch[0].numel() / 2**20, 2),
            "clips_per_s_originals_float": round(originals, 2),
            "clips_per_s_float": round(as_float, 2), "clips_per_s_uint8": round(as_uint8, 2),
            "speedup": round(as_uint8 / as_float, 2), "speedup_over_originals_float": round(as_uint8 / originals, 2),
            f"projected_{WORKERS}_workers_per_s": round(WORKERS * as_uint8, 1),
            "finishing_ms_per_clip_this_cpu": round(finishing_ms_per_clip(uint8_batch, card,
                                                                          cfg.subtract_mean_frame), 2)}


def measure(recipe: str, data_dir: Path, passes: int) -> dict:
    gpu, out = gpu_rates(), {}
    for name in MODEL_NAMES:
        for dataset in ("ucf101", "hmdb51"):
            row = measure_row(recipe, name, dataset, data_dir, passes, len(out) % len(SETUPS))
            row["gpu_train_clips_per_s"] = gpu.get(name)
            out[f"{recipe}/{name}/{dataset}"] = row
            print(f"{recipe:9s} {name:12s} {dataset:7s} originals {row['clips_per_s_originals_float']:6.2f}/s  "
                  f"store: float {row['clips_per_s_float']:6.2f}/s  uint8 {row['clips_per_s_uint8']:6.2f}/s  "
                  f"x{row['speedup']:.2f} (x{row['speedup_over_originals_float']:.2f} over the originals; "
                  f"{row['clip_mb_float']} -> {row['clip_mb_uint8']} MB a clip)", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--recipes", default="reference,improved")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "loader_handover_cpu.json")
    args = parser.parse_args(argv)
    if not fixtures_present():
        return 1
    torch.set_num_threads(1)  # this process finishes the batches on one core, as the worker works on one
    torch.manual_seed(0)
    figures = {"clips_per_second_one_worker": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in args.recipes.split(","):
            figures["clips_per_second_one_worker"].update(measure(recipe, Path(tmp), args.passes))
    results.write_benchmark(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
