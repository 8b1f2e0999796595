"""Training throughput per model in a profile: clips per second, seconds per epoch, and the share of each step
spent waiting for data (goal: the model never waits for data).

    .venv/bin/python benchmarks/bench_training.py [--profile demo] [--epochs 2] [--data-root DIR] [--models i3d,c3d]
Writes benchmarks/results/training_<profile>_<device>.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from harutils import experiment, results
from harutils.config import make_config
from harutils.models import MODEL_NAMES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-root", default="")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1] / "data"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated (default: all)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for name in args.models.split(","):  # a folder each: LRCN's start (Late Fusion's run, trained first) is
            # its own recipe's, not this benchmark's one test view
            cfg = make_config(name, "ucf101", args.profile, epochs=args.epochs, data_root=args.data_root,
                              data_dir=args.data_dir, out_dir=f"{out}/{name}", wandb_mode="disabled", test_views=1,
                              num_workers=args.workers)
            result = experiment.run(cfg, progress=False)
            hist = result["history"]
            data = sum(r["data_seconds"] for r in hist)
            compute = sum(r["compute_seconds"] for r in hist)
            clips = sum(r["clips"] for r in hist)
            rows.append({"model": name, "device": cfg.device, "batch": cfg.batch_size, "model_size": cfg.model_size,
                         "workers": cfg.num_workers, "frame_store": cfg.frame_store, "epochs": len(hist),
                         "clips_per_epoch": clips // len(hist),
                         "seconds_per_epoch": round(sum(r["epoch_seconds"] for r in hist) / len(hist), 2),
                         "train_clips_per_second": round(clips / (data + compute), 1),
                         "data_seconds_per_epoch": round(data / len(hist), 2),
                         "compute_seconds_per_epoch": round(compute / len(hist), 2),
                         "data_share_of_step": round(data / (data + compute), 3)})
            print(rows[-1], flush=True)
    device = rows[0]["device"] if rows else "cpu"
    path = Path(__file__).parent / "results" / f"training_{args.profile}_{device}.json"
    setup = {"profile": args.profile, "data_root": args.data_root or "the demo's synthetic UCF101 layout",
             "torch_home": os.environ.get("TORCH_HOME", "default")}
    results.write_benchmark(path, {"results": rows, "setup": setup})
    return 0


if __name__ == "__main__":
    sys.exit(main())
