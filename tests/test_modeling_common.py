"""
The contract of transformers' own models, in the spirit of its `ModelTesterMixin` / `ConfigTester` (not installed with
the library): config round trips and validation, save/load, outputs, hidden states and attentions, gradient
checkpointing, SDPA vs eager, dtype casting, torch.compile, torch.export, batching and the initialisation of missing
weights. Tiny configs from `sllm_testing`.
"""

import json

import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError, StrictDataclassFieldValidationError
from safetensors.torch import load_file, save_file

from modeling_sllm import SLLMConfig, SLLMForVideoClassification, SLLMModel
from sllm_testing import random_frames, tiny_config, tiny_model
from transformers import AutoConfig, AutoModel, AutoModelForVideoClassification


HIDDEN = 64  # tiny projection dim = restoration / temporal width
VISION_LAYERS, VISION_HEADS, VISION_TOKENS, VISION_WIDTH = 2, 2, 5, 32  # 32x32 frames, 16x16 patches + CLS
HEADS = 2  # HIDDEN / head_dim 32


def eager_model(seed: int = 0, **overrides) -> SLLMForVideoClassification:
    return tiny_model(seed=seed, attn_implementation="eager", **overrides)


def training_inputs(config, batch_size: int = 2) -> dict:
    return dict(
        pixel_values=random_frames(config, batch_size=batch_size),
        skipped_pixel_values=random_frames(
            config, batch_size=batch_size, num_frames=config.num_restored_frames, seed=1
        ),
        labels=torch.arange(batch_size) % config.num_labels,
    )


# ----------------------------------------------------------------------------------------------------------- config


def test_config_round_trips_through_dict_json_and_folder(tmp_path):
    config = tiny_config(
        keep_interval=3, restoration_mode="residual", prompt_mode="enhance", text_model_name_or_path="c"
    )
    as_dict = config.to_dict()
    assert as_dict["intermediate_size"] == 4 * HIDDEN  # the default is written explicitly
    assert SLLMConfig.from_dict(as_dict).to_dict() == as_dict
    config.to_json_file(tmp_path / "config.json")
    assert SLLMConfig.from_json_file(tmp_path / "config.json").to_dict() == as_dict
    config.save_pretrained(tmp_path / "folder")
    loaded = AutoConfig.from_pretrained(tmp_path / "folder")
    assert isinstance(loaded, SLLMConfig)
    ignored = {"_name_or_path", "auto_map"}  # where it was loaded from; the remote-code map added by saving
    assert {k: v for k, v in loaded.to_dict().items() if k not in ignored} == {
        k: v for k, v in as_dict.items() if k not in ignored
    }
    assert (loaded.num_sampled_frames, loaded.num_restored_frames, loaded.sequence_length) == (12, 6, 10)
    assert loaded.id2label == {0: "walk", 1: "run", 2: "jump"} and loaded.label2id["jump"] == 2
    saved = json.loads((tmp_path / "folder" / "config.json").read_text())
    assert saved["prompt_mode"] == "enhance" and saved["text_model_name_or_path"] == "c"


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(num_frames=40), "more than max_frame_positions=77"),
        (dict(head_dim=48), "not a multiple of head_dim=48"),
        (dict(num_frames=1), "at least 2 kept frames"),
        (dict(keep_interval=0), "`SLLMConfig.keep_interval` must be an integer >= 1, got 0"),
        (dict(intermediate_size=0), "`SLLMConfig.intermediate_size` must be an integer >= 1, got 0"),
        (dict(temporal_num_layers=-1), "`SLLMConfig.temporal_num_layers` must be an integer >= 0"),
        (dict(temporal_head="lstm"), "temporal_head must be one of"),
        (dict(restoration_mode="cubic"), "restoration_mode must be one of"),
        (dict(restoration_loss="l1"), "restoration_loss must be one of"),
        (dict(prompt_mode="fancy"), "prompt_mode must be one of"),
        (dict(restoration_loss_temperature=0.0), "restoration_loss_temperature must be > 0"),
    ],
)
def test_config_values_that_do_not_fit_raise(overrides, match):
    with pytest.raises(StrictDataclassClassValidationError, match=match):
        tiny_config(**overrides)


