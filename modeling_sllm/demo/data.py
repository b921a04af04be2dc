# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""A small, deterministic, offline video classification dataset of moving and transforming shapes.

Every clip shows one shape (circle, square or triangle, in a random colour, with a small marker disc that makes its
orientation visible) on a random textured, noisy background. The class is the shape's motion: moving left / right /
up / down, growing / shrinking, rotating clockwise / counter-clockwise, fading in / out. Classes come in pairs that
are the time reversal of each other, so that a single frame (or an unordered set of frames) says nothing about the
class: a model must use the temporal order, which is what SLLM's temporal head and restored frames are for.

A horizontal flip turns "moving_left" into "moving_right" and "rotating_clockwise" into "rotating_counterclockwise":
train on this dataset without flips (`SLLMTrainAugmentation(flip_prob=0.0)`), as Text4Vis does for direction-sensitive
datasets such as Something-Something.

[`generate_demo_dataset`] writes real H.264 mp4 files (PyAV, yuv420p) in the layout and list formats that the
training script reads:

```
root/
    labels.txt                       id;name;description, one class a line
    train.txt, validation.txt        `path num_frames label`, paths relative to root (the release's list format)
    train/<class_name>/<class_name>_t000.mp4, ...
    validation/<class_name>/<class_name>_v000.mp4, ...
    .sllm_demo_complete              written last: the generation parameters (JSON)
```

The same arguments always give the same frames: each clip has its own random generator ([`demo_clip_rng`], seeded
from `(seed, split, class, index)`), so adding videos to a split does not change the existing ones.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
from transformers.utils import logging

from modeling_sllm.checks import check_positive_int
from modeling_sllm.video_io import count_frames


logger = logging.get_logger(__name__)

__all__ = [
    "DEMO_CLASSES",
    "DemoClip",
    "demo_clip_rng",
    "generate_demo_dataset",
    "prepare_demo_data",
    "render_demo_clip",
    "write_mp4",
]

# (name, description). Classes 2i and 2i+1 are the time reversal of each other.
DEMO_CLASSES: list[tuple[str, str]] = [
    ("moving_left", "a shape sliding from the right side of the frame to the left side"),
    ("moving_right", "a shape sliding from the left side of the frame to the right side"),
    ("moving_up", "a shape sliding from the bottom of the frame to the top"),
    ("moving_down", "a shape sliding from the top of the frame to the bottom"),
    ("growing", "a shape that gets bigger and bigger"),
    ("shrinking", "a shape that gets smaller and smaller"),
    ("rotating_clockwise", "a shape turning clockwise around its centre"),
    ("rotating_counterclockwise", "a shape turning counter-clockwise around its centre"),
    ("fading_in", "a shape slowly appearing out of the background"),
    ("fading_out", "a shape slowly disappearing into the background"),
]

SHAPES = ("circle", "square", "triangle")
MARKER_FILE = ".sllm_demo_complete"
SPLITS = ("train", "validation")
_SPLIT_CODES = {"train": 0, "validation": 1}
_SPLIT_SUFFIX = {"train": "t", "validation": "v"}
_DATASET_ENTRIES = {"train", "validation", "labels.txt", "train.txt", "validation.txt", MARKER_FILE}
_FORMAT_VERSION = 2  # 2: encoded without the macroblock tree (reproducible across processes)


class DemoClip(NamedTuple):
    """
    A rendered demo clip and the geometry of its shape in every frame.

    Attributes:
        frames (`np.ndarray` of shape `(T, size, size, 3)`, dtype uint8): RGB frames.
        centers (`np.ndarray` of shape `(T, 2)`): `(x, y)` centre of the shape, in pixels (y grows downwards).
        radii (`np.ndarray` of shape `(T,)`): circumradius of the shape, in pixels.
        angles (`np.ndarray` of shape `(T,)`): orientation in radians, increasing clockwise on screen.
        alphas (`np.ndarray` of shape `(T,)`): opacity of the shape in [0, 1].
        masks (`np.ndarray` of shape `(T, size, size)`, float32): fraction of each pixel covered by the shape.
        shape (`str`): "circle", "square" or "triangle".
    """

    frames: np.ndarray
    centers: np.ndarray
    radii: np.ndarray
    angles: np.ndarray
    alphas: np.ndarray
    masks: np.ndarray
    shape: str


