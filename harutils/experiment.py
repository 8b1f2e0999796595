"""Whole experiments: the run's data and model, ``fit``, the test of the best checkpoint (with the configured views
and the temporal-order probe), tracking, and ``run_dir/metrics.json``; plus the command line for runs outside
notebooks, on one process or several under ``torchrun``.

A run that is already complete (its ``metrics.json`` records the same configuration) reports the results it has;
one asked for more epochs continues from its last checkpoint; one that was changed in anything else that alters
its result is refused with the reason (:func:`harutils.config.changed_fields`). A run whose ``pretrained`` names a
model starts from the frame CNN of that model's run on the same data (:func:`source_run`), trained first if need be.

    python -m harutils.experiment --model i3d --dataset ucf101 --data-root DIR --profile demo --epochs 5 --out artifacts
    torchrun --nproc_per_node=2 -m harutils.experiment --model c3d --profile demo --out artifacts
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch
from torch import distributed as dist
from torch import nn

from . import evaluate, pretext
from .checkpoints import load_checkpoint
from .config import RunConfig, changed_fields, make_config
from .data.pipeline import DataBundle, build_data, class_count, make_loader
from .models import MODEL_NAMES, JointModel, build_model
from .models.weights import IMAGENET, WEIGHTS_ENV
from .placement import place_model
from .runtime import DistInfo, environment, environment_variable, init_distributed, resolve_device, seed_everything
from .tracking import Tracker
from .train import History, fit


def run_datasets(cfg: RunConfig) -> list[str]:
    """The datasets of a run: its own, and the second one of a joint run."""
    return [cfg.dataset] + ([cfg.joint_with] if cfg.joint_with else [])


def build_run_model(cfg: RunConfig, num_classes: dict[str, int]) -> nn.Module:
    """The run's model: a registered model with the recipe's options and weights (named weights from the run's
    weights folder, or a finished run's with ``init_from``), normalised as the recipe says, wrapped in a JointModel
    (which carries its card) for joint runs; a pretext run has the pretext task's outputs."""
    num_classes = pretext.class_counts(cfg, num_classes)
    weights = None if cfg.pretrained in MODEL_NAMES else cfg.pretrained  # another run's: _run loads them
    with environment_variable(WEIGHTS_ENV, cfg.weights_dir):
        model = build_model(cfg.model, num_classes[cfg.dataset], model_size=cfg.model_size, pretrained=weights,
                            **cfg.model_options)
    if cfg.init_from:
        model.card = replace(model.card, weights=pretext.initialise_from(model, cfg.init_from))
    if cfg.normalisation == "imagenet":  # the reference report normalised every model with ImageNet's statistics
        model.card = replace(model.card, preprocessing=IMAGENET)
    return JointModel(model, num_classes) if cfg.joint_with else model


def source_run(cfg: RunConfig) -> RunConfig | None:
    """The run whose frame CNN starts this one, where ``pretrained`` names a model: that model's run on the same data,
    split and seed (the demo's LRCN starts from Late Fusion's, as the LRCN paper's starts from an image-trained CNN);
    None otherwise. That run has its own recipe; an epochs override of this run (a smoke run's) and RandAugment apply
    to it too."""
    if cfg.pretrained not in MODEL_NAMES:
        return None
    recipe = cfg.recipe if cfg.profile == "full" else ""
    usual = make_config(cfg.model, cfg.dataset, cfg.profile, recipe=recipe, joint_with=cfg.joint_with).epochs
    return make_config(cfg.pretrained, cfg.dataset, cfg.profile, recipe=recipe, data_root=cfg.data_root,
                       split=cfg.split, seed=cfg.seed, epochs=None if cfg.epochs == usual else cfg.epochs,
                       randaugment=cfg.randaugment,
                       weights_dir=cfg.weights_dir, device=cfg.device, wandb_mode=cfg.wandb_mode,
                       out_dir=cfg.out_dir, data_dir=cfg.data_dir, num_workers=cfg.num_workers)


def train_source(cfg: RunConfig, progress: bool) -> RunConfig | None:
    """The run whose frame CNN starts ``cfg``'s (:func:`source_run`), trained first where it has not (its notebook
    has not run), which it says; None where ``cfg`` starts otherwise."""
    source = source_run(cfg)
    try:
        pending = source is not None and completed_results(source) is None
    except ValueError as exc:  # its folder holds another configuration of it, or more epochs (an epochs override)
        raise ValueError(f"{cfg.run_name} starts from the frame CNN of {source.run_name} (pretrained="
                         f"{cfg.pretrained!r}): {exc}; or pass pretrained=False to start from scratch") from exc
    if pending:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # every process would train it at once
            raise RuntimeError(f"{cfg.run_name} starts from the frame CNN of {source.run_name}, which has not "
                               f"finished: train {source.model} first on one process, then start this run again")
        print(f"{cfg.run_name} starts from the frame CNN of {source.run_name}, which has not finished: training it "
              "first")
        run(source, progress)
    return source


def start_from_run(model: nn.Module, source: RunConfig) -> str:
    """Load the frame CNN (``encoder``) of the finished run ``source``'s best checkpoint into ``model``; returns the
    load report.

    Raises:
        ValueError: the two models' frame CNNs differ (another size or design), naming the file.
    """
    net = model.backbone if isinstance(model, JointModel) else model
    report = pretext.initialise_from(net, source.run_dir, "encoder", f"the frame CNN of {type(net).__name__}")
    return f"the frame CNN of {source.run_name} ({report})"


def completed_results(cfg: RunConfig) -> dict | None:
    """The metrics of an earlier run of exactly this configuration, or None when it must (still) train. Checked
    before any data is read, against ``metrics.json`` or else the last checkpoint.

    Raises:
        ValueError: ``run_dir`` holds a run of another configuration (or one that started from another run of the
            model it starts from), or one trained for more epochs than asked.
    """
    metrics, last = cfg.run_dir / "metrics.json", cfg.run_dir / "last.pt"
    if metrics.is_file():
        done = json.loads(metrics.read_text())
        recorded, trained, source = done["config"], len(done["history"]), metrics
    elif last.is_file():
        ckpt = load_checkpoint(last, mmap=True)  # the config and epoch only: the weights stay on disk
        done, recorded, trained, source = None, ckpt["config"], ckpt["epoch"] + 1, last
    else:
        return None
    changed = changed_fields(recorded, cfg)
    start = source_run(cfg) if done is not None else None
    if start and not changed:  # a run that started from another run of that model's (its recipe changed since)
        changed = [f"{k} of {start.run_name}, its start" for k in changed_fields(done.get("source_config", {}), start)]
    if changed:
        raise ValueError(f"{source} records a run of another configuration ({', '.join(changed)} differ): delete "
                         f"{cfg.run_dir} or choose another out_dir")
    if trained > cfg.epochs:
        raise ValueError(f"{source} records {trained} trained epochs, more than the {cfg.epochs} asked for: ask "
                         f"for {trained} or more, delete {cfg.run_dir}, or choose another out_dir")
    return done if done is not None and trained == cfg.epochs else None


def test_all(net: nn.Module, bundles: dict[str, DataBundle], cfg: RunConfig, info: DistInfo, device: torch.device,
             history: History, tracker: Tracker) -> dict:
    """Test metrics per dataset of the weights in ``net`` (the best checkpoint), logged to the tracker."""
    results = {}
    for n, b in bundles.items():
        loader = make_loader(b.test, cfg, False, info, device)
        # the probe's shuffled and reversed clips come from the same pass: the test set is loaded once
        if cfg.order_probe:
            metrics = evaluate.evaluate_with_probe(net, loader, device, b.classes, b.views, n, cfg.amp)
        else:
            metrics = evaluate.evaluate(net, loader, device, b.classes, b.views, n, amp=cfg.amp)
        # validation accuracy of the kept checkpoint, as measured when it was chosen (1 centred view)
        metrics["val_video_top1"] = history.rows[history.best_epoch - 1][f"val_acc/{n}"]
        metrics["sizes"] = {"train": pretext.distinct_clips(b.train), "val": len(b.val), "test": len(b.test)}
        metrics["cache"] = b.cache_report
        metrics["left_out"] = b.left_out
        metrics["videos"] = [Path(path).name for path, _ in b.test.samples]  # in the order of the predictions
        results[n] = metrics
        tracker.summary({f"test/{n}/video_top1": metrics["video_top1"], f"test/{n}/clip_top1": metrics["clip_top1"],
                         f"test/{n}/mean_class_accuracy": metrics["mean_class_accuracy"]})
        tracker.log_confusion(f"confusion/{n}", metrics["confusion_matrix"], b.classes, f"{cfg.run_name}: {n} test")
    return results


def _timings(history: History, seconds: dict) -> dict:
    rows = history.rows
    step_seconds = sum(r["data_seconds"] + r["compute_seconds"] for r in rows)
    return {**seconds, "train_clips_per_second": sum(r["clips"] for r in rows) / step_seconds if rows else None,
            "data_share_of_step": sum(r["data_seconds"] for r in rows) / step_seconds if rows else None}


@contextmanager
def exclusive(run_dir: Path, main: bool = True) -> Iterator[None]:
    """Hold ``run_dir/.lock`` while a run writes there, so that two runs into one folder cannot mix their files.

    Raises:
        RuntimeError: another process holds the folder, naming it and what to do.
    """
    if not main:  # under DDP the main process holds the folder for every rank
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another run is writing {run_dir} now: wait for it to finish, or choose another "
                               f"out_dir") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(cfg: RunConfig, progress: bool = True) -> dict:
    """A whole experiment (see the module docstring); returns the metrics written to ``run_dir/metrics.json``."""
    main = int(os.environ.get("RANK", "0")) == 0
    with exclusive(cfg.run_dir, main):
        done = completed_results(cfg)
        if done is not None:
            print(f"{cfg.run_name} is already complete: its results are in "
                  f"{Path(cfg.out_dir).name}/{cfg.run_name}/metrics.json (delete "
                  f"the folder or choose another out_dir to train it again)")
            return done
        return _run(cfg, progress)


