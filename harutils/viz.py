"""Figures for the notebooks and the report (matplotlib and seaborn). Functions return the figure they draw."""

from __future__ import annotations

import base64

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from .explain import overlay


def class_distribution(manifest: pd.DataFrame, max_classes: int = 60):
    """Videos per class and split role (stacked bars)."""
    counts = manifest[manifest["present"]].groupby(["class", "role"]).size().unstack(fill_value=0)
    counts = counts.loc[counts.sum(1).sort_values(ascending=False).index[:max_classes]]
    fig, ax = plt.subplots(figsize=(min(16, 2 + 0.35 * len(counts)), 4))
    counts.plot.bar(stacked=True, ax=ax, width=0.85)
    ax.set(xlabel="", ylabel="videos", title="Videos per class and role")
    fig.tight_layout()
    return fig


def _one_value(ax, values: pd.Series, title: str, noun: str, unit: str = "") -> bool:
    """Where every value is the same, say so in words instead of drawing a single bar; True when it did."""
    if values.nunique() != 1:
        return False
    ax.text(0.5, 0.5, f"{values.iloc[0]}{unit} for all {len(values)} {noun}", ha="center", va="center", fontsize=12,
            transform=ax.transAxes)
    ax.set(title=title, xticks=[], yticks=[])
    return True


def video_properties(manifest: pd.DataFrame):
    """Histograms of clip duration, frame count and fps, and the resolutions present (in words where only one)."""
    ok = manifest[manifest["status"] == "ok"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
    sns.histplot(ok["duration"], ax=axes[0], bins=30).set(xlabel="duration (s)", title="Duration")
    sns.histplot(ok["frames"], ax=axes[1], bins=30).set(xlabel="frames", title="Frames")
    if not _one_value(axes[2], ok["fps"].round(2), "Frame rate", "videos", " fps"):
        sns.countplot(x=ok["fps"].round(2), ax=axes[2]).set(xlabel="fps", title="Frame rate")
    res = ok["width"].astype(str) + "x" + ok["height"].astype(str)
    if not _one_value(axes[3], res, "Resolution", "videos"):
        counts = res.value_counts()
        axes[3].barh(counts.index, counts.values)
        axes[3].set(title="Resolution", xlabel="videos")
    fig.tight_layout()
    return fig


def groups_per_class(manifest: pd.DataFrame):
    """How many groups (sources) each class has and how many clips each group holds."""
    present = manifest[manifest["present"]]
    per_group = present.groupby(["class", "group"]).size()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2))
    groups = per_group.groupby(level=0).size()
    if not _one_value(axes[0], groups, "Groups per class", "classes", " groups"):
        sns.histplot(groups, ax=axes[0], discrete=True).set(xlabel="groups per class", title="Groups per class")
    clips = pd.Series(per_group.values)
    if not _one_value(axes[1], clips, "Clips per group", "groups", " clips"):
        sns.histplot(clips, ax=axes[1], discrete=True).set(xlabel="clips per group", title="Clips per group")
    fig.tight_layout()
    return fig


def frame_grid(frames_by_class: dict[str, np.ndarray], max_frames: int = 5):
    """Rows of sampled frames, one row per class: ``{class: (T, H, W, 3) uint8}``."""
    n = len(frames_by_class)
    fig, axes = plt.subplots(n, max_frames, figsize=(2.0 * max_frames, 1.6 * n), squeeze=False)
    for row, (cls, frames) in enumerate(frames_by_class.items()):
        for col in range(max_frames):
            ax = axes[row, col]
            ax.axis("off")
            if col < len(frames):
                ax.imshow(frames[col])
        axes[row, 0].set_title(cls, loc="left", fontsize=9)
    fig.tight_layout()
    return fig


