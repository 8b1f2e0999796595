"""Clip transforms: shapes, one crop for the whole clip, normalisation, and no silent padding."""

from dataclasses import replace

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from harutils.data.transforms import ClipTransform, normalise_clips
from harutils.models.weights import C3D_SPORTS1M, IMAGENET, KINETICS_CAFFE2, UNNORMALISED, Preprocessing


def _frames(t=4, h=48, w=64, views=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (t, h, w, 3) if views is None else (views, t, h, w, 3)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)


def test_shapes_single_clip_and_views():
    assert ClipTransform((32, 32), training=True, preprocessing=UNNORMALISED)(_frames()).shape == (3, 4, 32, 32)
    views = ClipTransform((32, 32), training=False, preprocessing=UNNORMALISED)(_frames(views=5))
    assert views.shape == (5, 3, 4, 32, 32)


def test_one_random_crop_for_every_frame_of_a_clip():
    # a clip whose frames are all the same image must stay identical across time after the random crop
    frame = _frames(t=1)
    clip = frame.expand(6, -1, -1, -1)
    torch.manual_seed(3)
    out = ClipTransform((24, 24), training=True, preprocessing=UNNORMALISED, hflip=True)(clip)
    assert torch.equal(out[:, 0], out[:, 5])


def test_centre_crop_and_imagenet_normalisation():
    frames = _frames(t=2, h=40, w=40)
    out = ClipTransform((20, 20), training=False, preprocessing=IMAGENET)(frames)
    centre = frames[:, 10:30, 10:30].permute(3, 0, 1, 2).float() / 255  # (T, h, w, 3) -> (3, T, h, w)
    mean = torch.tensor(IMAGENET.mean).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET.std).view(3, 1, 1, 1)
    torch.testing.assert_close(out, (centre - mean) / std)


@pytest.mark.parametrize("weights", [IMAGENET, C3D_SPORTS1M, KINETICS_CAFFE2,
                                     Preprocessing("BGR", 255.0, (104.0, 117.0, 123.0), (1.0, 2.0, 4.0))])
@pytest.mark.parametrize("batched", [False, True])
def test_every_weights_normalisation_is_its_formula_and_leaves_the_input_alone(weights, batched):
    clip = torch.rand(2, 3, 4, 6, 5) if batched else torch.rand(3, 4, 6, 5)
    before = clip.clone()
    c = 1 if batched else 0
    shape = [1] * clip.ndim
    shape[c] = 3
    x = clip.flip(c) if weights.channel_order == "BGR" else clip
    mean, std = torch.tensor(weights.mean).view(shape), torch.tensor(weights.std).view(shape)
    torch.testing.assert_close(weights(clip), (x * weights.scale - mean) / std)
    assert torch.equal(clip, before)


@pytest.mark.parametrize("training", [True, False])
def test_frames_smaller_than_the_crop_are_refused_not_padded(training):
    # e.g. frames decoded at a 128-pixel shorter side for a 224-pixel model
    with pytest.raises(ValueError, match="smaller than the 224x224 crop"):
        ClipTransform((224, 224), training=training, preprocessing=UNNORMALISED)(_frames(h=128, w=170))
    with pytest.raises(ValueError, match="smaller than the 224x224 crop"):
        ClipTransform((224, 224), training=training, preprocessing=UNNORMALISED, resize=128)


def test_randaugment_applies_one_policy_to_every_frame_of_a_clip():
    """RandAugment for video: the sampled operations and magnitudes are the clip's, not each frame's."""
    clip = _frames(t=1).expand(6, -1, -1, -1)  # six copies of one image
    plain = ClipTransform((32, 32), training=True, preprocessing=UNNORMALISED, crop=False)
    augmented = ClipTransform((32, 32), training=True, preprocessing=UNNORMALISED, crop=False, randaugment=True)
    changed = 0
    for seed in range(8):
        torch.manual_seed(seed)
        out = augmented(clip)
        assert all(torch.equal(out[:, 0], out[:, t]) for t in range(1, 6)), f"seed {seed}: frames augmented apart"
        changed += not torch.equal(out, plain(clip))
    assert changed >= 6, "RandAugment left most clips unchanged"
    evaluation = ClipTransform((32, 32), training=False, preprocessing=UNNORMALISED, crop=False, randaugment=True)
    torch.testing.assert_close(evaluation(clip), plain(clip))  # never at test time


class _Clips(Dataset):
    def __init__(self, transform):
        self.transform = transform

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return self.transform(_frames(t=4, views=2, seed=i))


@pytest.mark.parametrize("weights", [IMAGENET, KINETICS_CAFFE2, UNNORMALISED,
                                     Preprocessing("BGR", 255.0, (104.0, 117.0, 123.0), (1.0, 2.0, 4.0))])
@pytest.mark.parametrize("subtract_mean_frame", [False, True])
def test_uint8_clips_finish_a_batch_at_a_time_to_the_values_of_clips_normalised_one_by_one(weights,
                                                                                           subtract_mean_frame):
    """The engine's clips come as uint8 from a worker as from the main process, and normalising the collated batch
    gives exactly what normalising each clip in the transform gives."""
    t = ClipTransform((32, 32), training=False, preprocessing=weights, subtract_mean_frame=subtract_mean_frame,
                      uint8_clips=True)
    one_by_one = torch.stack([_Clips(replace(t, uint8_clips=False))[i] for i in range(3)])
    assert one_by_one.dtype == torch.float32
    in_main = torch.stack([_Clips(t)[i] for i in range(3)])
    (from_worker,) = list(DataLoader(_Clips(t), batch_size=3, num_workers=1))
    assert from_worker.dtype == in_main.dtype == torch.uint8 and torch.equal(from_worker, in_main)
    assert from_worker.shape == one_by_one.shape == (3, 2, 3, 4, 32, 32)
    assert torch.equal(normalise_clips(from_worker, weights, subtract_mean_frame), one_by_one)
    (default,) = list(DataLoader(_Clips(replace(t, uint8_clips=False)), batch_size=3, num_workers=1))
    assert torch.equal(default, one_by_one)  # without the option a worker normalises, to the same values