def test_config_fields_are_typed_and_revalidated_on_save_and_model_build(tmp_path):
    with pytest.raises(StrictDataclassFieldValidationError, match="'keep_interval'"):
        tiny_config(keep_interval="2")
    config = tiny_config()
    config.num_frames = 40  # a field set after creation (as `from_pretrained(..., num_frames=40)` does)
    with pytest.raises(StrictDataclassClassValidationError, match="max_frame_positions=77"):
        config.save_pretrained(tmp_path)
    with pytest.raises(StrictDataclassClassValidationError, match="max_frame_positions=77"):
        SLLMForVideoClassification(config)


# ----------------------------------------------------------------------------------------------- save / load / shapes


def test_save_and_load_give_identical_outputs(tmp_path):
    model = tiny_model(seed=3)
    pixel_values = random_frames(model.config)
    with torch.no_grad():
        expected = model(pixel_values, output_hidden_states=True)
    model.save_pretrained(tmp_path)
    loaded, info = AutoModelForVideoClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, SLLMForVideoClassification)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    with torch.no_grad():
        actual = loaded.eval()(pixel_values, output_hidden_states=True)
    for name in ("logits", "video_embeds", "frame_embeds", "restored_embeds"):
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=0)
    for name in ("vision_hidden_states", "restoration_hidden_states", "temporal_hidden_states"):
        for a, b in zip(actual[name], expected[name], strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    base = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(base, SLLMModel)
    with torch.no_grad():
        torch.testing.assert_close(base(pixel_values).video_embeds, expected.video_embeds, rtol=0, atol=0)


@pytest.mark.parametrize(
    "overrides,sequence",
    [(dict(keep_interval=1), 4), (dict(), 7), (dict(keep_interval=3), 10), (dict(temporal_head="mean"), 7)],
)
def test_output_shapes_of_both_classes(overrides, sequence):
    model = tiny_model(**overrides)
    config = model.config
    inputs = training_inputs(config)
    if config.keep_interval == 1:
        inputs.pop("skipped_pixel_values")
    with torch.no_grad():
        out = model(**inputs)
        base = model.sllm(inputs["pixel_values"], skipped_pixel_values=inputs.get("skipped_pixel_values"))
    assert out.logits.shape == (2, 3) and out.loss.shape == ()
    assert base.video_embeds.shape == (2, HIDDEN) and base.frame_embeds.shape == (2, 4, HIDDEN)
    assert base.sequence_embeds.shape == (2, sequence, HIDDEN)
    if config.keep_interval > 1:
        assert base.restored_embeds.shape == base.target_embeds.shape == (2, config.num_restored_frames, HIDDEN)
    for name in ("vision_hidden_states", "restoration_hidden_states", "temporal_attentions"):
        assert getattr(out, name) is None and getattr(base, name) is None  # not asked for


# ------------------------------------------------------------------------------------- hidden states and attentions


def check_hidden_states(out, config, batch_size=2):
    pairs = 2 * batch_size * config.num_restored_frames
    vision = out.vision_hidden_states
    assert len(vision) == VISION_LAYERS + 1
    assert all(h.shape == (batch_size * config.num_frames, VISION_TOKENS, VISION_WIDTH) for h in vision)
    assert len(out.restoration_hidden_states) == config.restoration_num_layers + 1
    assert all(h.shape == (pairs, 2, HIDDEN) for h in out.restoration_hidden_states)
    assert len(out.temporal_hidden_states) == config.temporal_num_layers + 1
    assert all(h.shape == (batch_size, config.sequence_length, HIDDEN) for h in out.temporal_hidden_states)


def check_attentions(out, config, batch_size=2):
    pairs = 2 * batch_size * config.num_restored_frames
    expected = {
        "vision_attentions": (
            VISION_LAYERS,
            (batch_size * config.num_frames, VISION_HEADS, VISION_TOKENS, VISION_TOKENS),
        ),
        "restoration_attentions": (config.restoration_num_layers, (pairs, HEADS, 2, 2)),
        "temporal_attentions": (
            config.temporal_num_layers,
            (batch_size, HEADS, config.sequence_length, config.sequence_length),
        ),
    }
    for name, (count, shape) in expected.items():
        assert len(out[name]) == count, name
        for weights in out[name]:
            assert weights.shape == shape, name
            torch.testing.assert_close(weights.sum(-1), torch.ones(shape[:-1]))  # softmax rows


def test_hidden_states_and_attentions_via_kwargs_hold_the_real_values():
    model = eager_model()
    config = model.config
    pixel_values = random_frames(config)
    with torch.no_grad():
        out = model(pixel_values, output_hidden_states=True, output_attentions=True)
    check_hidden_states(out, config)
    check_attentions(out, config)
    tower = model.sllm.vision_tower
    with torch.no_grad():
        # the last vision state gives the frame embedding; the last temporal state plus the sequence gives the video
        cls_states = tower.vision_model.post_layernorm(out.vision_hidden_states[-1][:, 0])
        torch.testing.assert_close(tower.visual_projection(cls_states).view(2, 4, HIDDEN), out.frame_embeds)
        sequence = model.sllm(pixel_values).sequence_embeds
        torch.testing.assert_close((out.temporal_hidden_states[-1] + sequence).mean(1), out.video_embeds)
        # paper mode: the restored embedding is the mean over tokens and directions of the last restoration state
        last = out.restoration_hidden_states[-1].mean(1).view(2, 2, 3, HIDDEN).mean(0)
        torch.testing.assert_close(last, out.restored_embeds)
        # the first temporal state is the sequence plus frame position embeddings
        positions = model.sllm.temporal_head.position_embeddings.weight[:7]
        torch.testing.assert_close(out.temporal_hidden_states[0], sequence + positions)


def test_hidden_states_and_attentions_via_config():
    model = eager_model(output_hidden_states=True, output_attentions=True)
    with torch.no_grad():
        out = model(random_frames(model.config))
        base = model.sllm(random_frames(model.config))
        off = model(random_frames(model.config), output_hidden_states=False, output_attentions=False)
    check_hidden_states(out, model.config)
    check_attentions(out, model.config)
    check_hidden_states(base, model.config)
    assert off.temporal_hidden_states is None and off.vision_attentions is None  # the call overrides the config


def test_parts_without_layers_return_empty_tuples():
    model = eager_model(keep_interval=1, temporal_head="mean")
    with torch.no_grad():
        out = model(random_frames(model.config), output_hidden_states=True, output_attentions=True)
    assert out.restoration_hidden_states == out.restoration_attentions == ()
    assert out.temporal_hidden_states == out.temporal_attentions == ()
    assert len(out.vision_hidden_states) == VISION_LAYERS + 1 and len(out.vision_attentions) == VISION_LAYERS


def test_return_dict_false_gives_tuples_with_the_hidden_states():
    model = tiny_model()
    pixel_values = random_frames(model.config)
    with torch.no_grad():
        as_dict = model(pixel_values, output_hidden_states=True)
        as_tuple = model(pixel_values, output_hidden_states=True, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == len(as_dict.to_tuple()) == 7
    torch.testing.assert_close(as_tuple[0], as_dict.logits)
    assert len(as_tuple[-1]) == model.config.temporal_num_layers + 1  # temporal_hidden_states, the last field
    torch.testing.assert_close(as_tuple[-1][-1], as_dict.temporal_hidden_states[-1])
    model.config.return_dict = False
    with torch.no_grad():
        from_config = model(pixel_values)
        base = model.sllm(pixel_values)
    assert isinstance(from_config, tuple) and isinstance(base, tuple)
    torch.testing.assert_close(from_config[0], as_dict.logits)


def test_flags_that_cannot_be_honoured_raise():
    model = tiny_model()  # SDPA: no attention weights
    pixel_values = random_frames(model.config)
    with pytest.raises(ValueError, match=r"output_attentions=True` needs the eager attention.*'sdpa'"):
        model(pixel_values, output_attentions=True)
    with pytest.raises(ValueError, match="`output_hidden_states` must be True or False, got \\[-1\\]"):
        model(pixel_values, output_hidden_states=[-1])
    model.sllm.vision_tower.set_attn_implementation("eager")  # the tower alone is not enough
    with pytest.raises(ValueError, match="restoration and temporal layers use 'sdpa'"):
        model(pixel_values, output_attentions=True)


# ------------------------------------------------------------------------ training, attention kernels, dtypes, graphs


def test_gradient_checkpointing_gives_same_gradients():
    model = tiny_model(seed=5).train()
    inputs = training_inputs(model.config)
    model(**inputs).loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    assert any(name.startswith("sllm.restoration.") for name in grads)
    model.zero_grad()
    model.activation_checkpointing_enable()
    layers = [*model.sllm.restoration.encoder.layers, *model.sllm.temporal_head.encoder.layers]
    assert all(layer.gradient_checkpointing for layer in layers)
    model(**inputs).loss.backward()
    for name, grad in grads.items():
        torch.testing.assert_close(model.get_parameter(name).grad, grad, rtol=1e-4, atol=1e-6)


def test_sdpa_equals_eager_outputs_and_hidden_states():
    sdpa, eager = tiny_model(seed=4), eager_model(seed=4)
    assert (
        sdpa.config._attn_implementation == "sdpa" and eager.sllm.vision_tower.config._attn_implementation == "eager"
    )
    pixel_values = random_frames(sdpa.config)
    with torch.no_grad():
        a, b = sdpa(pixel_values, output_hidden_states=True), eager(pixel_values, output_hidden_states=True)
    for name in ("logits", "video_embeds", "frame_embeds", "restored_embeds"):
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-5)
    for name in ("vision_hidden_states", "restoration_hidden_states", "temporal_hidden_states"):
        for x, y in zip(a[name], b[name], strict=True):
            torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5)


