"""The offline demo dataset: real mp4 files, consistent lists and labels, determinism, time-reversed class pairs."""

import os
from pathlib import Path

import numpy as np
import pytest

from modeling_sllm.demo.data import (
    DEMO_CLASSES,
    MARKER_FILE,
    demo_clip_rng,
    generate_demo_dataset,
    render_demo_clip,
)
from modeling_sllm.text_features import read_label_file
from modeling_sllm.video_io import count_frames, read_frames


NUM_FRAMES, SIZE = 12, 32
SMALL = dict(num_train_per_class=2, num_val_per_class=1, num_frames=NUM_FRAMES, size=SIZE, seed=3)
CLASS_NAMES = [name for name, _ in DEMO_CLASSES]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate_demo_dataset(tmp_path_factory.mktemp("demo") / "data", **SMALL)


def read_list(path):
    with open(path, encoding="utf-8") as handle:
        return [line.split() for line in handle if line.strip()]


def centroids(masks):
    """`(T, 2)` (x, y) centroids of `(T, H, W)` coverage masks."""
    y, x = np.mgrid[0 : masks.shape[1], 0 : masks.shape[2]]
    total = masks.sum(axis=(1, 2))
    return np.stack([(masks * x).sum(axis=(1, 2)) / total, (masks * y).sum(axis=(1, 2)) / total], axis=1)


def test_classes_are_time_reversed_pairs():
    assert 8 <= len(DEMO_CLASSES) <= 12 and len(DEMO_CLASSES) % 2 == 0
    assert len(set(CLASS_NAMES)) == len(CLASS_NAMES)
    assert all(isinstance(description, str) and description for _, description in DEMO_CLASSES)


def test_layout_labels_and_lists(dataset):
    root = Path(dataset["root"])
    assert set(dataset) == {"root", "train_dir", "validation_dir", "train_list", "validation_list", "label_file"}
    labels = read_label_file(dataset["label_file"])
    assert [(label.name, label.description) for label in labels] == DEMO_CLASSES
    for split, per_class in (("train", 2), ("validation", 1)):
        split_dir = Path(dataset[f"{split}_dir"])
        assert split_dir == root / split
        assert sorted(entry.name for entry in split_dir.iterdir()) == sorted(CLASS_NAMES)
        rows = read_list(dataset[f"{split}_list"])
        assert len(rows) == per_class * len(DEMO_CLASSES)
        listed = set()
        for path, num_frames, label in rows:
            assert not os.path.isabs(path) and (root / path).is_file()
            assert Path(path).parts[:2] == (split, CLASS_NAMES[int(label)])  # the label is the folder's class
            assert int(num_frames) == NUM_FRAMES
            listed.add(root / path)
        assert listed == set(split_dir.glob("*/*.mp4"))  # every file is listed, once
    assert (root / MARKER_FILE).is_file()
    assert not [entry for entry in root.parent.iterdir() if entry.name.startswith(".data.tmp")]  # no staging left


