"""SLLMVideoProcessor: TSN sampling, decoding only the kept frames, CLIP preprocessing (checked against an
independent PIL reference), multi-view clips x crops, skipped frames, frame folders, save/load."""

import io
import re

import numpy as np
import pytest
import torch

from modeling_sllm import video_processing_sllm
from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.video_io import read_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling


RAW = dict(do_resize=False, do_center_crop=False, do_rescale=False, do_normalize=False)  # frames as decoded


def frame_indices(pixel_values, decode_frame_index):
    """Which frames a (N, 3, H, W) un-normalised output holds, read from the frames' binary band."""
    return [decode_frame_index(frame.permute(1, 2, 0).numpy()) for frame in pixel_values]


def test_defaults():
    processor = SLLMVideoProcessor()
    assert processor.num_frames == 8 and processor.keep_interval == 2
    assert processor.do_sample_frames is True
    assert processor.size.shortest_edge == 256
    assert (processor.crop_size.height, processor.crop_size.width) == (224, 224)
    assert tuple(processor.image_mean) == tuple(OPENAI_CLIP_MEAN)
    assert tuple(processor.image_std) == tuple(OPENAI_CLIP_STD)
    assert processor.model_input_names == ["pixel_values"]
    assert processor.resample == PILImageResampling.BICUBIC
    assert (processor.num_clips, processor.num_crops) == (1, 1)


def test_path_output_shape_dtype(video_path):
    out = SLLMVideoProcessor()(str(video_path), return_tensors="pt")
    assert list(out.keys()) == ["pixel_values"]
    assert isinstance(out["pixel_values"], torch.Tensor)
    assert out["pixel_values"].shape == (1, 8, 3, 224, 224) and out["pixel_values"].dtype == torch.float32


def test_normalisation_is_clip_mean_std(make_video):
    colour = np.array([200, 100, 30], dtype=np.uint8)
    frames = [np.broadcast_to(colour, (64, 96, 3)) for _ in range(20)]
    path = make_video("uniform.mp4", frames=frames)
    pixel_values = SLLMVideoProcessor()(path, return_tensors="pt")["pixel_values"]
    expected = (colour / 255.0 - np.array(OPENAI_CLIP_MEAN)) / np.array(OPENAI_CLIP_STD)
    torch.testing.assert_close(
        pixel_values, torch.tensor(expected, dtype=torch.float32)[None, None, :, None, None].expand_as(pixel_values)
    )


def test_resize_short_side_then_centre_crop(make_video):
    # left third black, middle third white, right third black: after resize 256 and crop 224 of a 96x64 -> 384x256
    # frame, the crop keeps columns 80..303 of the 384, i.e. the white band 128..255 sits at 48..175 of the crop.
    frame = np.zeros((64, 96, 3), dtype=np.uint8)
    frame[:, 32:64] = 255
    path = make_video("bands.mp4", frames=[frame] * 4)
    out = SLLMVideoProcessor(do_normalize=False)(path, return_tensors="pt")["pixel_values"][0, 0, 0]
    assert out.shape == (224, 224)
    row = out[112]
    assert torch.all(row[:40] < 0.05) and torch.all(row[56:168] > 0.95) and torch.all(row[184:] < 0.05)


def test_decodes_only_the_kept_eval_frames(video_path, decode_frame_index, monkeypatch):
    requested = []
    original = video_processing_sllm.read_sampled_frames

    def recording(source, sample_fn, **kwargs):
        result = original(source, sample_fn, **kwargs)
        requested.append(result.indices.tolist())
        return result

    monkeypatch.setattr(video_processing_sllm, "read_sampled_frames", recording)
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, **RAW)
    out = processor(video_path, return_tensors="pt", return_metadata=True)
    expected = sample_clip_indices(30, 4, 2, training=False).kept.tolist()
    assert expected == [1, 8, 16, 23]  # centres of segments 0, 2, 4, 6 of 8
    assert requested == [expected]
    metadata = out["video_metadata"][0]
    assert metadata.frames_indices == expected
    assert (metadata.total_num_frames, metadata.fps, metadata.width, metadata.height) == (30, 25.0, 96, 64)
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == expected


