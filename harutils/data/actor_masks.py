"""Where the actor is in each frame of a synthetic video: the ground truth that explanation maps are scored on.

The generator (:mod:`.synthetic`) draws the figures, so it knows, for every frame, which pixels are the actor and
which limbs are moving. It writes them beside each video as ``<video>.masks.npz`` (a NumPy archive, bits packed
along the width): ``actor`` and ``moving``, each ``(T, H, W)`` booleans at the video's size and frame count, and
``width`` (to unpack). Real datasets have no such files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def mask_path(video: str | Path) -> Path:
    """``v_Wave_g01_c01.avi`` -> ``v_Wave_g01_c01.masks.npz`` beside it."""
    video = Path(video)
    return video.with_name(video.stem + ".masks.npz")


def write_masks(video: str | Path, actor: np.ndarray, moving: np.ndarray) -> Path:
    """Write the ``(T, H, W)`` boolean masks of a video beside it."""
    if actor.shape != moving.shape or actor.ndim != 3:
        raise ValueError(f"masks must both be (T, H, W), got {actor.shape} and {moving.shape}")
    path = mask_path(video)
    np.savez_compressed(path, actor=np.packbits(actor, axis=-1), moving=np.packbits(moving, axis=-1),
                        width=actor.shape[-1])
    return path


def read_masks(video: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The ``(T, H, W)`` boolean actor and moving-limb masks of a video.

    Raises:
        FileNotFoundError: the video has no masks (a real video, or a dataset generated before masks existed).
    """
    path = mask_path(video)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: only the synthetic dataset has actor masks (regenerate it "
                                f"with python -m harutils.data.synthetic)")
    with np.load(path) as data:
        width = int(data["width"])
        return (np.unpackbits(data["actor"], axis=-1, count=width).astype(bool),
                np.unpackbits(data["moving"], axis=-1, count=width).astype(bool))


def has_masks(video: str | Path) -> bool:
    return mask_path(video).is_file()
