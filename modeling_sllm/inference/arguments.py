# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The arguments of `scripts/predict.py` (`sllm-predict`), parsed by `HfArgumentParser`."""

from dataclasses import dataclass, field

from modeling_sllm.checks import check_positive_int
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE


__all__ = ["DTYPES", "FOLDER_LAYOUTS", "OUTPUT_FORMATS", "SLLMPredictArguments"]

DTYPES = ("float32", "bfloat16", "float16")
FOLDER_LAYOUTS = ("recursive", "videofolder")
OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv"}


@dataclass
class SLLMPredictArguments:
    """Classify many videos with an SLLM model: one output row per video (top-k labels and scores, or its error)."""

    model_name_or_path: str = field(metadata={"help": "The model: a saved folder or a Hub id."})
    output: str = field(
        metadata={
            "help": "Output file, `.jsonl` (one JSON object a line) or `.csv`. An existing file is resumed: the "
            "videos already in it are skipped, the others appended."
        }
    )
    videos: str | None = field(
        default=None,
        metadata={
            "help": "A video file, or a folder: every video file and frame folder under it (recursively; "
            "`--folder_layout videofolder` reads root/<class>/<video> and records the true class)."
        },
    )
    folder_layout: str = field(
        default="recursive",
        metadata={"help": "How `--videos` is read: `recursive` or `videofolder`.", "choices": FOLDER_LAYOUTS},
    )
    annotation_list: str | None = field(
        default=None,
        metadata={"help": "An annotation list in the release format `path total_num_frames label` (see --data_root)."},
    )
    data_root: str | None = field(default=None, metadata={"help": "The folder the list's paths are relative to."})
    label_file: str | None = field(
        default=None,
        metadata={
            "help": "Label file `id;name;description` naming the classes of a list or videofolder (default: the "
            "model's id2label)."
        },
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "A `datasets` dataset: Hub id, loading script/folder, or save_to_disk folder."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "The dataset's configuration name."})
    dataset_split: str | None = field(
        default=None, metadata={"help": "The split to classify (needed when the dataset has several)."}
    )
    video_column: str = field(
        default="video", metadata={"help": "The dataset's video column (a path, or a {path, bytes} Video value)."}
    )
    label_column: str | None = field(
        default=None, metadata={"help": "The dataset's label column, recorded as `true_label` (optional)."}
    )
    frame_template: str = field(
        default=DEFAULT_FRAME_TEMPLATE, metadata={"help": "File names of the frames of frame folders."}
    )
    frame_start_index: int = field(default=1, metadata={"help": "Number of the first frame file of frame folders."})
    batch_size: int | None = field(
        default=None,
        metadata={
            "help": "Videos per forward pass. Default: 4 on a CPU (on 2 AVX-512 cores a forward of 4 B/32 videos "
            "took 7-8%% less time per video than 4 forwards of one in float32, 12-15%% less in bfloat16), 8 on a GPU."
        },
    )
    num_workers: int = field(
        default=2,
        metadata={
            "help": "DataLoader workers decoding videos while the model runs (0: in the main process). Each decodes "
            "on one thread at the lowest CPU priority, so that it takes the cores the model leaves idle."
        },
    )
    top_k: int = field(default=5, metadata={"help": "Labels and scores written per video (at most the classes)."})
    dtype: str = field(
        default="float32",
        metadata={
            "help": "Model dtype (bfloat16 is fast on CPUs with AVX-512 BF16 or AMX, and on GPUs).",
            "choices": DTYPES,
        },
    )
    use_cpu: bool = field(default=False, metadata={"help": "Run on the CPU even when a GPU is available."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Load the model's own code from its folder."})
    retry_errors: bool = field(
        default=False,
        metadata={"help": "On resume, classify again the videos whose rows are errors (their rows are replaced)."},
    )
    compare_with_pipeline: bool = field(
        default=False,
        metadata={
            "help": "Benchmark: time this script and a plain loop over pipeline('video-classification') on the same "
            "videos, check they agree and print both videos/s and their ratio (writes --output as usual)."
        },
    )
    compare_num_videos: int | None = field(
        default=None,
        metadata={"help": "With --compare_with_pipeline: classify this many videos, cycling through the given ones."},
    )
    compare_rounds: int = field(
        default=1,
        metadata={
            "help": "With --compare_with_pipeline: interleaved rounds of both (the median and the best are printed)."
        },
    )

    def __post_init__(self):
        sources = [name for name in ("videos", "annotation_list", "dataset_name") if getattr(self, name)]
        if len(sources) != 1:
            raise ValueError(
                "Give exactly one video source: --videos, --annotation_list or --dataset_name "
                f"(got {sources or 'none'})."
            )
        if self.output_format is None:
            raise ValueError(f"--output must end with {' or '.join(OUTPUT_FORMATS)}, got {self.output!r}.")
        if self.folder_layout not in FOLDER_LAYOUTS:
            raise ValueError(f"--folder_layout must be one of {FOLDER_LAYOUTS}, got {self.folder_layout!r}.")
        if self.dtype not in DTYPES:
            raise ValueError(f"--dtype must be one of {DTYPES}, got {self.dtype!r}.")
        if self.data_root is not None and self.annotation_list is None:
            raise ValueError("--data_root is the root of an --annotation_list's paths; give the list too.")
        if self.batch_size is not None:
            self.batch_size = check_positive_int("batch_size", self.batch_size)
        self.top_k = check_positive_int("top_k", self.top_k)
        self.num_workers = check_positive_int("num_workers", self.num_workers, minimum=0)
        self.frame_start_index = check_positive_int("frame_start_index", self.frame_start_index, minimum=0)
        if self.compare_num_videos is not None:
            self.compare_num_videos = check_positive_int("compare_num_videos", self.compare_num_videos)
            if not self.compare_with_pipeline:
                raise ValueError("--compare_num_videos sets the videos of --compare_with_pipeline; give that too.")
        self.compare_rounds = check_positive_int("compare_rounds", self.compare_rounds)
        if self.compare_rounds != 1 and not self.compare_with_pipeline:
            raise ValueError("--compare_rounds sets the rounds of --compare_with_pipeline; give that too.")

    @property
    def output_format(self) -> str | None:
        """`"jsonl"` or `"csv"` (from the output's extension), `None` for another extension."""
        for extension, name in OUTPUT_FORMATS.items():
            if self.output.lower().endswith(extension):
                return name
        return None
