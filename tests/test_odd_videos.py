"""Odd and bad videos, each written at test time: every one works correctly or gets a clear error naming the file;
none hangs, crashes or is silently wrong. The table goes through the user's road (`SLLMVideoProcessor`, as the
pipeline and the evaluation call it) and the pre-flight's probe (`probe_video(level="auto")`).

The reliability figures of the README (inputs tried, clear errors, silently wrong, hangs, crashes) count these cases:
`test_reliability_counts` keeps them in step with the table.
"""

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from PIL import Image

from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.video_io import count_frames, probe_video, read_frames, read_sampled_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


RAW = dict(do_resize=False, do_center_crop=False, do_rescale=False, do_normalize=False)  # frames as decoded
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg command-line tool is not installed")


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-v", "error", "-y", *map(str, args)], check=True, timeout=120)


def kept_indices(total, num_frames=4, keep_interval=2):
    return sample_clip_indices(total, num_frames, keep_interval, training=False).kept.tolist()


def frame_numbers(pixel_values, decode_frame_index):
    """Which frames a (N, 3, H, W) raw processor output holds."""
    return [decode_frame_index(frame.permute(1, 2, 0).numpy()) for frame in pixel_values]


# --------------------------------------------------------------------------------------------------------------------
# Builders of odd files


def avi_with_header_count(make_video, name, num_frames, declared):
    """An AVI of `num_frames` frames whose header (avih dwTotalFrames, strh dwLength) says `declared`."""
    path = make_video(name, num_frames=num_frames)
    data = bytearray(path.read_bytes())
    avih, strh = data.index(b"avih"), data.index(b"strh")
    data[avih + 24 : avih + 28] = struct.pack("<I", declared)  # after the 8-byte chunk header: 5th field
    data[strh + 40 : strh + 44] = struct.pack("<I", declared)  # dwLength
    path.write_bytes(bytes(data))
    return path


def mp4_truncated_after_moov(make_video, tmp_path, keep=4, total=100):
    """An mp4 with its moov atom first (`+faststart`), cut after the bytes of its first `keep` frames."""
    full = make_video("full.mp4", num_frames=total)
    faststart = tmp_path / "faststart.mp4"
    ffmpeg("-i", full, "-c", "copy", "-movflags", "+faststart", faststart)
    with av.open(str(faststart)) as container:
        entries = sorted(container.streams.video[0].index_entries, key=lambda entry: entry.pos)
        end = entries[keep - 1].pos + entries[keep - 1].size
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(faststart.read_bytes()[:end])
    return cut


def ts_segment(frames, first_pts):
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "5", "bf": "0"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for offset, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = first_pts + offset, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def resolution_change(tmp_path, frame_content):
    """MPEG-TS: frames 0-9 at 96x64, frames 10-19 at 192x128 (the same pictures scaled 2x)."""
    small = [frame_content(i) for i in range(10)]
    large = [np.ascontiguousarray(np.kron(frame_content(i), np.ones((2, 2, 1), np.uint8))) for i in range(10, 20)]
    path = tmp_path / "resolution_change.ts"
    path.write_bytes(ts_segment(small, 0) + ts_segment(large, 10))
    return path


def rotated_clip(tmp_path, degrees=90):
    """A lossless mp4 tagged by the ffmpeg CLI to be shown rotated (`rotate` metadata, as phones write)."""
    frame = np.zeros((64, 96, 3), np.uint8)
    frame[:16, :24] = (255, 0, 0)  # red top-left, green bottom-left: any rotation or flip is visible
    frame[-16:, :24] = (0, 255, 0)
    plain = tmp_path / "plain.mp4"
    with av.open(str(plain), "w") as container:
        stream = container.add_stream("libx264rgb", rate=25, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "rgb24"
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    rotated = tmp_path / "phone.mp4"
    ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v", f"rotate={degrees}", rotated)
    return rotated, frame


def audio_only(path):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def still_image(path, frame, image_format):
    Image.fromarray(frame).save(path, format=image_format)  # a PNG/JPEG under a video's name
    return path


def edit_list_cut(make_video, tmp_path):
    """`ffmpeg -ss 0.3 -c copy`: the mp4 keeps frames 0-7 for decoding but an edit list hides them (92 of 100)."""
    full = make_video("long.mp4", num_frames=100)
    cut = tmp_path / "cut.mp4"
    ffmpeg("-ss", "0.3", "-i", full, "-c", "copy", cut)
    return cut


# --------------------------------------------------------------------------------------------------------------------
# The table: (case, builder(tmp_path, make_video, frame_content) -> source, expected)
# expected: ("works", total frames, first frame number (frame i shows frame_content(first + i)))
#           ("error", exception type, regex the message must match; the file's name is always required too)


def _corrupt_middle(tmp, make_video, content):
    path = make_video("corrupt.mp4", num_frames=30)
    data = bytearray(path.read_bytes())
    for position in range(len(data) // 3, 2 * len(data) // 3, 3):
        data[position] = (data[position] * 31 + 7) % 256
    path.write_bytes(bytes(data))
    return path


def _moov_at_end_truncated(tmp, make_video, content):
    path = make_video("moov_at_end.mp4", num_frames=30)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"moov") - 4])  # the frames are there, the index is not
    return path