def test_bfloat16_model_runs_and_stays_close_to_float32():
    model = tiny_model(seed=6)
    inputs = training_inputs(model.config)
    with torch.no_grad():
        expected = model(**inputs)
        half = model.to(torch.bfloat16)(**inputs)  # float32 frames are cast by the tower
    assert half.video_embeds.dtype == half.frame_embeds.dtype == torch.bfloat16
    assert half.logits.dtype == torch.float32  # the classifier runs in float32 (bf16 would round logits to 1/8)
    assert half.loss.dtype == torch.float32  # the losses are computed in float32
    torch.testing.assert_close(half.video_embeds.float(), expected.video_embeds, rtol=0.05, atol=0.05)
    torch.testing.assert_close(half.logits.float(), expected.logits, rtol=0.05, atol=1.0)  # logits are x100 cosines
    torch.testing.assert_close(half.loss, expected.loss, rtol=0.05, atol=0.05)


def test_compile_fullgraph_with_labels_and_eager_label_errors():
    model = tiny_model(seed=7).train()
    inputs = training_inputs(model.config)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")  # fullgraph: any graph break raises
    out = compiled(**inputs)
    expected = model(**inputs)
    torch.testing.assert_close(out.loss, expected.loss)
    torch.testing.assert_close(out.logits, expected.logits)
    out.loss.backward()
    assert model.sllm.restoration.encoder.layers[0].self_attn.q_proj.weight.grad is not None
    torch._dynamo.reset()
    with pytest.raises(ValueError, match=r"Labels \[3, -1\] are outside \[0, 3\) \(num_labels of this model\)"):
        model(inputs["pixel_values"], labels=torch.tensor([3, -1]))