def demo_clip_rng(seed: int, split: str, class_index: int, video_index: int) -> np.random.Generator:
    """The generator of video `video_index` of class `class_index` in `split` ("train" or "validation")."""
    if split not in _SPLIT_CODES:
        raise ValueError(f"`split` must be one of {list(_SPLIT_CODES)}, got {split!r}")
    return np.random.default_rng([int(seed), _SPLIT_CODES[split], int(class_index), int(video_index)])


def _class_index(label) -> int:
    if isinstance(label, str):
        names = [name for name, _ in DEMO_CLASSES]
        if label not in names:
            raise ValueError(f"Unknown demo class {label!r}; the classes are {names}")
        return names.index(label)
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < len(DEMO_CLASSES):
        raise ValueError(f"A demo class is a name or an index in [0, {len(DEMO_CLASSES) - 1}], got {label!r}")
    return int(label)


def _hsv_to_rgb(hue: float, saturation: float, value: float) -> np.ndarray:
    """One HSV colour (all in [0, 1]) as RGB floats in [0, 255]."""
    sector = (hue * 6.0) % 6.0
    chroma = value * saturation
    second = chroma * (1 - abs(sector % 2 - 1))
    rgb = [
        (chroma, second, 0),
        (second, chroma, 0),
        (0, chroma, second),
        (0, second, chroma),
        (second, 0, chroma),
        (chroma, 0, second),
    ][int(sector)]
    return (np.array(rgb) + (value - chroma)) * 255.0


def _luma(rgb: np.ndarray) -> float:
    return float(np.dot(rgb, [0.299, 0.587, 0.114]))


def _signed_distance(shape: str, x, y, centers, radii, angles) -> np.ndarray:
    """Signed distance in pixels (negative inside) of pixel centres `x, y (H, W)` to the shapes, `(T, H, W)`."""
    dx = x[None] - centers[:, 0, None, None]
    dy = y[None] - centers[:, 1, None, None]
    if shape == "circle":
        return np.sqrt(dx**2 + dy**2) - radii[:, None, None]
    sides = {"square": 4, "triangle": 3}[shape]
    # Convex regular polygon with vertices at angle + 2k pi / n: the largest distance along the edge normals.
    normal_angles = angles[:, None] + (2 * np.arange(sides)[None] + 1) * np.pi / sides  # (T, n)
    along = dx[:, None] * np.cos(normal_angles)[..., None, None] + dy[:, None] * np.sin(normal_angles)[..., None, None]
    return along.max(axis=1) - (radii * np.cos(np.pi / sides))[:, None, None]


