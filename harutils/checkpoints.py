"""Checkpoints of a training run: written atomically, read safely, and the state a resumed run continues from."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch


def rng_state() -> dict:
    """The state of every random generator, saved with each checkpoint."""
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": [v.tolist() if isinstance(v, np.ndarray) else v for v in np.random.get_state()]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


class CheckpointError(OSError):
    """A checkpoint cannot be written or read; the message names the file, the cause and what to do."""


def save_checkpoint(path: Path, state: dict) -> None:
    """Write then rename: a kill or a full disk never leaves a half-written checkpoint.

    Raises:
        CheckpointError: the disk is full or not writable (the previous checkpoint is kept).
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # torch reports a full disk as RuntimeError("... unexpected pos ...")
        raise CheckpointError(f"cannot write the checkpoint {path} ({exc}): is the disk full? Free space or "
                              f"choose another out_dir; the previous checkpoint, if any, is intact") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def load_checkpoint(path: Path, mmap: bool = False) -> dict:
    """A checkpoint written by :func:`save_checkpoint` (``weights_only=True``), on the CPU.

    Args:
        mmap: map the tensors instead of reading them (for a look at the config or epoch of a large checkpoint).

    Raises:
        CheckpointError: the file is truncated, empty or not a checkpoint of this project.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise
    except Exception as exc:  # never echo torch's advice to load untrusted pickles with weights_only=False
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}; truncated, empty or "
                              f"another kind of file): delete it to train that run from the start, or choose "
                              f"another out_dir") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} is not a checkpoint of this project (no model weights): delete it or choose "
                              f"another out_dir")
    return state