def _folder_without_frames(tmp, make_video, content):
    folder = tmp / "no_frames"
    folder.mkdir()
    (folder / "notes.txt").write_text("no frames here")
    return folder


def _named(name):
    def build(tmp, make_video, content):
        source = make_video("named.mp4", num_frames=30)
        return source.rename(tmp / name)

    return build


def _file_prefixed(tmp, make_video, content):
    # "file:x.mp4" is its own file (30 frames) next to a different "x.mp4" (12 frames): the right one must be read
    make_video("x.mp4", num_frames=12)
    return make_video("mine.mp4", num_frames=30).rename(tmp / "file:x.mp4")


def _gif(tmp, make_video, content):
    images = [Image.fromarray(content(i)) for i in range(10)]
    path = tmp / "animation.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return path


def _cover_art_only(tmp, make_video, content):
    picture = still_image(tmp / "cover.png", content(3), "PNG")
    path = tmp / "song.m4a"
    ffmpeg(
        "-f", "lavfi", "-t", "0.5", "-i", "anullsrc=r=8000:cl=mono", "-i", picture, "-map", "0", "-map", "1",
        "-c:a", "aac", "-c:v", "png", "-disposition:v:0", "attached_pic", "-t", "0.5", path,
    )
    return path


def _fifo(tmp, make_video, content):
    path = tmp / "stream.mp4"
    os.mkfifo(path)
    return path


CASES = {
    # issue 11 items 6-10 and the decoding of issue 13
    "avi header says 5 of 50 frames": (
        lambda tmp, mv, c: avi_with_header_count(mv, "lying.avi", 50, 5), ("works", 50, 0)),
    "mp4 truncated after its moov atom (4 of 100 frames)": (
        lambda tmp, mv, c: mp4_truncated_after_moov(mv, tmp), ("works", 4, None)),
    "resolution changes mid-stream": (lambda tmp, mv, c: resolution_change(tmp, c), ("works", 20, 0)),
    "PNG renamed .mp4": (
        lambda tmp, mv, c: still_image(tmp / "photo.mp4", c(0), "PNG"),
        ("error", OSError, "still image.*not a video")),
    "JPEG renamed .mp4": (
        lambda tmp, mv, c: still_image(tmp / "photo.mp4", c(0), "JPEG"),
        ("error", OSError, "still image.*not a video")),
    "phone clip with rotation metadata": (lambda tmp, mv, c: rotated_clip(tmp)[0], ("works", 3, None)),
    "file named pipe:0": (_named("pipe:0"), ("works", 30, 0)),
    "file named '12:30:00 clip.mp4'": (_named("12:30:00 clip.mp4"), ("works", 30, 0)),
    "file named file:x.mp4 beside another x.mp4": (_file_prefixed, ("works", 30, 0)),
    "protocol-looking name that is no file (concat:a|b)": (
        lambda tmp, mv, c: tmp / "concat:a.mp4|b.mp4", ("error", FileNotFoundError, "no such file")),
    "FIFO named .mp4": (_fifo, ("error", OSError, "neither a regular file nor a folder")),
    # the other odd inputs
    "empty file": (lambda tmp, mv, c: _touch(tmp / "empty.avi"), ("error", OSError, "empty")),
    "zero-byte mp4": (lambda tmp, mv, c: _touch(tmp / "zero.mp4"), ("error", OSError, "empty")),
    "text file renamed .mp4": (
        lambda tmp, mv, c: _text(tmp / "notes.mp4"), ("error", OSError, "Cannot open .* as a video")),
    "folder without frame files": (_folder_without_frames, ("error", OSError, "no files matching")),
    "audio-only file": (lambda tmp, mv, c: audio_only(tmp / "sound.wav"), ("error", OSError, "no video stream")),
    "audio with a cover picture only": (_cover_art_only, ("error", OSError, "only a still cover picture")),
    "1-frame video": (lambda tmp, mv, c: mv("one.mp4", num_frames=1), ("works", 1, 0)),
    "huge header count (avi says 10^9 frames)": (
        lambda tmp, mv, c: avi_with_header_count(mv, "huge_count.avi", 30, 10**9), ("works", 30, 0)),
    "mkv without a frame count": (lambda tmp, mv, c: mv("nocount.mkv", num_frames=23), ("works", 23, 0)),
    "mp4 cut with an edit list": (lambda tmp, mv, c: edit_list_cut(mv, tmp), ("works", 92, 8)),
    "animated GIF": (_gif, ("works", 10, 0)),
    "mp4 truncated before its moov atom": (_moov_at_end_truncated, ("error", OSError, "Cannot open .* as a video")),
    "mp4 corrupted in the middle": (_corrupt_middle, ("error", OSError, "frame index \\d+")),
}


