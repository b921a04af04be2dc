"""SLLMTrainAugmentation (one draw per clip) and the evaluation transform, `SLLMVideoProcessor.transform_frames`
(bicubic resize and rounded crops checked against an independent PIL reference on real frames, 3 crops)."""

import dataclasses

import numpy as np
import pytest
import torch

from modeling_sllm.data.augmentation import SLLMAugmentationParameters, SLLMTrainAugmentation
from modeling_sllm.video_io import read_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor
from PIL import Image
from torchvision.transforms.v2 import functional as tvF
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
# Evaluation transform: SLLMVideoProcessor.transform_frames, checked against an independent PIL reference

# 384x216 (16:9) is resized to 455x256: 455 - 224 is odd, so a floored crop offset is one pixel off (115 vs 116).
REAL_SIZES = ("640x272", "768x576", "320x240", "384x216")


def release_eval_transform(path, short_side=256, crop=224) -> np.ndarray:
    """The authors' evaluation preprocessing written independently with PIL: short side to 256 with PIL BICUBIC
    (long side `int(256 * long / short)`), crop at `round((side - 224) / 2)`, `/ 255`, CLIP mean/std.

    Returns: `np.ndarray` of shape `(crop, crop, 3)`, float64."""
    with Image.open(path) as image:
        image = image.convert("RGB")
    width, height = image.size
    if width <= height:
        size = (short_side, int(short_side * height / width))
    else:
        size = (int(short_side * width / height), short_side)
    image = image.resize(size, Image.BICUBIC)
    left, top = round((size[0] - crop) / 2), round((size[1] - crop) / 2)
    pixels = np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=np.float64) / 255.0
    return (pixels - np.array(OPENAI_CLIP_MEAN)) / np.array(OPENAI_CLIP_STD)


def uint8_levels(values: np.ndarray, reference: np.ndarray) -> float:
    """Largest difference of CLIP-normalised frames `(..., 3)` channels last, in uint8 levels (x std x 255)."""
    return float((np.abs(values - reference) * np.array(OPENAI_CLIP_STD) * 255).max())


@pytest.fixture(scope="module")
def real_frame_folders(bikes_video, tmp_path_factory):
    """JPEG frame folders (`img_00001.jpg`, ... 10 frames) of real camera footage (bikes.mp4): 640x272 as decoded,
    768x576 (a mosaic of six 384x192 tiles), 320x240 and 384x216 (crops)."""
    frames = read_frames(bikes_video, list(range(0, 250, 25)))

    def mosaic(i):
        tiles = [frames[(i + j) % len(frames)][40:232, 40 * j : 40 * j + 384] for j in range(6)]
        return np.concatenate([np.concatenate(tiles[2 * row : 2 * row + 2], axis=1) for row in range(3)], axis=0)

    makers = {
        "640x272": lambda i: frames[i],
        "768x576": mosaic,
        "320x240": lambda i: frames[i][16:256, 150:470],
        "384x216": lambda i: frames[i][28:244, 100:484],
    }
    root = tmp_path_factory.mktemp("real_frames")
    for name, make in makers.items():
        (root / name).mkdir()
        for i in range(len(frames)):
            frame = np.ascontiguousarray(make(i))
            assert f"{frame.shape[1]}x{frame.shape[0]}" == name
            Image.fromarray(frame).save(root / name / f"img_{i + 1:05d}.jpg", quality=90)
    return {name: root / name for name in makers}


@pytest.mark.parametrize("size", REAL_SIZES)
def test_processor_matches_the_pil_bicubic_reference_on_real_frames(real_frame_folders, size):
    folder = real_frame_folders[size]
    out = SLLMVideoProcessor(num_frames=4, keep_interval=2)(str(folder), return_tensors="pt", return_metadata=True)
    ours = out["pixel_values"][0].permute(0, 2, 3, 1).double().numpy()
    files = [folder / f"img_{index + 1:05d}.jpg" for index in out["video_metadata"][0].frames_indices]
    reference = np.stack([release_eval_transform(path) for path in files])
    assert ours.shape == reference.shape == (4, 224, 224, 3)
    assert uint8_levels(ours, reference) <= 2 + 1e-3

    # The tolerance tells the roads apart: the former one (bilinear, floored crop offsets) is far off on these frames.
    frames = torch.from_numpy(np.stack([np.asarray(Image.open(path).convert("RGB")) for path in files]))
    height, width = frames.shape[1:3]
    resized = (256, int(256 * width / height)) if height <= width else (int(256 * height / width), 256)
    old = tvF.resize(frames.permute(0, 3, 1, 2), list(resized), interpolation=tvF.InterpolationMode.BILINEAR)
    top, left = (resized[0] - 224) // 2, (resized[1] - 224) // 2
    old = old[..., top : top + 224, left : left + 224].permute(0, 2, 3, 1).double().numpy() / 255.0
    old = (old - np.array(OPENAI_CLIP_MEAN)) / np.array(OPENAI_CLIP_STD)
    assert uint8_levels(old, reference) > 5


