"""TSN segment sampling and the kept/skipped split (modeling_sllm/sampling.py)."""

import numpy as np
import pytest

from modeling_sllm.sampling import SLLMClipIndices, sample_clip_indices, sample_segment_indices, split_positions


def text4vis_eval(n, t):
    """The evaluation indices as the TSN/Text4Vis release computes them (floats), for comparison."""
    if n <= t:
        return [i * n // t for i in range(t)]
    offset = (n / t - 1) / 2.0
    return [int(i * n / t + offset) for i in range(t)]


# ---------------------------------------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    "n,t,expected",
    [
        (16, 8, [0, 2, 4, 6, 8, 10, 12, 14]),
        (8, 8, [0, 1, 2, 3, 4, 5, 6, 7]),
        (30, 5, [2, 8, 14, 20, 26]),
        (100, 16, [2, 8, 15, 21, 27, 33, 40, 46, 52, 58, 65, 71, 77, 83, 90, 96]),
        (250, 16, [7, 22, 38, 54, 69, 85, 101, 116, 132, 147, 163, 179, 194, 210, 226, 241]),
        (17, 1, [8]),
    ],
)
def test_eval_indices_are_segment_centres(n, t, expected):
    indices = sample_segment_indices(n, t, training=False)
    assert indices.dtype == np.int64
    assert indices.tolist() == expected


@pytest.mark.parametrize(
    "n,t,expected",
    [
        (3, 8, [0, 0, 0, 1, 1, 1, 2, 2]),
        (1, 4, [0, 0, 0, 0]),
        (5, 8, [0, 0, 1, 1, 2, 3, 3, 4]),
    ],
)
def test_eval_short_video_repeats_frames_sorted(n, t, expected):
    indices = sample_segment_indices(n, t, training=False)
    assert indices.tolist() == expected
    assert set(indices.tolist()) == set(range(n))  # every frame is used


def test_eval_matches_text4vis_for_every_length():
    for t in (1, 2, 8, 16, 32):
        for n in range(1, 400):
            assert sample_segment_indices(n, t, training=False).tolist() == text4vis_eval(n, t), (n, t)


def test_eval_indices_lie_in_their_segment():
    for n in range(16, 300, 7):
        indices = sample_segment_indices(n, 16, training=False)
        for i, index in enumerate(indices):
            assert i * n // 16 <= index < (i + 1) * n // 16


# ------------------------------------------------------------------------------------------------------------ training