def test_exact_count_when_the_container_declares_none(make_video, decode_frame_index):
    path = make_video("clip.mkv", num_frames=50)
    out = SLLMVideoProcessor(num_frames=8, keep_interval=2, **RAW)(path, return_tensors="pt", return_metadata=True)
    expected = sample_clip_indices(50, 8, 2, training=False).kept.tolist()
    assert out["video_metadata"][0].total_num_frames == 50
    assert out["video_metadata"][0].frames_indices == expected
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == expected


def test_bikes_kept_frames(bikes_video):
    out = SLLMVideoProcessor()(str(bikes_video), return_tensors="pt", return_metadata=True)
    assert out["pixel_values"].shape == (1, 8, 3, 224, 224)
    assert out["video_metadata"][0].frames_indices == [7, 38, 69, 101, 132, 163, 194, 226]


def test_call_kwargs_override_num_frames_and_keep_interval(video_path, decode_frame_index):
    processor = SLLMVideoProcessor(**RAW)
    out = processor(video_path, num_frames=3, keep_interval=3, do_sample_frames=True, return_tensors="pt")
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == [1, 11, 21]  # 9 segments of 30/9 frames
    assert sample_clip_indices(30, 3, 3, training=False).kept.tolist() == [1, 11, 21]
    out = processor(video_path, num_frames=5, keep_interval=1, return_tensors="pt")
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == [2, 8, 14, 20, 26]


def test_short_video_repeats_frames(make_video, decode_frame_index):
    path = make_video("short.mp4", num_frames=5)
    out = SLLMVideoProcessor(num_frames=8, keep_interval=2, **RAW)(path, return_tensors="pt")
    assert out["pixel_values"].shape[1] == 8  # never fewer frames than asked
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == [0, 0, 1, 1, 2, 3, 3, 4]


def test_array_path_bytes_and_tensor_inputs_agree(video_path, frame_content):
    processor = SLLMVideoProcessor(num_frames=4, crop_size=32)
    array = np.stack([frame_content(i) for i in range(30)])
    from_path = processor(str(video_path), return_tensors="pt")["pixel_values"]
    from_array = processor(array, return_tensors="pt")["pixel_values"]
    from_tensor = processor(torch.from_numpy(array), return_tensors="pt")["pixel_values"]
    from_channels_first = processor(torch.from_numpy(array).permute(0, 3, 1, 2), return_tensors="pt")["pixel_values"]
    from_bytes = processor(video_path.read_bytes(), return_tensors="pt")["pixel_values"]
    from_buffer = processor(io.BytesIO(video_path.read_bytes()), return_tensors="pt")["pixel_values"]
    assert from_path.shape == (1, 4, 3, 32, 32)
    for other in (from_array, from_tensor, from_channels_first, from_bytes, from_buffer):
        torch.testing.assert_close(other, from_path, rtol=0, atol=0)


def test_memory_layout_changes_nothing_and_frames_are_not_copied(bikes_video):
    # the uint8 antialiased resize runs on channels-last memory: the decoded (T, H, W, 3) frames are only permuted, and
    # a channels-first copy, given as such or with an explicit input format, gives the same pixels bit for bit
    frames = read_frames(bikes_video, [0, 60, 120])  # 272 x 640: a real bicubic downscale to 256 x 602
    tensor = video_processing_sllm.frames_to_tensor(frames)
    assert tensor.shape == (3, 3, 272, 640) and tensor.data_ptr() == frames.__array_interface__["data"][0]
    assert tensor.is_contiguous(memory_format=torch.channels_last)
    processor = SLLMVideoProcessor(num_frames=3, keep_interval=1)
    channels_first = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    outputs = [
        processor(frames, do_sample_frames=False, return_tensors="pt")["pixel_values"],
        processor(frames, do_sample_frames=False, input_data_format="channels_last", return_tensors="pt")[
            "pixel_values"
        ],
        processor(channels_first, do_sample_frames=False, return_tensors="pt")["pixel_values"],
        processor.transform_frames(frames),
    ]
    assert outputs[0].shape == (1, 3, 3, 224, 224) and outputs[0].is_contiguous() and outputs[3].is_contiguous()
    for other in outputs[1:]:
        assert torch.equal(other, outputs[0])
    assert outputs[0].std() > 0.1  # real content, not a constant frame


