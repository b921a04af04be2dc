"""Run by `torchrun --nproc_per_node 2` in test_distributed.py: the train entry point's `main`, recording per process
which videos it decoded and a digest of its parameters after training (in `$SLLM_DDP_REPORT_DIR/rank<r>.json`)."""

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from modeling_sllm.data.inputs import SLLMVideoTransform
from modeling_sllm.training import cli as train_script
from modeling_sllm.training.trainer import SLLMTrainer


seen: list[str] = []
original_transform = SLLMVideoTransform.transform_one


def recording_transform(self, video, source=""):
    if self.training:
        seen.append(str(video))
    return original_transform(self, video, source)


SLLMVideoTransform.transform_one = recording_transform

digests: dict[str, str] = {}
original_train = SLLMTrainer.train


def train_and_digest(self, *args, **kwargs):
    result = original_train(self, *args, **kwargs)
    model = self.accelerator.unwrap_model(self.model)
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().float().numpy().tobytes())
    digests["params"] = digest.hexdigest()
    digests["world_size"] = str(torch.distributed.get_world_size()) if torch.distributed.is_initialized() else "1"
    digests["backend"] = torch.distributed.get_backend() if torch.distributed.is_initialized() else "none"
    return result


SLLMTrainer.train = train_and_digest

if __name__ == "__main__":
    train_script.main(sys.argv[1:])
    rank = int(os.environ.get("RANK", "0"))
    report = Path(os.environ["SLLM_DDP_REPORT_DIR"]) / f"rank{rank}.json"
    report.write_text(json.dumps({"videos": seen, **digests}))
