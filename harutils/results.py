"""The results of the series, gathered from the files the runs wrote: one row per run and test set from every
``metrics.json``, each notebook's key metrics, the published and reference numbers beside them, and the
benchmarks' recorded figures. Read by the results notebook and the report's index page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .data import stick_figures, synthetic
from .runtime import environment

REPO = Path(__file__).resolve().parents[1]

# Published single-model RGB numbers (top-1 %, UCF101 / HMDB51, split 1 or 3-split mean as published).
PUBLISHED = {
    "late_fusion": {"ucf101": 65.4, "hmdb51": None,
                    "source": "Karpathy et al. 2014, Slow Fusion transfer to UCF101 (late fusion variants lower)"},
    "c3d": {"ucf101": 82.3, "hmdb51": 51.6,
            "source": "Tran et al. 2015 (C3D, Sports-1M, fc6 + linear SVM); HMDB51 from Tran et al. 2017"},
    "lrcn": {"ucf101": 68.2, "hmdb51": None, "source": "Donahue et al. 2015 (LRCN, RGB)"},
    "i3d": {"ucf101": 84.5, "hmdb51": 49.8,
            "source": "Carreira & Zisserman 2017, RGB-I3D ImageNet-pretrained (95.6 / 74.8 with Kinetics)"},
    "nonlocal": {"ucf101": None, "hmdb51": None, "source": "Wang et al. 2018 report Kinetics-400 only"},
}


def shown_path(path: str | Path, parts: int = 3) -> str:
    """A path as the report shows it: relative to the repository when inside it, else its last ``parts`` parts
    after an ellipsis; the pages never carry this machine's absolute paths."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return "…/" + "/".join(path.parts[-parts:])


def key_metrics_path(out_dir: str | Path, notebook: str) -> Path:
    return Path(out_dir) / "key_metrics" / f"{Path(notebook).stem}.json"


def record_key_metrics(out_dir: str | Path, notebook: str, metrics: dict) -> None:
    """A notebook's headline numbers, shown next to it on the report's index page."""
    path = key_metrics_path(out_dir, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, default=str) + "\n")


def collect_results(out_dir: str | Path) -> pd.DataFrame:
    """One row per (run, test dataset) from every ``metrics.json`` under ``out_dir``."""
    rows = []
    for path in sorted(Path(out_dir).glob("*/metrics.json")):
        m = json.loads(path.read_text())
        cfg = m["config"]
        if cfg.get("pretext") or cfg.get("label_fraction", 1) < 1 or cfg.get("init_from"):
            continue  # the self-supervised notebook's runs: a pretext task, or another experiment's labels
        for dataset, t in m["test"].items():
            probe = t.get("temporal_order_probe", {})
            root = (cfg.get("data_root") if dataset == cfg["dataset"] else cfg.get("joint_root")) or ""
            pairs = pair_accuracy(t.get("per_class_accuracy", {}), dataset, root)
            rows.append({
                "model": m["model"], "dataset": dataset,
                "training": "joint" if cfg.get("joint_with") else "single",
                "val split": "leaky" if cfg.get("leaky_val") else "group-aware",
                "profile": cfg["profile"], "recipe": cfg.get("recipe", cfg["profile"]),
                "val top-1": t.get("val_video_top1"),
                "test video top-1": t["video_top1"], "test clip top-1": t["clip_top1"],
                "test video top-5": t["video_top5"], "mean class acc": t["mean_class_accuracy"],
                "centre clip top-1": probe.get("ordered", {}).get("video_top1"),
                "shuffled top-1": probe.get("shuffle", {}).get("video_top1"),
                "reversed top-1": probe.get("reverse", {}).get("video_top1"),
                "pairs acc": pairs.get("pairs"), "other classes acc": pairs.get("other classes"),
                "views": t["views"], "params": m.get("parameters"), "epochs": len(m.get("history", [])),
                "videos left out": sum(len(v) for v in t.get("left_out", {}).values()),
                "train seconds": m["timings"]["fit_seconds"], "run": m["run"],
                "classes": len(t.get("per_class_accuracy", {})), "seed": cfg.get("seed"),
                "data root": root,
                "device": cfg.get("device"), "gpu": m.get("environment", {}).get("gpu"),
            })
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values(["model", "training", "dataset", "val split"], ignore_index=True)
    return frame


REFERENCE_COLUMNS = ("model", "dataset", "training", "test top-1")