def test_array_input_is_sampled_like_a_file(frame_content, decode_frame_index):
    array = np.stack([frame_content(i) for i in range(40)])
    out = SLLMVideoProcessor(**RAW)(array, return_tensors="pt", return_metadata=True)
    expected = sample_clip_indices(40, 8, 2, training=False).kept.tolist()
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == expected
    assert list(out["video_metadata"][0].frames_indices) == expected


def test_batch_of_videos_of_different_lengths(make_video, video_path, frame_folder):
    other = make_video("long.mkv", num_frames=70)
    out = SLLMVideoProcessor(num_frames=4, crop_size=32)(
        [str(video_path), other, str(frame_folder)], return_tensors="pt", return_metadata=True
    )
    assert out["pixel_values"].shape == (3, 4, 3, 32, 32)
    assert [m.total_num_frames for m in out["video_metadata"]] == [30, 70, 12]


def test_without_frame_sampling_returns_every_frame(make_video):
    path = make_video("clip.mp4", num_frames=6)
    out = SLLMVideoProcessor(crop_size=32)(path, do_sample_frames=False, return_tensors="pt")
    assert out["pixel_values"].shape == (1, 6, 3, 32, 32)


def test_crop_size_sets_the_short_side():
    processor = SLLMVideoProcessor(crop_size=112)
    assert processor.size.shortest_edge == 128 and processor.crop_size.height == 112
    assert SLLMVideoProcessor(crop_size={"height": 336, "width": 336}).size.shortest_edge == 384
    assert SLLMVideoProcessor(crop_size=224, size={"shortest_edge": 224}).size.shortest_edge == 224  # explicit wins


def test_crop_size_at_call_time(video_path):
    processor = SLLMVideoProcessor(num_frames=2, do_normalize=False)
    small = processor(video_path, crop_size=32, return_tensors="pt")["pixel_values"]
    assert small.shape == (1, 2, 3, 32, 32)
    # same numbers as an explicit short side of round(32 * 256 / 224) = 37
    explicit = processor(video_path, crop_size=32, size={"shortest_edge": 37}, return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(small, explicit, rtol=0, atol=0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"keep_interval": 0}, "keep_interval.*>= 1"),
        ({"num_frames": 0}, "num_frames.*>= 1"),
        ({"keep_interval": True}, "keep_interval"),
        ({"fps": 2}, "fps"),
    ],
)
def test_invalid_call_arguments(frame_content, kwargs, match):
    array = np.stack([frame_content(i) for i in range(10)])
    with pytest.raises(ValueError, match=match):
        SLLMVideoProcessor()(array, **kwargs)


def test_invalid_init_arguments():
    with pytest.raises(ValueError, match="keep_interval.*>= 1"):
        SLLMVideoProcessor(keep_interval=0)
    with pytest.raises(ValueError, match="num_frames.*>= 1"):
        SLLMVideoProcessor(num_frames=-2)


def test_undecodable_video_raises_the_reader_error(tmp_path):
    text = tmp_path / "broken.mp4"
    text.write_text("not a video " * 20)
    processor = SLLMVideoProcessor()
    with pytest.raises(OSError, match=f"Cannot open '{re.escape(str(text))}' as a video"):
        processor(str(text), return_tensors="pt")
    missing = tmp_path / "missing.mp4"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        processor(str(missing), return_tensors="pt")


def test_save_and_load_round_trip(tmp_path, video_path):
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=3, crop_size=112)
    saved = processor.save_pretrained(tmp_path / "saved")
    assert saved and all(path.endswith("video_preprocessor_config.json") for path in map(str, saved))
    loaded = SLLMVideoProcessor.from_pretrained(tmp_path / "saved")
    assert (loaded.num_frames, loaded.keep_interval) == (4, 3)
    assert loaded.size.shortest_edge == 128 and loaded.crop_size.height == 112
    assert loaded.to_dict() == processor.to_dict()
    torch.testing.assert_close(
        loaded(video_path, return_tensors="pt")["pixel_values"],
        processor(video_path, return_tensors="pt")["pixel_values"],
        rtol=0,
        atol=0,
    )
    overridden = SLLMVideoProcessor.from_pretrained(tmp_path / "saved", keep_interval=2)
    assert (overridden.num_frames, overridden.keep_interval) == (4, 2)