def _run(cfg: RunConfig, progress: bool) -> dict:
    t_start = time.perf_counter()
    info = init_distributed(cfg.device)
    device = resolve_device(cfg.device)
    if device.type == "cuda" and info.world > 1:
        device = torch.device("cuda", info.local_rank)
    source = train_source(cfg, progress)  # before this run seeds its generators: it starts alike either way
    seed_everything(cfg.seed)
    names = run_datasets(cfg)
    model = build_run_model(cfg, {n: class_count(cfg, n, progress and info.main) for n in names})
    if source:
        model.card = replace(model.card, weights=start_from_run(model, source))
    t_data = time.perf_counter()
    bundles = {n: pretext.for_run(cfg, build_data(cfg, model.card, n, progress and info.main, uint8_clips=True))
               for n in names}
    seconds = {"data_and_cache_seconds": time.perf_counter() - t_data}
    if progress and info.main:
        print(f"training {cfg.run_name} ({cfg.epochs} epochs)")  # names the epoch lines that follow
    net = place_model(model, cfg, device, info)
    train_loaders = {n: make_loader(b.train, cfg, True, info, device, cfg.seed) for n, b in bundles.items()}
    val_loaders = {n: make_loader(b.val, cfg, False, info, device) for n, b in bundles.items()}
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with Tracker(cfg.to_dict(), cfg.run_dir, cfg.wandb_mode if info.main else "disabled", cfg.run_name) as tracker:
        t_fit = time.perf_counter()
        history = fit(net, train_loaders, val_loaders, cfg, {n: b.classes for n, b in bundles.items()}, tracker,
                      progress, info)
        seconds["fit_seconds"] = time.perf_counter() - t_fit
        model.load_state_dict(load_checkpoint(cfg.run_dir / "best.pt")["model"])
        t_test = time.perf_counter()
        results = test_all(net, bundles, cfg, info, device, history, tracker)
        seconds["test_seconds"] = time.perf_counter() - t_test
    seconds["total_seconds"] = time.perf_counter() - t_start
    out = {"run": cfg.run_name, "model": cfg.model, "datasets": names, "config": cfg.to_dict(), "test": results,
           "best_epoch": history.best_epoch, "best_val_acc": history.best_score, "history": history.rows,
           "resumed_from_epoch": history.resumed_from, "card": model.card.to_dict(),
           "source_config": source.to_dict() if source else None,
           "parameters": sum(p.numel() for p in model.parameters()),
           "timings": _timings(history, seconds), "environment": environment(), "world_size": info.world}
    if info.main:
        (cfg.run_dir / "metrics.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    if info.world > 1:
        digest = float(sum(p.double().sum() for p in model.state_dict().values() if p.is_floating_point()))
        (cfg.run_dir / f"rank{info.rank}.json").write_text(json.dumps(
            {"weights_sum": digest, "test": {n: r["video_top1"] for n, r in results.items()}}) + "\n")
        dist.barrier()
    return out


def load_trained_model(cfg: RunConfig) -> nn.Module:
    """The best checkpoint of a finished run, on the CPU, in eval mode."""
    model = build_run_model(cfg, {n: class_count(cfg, n, progress=False) for n in run_datasets(cfg)})
    model.load_state_dict(load_checkpoint(cfg.run_dir / "best.pt")["model"])
    return model.eval()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harutils.experiment", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", default="ucf101")
    parser.add_argument("--data-root", default="")
    parser.add_argument("--joint-with", default=None)
    parser.add_argument("--joint-root", default="")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--recipe", default="", help="full profile: reference (default) | improved")
    parser.add_argument("--weights", default="", help="folder of pretrained weight files (default: $HARUTILS_WEIGHTS)")
    parser.add_argument("--split", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pretrained", default=None,
                        help="imagenet | sports1m | kinetics400 | none | a checkpoint path (default: the recipe's)")
    parser.add_argument("--wandb", default=None, help="online | offline | disabled (default: WANDB_MODE or offline)")
    parser.add_argument("--out", default="artifacts")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """The command line; a bad value or input ends in one line naming the problem (exit status 2)."""
    args = parse_args(argv)
    try:
        return _main(args)
    except (ValueError, KeyError, OSError, RuntimeError) as exc:  # our errors name the file, cause and remedy
        print(f"python -m harutils.experiment: error: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    cfg = make_config(args.model, args.dataset, args.profile, recipe=args.recipe, weights_dir=args.weights,
                      data_root=args.data_root, split=args.split,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, device=args.device,
                      num_workers=args.workers, seed=args.seed, wandb_mode=args.wandb, out_dir=args.out,
                      data_dir=args.data_dir, joint_with=args.joint_with, joint_root=args.joint_root,
                      pretrained=False if args.pretrained == "none" else args.pretrained)
    out = run(cfg, progress=not args.no_progress)
    if int(os.environ.get("RANK", "0")) == 0:
        for n, m in out["test"].items():
            print(f"{n}: video top-1 {m['video_top1']:.3f} ({m['views']}), clip top-1 {m['clip_top1']:.3f}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
