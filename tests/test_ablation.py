"""scripts/ablation.py: the variants it trains and the report it writes (the runs themselves are train.py's)."""

import importlib.util
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
from modeling_sllm.benchmarks import ablation  # noqa: E402


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
