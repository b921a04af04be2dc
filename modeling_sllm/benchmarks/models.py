# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The benchmark's model zoo: SLLM, the Text4Vis baselines on the same CLIP tower, and Transformers' X-CLIP, VideoMAE
and TimeSformer, all with random weights (timing does not depend on them), each with the preprocessing that feeds it
from an encoded video.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

from modeling_sllm import video_io
from modeling_sllm.checks import check_positive_int
from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.demo.tiny_clip import TINY_VISION_CONFIG, tiny_sllm_config
from modeling_sllm.modeling_sllm import SLLMForVideoClassification
from modeling_sllm.sampling import sample_segment_indices
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


__all__ = [
    "BASE_VISION_CONFIG",
    "BENCHMARK_FAMILIES",
    "SLLM_FAMILIES",
    "VISION_SIZES",
    "BenchmarkModel",
    "PreparedVideos",
    "XCLIPVideoClassifier",
    "build_benchmark_models",
    "build_sllm_models",
    "build_timesformer",
    "build_videomae",
    "build_xclip",
    "xclip_config",
]

# CLIP ViT-B vision towers (OpenAI CLIP sizes); the patch size picks B/32 or B/16.
BASE_VISION_CONFIG = dict(
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    projection_dim=512,
    image_size=224,
)
VISION_SIZES = {"B/32": 32, "B/16": 16}

# Model families, in table order. The first three share the CLIP tower of the chosen size.
BENCHMARK_FAMILIES = ("sllm", "text4vis_2n", "text4vis_n", "xclip", "videomae", "timesformer")
SLLM_FAMILIES = ("sllm", "text4vis_2n", "text4vis_n")

# The tiny tower without CLIP's projection: the shape of a tiny ViT for X-CLIP's vision encoder, VideoMAE, TimeSformer.
_TINY_VIT = {key: value for key, value in TINY_VISION_CONFIG.items() if key != "projection_dim"}


class PreparedVideos(NamedTuple):
    """
    What a model's preprocessing returns for a batch of encoded videos.

    Attributes:
        pixel_values (`torch.Tensor` of shape `(batch_size, num_frames, 3, image_size, image_size)`): model inputs.
        frame_indices (`list[list[int]]`): per video, the indices of the frames that were decoded and converted to
            RGB (as reported by the reader: the processor's `video_metadata[i].frames_indices`).
    """

    pixel_values: torch.Tensor
    frame_indices: list[list[int]]


