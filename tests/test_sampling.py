"""Property tests of the frame samplers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harutils.data.sampling import Clip, MultiClip, UniformFrames

frames = st.integers(min_value=1, max_value=600)
seeds = st.integers(min_value=0, max_value=2**31)

SAMPLERS = st.one_of(
    st.builds(UniformFrames, n=st.integers(1, 12)),
    st.builds(Clip, length=st.integers(1, 32), stride=st.integers(1, 4),
              short=st.sampled_from(["loop", "repeat_last"])),
    st.builds(MultiClip, k=st.integers(1, 10), length=st.integers(1, 32), stride=st.integers(1, 3),
              short=st.sampled_from(["loop", "repeat_last"])),
)


def _long_enough(sampler, n):
    if isinstance(sampler, UniformFrames):
        return n >= sampler.n
    return n >= (sampler.length - 1) * sampler.stride + 1


@settings(max_examples=300, deadline=None)
@given(sampler=SAMPLERS, n=frames, seed=seeds, training=st.booleans())
def test_indices_in_range_and_shaped(sampler, n, seed, training):
    idx = sampler(n, training, np.random.default_rng(seed))
    assert idx.shape == (sampler.num_views, sampler.frames_per_view)
    assert idx.dtype == np.int64
    assert idx.min() >= 0 and idx.max() < n


@settings(max_examples=300, deadline=None)
@given(sampler=SAMPLERS, n=frames, seed=seeds, training=st.booleans())
def test_indices_ordered(sampler, n, seed, training):
    idx = sampler(n, training, np.random.default_rng(seed))
    if _long_enough(sampler, n) or getattr(sampler, "short", None) == "repeat_last" or isinstance(
        sampler, UniformFrames
    ):
        assert (np.diff(idx, axis=1) >= 0).all()
        if _long_enough(sampler, n):
            assert (np.diff(idx, axis=1) > 0).all()  # distinct frames when the video is long enough


@settings(max_examples=200, deadline=None)
@given(sampler=SAMPLERS, n=frames, seed=seeds)
def test_eval_mode_is_deterministic(sampler, n, seed):
    a = sampler(n, False, np.random.default_rng(seed))
    b = sampler(n, False, np.random.default_rng(seed + 1))
    assert np.array_equal(a, b)


def test_uniform_frames_one_per_segment():
    assert UniformFrames(5)(100).tolist() == [[10, 30, 50, 70, 90]]
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = UniformFrames(5)(100, True, rng)[0]
        assert all(20 * k <= i < 20 * (k + 1) for k, i in enumerate(idx))


def test_clip_centre_and_random_start():
    assert Clip(16)(100).tolist() == [list(range(42, 58))]
    assert Clip(4, stride=2)(10).tolist() == [[1, 3, 5, 7]]
    starts = {int(Clip(16)(40, True, np.random.default_rng(s))[0, 0]) for s in range(200)}
    assert starts == set(range(0, 25))


def test_multiclip_spans_the_video():
    idx = MultiClip(5, 16)(100)
    assert idx[:, 0].tolist() == [0, 21, 42, 63, 84] and idx[-1, -1] == 99


def test_short_video_policies():
    assert Clip(6, short="loop")(4).tolist() == [[0, 1, 2, 3, 0, 1]]
    assert Clip(6, short="repeat_last")(4).tolist() == [[0, 1, 2, 3, 3, 3]]
    assert UniformFrames(5)(3).tolist() == [[0, 0, 1, 1, 2]]  # integer segment edges 0, 0, 1, 1, 2, 3
    with pytest.raises(ValueError, match="at least one frame"):
        Clip()(0)
