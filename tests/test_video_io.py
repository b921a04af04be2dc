"""Frame counting and reading from real encoded videos and frame folders (modeling_sllm/video_io.py)."""

import dataclasses
import io
import re

import av
import numpy as np
import pytest
from PIL import Image

from modeling_sllm import video_io
from modeling_sllm.video_io import count_frames, read_frames, read_sampled_frames


def decode_all(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def named(path):
    """A `match=` pattern that requires the file's name in the message."""
    return re.escape(str(path))


class Unseekable:
    """A read-only stream that cannot seek (like a pipe or an HTTP body)."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)

    def read(self, size=-1):
        return self._buffer.read(size)

    def seekable(self):
        return False


# ------------------------------------------------------------------------------------------------------------ counting


def test_count_frames_lossless_mp4(video_path):
    assert count_frames(video_path) == 30
    assert count_frames(str(video_path)) == 30


def test_count_frames_mkv_without_declared_count(make_video):
    path = make_video("clip.mkv", num_frames=23)
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 0  # the header does not help
    assert count_frames(path) == 23


def test_count_frames_avi(make_video):
    assert count_frames(make_video("clip.avi", num_frames=17)) == 17


def test_count_frames_bikes_matches_full_decode(bikes_video):
    assert count_frames(bikes_video) == len(decode_all(bikes_video)) == 250


def test_count_frames_folder(frame_folder):
    assert count_frames(frame_folder) == 12


def test_count_frames_folder_ignores_files_not_matching_the_template(frame_folder):
    for name in ("img_00013.png", "img_13.jpg", "flow_x_00001.jpg", "img_00000.jpg", "notes.txt"):
        (frame_folder / name).write_bytes(b"x")
    assert count_frames(frame_folder) == 12


def test_count_frames_folder_custom_template_and_start(make_frame_folder):
    folder = make_frame_folder("zero_based", num_frames=5, template="frame{:04d}.png", start_index=0)
    assert count_frames(folder, frame_template="frame{:04d}.png", frame_start_index=0) == 5
    assert count_frames(folder) == 0  # default template: no img_*.jpg files
    assert count_frames(folder, frame_template="frame{:04d}.png", frame_start_index=1) == 4


# ------------------------------------------------------------------------------------------------------------- reading


def test_read_frames_lossless_mp4_exact_in_requested_order(video_path, frame_content):
    indices = [5, 0, 29, 5, 17]
    frames = read_frames(video_path, indices)
    assert frames.dtype == np.uint8 and frames.shape == (5, 64, 96, 3)
    for frame, index in zip(frames, indices):
        np.testing.assert_array_equal(frame, frame_content(index))


def test_read_frames_mkv_exact(make_video, frame_content):
    path = make_video("clip.mkv", num_frames=20)
    frames = read_frames(path, np.array([19, 3]))
    np.testing.assert_array_equal(frames[0], frame_content(19))
    np.testing.assert_array_equal(frames[1], frame_content(3))


def test_read_frames_lossy_avi_right_frames(make_video, decode_frame_index):
    path = make_video("clip.avi", num_frames=40)
    indices = [39, 0, 7, 7, 22]
    assert [decode_frame_index(frame) for frame in read_frames(path, indices)] == indices


def test_read_frames_bikes_matches_full_decode(bikes_video):
    reference = decode_all(bikes_video)
    frames = read_frames(bikes_video, [249, 10, 3, 10])
    assert frames.shape == (4, 272, 640, 3)
    for frame, index in zip(frames, [249, 10, 3, 10]):
        np.testing.assert_array_equal(frame, reference[index])


def test_one_decoder_thread_reads_the_same_frames(bikes_video):
    from modeling_sllm import video_io

    indices = [249, 10, 3, 120]
    default = read_frames(bikes_video, indices)
    try:
        video_io.set_decoder_threads(1)
        single = read_frames(bikes_video, indices)
    finally:
        video_io.set_decoder_threads(0)
    np.testing.assert_array_equal(single, default)
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="Decoder threads must be an int >= 0"):
            video_io.set_decoder_threads(bad)


def test_read_frames_accepts_numpy_and_single_index(video_path, frame_content):
    np.testing.assert_array_equal(read_frames(video_path, np.int64(4))[0], frame_content(4))
    np.testing.assert_array_equal(read_frames(video_path, np.array([4], dtype=np.int32))[0], frame_content(4))


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "BytesIO", "open file", "unseekable", "datasets dict"])
def test_bytes_and_file_like_sources(video_path, frame_content, kind):
    data = video_path.read_bytes()
    sources = {
        "bytes": lambda: data,
        "bytearray": lambda: bytearray(data),
        "BytesIO": lambda: io.BytesIO(data),
        "open file": lambda: open(video_path, "rb"),
        "unseekable": lambda: Unseekable(data),
        "datasets dict": lambda: {"bytes": data, "path": "remote/video.mp4"},
    }
    assert count_frames(sources[kind]()) == 30
    frames = read_frames(sources[kind](), [12, 2])
    np.testing.assert_array_equal(frames[0], frame_content(12))
    np.testing.assert_array_equal(frames[1], frame_content(2))
    source = sources[kind]()  # one object, decoded twice (the guess is checked by a second pass)
    assert read_sampled_frames(source, lambda n, fps: [n - 1]).indices.tolist() == [29]
    if kind != "unseekable":  # a seekable object can be read again
        np.testing.assert_array_equal(read_frames(source, [29])[0], frame_content(29))


def test_consumed_unseekable_stream_is_reported(video_path):
    stream = Unseekable(video_path.read_bytes())
    assert count_frames(stream) == 30
    with pytest.raises(OSError, match="gave no bytes.*already read"):
        count_frames(stream)


def test_datasets_dict_with_path_only(video_path):
    assert count_frames({"path": str(video_path), "bytes": None}) == 30


def test_folder_png_read_is_exact(make_frame_folder):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8) for _ in range(6)]
    folder = make_frame_folder("png", frames=arrays, template="img_{:05d}.png")
    frames = read_frames(folder, [5, 0, 0, 3], frame_template="img_{:05d}.png")
    for frame, index in zip(frames, [5, 0, 0, 3]):
        np.testing.assert_array_equal(frame, arrays[index])


def test_folder_jpeg_read_matches_arrays(frame_folder, frame_content, decode_frame_index):
    frames = read_frames(frame_folder, [11, 0, 6])
    assert frames.shape == (3, 64, 96, 3) and frames.dtype == np.uint8
    assert [decode_frame_index(frame) for frame in frames] == [11, 0, 6]
    for frame, index in zip(frames, [11, 0, 6]):
        assert np.abs(frame.astype(int) - frame_content(index)).mean() < 3  # JPEG quality 95


def test_folder_grayscale_frames_become_rgb(make_frame_folder, tmp_path):
    folder = tmp_path / "gray"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 10), 40 * i, dtype=np.uint8), mode="L").save(folder / f"img_{i + 1:05d}.png")
    frames = read_frames(folder, [2, 1], frame_template="img_{:05d}.png")
    assert frames.shape == (2, 8, 10, 3)
    assert np.all(frames[0] == 80) and np.all(frames[1] == 40)


def test_folder_custom_template_zero_based(make_frame_folder, frame_content):
    folder = make_frame_folder("zero", num_frames=4, template="{:06d}.png", start_index=0)
    frames = read_frames(folder, [0, 3], frame_template="{:06d}.png", frame_start_index=0)
    np.testing.assert_array_equal(frames[0], frame_content(0))
    np.testing.assert_array_equal(frames[1], frame_content(3))


# ------------------------------------------------------------------------------------------------ read_sampled_frames


def test_read_sampled_frames_equals_count_then_read(video_path, make_video, frame_folder):
    for source in (video_path, make_video("clip.mkv", num_frames=26), frame_folder):
        calls = []

        def sample(num_frames, fps):
            calls.append((num_frames, fps))
            return np.linspace(0, num_frames - 1, 5).astype(int)[::-1]

        result = read_sampled_frames(source, sample)
        total = count_frames(source)
        assert result.num_frames == total
        assert result.indices.tolist() == sample(total, None).tolist()
        np.testing.assert_array_equal(result.frames, read_frames(source, result.indices))
        assert calls[0][0] == total  # the container's guess was right: sampled once
    assert result.fps is None  # frame folder
    assert read_sampled_frames(video_path, lambda n, fps: [0]).fps == 25.0


def test_read_sampled_frames_resamples_when_the_guess_is_wrong(monkeypatch, make_video, frame_content):
    path = make_video("clip.mkv", num_frames=30)  # mkv declares no count: the guess is the packet count
    real_table = video_io._packet_table
    monkeypatch.setattr(video_io, "_packet_table", lambda *args: dataclasses.replace(real_table(*args), count=24))
    calls = []

    def sample(num_frames, fps):
        calls.append(num_frames)
        return [num_frames - 1, 0]

    result = read_sampled_frames(path, sample)
    assert calls == [24, 30]
    assert result.num_frames == 30 and result.indices.tolist() == [29, 0]
    np.testing.assert_array_equal(result.frames[0], frame_content(29))
    np.testing.assert_array_equal(result.frames[1], frame_content(0))


def test_read_sampled_frames_samples_from_the_callers_count(video_path, frame_folder, decode_frame_index):
    """Training rows carry the pre-flight's counted `total_num_frames`: the indices are sampled from it."""
    for source, total in ((video_path, 20), (frame_folder, 7)):
        seen = []

        def sample(num_frames, fps):
            seen.append(num_frames)
            return [0, num_frames - 1]

        result = read_sampled_frames(source, sample, total_num_frames=total)
        assert seen == [total] and result.num_frames == total and result.indices.tolist() == [0, total - 1]
        assert [decode_frame_index(frame) for frame in result.frames] == [0, total - 1]
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="total_num_frames.*integer >= 1"):
            read_sampled_frames(video_path, lambda n, fps: [0], total_num_frames=bad)


