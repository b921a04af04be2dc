"""The ablation (`modeling_sllm.benchmarks.ablation`, `sllm-ablation`): the variants it trains, the report it writes
and its interleaved timing (the runs themselves are train.py's)."""

import pytest

from modeling_sllm.benchmarks import ablation
from sllm_testing import tiny_model


def _args(arguments):
    return dict(zip(arguments[::2], arguments[1::2]))


def test_variants_encode_the_intended_frames():
    assert _args(ablation.variant_arguments("baseline_2n", 4)) == {"--num_frames": "8", "--keep_interval": "1"}
    assert _args(ablation.variant_arguments("baseline_n", 4)) == {"--num_frames": "4", "--keep_interval": "1"}
    paper = _args(ablation.variant_arguments("sllm_paper", 4))
    assert paper["--keep_interval"] == "2" and paper["--restoration_mode"] == "paper" and paper["--num_frames"] == "4"
    residual = _args(ablation.variant_arguments("sllm_residual", 4))
    assert residual["--restoration_mode"] == "residual" and residual["--restoration_loss"] == "normalized_mse"
    own = _args(ablation.variant_arguments("sllm_residual_own_loss", 4))
    assert own["--restoration_mode"] == "residual" and own["--restoration_trained_by_head"] == "false"
    with pytest.raises(ValueError, match="Unknown variant"):
        ablation.variant_arguments("sllm_fancy", 4)


def _fidelity(restored, interpolation):
    methods = {"restored": restored, "linear_interpolation": interpolation, "copy_left": 0.5, "copy_right": 0.4}
    return {name: {"centred_cosine": value, "mse": 1 - value} for name, value in methods.items()}


def test_report_has_mean_and_std_over_seeds_and_the_fidelity_rows():
    rows = []
    for seed, offset in ((1, 0.0), (2, 0.1)):
        for variant in ("baseline_2n", "sllm_residual"):
            row = {"variant": variant, "seed": seed, "top1": 0.5 + offset, "train_seconds": 10.0,
                   "eval_videos_per_second": 20.0, "model_videos_per_second": 100.0}
            if variant == "sllm_residual":
                row["fidelity"] = _fidelity(0.9 + offset / 10, 0.8)
            rows.append(row)
    report = ablation.summarise(rows, {"baseline_2n": {"median": 50.0, "min": 40.0, "max": 60.0}})
    lines = report.splitlines()
    baseline = next(line for line in lines if line.startswith("| baseline_2n |"))
    assert "0.550 ± 0.071" in baseline and "0.500, 0.600" in baseline and "50 (40-60)" in baseline
    fidelity = [line for line in lines if line.startswith("| sllm_residual | ")]
    assert len(fidelity) == 3  # the accuracy row and one fidelity row per seed
    assert "| sllm_residual | 2 | 0.910 | 0.800 | 0.500 | 0.400 |" in report


def test_interleaved_throughput_times_the_first_seed_of_every_trained_variant(tmp_path):
    for variant, keep_interval in (("baseline_n", 1), ("sllm_residual", 2)):
        tiny_model(keep_interval=keep_interval).save_pretrained(tmp_path / f"{variant}_seed1")
    args = ablation.SLLMAblationArguments(
        output_dir=str(tmp_path), variants=["baseline_n", "sllm_residual", "sllm_paper"], throughput_batch_size=2
    )
    rows = [{"variant": "baseline_n", "seed": 1}, {"variant": "sllm_residual", "seed": 1}]
    throughput = ablation.interleaved_throughput(args, rows, repetitions=3)
    assert set(throughput) == {"baseline_n", "sllm_residual"}  # sllm_paper has no run
    for timing in throughput.values():
        assert 0 < timing["min"] <= timing["median"] <= timing["max"]
    assert ablation.interleaved_throughput(args, [], repetitions=3) == {}


def test_bad_variants_and_counts_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown variants"):
        ablation.main(["--output_dir", str(tmp_path / "out"), "--variants", "sllm_fancy"])
    with pytest.raises(ValueError, match="num_frames"):
        ablation.variant_arguments("sllm_paper", 0)
    assert not (tmp_path / "out").exists()
