"""Dataset builders (annotation lists, video folders, `datasets` datasets), the pre-flight check, and the
rows-to-inputs transform (training: one augmentation draw per clip; evaluation: exactly the processor): values, shapes
and the error for each kind of bad data."""

import logging
import os

import datasets
import numpy as np
import pytest
import torch

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data import inputs as inputs_module
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMVideoTransform, sllm_collate_fn
from modeling_sllm.data.sources import load_video_datasets, read_annotation_list
from modeling_sllm.text_features import SLLMLabel
from sllm_testing import tiny_config


LABELS = "0;walk;a person walks\n1;run;a person runs\n2;jump;a person jumps\n"


@pytest.fixture
def label_file(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text(LABELS)
    return str(path)


@pytest.fixture
def list_dataset(tmp_path, make_video, make_frame_folder, label_file):
    """Three videos (mp4, avi, frame folder) and train/validation lists relative to tmp_path."""
    make_video("a b.mp4", num_frames=30)  # a space in the path
    make_video("b.avi", num_frames=20)
    make_frame_folder("c_frames", num_frames=12)
    train = tmp_path / "train.txt"
    train.write_text("a b.mp4 30 0\nb.avi 20 1\n\nc_frames 12 2\n")
    validation = tmp_path / "validation.txt"
    validation.write_text("b.avi 20 1\nc_frames 12 2\n")
    return SLLMDataArguments(
        train_list=str(train), validation_list=str(validation), label_file=label_file, data_root=str(tmp_path)
    )


def _rows(dataset):
    return [dict(row) for row in dataset.with_format(None)]


def _transform(training: bool, num_frames: int = 4, keep_interval: int = 2, **kwargs) -> SLLMVideoTransform:
    """The transform of a tiny model (32x32 frames) with `num_frames` encoded, keep 1 in `keep_interval`."""
    config = tiny_config(num_frames=num_frames, keep_interval=keep_interval)
    return SLLMVideoTransform(SLLMVideoProcessor.from_model_config(config), training=training, **kwargs)


def test_annotation_lists_build_train_and_validation(list_dataset, tmp_path):
    list_dataset.validate_data = "full"  # frames counted by decoding
    data = load_video_datasets(list_dataset)
    assert set(data.datasets) == {"train", "validation"}
    assert data.id2label == {0: "walk", 1: "run", 2: "jump"}
    assert data.labels[1].description == "a person runs"
    rows = _rows(data.datasets["train"])
    assert [row["video"] for row in rows] == [
        str(tmp_path / "a b.mp4"),
        str(tmp_path / "b.avi"),
        str(tmp_path / "c_frames"),
    ]
    assert [row["label"] for row in rows] == [0, 1, 2]
    assert [row["total_num_frames"] for row in rows] == [30, 20, 12]  # counted by the pre-flight check
    assert rows[2]["source"].endswith("train.txt:4")  # the blank line still counts
    assert data.datasets["train"].features["label"].names == ["walk", "run", "jump"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("a.mp4 30", "expected 'path total_num_frames label'"),
        ("a.mp4 thirty 0", "must be integers"),
        ("a.mp4 30 3", "label 3 is not a class"),
        ("a.mp4 30 -1", "label -1 is not a class"),
        ("a.mp4 -5 0", "negative frame count"),
    ],
)
def test_malformed_list_lines_name_file_and_line(tmp_path, line, message):
    list_file = tmp_path / "list.txt"
    list_file.write_text(f"ok.mp4 10 0\n{line}\n")
    labels = [SLLMLabel(0, "walk"), SLLMLabel(1, "run"), SLLMLabel(2, "jump")]
    with pytest.raises(ValueError, match=message) as error:
        read_annotation_list(str(list_file), labels, str(tmp_path))
    assert f"{list_file}:2" in str(error.value)


def test_missing_video_stops_with_its_line_or_is_skipped_when_asked(list_dataset, tmp_path, caplog):
    (tmp_path / "train.txt").write_text("a b.mp4 30 0\ngone.mp4 30 1\n")
    with pytest.raises(FileNotFoundError, match=r"train.txt:2: .*gone.mp4"):
        load_video_datasets(list_dataset)
    list_dataset.skip_bad_videos = True
    data = load_video_datasets(list_dataset)
    assert [row["label"] for row in _rows(data.datasets["train"])] == [0]