def _touch(path):
    path.write_bytes(b"")
    return path


def _text(path):
    path.write_text("this is not a video " * 50)
    return path


@pytest.fixture
def in_tmp_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # names like "pipe:0" are given relative, as a user types them
    return tmp_path


@needs_ffmpeg
@pytest.mark.parametrize("case", list(CASES))
def test_odd_video(case, in_tmp_cwd, make_video, frame_content, decode_frame_index):
    build, expected = CASES[case]
    source = build(in_tmp_cwd, make_video, frame_content)
    name = os.path.relpath(source, in_tmp_cwd) if "name" in case else str(source)
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, **RAW)
    if expected[0] == "error":
        _, kind, pattern = expected
        with pytest.raises(kind, match=pattern) as excinfo:
            processor(name, return_tensors="pt")
        assert name in str(excinfo.value), f"the error does not name the file: {excinfo.value}"
        if case.startswith("mp4 corrupted"):
            assert probe_video(name, level="full").problems[0].startswith("decoding fails at frame index")
            return  # the packets are intact: corruption shows when decoding (the pre-flight's `full` level)
        try:
            probe = probe_video(name, level="auto")
        except kind as error:
            assert re.search(pattern, str(error)) and name in str(error)
        else:  # a folder is listed, not raised: the pre-flight reports its problems
            assert any(re.search(pattern, problem) for problem in probe.problems), probe.problems
        return
    _, total, first = expected
    out = processor(name, return_tensors="pt", return_metadata=True)
    metadata = out["video_metadata"][0]
    assert metadata.total_num_frames == total and metadata.frames_indices == kept_indices(total)
    assert out["pixel_values"].shape[:3] == (1, 4, 3)
    if first is not None:
        expected_frames = [first + index for index in kept_indices(total)]
        assert frame_numbers(out["pixel_values"][0], decode_frame_index) == expected_frames
    probe = probe_video(name, level="auto")
    assert probe.counted and probe.total_num_frames == total
    if case.startswith("mp4 truncated after"):
        assert any("truncated" in problem for problem in probe.problems)  # listed by the pre-flight
    else:
        assert probe.problems == []


def test_reliability_counts():
    """The README's reliability table counts these 24 cases plus 3 inputs of the tests below: `pipe:0` that is no
    file (with stdin open), an http URL given to the reader (2 clear errors), the 8192x8192 clip (works): 27 inputs,
    13 work correctly, 14 clear errors, 0 silently wrong, 0 hangs, 0 crashes."""
    outcomes = [expected[0] for _, expected in CASES.values()]
    assert (len(CASES), outcomes.count("works"), outcomes.count("error")) == (24, 12, 12)


# --------------------------------------------------------------------------------------------------------------------
# Item by item: the counts (issue 11.6 and 11.7)


