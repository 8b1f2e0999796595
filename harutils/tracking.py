"""Experiment tracking with Weights & Biases, through one small module.

The mode comes from the caller (a notebook parameter) or ``WANDB_MODE``; it is ``offline`` by default, which
needs no network and no key, never prompts and never hangs. ``online`` needs ``wandb login`` first (we check for a
key and refuse early rather than let wandb prompt or hang); ``disabled`` logs nothing (tests). Runs are written
under ``<run_dir>/wandb`` (``WANDB_DIR``), never into the working directory; ``wandb sync`` uploads them later.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import wandb

MODES = ("online", "offline", "disabled")


def resolve_mode(mode: str | None) -> str:
    mode = mode or os.environ.get("WANDB_MODE") or "offline"
    if mode not in MODES:
        raise ValueError(f"wandb mode must be one of {MODES}, got {mode!r}")
    return mode


def _has_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path.home() / ".netrc"
    return netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore")


class Tracker:
    """A W&B run, or nothing when disabled. Use as a context manager so the run is always finished."""

    def __init__(self, config: dict, run_dir: str | Path, mode: str | None = None, name: str | None = None,
                 project: str = "temporal-har"):
        self.mode = resolve_mode(mode)
        self.run = None
        if self.mode == "disabled":
            return
        if self.mode == "online" and not _has_key():
            raise RuntimeError("wandb_mode='online' needs a W&B API key: run `wandb login` or set WANDB_API_KEY, "
                               "or use wandb_mode='offline' and `wandb sync` later")
        wandb_dir = Path(run_dir) / "wandb"
        wandb_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("WANDB_SILENT", "true")
        settings = wandb.Settings(silent=True, console="off", init_timeout=60)
        self.run = wandb.init(project=project, name=name, config=config, dir=str(wandb_dir.parent),
                              mode=self.mode, settings=settings, reinit="finish_previous")

    def log(self, values: dict, step: int | None = None) -> None:
        if self.run is not None:
            self.run.log(values, step=step)

    def log_confusion(self, name: str, matrix: list[list[int]], classes: list[str], title: str) -> None:
        """A confusion matrix (rows: true class) as W&B's own interactive chart, built from its counts (no figure to
        draw and encode in the run)."""
        if self.run is not None:
            counts = np.asarray(matrix)
            true, predicted = np.divmod(np.repeat(np.arange(counts.size), counts.ravel()), len(classes))
            self.run.log({name: wandb.plot.confusion_matrix(y_true=true.tolist(), preds=predicted.tolist(),
                                                            class_names=list(classes), title=title)})

    def summary(self, values: dict) -> None:
        if self.run is not None:
            self.run.summary.update(values)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finish()