def test_lists_need_a_label_file(list_dataset):
    list_dataset.label_file = None
    with pytest.raises(ValueError, match="label_file"):
        load_video_datasets(list_dataset)


def test_exactly_one_source(list_dataset, tmp_path):
    list_dataset.train_dir = str(tmp_path)
    with pytest.raises(ValueError, match="exactly one data source"):
        load_video_datasets(list_dataset)
    with pytest.raises(ValueError, match="exactly one data source"):
        load_video_datasets(SLLMDataArguments())


def _truncate(path, keep_fraction=0.4):
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        handle.truncate(int(size * keep_fraction))


def test_preflight_reports_unreadable_videos_and_frame_gaps(list_dataset, tmp_path, make_video):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    os.remove(tmp_path / "c_frames" / "img_00005.jpg")
    (tmp_path / "train.txt").write_text("a b.mp4 30 0\nbroken.mp4 30 1\nempty.mp4 10 1\nc_frames 12 2\n")
    with pytest.raises(ValueError) as error:
        load_video_datasets(list_dataset)
    message = str(error.value)
    assert "3 of 4 train videos cannot be used" in message
    assert "train.txt:2" in message and "broken.mp4" in message
    assert "train.txt:3" in message and "empty.mp4" in message
    assert "train.txt:4" in message and "img_00005.jpg" in message and "missing" in message

    list_dataset.skip_bad_videos = True
    data = load_video_datasets(list_dataset)
    assert [row["video"] for row in _rows(data.datasets["train"])] == [str(tmp_path / "a b.mp4")]


def test_truncated_video_uses_the_frames_it_has(list_dataset, tmp_path, make_video, caplog):
    """A video shorter than its list line says: the real count is used (logged), frames are repeated if needed."""
    make_video("short.mp4", num_frames=5)
    (tmp_path / "train.txt").write_text("short.mp4 300 0\n")
    caplog.set_level(logging.WARNING)
    list_dataset.validate_data = "full"
    data = load_video_datasets(list_dataset)
    assert _rows(data.datasets["train"])[0]["total_num_frames"] == 5
    assert "says 300, has 5" in caplog.text
    transform = _transform(training=True, seed=0)
    out = transform.transform_one(str(tmp_path / "short.mp4"))
    assert out["pixel_values"].shape == (4, 3, 32, 32)
    assert out["skipped_pixel_values"].shape == (3, 3, 32, 32)


def test_video_folder_source(tmp_path, make_video, label_file, caplog):
    root = tmp_path / "tree"
    (root / "walk").mkdir(parents=True)
    (root / "jump").mkdir()
    make_video("tree/walk/w1.mp4", num_frames=10)
    make_video("tree/jump/j1.avi", num_frames=10)
    make_video("tree/jump/j2.mp4", num_frames=10)
    (root / "jump" / "notes.txt").write_text("not a video")
    caplog.set_level(logging.WARNING)
    data = load_video_datasets(SLLMDataArguments(train_dir=str(root)))
    assert data.id2label == {0: "jump", 1: "walk"}  # sorted folder names
    rows = _rows(data.datasets["train"])
    assert [(os.path.basename(row["video"]), row["label"]) for row in rows] == [
        ("j1.avi", 0),
        ("j2.mp4", 0),
        ("w1.mp4", 1),
    ]
    assert "Ignored 1 entries" in caplog.text

    with_labels = load_video_datasets(SLLMDataArguments(train_dir=str(root), label_file=label_file))
    assert [row["label"] for row in _rows(with_labels.datasets["train"])] == [2, 2, 0]

    (root / "swim").mkdir()
    make_video("tree/swim/s.mp4", num_frames=10)
    with pytest.raises(ValueError, match=r"\['swim'\].*not classes of the label file"):
        load_video_datasets(SLLMDataArguments(train_dir=str(root), label_file=label_file))