def render_demo_clip(label, rng: np.random.Generator, num_frames: int = 32, size: int = 64) -> DemoClip:
    """
    Renders one clip of a demo class.

    The random choices (shape, colours, texture, noise, start position, speed, size, ...) are drawn from `rng` in the
    same order for both classes of a time-reversed pair, and the second class of the pair is rendered with time
    running backwards: for the same generator state, the clip of class `2i + 1` is exactly the clip of class `2i`
    with its frames in reverse order.

    Args:
        label (`str` or `int`): a name or index of [`DEMO_CLASSES`].
        rng (`np.random.Generator`): source of all random choices.
        num_frames (`int`, *optional*, defaults to 32): number of frames `T` (>= 2).
        size (`int`, *optional*, defaults to 64): side of the square frames (>= 16).

    Returns:
        [`DemoClip`]: the frames `(T, size, size, 3)` uint8 and the shape's geometry per frame.
    """
    index = _class_index(label)
    num_frames = check_positive_int("num_frames", num_frames, minimum=2)
    size = check_positive_int("size", size, minimum=16)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` must be a np.random.Generator, got {type(rng).__name__}")
    motion, reverse = DEMO_CLASSES[index - index % 2][0], index % 2 == 1

    # --- appearance (same draws for every class) ---
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    background = _hsv_to_rgb(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.25, 0.55))
    colour = _hsv_to_rgb(rng.random(), rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.0))
    if abs(_luma(colour) - _luma(background)) < 60:  # keep the shape visible: make it brighter than the background
        colour = np.clip(colour + (60 - (_luma(colour) - _luma(background))), 0, 255)
    marker = np.zeros(3) if _luma(colour) > 128 else np.full(3, 255.0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    texture = np.zeros((size, size, 3))
    for _ in range(3):  # a few random plane waves, a different phase per channel
        direction = rng.uniform(0, 2 * np.pi)
        frequency = rng.uniform(1.0, 4.0) * 2 * np.pi / size
        phase = rng.uniform(0, 2 * np.pi, size=3)
        wave = (x * np.cos(direction) + y * np.sin(direction)) * frequency
        texture += rng.uniform(6.0, 14.0) * np.sin(wave[..., None] + phase)
    texture += rng.normal(0.0, 6.0, size=(size, size, 3))
    noise = 3.0 * rng.standard_normal(size=(num_frames, size, size, 3), dtype=np.float32)

    # --- motion of the pair's first class, as a function of the progress u in [0, 1] ---
    u = np.linspace(0.0, 1.0, num_frames)
    radius = np.full(num_frames, rng.uniform(0.12, 0.18) * size)
    angle = np.full(num_frames, rng.uniform(0, 2 * np.pi))
    alpha = np.ones(num_frames)
    margin = radius[0] + 2
    center = np.stack([np.full(num_frames, rng.uniform(margin, size - margin)) for _ in range(2)], axis=1)
    if motion in ("moving_left", "moving_up"):
        axis = 0 if motion == "moving_left" else 1
        distance = min(rng.uniform(0.3, 0.5) * size, size - 2 * margin)
        start = rng.uniform(margin + distance, size - margin)
        center[:, axis] = start - distance * u
    elif motion == "growing":
        small = rng.uniform(0.07, 0.1) * size
        radius = small * (1 + rng.uniform(1.0, 1.6) * u)
        margin = radius[-1] + 2
        center[:] = rng.uniform(margin, size - margin, size=2)
    elif motion == "rotating_clockwise":
        radius[:] = rng.uniform(0.2, 0.28) * size
        margin = radius[0] + 2
        center[:] = rng.uniform(margin, size - margin, size=2)
        angle = angle + np.deg2rad(rng.uniform(120, 200)) * u  # y points down: increasing angle turns clockwise
    elif motion == "fading_in":
        start, end = rng.uniform(0.0, 0.15), rng.uniform(0.9, 1.0)
        alpha = start + (end - start) * u
    else:
        raise AssertionError(f"no motion for {motion}")
    if reverse:
        center, radius, angle, alpha = center[::-1].copy(), radius[::-1].copy(), angle[::-1].copy(), alpha[::-1].copy()
        noise = noise[::-1]

    # --- rendering (all frames at once); soft edges of one pixel ---
    coverage = np.clip(0.5 - _signed_distance(shape, x, y, center, radius, angle), 0, 1)
    marker_center = center + 0.45 * radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    marker_coverage = np.clip(0.5 - _signed_distance("circle", x, y, marker_center, 0.2 * radius, angle), 0, 1)
    weight = (alpha[:, None, None] * coverage)[..., None]
    marker_weight = (alpha[:, None, None] * marker_coverage * coverage)[..., None]
    frames = (background + texture)[None] * (1 - weight) + colour * weight
    frames = frames * (1 - marker_weight) + marker * marker_weight + noise
    frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    return DemoClip(frames, center, radius, angle, alpha, coverage.astype(np.float32), shape)


def write_mp4(path, frames: np.ndarray, fps: int = 16, crf: int = 18, preset: str = "medium") -> None:
    """
    Encodes RGB frames `(T, H, W, 3)` uint8 (`H` and `W` even) as H.264 (libx264 at `preset`, yuv420p) in an mp4 file.

    Single-threaded and without x264's macroblock-tree rate control (`mbtree=0`), so that a given libx264 build
    writes the same bitstream (and decoded frames) in every process: with the macroblock tree, one thread still gave
    other bytes in another process for about a third of the demo clips (the same bytes within one process).
    """
    height, width = frames.shape[1:3]
    with av.open(os.fspath(path), mode="w", format="mp4") as container:
        options = {"crf": str(crf), "preset": preset, "threads": "1", "x264-params": "mbtree=0"}
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())


def _paths(root: Path) -> dict[str, str]:
    return {
        "root": str(root),
        "train_dir": str(root / "train"),
        "validation_dir": str(root / "validation"),
        "train_list": str(root / "train.txt"),
        "validation_list": str(root / "validation.txt"),
        "label_file": str(root / "labels.txt"),
    }


def _is_complete(root: Path, parameters: dict) -> bool:
    marker = root / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded != parameters:
        logger.warning(f"The demo dataset in {root} was generated with {recorded}, not {parameters}: rebuilding it")
        return False
    for list_name in ("train.txt", "validation.txt"):
        with open(root / list_name, encoding="utf-8") as handle:
            if not all((root / line.split()[0]).is_file() for line in handle if line.strip()):
                return False
    return (root / "labels.txt").is_file()


def _remove_dataset(root: Path) -> None:
    """Deletes a previous (incomplete or outdated) demo dataset, refusing to touch a folder holding anything else."""
    if not root.exists():
        return
    if not root.is_dir():
        raise FileExistsError(f"Cannot write the demo dataset to {root}: it exists and is not a folder")
    foreign = sorted(entry.name for entry in root.iterdir() if entry.name not in _DATASET_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"Cannot write the demo dataset to {root}: the folder holds files that are not part of a demo dataset "
            f"({foreign[:5]}); choose an empty or new folder"
        )
    shutil.rmtree(root)


def generate_demo_dataset(
    root,
    num_train_per_class: int = 16,
    num_val_per_class: int = 6,
    num_frames: int = 32,
    size: int = 64,
    seed: int = 0,
    overwrite: bool = False,
    fps: int = 16,
) -> dict[str, str]:
    """
    Writes (or reuses) the demo dataset: `len(DEMO_CLASSES)` motion classes of H.264 mp4 clips.

    The dataset is written to a temporary folder next to `root` and renamed to `root` once every video has been
    checked to decode to `num_frames` frames and the marker file has been written (last). A complete dataset already
    at `root` with the same parameters is reused; an incomplete one (no marker), or one made with other parameters,
    is rebuilt. An existing `root` that holds other files is never deleted (`FileExistsError`).

    Args:
        root (`str` or `os.PathLike`): folder of the dataset.
        num_train_per_class (`int`, *optional*, defaults to 16): training videos per class.
        num_val_per_class (`int`, *optional*, defaults to 6): validation videos per class.
        num_frames (`int`, *optional*, defaults to 32): frames per video.
        size (`int`, *optional*, defaults to 64): side of the square frames (even, >= 16).
        seed (`int`, *optional*, defaults to 0): seed of all random choices.
        overwrite (`bool`, *optional*, defaults to `False`): rebuild even if a complete dataset exists.
        fps (`int`, *optional*, defaults to 16): frame rate written in the files.

    Returns:
        `dict[str, str]` with the paths "root", "train_dir", "validation_dir", "train_list", "validation_list" and
        "label_file".

    Example:

    ```python
    >>> from modeling_sllm.demo.data import generate_demo_dataset

    >>> paths = generate_demo_dataset("demo_data")
    >>> open(paths["train_list"]).readline()
    'train/moving_left/moving_left_t000.mp4 32 0\\n'
    ```
    """
    for name, value, minimum in (
        ("num_train_per_class", num_train_per_class, 1),
        ("num_val_per_class", num_val_per_class, 1),
        ("num_frames", num_frames, 2),
        ("size", size, 16),
        ("seed", seed, 0),
        ("fps", fps, 1),
    ):
        check_positive_int(name, value, minimum=minimum)
    if size % 2:
        raise ValueError(f"`size` must be even (H.264 in yuv420p needs even frame sizes), got {size}")
    root = Path(root).expanduser().absolute()
    parameters = {
        "format_version": _FORMAT_VERSION,
        "classes": [name for name, _ in DEMO_CLASSES],
        "num_train_per_class": int(num_train_per_class),
        "num_val_per_class": int(num_val_per_class),
        "num_frames": int(num_frames),
        "size": int(size),
        "seed": int(seed),
        "fps": int(fps),
    }
    if not overwrite and _is_complete(root, parameters):
        logger.info(f"Reusing the demo dataset in {root}")
        return _paths(root)

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.tmp-", dir=root.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp creates the folder private (0o700)
    try:
        counts = {"train": parameters["num_train_per_class"], "validation": parameters["num_val_per_class"]}
        for split in SPLITS:
            lines = []
            for class_index, (class_name, _) in enumerate(DEMO_CLASSES):
                folder = staging / split / class_name
                folder.mkdir(parents=True)
                for video_index in range(counts[split]):
                    rng = demo_clip_rng(seed, split, class_index, video_index)
                    clip = render_demo_clip(class_index, rng, num_frames=num_frames, size=size)
                    relative = f"{split}/{class_name}/{class_name}_{_SPLIT_SUFFIX[split]}{video_index:03d}.mp4"
                    write_mp4(staging / relative, clip.frames, fps=fps)
                    decoded = count_frames(staging / relative)
                    if decoded != num_frames:
                        raise RuntimeError(f"{relative} decodes to {decoded} frames instead of {num_frames}")
                    lines.append(f"{relative} {num_frames} {class_index}\n")
            (staging / f"{split}.txt").write_text("".join(lines), encoding="utf-8")
        labels = "".join(f"{index};{name};{description}\n" for index, (name, description) in enumerate(DEMO_CLASSES))
        (staging / "labels.txt").write_text(labels, encoding="utf-8")
        (staging / MARKER_FILE).write_text(json.dumps(parameters, indent=2), encoding="utf-8")

        if overwrite or not _is_complete(root, parameters):
            _remove_dataset(root)
            try:
                os.rename(staging, root)
            except OSError:
                # Another process (e.g. another rank) finished first: use its dataset if it is complete.
                if not _is_complete(root, parameters):
                    raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    logger.info(f"Wrote the demo dataset ({len(DEMO_CLASSES)} classes) to {root}")
    return _paths(root)


def prepare_demo_data(data_args) -> dict[str, str]:
    """
    Generates (or reuses) the demo dataset under `data_args.data_root` with `data_args.demo_train_videos_per_class` /
    `demo_validation_videos_per_class`, and points the data arguments (an `SLLMDataArguments`) at its annotation
    lists and label file. Returns the paths of [`generate_demo_dataset`].
    """
    if data_args.data_root is None:
        raise ValueError("generate_demo_data needs data_root, the folder of the demo videos.")
    paths = generate_demo_dataset(
        data_args.data_root,
        num_train_per_class=data_args.demo_train_videos_per_class,
        num_val_per_class=data_args.demo_validation_videos_per_class,
    )
    data_args.train_list = paths["train_list"]
    data_args.validation_list = paths["validation_list"]
    data_args.label_file = paths["label_file"]
    data_args.data_root = paths["root"]
    data_args.train_dir = data_args.validation_dir = data_args.dataset_name = None
    return paths