def read_reference(path: str | Path) -> pd.DataFrame:
    """The reference report's own table from a CSV with columns ``model, dataset, training, test top-1`` (top-1 in
    %, training "single" or "joint"), to show instead of :data:`REFERENCE_REPORT`.

    Raises:
        FileNotFoundError, ValueError: the file is missing or lacks a column, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"reference numbers not found: {path}")
    table = pd.read_csv(path)
    missing = [c for c in REFERENCE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(REFERENCE_COLUMNS)}")
    return table[list(REFERENCE_COLUMNS)]


# The reference report's own table (Jan 2023; UCF101 / HMDB51 test top-1 %, split 1), what the "reference" recipe
# reproduces; it trained LRCN and I3D on single datasets only.
REFERENCE_REPORT = pd.DataFrame([
    {"model": m, "dataset": d, "training": t, "test top-1": v}
    for m, t, ucf, hmdb in [("late_fusion", "single", 74.19, 41.62), ("c3d", "single", 60.55, 15.98),
                            ("lrcn", "single", 74.50, 43.87), ("i3d", "single", 66.73, 36.47),
                            ("nonlocal", "single", 83.01, 53.35), ("late_fusion", "joint", 72.85, 37.63),
                            ("c3d", "joint", 60.50, 32.34), ("nonlocal", "joint", 84.11, 50.92)]
    for d, v in (("ucf101", ucf), ("hmdb51", hmdb))])


def side_by_side(results: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """This run's test top-1 (%, video level, group-aware validation) per model, dataset, training and recipe,
    beside the reference report's (:data:`REFERENCE_REPORT`, or ``reference`` when given: a CSV's table) and the
    papers' published numbers (:data:`PUBLISHED`, single-dataset training)."""
    ours = results[results["val split"] == "group-aware"]
    table = ours.assign(**{"this run": ours["test video top-1"] * 100})[
        ["model", "dataset", "training", "recipe", "this run"]]
    published = [{"model": m, "dataset": d, "training": "single", "published": p[d], "published source": p["source"]}
                 for m, p in PUBLISHED.items() for d in ("ucf101", "hmdb51")]
    table = table.merge(pd.DataFrame(published), on=["model", "dataset", "training"], how="left")
    ref = (REFERENCE_REPORT if reference is None else reference).rename(columns={"test top-1": "reference report"})
    table = table.merge(ref, on=["model", "dataset", "training"], how="outer")
    return table.sort_values(["model", "training", "dataset"], ignore_index=True)


BENCHMARKS_DIR = REPO / "benchmarks" / "results"