def test_hf_dataset_source_with_paths_bytes_and_names(tmp_path, make_video):
    first, second = make_video("x.mp4", num_frames=10), make_video("y.mp4", num_frames=12)
    features = datasets.Features(
        clip=datasets.Value("string"), action=datasets.ClassLabel(names=["sit", "stand"])
    )
    raw = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"clip": [str(first), str(second)], "action": [1, 0]}, features=features),
        test=datasets.Dataset.from_dict({"clip": [str(second)], "action": [0]}, features=features),
    )
    raw.save_to_disk(tmp_path / "hf")
    args = SLLMDataArguments(
        dataset_name=str(tmp_path / "hf"), video_column="clip", label_column="action", validation_split="test",
        validate_data="full",
    )
    data = load_video_datasets(args)
    assert data.id2label == {0: "sit", 1: "stand"}
    assert [(row["label"], row["total_num_frames"]) for row in _rows(data.datasets["train"])] == [(1, 10), (0, 12)]

    # video bytes and class names as strings
    by_bytes = datasets.DatasetDict(
        train=datasets.Dataset.from_dict(
            {"video": [{"path": None, "bytes": first.read_bytes()}], "label": ["stand"]}
        ),
        validation=datasets.Dataset.from_dict(
            {"video": [{"path": None, "bytes": second.read_bytes()}], "label": ["sit"]}
        ),
    )
    by_bytes.save_to_disk(tmp_path / "hf_bytes")
    data = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "hf_bytes"), validate_data="full"))
    assert data.id2label == {0: "sit", 1: "stand"}
    assert _rows(data.datasets["train"])[0]["total_num_frames"] == 10
    transform = _transform(training=False, num_frames=2)
    data.datasets["train"].set_transform(transform)
    assert data.datasets["train"][0]["pixel_values"].shape == (2, 3, 32, 32)

    with pytest.raises(ValueError, match="no column 'clip'"):
        load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "hf_bytes"), video_column="clip"))
    # only the splits that exist are built (the scripts say which one they need); none at all is an error
    only_train = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "hf"), video_column="clip",
                                                       label_column="action"))
    assert set(only_train.datasets) == {"train"}
    with pytest.raises(ValueError, match="has none of the splits"):
        load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "hf"), train_split="x", video_column="clip",
                                              label_column="action"))


def test_frame_folder_and_video_give_the_same_tensors(make_video, make_frame_folder, frame_content):
    frames = [frame_content(i) for i in range(24)]
    video = make_video("lossless.mp4", frames=frames)  # lossless RGB H.264
    folder = make_frame_folder("png_frames", frames=frames, template="img_{:05d}.png")
    for training in (False, True):
        outputs = []
        for source in (str(video), str(folder)):
            transform = _transform(training=training, seed=5, frame_template="img_{:05d}.png")
            outputs.append(transform.transform_one(source))
        assert outputs[0].keys() == outputs[1].keys()
        for key in outputs[0]:
            torch.testing.assert_close(outputs[0][key], outputs[1][key], atol=0, rtol=0)


def test_training_reads_one_random_frame_per_segment(monkeypatch, video_path):
    seen = []
    original = inputs_module.read_sampled_frames

    def spy(source, sample_fn, **kwargs):
        result = original(source, sample_fn, **kwargs)
        seen.append(result.indices)
        return result

    monkeypatch.setattr(inputs_module, "read_sampled_frames", spy)
    transform = _transform(training=True, seed=1)
    transform.transform_one(str(video_path))
    indices = seen[-1]
    kept, skipped = indices[:4], indices[4:]
    assert len(skipped) == 3
    assert all(kept[i] <= skipped[i] <= kept[i + 1] for i in range(3))
    for segment, index in enumerate(np.sort(np.concatenate([kept, skipped]))):
        assert segment * 30 // 8 <= index < (segment + 1) * 30 // 8  # one random frame per TSN segment


def test_one_augmentation_draw_for_kept_and_skipped_frames(make_video, frame_content):
    still = frame_content(7)
    video = make_video("still.mp4", frames=[still] * 20)
    for seed in range(4):
        out = _transform(training=True, seed=seed).transform_one(str(video))
        everything = torch.cat([out["pixel_values"], out["skipped_pixel_values"]])
        for frame in everything[1:]:
            torch.testing.assert_close(frame, everything[0], atol=0, rtol=0)


