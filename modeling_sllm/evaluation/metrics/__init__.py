"""Local `evaluate` metric modules shipped with SLLM-HF (the Hub cannot be reached to fetch metrics)."""

import os


SLLM_ACCURACY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sllm_accuracy")


def load_sllm_accuracy(**kwargs):
    """`evaluate.load` of the shipped top-1 / top-5 / mean-class-accuracy metric (no network access)."""
    import evaluate

    return evaluate.load(SLLM_ACCURACY_PATH, **kwargs)
