"""Restoration fidelity: restored skipped-frame embeddings against the true ones and the free baselines."""

import json

import pytest
import torch

from modeling_sllm.evaluation.fidelity import (
    collect_restoration_embeddings,
    fidelity_metrics,
    neighbour_baselines,
    restoration_fidelity,
)
from sllm_testing import random_frames, tiny_model


def linear_in_time(num_videos, num_positions, dim=8, seed=0):
    """Embeddings e(t) = a + t * b per video: linear interpolation of neighbours is exact."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(num_videos, 1, dim, generator=generator)
    b = torch.randn(num_videos, 1, dim, generator=generator)
    t = torch.arange(num_positions, dtype=torch.float32)[None, :, None]
    return a + t * b


@pytest.mark.parametrize("k", [2, 3])
def test_interpolation_is_exact_for_embeddings_linear_in_time(k):
    n = 4
    sequence = linear_in_time(3, (n - 1) * k + 1)
    kept = sequence[:, ::k]
    skipped = torch.cat([sequence[:, i * k + 1 : (i + 1) * k] for i in range(n - 1)], dim=1)
    report = fidelity_metrics(kept, skipped.clone(), skipped, k)
    assert report["linear_interpolation"]["mse"] == pytest.approx(0.0, abs=1e-10)
    assert report["linear_interpolation"]["centred_cosine"] == pytest.approx(1.0, abs=1e-9)
    assert report["restored"]["mse"] == pytest.approx(0.0, abs=1e-12)
    assert report["copy_left"]["mse"] > 0 and report["copy_right"]["mse"] > 0
    baselines = neighbour_baselines(kept, k)
    # copy-left of the first skipped frame is f_0; copy-right is f_1
    torch.testing.assert_close(baselines["copy_left"][:, 0], kept[:, 0])
    torch.testing.assert_close(baselines["copy_right"][:, 0], kept[:, 1])


def test_centred_cosine_and_mse_on_hand_made_values():
    kept = torch.tensor([[[1.0, 0.0], [3.0, 0.0]]])  # interpolation -> (2, 0)
    target = torch.tensor([[[2.0, 2.0]]])
    restored = torch.tensor([[[0.0, 2.0]]])
    mean = torch.tensor([2.0, 0.0])
    report = fidelity_metrics(kept, restored, target, 2, mean_embedding=mean)
    # centred: restored (-2, 2) vs target (0, 2) -> cos = 4 / (sqrt(8) * 2)
    assert report["restored"]["centred_cosine"] == pytest.approx(4 / (8**0.5 * 2))
    assert report["restored"]["mse"] == pytest.approx((4 + 0) / 2)
    # interpolation (2, 0) centred is the zero vector: cosine 0 by convention of F.cosine_similarity
    assert report["linear_interpolation"]["centred_cosine"] == pytest.approx(0.0)
    assert report["linear_interpolation"]["mse"] == pytest.approx((0 + 4) / 2)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"expected \(1, 1, 2\)"):
        fidelity_metrics(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), 2)


def test_residual_model_at_init_matches_interpolation_exactly():
    model = tiny_model(restoration_mode="residual")
    config = model.config
    batches = [
        {
            "pixel_values": random_frames(config, seed=s),
            "skipped_pixel_values": random_frames(config, num_frames=3, seed=s + 9),
        }
        for s in range(2)
    ]
    gathered = collect_restoration_embeddings(model, batches)
    assert gathered["restored_embeds"].shape == (4, 3, 64)
    report = fidelity_metrics(gathered["frame_embeds"], gathered["restored_embeds"], gathered["target_embeds"], 2)
    assert report["restored"] == pytest.approx(report["linear_interpolation"], rel=1e-6, abs=1e-9)
    with pytest.raises(ValueError, match="keep_interval=1"):
        collect_restoration_embeddings(tiny_model(keep_interval=1), batches)


def test_fidelity_report_on_real_videos(make_video):
    """The report of eval.py --fidelity_report, on encoded videos through the evaluation transform."""
    datasets = pytest.importorskip("datasets")
    from modeling_sllm.data.arguments import SLLMDataArguments
    from modeling_sllm.data.inputs import SLLMVideoTransform

    model = tiny_model(restoration_mode="residual")
    videos = [str(make_video(f"f{i}.mp4", num_frames=24 + 8 * i)) for i in range(3)]
    dataset = datasets.Dataset.from_dict({"video": videos, "label": [0, 1, 2]})
    dataset.set_transform(
        SLLMVideoTransform.for_model(model.config, SLLMDataArguments(), training=False, with_skipped=True)
    )
    assert dataset[0]["skipped_pixel_values"].shape == (3, 3, 32, 32)
    report = restoration_fidelity(model, dataset, batch_size=2, show_progress=False)  # 2 + 1: no video dropped
    assert report["num_videos"] == 3 and report["num_skipped_frames"] == 9 and report["keep_interval"] == 2
    assert set(report["methods"]) == {"restored", "linear_interpolation", "copy_left", "copy_right"}
    for values in report["methods"].values():
        assert -1 <= values["centred_cosine"] <= 1 and -1 <= values["cosine"] <= 1 and values["mse"] >= 0
    # an untrained residual module is exactly linear interpolation
    assert report["restored_minus_interpolation"]["centred_cosine"] == pytest.approx(0.0, abs=1e-6)
    assert report["best_method"] in report["methods"]
    json.dumps(report)
    with pytest.raises(ValueError, match="one view per video"):
        restoration_fidelity(model, [{"pixel_values": torch.zeros(1, 2, 4, 3, 32, 32)}], show_progress=False)
    with pytest.raises(ValueError, match="with_skipped=True"):
        restoration_fidelity(model, iter([{"pixel_values": random_frames(model.config)}]), show_progress=False)