def test_training_draws_differ_between_calls_and_repeat_with_the_seed(video_path):
    def draws(seed):
        torch.manual_seed(0)
        transform = _transform(training=True, seed=seed)
        return [transform.transform_one(str(video_path))["pixel_values"] for _ in range(3)]

    first, again, other = draws(1), draws(1), draws(2)
    for a, b in zip(first, again):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(first[0], other[0])


def test_multi_view_evaluation_and_collate(video_path):
    transform = _transform(training=False, num_clips=2, num_crops=3)
    batch = transform({"video": [str(video_path)] * 3, "label": [0, 2, 1], "source": ["a", "b", "c"]})
    assert batch["pixel_values"][0].shape == (6, 4, 3, 32, 32)
    collated = sllm_collate_fn([dict(zip(batch, values)) for values in zip(*batch.values())])
    assert collated["pixel_values"].shape == (3, 6, 4, 3, 32, 32)
    assert collated["labels"].tolist() == [0, 2, 1]
    # the two clips are different frames: different tensors
    assert not torch.equal(batch["pixel_values"][0][0], batch["pixel_values"][0][3])

    with_skipped = _transform(training=False, with_skipped=True)
    out = with_skipped.transform_one(str(video_path))
    assert out["pixel_values"].shape == (4, 3, 32, 32) and out["skipped_pixel_values"].shape == (3, 3, 32, 32)

    with pytest.raises(ValueError, match="evaluation protocol"):
        _transform(training=True, num_clips=2)
    with pytest.raises(ValueError, match="keep_interval >= 2"):
        _transform(training=False, keep_interval=1, with_skipped=True)
    with pytest.raises(TypeError, match="SLLMVideoProcessor"):
        SLLMVideoTransform(tiny_config(), training=False)


def test_a_clip_that_fails_names_its_list_line(list_dataset, tmp_path):
    list_dataset.validate_data = False
    data = load_video_datasets(list_dataset)
    os.remove(tmp_path / "b.avi")
    for training in (True, False):
        data.datasets["train"].set_transform(_transform(training=training))
        with pytest.raises(OSError, match=r"train.txt:2: cannot read a clip of .*b.avi"):
            data.datasets["train"][1]


def test_demo_data_arguments_point_at_the_generated_lists(tmp_path):
    from modeling_sllm.demo.data import DEMO_CLASSES, prepare_demo_data

    args = SLLMDataArguments(
        generate_demo_data=True, data_root=str(tmp_path / "demo"), demo_train_videos_per_class=2,
        demo_validation_videos_per_class=1, validate_data="full",
    )
    prepare_demo_data(args)
    data = load_video_datasets(args)
    assert len(data.datasets["train"]) == 2 * len(DEMO_CLASSES)
    assert len(data.datasets["validation"]) == len(DEMO_CLASSES)
    assert [label.name for label in data.labels] == [name for name, _ in DEMO_CLASSES]
    assert all(row["total_num_frames"] == 32 for row in _rows(data.datasets["validation"]))


def test_transform_for_a_model_takes_frames_crop_and_augmentation_from_config_and_arguments(video_path):
    config = tiny_config(num_frames=3, keep_interval=3)  # 3 frames encoded, 2 restored per gap, 32x32 frames
    args = SLLMDataArguments(flip_prob=0.0, color_jitter_prob=0.0, grayscale_prob=0.0, multiscale_crop=False)
    train = SLLMVideoTransform.for_model(config, args, training=True, seed=0)
    out = train.transform_one(str(video_path))
    assert out["pixel_values"].shape == (3, 3, 32, 32) and out["skipped_pixel_values"].shape == (4, 3, 32, 32)
    assert train.augmentation.flip_prob == 0.0 and train.augmentation.scales == (1.0,)
    assert train.augmentation.crop_size == 32
    assert train.augmentation.image_mean == pytest.approx(train.processor.image_mean)
    evaluation = SLLMVideoTransform.for_model(config, args, training=False, num_crops=3)
    assert evaluation.transform_one(str(video_path))["pixel_values"].shape == (3, 3, 3, 32, 32)