def test_export_of_the_inference_forward():
    model = tiny_model(seed=8)
    exported = torch.export.export(model, (random_frames(model.config),))
    other = random_frames(model.config, seed=9)
    with torch.no_grad():
        out, expected = exported.module()(other), model(other)
    torch.testing.assert_close(out.logits, expected.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.video_embeds, expected.video_embeds, rtol=1e-5, atol=1e-5)


def test_a_batch_of_two_equals_two_batches_of_one():
    model = tiny_model(seed=10, keep_interval=3)
    inputs = training_inputs(model.config)
    with torch.no_grad():
        batched = model(**inputs, output_hidden_states=True)
        singles = [
            model(**{name: value[i : i + 1] for name, value in inputs.items()}, output_hidden_states=True)
            for i in range(2)
        ]
    for name in ("logits", "video_embeds", "frame_embeds", "restored_embeds", "target_embeds"):
        torch.testing.assert_close(
            batched[name], torch.cat([single[name] for single in singles]), rtol=1e-5, atol=1e-5
        )
    for layer, states in enumerate(batched.temporal_hidden_states):
        torch.testing.assert_close(
            states, torch.cat([s.temporal_hidden_states[layer] for s in singles]), rtol=1e-5, atol=1e-5
        )
    # restoration rows are (direction, video, restored frame)
    rows = model.config.num_restored_frames
    for layer, states in enumerate(batched.restoration_hidden_states):
        per_video = states.view(2, 2, rows, 2, HIDDEN)
        for i, single in enumerate(singles):
            expected = single.restoration_hidden_states[layer].view(2, rows, 2, HIDDEN)
            torch.testing.assert_close(per_video[:, i], expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        batched.loss, torch.stack([single.loss for single in singles]).mean(), rtol=1e-4, atol=1e-5
    )


