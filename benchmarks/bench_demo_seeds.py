"""The demo as an experiment: every model trained on the synthetic UCF101 layout with seeds 0, 1 and 2, with or
without RandAugment (one sampled policy per clip, torchvision's transforms v2).

Per model, RandAugment setting and seed: test video top-1, the mean accuracy on the classes only temporal order or
direction tells apart and on the others, the temporal-order probe (frames shuffled, reversed) and the training
time; per model the mean and standard deviation over the seeds. The report shows the JSON (section "Speed" of the
results notebook).

    .venv/bin/python benchmarks/bench_demo_seeds.py [--seeds 0,1,2] [--models i3d,c3d]
    .venv/bin/python benchmarks/bench_demo_seeds.py --randaugment both --seeds 0,1 --models i3d,late_fusion,vivit
Writes benchmarks/results/demo_seeds_cpu.json; with ``--randaugment both``, randaugment_demo_cpu.json (the
with/without comparison the results notebook shows). ``--models`` reruns those models and keeps the others' rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harutils import experiment, results
from harutils.config import make_config
from harutils.models import MODEL_NAMES

DATASET = "ucf101"


def one_run(model: str, seed: int, out: str, data_dir: str, randaugment: bool = False) -> dict:
    cfg = make_config(model, DATASET, "demo", seed=seed, out_dir=out, data_dir=data_dir, wandb_mode="disabled",
                      randaugment=randaugment)
    start = time.perf_counter()
    metrics = experiment.run(cfg, progress=False)
    test = metrics["test"][DATASET]
    probe = test["temporal_order_probe"]
    return {"model": model, "randaugment": randaugment, "seed": seed, "test_top1": round(test["video_top1"], 4),
            **{f"{k}_accuracy": round(v, 4) for k, v in results.pair_accuracy(test["per_class_accuracy"],
                                                                               DATASET).items()},
            "shuffled_top1": round(probe["shuffle"]["video_top1"], 4),
            "reversed_top1": round(probe["reverse"]["video_top1"], 4),
            "epochs": cfg.epochs, "seconds": round(time.perf_counter() - start, 1), "data_version": cfg.data_version}


def summary(rows: list[dict]) -> dict:
    """Mean and standard deviation over the seeds, per model (and RandAugment setting, when both were run)."""
    both = len({r["randaugment"] for r in rows}) > 1
    out = {}
    for model, augmented in dict.fromkeys((r["model"], r["randaugment"]) for r in rows):
        mine = [r for r in rows if r["model"] == model and r["randaugment"] == augmented]
        name = f"{model} {'with' if augmented else 'without'} RandAugment" if both else model
        out[name] = {"seeds": len(mine)}
        for key in ("test_top1", "pairs_accuracy", "other classes_accuracy", "reversed_top1"):
            values = [r[key] for r in mine]
            out[name][f"{key} mean"] = round(statistics.mean(values), 4)
            out[name][f"{key} std"] = round(statistics.pstdev(values), 4)
    return out


def kept_rows(path: Path, rerun: set[str], data_version: str) -> list[dict]:
    """The earlier runs of the models not run again (``--models`` refreshes those models' rows, keeps the rest), if
    they were trained on the same version of the synthetic dataset; those of another version are dropped, saying so."""
    if not path.is_file():
        return []
    earlier = [r for r in json.loads(path.read_text())["runs"] if r["model"] not in rerun]
    kept = [r for r in earlier if r.get("data_version") == data_version]
    if len(kept) < len(earlier):
        print(f"dropping {len(earlier) - len(kept)} earlier runs of {path.name}: trained on another version of the "
              f"synthetic dataset (not {data_version})")
    if kept:
        print(f"keeping the earlier runs of {', '.join(dict.fromkeys(r['model'] for r in kept))} from {path.name}")
    return kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1] / "data"))
    parser.add_argument("--randaugment", choices=("off", "on", "both"), default="off")
    parser.add_argument("--out", type=Path, default=None, help="default: results/demo_seeds_cpu.json, or "
                        "results/randaugment_demo_cpu.json with --randaugment both")
    args = parser.parse_args(argv)
    name = "randaugment_demo_cpu.json" if args.randaugment == "both" else "demo_seeds_cpu.json"
    args.out = args.out or Path(__file__).parent / "results" / name
    settings = {"off": [False], "on": [True], "both": [False, True]}[args.randaugment]
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for model in args.models.split(","):
                for augmented in settings:  # run folders omit the seed and the setting: one folder for each
                    folder = f"{out}/seed{seed}{'_randaugment' if augmented else ''}"
                    rows.append(one_run(model, seed, folder, args.data_dir, augmented))
                    print(rows[-1], flush=True)
    rows = kept_rows(args.out, {r["model"] for r in rows}, rows[-1]["data_version"]) + rows
    results.write_benchmark(args.out, {"per_model": summary(rows), "runs": rows,
                                       "setup": {"dataset": f"synthetic, {DATASET} layout", "profile": "demo"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