@pytest.mark.parametrize("num_clips, num_crops, with_skipped", [(1, 1, False), (1, 1, True), (2, 3, False)])
def test_evaluation_inputs_are_exactly_the_processors(video_path, num_clips, num_crops, with_skipped):
    """One road: the evaluation transform gives the pixel values the model's processor (and so the pipeline) gives."""
    config = tiny_config()
    transform = SLLMVideoTransform.for_model(
        config,
        SLLMDataArguments(),
        training=False,
        num_clips=num_clips,
        num_crops=num_crops,
        with_skipped=with_skipped,
    )
    ours = transform({"video": [str(video_path)], "label": [1], "source": ["list.txt:1"]})
    processor = SLLMVideoProcessor.from_model_config(config)
    expected = processor(
        [str(video_path)], return_tensors="pt", num_clips=num_clips, num_crops=num_crops,
        return_skipped_frames=with_skipped,
    )
    views = num_clips * num_crops
    assert ours["pixel_values"][0].shape == ((4, 3, 32, 32) if views == 1 else (views, 4, 3, 32, 32))
    torch.testing.assert_close(ours["pixel_values"][0], expected["pixel_values"][0], atol=0, rtol=0)
    if with_skipped:
        torch.testing.assert_close(
            ours["skipped_pixel_values"][0], expected["skipped_pixel_values"][0], atol=0, rtol=0
        )
    else:
        assert "skipped_pixel_values" not in ours
    assert ours["labels"] == [1]


def test_evaluation_of_frame_folders_and_bytes_goes_through_the_processor(make_frame_folder, video_path):
    folder = make_frame_folder("frames", num_frames=20, template="frame_{:03d}.png", start_index=0)
    config = tiny_config()
    args = SLLMDataArguments(frame_template="frame_{:03d}.png", frame_start_index=0)
    transform = SLLMVideoTransform.for_model(config, args, training=False)
    expected = SLLMVideoProcessor.from_model_config(config)(
        [str(folder)], return_tensors="pt", frame_template="frame_{:03d}.png", frame_start_index=0
    )["pixel_values"][0]
    torch.testing.assert_close(transform.transform_one(str(folder)), {"pixel_values": expected}, atol=0, rtol=0)

    from_bytes = transform.transform_one({"path": None, "bytes": video_path.read_bytes()})["pixel_values"]
    from_path = transform.transform_one(str(video_path))["pixel_values"]
    torch.testing.assert_close(from_bytes, from_path, atol=0, rtol=0)


def test_a_processor_that_disagrees_with_the_config_is_refused():
    config = tiny_config()  # 4 frames, keep 1 in 2, 32x32
    other = SLLMVideoProcessor.from_model_config(tiny_config(num_frames=6))
    with pytest.raises(ValueError, match=r"num_frames=6.*does not match the model config \(num_frames=4"):
        SLLMVideoTransform.for_model(config, SLLMDataArguments(), training=False, processor=other)
    same = SLLMVideoProcessor.from_model_config(config)
    assert SLLMVideoTransform.for_model(config, SLLMDataArguments(), training=False, processor=same).processor is same


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_crops": 2}, "num_crops"),
        ({"num_clips": 0}, "num_clips"),
        ({"flip_prob": 1.5}, "flip_prob"),
        ({"frame_start_index": -1}, "frame_start_index"),
        ({"max_train_samples": 0}, "max_train_samples"),
    ],
)
def test_bad_data_arguments_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SLLMDataArguments(**kwargs)


# ------------------------------------------------------------------------------------------------------------------
# `datasets` sources: plain Dataset folders, videos kept in memory-mapped Arrow files; pre-flight levels; the report


def _bytes_dataset(clip: bytes, num_rows: int, split=None) -> datasets.Dataset:
    features = datasets.Features(video=datasets.Video(decode=False), label=datasets.ClassLabel(names=["sit", "stand"]))
    rows = {
        "video": [{"bytes": clip, "path": f"v{i}.mp4"} for i in range(num_rows)],
        "label": [i % 2 for i in range(num_rows)],
    }
    return datasets.Dataset.from_dict(rows, features=features, split=split)