def test_remote_code_copies_sibling_modules_and_loads(tmp_path, video_path):
    from transformers import AutoVideoProcessor
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    if SLLMVideoProcessor._auto_class is None:
        pytest.skip("modeling_sllm/__init__.py does not register SLLMVideoProcessor for the Auto classes")
    folder = tmp_path / "sllm-remote-processor"
    processor = SLLMVideoProcessor(num_frames=3, keep_interval=2, crop_size=32)
    processor.save_pretrained(folder)
    for module in ("video_processing_sllm.py", "sampling.py", "video_io.py", "checks.py"):
        assert (folder / module).is_file(), module
    expected = processor(str(video_path), return_tensors="pt")["pixel_values"]
    auto = AutoVideoProcessor.from_pretrained(folder, trust_remote_code=True)
    assert type(auto).__name__ == "SLLMVideoProcessor" and (auto.num_frames, auto.keep_interval) == (3, 2)
    # What a machine without this package does: import the copied files (relative imports included) from the folder.
    remote_class = get_class_from_dynamic_module(auto_map_entry(folder), folder)
    assert remote_class.__module__.startswith("transformers_modules")
    remote = remote_class.from_pretrained(folder)
    torch.testing.assert_close(remote(str(video_path), return_tensors="pt")["pixel_values"], expected, rtol=0, atol=0)


def auto_map_entry(folder):
    import json

    config = json.loads((folder / "video_preprocessor_config.json").read_text())
    return config["auto_map"]["AutoVideoProcessor"]


def test_video_classification_pipeline_uses_the_processor(video_path):
    from sllm_testing import tiny_model
    from transformers import pipeline

    model = tiny_model()
    processor = SLLMVideoProcessor(
        num_frames=model.config.num_frames, keep_interval=model.config.keep_interval, crop_size=32
    )
    classifier = pipeline("video-classification", model=model, video_processor=processor)
    predictions = classifier(str(video_path), top_k=2)
    assert len(predictions) == 2 and {p["label"] for p in predictions} <= {"walk", "run", "jump"}
    with torch.no_grad():
        logits = model(**processor(str(video_path), return_tensors="pt")).logits[0]
    assert predictions[0]["label"] == model.config.id2label[int(logits.argmax())]
    assert predictions[0]["score"] == pytest.approx(float(logits.softmax(-1).max()), abs=1e-6)


def test_http_url_is_downloaded_and_decoded(tmp_path, video_path, monkeypatch):
    import functools
    import http.server
    import threading

    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "*")

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(video_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{video_path.name}"
        processor = SLLMVideoProcessor(num_frames=2, crop_size=32)
        torch.testing.assert_close(
            processor(url, return_tensors="pt")["pixel_values"],
            processor(str(video_path), return_tensors="pt")["pixel_values"],
            rtol=0,
            atol=0,
        )
        with pytest.raises(OSError, match="Cannot download the video .*missing.mp4"):
            processor(url.replace(video_path.name, "missing.mp4"), return_tensors="pt")
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------------------------------------------------
# Multi-view testing (clips x crops), skipped frames, frame folders


def eval_clips(total, num_frames, keep_interval, num_clips):
    """The `SLLMClipIndices` of each of `num_clips` evaluation clips."""
    return [
        sample_clip_indices(total, num_frames, keep_interval, training=False, clip_index=clip, num_clips=num_clips)
        for clip in range(num_clips)
    ]


def expected_views(processor, source, num_frames, keep_interval, num_clips, num_crops, total):
    """Views `(C * num_crops, N, 3, c, c)` built independently: each clip's frames read on their own, transformed."""
    clips = eval_clips(total, num_frames, keep_interval, num_clips)
    return torch.cat([processor.transform_frames(read_frames(source, c.kept), num_crops=num_crops) for c in clips])


@pytest.mark.parametrize("num_clips, num_crops", [(2, 3), (3, 1), (1, 3)])
def test_multi_view_shapes_and_clip_major_order(video_path, num_clips, num_crops):
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, crop_size=32)
    out = processor(video_path, num_clips=num_clips, num_crops=num_crops, return_tensors="pt", return_metadata=True)
    views = num_clips * num_crops
    assert out["pixel_values"].shape == (1, views, 4, 3, 32, 32)
    expected = expected_views(processor, video_path, 4, 2, num_clips, num_crops, total=30)
    torch.testing.assert_close(out["pixel_values"][0], expected, rtol=0, atol=0)  # view v = clip v // C, crop v % C
    kept = [clip.kept for clip in eval_clips(30, 4, 2, num_clips)]
    assert out["video_metadata"][0].frames_indices == np.concatenate(kept).tolist()
    assert len({tuple(clip) for clip in kept}) == num_clips  # clips are different frames


