"""SLLMForVideoClassification.from_clip on tiny random CLIP checkpoints saved to disk (the Hub code path)."""

import json
import logging

import pytest
import torch

from modeling_sllm import SLLMForVideoClassification
from modeling_sllm.text_features import build_prompts, read_label_file
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from transformers import AutoModelForVideoClassification, AutoTokenizer, CLIPModel


CLASSES = ["ride bike", "walk dog", "jump rope"]
DESCRIPTIONS = ["a person riding a bicycle", "someone walking a dog on a leash", "skipping over a turning rope"]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip", projection_dim=64)


def text_features(clip_dir, prompts):
    clip = CLIPModel.from_pretrained(clip_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(clip_dir)
    inputs = tokenizer(prompts, padding="max_length", max_length=77, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return clip, clip.get_text_features(**inputs).pooler_output


def test_from_clip_copies_tower_logit_scale_and_text_features(clip_dir):
    model = SLLMForVideoClassification.from_clip(
        clip_dir, CLASSES, num_frames=4, keep_interval=2, restoration_num_layers=1, temporal_num_layers=1
    )
    clip, expected = text_features(clip_dir, CLASSES)
    torch.testing.assert_close(model.class_embeddings.data, expected)
    assert not model.class_embeddings.requires_grad
    torch.testing.assert_close(model.logit_scale.data, clip.logit_scale.data)
    tower = model.sllm.vision_tower.state_dict()
    for name, tensor in clip.vision_model.state_dict().items():
        torch.testing.assert_close(tower[f"vision_model.{name}"], tensor)
    torch.testing.assert_close(tower["visual_projection.weight"], clip.visual_projection.weight)
    assert model.config.id2label == dict(enumerate(CLASSES))
    assert model.config.text_model_name_or_path == str(clip_dir) and model.config.prompt_mode == "normal"
    # the frame embedding is CLIP's image embedding
    pixel_values = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        frame_embeds = model.sllm.get_frame_embeddings(pixel_values)
        clip_embeds = clip.get_image_features(pixel_values=pixel_values[0]).pooler_output
    torch.testing.assert_close(frame_embeds[0], clip_embeds, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("projection_dim,heads", [(64, 1), (128, 2)])
def test_widths_follow_the_clip_projection_dim(tmp_path, projection_dim, heads):
    clip_dir = save_tiny_random_clip(tmp_path / "clip", projection_dim=projection_dim)
    model = SLLMForVideoClassification.from_clip(
        clip_dir, CLASSES, num_frames=2, restoration_num_layers=1, temporal_num_layers=1
    )
    attention = model.sllm.restoration.encoder.layers[0].self_attn
    assert attention.embed_dim == projection_dim and attention.num_heads == heads
    assert model.sllm.temporal_head.position_embeddings.weight.shape == (77, projection_dim)
    with torch.no_grad():
        assert model(torch.randn(1, 2, 3, 32, 32)).logits.shape == (1, 3)


def test_enhance_prompts_use_descriptions(clip_dir, tmp_path):
    label_file = tmp_path / "labels.txt"
    label_file.write_text("".join(f"{i};{n};{d}\n" for i, (n, d) in enumerate(zip(CLASSES, DESCRIPTIONS))))
    labels = read_label_file(label_file)
    model = SLLMForVideoClassification.from_clip(
        clip_dir,
        [label.name for label in labels],
        descriptions=[label.description for label in labels],
        prompt_mode="enhance",
        num_frames=2,
        restoration_num_layers=1,
        temporal_num_layers=1,
    )
    prompts = build_prompts(CLASSES, DESCRIPTIONS, "enhance")
    assert prompts[0] == "ride bike,a person riding a bicycle"
    assert model.config.prompt_mode == "enhance"
    torch.testing.assert_close(model.class_embeddings.data, text_features(clip_dir, prompts)[1])
    with pytest.raises(ValueError, match="needs a description per class"):
        SLLMForVideoClassification.from_clip(clip_dir, CLASSES, prompt_mode="enhance")


def test_prompts_longer_than_77_tokens_are_truncated_with_a_warning(clip_dir, caplog):
    long_description = "a very long description " * 20
    with caplog.at_level(logging.WARNING):
        model = SLLMForVideoClassification.from_clip(
            clip_dir,
            CLASSES,
            descriptions=[long_description] * 3,
            prompt_mode="enhance",
            num_frames=2,
            restoration_num_layers=1,
            temporal_num_layers=1,
        )
    assert model.class_embeddings.shape == (3, 64)
    assert "exceed the text encoder's 77 tokens and are truncated" in caplog.text


def test_from_clip_model_round_trips(clip_dir, tmp_path):
    model = SLLMForVideoClassification.from_clip(clip_dir, CLASSES, num_frames=2, restoration_num_layers=1).eval()
    model.save_pretrained(tmp_path / "saved")
    loaded = AutoModelForVideoClassification.from_pretrained(tmp_path / "saved").eval()
    pixel_values = torch.randn(2, 2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(pixel_values).logits, model(pixel_values).logits, rtol=0, atol=0)
    assert loaded.config.text_model_name_or_path == str(clip_dir) and loaded.config.prompt_mode == "normal"
    # both are declared config fields, written to config.json like any other
    saved = json.loads((tmp_path / "saved" / "config.json").read_text())
    assert saved["text_model_name_or_path"] == str(clip_dir) and saved["prompt_mode"] == "normal"


def test_from_clip_rejects_duplicate_classes_and_names_a_missing_checkpoint(clip_dir, tmp_path):
    with pytest.raises(ValueError, match="duplicates"):
        SLLMForVideoClassification.from_clip(clip_dir, ["a", "a"])
    with pytest.raises(OSError, match="Cannot load the CLIP checkpoint .*no-clip-here"):
        SLLMForVideoClassification.from_clip(str(tmp_path / "no-clip-here"), CLASSES)


def test_read_label_file_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("0;walk;\n2;run;\n")
    with pytest.raises(ValueError, match=r"missing \[1\], out of range \[2\]"):
        read_label_file(bad)
    bad.write_text("0;walk\nx;run\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: class id 'x' is not an integer"):
        read_label_file(bad)
    bad.write_text("0;walk\n0;run\n")
    with pytest.raises(ValueError, match="bad.txt:2: class id 0 appears twice"):
        read_label_file(bad)
    with pytest.raises(OSError, match="does not exist"):
        read_label_file(tmp_path / "missing.txt")
    good = tmp_path / "good.txt"
    good.write_text("id;name;description\n1;run;moving fast\n0;walk\n")
    assert [(label.id, label.name, label.description) for label in read_label_file(good)] == [
        (0, "walk", None),
        (1, "run", "moving fast"),
    ]