def sampling_strategies(num_frames: int, strategies: dict[str, np.ndarray]):
    """Which frame indices each strategy takes from a video: one row per view, a dot per frame."""
    fig, ax = plt.subplots(figsize=(12, 0.6 + 0.45 * sum(len(v) for v in strategies.values())))
    y, ticks, labels = 0, [], []
    for name, idx in strategies.items():
        for v, view in enumerate(idx):
            ax.scatter(view, np.full(len(view), y), s=18)
            ticks.append(y)
            labels.append(f"{name} #{v + 1}" if len(idx) > 1 else name)
            y -= 1
    ax.set_yticks(ticks, labels)
    ax.set(xlim=(-1, num_frames), xlabel=f"frame index (the video has {num_frames} frames)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def strip(frames: np.ndarray, title: str = "", labels: list[str] | None = None):
    """One row of frames ``(T, H, W, 3)``."""
    t = len(frames)
    fig, axes = plt.subplots(1, t, figsize=(1.8 * t, 2.0), squeeze=False)
    for i in range(t):
        axes[0, i].imshow(frames[i])
        axes[0, i].axis("off")
        if labels:
            axes[0, i].set_title(labels[i], fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def learning_curves(history: list[dict], title: str = ""):
    """Training loss, training and validation accuracy, and the learning rate per epoch."""
    df = pd.DataFrame(history)
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.4))
    for col in [c for c in df if c.startswith("train_loss/")]:
        axes[0].plot(df["epoch"], df[col], marker="o", label=col.split("/")[1])
    axes[0].set(title="training loss", xlabel="epoch")
    for col in [c for c in df if c.startswith(("train_acc/", "val_acc/"))]:
        axes[1].plot(df["epoch"], df[col], marker="o", label=col.replace("_acc/", " "))
    axes[1].set(title="accuracy (train: clips; val: videos, 1 view)", xlabel="epoch", ylim=(0, 1))
    axes[2].plot(df["epoch"], df["lr"], marker="o")
    axes[2].set(title="learning rate (stepped per epoch)", xlabel="epoch", yscale="log")
    for ax in axes[:2]:
        ax.legend()
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    if title:
        fig.suptitle(title)
    fig.tight_layout()  # after the title, so that it keeps its own room above the panels' titles
    return fig