def test_centre_view_of_a_multi_view_call_is_the_single_view(video_path, frame_folder):
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, crop_size=32)
    for source in (video_path, str(frame_folder)):
        single = processor(source, return_tensors="pt")["pixel_values"]
        assert single.shape == (1, 4, 3, 32, 32)
        three_crops = processor(source, num_crops=3, return_tensors="pt")["pixel_values"]
        torch.testing.assert_close(three_crops[:, 1], single, rtol=0, atol=0)  # crop 1 is the centre crop
        # with an odd number of clips the middle clip is the single clip (centres of the segments)
        nine = processor(source, num_clips=3, num_crops=3, return_tensors="pt")["pixel_values"]
        torch.testing.assert_close(nine[:, 4], single, rtol=0, atol=0)
        assert not torch.equal(three_crops[:, 0], single)


def test_view_0_is_the_start_of_the_long_side():
    """(num_clips=1, num_crops=3): view 0 is the left crop of landscape frames (top crop of portrait ones)."""
    y, x = np.mgrid[0:40, 0:100]
    frames = np.stack([np.stack([x, y, np.zeros_like(x)], axis=-1).astype(np.uint8)] * 6)
    raw = dict(do_resize=False, do_rescale=False, do_normalize=False, crop_size=32)
    out = SLLMVideoProcessor(num_frames=2, keep_interval=2, **raw)(frames, num_crops=3, return_tensors="pt")
    views = out["pixel_values"][0]  # (3, 2, 3, 32, 32)
    assert [int(views[k, 0, 0, 0, 0]) for k in range(3)] == [0, 34, 68] and int(views[0, 0, 1, 0, 0]) == 4
    portrait = np.ascontiguousarray(frames.transpose(0, 2, 1, 3))
    out = SLLMVideoProcessor(num_frames=2, keep_interval=2, **raw)(portrait, num_crops=3, return_tensors="pt")
    assert [int(out["pixel_values"][0, k, 0, 0, 0, 0]) for k in range(3)] == [0, 34, 68]  # x and y swapped


def test_skipped_frames_shapes_values_and_one_decoding_pass(video_path, monkeypatch):
    calls = []
    original = video_processing_sllm.read_sampled_frames

    def recording(source, sample_fn, **kwargs):
        result = original(source, sample_fn, **kwargs)
        calls.append(result.indices.tolist())
        return result

    monkeypatch.setattr(video_processing_sllm, "read_sampled_frames", recording)
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=3, crop_size=32)
    out = processor(video_path, return_skipped_frames=True, return_tensors="pt", return_metadata=True)
    clip = sample_clip_indices(30, 4, 3, training=False)
    assert out["pixel_values"].shape == (1, 4, 3, 32, 32)
    assert out["skipped_pixel_values"].shape == (1, 6, 3, 32, 32)  # (N - 1)(k - 1)
    assert calls == [clip.kept.tolist() + clip.skipped.tolist()] == [out["video_metadata"][0].frames_indices]
    expected = processor.transform_frames(read_frames(video_path, clip.skipped))[0]
    torch.testing.assert_close(out["skipped_pixel_values"][0], expected, rtol=0, atol=0)

    # Multi-view: the skipped frames are those of the first clip, centre crop; still one pass per video.
    calls.clear()
    multi = processor(video_path, num_clips=2, num_crops=3, return_skipped_frames=True, return_tensors="pt")
    first, second = eval_clips(30, 4, 3, num_clips=2)
    assert calls == [first.kept.tolist() + second.kept.tolist() + first.skipped.tolist()]
    assert multi["pixel_values"].shape == (1, 6, 4, 3, 32, 32)
    assert multi["skipped_pixel_values"].shape == (1, 6, 3, 32, 32)
    expected = processor.transform_frames(read_frames(video_path, first.skipped))[0]
    torch.testing.assert_close(multi["skipped_pixel_values"][0], expected, rtol=0, atol=0)


