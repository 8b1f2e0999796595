"""The demo as an experiment: every model trained on the synthetic UCF101 layout with seeds 0, 1 and 2.

Per model and seed: test video top-1, the mean accuracy on the classes only temporal order or direction tells apart
and on the others, the temporal-order probe (frames shuffled, reversed) and the training time; per model the mean
and standard deviation over the seeds. The report shows the JSON (section "Speed" of the results notebook).

    .venv/bin/python benchmarks/bench_demo_seeds.py [--seeds 0,1,2] [--models i3d,c3d]
Writes benchmarks/results/demo_seeds_cpu.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harutils import experiment, results
from harutils.config import make_config
from harutils.models import MODEL_NAMES

DATASET = "ucf101"


def one_run(model: str, seed: int, out: str, data_dir: str) -> dict:
    cfg = make_config(model, DATASET, "demo", seed=seed, out_dir=out, data_dir=data_dir, wandb_mode="disabled")
    start = time.perf_counter()
    metrics = experiment.run(cfg, progress=False)
    test = metrics["test"][DATASET]
    probe = test["temporal_order_probe"]
    return {"model": model, "seed": seed, "test_top1": round(test["video_top1"], 4),
            **{f"{k}_accuracy": round(v, 4) for k, v in results.pair_accuracy(test["per_class_accuracy"],
                                                                               DATASET).items()},
            "shuffled_top1": round(probe["shuffle"]["video_top1"], 4),
            "reversed_top1": round(probe["reverse"]["video_top1"], 4),
            "epochs": cfg.epochs, "seconds": round(time.perf_counter() - start, 1)}


def summary(rows: list[dict]) -> dict:
    out = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        out[model] = {"seeds": len(mine)}
        for key in ("test_top1", "pairs_accuracy", "other classes_accuracy", "reversed_top1"):
            values = [r[key] for r in mine]
            out[model][f"{key} mean"] = round(statistics.mean(values), 4)
            out[model][f"{key} std"] = round(statistics.pstdev(values), 4)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1] / "data"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "demo_seeds_cpu.json")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for model in args.models.split(","):
                rows.append(one_run(model, seed, f"{out}/seed{seed}", args.data_dir))  # run folders omit the seed
                print(rows[-1], flush=True)
    results.write_benchmark(args.out, {"per_model": summary(rows), "runs": rows,
                                       "setup": {"dataset": f"synthetic, {DATASET} layout", "profile": "demo"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