def test_a_plain_dataset_folder_is_one_split(tmp_path, video_path):
    from modeling_sllm.training.arguments import SLLMTrainingArguments

    clip = video_path.read_bytes()
    _bytes_dataset(clip, 3).save_to_disk(tmp_path / "plain")
    data = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "plain")))
    assert set(data.datasets) == {"train"} and len(data.datasets["train"]) == 3  # no saved split: the train split
    assert data.id2label == {0: "sit", 1: "stand"}
    evaluated = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "plain"), validation_split="train"))
    assert len(evaluated.datasets["validation"]) == 3  # told: evaluate it

    _bytes_dataset(clip, 2, split="test").save_to_disk(tmp_path / "test_split")  # saved with its split name
    with pytest.raises(ValueError, match=r"plain Dataset folder: one split, 'test'.*--validation_split test"):
        load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "test_split")))
    data = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "test_split"), validation_split="test"))
    assert set(data.datasets) == {"validation"}

    training_args = SLLMTrainingArguments(output_dir=str(tmp_path / "o"), max_steps=1, use_cpu=True, report_to="none")
    streamed = load_video_datasets(
        SLLMDataArguments(dataset_name=str(tmp_path / "plain"), streaming=True), training_args
    )
    assert isinstance(streamed.datasets["train"], datasets.IterableDataset)
    assert len(list(streamed.datasets["train"])) == 3


def test_dataset_videos_stay_in_memory_mapped_arrow_files(tmp_path, make_video):
    import pyarrow as pa
    from datasets.table import MemoryMappedTable

    clip = make_video("big.mp4", num_frames=60).read_bytes()
    _bytes_dataset(clip, 40).save_to_disk(tmp_path / "hf")
    files_before = sorted(os.listdir(tmp_path / "hf"))
    video_bytes = 40 * len(clip)
    allocated = pa.total_allocated_bytes()
    data = load_video_datasets(SLLMDataArguments(dataset_name=str(tmp_path / "hf"), validate_data="packets"))
    train = data.datasets["train"]
    assert pa.total_allocated_bytes() - allocated < video_bytes / 10  # the videos were not copied into memory
    assert train.cache_files and train.cache_files[0]["filename"].startswith(str(tmp_path / "hf"))
    blocks = [table for row in train.data.blocks for table in row if "video" in table.column_names]
    assert blocks and all(isinstance(table, MemoryMappedTable) for table in blocks)
    assert sorted(os.listdir(tmp_path / "hf")) == files_before  # the pre-flight wrote nothing into the folder
    row = train.with_format(None)[7]
    assert row["video"]["bytes"] == clip and row["label"] == 1 and row["total_num_frames"] == 60
    train.set_transform(_transform(training=False, num_frames=2))
    assert train[0]["pixel_values"].shape == (2, 3, 32, 32)