def test_skipped_frames_edge_cases(video_path, frame_content):
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=1, crop_size=32)
    assert "skipped_pixel_values" not in processor(video_path, return_skipped_frames=True, return_tensors="pt")
    one = SLLMVideoProcessor(num_frames=1, keep_interval=2, crop_size=32)(
        video_path, return_skipped_frames=True, return_tensors="pt"
    )
    assert one["skipped_pixel_values"].shape == (1, 0, 3, 32, 32)
    array = np.stack([frame_content(i) for i in range(30)])  # decoded frames are sampled the same way
    from_array = SLLMVideoProcessor(num_frames=4, keep_interval=3, crop_size=32)(
        [array, array], return_skipped_frames=True, return_tensors="pt"
    )
    from_path = SLLMVideoProcessor(num_frames=4, keep_interval=3, crop_size=32)(
        video_path, return_skipped_frames=True, return_tensors="pt"
    )
    assert from_array["skipped_pixel_values"].shape == (2, 6, 3, 32, 32)
    torch.testing.assert_close(
        from_array["skipped_pixel_values"][1], from_path["skipped_pixel_values"][0], rtol=0, atol=0
    )


def test_frame_folder_with_another_template_and_start_index(make_frame_folder, decode_frame_index):
    folder = make_frame_folder("zero_based", num_frames=20, template="frame{:04d}.png", start_index=0)
    expected = sample_clip_indices(20, 4, 2, training=False).kept.tolist()
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, **RAW)
    out = processor(str(folder), frame_template="frame{:04d}.png", frame_start_index=0, return_tensors="pt")
    assert frame_indices(out["pixel_values"][0], decode_frame_index) == expected
    # the same naming as processor attributes (saved in its config)
    naming = {"frame_template": "frame{:04d}.png", "frame_start_index": 0}
    saved = SLLMVideoProcessor(num_frames=4, keep_interval=2, **naming, **RAW)
    from_attributes = saved(str(folder), return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(from_attributes, out["pixel_values"], rtol=0, atol=0)
    # numbered from 1, frame file 0 is not a frame: the indices shift by one
    shifted = processor(str(folder), frame_template="frame{:04d}.png", return_tensors="pt")["pixel_values"][0]
    expected = [index + 1 for index in sample_clip_indices(19, 4, 2, training=False).kept]
    assert frame_indices(shifted, decode_frame_index) == expected
    with pytest.raises(OSError, match="no files matching 'img_"):
        processor(str(folder), return_tensors="pt")


def test_resample_is_saved_and_read_from_the_config(tmp_path, video_path):
    import json

    processor = SLLMVideoProcessor(num_frames=2, crop_size=32)
    processor.save_pretrained(tmp_path / "bicubic")
    assert json.loads((tmp_path / "bicubic" / "video_preprocessor_config.json").read_text())["resample"] == 3
    bilinear = SLLMVideoProcessor(num_frames=2, crop_size=32, resample=PILImageResampling.BILINEAR, num_crops=3)
    bilinear.save_pretrained(tmp_path / "bilinear")
    config = json.loads((tmp_path / "bilinear" / "video_preprocessor_config.json").read_text())
    assert (config["resample"], config["num_crops"], config["num_clips"]) == (2, 3, 1)
    loaded = SLLMVideoProcessor.from_pretrained(tmp_path / "bilinear")
    assert loaded.resample == PILImageResampling.BILINEAR and loaded.num_crops == 3
    out = loaded(video_path, return_tensors="pt")["pixel_values"]
    assert out.shape == (1, 3, 2, 3, 32, 32)  # the saved num_crops is the default view
    torch.testing.assert_close(out, bilinear(video_path, return_tensors="pt")["pixel_values"], rtol=0, atol=0)
    assert not torch.equal(out[:, 1], processor(video_path, return_tensors="pt")["pixel_values"])
    assert SLLMVideoProcessor.from_pretrained(tmp_path / "bicubic").resample == PILImageResampling.BICUBIC


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_clips": 0}, "num_clips.*>= 1"),
        ({"num_clips": True}, "num_clips"),
        ({"num_clips": 1.5}, "num_clips.*integer"),
        ({"num_crops": 2}, "num_crops.*1.*or 3"),
        ({"num_crops": 0}, "num_crops.*>= 1"),
        ({"frame_start_index": -1}, "frame_start_index.*>= 0"),
        ({"frame_template": 5}, "frame_template"),
        ({"num_clips": 2, "do_sample_frames": False}, "need frame sampling"),
        ({"return_skipped_frames": True, "do_sample_frames": False}, "need frame sampling"),
    ],
)
def test_invalid_view_arguments(video_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        SLLMVideoProcessor(crop_size=32)(video_path, **kwargs)


def test_invalid_view_attributes():
    with pytest.raises(ValueError, match="num_crops.*1.*or 3"):
        SLLMVideoProcessor(num_crops=4)
    with pytest.raises(ValueError, match="num_clips.*>= 1"):
        SLLMVideoProcessor(num_clips=0)
    with pytest.raises(ValueError, match="num_crops.*1.*or 3"):
        SLLMVideoProcessor().transform_frames(np.zeros((1, 8, 8, 3), dtype=np.uint8), num_crops=2)


# --------------------------------------------------------------------------------------------------------------------
# Decoding to the processor's size (issue 11.9, 13.3): within 2 uint8 levels of resizing full-size frames


def write_yuv_clip(path, frames, options):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options=options)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def max_level_difference(processor, source, total):
    """Largest difference (uint8 levels) between the processor's output (large frames decoded at 3x its resize size)
    and `transform_frames` of the full-size frames (the evaluation road the checkpoints were measured with)."""
    out = processor(str(source), return_tensors="pt", return_metadata=True)
    indices = sample_clip_indices(total, processor.num_frames, processor.keep_interval, training=False).kept
    assert out["video_metadata"][0].frames_indices == indices.tolist()
    reference = processor.transform_frames(read_frames(source, indices))[0]
    assert out["pixel_values"][0].shape == reference.shape
    return int((out["pixel_values"][0].float() - reference.float()).abs().max())


