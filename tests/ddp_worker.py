"""Records, in each process of a data-parallel test run, which videos it decoded for training, a digest of its
parameters after training, its process group and the folders it saved the model to, into
`$SLLM_DDP_REPORT_DIR/rank<r>.json` when the process exits.

Two uses:
- `torchrun --nproc_per_node 2 tests/ddp_worker.py <training arguments>` (test_distributed.py): the train entry
  point's `main` with the recorders installed;
- the real `scripts/train.py` under `accelerate launch` (test_accelerate_launch.py): a `sitecustomize.py` on
  `PYTHONPATH` calls [`install_recorders`] in every process that has a `LOCAL_RANK`.
"""

import atexit
import hashlib
import json
import os
import sys
from pathlib import Path

import torch


record: dict = {"videos": [], "saves": []}


def _write_report() -> None:
    report_dir = os.environ.get("SLLM_DDP_REPORT_DIR")
    if report_dir and "RANK" in os.environ:
        path = Path(report_dir) / f"rank{os.environ['RANK']}.json"
        path.write_text(json.dumps(record))


def install_recorders() -> None:
    """Wraps the training transform (videos decoded), `SLLMTrainer.train` (parameter digest, world size, backend) and
    `save_pretrained` (folders written), and writes the report at exit."""
    from transformers import PreTrainedModel

    from modeling_sllm.data.inputs import SLLMVideoTransform
    from modeling_sllm.training.trainer import SLLMTrainer

    original_transform = SLLMVideoTransform.transform_one
    original_train = SLLMTrainer.train
    original_save = PreTrainedModel.save_pretrained

    def recording_transform(self, video, *args, **kwargs):
        if self.training:
            record["videos"].append(str(video))
        return original_transform(self, video, *args, **kwargs)

    def train_and_digest(self, *args, **kwargs):
        result = original_train(self, *args, **kwargs)
        model = self.accelerator.unwrap_model(self.model)
        digest = hashlib.sha256()
        for name, value in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(value.detach().cpu().float().numpy().tobytes())
        record["params"] = digest.hexdigest()
        initialized = torch.distributed.is_initialized()
        record["world_size"] = str(torch.distributed.get_world_size()) if initialized else "1"
        record["backend"] = torch.distributed.get_backend() if initialized else "none"
        return result

    def recording_save(self, save_directory, *args, **kwargs):
        if type(self).__name__.startswith("SLLM"):
            record["saves"].append(str(save_directory))
        return original_save(self, save_directory, *args, **kwargs)

    SLLMVideoTransform.transform_one = recording_transform
    SLLMTrainer.train = train_and_digest
    PreTrainedModel.save_pretrained = recording_save
    atexit.register(_write_report)


if __name__ == "__main__":
    from modeling_sllm.training import cli as train_script

    install_recorders()
    train_script.main(sys.argv[1:])