def _faststart_mp4(path, num_frames=30):
    """An mp4 with its index (moov) before the frames, as streamed files are written."""
    from conftest import _frame_content

    import av

    with av.open(str(path), mode="w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "5"})
        stream.height, stream.width, stream.pix_fmt = 64, 96, "yuv420p"
        for i in range(num_frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(_frame_content(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize(
    "level, counted, truncated_found",
    [("none", [-1, -1], False), ("metadata", [30, -1], True), ("packets", [30, 30], True), ("full", [30, 30], True)],
)
def test_preflight_levels(tmp_path, make_video, label_file, level, counted, truncated_found):
    """none: paths only; metadata: containers opened, counted where an index confirms the header (mp4, not mkv);
    packets and full: every video counted; a truncated mp4 is found from its index onwards."""
    make_video("a.mp4", num_frames=30)
    make_video("b.mkv", num_frames=30)  # FFV1 in Matroska: no per-frame index
    truncated = _faststart_mp4(tmp_path / "cut.mp4")
    truncated.write_bytes(truncated.read_bytes()[: int(truncated.stat().st_size * 0.5)])
    (tmp_path / "not_a_video.mp4").write_bytes(b"plain text")
    (tmp_path / "train.txt").write_text("a.mp4 30 0\nb.mkv 30 1\n")
    args = SLLMDataArguments(train_list=str(tmp_path / "train.txt"), label_file=label_file, data_root=str(tmp_path),
                             validate_data=level)
    assert [row["total_num_frames"] for row in _rows(load_video_datasets(args).datasets["train"])] == counted

    (tmp_path / "train.txt").write_text("a.mp4 30 0\ncut.mp4 30 1\nnot_a_video.mp4 30 2\n")
    if level == "none":
        assert len(load_video_datasets(args).datasets["train"]) == 3  # nothing opened
        (tmp_path / "train.txt").write_text("a.mp4 30 0\ngone.mp4 30 1\n")
        with pytest.raises(FileNotFoundError, match="gone.mp4: missing"):  # but paths are checked
            load_video_datasets(args)
        return
    with pytest.raises(ValueError, match="2 of 3 train videos cannot be used") as error:
        load_video_datasets(args)
    assert "not_a_video.mp4: OSError: Cannot open" in str(error.value)
    assert ("cut.mp4: truncated" in str(error.value)) == truncated_found


def test_skip_bad_videos_reports_one_total_and_one_line_per_video(list_dataset, tmp_path, caplog):
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    (tmp_path / "notes.txt").write_text("not a video either")
    (tmp_path / "train.txt").write_text("a b.mp4 30 0\ngone.mp4 30 1\nbroken.mp4 30 1\nnotes.txt 3 2\nb.avi 20 1\n")
    list_dataset.skip_bad_videos = True
    caplog.set_level(logging.WARNING)
    data = load_video_datasets(list_dataset)
    assert [os.path.basename(row["video"]) for row in _rows(data.datasets["train"])] == ["a b.mp4", "b.avi"]
    reports = [record.getMessage() for record in caplog.records if "videos (skip_bad_videos)" in record.getMessage()]
    assert len(reports) == 1  # one report for missing and unreadable videos alike
    lines = reports[0].splitlines()
    assert lines[0] == "Skipped 3 of 5 train videos (skip_bad_videos):"
    assert lines[1] == f"  {tmp_path / 'train.txt'}:2: {tmp_path / 'gone.mp4'}: missing (no such file or folder)"
    assert lines[2].startswith(f"  {tmp_path / 'train.txt'}:3: {tmp_path / 'broken.mp4'}: OSError: Cannot open")
    assert lines[3].startswith(f"  {tmp_path / 'train.txt'}:4: {tmp_path / 'notes.txt'}: not a video file (.txt;")
    assert len(lines) == 4
    for name in ("gone.mp4", "broken.mp4", "notes.txt"):
        assert reports[0].count(name) == 1  # the path once


def test_one_rule_for_video_files_in_folders_and_lists(tmp_path, make_video, frame_content, label_file):
    from PIL import Image

    from modeling_sllm.data.sources import VIDEO_EXTENSIONS

    assert ".gif" in VIDEO_EXTENSIONS
    (tmp_path / "tree" / "walk").mkdir(parents=True)
    make_video("tree/walk/a.mp4", num_frames=10)
    frames = [Image.fromarray(frame_content(i)) for i in range(6)]
    frames[0].save(tmp_path / "tree" / "walk" / "b.GIF", save_all=True, append_images=frames[1:], duration=40)
    (tmp_path / "tree" / "walk" / "c.txt").write_text("not a video")
    data = load_video_datasets(SLLMDataArguments(train_dir=str(tmp_path / "tree"), validate_data="full"))
    rows = _rows(data.datasets["train"])
    assert [(os.path.basename(row["video"]), row["total_num_frames"]) for row in rows] == [("a.mp4", 10), ("b.GIF", 6)]

    (tmp_path / "train.txt").write_text("tree/walk/b.GIF 6 0\ntree/walk/c.txt 1 0\n")
    args = SLLMDataArguments(train_list=str(tmp_path / "train.txt"), label_file=label_file, data_root=str(tmp_path))
    with pytest.raises(ValueError, match=r"1 of 2 train videos .*\n.*c.txt: not a video file \(.txt"):
        load_video_datasets(args)