def test_decoding_at_the_processor_size_stays_within_2_levels(tmp_path, bikes_video):
    from PIL import Image

    processor = SLLMVideoProcessor(num_frames=2, keep_interval=1, do_rescale=False, do_normalize=False)
    assert processor.decoded_frame_size(640, 272) is None  # bikes.mp4 is decoded at full size: today's frames
    assert processor.decoded_frame_size(1920, 816) == (1806, 768)  # 3 x (602, 256)
    assert processor.decoded_frame_size(1080, 1920) == (768, 1365)
    assert processor.decoded_frame_size(1920, 1080, do_resize=False) is None
    assert max_level_difference(processor, bikes_video, 250) == 0

    # real camera content upscaled to 1920x816 (measured: max 1 level), and full-range noise (measured: max 2)
    camera = [np.asarray(Image.fromarray(frame).resize((1920, 816), Image.LANCZOS)) for frame in read_frames(
        bikes_video, [0, 100, 200])]
    hires = write_yuv_clip(tmp_path / "hires.mp4", camera, {"crf": "12"})
    assert max_level_difference(processor, hires, 3) <= 2
    rng = np.random.default_rng(0)
    noise = write_yuv_clip(
        tmp_path / "noise.mp4", list(rng.integers(0, 256, (2, 1080, 1920, 3), np.uint8)), {"qp": "0"}
    )
    assert max_level_difference(processor, noise, 2) <= 2
