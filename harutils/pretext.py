"""Self-supervised pretraining by a temporal pretext task, and fine-tuning on a fraction of the labels.

The pretext task, "playback": is this clip playing forward, backward, or with its frames shuffled? Its labels come
from the video itself, never from a person (Misra et al., "Shuffle and Learn", ECCV 2016; Wei et al., "Learning and
Using the Arrow of Time", CVPR 2018). Why this task rather than VideoMAE's masked reconstruction: it asks the
network for exactly what the series is about (order and direction in time), a small 3D CNN learns it in a CPU
minute, and it needs no decoder; masked reconstruction needs a transformer, long pretraining and many clips before
its features pay off. A pretext run is an ordinary run of the engine on relabelled clips, so it is checkpointed,
resumed, tested and reported like the others.

Fine-tuning: a run with ``init_from`` (a finished run's folder) starts from that run's weights, all but its head;
``label_fraction`` keeps that share of each class's training clips (at least one), the same clips for every run of a
seed, so pretrained and from-scratch runs are compared on the same labels. Each epoch passes over the kept clips as
often as it takes to make as many optimizer steps as an epoch on all the labels (clip starts are drawn afresh on
every pass): the curve then compares labels, not training length. With the same epochs on a tenth of the clips both
starts stayed at chance (I3D, demo: 0.13 from scratch, 0.10 pretrained), four steps an epoch being too few to learn.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .checkpoints import load_checkpoint
from .config import RunConfig
from .data.pipeline import DataBundle
from .models.weights import load_matching
from .recipes import DEMO_SELF_SUPERVISED

PLAYBACK = ["forward", "backward", "shuffled"]


def epochs_for(profile: str, epochs: int | None, pretext_epochs: int | None) -> tuple[int | None, int | None]:
    """(pretext, fine-tuning) epochs: those given, else on the demo its budget (``recipes.DEMO_SELF_SUPERVISED``),
    else None (the profile's epochs for the model). A given ``epochs`` alone sets both (``run_all.sh --epochs``)."""
    demo = DEMO_SELF_SUPERVISED if profile == "demo" else {}
    return (pretext_epochs or epochs or demo.get("pretext_epochs"), epochs or demo.get("epochs"))


def playback_order(kind: int, frames: int, generator: torch.Generator) -> torch.Tensor:
    """Frame order of one playback class: identity, reversed, or a permutation that is neither."""
    forward = torch.arange(frames)
    if kind == 0:
        return forward
    if kind == 1:
        return forward.flip(0)
    while True:
        order = torch.randperm(frames, generator=generator)
        if not (torch.equal(order, forward) or torch.equal(order, forward.flip(0))):
            return order


class PlaybackDataset(Dataset):
    """A clip dataset relabelled by playback: item ``i`` is the clip in one of :data:`PLAYBACK`'s orders (the same
    order for every view of a test video) and that order's index; its own labels are never read.

    Training draws the order afresh each time; evaluation fixes it per item (``i % 3``, a seeded shuffle), so the
    same clips are scored the same way every epoch.
    """

    def __init__(self, clips: Dataset, training: bool, seed: int = 0):
        self.clips, self.training, self.seed = clips, training, seed
        self.classes = list(PLAYBACK)
        self.samples = [(path, i % len(PLAYBACK)) for i, (path, _) in enumerate(clips.samples)]

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int):
        clip, _ = self.clips[i]  # (3, T, H, W) or (V, 3, T, H, W)
        if self.training:
            kind, generator = int(torch.randint(len(PLAYBACK), ())), None
        else:
            kind, generator = i % len(PLAYBACK), torch.Generator().manual_seed(self.seed * 100_003 + i)
        return clip.index_select(-3, playback_order(kind, clip.shape[-3], generator)), kind


def label_subset(labels: list[int], fraction: float, seed: int) -> list[int]:
    """Indices keeping ``fraction`` of each class's items (at least one), chosen by ``seed``, in their order.

    Raises:
        ValueError: a fraction outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"label_fraction must be in (0, 1], got {fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        keep += rng.choice(members, size=max(1, round(fraction * len(members))), replace=False).tolist()
    return sorted(keep)


def for_run(cfg: RunConfig, bundle: DataBundle) -> DataBundle:
    """A run's data after its pretext and label fraction: relabelled by playback, or its labelled training clips
    thinned and, with ``steps_as_all_labels``, listed as many times as makes an epoch of all the labels' length (the
    dataset keeps only the chosen samples, so it is still an ordinary clip dataset)."""
    if cfg.pretext == "playback":
        return replace(bundle, classes=list(PLAYBACK), train=PlaybackDataset(bundle.train, True, cfg.seed),
                       val=PlaybackDataset(bundle.val, False, cfg.seed),
                       test=PlaybackDataset(bundle.test, False, cfg.seed))
    if cfg.label_fraction < 1:
        train = bundle.train
        kept = label_subset([label for _, label in train.samples], cfg.label_fraction, cfg.seed)
        repeats = max(1, round(len(train.samples) / len(kept))) if cfg.steps_as_all_labels else 1
        train.samples = [train.samples[i] for i in kept] * repeats
        train.groups = [train.groups[i] for i in kept] * repeats
        print(f"{bundle.name}: training on {len(kept)} labelled clips ({cfg.label_fraction:.0%} of each class)"
              + (f", {repeats} passes over them an epoch: as many steps as on all the labels" if repeats > 1 else ""))
    return bundle


def distinct_clips(dataset: Dataset) -> int:
    """The training clips a run saw, each once (a label-fraction run passes over its clips several times an epoch)."""
    return len({path for path, _ in dataset.samples})


def class_counts(cfg: RunConfig, counts: dict[str, int]) -> dict[str, int]:
    """The model's outputs per dataset: the pretext's classes, or the dataset's."""
    return {n: len(PLAYBACK) for n in counts} if cfg.pretext == "playback" else counts


def initialise_from(model: nn.Module, run_dir: str | Path, part: str = "", what: str = "") -> str:
    """Load a finished run's best weights into ``model``: all but the classifier head, or with ``part`` only that
    submodule's (``"encoder"``: the frame CNN of a run that starts from another model's run); returns the load report.

    Raises:
        FileNotFoundError: the run has no ``best.pt`` (it has not trained), naming the file.
        ValueError: its weights do not fit this model (another model or size), naming the file and ``what`` was
            loaded into (default: the model, for ``init_from``).
    """
    path = Path(run_dir) / "best.pt" if Path(run_dir).is_dir() else Path(run_dir)
    if not path.is_file():
        raise FileNotFoundError(f"init_from: {path} does not exist; train that run first (its folder must hold "
                                f"best.pt), or pass the path of a best.pt")
    prefix = f"{part}." if part else ""
    state = {k.removeprefix(prefix): v for k, v in load_checkpoint(path)["model"].items()
             if k.startswith(prefix) and (part or not k.startswith("head."))}
    report = load_matching(model.get_submodule(part), state, file=path)
    return str(report.require(what or f"{type(model).__name__} (init_from)", may_differ=() if part else ("head.",)))