def test_files_decode_to_the_rendered_frames(dataset):
    root = Path(dataset["root"])
    for path, _, label in read_list(dataset["train_list"]) + read_list(dataset["validation_list"]):
        assert count_frames(root / path) == NUM_FRAMES
    # The file holds the render of its generator, up to H.264 (crf 18, 4:2:0 chroma) on per-pixel noise: compare
    # 4x4 block means, and check that another clip of the class is far off.
    path = root / "validation" / "rotating_clockwise" / "rotating_clockwise_v000.mp4"
    decoded = read_frames(path, list(range(NUM_FRAMES)))
    assert decoded.shape == (NUM_FRAMES, SIZE, SIZE, 3) and decoded.dtype == np.uint8

    def blocks(frames):
        return frames.astype(np.float64).reshape(NUM_FRAMES, SIZE // 4, 4, SIZE // 4, 4, 3).mean(axis=(2, 4))

    clip = render_demo_clip("rotating_clockwise", demo_clip_rng(3, "validation", 6, 0), NUM_FRAMES, SIZE)
    other = render_demo_clip("rotating_clockwise", demo_clip_rng(3, "validation", 6, 1), NUM_FRAMES, SIZE)
    assert np.abs(blocks(decoded) - blocks(clip.frames)).mean() < 4
    assert np.abs(blocks(decoded) - blocks(other.frames)).mean() > 20


def test_same_seed_same_frames(dataset, tmp_path):
    # Fewer videos per split, same seed: the common videos are identical (per-video generators).
    other = generate_demo_dataset(tmp_path / "again", **{**SMALL, "num_train_per_class": 1})
    for relative in ("train/moving_up/moving_up_t000.mp4", "validation/fading_out/fading_out_v000.mp4"):
        first = read_frames(Path(dataset["root"]) / relative, list(range(NUM_FRAMES)))
        second = read_frames(Path(other["root"]) / relative, list(range(NUM_FRAMES)))
        np.testing.assert_array_equal(first, second)
        assert (Path(dataset["root"]) / relative).read_bytes() == (Path(other["root"]) / relative).read_bytes()
    # Another seed gives other videos.
    clip_a = render_demo_clip("growing", demo_clip_rng(3, "train", 4, 0), NUM_FRAMES, SIZE)
    clip_b = render_demo_clip("growing", demo_clip_rng(4, "train", 4, 0), NUM_FRAMES, SIZE)
    assert not np.array_equal(clip_a.frames, clip_b.frames)
    # Train and validation videos differ.
    clip_v = render_demo_clip("growing", demo_clip_rng(3, "validation", 4, 0), NUM_FRAMES, SIZE)
    assert not np.array_equal(clip_a.frames, clip_v.frames)


def test_clips_encode_to_the_same_bytes_in_every_process(tmp_path):
    """libx264 with its macroblock tree gave other bytes in another process for about a third of these clips."""
    import hashlib
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from modeling_sllm.demo.data import demo_clip_rng, render_demo_clip, write_mp4\n"
        "for c in range(4):\n"
        "    for v in range(3):\n"
        "        clip = render_demo_clip(c, demo_clip_rng(0, 'train', c, v), 32, 64)\n"
        "        write_mp4(f'{sys.argv[1]}/{c}_{v}.mp4', clip.frames)\n"
    )
    digests = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        subprocess.run([sys.executable, "-c", script, str(folder)], check=True, timeout=120)
        digests.append({path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.glob("*.mp4")})
    assert len(digests[0]) == 12 and digests[0] == digests[1]