# --------------------------------------------------------------------------------------- initialisation of new weights


def test_missing_weights_get_clip_init_in_the_tower_and_text4vis_init_elsewhere(tmp_path):
    """As transformers' test_can_init_all_missing_weights: weights absent from a checkpoint get the model's own
    init."""
    model = tiny_model(seed=11, keep_interval=3, restoration_mode="residual")
    model.save_pretrained(tmp_path)
    state_dict = load_file(tmp_path / "model.safetensors")
    kept = {
        k: v
        for k, v in state_dict.items()
        if not k.startswith(("sllm.vision_tower.", "sllm.restoration.", "sllm.temporal_head."))
    }
    save_file(kept, tmp_path / "model.safetensors", metadata={"format": "pt"})
    torch.manual_seed(0)
    loaded, info = SLLMForVideoClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert {k for k in state_dict if k not in kept} == info["missing_keys"]
    torch.testing.assert_close(loaded.class_embeddings, model.class_embeddings, rtol=0, atol=0)  # loaded, untouched

    def std(tensor):
        return tensor.detach().float().std().item()

    # CLIP's _init_weights (vision width 32, 2 layers, initializer_factor 1): the projections are not N(0, 0.02)
    tower = loaded.sllm.vision_tower
    vision = tower.vision_model
    width = VISION_WIDTH
    expected_std = {
        "class_embedding": (vision.embeddings.class_embedding, width**-0.5),
        "patch_embedding": (vision.embeddings.patch_embedding.weight, 0.02),
        "position_embedding": (vision.embeddings.position_embedding.weight, 0.02),
        "q_proj": (vision.encoder.layers[0].self_attn.q_proj.weight, width**-0.5 * (2 * VISION_LAYERS) ** -0.5),
        "out_proj": (vision.encoder.layers[1].self_attn.out_proj.weight, width**-0.5),
        "fc1": (vision.encoder.layers[0].mlp.fc1.weight, (2 * width) ** -0.5),
        "fc2": (vision.encoder.layers[0].mlp.fc2.weight, width**-0.5 * (2 * VISION_LAYERS) ** -0.5),
        "visual_projection": (tower.visual_projection.weight, width**-0.5),
    }
    for name, (tensor, value) in expected_std.items():
        assert 0.6 * value < std(tensor) < 1.4 * value, (name, std(tensor), value)
    assert std(vision.encoder.layers[0].self_attn.q_proj.weight) > 3 * 0.02
    for norm in (vision.pre_layrnorm, vision.post_layernorm, vision.encoder.layers[0].layer_norm1):
        assert torch.equal(norm.weight, torch.ones_like(norm.weight)) and torch.equal(
            norm.bias, torch.zeros_like(norm.bias)
        )
    assert torch.equal(vision.encoder.layers[0].self_attn.q_proj.bias, torch.zeros(width))

    # SLLM's own modules: Text4Vis N(0, 0.02), zero biases, unit LayerNorms, zero-initialised residual correction
    restoration, head = loaded.sllm.restoration, loaded.sllm.temporal_head
    for tensor in (
        restoration.position_embeddings.weight,
        restoration.gap_embeddings.weight,
        head.position_embeddings.weight,
        restoration.encoder.layers[0].self_attn.q_proj.weight,
        head.encoder.layers[1].mlp.fc2.weight,
    ):
        assert 0.014 < std(tensor) < 0.026, std(tensor)
    assert torch.equal(head.encoder.layers[0].mlp.fc1.bias, torch.zeros(4 * HIDDEN))
    assert torch.equal(head.encoder.layers[0].layer_norm1.weight, torch.ones(HIDDEN))
    assert torch.equal(restoration.correction.weight, torch.zeros(HIDDEN, HIDDEN))
    assert torch.equal(restoration.correction.bias, torch.zeros(HIDDEN))