def write_benchmark(out: str | Path, results: dict) -> Path:
    """Write a benchmark's figures as JSON with the machine they were measured on (``results["machine"]``)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "machine": environment()}, indent=2) + "\n")
    print(f"wrote {out}")
    return out


def benchmark_tables(bench_dir: str | Path = BENCHMARKS_DIR) -> dict[str, pd.DataFrame]:
    """The figures recorded by ``benchmarks/*.py`` as tables, one per measurement: ``"<file>: <section>"``.

    A section that is a list of rows, or a mapping of names to rows or to values, becomes a table; the machine
    description of each file becomes its own table, so every figure is shown beside where it was measured.
    """
    tables = {}
    for path in sorted(Path(bench_dir).glob("*.json")):
        data = json.loads(path.read_text())
        for section, value in data.items():
            name = f"{path.stem}: {section}"
            if isinstance(value, list) and value and isinstance(value[0], dict):
                tables[name] = pd.DataFrame(value)
            elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                tables[name] = pd.DataFrame(value).T
            elif isinstance(value, dict):
                tables[name] = pd.DataFrame({"value": {k: str(v) for k, v in value.items()}})
            else:
                tables.setdefault(f"{path.stem}: machine", pd.DataFrame(columns=["value"])).loc[section] = str(value)
    return tables


def machine_line(machine: pd.DataFrame | None) -> str:
    """A benchmark's machine in a few words (CPU cores, the processor and its instruction set where recorded, GPU,
    torch) instead of its platform string."""
    if machine is None or machine.empty:
        return "machine not recorded"
    info = machine["value"].to_dict()
    gpu = info.get("gpu")
    gpu = "no GPU" if gpu in (None, "None", "") else gpu
    cpu = ", ".join(str(info[k]) for k in ("cpu", "cpu_capability") if info.get(k))
    cores = f"{info.get('cpu_count', '?')} CPU cores" + (f" ({cpu})" if cpu else "")
    return f"{cores}, {gpu}, torch {info.get('torch', '?')}"


def benchmarks_html(tables: dict[str, pd.DataFrame]) -> str:
    """The benchmark tables as one folded block per file, its machine in the summary line, paths shortened and
    figures rounded: the results page shows what was measured where without screens of raw tables."""
    files: dict[str, list[str]] = {}
    for name, table in tables.items():
        file, section = name.split(": ", 1)
        if section != "machine":
            shown = table.map(lambda v: shown_path(v, parts=1) if isinstance(v, str) and v.startswith("/") else v)
            files.setdefault(file, []).append(f"<h5>{section}</h5>" + shown.round(3).to_html(classes="benchmark"))
    blocks = [f"<details><summary><b>{file}</b>: measured on {machine_line(tables.get(f'{file}: machine'))}"
              f"</summary>{''.join(parts)}</details>" for file, parts in files.items()]
    return '<div style="overflow-x:auto">' + "".join(blocks) + "</div>"


def pair_classes(layout: str) -> set[str]:
    """The synthetic classes that only temporal order or direction tells apart (both members of a pair present)."""
    if layout not in synthetic.LAYOUTS:
        return set()
    classes = synthetic.LAYOUTS[layout]["classes"]
    actions = {synthetic.action_of(c) for c in classes}
    paired = {a for pair in stick_figures.TEMPORAL_PAIRS if set(pair) <= actions for a in pair}
    return {c for c in classes if synthetic.action_of(c) in paired}


def randaugment_comparison(bench_dir: str | Path = BENCHMARKS_DIR) -> pd.DataFrame | None:
    """Per model, demo test top-1 without and with RandAugment (means over the seeds of
    ``benchmarks/bench_demo_seeds.py --randaugment both``), the difference, the seed spread and a verdict: a
    difference within twice the larger spread is called no difference. None when that benchmark has not run."""
    path = Path(bench_dir) / "randaugment_demo_cpu.json"
    if not path.is_file():
        return None
    runs = pd.DataFrame(json.loads(path.read_text())["runs"])
    by = runs.groupby(["model", "randaugment"])
    mean, std = by["test_top1"].mean().unstack(), by["test_top1"].std(ddof=0).unstack()
    out = pd.DataFrame({"without": mean[False], "with": mean[True], "with - without": mean[True] - mean[False],
                        "seed std without": std[False], "seed std with": std[True],
                        "pairs acc without": by["pairs_accuracy"].mean().unstack()[False],
                        "pairs acc with": by["pairs_accuracy"].mean().unstack()[True],
                        "seeds": runs.groupby("model")["seed"].nunique()})
    spread = 2 * out[["seed std without", "seed std with"]].max(axis=1)
    out["verdict"] = ["no difference" if abs(d) <= s else ("helps" if d > 0 else "hurts")
                      for d, s in zip(out["with - without"], spread, strict=True)]
    return out


def label_efficiency(runs: dict[tuple[float, str], dict], dataset: str) -> pd.DataFrame:
    """The label-efficiency curve: test accuracy per share of labels and start ("from scratch", "pretrained").

    Args:
        runs: ``(label fraction, start) -> metrics`` of finished runs.
    """
    rows = []
    for (share, start), m in sorted(runs.items()):
        t = m["test"][dataset]
        pairs = pair_accuracy(t["per_class_accuracy"], dataset, m["config"].get("data_root", ""))
        rows.append({"labels": share, "start": start, "train clips": t["sizes"]["train"],
                     "test video top-1": t["video_top1"], "pairs acc": pairs.get("pairs"),
                     "other classes acc": pairs.get("other classes"), "train seconds": m["timings"]["fit_seconds"]})
    return pd.DataFrame(rows)


def pair_accuracy(per_class: dict[str, float], layout: str, data_root: str = "") -> dict[str, float | None]:
    """Mean per-class test accuracy on the temporal-pair classes and on the others (None where there are none, and
    for both on a real dataset: a ``data_root`` of the user's has no temporal pairs)."""
    if data_root:
        return {"pairs": None, "other classes": None}
    pairs = pair_classes(layout)
    on_pairs = [v for c, v in per_class.items() if c in pairs]
    others = [v for c, v in per_class.items() if c not in pairs]
    return {"pairs": sum(on_pairs) / len(on_pairs) if on_pairs else None,
            "other classes": sum(others) / len(others) if others else None}


def confused_pairs(test: dict, k: int = 5) -> pd.DataFrame:
    """The ``k`` (true, predicted) class pairs most often confused in one run's test metrics (video level)."""
    classes = list(test["per_class_accuracy"])
    pairs = [{"true class": classes[t], "predicted as": classes[p], "videos": n,
              "share of the class": n / max(sum(row), 1)}
             for t, row in enumerate(test["confusion_matrix"]) for p, n in enumerate(row) if p != t and n]
    frame = pd.DataFrame(pairs, columns=["true class", "predicted as", "videos", "share of the class"])
    return frame.sort_values("videos", ascending=False, ignore_index=True).head(k)


def hardest_videos(test: dict, k: int = 5) -> pd.DataFrame:
    """The ``k`` test videos of highest loss in one run's test metrics: true and predicted class, confidence."""
    classes = list(test["per_class_accuracy"])
    rows = [{"video": name, "true class": classes[y], "predicted": classes[p], "confidence": conf, "loss": loss}
            for name, (y, p, conf, loss) in zip(test.get("videos", []), test.get("predictions", []), strict=False)]
    frame = pd.DataFrame(rows, columns=["video", "true class", "predicted", "confidence", "loss"])
    return frame.sort_values("loss", ascending=False, ignore_index=True).head(k)