def test_lying_avi_header_is_never_sampled_from(make_video, decode_frame_index):
    path = avi_with_header_count(make_video, "lying.avi", 50, 5)
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 5  # what the old reader sampled from
    metadata = probe_video(path)  # the header disagrees with the index: not counted at this level
    assert (metadata.counted, metadata.total_num_frames, metadata.declared_num_frames) == (False, None, 5)
    assert "index lists 50" in metadata.notes[0]
    assert probe_video(path, level="auto").total_num_frames == 50
    assert probe_video(path, level="packets").total_num_frames == 50
    assert probe_video(path, level="full").total_num_frames == 50 == count_frames(path)
    result = read_sampled_frames(path, lambda n, fps: [0, n - 1], exact_count=False)
    assert result.num_frames == 50 and [decode_frame_index(f) for f in result.frames] == [0, 49]


def test_truncated_mp4_is_listed_at_every_level(make_video, tmp_path, caplog):
    path = mp4_truncated_after_moov(make_video, tmp_path)
    for level in ("metadata", "auto", "packets", "full"):
        probe = probe_video(path, level=level)
        assert probe.counted and probe.total_num_frames == 4 and probe.declared_num_frames == 100, level
        assert re.search(
            "truncated: the container indexes 100 frames .* only 4 frames are in the file", probe.problems[0]
        )
        assert not probe.ok
    with caplog.at_level("WARNING"):
        result = read_sampled_frames(path, lambda n, fps: list(range(n)), exact_count=False)
    assert result.num_frames == 4 and "is damaged: truncated" in caplog.text  # inference warns, names the file
    assert str(path) in caplog.text


def test_probe_levels_on_ordinary_videos(make_video, bikes_video, frame_folder):
    mp4, mkv = make_video("a.mp4", num_frames=30), make_video("b.mkv", num_frames=23)
    probe = probe_video(bikes_video)  # mp4 sample table checked against the header and the file: counted cheaply
    assert (probe.level, probe.total_num_frames, probe.counted, probe.width, probe.height) == (
        "metadata", 250, True, 640, 272)
    assert probe.fps == 25.0 and probe.rotation is None and probe.ok
    assert probe_video(mp4).total_num_frames == 30
    assert probe_video(mkv).counted is False and probe_video(mkv, "auto").total_num_frames == 23
    full = probe_video(mkv, "full")
    assert (full.level, full.total_num_frames, full.rotation, full.problems) == ("full", 23, 0, [])
    folder = probe_video(frame_folder)
    assert (folder.total_num_frames, folder.counted, folder.width, folder.height) == (12, True, 96, 64)
    (frame_folder / "img_00005.jpg").unlink()
    assert "img_00005.jpg' is missing" in probe_video(frame_folder).problems[0]
    with pytest.raises(ValueError, match="level"):
        probe_video(mp4, level="quick")


def test_edit_list_frames_are_the_presented_ones(make_video, tmp_path, decode_frame_index):
    path = edit_list_cut(make_video, tmp_path)
    probe = probe_video(path)
    assert probe.total_num_frames == 92 == count_frames(path) and "edit list" in probe.notes[0]
    frames = read_frames(path, [0, 91, 45])
    assert [decode_frame_index(frame) for frame in frames] == [8, 99, 53]


# --------------------------------------------------------------------------------------------------------------------
# Resolution changes, still images, rotation (issue 11.7, 11.8)


def test_resolution_change_mid_stream(tmp_path, frame_content, decode_frame_index, caplog):
    path = resolution_change(tmp_path, frame_content)
    with caplog.at_level("WARNING"):
        frames = read_frames(path, [15, 2, 19])
    assert frames.shape == (3, 64, 96, 3)  # all at the size of the first returned frame
    assert [decode_frame_index(frame) for frame in frames] == [15, 2, 19]
    assert "frame 15 is 192x128" in caplog.text and str(path) in caplog.text
    assert read_frames(path, [15, 12]).shape == (2, 128, 192, 3)  # the lowest index sets the size
    assert "resolution changes mid-stream" in probe_video(path, "full").notes[0]


@needs_ffmpeg
def test_still_images_renamed_as_videos_are_rejected(tmp_path, frame_content):
    for image_format in ("PNG", "JPEG"):
        path = still_image(tmp_path / f"photo_{image_format}.mp4", frame_content(0), image_format)
        for call in (lambda: count_frames(path), lambda: read_frames(path, [0]), lambda: probe_video(path)):
            with pytest.raises(OSError, match=f"'{re.escape(str(path))}' is a still image .*, not a video"):
                call()