def test_training_indices_are_random_inside_each_segment():
    n, t = 100, 8
    starts = [i * n // t for i in range(t)]
    ends = [(i + 1) * n // t for i in range(t)]
    seen = [set() for _ in range(t)]
    rng = np.random.default_rng(0)
    for _ in range(300):
        indices = sample_segment_indices(n, t, training=True, rng=rng)
        assert indices.dtype == np.int64 and indices.shape == (t,)
        assert np.all(np.diff(indices) > 0)
        for i, index in enumerate(indices):
            assert starts[i] <= index < ends[i]
            seen[i].add(int(index))
    # every frame of every segment is drawn at some point
    assert all(seen[i] == set(range(starts[i], ends[i])) for i in range(t))


def test_training_is_reproducible_from_the_generator():
    first = sample_segment_indices(1000, 16, training=True, rng=np.random.default_rng(3407))
    again = sample_segment_indices(1000, 16, training=True, rng=np.random.default_rng(3407))
    other = sample_segment_indices(1000, 16, training=True, rng=np.random.default_rng(1))
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_training_short_video_uses_every_frame_sorted():
    rng = np.random.default_rng(0)
    for n in (1, 3, 7, 8):
        indices = sample_segment_indices(n, 8, training=True, rng=rng)
        assert indices.shape == (8,)
        assert np.all(np.diff(indices) >= 0)
        assert set(indices.tolist()) == set(range(n))
    assert sample_segment_indices(8, 8, training=True, rng=rng).tolist() == list(range(8))


# ---------------------------------------------------------------------------------------------------------- multi-clip


def test_multi_clip_shifts_the_offset_inside_each_segment():
    clips = [sample_segment_indices(30, 5, training=False, clip_index=c, num_clips=3).tolist() for c in range(3)]
    assert clips == [[0, 6, 12, 18, 24], [2, 8, 14, 20, 26], [4, 10, 16, 22, 28]]
    # the middle one of an odd number of clips is the single-clip centre
    assert clips[1] == sample_segment_indices(30, 5, training=False).tolist()


def test_multi_clip_single_clip_is_eval_and_clips_stay_in_segments():
    for n in (16, 50, 123, 250):
        assert (
            sample_segment_indices(n, 8, training=False, clip_index=0, num_clips=1).tolist()
            == sample_segment_indices(n, 8, training=False).tolist()
        )
        clips = np.stack([sample_segment_indices(n, 8, training=False, clip_index=c, num_clips=4) for c in range(4)])
        assert np.all(np.diff(clips, axis=0) >= 0)  # later clips sit later in each segment
        for i in range(8):
            assert np.all(clips[:, i] >= i * n // 8) and np.all(clips[:, i] < (i + 1) * n // 8)


def test_multi_clip_short_video():
    clips = [sample_segment_indices(3, 5, training=False, clip_index=c, num_clips=3).tolist() for c in range(3)]
    assert clips == [[0, 0, 1, 1, 2], [0, 0, 1, 2, 2], [0, 1, 1, 2, 2]]


# ----------------------------------------------------------------------------------------------------- kept / skipped


@pytest.mark.parametrize(
    "num_kept,k,kept,skipped",
    [
        (4, 2, [0, 2, 4, 6], [1, 3, 5]),
        (8, 2, [0, 2, 4, 6, 8, 10, 12, 14], [1, 3, 5, 7, 9, 11, 13]),
        (3, 3, [0, 3, 6], [1, 2, 4, 5]),
        (4, 1, [0, 1, 2, 3], []),
        (1, 2, [0], []),
    ],
)
def test_split_positions(num_kept, k, kept, skipped):
    positions = split_positions(num_kept, k)
    assert isinstance(positions, SLLMClipIndices)
    assert positions.kept.dtype == np.int64 and positions.skipped.dtype == np.int64
    assert positions.kept.tolist() == kept
    assert positions.skipped.tolist() == skipped
    assert len(positions.skipped) == (num_kept - 1) * (k - 1)
    kept_positions, skipped_positions = positions  # unpacks as a pair
    assert kept_positions.tolist() == kept and skipped_positions.tolist() == skipped


def test_sample_clip_indices_eval():
    kept, skipped = sample_clip_indices(100, 8, 2, training=False)
    all_16 = sample_segment_indices(100, 16, training=False)
    assert kept.tolist() == [2, 15, 27, 40, 52, 65, 77, 90] == all_16[0::2].tolist()
    assert skipped.tolist() == [8, 21, 33, 46, 58, 71, 83] == all_16[1:15:2].tolist()


def test_sample_clip_indices_k3_and_k1():
    kept, skipped = sample_clip_indices(90, 3, 3, training=False)
    all_9 = sample_segment_indices(90, 9, training=False).tolist()
    assert all_9 == [4, 14, 24, 34, 44, 54, 64, 74, 84]
    assert kept.tolist() == [4, 34, 64]
    assert skipped.tolist() == [14, 24, 44, 54]  # gap 0, then gap 1
    kept, skipped = sample_clip_indices(90, 4, 1, training=False)
    assert kept.tolist() == sample_segment_indices(90, 4, training=False).tolist() and skipped.shape == (0,)


def test_sample_clip_indices_training_interleaves_kept_and_skipped():
    rng = np.random.default_rng(0)
    kept, skipped = sample_clip_indices(300, 8, 2, training=True, rng=rng)
    assert kept.shape == (8,) and skipped.shape == (7,)
    for i in range(7):  # each skipped frame lies strictly between its two kept frames
        assert kept[i] < skipped[i] < kept[i + 1]


def test_sample_clip_indices_short_video_and_multi_clip():
    kept, skipped = sample_clip_indices(5, 4, 2, training=False)
    assert kept.tolist() == [0, 1, 2, 3] and skipped.tolist() == [0, 1, 3]
    kept_c0, _ = sample_clip_indices(80, 4, 2, training=False, clip_index=0, num_clips=2)
    kept_c1, _ = sample_clip_indices(80, 4, 2, training=False, clip_index=1, num_clips=2)
    assert kept_c0.tolist() == [2, 22, 42, 62] and kept_c1.tolist() == [7, 27, 47, 67]


# -------------------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: sample_segment_indices(0, 8, training=False), "0 frames"),
        (lambda: sample_segment_indices(-3, 8, training=False), "num_video_frames"),
        (lambda: sample_segment_indices(2.5, 8, training=False), "num_video_frames.*integer"),
        (lambda: sample_segment_indices(10, 0, training=False), "num_segments"),
        (lambda: sample_segment_indices(10, True, training=False), "num_segments.*integer"),
        (lambda: sample_segment_indices(10, 4, training=True), "rng"),
        (lambda: sample_segment_indices(10, 4, training=True, rng=np.random.RandomState(0)), "Generator"),
        (lambda: sample_segment_indices(10, 4, training=False, clip_index=3, num_clips=3), "clip_index"),
        (lambda: sample_segment_indices(10, 4, training=False, clip_index=-1, num_clips=3), "clip_index"),
        (lambda: sample_segment_indices(10, 4, training=False, num_clips=0), "num_clips"),
        (
            lambda: sample_segment_indices(10, 4, training=True, rng=np.random.default_rng(0), num_clips=2),
            "evaluation",
        ),
        (lambda: split_positions(0, 2), "num_kept"),
        (lambda: split_positions(4, 0), "keep_interval"),
        (lambda: split_positions(4, 2.0), "keep_interval.*integer"),
        (lambda: sample_clip_indices(0, 8, 2, training=False), "0 frames"),
        (lambda: sample_clip_indices(10, 8, 0, training=False), "keep_interval"),
    ],
)
def test_invalid_arguments_raise_clear_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_integer_checks_are_the_shared_positive_int_check():
    with pytest.raises(ValueError, match=r"^`num_clips` must be an integer >= 1, got 0$"):
        sample_segment_indices(10, 4, training=False, num_clips=0)
    with pytest.raises(ValueError, match=r"^`clip_index` must be an integer >= 0, got -1$"):
        sample_clip_indices(10, 4, 2, training=False, clip_index=-1, num_clips=2)
    with pytest.raises(ValueError, match=r"^`num_kept` must be an integer >= 1, got True$"):
        split_positions(True, 2)


def test_numpy_integers_are_accepted():
    assert sample_segment_indices(np.int64(16), np.int32(8), training=False).tolist() == list(range(0, 16, 2))
