"""Where a run executes: the device, the random seeds, the distributed setting and the facts of the machine."""

from __future__ import annotations

import os
import platform
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import distributed as dist


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; asking for CUDA without it is an error.

    Raises:
        RuntimeError: CUDA asked for but not available.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for but CUDA is not available; use device='cpu'")
    return torch.device(name)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a ``torchrun`` launch (rank 0 of 1 when launched alone)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> DistInfo:
    """Join the process group when launched by ``torchrun`` (WORLD_SIZE > 1); a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    info = DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device.startswith("cuda"):
        torch.cuda.set_device(info.local_rank)
    return info


def is_distributed() -> bool:
    """Whether this process is one of several in a process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's name (Linux's ``model name``; else what ``platform`` knows, possibly empty)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor()


def environment() -> dict:
    """The machine facts recorded with every run and benchmark. The processor and the instruction set torch's
    kernels were chosen for are among them: CPU timings and even the last digits of a result depend on them."""
    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def reference_speed(seconds: float = 0.5) -> float:
    """Training steps per second of a fixed small 3D CNN here and now (batch 8 of 8-frame 32x32 clips, on the CPU,
    with this process's torch threads): a yardstick for run times. A shared machine's speed drifts (one notebook of
    the demo took 1.5 times as long in a slow spell, for the same work), so the series logs this before every
    notebook, and a run time is read beside it. Leaves the global random state as it was.

    Args:
        seconds: how long to measure, after two warm-up steps.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv3d(3, 32, 3, padding=1), torch.nn.BatchNorm3d(32), torch.nn.ReLU(),
                                  torch.nn.MaxPool3d(2), torch.nn.Conv3d(32, 64, 3, padding=1),
                                  torch.nn.BatchNorm3d(64), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool3d(1),
                                  torch.nn.Flatten(), torch.nn.Linear(64, 14))
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
        clips, labels = torch.randn(8, 3, 8, 32, 32), torch.arange(8)

        def step() -> None:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(clips), labels).backward()
            optimizer.step()

        step(), step()
        steps, start = 0, time.perf_counter()
        while steps == 0 or time.perf_counter() - start < seconds:
            step()
            steps += 1
        return steps / (time.perf_counter() - start)


@contextmanager
def environment_variable(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` inside the block (left as it is when ``value`` is empty), restored on exit."""
    before = os.environ.get(name)
    if value:
        os.environ[name] = str(value)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


PROGRESS_FILE = "HARUTILS_PROGRESS_FILE"


def progress_bar(iterable=None, *, desc: str = "", total: int | None = None, enabled: bool = True, leave: bool = True):
    """A tqdm bar, off when ``enabled`` is False or ``$TQDM_DISABLE`` is set (the series runner sets it, so that no
    bar or widget lands in the rendered pages; long steps report to its console instead: :func:`report_progress`)."""
    from tqdm.auto import tqdm

    off = not enabled or os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")
    return tqdm(iterable, desc=desc, total=total, leave=leave, disable=off)


def report_progress(line: str) -> None:
    """Append one line to ``$HARUTILS_PROGRESS_FILE`` when it is set: the series runner prints these on its console
    while a notebook runs (an epoch finished, a store built), so long steps are visible without filling the page."""
    path = os.environ.get(PROGRESS_FILE)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line.rstrip("\n") + "\n")