@needs_ffmpeg
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path, degrees):
    """The frames equal what the ffmpeg command line shows (it applies the display matrix; the `rotate` tag as the
    ffmpeg 5 muxer writes it turns the picture counter-clockwise), and they are the picture turned."""
    path, frame = rotated_clip(tmp_path, degrees)
    shown = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout
    decoded = read_frames(path, [0, 2])
    upright = np.rot90(frame, degrees // 90)
    assert decoded.shape[1:3] == upright.shape[:2]
    np.testing.assert_array_equal(decoded[0], np.frombuffer(shown, np.uint8).reshape(upright.shape))
    np.testing.assert_array_equal(decoded[1], upright)
    assert probe_video(path, "full").rotation == {90: 90, 180: 180, 270: -90}[degrees]
    processor = SLLMVideoProcessor(num_frames=2, keep_interval=1, **RAW)
    pixel_values = processor(str(path), return_tensors="pt")["pixel_values"][0]
    torch.testing.assert_close(pixel_values[0], torch.from_numpy(upright.copy()).permute(2, 0, 1))


def test_rotation_written_by_pyav_display_matrix(tmp_path, frame_content):
    frame = frame_content(5)
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=25, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "rgb24"
        stream.set_display_rotation(-90)  # counter-clockwise degrees: -90 is a quarter turn clockwise
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    np.testing.assert_array_equal(read_frames(path, [0])[0], np.rot90(frame, -1))


# --------------------------------------------------------------------------------------------------------------------
# File names reach FFmpeg as files only (issue 11.10); no hang


HANG_CHECK = textwrap.dedent(
    """
    import os, sys
    from modeling_sllm.video_io import count_frames
    for folder in sys.argv[1:]:
        os.chdir(folder)
        try:
            print("frames", count_frames("pipe:0"))
        except FileNotFoundError as error:
            print("error", error)
    """
)


def test_pipe_name_never_reads_stdin(tmp_path, make_video):
    """`pipe:0` once made FFmpeg read standard input and wait forever. The child keeps its stdin open (nothing is
    written to it), so reading it would hang until the timeout: a missing `pipe:0` is "no such file", an existing
    file of that name is read."""
    missing, present = tmp_path / "missing", tmp_path / "present"
    missing.mkdir(), present.mkdir()
    make_video("clip.mp4", num_frames=7).rename(present / "pipe:0")
    child = subprocess.Popen(
        [sys.executable, "-c", HANG_CHECK, str(missing), str(present)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        output, errors = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("reading 'pipe:0' hangs")
    assert child.returncode == 0, errors
    first, second = output.strip().splitlines()[-2:]
    assert first.startswith("error") and "no such file" in first and "'pipe:0'" in first
    assert second == "frames 7"


def test_http_urls_are_not_opened_by_the_reader(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*downloaded by SLLMVideoProcessor"):
        read_frames("http://127.0.0.1:9/video.mp4", [0])


# --------------------------------------------------------------------------------------------------------------------
# Memory: an 8192x8192 clip (issue 11.9)


MEMORY_CHECK = textwrap.dedent(
    """
    import resource, sys
    from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

    processor = SLLMVideoProcessor(num_frames=2, keep_interval=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = processor(sys.argv[1], return_tensors="pt", return_metadata=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    metadata = out["video_metadata"][0]
    print(tuple(out["pixel_values"].shape), metadata.width, metadata.height, (peak - before) // 1024)
    """
)


@needs_ffmpeg
def test_8192x8192_clip_stays_small_in_memory(tmp_path):
    """Two 8192x8192 frames: 402 MiB as full-size RGB (stacked: + 402 MiB more). The processor decodes them at 3x
    its resize size (768x768); the peak left is the decoder's own frames and one full-size RGB frame at a time.
    Measured here: +544 MiB resident (+880 MiB before)."""
    path = tmp_path / "huge.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=8192x8192:r=25:d=0.08", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", path)
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_CHECK, str(path)], capture_output=True, text=True, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    shape, width, height, peak_mib = result.stdout.split(")")[0] + ")", *result.stdout.split(")")[1].split()
    assert shape == "(1, 2, 3, 224, 224)" and (int(width), int(height)) == (768, 768)
    assert int(peak_mib) < 700, f"decoding the 8192x8192 clip raised the peak resident memory by {peak_mib} MiB"
