"""Forward+backward throughput and peak memory of every registered model.

On the CPU: the demo size (batch 16, fp32), in the default and in the channels-last layout that training uses.
On CUDA (when available): the full size too, fp32 against bf16 autocast with the channels-last layout.
Writes ``benchmarks/results/models_<device>.json``.

    .venv/bin/python benchmarks/bench_models.py [--device cpu|cuda] [--steps 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from harutils import results
from harutils.models import MODEL_NAMES, build_model


def step_time(model, clip, steps: int, bf16: bool) -> float:
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    target = torch.zeros(clip.shape[0], dtype=torch.long, device=clip.device)

    def one():
        with torch.autocast(clip.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(clip), target)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    one()  # warm up
    if clip.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    if clip.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def measure(name: str, model_size: str, device: str, batch: int, steps: int, bf16: bool, channels_last: bool) -> dict:
    torch.manual_seed(0)
    model = build_model(name, 101, model_size=model_size).to(device).train()
    clip = torch.randn(batch, 3, *model.card.input_size, device=device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    if channels_last:  # the layout training uses (the card's memory_format)
        fmt = model.card.memory_format
        model = model.to(memory_format=fmt)
        if fmt == torch.channels_last_3d:
            clip = clip.contiguous(memory_format=fmt)
    seconds = step_time(model, clip, steps, bf16)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"model": name, "model_size": model_size, "device": device, "batch": batch,
            "input": list(model.card.input_size),
            "precision": ("bf16" if bf16 else "fp32") + ("+channels_last" if channels_last else ""),
            "params": sum(p.numel() for p in model.parameters()), "seconds_per_step": round(seconds, 4),
            "clips_per_second": round(batch / seconds, 1), "peak_memory_mb": round(peak / 2**20, 1),
            "peak_memory_kind": "CUDA allocated" if device == "cuda" else "max RSS of a process running this model"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    for name in MODEL_NAMES:
        # each CPU measurement in a fresh process, so that its max RSS is its own
        ctx = multiprocessing.get_context("spawn")
        for channels_last in (False, True):
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                rows.append(pool.submit(measure, name, "small", args.device, 16, args.steps, False,
                                        channels_last).result())
            print(rows[-1])
        if args.device == "cuda":
            for bf16 in (False, True):
                rows.append(measure(name, "paper", "cuda", 8, args.steps, bf16, channels_last=bf16))
                print(rows[-1])
    out = args.out or Path(__file__).parent / "results" / f"models_{args.device}.json"
    results.write_benchmark(out, {"results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
