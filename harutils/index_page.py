"""The report's landing page, ``reports/index.html``: what this run is, how to read its numbers (chance, and on the
synthetic data the order-blind ceiling), a figure comparing the models, the results table, and every notebook's
status, run time and key metrics with a link to its page."""

from __future__ import annotations

import base64
import html
import io
import json
import subprocess
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .data import stick_figures, synthetic
from .results import BENCHMARKS_DIR, REPO, collect_results, key_metrics_path

COLUMNS = ["model", "dataset", "training", "recipe", "val split", "val top-1", "test video top-1",
           "test clip top-1", "pairs acc", "other classes acc", "centre clip top-1", "shuffled top-1", "reversed top-1",
           "views", "epochs", "videos left out"]
SEEDS_BENCHMARK = "demo_seeds_cpu.json"
STYLE = """body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; }
tr.failed td { background: #fde8e8; } tr.ok td:nth-child(2) { color: #067d17; }"""


def code_version() -> str:
    """The commit the report was made from (and whether the tree had changes), or why it is unknown."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True,
                             timeout=10)
    except OSError:
        return "unknown (git is not installed)"
    return out.stdout.strip() or "unknown (not a git checkout)"


def order_blind_ceiling(dataset: str, classes: int) -> float | None:
    """The best test accuracy of a model blind to frame order on the synthetic data: it cannot tell the two classes
    of a temporal pair apart, so it gets half of their videos right (``1 - pairs / classes``); None for real data."""
    if dataset not in synthetic.LAYOUTS or classes != len(synthetic.LAYOUTS[dataset]["classes"]):
        return None
    actions = {synthetic.action_of(c) for c in synthetic.LAYOUTS[dataset]["classes"]}
    pairs = sum(1 for a, b in stick_figures.TEMPORAL_PAIRS if a in actions and b in actions)
    return 1 - pairs / classes


def reading_guide(results: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Per test dataset: where its data came from, its classes, chance and (synthetic) the order-blind ceiling."""
    rows = []
    for dataset, group in results.groupby("dataset"):
        classes = int(group["classes"].max())
        roots = sorted(set(group["data root"]))
        synthetic_data = roots == [""]
        rows.append({"test set": dataset, "data": ("synthetic, in the " + dataset.upper() + " layout" if synthetic_data
                                                    else ", ".join(roots)),
                     "classes": classes, "chance": 1 / classes,
                     "order-blind ceiling": order_blind_ceiling(dataset, classes) if synthetic_data else None})
    return pd.DataFrame(rows)


def results_figure(results: pd.DataFrame, guide: pd.DataFrame) -> str:
    """Test top-1 of every single-dataset run (group-aware validation), per dataset, with chance and the
    order-blind ceiling drawn as lines; an ``<img>`` tag."""
    honest = results[(results["val split"] == "group-aware") & (results["training"] == "single")]
    datasets = list(guide["test set"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 3.4), squeeze=False)
    for ax, (_, row) in zip(axes[0], guide.iterrows(), strict=True):
        part = honest[honest["dataset"] == row["test set"]]
        ax.bar(part["model"], part["test video top-1"], color="#4c72b0")
        ax.axhline(row["chance"], color="grey", ls=":", label=f"chance {row['chance']:.2f}")
        if pd.notna(row["order-blind ceiling"]):
            ax.axhline(row["order-blind ceiling"], color="#c44e52", ls="--",
                       label=f"order-blind ceiling {row['order-blind ceiling']:.2f}")
        ax.set(ylim=(0, 1), title=f"{row['test set']} test, video top-1", ylabel="accuracy")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="test accuracy per model" src="data:image/png;base64,{data}">'