@pytest.mark.parametrize("width, left", [(455, 116), (454, 115), (453, 114), (341, 58), (602, 189)])
def test_crop_offsets_are_rounded_like_torchvision(width, left):
    """`round((W - 224) / 2)` (Python's round, as torchvision's CenterCrop): 455 -> 116 where flooring gives 115."""
    columns = np.arange(width)
    frame = np.zeros((256, width, 3), dtype=np.uint8)
    frame[..., 0], frame[..., 1] = columns % 256, columns // 256  # every column says where it is
    processor = SLLMVideoProcessor(do_resize=False, do_rescale=False, do_normalize=False)

    def first_column(view):  # view (3, 224, 224)
        return int(view[0, 0, 0]) + 256 * int(view[1, 0, 0])

    assert first_column(processor.transform_frames(frame[None])[0, 0]) == left == round((width - 224) / 2)
    # The base-class hook is rounded too, and a portrait frame gets the same offset from the top.
    assert first_column(processor.center_crop(torch.from_numpy(frame).permute(2, 0, 1), processor.crop_size)) == left
    portrait = processor.transform_frames(np.ascontiguousarray(frame.transpose(1, 0, 2))[None])[0, 0]
    assert int(portrait[0, 0, 0]) + 256 * int(portrait[1, 0, 0]) == left


@pytest.mark.parametrize("landscape", [True, False])
def test_three_crops_along_the_long_side(landscape):
    """Crop k starts at column (row) 0, the rounded centre and the end of the long side; crop 1 is the centre crop."""
    height, width = (32, 81) if landscape else (81, 32)
    y, x = np.mgrid[0:height, 0:width]
    frames = np.stack([np.stack([x * 3, y * 3, np.zeros_like(x)], axis=-1).astype(np.uint8)] * 2)
    processor = SLLMVideoProcessor(crop_size=32, do_resize=False, do_rescale=False, do_normalize=False)
    views = processor.transform_frames(frames, num_crops=3)
    assert views.shape == (3, 2, 3, 32, 32)
    channel = 0 if landscape else 1
    assert [int(views[k, 0, channel].min()) // 3 for k in range(3)] == [0, 24, 49]  # round(49 / 2) = 24
    torch.testing.assert_close(views[1], processor.transform_frames(frames)[0], rtol=0, atol=0)


def test_three_crops_of_resized_frames_and_small_frames():
    processor = SLLMVideoProcessor(crop_size=32, do_rescale=False, do_normalize=False)
    frames = clip_frames(num_frames=2, height=48, width=96)
    resized = processor(frames, do_sample_frames=False, do_center_crop=False, return_tensors="pt")["pixel_values"][0]
    assert resized.shape == (2, 3, 37, 74)  # short side round(32 * 256 / 224) = 37, long side int(37 * 2)
    views = processor.transform_frames(frames, num_crops=3)
    for view, left in zip(views, (0, 21, 42)):  # top round(5 / 2) = 2
        torch.testing.assert_close(view, resized[..., 2:34, left : left + 32], rtol=0, atol=0)
    # A short side below the crop is padded with zeros to the crop size.
    small = SLLMVideoProcessor(crop_size=32, size={"shortest_edge": 16}).transform_frames(frames, num_crops=3)
    assert small.shape == (3, 2, 3, 32, 32)


@pytest.mark.parametrize("shape", [(4, 48, 64), (3, 64, 40), (2, 300, 400)])
def test_transform_frames_is_what_the_call_does(shape):
    frames = clip_frames(*shape)
    processor = SLLMVideoProcessor(crop_size=32)
    called = processor(frames, do_sample_frames=False, return_tensors="pt")["pixel_values"][0]
    ours = processor.transform_frames(frames)
    assert ours.shape == (1, shape[0], 3, 32, 32) and ours.dtype == torch.float32
    torch.testing.assert_close(ours[0], called, rtol=0, atol=0)
    three = processor(frames, do_sample_frames=False, num_crops=3, return_tensors="pt")["pixel_values"][0]
    from_tensor = processor.transform_frames(torch.from_numpy(frames), num_crops=3)
    torch.testing.assert_close(from_tensor, three, rtol=0, atol=0)


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
        SLLMVideoProcessor(crop_size=8).transform_frames(frames)


def test_bad_arguments():
    with pytest.raises(TypeError, match="np.random.Generator"):
        SLLMTrainAugmentation(crop_size=8)(clip_frames(num_frames=1), 3407)
    with pytest.raises(ValueError, match="num_crops.*1.*or 3"):
        SLLMVideoProcessor().transform_frames(clip_frames(), num_crops=2)
    with pytest.raises(ValueError, match="crop_size.*>= 1"):
        SLLMVideoProcessor(crop_size=0)
    with pytest.raises(ValueError, match="scales"):
        SLLMTrainAugmentation(scales=(1.0, 1.5))
    with pytest.raises(ValueError, match="flip_prob"):
        SLLMTrainAugmentation(flip_prob=2)
    with pytest.raises(ValueError, match="hue"):
        SLLMTrainAugmentation(hue=0.7)
    with pytest.raises(ValueError, match="image_mean"):
        SLLMVideoProcessor(image_mean=(0.5, 0.5))
    with pytest.raises(ValueError, match="max_distort.*>= 0"):
        SLLMTrainAugmentation(max_distort=-1)
