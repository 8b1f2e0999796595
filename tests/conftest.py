"""Shared test fixtures: the real UCF101/HMDB51 fixtures in ../shared and small fake videos."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
UCF101_FIXTURE = SHARED_FIXTURES / "ucf101"
HMDB51_FIXTURE = SHARED_FIXTURES / "hmdb51"

needs_shared = pytest.mark.skipif(
    not SHARED_FIXTURES.is_dir(),
    reason=f"the real UCF101/HMDB51 fixtures are not at {SHARED_FIXTURES} (../shared beside the project root)",
)


def real_clips() -> list[tuple[Path, int, float, int, int]]:
    """(path, frames, fps, width, height) of every real clip, read from the fixtures README's table."""
    readme = SHARED_FIXTURES / "README.md"
    if not readme.is_file():
        return []
    rows = []
    for line in readme.read_text().splitlines():
        m = re.match(r"\|\s*((?:ucf101|hmdb51)/[^|]+\.avi)\s*\|\s*(\d+)x(\d+)\s*\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", line)
        if m:
            rows.append((SHARED_FIXTURES / m.group(1).strip(), int(m.group(5)), float(m.group(4)),
                         int(m.group(2)), int(m.group(3))))
    return rows


REAL_CLIPS = real_clips()


def moving_square_frames(t: int = 24, h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of a bright square moving over a smooth background (compresses well)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    base = np.stack([(xx * 3) % 256, (yy * 3) % 256, np.full_like(xx, int(rng.integers(0, 255)))], -1)
    frames = np.repeat(base[None], t, 0).astype(np.uint8)
    for i in range(t):
        x0 = (4 + 2 * i) % (w - 16)
        frames[i, 20:36, x0 : x0 + 16] = (255, 255, 0)
    return frames


@pytest.fixture
def small_video(tmp_path) -> Path:
    from harutils.data.encode import write_video

    return write_video(tmp_path / "v_Test_g01_c01.avi", moving_square_frames(), fps=25)


# Property tests draw the same examples on every machine and run ("seed every test").
from hypothesis import settings  # noqa: E402

settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")
