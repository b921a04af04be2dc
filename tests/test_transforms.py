"""SLLMTrainAugmentation (one draw per clip) and SLLMEvalTransform (centre crop = SLLMVideoProcessor, 3 crops)."""

import dataclasses

import numpy as np
import pytest
import torch

from modeling_sllm.data.augmentation import SLLMAugmentationParameters, SLLMEvalTransform, SLLMTrainAugmentation
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD


STD = torch.tensor(OPENAI_CLIP_STD)[:, None, None]


def clip_frames(num_frames=6, height=48, width=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8)


def geometric_only(**kwargs):
    """An augmentation that only crops and flips (no colour changes), to check frames by content."""
    return SLLMTrainAugmentation(color_jitter_prob=0.0, grayscale_prob=0.0, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# Training augmentation


@pytest.mark.parametrize("as_tensor", [False, True])
def test_train_shape_dtype(as_tensor):
    frames = clip_frames(num_frames=5, height=40, width=56)
    if as_tensor:
        frames = torch.from_numpy(frames)
    out = SLLMTrainAugmentation(crop_size=32)(frames, np.random.default_rng(0))
    assert out.shape == (5, 3, 32, 32) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_identical_frames_stay_identical():
    """One draw for the whole clip: identical input frames give identical outputs, whatever the draw."""
    frame = clip_frames(num_frames=1, height=40, width=56)[0]
    frames = np.stack([frame] * 4)
    augment = SLLMTrainAugmentation(crop_size=32, color_jitter_prob=1.0, grayscale_prob=0.5)
    for seed in range(12):
        out = augment(frames, np.random.default_rng(seed))
        for t in range(1, 4):
            torch.testing.assert_close(out[t], out[0], rtol=0, atol=0)


def test_crop_and_flip_shared_by_content():
    """Frame t = frame 0 + 6t (no clipping): outputs differ by a constant per channel only if crop/flip are shared."""
    base = np.random.default_rng(1).integers(0, 180, (40, 56, 3), dtype=np.uint8)
    frames = np.stack([base + 6 * t for t in range(6)]).astype(np.uint8)
    augment = geometric_only(crop_size=32)
    flips = set()
    for seed in range(16):
        parameters = augment.sample_parameters(40, 56, np.random.default_rng(seed))
        flips.add(parameters.flip)
        out = augment(frames, np.random.default_rng(seed))
        for t in range(1, 6):
            expected_shift = (6 * t / 255.0) / STD
            # uint8 rounding of the resize: at most 1 grey level per pixel.
            assert ((out[t] - out[0]) - expected_shift).abs().max() <= 1.01 / 255.0 / STD.min()
    assert flips == {True, False}  # both branches were exercised


def test_frame_order_does_not_change_the_draw():
    """The output of a frame depends only on the frame and the clip's draw, not on its position in the clip."""
    frames = clip_frames(num_frames=5)
    permutation = [3, 0, 4, 1, 2]
    augment = SLLMTrainAugmentation(crop_size=32, color_jitter_prob=1.0, grayscale_prob=0.5)
    for seed in range(4):
        out = augment(frames, np.random.default_rng(seed))
        permuted = augment(frames[permutation], np.random.default_rng(seed))
        torch.testing.assert_close(permuted, out[permutation], rtol=0, atol=1e-6)


def test_call_is_sample_then_apply_per_frame():
    frames = clip_frames(num_frames=4)
    augment = SLLMTrainAugmentation(crop_size=32, color_jitter_prob=1.0)
    out = augment(frames, np.random.default_rng(7))
    parameters = augment.sample_parameters(48, 64, np.random.default_rng(7))
    for t in range(4):
        torch.testing.assert_close(out[t : t + 1], augment.apply(frames[t : t + 1], parameters), rtol=0, atol=1e-6)


def test_determinism_and_different_draws():
    frames = clip_frames()
    augment = SLLMTrainAugmentation(crop_size=32)
    first = augment(frames, np.random.default_rng(3407))
    torch.testing.assert_close(augment(frames, np.random.default_rng(3407)), first, rtol=0, atol=0)
    others = [augment(frames, np.random.default_rng(seed)) for seed in range(6)]
    assert sum(not torch.equal(other, first) for other in others) >= 5
    # One generator across clips: consecutive clips get different draws.
    rng = np.random.default_rng(0)
    assert not torch.equal(augment(frames, rng), augment(frames, rng))


def test_same_number_of_draws_per_call():
    """Every call consumes the same amount of randomness, whatever the frame size and the outcome."""
    augment = SLLMTrainAugmentation(crop_size=32, fix_crop=False)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    augment(clip_frames(num_frames=2, height=40, width=56), rng_a)
    augment(clip_frames(num_frames=3, height=97, width=33), rng_b)
    assert rng_a.random() == rng_b.random()


def test_parameter_distribution():
    augment = SLLMTrainAugmentation(crop_size=64)
    height, width = 100, 140
    lengths = {int(100 * scale) for scale in augment.scales}
    lengths = {64 if abs(length - 64) < 3 else length for length in lengths}
    rng = np.random.default_rng(0)
    draws = [augment.sample_parameters(height, width, rng) for _ in range(400)]
    sorted_lengths = sorted(lengths, reverse=True)
    grid_lefts, grid_tops = set(), set()
    for p in draws:
        assert isinstance(p, SLLMAugmentationParameters)
        assert p.crop_height in lengths and p.crop_width in lengths
        assert abs(sorted_lengths.index(p.crop_height) - sorted_lengths.index(p.crop_width)) <= augment.max_distort
        assert 0 <= p.crop_top <= height - p.crop_height and 0 <= p.crop_left <= width - p.crop_width
        # TSN grid: offsets are multiples of a quarter of the free space.
        assert p.crop_left % max(1, (width - p.crop_width) // 4) == 0
        assert p.crop_top % max(1, (height - p.crop_height) // 4) == 0
        assert sorted(p.jitter_order) == sorted(["brightness", "contrast", "saturation", "hue"])
        assert 0.6 <= p.brightness <= 1.4 and 0.6 <= p.contrast <= 1.4 and 0.8 <= p.saturation <= 1.2
        assert -0.1 <= p.hue <= 0.1
        grid_lefts.add(p.crop_left * 4 // max(1, width - p.crop_width))
        grid_tops.add(p.crop_top * 4 // max(1, height - p.crop_height))
    assert grid_lefts == {0, 1, 2, 3, 4} and grid_tops == {0, 1, 2, 3, 4}
    assert 0.4 < np.mean([p.flip for p in draws]) < 0.6
    assert 0.7 < np.mean([p.color_jitter for p in draws]) < 0.9
    assert 0.12 < np.mean([p.grayscale for p in draws]) < 0.28
    assert len({p.jitter_order for p in draws}) > 12  # random order of the four operations


def test_random_offsets_and_no_distortion():
    augment = SLLMTrainAugmentation(crop_size=32, fix_crop=False, max_distort=0)
    rng = np.random.default_rng(0)
    offsets = set()
    for _ in range(200):
        p = augment.sample_parameters(50, 90, rng)
        assert p.crop_height == p.crop_width  # max_distort=0: square windows
        assert 0 <= p.crop_top <= 50 - p.crop_height and 0 <= p.crop_left <= 90 - p.crop_width
        offsets.add((p.crop_top, p.crop_left))
    assert len(offsets) > 100


def test_apply_crop_flip_and_grayscale():
    """The parameters act as documented: the crop window, a mirror image, three equal channels."""
    frames = clip_frames(num_frames=2, height=40, width=56)
    augment = geometric_only(crop_size=24)
    parameters = SLLMAugmentationParameters(
        crop_top=8, crop_left=16, crop_height=24, crop_width=24, flip=False, color_jitter=False,
        jitter_order=("brightness", "contrast", "saturation", "hue"), brightness=1.0, contrast=1.0, saturation=1.0,
        hue=0.0, grayscale=False,
    )  # fmt: skip
    out = augment.apply(frames, parameters)
    window = torch.from_numpy(frames[:, 8:32, 16:40]).permute(0, 3, 1, 2).float() / 255.0
    expected = (window - torch.tensor(OPENAI_CLIP_MEAN)[:, None, None]) / STD
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)
    flipped = augment.apply(frames, dataclasses.replace(parameters, flip=True))
    torch.testing.assert_close(flipped, out.flip(-1), rtol=0, atol=0)
    gray = augment.apply(frames, dataclasses.replace(parameters, grayscale=True))
    unnormalised = gray * STD + torch.tensor(OPENAI_CLIP_MEAN)[:, None, None]
    torch.testing.assert_close(unnormalised[:, 0], unnormalised[:, 1], rtol=0, atol=1e-5)
    torch.testing.assert_close(unnormalised[:, 0], unnormalised[:, 2], rtol=0, atol=1e-5)


def test_small_frames_are_resized_up():
    out = SLLMTrainAugmentation(crop_size=32)(clip_frames(num_frames=2, height=5, width=3), np.random.default_rng(0))
    assert out.shape == (2, 3, 32, 32)
    out = SLLMTrainAugmentation(crop_size=32)(clip_frames(num_frames=1, height=1, width=1), np.random.default_rng(0))
    assert out.shape == (1, 3, 32, 32)


# --------------------------------------------------------------------------------------------------------------------
# Evaluation transform


@pytest.mark.parametrize("shape", [(4, 48, 64), (3, 64, 40), (2, 20, 26), (2, 300, 400)])
@pytest.mark.parametrize("crop_size", [32, 224])
def test_eval_centre_crop_equals_video_processor(shape, crop_size):
    frames = clip_frames(*shape)
    ours = SLLMEvalTransform(crop_size=crop_size)(frames)
    processor = SLLMVideoProcessor(crop_size={"height": crop_size, "width": crop_size})
    reference = processor(frames, do_sample_frames=False, return_tensors="pt")["pixel_values"]
    assert ours.shape == (1, shape[0], 3, crop_size, crop_size) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-5)


def test_eval_default_short_side():
    assert SLLMEvalTransform().short_side == 256
    assert SLLMEvalTransform(crop_size=336).short_side == 384
    assert SLLMEvalTransform(crop_size=32).short_side == 37
    assert SLLMEvalTransform().resized_size(240, 320) == (256, 341)


@pytest.mark.parametrize("landscape", [True, False])
def test_three_crops_along_the_long_side(landscape):
    """No resize (short side = crop): crop k must start at column (row) 0, centre, end of the long side."""
    height, width = (32, 80) if landscape else (80, 32)
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([x * 3, y * 3, np.zeros_like(x)], axis=-1).astype(np.uint8)
    frames = np.stack([frame, frame])
    transform = SLLMEvalTransform(crop_size=32, short_side=32, num_crops=3, image_mean=0.0, image_std=1 / 255)
    views = transform(frames)
    assert views.shape == (3, 2, 3, 32, 32)
    axis_channel, axis = (0, -1) if landscape else (1, -2)
    starts = [int(views[k, 0, axis_channel].amin().item()) // 3 for k in range(3)]
    assert starts == [0, 24, 48]
    # The other axis is centred (no free space here) and crop 1 is the centre crop.
    centre = SLLMEvalTransform(crop_size=32, short_side=32, image_mean=0.0, image_std=1 / 255)(frames)
    torch.testing.assert_close(views[1], centre[0], rtol=0, atol=0)
    expected_offsets = [(0, 0), (0, 24), (0, 48)] if landscape else [(0, 0), (24, 0), (48, 0)]
    assert transform.crop_offsets(height, width) == expected_offsets
    assert views.shape[axis] == 32


def test_three_crops_on_resized_frames():
    transform = SLLMEvalTransform(crop_size=32, num_crops=3)
    views = transform(clip_frames(num_frames=2, height=48, width=96))
    assert views.shape == (3, 2, 3, 32, 32)
    assert transform.resized_size(48, 96) == (37, 74)
    assert transform.crop_offsets(37, 74) == [(2, 0), (2, 21), (2, 42)]
    assert not torch.equal(views[0], views[2])


def test_eval_small_frames_and_short_side_below_crop():
    out = SLLMEvalTransform(crop_size=32)(clip_frames(num_frames=2, height=6, width=9))
    assert out.shape == (1, 2, 3, 32, 32)
    out = SLLMEvalTransform(crop_size=32, short_side=16, num_crops=3)(clip_frames(num_frames=2, height=40, width=60))
    assert out.shape == (3, 2, 3, 32, 32)


# --------------------------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.zeros((2, 8, 8, 3), dtype=np.float32), "dtype float32"),
        (torch.zeros((2, 8, 8, 3)), "dtype torch.float32"),
        (np.zeros((2, 3, 8, 8), dtype=np.uint8), r"shape \(2, 3, 8, 8\)"),
        (np.zeros((8, 8, 3), dtype=np.uint8), r"shape \(8, 8, 3\)"),
        (np.zeros((0, 8, 8, 3), dtype=np.uint8), r"shape \(0, 8, 8, 3\)"),
        ([[1, 2, 3]], "list"),
    ],
)
def test_bad_frames(frames, message):
    with pytest.raises(ValueError, match=message):
        SLLMTrainAugmentation(crop_size=8)(frames, np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        SLLMEvalTransform(crop_size=8)(frames)


def test_bad_arguments():
    with pytest.raises(TypeError, match="np.random.Generator"):
        SLLMTrainAugmentation(crop_size=8)(clip_frames(num_frames=1), 3407)
    with pytest.raises(ValueError, match="num_crops"):
        SLLMEvalTransform(num_crops=2)
    with pytest.raises(ValueError, match="crop_size"):
        SLLMEvalTransform(crop_size=0)
    with pytest.raises(ValueError, match="scales"):
        SLLMTrainAugmentation(scales=(1.0, 1.5))
    with pytest.raises(ValueError, match="flip_prob"):
        SLLMTrainAugmentation(flip_prob=2)
    with pytest.raises(ValueError, match="hue"):
        SLLMTrainAugmentation(hue=0.7)
    with pytest.raises(ValueError, match="image_mean"):
        SLLMEvalTransform(image_mean=(0.5, 0.5))
