"""Conversion of released SLLM/Text4Vis checkpoints, checked against an independent reference of the original forward.

The reference below is written from METHOD.md, in the released (OpenAI CLIP) layout and in plain torch functions: it
reads the released state dict directly (stacked `in_proj` attention, QuickGELU, LayerNorm eps 1e-5 in the ViT and
1e-12 in the video heads, restoration pair by pair in a Python loop, Text4Vis "Transf" fusion), so it shares no code
with `modeling_sllm`.
"""

import argparse
import json
import math
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from modeling_sllm import SLLMConfig, SLLMForVideoClassification, SLLMVideoProcessor
from modeling_sllm.demo.tiny_clip import TINY_VISION_CONFIG, save_tiny_random_clip, tiny_sllm_config
from modeling_sllm.publishing import convert_cli
from modeling_sllm.publishing.conversion import convert_original_checkpoint, save_converted
from modeling_sllm.publishing.conversion_mapping import SLLMConversionError, infer_config_kwargs
from modeling_sllm.publishing.conversion_report import SLLMConversionReport
from modeling_sllm.publishing.naming import backbone_name
from transformers import AutoModelForVideoClassification, AutoTokenizer, CLIPModel, CLIPVisionConfig, pipeline

ROOT = Path(__file__).resolve().parents[1]
CLASSES = [("ride bike", "a person pedalling a bicycle"), ("walk dog", "someone walking a dog"), ("jump rope", None)]
# Tiny released architecture, of the project's tiny sizes (`TINY_VISION_CONFIG`, `tiny_sllm_config`): ViT width 32
# (2 heads), 2 layers, 32px images, patch 16; embedding width 64 with heads of the tiny head_dim (32);
# 2 fusion and 2 restoration layers.
_TINY_SLLM = tiny_sllm_config()
_SIZES = ("hidden_size", "num_hidden_layers", "num_attention_heads", "patch_size", "image_size", "projection_dim")
WIDTH, LAYERS, VISION_HEADS, PATCH, IMAGE, EMBED = (TINY_VISION_CONFIG[key] for key in _SIZES)
HEADS = EMBED // _TINY_SLLM.head_dim
TINY = dict(vision_head_dim=WIDTH // VISION_HEADS, head_dim=_TINY_SLLM.head_dim)


# ----------------------------------------------------------------------------------------------------------------
# A random checkpoint in the released layout
# ----------------------------------------------------------------------------------------------------------------


# Inputs of the first LayerNorms (ViT `ln_pre`, first restoration and fusion blocks) are scaled so that their variance
# (~1e-5) is comparable to CLIP's eps 1e-5: a wrong eps (1e-5 instead of 1e-12 in the video heads, or the reverse in
# the ViT) then changes the logits far beyond the test tolerance.
SMALL = 3e-3


def make_original_state_dict(fusion_layers=2, restore_layers=2, positions=77, seed=0) -> dict[str, torch.Tensor]:
    """Random weights with the released key names and shapes (`restore_layers=0`: plain Text4Vis; `fusion_layers=0`:
    no fusion transformer, i.e. a mean head)."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape, std=0.1):
        return torch.randn(*shape, generator=generator) * std

    state = {}

    def block(prefix, width):
        state[prefix + "attn.in_proj_weight"] = rand(3 * width, width, std=width**-0.5)
        state[prefix + "attn.in_proj_bias"] = rand(3 * width)
        state[prefix + "attn.out_proj.weight"] = rand(width, width, std=width**-0.5)
        state[prefix + "attn.out_proj.bias"] = rand(width)
        state[prefix + "ln_1.weight"] = 1 + rand(width)
        state[prefix + "ln_1.bias"] = rand(width)
        state[prefix + "mlp.c_fc.weight"] = rand(4 * width, width, std=width**-0.5)
        state[prefix + "mlp.c_fc.bias"] = rand(4 * width)
        state[prefix + "mlp.c_proj.weight"] = rand(width, 4 * width, std=(4 * width) ** -0.5)
        state[prefix + "mlp.c_proj.bias"] = rand(width)
        state[prefix + "ln_2.weight"] = 1 + rand(width)
        state[prefix + "ln_2.bias"] = rand(width)

    grid = IMAGE // PATCH
    state["visual.class_embedding"] = rand(WIDTH, std=SMALL)
    state["visual.positional_embedding"] = rand(grid * grid + 1, WIDTH, std=SMALL)
    state["visual.proj"] = rand(WIDTH, EMBED, std=SMALL * WIDTH**-0.5)
    state["visual.conv1.weight"] = rand(WIDTH, 3, PATCH, PATCH, std=SMALL * (3 * PATCH * PATCH) ** -0.5)
    state["visual.ln_pre.weight"] = 1 + rand(WIDTH)
    state["visual.ln_pre.bias"] = rand(WIDTH)
    for layer in range(LAYERS):
        block(f"visual.transformer.resblocks.{layer}.", WIDTH)
    state["visual.ln_post.weight"] = 1 + rand(WIDTH)
    state["visual.ln_post.bias"] = rand(WIDTH)
    state["logit_scale"] = torch.tensor(math.log(20.0))
    if fusion_layers:
        state["fusion_model.frame_position_embeddings.weight"] = rand(positions, EMBED, std=SMALL)
        for layer in range(fusion_layers):
            block(f"fusion_model.transformer.resblocks.{layer}.", EMBED)
    if restore_layers:
        for layer in range(restore_layers):
            block(f"restore_model.resblocks.{layer}.", EMBED)
        state["restore_frame_position_embeddings.weight"] = rand(positions, EMBED, std=SMALL)
    return state


def save_release(path, state_dict, prefix="", epoch=29):
    """`torch.save` like the release: epoch, model_state_dict (optionally DataParallel-prefixed), optimizer state."""
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": {prefix + key: value for key, value in state_dict.items()},
            "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 5e-6, "params": [0, 1]}]},
        },
        path,
    )
    return path


# ----------------------------------------------------------------------------------------------------------------
# Independent reference of the released forward pass (from METHOD.md)
# ----------------------------------------------------------------------------------------------------------------


def ref_layer_norm(x, state, prefix, eps):
    return F.layer_norm(x, x.shape[-1:], state[prefix + "weight"], state[prefix + "bias"], eps)


def ref_attention(x, state, prefix, heads):
    """OpenAI/`nn.MultiheadAttention` layout: `x` is `(L, B, W)`, query/key/value stacked in `in_proj`."""
    length, batch, width = x.shape
    head = width // heads
    qkv = x @ state[prefix + "in_proj_weight"].t() + state[prefix + "in_proj_bias"]
    q, k, v = (t.reshape(length, batch * heads, head).transpose(0, 1) for t in qkv.split(width, dim=-1))
    weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(head), dim=-1)
    out = (weights @ v).transpose(0, 1).reshape(length, batch, width)
    return out @ state[prefix + "out_proj.weight"].t() + state[prefix + "out_proj.bias"]


def ref_resblock(x, state, prefix, heads, eps):
    x = x + ref_attention(ref_layer_norm(x, state, prefix + "ln_1.", eps), state, prefix + "attn.", heads)
    hidden = ref_layer_norm(x, state, prefix + "ln_2.", eps) @ state[prefix + "mlp.c_fc.weight"].t()
    hidden = hidden + state[prefix + "mlp.c_fc.bias"]
    hidden = hidden * torch.sigmoid(1.702 * hidden)  # QuickGELU
    return x + hidden @ state[prefix + "mlp.c_proj.weight"].t() + state[prefix + "mlp.c_proj.bias"]


def ref_transformer(x, state, prefix, heads, eps):
    """`x` `(B, L, W)` -> `(B, L, W)` through `prefix{i}.` blocks (sequence-first inside, as in CLIP)."""
    x = x.permute(1, 0, 2)
    layer = 0
    while f"{prefix}{layer}.ln_1.weight" in state:
        x = ref_resblock(x, state, f"{prefix}{layer}.", heads, eps)
        layer += 1
    return x.permute(1, 0, 2)


def ref_encode_image(images, state):
    """OpenAI CLIP ViT: `images` `(B, 3, H, W)` -> `(B, EMBED)`."""
    x = F.conv2d(images, state["visual.conv1.weight"], stride=PATCH)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    cls = state["visual.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + state["visual.positional_embedding"]
    x = ref_layer_norm(x, state, "visual.ln_pre.", 1e-5)
    x = ref_transformer(x, state, "visual.transformer.resblocks.", VISION_HEADS, 1e-5)
    return ref_layer_norm(x[:, 0], state, "visual.ln_post.", 1e-5) @ state["visual.proj"]


def ref_restore(frames, state):
    """The release's loop over pairs: (f_i, f_i+1) and (f_i+1, f_i) through the shared transformer, averaged
    token-wise over the two directions, then over the two tokens."""
    positions = state["restore_frame_position_embeddings.weight"][:2]
    restored = []
    for i in range(frames.shape[1] - 1):
        forward = torch.stack([frames[:, i], frames[:, i + 1]], dim=1) + positions
        backward = torch.stack([frames[:, i + 1], frames[:, i]], dim=1) + positions
        out_forward = ref_transformer(forward, state, "restore_model.resblocks.", HEADS, 1e-12)
        out_backward = ref_transformer(backward, state, "restore_model.resblocks.", HEADS, 1e-12)
        restored.append(((out_forward + out_backward) / 2).mean(dim=1))
    return restored


def ref_logits(kept_frames, state, text_features):
    """Released forward on the encoded frames `(B, N, 3, H, W)` -> logits `(B, C)`."""
    batch, num_frames = kept_frames.shape[:2]
    frames = ref_encode_image(kept_frames.flatten(0, 1), state).view(batch, num_frames, -1)
    if "restore_frame_position_embeddings.weight" in state:
        restored = ref_restore(frames, state)
        sequence = []
        for i in range(num_frames):
            sequence.append(frames[:, i])
            if i < num_frames - 1:
                sequence.append(restored[i])
        frames = torch.stack(sequence, dim=1)
    if "fusion_model.frame_position_embeddings.weight" in state:
        positions = state["fusion_model.frame_position_embeddings.weight"][: frames.shape[1]]
        hidden = ref_transformer(frames + positions, state, "fusion_model.transformer.resblocks.", HEADS, 1e-12)
        video = (hidden + frames).mean(dim=1)
    else:
        video = frames.mean(dim=1)
    video = video / video.norm(dim=-1, keepdim=True)
    text = text_features / text_features.norm(dim=-1, keepdim=True)
    return state["logit_scale"].exp() * video @ text.t()


def release_eval_indices(num_video_frames, num_segments=16):
    """Text4Vis evaluation frames: the centre of each of 16 segments, `int(i * n / T + (n / T - 1) / 2)`."""
    tick = num_video_frames / num_segments
    return [int(i * tick + (tick - 1) / 2) for i in range(num_segments)]


# ----------------------------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_random_clip(
        tmp_path_factory.mktemp("clip") / "tiny-clip",
        projection_dim=EMBED,
        vision_hidden_size=WIDTH,
        vision_layers=LAYERS,
        vision_heads=VISION_HEADS,
        image_size=IMAGE,
        patch_size=PATCH,
    )


@pytest.fixture(scope="module")
def label_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "labels.txt"
    path.write_text("".join(f"{i};{name};{description or ''}\n" for i, (name, description) in enumerate(CLASSES)))
    return path


@pytest.fixture(scope="module")
def state_dict():
    return make_original_state_dict()


@pytest.fixture(scope="module")
def release_checkpoint(tmp_path_factory, state_dict):
    return save_release(tmp_path_factory.mktemp("release") / "last_model.pt", state_dict)


def reference_text_features(clip_dir, prompts):
    clip = CLIPModel.from_pretrained(clip_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(clip_dir)
    inputs = tokenizer(prompts, padding="max_length", max_length=77, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return clip.get_text_features(**inputs).pooler_output


def convert(path, clip_dir, label_file, **kwargs):
    return convert_original_checkpoint(
        path, clip_model_name_or_path=clip_dir, label_file=label_file, **{**TINY, **kwargs}
    )


# ----------------------------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------------------------


def test_logits_match_the_reference_forward_on_the_release_eval_frames(
    release_checkpoint, state_dict, clip_dir, label_file, video_path, decode_frame_index
):
    model, processor, report = convert(release_checkpoint, clip_dir, label_file, release_eval_sampling=True)
    config = model.config
    assert (config.num_frames, config.keep_interval, config.restoration_num_layers) == (8, 2, 2)
    assert (config.temporal_head, config.temporal_num_layers, config.max_frame_positions) == ("transformer", 2, 77)
    assert config.vision_config.image_size == IMAGE and config.vision_config.num_attention_heads == VISION_HEADS
    assert config.id2label == {0: "ride bike", 1: "walk dog", 2: "jump rope"}
    assert report.epoch == 29 and report.stripped_prefix is None and not report.ignored_keys
    assert set(report.mapping) == set(state_dict)  # every source tensor is used
    assert report.other_entries == ["epoch", "optimizer_state_dict"]

    # the processor picks the release's frames: the 16 segment centres, even positions
    raw = processor(str(video_path), do_resize=False, do_center_crop=False, do_rescale=False, do_normalize=False)
    decoded = [decode_frame_index(frame.permute(1, 2, 0).numpy()) for frame in raw["pixel_values"][0]]
    assert decoded == release_eval_indices(30)[::2]

    # release: sample 16 frames (centres), keep every other one; ours: the converted folder's processor
    all_sixteen = SLLMVideoProcessor(num_frames=16, keep_interval=1, crop_size={"height": IMAGE, "width": IMAGE})
    release_frames = all_sixteen(str(video_path), return_tensors="pt")["pixel_values"][:, ::2]
    our_frames = processor(str(video_path), return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(our_frames, release_frames, rtol=0, atol=0)
    random_video = torch.randn(1, 8, 3, IMAGE, IMAGE, generator=torch.Generator().manual_seed(1))
    frames = torch.cat([our_frames, random_video])

    text_features = reference_text_features(clip_dir, [name for name, _ in CLASSES])
    with torch.no_grad():
        expected = ref_logits(frames, state_dict, text_features)
        logits = model(frames).logits
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    # the comparison is sensitive to the restoration module: without it the reference differs clearly
    without_restoration = {k: v for k, v in state_dict.items() if not k.startswith(("restore_", "restore_model."))}
    with torch.no_grad():
        assert (ref_logits(frames, without_restoration, text_features) - expected).abs().max() > 1e-2
        # ... and to the LayerNorm eps of the video heads (1e-12, not CLIP's 1e-5)
        for layer in model.sllm.temporal_head.encoder.layers:
            layer.layer_norm1.eps = layer.layer_norm2.eps = 1e-5
        assert (model(frames).logits - expected).abs().max() > 1e-2


def test_module_prefix_gives_the_same_model(tmp_path, state_dict, release_checkpoint, clip_dir, label_file):
    prefixed = save_release(tmp_path / "dp.pt", state_dict, prefix="module.", epoch=3)
    model, _, report = convert(prefixed, clip_dir, label_file, num_frames=4)
    reference, _, _ = convert(release_checkpoint, clip_dir, label_file, num_frames=4)
    assert report.stripped_prefix == "module." and report.epoch == 3
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)

    partly = {("module." + k if i % 2 else k): v for i, (k, v) in enumerate(state_dict.items())}
    torch.save({"model_state_dict": partly}, tmp_path / "mixed.pt")
    with pytest.raises(SLLMConversionError, match="only some keys carry the DataParallel prefix"):
        convert(tmp_path / "mixed.pt", clip_dir, label_file)


def test_plain_text4vis_checkpoint_without_restoration(tmp_path, clip_dir, label_file):
    state = make_original_state_dict(restore_layers=0, seed=4)
    path = save_release(tmp_path / "text4vis.pt", state)
    model, processor, report = convert(path, clip_dir, label_file, num_frames=6, prompt_mode="enhance")
    assert model.config.keep_interval == 1 and model.sllm.restoration is None and not report.has_restoration
    assert (processor.num_frames, processor.keep_interval) == (6, 1)
    frames = torch.randn(2, 6, 3, IMAGE, IMAGE, generator=torch.Generator().manual_seed(2))
    prompts = ["ride bike,a person pedalling a bicycle", "walk dog,someone walking a dog", "jump rope"]
    with torch.no_grad():
        expected = ref_logits(frames, state, reference_text_features(clip_dir, prompts))
        torch.testing.assert_close(model(frames).logits, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="no restoration module"):
        convert(path, clip_dir, label_file, keep_interval=2)
    with pytest.raises(ValueError, match="release_eval_sampling=True encodes every other sampled frame"):
        convert(path, clip_dir, label_file, release_eval_sampling=True)


def test_checkpoint_without_fusion_transformer_uses_a_mean_head(tmp_path, clip_dir, label_file):
    state = make_original_state_dict(fusion_layers=0, seed=5)
    model, _, report = convert(save_release(tmp_path / "meanp.pt", state), clip_dir, label_file, num_frames=3)
    assert model.config.temporal_head == "mean" and report.temporal_head == "mean"
    frames = torch.randn(1, 3, 3, IMAGE, IMAGE, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = ref_logits(frames, state, reference_text_features(clip_dir, [name for name, _ in CLASSES]))
        torch.testing.assert_close(model(frames).logits, expected, rtol=1e-5, atol=1e-5)


def test_unexpected_key_stops_with_its_name_and_shape_unless_ignored(tmp_path, state_dict, clip_dir, label_file):
    state = dict(state_dict, **{"visual.transformer.resblocks.0.attn.bias_k": torch.zeros(1, 1, WIDTH)})
    path = save_release(tmp_path / "extra.pt", state)
    bias_k = rf"'visual\.transformer\.resblocks\.0\.attn\.bias_k' \(1, 1, {WIDTH}\)"
    with pytest.raises(SLLMConversionError, match=bias_k):
        convert(path, clip_dir, label_file)
    _, _, report = convert(path, clip_dir, label_file, ignore_keys=[r".*\.bias_k"])
    assert report.ignored_keys == {"visual.transformer.resblocks.0.attn.bias_k": [1, 1, WIDTH]}


def test_mismatched_and_missing_keys_stop_with_names_and_shapes(tmp_path, state_dict, clip_dir, label_file):
    wrong = dict(state_dict)
    wrong["fusion_model.frame_position_embeddings.weight"] = torch.zeros(77, 100)
    with pytest.raises(
        SLLMConversionError,
        match=r"'fusion_model\.frame_position_embeddings\.weight' -> "
        r"'sllm\.temporal_head\.position_embeddings\.weight'"
        rf": checkpoint shape \(77, 100\), model expects \(77, {EMBED}\)",
    ):
        convert(save_release(tmp_path / "wrong.pt", wrong), clip_dir, label_file)

    wrong = dict(state_dict)
    wrong["restore_model.resblocks.1.attn.in_proj_weight"] = torch.zeros(3 * EMBED, EMBED // 2)
    with pytest.raises(SLLMConversionError, match=r"'restore_model\.resblocks\.1\.attn\.in_proj_weight' -> .*q_proj"):
        convert(save_release(tmp_path / "qkv.pt", wrong), clip_dir, label_file)

    missing = {k: v for k, v in state_dict.items() if k != "restore_model.resblocks.0.ln_2.bias"}
    with pytest.raises(SLLMConversionError, match=r"restoration\.encoder\.layers\.0\.layer_norm2\.bias"):
        convert(save_release(tmp_path / "missing.pt", missing), clip_dir, label_file)

    with pytest.raises(SLLMConversionError, match=rf"'visual\.positional_embedding' has shape \(6, {WIDTH}\)"):
        infer_config_kwargs(dict(state_dict, **{"visual.positional_embedding": torch.zeros(6, WIDTH)}))


def test_clip_of_another_architecture_is_refused(tmp_path, release_checkpoint, label_file):
    other = save_tiny_random_clip(
        tmp_path / "other-clip", projection_dim=EMBED, vision_hidden_size=WIDTH, patch_size=8
    )
    with pytest.raises(SLLMConversionError, match=r"'patch_size': \(8, 16\)"):
        convert(release_checkpoint, other, label_file)
    model, _, _ = convert(release_checkpoint, other, label_file, allow_clip_mismatch=True)
    assert model.config.vision_config.patch_size == PATCH
    narrow = save_tiny_random_clip(tmp_path / "narrow-clip", projection_dim=EMBED // 2)
    with pytest.raises(
        SLLMConversionError, match=f"projection_dim={EMBED // 2}, the released vision tower projects to {EMBED}"
    ):
        convert(release_checkpoint, narrow, label_file, allow_clip_mismatch=True)


def test_release_eval_sampling_conflicts_and_weights_only(tmp_path, release_checkpoint, clip_dir, label_file):
    with pytest.raises(ValueError, match="release_eval_sampling=True needs num_frames=8"):
        convert(release_checkpoint, clip_dir, label_file, release_eval_sampling=True, num_frames=4)
    with pytest.raises(ValueError, match="trained for keep_interval=2"):
        convert(release_checkpoint, clip_dir, label_file, keep_interval=3)

    torch.save({"model_state_dict": {"logit_scale": argparse.Namespace(code="not a tensor")}}, tmp_path / "pickled.pt")
    with pytest.raises(SLLMConversionError, match=r"weights_only=True"):
        convert(tmp_path / "pickled.pt", clip_dir, label_file)


def test_release_eval_indices_are_the_processors_for_many_lengths():
    processor = SLLMVideoProcessor(num_frames=8, keep_interval=2)
    for length in (16, 17, 30, 31, 100, 257, 1000):
        assert processor.sample_frames({"total_num_frames": length}).tolist() == release_eval_indices(length)[::2]


def test_backbone_names():
    assert backbone_name(CLIPVisionConfig(hidden_size=768, num_hidden_layers=12, patch_size=32)) == "ViT-B/32"
    assert backbone_name(CLIPVisionConfig(hidden_size=768, num_hidden_layers=12, patch_size=16)) == "ViT-B/16"
    large = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, patch_size=14)
    assert backbone_name(CLIPVisionConfig(**large)) == "ViT-L/14"
    large_336 = CLIPVisionConfig(**large, image_size=336)
    assert backbone_name(large_336) == "ViT-L/14@336px"


@pytest.mark.parametrize(
    "width,layers,patch,image,embed,name",
    [(768, 12, 32, 224, 512, "ViT-B/32"), (768, 12, 16, 224, 512, "ViT-B/16"), (1024, 24, 14, 224, 768, "ViT-L/14")],
)
def test_real_backbone_shapes_are_inferred(width, layers, patch, image, embed, name):
    """Shapes only (meta tensors, nothing allocated): ViT-B/32, B/16 and L/14 give the OpenAI CLIP configurations."""
    meta = lambda *shape: torch.empty(*shape, device="meta")  # noqa: E731
    grid = image // patch
    state = {
        "visual.conv1.weight": meta(width, 3, patch, patch),
        "visual.positional_embedding": meta(grid * grid + 1, width),
        "visual.proj": meta(width, embed),
        "logit_scale": torch.tensor(4.6),
        "fusion_model.frame_position_embeddings.weight": meta(77, embed),
        "restore_frame_position_embeddings.weight": meta(77, embed),
    }
    for layer in range(layers):
        state[f"visual.transformer.resblocks.{layer}.mlp.c_fc.weight"] = meta(4 * width, width)
    for layer in range(6):
        state[f"fusion_model.transformer.resblocks.{layer}.ln_1.weight"] = meta(embed)
    for layer in range(3):
        state[f"restore_model.resblocks.{layer}.ln_1.weight"] = meta(embed)
    kwargs = infer_config_kwargs(state)
    vision = CLIPVisionConfig(**kwargs["vision_config"])
    assert backbone_name(vision) == name
    assert vision.num_attention_heads == width // 64 and vision.projection_dim == embed
    assert (kwargs["temporal_num_layers"], kwargs["restoration_num_layers"], kwargs["keep_interval"]) == (6, 3, 2)


def test_cli_writes_a_folder_that_auto_classes_and_the_pipeline_load(
    tmp_path, release_checkpoint, state_dict, clip_dir, label_file, video_path
):
    output = tmp_path / "converted"
    argv = [
        "--checkpoint_path", str(release_checkpoint),
        "--output_dir", str(output),
        "--label_file", str(label_file),
        "--clip_model_name_or_path", str(clip_dir),
        "--release_eval_sampling",
        "--vision_head_dim", str(TINY["vision_head_dim"]),
        "--head_dim", str(TINY["head_dim"]),
    ]  # fmt: skip
    assert convert_cli.main(argv) == str(output)
    files = set(os.listdir(output))
    assert {"config.json", "model.safetensors", "video_preprocessor_config.json", "conversion_report.json"} <= files
    assert {"modeling_sllm.py", "configuration_sllm.py", "video_processing_sllm.py"} <= files
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".converted")]  # no staging left behind
    config = json.loads((output / "config.json").read_text())
    assert config["id2label"] == {"0": "ride bike", "1": "walk dog", "2": "jump rope"}
    assert (config["num_frames"], config["keep_interval"], config["text_model_name_or_path"]) == (8, 2, str(clip_dir))
    processor_config = json.loads((output / "video_preprocessor_config.json").read_text())
    assert (processor_config["num_frames"], processor_config["keep_interval"]) == (8, 2)
    assert processor_config["crop_size"] == {"height": IMAGE, "width": IMAGE}
    report = json.loads((output / "conversion_report.json").read_text())
    assert len(report["mapping"]) == len(state_dict) and report["epoch"] == 29
    assert report["sampling"] == {
        "num_frames": 8,
        "keep_interval": 2,
        "num_sampled_frames": 16,
        "release_eval_sampling": True,
    }

    model = AutoModelForVideoClassification.from_pretrained(output).eval()
    assert isinstance(model, SLLMForVideoClassification)
    processor = SLLMVideoProcessor.from_pretrained(output)
    frames = processor(str(video_path), return_tensors="pt")["pixel_values"]
    text_features = reference_text_features(clip_dir, [name for name, _ in CLASSES])
    with torch.no_grad():
        expected = ref_logits(frames, state_dict, text_features)
        torch.testing.assert_close(model(frames).logits, expected, rtol=1e-5, atol=1e-5)
    classifier = pipeline("video-classification", model=str(output))
    results = classifier(str(video_path), top_k=3)
    probabilities = expected.softmax(-1)[0]
    assert [r["label"] for r in results] == [CLASSES[i][0] for i in probabilities.argsort(descending=True).tolist()]
    assert results[0]["score"] == pytest.approx(probabilities.max().item(), rel=1e-5)

    with pytest.raises(FileExistsError, match="--overwrite_output_dir"):
        convert_cli.main(argv)
    assert convert_cli.main(argv + ["--overwrite_output_dir"]) == str(output)


def test_failed_save_leaves_no_output(tmp_path, release_checkpoint, clip_dir, label_file, monkeypatch):
    model, processor, report = convert(release_checkpoint, clip_dir, label_file, num_frames=2)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(processor, "save_pretrained", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_converted(tmp_path / "out", model, processor, report)
    assert os.listdir(tmp_path) == []


def test_converted_config_and_processor_come_from_the_one_constructors(
    tmp_path, release_checkpoint, clip_dir, label_file
):
    model, processor, report = convert(release_checkpoint, clip_dir, label_file, num_frames=4, prompt_mode="enhance")
    config = model.config
    # declared config fields, passed to the constructor: they survive save/load like any other field
    assert (config.text_model_name_or_path, config.prompt_mode) == (str(clip_dir), "enhance")
    # the processor is the config's own (SLLMVideoProcessor.from_model_config), not a second source of the frames
    assert processor.to_dict() == SLLMVideoProcessor.from_model_config(config).to_dict()
    assert (processor.num_frames, processor.keep_interval, processor.crop_size["height"]) == (4, 2, IMAGE)
    output = save_converted(tmp_path / "out", model, processor, report)
    reloaded = SLLMConfig.from_pretrained(output)
    assert (reloaded.text_model_name_or_path, reloaded.prompt_mode) == (str(clip_dir), "enhance")
    # the report written beside the weights reads back as the same dataclass
    assert SLLMConversionReport.load(output) == report
    assert report.backbone == backbone_name(config.vision_config)


def test_conversion_report_errors_name_the_file(tmp_path):
    path = tmp_path / "conversion_report.json"
    path.write_text("{broken")
    with pytest.raises(ValueError, match=r"conversion_report.json' is not valid JSON"):
        SLLMConversionReport.load(path)
    path.write_text(json.dumps({"sha256": "00"}))
    with pytest.raises(ValueError, match="expected an object with a 'checkpoint' path"):
        SLLMConversionReport.load(tmp_path)


def test_class_features_need_a_clip_checkpoint(tmp_path, release_checkpoint, label_file):
    not_clip = tmp_path / "not-clip"
    not_clip.mkdir()
    with pytest.raises(OSError, match=r"Cannot load the CLIP checkpoint '.*not-clip'"):
        convert(release_checkpoint, not_clip, label_file)


def test_publishing_package_exports_each_function_from_its_one_home():
    import modeling_sllm.publishing as publishing
    from modeling_sllm.publishing import conversion_mapping, hub_folder, model_card, upload

    assert publishing.convert_state_dict is conversion_mapping.convert_state_dict
    assert publishing.build_model_card is model_card.build_model_card
    assert publishing.check_hub_folder is hub_folder.check_hub_folder
    assert publishing.push_to_hub is upload.push_to_hub
    assert publishing.backbone_name is backbone_name
    for name in publishing.__all__:
        assert getattr(publishing, name) is not None