@pytest.mark.parametrize("pair", range(len(DEMO_CLASSES) // 2))
def test_second_class_of_a_pair_is_the_first_reversed(pair):
    for seed in range(3):
        first = render_demo_clip(2 * pair, np.random.default_rng(seed), num_frames=NUM_FRAMES, size=SIZE)
        second = render_demo_clip(2 * pair + 1, np.random.default_rng(seed), num_frames=NUM_FRAMES, size=SIZE)
        np.testing.assert_array_equal(second.frames, first.frames[::-1])
        np.testing.assert_array_equal(second.masks, first.masks[::-1])


def test_motion_directions():
    """Each class moves its shape the way its name says; a reversed clip of class A moves like class B."""
    for seed in range(4):
        clips = {
            name: render_demo_clip(name, np.random.default_rng(seed), num_frames=NUM_FRAMES, size=SIZE)
            for name in CLASS_NAMES
        }
        steps = {name: np.diff(centroids(clip.masks), axis=0) for name, clip in clips.items()}
        assert (steps["moving_left"][:, 0] < 0).all() and (steps["moving_right"][:, 0] > 0).all()
        assert (steps["moving_up"][:, 1] < 0).all() and (steps["moving_down"][:, 1] > 0).all()
        # No drift across the motion (up to the pixel grid of the rasterised outline).
        assert np.abs(steps["moving_left"][:, 1]).max() < 0.25 and np.abs(steps["moving_up"][:, 0]).max() < 0.25
        # Reversing the frames of a video of class A gives the centroid motion of class B.
        reversed_steps = np.diff(centroids(clips["moving_left"].masks[::-1]), axis=0)
        assert (reversed_steps[:, 0] > 0).all()
        area = {name: clip.masks.sum(axis=(1, 2)) for name, clip in clips.items()}
        assert (np.diff(area["growing"]) > 0).all() and (np.diff(area["shrinking"]) < 0).all()
        assert area["growing"][-1] > 2 * area["growing"][0]
        assert (np.diff(clips["rotating_clockwise"].angles) > 0).all()  # y down: increasing angle is clockwise
        assert (np.diff(clips["rotating_counterclockwise"].angles) < 0).all()
        assert (np.diff(clips["fading_in"].alphas) > 0).all() and (np.diff(clips["fading_out"].alphas) < 0).all()
        for name in ("moving_left", "growing", "rotating_clockwise", "fading_in"):
            assert clips[name].frames.shape == (NUM_FRAMES, SIZE, SIZE, 3) and clips[name].frames.dtype == np.uint8


def test_rotation_is_visible_in_the_pixels():
    """The marker disc turns with the shape: its pixels (far from the shape's colour) rotate around the centre."""
    clip = render_demo_clip("rotating_clockwise", np.random.default_rng(0), num_frames=NUM_FRAMES, size=64)
    first, last = clip.frames[0].astype(np.float64), clip.frames[-1].astype(np.float64)
    inside = (clip.masks[0] > 0.99) & (clip.masks[-1] > 0.99)
    assert np.abs(first - last)[inside].max() > 100  # the marker moved inside the (unchanged) outline


def test_reuse_rebuild_and_safety(tmp_path):
    tiny = dict(num_train_per_class=1, num_val_per_class=1, num_frames=8, size=16)
    root = tmp_path / "demo"
    paths = generate_demo_dataset(root, **tiny)
    video = Path(paths["root"]) / read_list(paths["train_list"])[0][0]
    os.utime(video, (1, 1))
    # Complete and same parameters: reused, nothing rewritten.
    assert generate_demo_dataset(root, **tiny) == paths
    assert video.stat().st_mtime == 1
    # overwrite=True rebuilds.
    generate_demo_dataset(root, overwrite=True, **tiny)
    assert video.stat().st_mtime != 1
    # An incomplete dataset (no marker) is rebuilt.
    os.utime(video, (1, 1))
    (root / MARKER_FILE).unlink()
    generate_demo_dataset(root, **tiny)
    assert video.stat().st_mtime != 1 and (root / MARKER_FILE).is_file()
    # Other parameters: rebuilt with them.
    generate_demo_dataset(root, **{**tiny, "num_frames": 10})
    assert count_frames(video) == 10 and read_list(paths["train_list"])[0][1] == "10"
    # A folder holding anything else is never deleted.
    (root / MARKER_FILE).unlink()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        generate_demo_dataset(root, **tiny)
    assert (root / "notes.txt").read_text() == "mine"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["demo"]  # staging folders cleaned up


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="even"):
        generate_demo_dataset(tmp_path / "odd", size=33)
    with pytest.raises(ValueError, match="num_train_per_class"):
        generate_demo_dataset(tmp_path / "none", num_train_per_class=0)
    with pytest.raises(ValueError, match="Unknown demo class"):
        render_demo_clip("jumping", np.random.default_rng(0))
    with pytest.raises(ValueError, match="`num_frames` must be an integer >= 2"):
        render_demo_clip("growing", np.random.default_rng(0), num_frames=1)
    with pytest.raises(ValueError, match="`size` must be an integer >= 16"):
        render_demo_clip("growing", np.random.default_rng(0), size=8)
    with pytest.raises(ValueError, match="split"):
        demo_clip_rng(0, "test", 0, 0)
    assert not list(tmp_path.iterdir())


def test_cli(tmp_path, capsys):
    from modeling_sllm.demo import cli as module

    root = tmp_path / "cli"
    args = ["--root", str(root), "--num_train_per_class", "1", "--num_val_per_class", "1", "--num_frames", "8"]
    paths = module.main(args + ["--size", "16"])
    assert paths["root"] == str(root) and len(read_list(paths["validation_list"])) == len(DEMO_CLASSES)
    assert "10 classes, 20 videos" in capsys.readouterr().out