@dataclass
class BenchmarkModel:
    """
    One row of the benchmark: a model in eval mode and how to feed it.

    Attributes:
        key (`str`): unique id of the row, e.g. `"sllm@B/32"`.
        name (`str`): display name, e.g. `"SLLM 8->15"`.
        family (`str`): one of `BENCHMARK_FAMILIES`.
        size (`str`): vision size (`"B/32"`, `"B/16"`, `"tiny"`, or the size of a Transformers baseline).
        model (`nn.Module`): called as `model(pixel_values=...)`.
        num_frames (`int`): frames per video in the model's input tensor (= frames decoded and converted per video).
        encoded_frames (`int`): frames (or, for VideoMAE, frames folded into tubelets) that the image encoder sees.
        temporal_frames (`int`): frame features the temporal head combines (`2N - 1` for SLLM).
        image_size (`int`): input frames are `image_size x image_size`.
        preprocess (`Callable[[list[str]], PreparedVideos]`): decodes and transforms a batch of video files into the
            model's `pixel_values`, with the indices of the frames it decoded.
        notes (`str`): what exactly is timed.
        components (`dict[str, tuple[nn.Module, tuple[int, ...]]]`): sub-modules timed on their own, with the shape
            of the random embeddings they take (SLLM: restoration and temporal head).
    """

    key: str
    name: str
    family: str
    size: str
    model: nn.Module
    num_frames: int
    encoded_frames: int
    temporal_frames: int
    image_size: int
    preprocess: Callable[[list[str]], PreparedVideos]
    notes: str = ""
    components: dict[str, tuple[nn.Module, tuple[int, ...]]] = field(default_factory=dict)

    def random_inputs(self, batch_size: int, device: torch.device, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
        """Random pixel values `(batch_size, num_frames, 3, image_size, image_size)` for the model-only timing."""
        generator = torch.Generator().manual_seed(seed)
        shape = (batch_size, self.num_frames, 3, self.image_size, self.image_size)
        return torch.randn(shape, generator=generator).to(device=device, dtype=dtype)


def _id2label(num_classes: int) -> dict[int, str]:
    check_positive_int("num_classes", num_classes)
    return {index: f"class_{index}" for index in range(num_classes)}


def _sllm_config(size: str, num_frames: int, keep_interval: int, num_classes: int) -> SLLMConfig:
    """The SLLM config of a benchmark row: the tiny test config, or a CLIP ViT-B/32 or B/16 tower."""
    id2label = _id2label(num_classes)
    if size == "tiny":
        return tiny_sllm_config(num_frames=num_frames, keep_interval=keep_interval, id2label=id2label)
    if size not in VISION_SIZES:
        raise ValueError(f"Unknown vision size {size!r}; choose from {sorted(VISION_SIZES)} (or use tiny mode).")
    vision_config = dict(BASE_VISION_CONFIG, patch_size=VISION_SIZES[size])
    return SLLMConfig(
        num_frames=num_frames, keep_interval=keep_interval, vision_config=vision_config, id2label=id2label
    )


def _processor_preprocessor(processor: SLLMVideoProcessor) -> Callable[[list[str]], PreparedVideos]:
    """Decode (only the frames the model encodes) and transform video files with the model's own processor."""

    def preprocess(videos: list[str]) -> PreparedVideos:
        outputs = processor(videos=list(videos), return_tensors="pt", return_metadata=True)
        indices = [list(metadata.frames_indices) for metadata in outputs["video_metadata"]]
        return PreparedVideos(outputs["pixel_values"], indices)

    return preprocess


def build_sllm_models(
    size: str, num_kept_frames: int = 8, num_classes: int = 10, seed: int = 0, families: Sequence[str] = SLLM_FAMILIES
) -> list[BenchmarkModel]:
    """
    SLLM and the two Text4Vis baselines sharing its CLIP vision tower config (random weights):

    - `"sllm"`: `SLLMConfig(num_frames=N, keep_interval=2)`: encodes `N` frames, restores `N - 1`, head on `2N - 1`;
    - `"text4vis_2n"`: `SLLMConfig(num_frames=2N, keep_interval=1)`: the same tower on all `T = 2N` frames (the
      T-frame Text4Vis model SLLM replaces: the paper's comparison);
    - `"text4vis_n"`: `SLLMConfig(num_frames=N, keep_interval=1)`: the same tower on `N` frames, no restoration.

    `size` is `"B/32"`, `"B/16"` or `"tiny"` ([`tiny_sllm_config`]). End to end, each decodes its own frames through
    [`SLLMVideoProcessor`] (SLLM: only the `N` kept frames of the `2N` TSN segments; the baselines: every one of
    their `2N` or `N` segment centres).
    """
    n = check_positive_int("num_kept_frames", num_kept_frames, minimum=2)  # SLLM restores between kept frames
    variants = {
        "sllm": dict(num_frames=n, keep_interval=2, name=f"SLLM {n}->{2 * n - 1}"),
        "text4vis_2n": dict(num_frames=2 * n, keep_interval=1, name=f"Text4Vis {2 * n}f"),
        "text4vis_n": dict(num_frames=n, keep_interval=1, name=f"Text4Vis {n}f"),
    }
    models = []
    for family in families:
        if family not in variants:
            raise ValueError(f"build_sllm_models builds {tuple(variants)}, got {family!r}")
        variant = variants[family]
        config = _sllm_config(size, variant["num_frames"], variant["keep_interval"], num_classes)
        torch.manual_seed(seed)
        model = SLLMForVideoClassification(config).eval()
        components = {}
        if model.sllm.restoration is not None:
            components["restoration"] = (model.sllm.restoration, (config.num_frames, config.hidden_size))
        components["temporal_head"] = (model.sllm.temporal_head, (config.sequence_length, config.hidden_size))
        models.append(
            BenchmarkModel(
                key=f"{family}@{size}",
                name=variant["name"],
                family=family,
                size=size,
                model=model,
                num_frames=config.num_frames,
                encoded_frames=config.num_frames,
                temporal_frames=config.sequence_length,
                image_size=config.vision_config.image_size,
                preprocess=_processor_preprocessor(SLLMVideoProcessor.from_model_config(config)),
                notes=(
                    "CLIP tower + FFRes restoration + temporal transformer + Text4Vis classifier"
                    if family == "sllm"
                    else "CLIP tower + temporal transformer + Text4Vis classifier"
                ),
                components=components,
            )
        )
    return models


def _segment_preprocessor(num_frames: int, processor) -> Callable[[list[str]], PreparedVideos]:
    """Decode `num_frames` TSN segment centres of each video with the project's reader, then apply `processor`."""

    def choose(total: int, fps: float | None) -> np.ndarray:
        return sample_segment_indices(total, num_frames, training=False)

    def preprocess(videos: list[str]) -> PreparedVideos:
        clips = [video_io.read_sampled_frames(video, choose, exact_count=False) for video in videos]
        pixel_values = processor(videos=[clip.frames for clip in clips], return_tensors="pt")["pixel_values"]
        return PreparedVideos(pixel_values, [clip.indices.tolist() for clip in clips])

    return preprocess


class XCLIPVideoClassifier(nn.Module):
    """
    The video path of an X-CLIP classifier with a fixed set of class prompts.

    Runs what `XCLIPModel.forward` runs for the video: the cross-frame vision encoder on every frame, the visual
    projection, the multi-frame integration transformer (MIT), and the video-specific prompt generator that conditions
    every class text embedding on the video's patch features, then the scaled cosine logits. The class text
    embeddings are computed once by the text encoder at construction (a deployed classifier caches them, just as
    SLLM's classifier holds fixed text features), so the text encoder is not timed.

    Args:
        model (`XCLIPModel`): the X-CLIP model (its text encoder is used once, then not kept).
        input_ids (`torch.LongTensor` of shape `(num_classes, length)`): tokenised class prompts.
    """

    def __init__(self, model, input_ids: torch.LongTensor):
        super().__init__()
        with torch.no_grad():
            text_embeds = model.get_text_features(input_ids=input_ids).pooler_output
        self.register_buffer("text_embeds", text_embeds.detach().clone())
        self.vision_model = model.vision_model
        self.visual_projection = model.visual_projection
        self.mit = model.mit
        self.prompts_visual_layernorm = model.prompts_visual_layernorm
        self.prompts_visual_projection = model.prompts_visual_projection
        self.prompts_generator = model.prompts_generator
        self.logit_scale = model.logit_scale

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """`pixel_values` `(batch_size, num_frames, 3, H, W)` -> logits `(batch_size, num_classes)`."""
        batch_size, num_frames = pixel_values.shape[:2]
        vision_outputs = self.vision_model(pixel_values=pixel_values.flatten(0, 1))
        frame_embeds = self.visual_projection(vision_outputs.pooler_output).view(batch_size, num_frames, -1)
        video_embeds = self.mit(frame_embeds).pooler_output

        patch_features = self.prompts_visual_layernorm(vision_outputs.last_hidden_state[:, 1:, :])
        patch_features = patch_features @ self.prompts_visual_projection
        patch_features = patch_features.view(batch_size, num_frames, -1, video_embeds.shape[-1]).mean(dim=1)

        text_embeds = self.text_embeds.to(video_embeds.dtype).unsqueeze(0).expand(batch_size, -1, -1)
        text_embeds = text_embeds + self.prompts_generator(text_embeds, patch_features)

        video_embeds = video_embeds / video_embeds.norm(p=2, dim=-1, keepdim=True)
        text_embeds = text_embeds / text_embeds.norm(p=2, dim=-1, keepdim=True)
        return torch.einsum("bd,bkd->bk", video_embeds, self.logit_scale.exp() * text_embeds)


def xclip_config(num_frames: int = 8, tiny: bool = False):
    """`XCLIPConfig()` (X-CLIP B/32: CLIP ViT-B/32 with message tokens, a 1-layer MIT, a 2-layer prompt generator) for
    `num_frames` frames, or a tiny version for tests (vision encoder = the tiny CLIP tower)."""
    from transformers import XCLIPConfig

    check_positive_int("num_frames", num_frames)
    if not tiny:
        config = XCLIPConfig()
        config.vision_config.num_frames = num_frames
        return config
    width, heads = TINY_VISION_CONFIG["hidden_size"], TINY_VISION_CONFIG["num_attention_heads"]
    projection = TINY_VISION_CONFIG["projection_dim"]  # the MIT runs on projected frame embeddings: same width
    return XCLIPConfig(
        # X-CLIP's own parts have no tiny home in tiny_clip: the text encoder (run once, for the cached prompts: one
        # layer, 100 tokens, 16 positions for 8-token prompts), the MIT and the prompt generator (1 layer).
        text_config=dict(
            vocab_size=100,
            hidden_size=width,
            intermediate_size=TINY_VISION_CONFIG["intermediate_size"],
            num_hidden_layers=1,
            num_attention_heads=heads,
            max_position_embeddings=16,
        ),
        vision_config=dict(
            _TINY_VIT,
            num_frames=num_frames,
            mit_hidden_size=projection,
            mit_intermediate_size=2 * projection,
            mit_num_attention_heads=heads,
        ),
        projection_dim=projection,
        prompt_layers=1,
        prompt_num_attention_heads=heads,
    )


def build_xclip(
    num_frames: int = 8, num_classes: int = 10, tiny: bool = False, seed: int = 0, prompt_length: int = 8
) -> BenchmarkModel:
    """
    X-CLIP B/32 ([`xclip_config`], random weights) as [`XCLIPVideoClassifier`] with `num_classes` prompts of
    `prompt_length` tokens. End to end: the project's PyAV reader decodes `num_frames` TSN segment centres, then
    CLIP-style transforms (short side to the crop size, centre crop, CLIP mean/std), as X-CLIP's processor does.
    """
    from transformers import VideoMAEVideoProcessor, XCLIPModel

    config = xclip_config(num_frames, tiny)
    image_size = config.vision_config.image_size
    torch.manual_seed(seed)
    xclip = XCLIPModel(config).eval()
    generator = torch.Generator().manual_seed(seed)
    length = min(check_positive_int("prompt_length", prompt_length), config.text_config.max_position_embeddings)
    num_classes = check_positive_int("num_classes", num_classes)
    input_ids = torch.randint(0, config.text_config.vocab_size, (num_classes, length), generator=generator)
    model = XCLIPVideoClassifier(xclip, input_ids).eval()
    processor = VideoMAEVideoProcessor(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_mean=OPENAI_CLIP_MEAN,
        image_std=OPENAI_CLIP_STD,
    )
    size = "tiny" if tiny else f"B/{config.vision_config.patch_size}"
    return BenchmarkModel(
        key=f"xclip@{size}",
        name=f"X-CLIP {num_frames}f",
        family="xclip",
        size=size,
        model=model,
        num_frames=num_frames,
        encoded_frames=num_frames,
        temporal_frames=num_frames,
        image_size=image_size,
        preprocess=_segment_preprocessor(num_frames, processor),
        notes=(
            f"video path: cross-frame vision encoder + MIT + prompt generator over {num_classes} cached class text "
            "embeddings (text encoder not timed)"
        ),
    )


def _build_video_vit(
    family: str, name: str, config_class, model_class, processor_class, num_frames: int, num_classes: int, tiny: bool,
    seed: int, notes: str,
) -> BenchmarkModel:
    """A Transformers video ViT classifier at its base defaults (or the tiny tower) with random weights, and its
    processor."""
    kwargs = dict(num_frames=check_positive_int("num_frames", num_frames), id2label=_id2label(num_classes))
    if tiny:
        kwargs.update(_TINY_VIT)
    config = config_class(**kwargs)
    torch.manual_seed(seed)
    model = model_class(config).eval()
    image_size = config.image_size
    processor = processor_class(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    size = "tiny" if tiny else f"B/{config.patch_size}"
    return BenchmarkModel(
        key=f"{family}@{size}",
        name=f"{name} {num_frames}f",
        family=family,
        size=size,
        model=model,
        num_frames=num_frames,
        encoded_frames=num_frames,
        temporal_frames=num_frames // getattr(config, "tubelet_size", 1),
        image_size=image_size,
        preprocess=_segment_preprocessor(num_frames, processor),
        notes=notes,
    )


def build_videomae(num_frames: int = 16, num_classes: int = 10, tiny: bool = False, seed: int = 0) -> BenchmarkModel:
    """VideoMAE base (`VideoMAEConfig()` defaults: ViT-B/16, tubelets of 2 frames) with a classification head."""
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification, VideoMAEVideoProcessor

    return _build_video_vit(
        "videomae", "VideoMAE", VideoMAEConfig, VideoMAEForVideoClassification, VideoMAEVideoProcessor, num_frames,
        num_classes, tiny, seed, "VideoMAEForVideoClassification (joint space-time attention over tubelets)",
    )


def build_timesformer(num_frames: int = 8, num_classes: int = 10, tiny: bool = False, seed: int = 0) -> BenchmarkModel:
    """TimeSformer base (`TimesformerConfig()` defaults: ViT-B/16, divided space-time attention) with its head."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification, TimesformerVideoProcessor

    return _build_video_vit(
        "timesformer", "TimeSformer", TimesformerConfig, TimesformerForVideoClassification,
        TimesformerVideoProcessor, num_frames, num_classes, tiny, seed,
        "TimesformerForVideoClassification (divided space-time attention)",
    )


def build_benchmark_models(
    families: Sequence[str] = BENCHMARK_FAMILIES,
    sizes: Sequence[str] = ("B/32", "B/16"),
    num_kept_frames: int = 8,
    num_classes: int = 10,
    tiny: bool = False,
    xclip_frames: int | None = None,
    videomae_frames: int | None = None,
    timesformer_frames: int | None = None,
    seed: int = 0,
) -> list[BenchmarkModel]:
    """
    Every model of the benchmark, in table order. The SLLM family is built for each size of `sizes` (ignored in tiny
    mode, which has the single size `"tiny"`); the Transformers baselines once each. Frame counts default to the
    issue's settings relative to `N = num_kept_frames`: X-CLIP `N` (same encoded frames as SLLM), VideoMAE `2N`,
    TimeSformer `N`.
    """
    unknown = [family for family in families if family not in BENCHMARK_FAMILIES]
    if unknown:
        raise ValueError(f"Unknown model families {unknown}; choose from {BENCHMARK_FAMILIES}")
    if not families:
        raise ValueError("No model family selected.")
    n = check_positive_int("num_kept_frames", num_kept_frames)
    sizes = ["tiny"] if tiny else list(sizes)
    sllm_families = [family for family in BENCHMARK_FAMILIES if family in SLLM_FAMILIES and family in families]
    if sllm_families and not sizes:
        raise ValueError("No vision size selected for the SLLM family.")
    models = []
    for size in sizes if sllm_families else []:
        models.extend(build_sllm_models(size, n, num_classes, seed=seed, families=sllm_families))
    if "xclip" in families:
        models.append(build_xclip(xclip_frames or n, num_classes, tiny=tiny, seed=seed))
    if "videomae" in families:
        models.append(build_videomae(videomae_frames or 2 * n, num_classes, tiny=tiny, seed=seed))
    if "timesformer" in families:
        models.append(build_timesformer(timesformer_frames or n, num_classes, tiny=tiny, seed=seed))
    return models