def run_facts(results: pd.DataFrame, profile: str) -> str:
    """One paragraph: profile, recipe, device, seed, date and code version."""
    recipes = ", ".join(sorted(set(results["recipe"]))) if len(results) else "–"
    devices = ", ".join(sorted({str(g) if g else str(d) for d, g in zip(results["device"], results["gpu"],
                                                                       strict=True)})) if len(results) else "–"
    seeds = ", ".join(str(s) for s in sorted(set(results["seed"]))) if len(results) else "–"
    return (f"<p>Profile <b>{html.escape(profile)}</b> (recipe {html.escape(recipes)}), on {html.escape(devices)}, "
            f"seed {html.escape(seeds)}; generated {time.strftime('%Y-%m-%d %H:%M')} by <code>./run_all.sh</code> "
            f"from code version <code>{html.escape(code_version())}</code>. Every number below was produced by this "
            f"run.</p>")


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


def notebook_rows(log: list[dict], out_dir: Path) -> str:
    rows = []
    for entry in log:
        name = entry["notebook"]
        km_path = key_metrics_path(out_dir, name)
        km = json.loads(km_path.read_text()) if km_path.is_file() else {}
        km_text = ", ".join(f"{html.escape(k)}: {_fmt(v)}" for k, v in km.items())
        link = f'<a href="{html.escape(entry["html"])}">{html.escape(name)}</a>' if entry.get("html") else name
        rows.append(f'<tr class="{entry["status"]}"><td>{link}</td><td>{entry["status"]}</td>'
                    f'<td>{entry["seconds"]:.0f} s</td><td>{km_text}</td></tr>')
    return "".join(rows)


def measured_spread(profile: str, bench_dir: Path = BENCHMARKS_DIR) -> str:
    """The run-to-run spread of each model's test top-1 where ``benchmarks/bench_demo_seeds.py`` measured it (the
    demo profile), as one sentence; empty where it was not measured."""
    path = bench_dir / SEEDS_BENCHMARK
    if profile != "demo" or not path.is_file():
        return ""
    per_model = json.loads(path.read_text())["per_model"]
    parts = [f"{html.escape(m)} {v['test_top1 mean']:.2f} ± {v['test_top1 std']:.2f}" for m, v in per_model.items()]
    seeds = max((v["seeds"] for v in per_model.values()), default=0)
    return (f"<p>Measured run-to-run spread (mean ± standard deviation of test top-1 over {seeds} seeds, "
            f"<code>benchmarks/bench_demo_seeds.py</code>): {'; '.join(parts)}.</p>")


def write_index(reports: Path, log: list[dict], out_dir: Path, profile: str) -> Path:
    """Write ``reports/index.html`` (see the module docstring)."""
    results = collect_results(out_dir)
    if len(results):
        results = results[results["profile"] == profile]
    body = "<p>No training results yet.</p>"
    if len(results):
        guide = reading_guide(results, profile)
        body = f"""<h2>How to read it</h2>
<p>Accuracies are fractions of the test videos (video level: the softmax averaged over the views the table names).
A model that guesses scores chance; on the synthetic data some classes differ only in the order of their frames
(sit down / stand up, raise / lower arms, walk left / right), so a model blind to order cannot exceed the
order-blind ceiling, while one that uses time can reach 1. One run is one draw: rerun a model with another seed
(<code>python -m harutils.experiment --model M --seed S</code>) before reading a small difference as real.
<i>pairs acc</i> is the mean accuracy on the classes only order or direction tells apart (0.5 for a model blind
to order), <i>other classes acc</i> on the rest.</p>
{measured_spread(profile)}
{guide.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="–", border=0)}
{results_figure(results, guide)}
<h2>Results</h2>
{results[COLUMNS].to_html(index=False, float_format=lambda x: f"{x:.3f}", classes="results", na_rep="–", border=0)}"""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Temporal human action recognition: report</title>
<style>
{STYLE}
</style></head><body>
<h1>Temporal human action recognition</h1>
{run_facts(results, profile)}
{body}
<h2>Notebooks</h2>
<table><tr><th>notebook</th><th>status</th><th>run time</th><th>key metrics</th></tr>
{notebook_rows(log, out_dir)}
</table><p>Total run time {sum(e["seconds"] for e in log):.0f} s.</p>
</body></html>
"""
    path = reports / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