def test_read_sampled_frames_rejects_out_of_range_sampling(video_path):
    with pytest.raises(ValueError, match=f"index 30.*{named(video_path)}.*30 frames"):
        read_sampled_frames(video_path, lambda n, fps: [0, n])


# -------------------------------------------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    for call in (lambda: count_frames(missing), lambda: read_frames(missing, [0])):
        with pytest.raises(FileNotFoundError, match=f"not found.*{named(missing)}"):
            call()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(OSError, match=f"{named(empty)}.*empty"):
        count_frames(empty)
    with pytest.raises(OSError, match="empty"):
        read_frames(b"", [0])
    with pytest.raises(OSError, match="empty"):
        read_frames(io.BytesIO(), [0])


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video " * 50)
    with pytest.raises(OSError, match=f"Cannot open {named(repr(str(text)))} as a video") as excinfo:
        read_frames(text, [0])
    assert isinstance(excinfo.value.__cause__, av.error.FFmpegError)  # chained, not swallowed
    with pytest.raises(OSError, match="Cannot open .* as a video"):
        count_frames(b"\x00\x01garbage" * 100)


def test_no_video_stream(tmp_path):
    audio = tmp_path / "sound.wav"
    with av.open(str(audio), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(OSError, match=f"{named(audio)}.*no video stream.*audio"):
        count_frames(audio)
    with pytest.raises(OSError, match="no video stream"):
        read_frames(audio, [0])


def truncated_copy(path, destination, fraction):
    data = path.read_bytes()
    destination.write_bytes(data[: int(len(data) * fraction)])
    return destination


def test_truncated_stream_names_frame_and_decodable_count(tmp_path, make_video, frame_content):
    full = make_video("full.mkv", num_frames=30)
    cut = truncated_copy(full, tmp_path / "cut.mkv", 0.5)
    decodable = count_frames(cut)
    assert 0 < decodable < 30
    np.testing.assert_array_equal(read_frames(cut, [decodable - 1])[0], frame_content(decodable - 1))
    pattern = f"frame index 25 of {named(repr(str(cut)))}: only {decodable} frames are decodable.*truncated"
    with pytest.raises(OSError, match=pattern):
        read_frames(cut, [0, 25])


def test_corrupt_stream_names_file_and_frame(tmp_path, video_path, frame_content):
    data = bytearray(video_path.read_bytes())
    for position in range(len(data) // 3, 2 * len(data) // 3, 3):
        data[position] = (data[position] * 31 + 7) % 256
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(OSError, match=f"{named(repr(str(corrupt)))}.*frame index \\d+") as excinfo:
        count_frames(corrupt)
    assert isinstance(excinfo.value.__cause__, av.error.FFmpegError)
    # Frames before the damage are still readable: reading stops after the last requested frame.
    np.testing.assert_array_equal(read_frames(corrupt, [3])[0], frame_content(3))


def test_video_without_decodable_frames(tmp_path, make_video):
    full = make_video("full.mkv", num_frames=10)
    data = full.read_bytes()
    first_cluster = data.index(bytes.fromhex("1F43B675"))  # Matroska Cluster element: the frames start here
    header_only = tmp_path / "header_only.mkv"
    header_only.write_bytes(data[: first_cluster + 4])  # the Cluster's ID only: a valid header, no frames
    assert count_frames(header_only) == 0
    with pytest.raises(OSError, match=f"{named(header_only)}.*no decodable video frames"):
        read_frames(header_only, [0])
    with pytest.raises(OSError, match=f"{named(header_only)}.*no decodable video frames"):
        read_sampled_frames(header_only, lambda n, fps: [0])


def test_index_out_of_range(video_path, frame_folder):
    with pytest.raises(ValueError, match=f"Frame index 30 is out of range for {named(repr(str(video_path)))}.*30"):
        read_frames(video_path, [2, 30])
    with pytest.raises(ValueError, match=f"Frame index 12 is out of range.*{named(frame_folder)}.*12 frames"):
        read_frames(frame_folder, [12])


@pytest.mark.parametrize(
    "indices,match",
    [([], "No frame indices"), ([1, -1], "Negative frame index -1"), ([0.5], "integers"), ([[0, 1]], "1-D")],
)
def test_bad_indices(video_path, indices, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        read_frames(video_path, indices)
    assert str(video_path) in str(excinfo.value)


def test_missing_frame_file_in_folder(frame_folder):
    (frame_folder / "img_00004.jpg").unlink()
    missing = frame_folder / "img_00004.jpg"
    with pytest.raises(FileNotFoundError, match=f"{named(missing)}.*frame index 3.*missing"):
        read_frames(frame_folder, [0, 3])
    assert read_frames(frame_folder, [0, 2, 4]).shape[0] == 3  # the other frames still read


def test_frames_of_different_sizes_in_folder(frame_folder):
    Image.fromarray(np.zeros((10, 12, 3), dtype=np.uint8)).save(frame_folder / "img_00006.jpg")
    odd = frame_folder / "img_00006.jpg"
    with pytest.raises(ValueError, match=f"{named(odd)}.*frame index 5.*12x10.*same size"):
        read_frames(frame_folder, [0, 5])


def test_unreadable_frame_file(frame_folder):
    broken = frame_folder / "img_00002.jpg"
    broken.write_bytes(b"not a jpeg at all")
    with pytest.raises(OSError, match=f"Cannot read frame file {named(repr(str(broken)))}.*frame index 1") as info:
        read_frames(frame_folder, [1])
    assert info.value.__cause__ is not None
    (frame_folder / "img_00003.jpg").write_bytes(b"")
    with pytest.raises(OSError, match="img_00003.jpg.*frame index 2"):
        read_frames(frame_folder, [2])


def test_empty_folder_and_bad_template(tmp_path, frame_folder):
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    assert count_frames(empty) == 0
    with pytest.raises(OSError, match=f"{named(empty)}.*no files matching"):
        read_sampled_frames(empty, lambda n, fps: [0])
    for template in ("img.jpg", "img_{}_{}.jpg", "sub/img_{:05d}.jpg", "img_{name}.jpg"):
        with pytest.raises(ValueError, match="frame_template"):
            count_frames(frame_folder, frame_template=template)


@pytest.mark.parametrize("start_index", [-1, True, 1.0])
def test_bad_frame_start_index(frame_folder, start_index):
    with pytest.raises(ValueError, match="frame_start_index.*integer >= 0"):
        count_frames(frame_folder, frame_start_index=start_index)
    with pytest.raises(ValueError, match="frame_start_index.*integer >= 0"):
        read_frames(frame_folder, [0], frame_start_index=start_index)
    with pytest.raises(ValueError, match="frame_start_index.*integer >= 0"):
        read_sampled_frames(frame_folder, lambda n, fps: [0], frame_start_index=start_index)


def test_unsupported_source_type():
    with pytest.raises(ValueError, match="Unsupported video source of type int"):
        count_frames(42)
    with pytest.raises(ValueError, match="'bytes' or 'path'"):
        count_frames({"path": None, "bytes": None})


def test_inference_sampling_stops_decoding_at_the_last_chosen_frame(video_path, monkeypatch):
    runs, in_order = [], []
    original_runs, original_in_order = video_io._decode_runs, video_io._decode_in_order

    def recording_runs(*args):
        result = original_runs(*args)
        runs.append(result.decoded)
        return result

    def recording_in_order(source, wanted, stop_after, convert):
        result = original_in_order(source, wanted, stop_after, convert)
        in_order.append((stop_after, result.decoded))
        return result

    monkeypatch.setattr(video_io, "_decode_runs", recording_runs)
    monkeypatch.setattr(video_io, "_decode_in_order", recording_in_order)
    result = video_io.read_sampled_frames(video_path, lambda n, fps: [0, 5, 10], exact_count=False)
    assert result.indices.tolist() == [0, 5, 10] and result.num_frames == 30
    assert in_order == [] and runs == [11]  # one pass from the keyframe at 0, 11 frames decoded out of 30
    runs.clear()
    video_io.read_sampled_frames(video_path, lambda n, fps: [0, 5, 10])
    assert runs == [] and in_order == [(None, 30)]  # the exact mode decodes to the end to count


def test_inference_sampling_resamples_when_the_video_is_shorter_than_counted(video_path, caplog):
    seen = []

    def sample(n, fps):
        seen.append(n)
        return [0, n - 1]

    with caplog.at_level("WARNING"):
        result = video_io.read_sampled_frames(video_path, sample, total_num_frames=100)
    assert seen == [100, 30]
    assert result.num_frames == 30 and result.indices.tolist() == [0, 29]
    assert "has 100 frames (given as total_num_frames) but only 30 decode" in caplog.text


def sequential(path, wanted):
    source = video_io._resolve_source(str(path))
    return video_io._decode_in_order(source, set(wanted), None, video_io._FrameConverter(source.name))


def by_runs(path, wanted, threads=None):
    """`_decode_runs` on one container (`threads=None`), or with `threads` threads decoding runs side by side."""
    source = video_io._resolve_source(str(path))
    previous = video_io._DECODER_THREADS
    if threads is not None:
        video_io.set_decoder_threads(threads)
    try:
        with video_io._open_video(source) as (container, stream):
            stream.thread_type = "AUTO"
            table = video_io._packet_table(container, stream)
            convert = video_io._FrameConverter(source.name)
            return video_io._decode_runs(
                container, stream, table, set(wanted), convert, source if threads is not None else None
            )
    finally:
        video_io.set_decoder_threads(previous)


@pytest.mark.parametrize("indices", [[0, 5, 10], [3, 13, 14, 25, 29], [29], [11, 12, 24], [2, 2, 27, 27]])
@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi", ".webm"])
def test_reading_from_keyframes_gives_the_frames_of_a_sequential_decode(
    make_video, decode_frame_index, suffix, indices
):
    """Wanted frames are decoded from the keyframe before them (GOP 12), skipping frames nobody references and
    draining the decoder after the last wanted packet: the same frames as decoding everything in order."""
    if suffix == ".webm":  # VP9 (lossy) in Matroska, what a .webm holds
        path = make_video("seek_vp9.mkv", num_frames=30, codec="libvpx-vp9", pix_fmt="yuv420p", options={"g": "12"})
    else:
        path = make_video(f"seek{suffix}", num_frames=30)
    reference = sequential(path, indices)
    for threads in (None, 2):  # one container; two threads decoding runs side by side
        sought = by_runs(path, indices, threads)
        assert sought is not None and set(sought.frames) == set(indices)
        for index in set(indices):
            np.testing.assert_array_equal(sought.frames[index], reference.frames[index])
            assert decode_frame_index(sought.frames[index]) == index
        if indices == [3, 13, 14, 25, 29]:
            assert sought.decoded < 30  # the GOPs before frames 13 and 25 are skipped, not decoded


def test_runs_are_decoded_side_by_side_only_when_the_source_can_be_reopened(make_video, monkeypatch):
    """3 runs (GOP 12) with 2 decoder threads: a second container decodes the runs of one group; one thread, or a
    file object (which two containers cannot share), keeps every run on the caller's container."""
    path = make_video("side_by_side.mp4", num_frames=30)
    groups = []
    original = video_io._decode_run_group

    def recording(source, keyframes, *args):
        groups.append(len(keyframes))
        return original(source, keyframes, *args)

    monkeypatch.setattr(video_io, "_decode_run_group", recording)
    indices = [3, 13, 25]
    reference = read_frames(path, indices)  # the default (0 = every core) on this 2+ core machine
    for threads, expected in ((2, [2]), (1, [])):  # runs of 4, 2 and 2 frames: 4 | 2 + 2
        groups.clear()
        video_io.set_decoder_threads(threads)
        try:
            np.testing.assert_array_equal(read_frames(path, indices), reference)
            assert groups == expected
            groups.clear()
            with open(path, "rb") as handle:  # a shared file object: never reopened
                np.testing.assert_array_equal(read_frames(handle, indices), reference)
            assert groups == []
            np.testing.assert_array_equal(read_frames(path.read_bytes(), indices), reference)
            assert groups == expected
        finally:
            video_io.set_decoder_threads(0)


def test_balanced_groups_put_the_largest_run_on_the_lightest_group():
    groups = video_io._balanced_groups({0: 8, 30: 40, 76: 57, 137: 27, 187: 40}, 2)
    assert groups == [[76, 137], [30, 187, 0]]  # 57, 40, 40, 27, 8 frames: 84 and 88
    assert video_io._balanced_groups({0: 5}, 3) == [[0]]


def test_reading_from_keyframes_on_a_camera_clip(bikes_video):
    """bikes.mp4 (x264 B-pyramid): the kept frames equal a sequential decode; the non-reference B-frames that are
    not wanted are skipped: 97 frames decoded for SLLM's 8 kept frames (172 before skipping and draining)."""
    from modeling_sllm.sampling import sample_clip_indices

    kept = sample_clip_indices(250, 8, 2, training=False).kept.tolist()
    baseline = sample_clip_indices(250, 16, 1, training=False).kept.tolist()
    reference = sequential(bikes_video, kept + baseline)
    for indices in (kept, baseline):
        for threads in (None, 2):
            sought = by_runs(bikes_video, indices, threads)
            for index in indices:
                np.testing.assert_array_equal(sought.frames[index], reference.frames[index])
    assert by_runs(bikes_video, kept).decoded < 120
    assert by_runs(bikes_video, baseline).decoded < 160


def test_decoding_benchmark_compares_equal_frames(make_video, tmp_path):
    """`scripts/benchmark_decoding.py` (timings are for a quiet machine; here: it runs and checks what it times)."""
    import json

    from modeling_sllm.benchmarks.decoding import legacy_read_frames, main

    path = make_video("bench.mp4", num_frames=40)
    legacy, decoded = legacy_read_frames(str(path), [3, 30, 3])
    np.testing.assert_array_equal(legacy, read_frames(path, [3, 30, 3]))
    output = tmp_path / "decoding.json"
    argv = ["--video", str(path), "--num_frames", "4", "--baseline_frames", "8", "--crop_size", "32",
            "--repetitions", "1", "--warmup", "0", "--threads", "1", "--output_json", str(output)]
    results = main(argv)
    assert json.loads(output.read_text())["ratios"] == results["ratios"]
    for name, frames in (("sllm", 4), ("baseline", 8)):
        check = results["checks"][name]
        assert check["frames"] == frames and check["frames_equal"] and check["inputs_max_abs_difference"] == 0
        assert 0 < check["decoded_current"] <= check["decoded_previous"]
    assert set(results["median_s"]) == {"sllm_previous", "sllm_current", "baseline_previous", "baseline_current"}
    assert all(ratio > 0 for ratio in results["ratios"].values())