def compared_curves(histories: dict[str, list[dict]], title: str = ""):
    """Several runs on one figure: training loss and validation accuracy per epoch, one line per run (and per
    dataset where a run trains on several), the learning rate of each run once."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    rates = {run: [r["lr"] for r in history] for run, history in histories.items()}
    same_rate = len({tuple(r) for r in rates.values()}) == 1
    for run, history in histories.items():
        df = pd.DataFrame(history)
        for col in [c for c in df if c.startswith("train_loss/")]:
            axes[0].plot(df["epoch"], df[col], marker=".", label=f"{run} {col.split('/')[1]}")
        for col in [c for c in df if c.startswith("val_acc/")] or ["val_acc"]:
            axes[1].plot(df["epoch"], df[col], marker=".", label=f"{run} {col.partition('/')[2]}".strip())
        if not same_rate or run == next(iter(histories)):
            axes[2].plot(df["epoch"], df["lr"], marker=".", label="every run" if same_rate else run)
    axes[0].set(title="training loss", xlabel="epoch")
    axes[1].set(title="validation accuracy (videos)", xlabel="epoch", ylim=(0, 1))
    axes[2].set(title="learning rate", xlabel="epoch", yscale="log")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion(matrix, classes: list[str], title: str = "Confusion matrix (video level)", normalize: bool = True):
    """A heatmap of the confusion matrix, rows the true classes."""
    cm = np.asarray(matrix, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(5, 0.42 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    sns.heatmap(cm, xticklabels=classes, yticklabels=classes, cmap="Blues", vmin=0, vmax=1 if normalize else None,
                annot=len(classes) <= 20, fmt=".2f" if normalize else "g", ax=ax, cbar=False)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def temporal_probe(probes: dict[str, dict]):
    """Grouped bars: video accuracy with frames in order, shuffled and reversed, per model."""
    rows = [{"model": m, "frames": k, "video top-1": v["video_top1"]} for m, p in probes.items() for k, v in p.items()]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * len(probes)))  # horizontal: long model labels never overlap
    sns.barplot(pd.DataFrame(rows), y="model", x="video top-1", hue="frames", ax=ax, orient="h")
    ax.set(xlim=(0, 1), ylabel="", title="Temporal-order probe: a model that ignores time scores the same on all three")
    ax.legend(title="frames", fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def pair_accuracy(table: pd.DataFrame):
    """Per model: mean test accuracy on the classes only time tells apart against the other classes, with chance
    on the pairs (half: a model blind to order cannot choose between the two of a pair) as a line."""
    rows = table.melt(id_vars="model", value_vars=["pairs acc", "other classes acc"], var_name="classes",
                      value_name="accuracy").dropna()
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * table["model"].nunique()))
    sns.barplot(rows, y="model", x="accuracy", hue="classes", ax=ax, orient="h")
    ax.axvline(0.5, color="black", ls=":", label="order-blind on the pairs (0.5)")
    ax.set(xlim=(0, 1), ylabel="", title="Accuracy on the order/direction pairs and on the other classes")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def gif_html(gif: bytes, width: int = 256, caption: str = "") -> str:
    """An <img> tag with the GIF inline, so it survives in the rendered HTML report."""
    data = base64.b64encode(gif).decode()
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    img = f'<img width="{width}" src="data:image/gif;base64,{data}"/>'
    return f'<figure style="display:inline-block;margin:4px">{img}{cap}</figure>'


def explanation(result: dict, title: str, max_frames: int = 8):
    """Rows of frames: the input, then each map overlaid; and the Grad-CAM mass per frame (every frame).

    Args:
        result: :func:`harutils.explain.explain_clip`'s output.
        title: what the clip is.
        max_frames: at most this many evenly spaced frames in the strips (each labelled with its index).
    """

    frames, maps = result["frames"], result["maps"]
    t = len(frames)
    shown = np.unique(np.linspace(0, t - 1, min(t, max_frames)).round().astype(int))  # evenly spaced frames
    rows = [("input", frames)] + [(name, overlay(frames, heat)) for name, heat in maps.items()]
    n = len(shown)
    fig, axes = plt.subplots(len(rows) + 1, n, figsize=(1.6 * n, 1.7 * (len(rows) + 1)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for col, i in enumerate(shown):
            axes[r, col].imshow(images[i])
            axes[r, col].axis("off")
            if r == 0:
                axes[r, col].text(0.98, 0.02, str(i), transform=axes[r, col].transAxes, ha="right", va="bottom",
                                  fontsize=7, color="white")
        axes[r, 0].set_title(name, loc="left", fontsize=9)
    gs = axes[-1, 0].get_gridspec()
    for ax in axes[-1]:
        ax.remove()
    bar = fig.add_subplot(gs[-1, :])
    scores = result["importance"]
    bar.bar(np.arange(t), scores / max(scores.sum(), 1e-12))
    bar.set(xlabel="frame", ylabel="Grad-CAM share", xticks=range(t))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    scale = fig.colorbar(matplotlib.cm.ScalarMappable(cmap="jet"), cax=fig.add_axes((0.935, 0.3, 0.012, 0.5)))
    scale.set_label("map value (0 to the clip's maximum)", fontsize=8)
    return fig


def explanation_scores(summary: pd.DataFrame):
    """Per model and method, the map's share on the actor and on the moving limbs, with a uniform map's share (the
    baseline a map must beat) as a black tick."""
    frame = summary.reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), sharey=True)
    for ax, what in zip(axes, ("actor", "moving"), strict=True):
        sns.barplot(frame, x="model", y=f"{what} share", hue="method", ax=ax)
        base = frame.groupby("model", sort=False)[f"{what} baseline"].mean()
        ax.scatter(range(len(base)), base.values, marker="_", s=900, color="black", zorder=3,
                   label="uniform map")
        ax.set(title=f"map mass on the {'actor' if what == 'actor' else 'moving limbs'}", ylabel="share", xlabel="")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def predictions_over_time(table: pd.DataFrame, title: str):
    """Probability of a model's top classes at each moment of a video (``predict_over_time``'s table)."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for name in table.columns[1:]:
        ax.plot(table["time (s)"], table[name], marker="o", label=name)
    ax.set(xlabel="time in the video (s, window centre)", ylabel="probability", ylim=(0, 1), title=title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def label_efficiency(curve: pd.DataFrame):
    """Test accuracy against the share of labels used, one line per start (from scratch, pretrained)."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for start, rows in curve.groupby("start"):
        ax.plot(rows["labels"] * 100, rows["test video top-1"], marker="o", label=start)
        for _, r in rows.iterrows():
            ax.annotate(f"{r['test video top-1']:.2f}", (r["labels"] * 100, r["test video top-1"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set(xscale="log", xlabel="labelled training clips (% of each class)", ylabel="test video top-1",
           title="Label efficiency", ylim=(0, 1.05))
    ax.set_xticks(sorted(curve["labels"].unique() * 100), [f"{v:g}%" for v in sorted(curve["labels"].unique() * 100)])
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
