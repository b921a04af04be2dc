import copy
import math

import pytest
import torch
import torch.nn.functional as F

from modeling_sllm import SLLMForVideoClassification, SLLMVideoProcessor
from modeling_sllm.modeling_sllm import interleave_frames, restoration_loss
from sllm_testing import random_frames, tiny_model
from transformers import AutoModelForVideoClassification, pipeline


def reference_restoration(restoration, frame_embeds):
    """Straightforward per-pair, per-direction loop over the paper's FFRes (k = 2)."""
    positions = restoration.position_embeddings.weight[:2]
    restored = []
    for b in range(frame_embeds.shape[0]):
        per_video = []
        for i in range(frame_embeds.shape[1] - 1):
            left, right = frame_embeds[b, i], frame_embeds[b, i + 1]
            forward = restoration.encoder((torch.stack([left, right]) + positions)[None]).last_hidden_state[0]
            backward = restoration.encoder((torch.stack([right, left]) + positions)[None]).last_hidden_state[0]
            per_video.append(((forward + backward) / 2).mean(dim=0))
        restored.append(torch.stack(per_video))
    return torch.stack(restored)


@pytest.mark.parametrize("keep_interval,expected_sequence", [(1, 4), (2, 7), (3, 10)])
def test_output_shapes(keep_interval, expected_sequence):
    model = tiny_model(keep_interval=keep_interval)
    config = model.config
    pixel_values = random_frames(config, batch_size=2)
    skipped = random_frames(config, batch_size=2, num_frames=config.num_restored_frames) if keep_interval > 1 else None
    with torch.no_grad():
        out = model(pixel_values, skipped_pixel_values=skipped, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3)
    assert out.video_embeds.shape == (2, 64)
    assert out.frame_embeds.shape == (2, 4, 64)
    assert config.sequence_length == expected_sequence
    if keep_interval == 1:
        assert out.restored_embeds is None and out.restoration_loss is None
        assert torch.allclose(out.loss, out.classification_loss)
    else:
        assert out.restored_embeds.shape == (2, 3 * (keep_interval - 1), 64)
        assert out.target_embeds.shape == out.restored_embeds.shape
        assert torch.allclose(out.loss, out.classification_loss + out.restoration_loss)
    base = model.sllm(pixel_values)
    assert base.sequence_embeds.shape == (2, expected_sequence, 64)


def test_batched_restoration_matches_per_pair_reference():
    model = tiny_model(seed=1)
    frame_embeds = torch.randn(3, 4, 64)
    with torch.no_grad():
        batched = model.sllm.restoration(frame_embeds).restored_embeds
        reference = reference_restoration(model.sllm.restoration, frame_embeds)
    assert batched.shape == (3, 3, 64)
    torch.testing.assert_close(batched, reference, rtol=1e-5, atol=1e-5)


def test_interleave_order():
    frames = torch.arange(3).float().view(1, 3, 1) * 10  # f0=0, f1=10, f2=20
    restored = torch.tensor([1.0, 2.0, 11.0, 12.0]).view(1, 4, 1)  # k=3: gap0 -> 1, 2; gap1 -> 11, 12
    assert interleave_frames(frames, restored, 3).flatten().tolist() == [0, 1, 2, 10, 11, 12, 20]
    assert interleave_frames(frames, restored[:, :2] * 0 + torch.tensor([[[5.0], [15.0]]]), 2).flatten().tolist() == [
        0, 5, 10, 15, 20
    ]


def test_logits_are_scaled_cosine():
    model = tiny_model()
    pixel_values = random_frames(model.config)
    with torch.no_grad():
        out = model(pixel_values)
    expected = model.logit_scale.exp() * F.normalize(out.video_embeds, dim=-1) @ F.normalize(
        model.class_embeddings, dim=-1
    ).t()
    torch.testing.assert_close(out.logits, expected)
    assert math.isclose(model.logit_scale.exp().item(), 100.0, rel_tol=1e-4)
    assert not model.class_embeddings.requires_grad


def test_restoration_loss_gradients_reach_restoration_but_not_targets():
    model = tiny_model().train()
    config = model.config
    out = model(random_frames(config), skipped_pixel_values=random_frames(config, num_frames=3, seed=1))
    assert out.classification_loss is None
    out.restoration_loss.backward()
    restoration_grads = [p.grad for p in model.sllm.restoration.parameters() if p.requires_grad]
    assert all(g is not None for g in restoration_grads)
    assert sum(g.abs().sum().item() for g in restoration_grads) > 0
    assert not out.target_embeds.requires_grad
    # the temporal head does not take part in the restoration loss
    assert all(p.grad is None for p in model.sllm.temporal_head.parameters())


@pytest.mark.parametrize("trained_by_head", [True, False])
def test_classification_loss_trains_restoration_only_when_asked(trained_by_head):
    model = tiny_model(restoration_trained_by_head=trained_by_head).train()
    config = model.config
    out = model(random_frames(config), labels=torch.tensor([0, 2]))
    out.classification_loss.backward()
    grads = [p.grad for p in model.sllm.restoration.encoder.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in grads)
    assert reached == trained_by_head
    # the head still reads the restored embeddings: the logits are the same either way
    reference = tiny_model(restoration_trained_by_head=not trained_by_head)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(random_frames(config)).logits, reference(random_frames(config)).logits)


def test_restoration_loss_kinds_on_known_values():
    target = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert restoration_loss(target, target, "kl").item() == pytest.approx(0.0, abs=1e-7)
    assert restoration_loss(target, target * 3, "normalized_mse").item() == pytest.approx(0.0, abs=1e-7)
    assert restoration_loss(target, -target, "cosine").item() == pytest.approx(2.0)
    assert restoration_loss(target, torch.zeros(2, 2), "mse").item() == pytest.approx(5.0 / 4)
    restored = torch.zeros(1, 2)
    tgt = torch.tensor([[math.log(3.0), 0.0]])  # softmax -> (0.75, 0.25)
    expected = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert restoration_loss(restored, tgt, "kl").item() == pytest.approx(expected, rel=1e-5)


def test_residual_mode_equals_interpolation_at_init():
    for k in (2, 3, 4):
        model = tiny_model(keep_interval=k, restoration_mode="residual")
        frame_embeds = torch.randn(2, 4, 64)
        with torch.no_grad():
            restored = model.sllm.restoration(frame_embeds).restored_embeds.view(2, 3, k - 1, 64)
        weights = torch.arange(1, k, dtype=torch.float32) / k
        for j in range(1, k):
            w = weights[j - 1]
            expected = frame_embeds[:, :-1] * (1 - w) + frame_embeds[:, 1:] * w
            assert torch.equal(restored[:, :, j - 1], expected)


def test_gap_offsets_distinguish_skipped_frames_for_k3():
    model = tiny_model(keep_interval=3)
    with torch.no_grad():
        restored = model.sllm.restoration(torch.randn(1, 4, 64)).restored_embeds.view(1, 3, 2, 64)
    assert not torch.allclose(restored[:, :, 0], restored[:, :, 1])


@pytest.mark.parametrize(
    "shape,match",
    [
        ((2, 3, 3, 32, 32), "has 3 frames per video but this model expects 4"),
        ((2, 4, 1, 32, 32), "has 1 channels"),
        ((2, 4, 3, 48, 48), "frames are 48x48"),
        ((4, 3, 32, 32), "4-d tensor"),
    ],
)
def test_bad_pixel_values_raise_clear_errors(shape, match):
    model = tiny_model()
    with pytest.raises(ValueError, match=match):
        model(torch.zeros(shape))


def test_bad_skipped_frames_and_labels_raise_clear_errors():
    model = tiny_model()
    config = model.config
    pixel_values = random_frames(config)
    with pytest.raises(ValueError, match="skipped_pixel_values` has 4 frames per video but this model expects 3"):
        model(pixel_values, skipped_pixel_values=random_frames(config, num_frames=4))
    with pytest.raises(ValueError, match="batch size 1"):
        model(pixel_values, skipped_pixel_values=random_frames(config, batch_size=1, num_frames=3))
    with pytest.raises(ValueError, match=r"Labels \[3\] are outside \[0, 3\)"):
        model(pixel_values, labels=torch.tensor([0, 3]))
    baseline = tiny_model(keep_interval=1)
    with pytest.raises(ValueError, match="keep_interval=1"):
        baseline(pixel_values, skipped_pixel_values=random_frames(config, num_frames=3))


def test_set_class_embeddings_for_new_classes():
    model = tiny_model()
    new = torch.randn(5, 64)
    model.set_class_embeddings(new, {i: f"class{i}" for i in range(5)})
    assert model.config.num_labels == 5 and model.config.label2id["class4"] == 4
    with torch.no_grad():
        assert model(random_frames(model.config)).logits.shape == (2, 5)
    with pytest.raises(ValueError, match=r"shape \(num_labels, 64\)"):
        model.set_class_embeddings(torch.randn(5, 32))


@pytest.mark.parametrize("intermediate_size", [None, 96])
def test_mlp_width_comes_from_the_config(intermediate_size):
    model = tiny_model(intermediate_size=intermediate_size)
    expected = 4 * 64 if intermediate_size is None else intermediate_size
    assert model.config.intermediate_size == expected
    for encoder in (model.sllm.restoration.encoder, model.sllm.temporal_head.encoder):
        for layer in encoder.layers:
            assert layer.mlp.fc1.weight.shape == (expected, 64) and layer.mlp.fc2.weight.shape == (64, expected)
    with torch.no_grad():
        assert model(random_frames(model.config)).logits.shape == (2, 3)


def test_bfloat16_from_pretrained_auto_class_and_pipeline(tmp_path, make_video):
    model = tiny_model(seed=3)
    folder = tmp_path / "sllm-tiny"
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)
    pixel_values = random_frames(model.config, batch_size=4, seed=5)
    with torch.no_grad():
        expected = model(pixel_values)
    for loaded in (
        SLLMForVideoClassification.from_pretrained(folder, dtype=torch.bfloat16),
        AutoModelForVideoClassification.from_pretrained(folder, dtype=torch.bfloat16),
    ):
        assert {parameter.dtype for parameter in loaded.parameters()} == {torch.bfloat16}
        with torch.no_grad():
            half = loaded(pixel_values)  # float32 frames: the tower casts them
        assert half.video_embeds.dtype == half.frame_embeds.dtype == torch.bfloat16
        assert half.logits.dtype == torch.float32 and torch.isfinite(half.logits).all()
        assert torch.equal(half.logits.argmax(-1), expected.logits.argmax(-1))
        assert F.cosine_similarity(half.video_embeds.float(), expected.video_embeds, dim=-1).min() > 0.999

    video = str(make_video("clip.mp4", num_frames=20))
    classifier = pipeline("video-classification", model=str(folder), dtype=torch.bfloat16)
    assert classifier.model.dtype == torch.bfloat16
    reference = pipeline("video-classification", model=str(folder))
    half_results, float_results = classifier(video, top_k=3), reference(video, top_k=3)
    assert [r["label"] for r in half_results][0] == [r["label"] for r in float_results][0]
    for half_result, float_result in zip(half_results, float_results):
        assert half_result["score"] == pytest.approx(float_result["score"], abs=0.02)


def test_cpu_autocast_runs_the_products_in_bfloat16_instead_of_the_float32_packed_path():
    model = tiny_model(seed=11)
    pixel_values = random_frames(model.config, batch_size=1)
    layer = model.sllm.vision_tower.vision_model.encoder.layers[0]
    dtypes = []
    handles = [
        module.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
        for module in (layer.self_attn.out_proj, model.sllm.temporal_head.encoder.layers[0].mlp.fc2)
    ]
    with torch.inference_mode():
        plain = model(pixel_values).video_embeds
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = model(pixel_values).video_embeds
    for handle in handles:
        handle.remove()
    assert dtypes == [torch.float32, torch.float32, torch.bfloat16, torch.bfloat16]
    assert autocast.dtype == torch.bfloat16  # before: the float32 packed products ignored autocast
    assert F.cosine_similarity(autocast.float(), plain).min() > 0.99


def test_prepacked_bfloat16_linears_match_nn_linear_and_follow_weight_changes():
    import copy

    from modeling_sllm.modeling_sllm import SLLMLinear

    model = tiny_model(seed=4).to(torch.bfloat16)
    layer = model.sllm.temporal_head.encoder.layers[0].mlp.fc1
    assert isinstance(layer, SLLMLinear) and set(layer.state_dict()) == {"weight", "bias"}
    hidden = torch.randn(2, 7, 64, dtype=torch.bfloat16)
    with torch.inference_mode():
        out = layer(hidden)
    packed = layer._packed
    assert packed is not None  # bfloat16 on a CPU without autograd: the pre-packed oneDNN path (bit-identical)
    assert torch.equal(out, F.linear(hidden, layer.weight, layer.bias))
    with torch.no_grad():
        layer.weight.mul_(2)  # an in-place update (an optimizer step) repacks
        assert torch.equal(layer(hidden), F.linear(hidden, layer.weight, layer.bias)) and layer._packed is not packed
        # a non-contiguous input takes nn.Linear's path
        wide = torch.randn(2, 7, 128, dtype=torch.bfloat16)[..., ::2]
        assert torch.equal(layer(wide), F.linear(wide, layer.weight, layer.bias))
        # new weights assigned (new tensors, version 0 again) are packed anew, twice in a row too
        for scale in (3.0, 5.0):
            layer.load_state_dict({"weight": layer.weight * scale, "bias": layer.bias.clone()}, assign=True)
            assert torch.equal(layer(hidden), F.linear(hidden, layer.weight, layer.bias))
    assert copy.deepcopy(model).sllm.temporal_head.encoder.layers[0].mlp.fc1._packed is None  # not copied
    # with autograd it is nn.Linear
    layer.weight.requires_grad_(True)
    trained = layer(hidden)
    assert trained.requires_grad and torch.equal(trained.detach(), F.linear(hidden, layer.weight, layer.bias).detach())
    # float32 CPU inference packs too (oneDNN instead of MKL): equal to nn.Linear up to float32 rounding
    model.float()
    assert layer._packed is None and layer.weight.dtype == torch.float32
    wide = torch.randn(3, 5, 64) * 3
    with torch.inference_mode():
        torch.testing.assert_close(layer(wide), F.linear(wide, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
    assert layer._packed is not None
    # float64 is nn.Linear's
    model.double()
    with torch.inference_mode():
        assert torch.equal(layer(wide.double()), F.linear(wide.double(), layer.weight, layer.bias))
    assert layer._packed is None


def test_default_attention_is_sdpa_also_after_loading(tmp_path):
    model = tiny_model(seed=5)
    model.save_pretrained(tmp_path)
    loaded = SLLMForVideoClassification.from_pretrained(tmp_path, dtype=torch.bfloat16)
    for candidate in (model, loaded):
        assert candidate.config._attn_implementation == "sdpa"
        assert candidate.sllm.vision_tower.config._attn_implementation == "sdpa"


def test_vision_tower_linears_take_the_prepacked_path_with_clip_results():
    from transformers import CLIPVisionModelWithProjection

    from modeling_sllm.modeling_sllm import SLLMLinear

    model = tiny_model(seed=6)
    tower = model.sllm.vision_tower
    linears = [module for module in tower.modules() if isinstance(module, torch.nn.Linear)]
    assert linears and all(type(module) is SLLMLinear for module in linears)
    plain = CLIPVisionModelWithProjection._from_config(tower.config).eval()
    plain.load_state_dict(tower.state_dict())  # same keys, same weights
    assert all(type(module) is not SLLMLinear for module in plain.modules())
    assert all(type(module).__name__ == "SLLMCLIPMLP" for module in tower.modules() if "MLP" in type(module).__name__)
    attentions = [module for module in tower.modules() if "Attention" in type(module).__name__]
    assert attentions and all(type(module).__name__ == "SLLMCLIPAttention" for module in attentions)
    pixel_values = random_frames(model.config, batch_size=1).flatten(0, 1)
    with torch.inference_mode():
        exact = plain.double()(pixel_values=pixel_values.double()).image_embeds
    for dtype, tolerance in ((torch.float32, 1e-5), (torch.bfloat16, 5e-2)):
        tower.to(dtype), plain.to(dtype)
        with torch.inference_mode():
            inputs = pixel_values.to(dtype)
            ours, clip = tower(pixel_values=inputs).image_embeds, plain(pixel_values=inputs).image_embeds
        assert ours.dtype == dtype
        # oneDNN on packed weights (float32: instead of MKL) with QuickGELU fused: CLIP's results up to the dtype's
        # rounding, and no further from the float64 result than CLIP's own
        torch.testing.assert_close(ours, clip, rtol=tolerance, atol=tolerance)
        ours_error, clip_error = ((result.double() - exact).abs().max().item() for result in (ours, clip))
        assert ours_error <= 2 * clip_error + 1e-6, (dtype, ours_error, clip_error)
    assert tower.vision_model.encoder.layers[0].mlp.fc1._packed is not None  # the packed weights were used
    assert tower.vision_model.encoder.layers[0].self_attn._packed is not None  # one q/k/v product
    assert tower.vision_model.embeddings.patch_embedding._packed is not None  # the patches as one product


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_patch_embedding_product_matches_the_convolution_and_falls_back_where_it_must(dtype):
    from modeling_sllm.modeling_sllm import SLLMPatchEmbedding

    model = tiny_model(seed=10)
    embedding = model.sllm.vision_tower.vision_model.embeddings.patch_embedding
    assert type(embedding) is SLLMPatchEmbedding and embedding.stride == embedding.kernel_size == (16, 16)
    convolution = torch.nn.Conv2d(3, embedding.out_channels, 16, stride=16, bias=False)
    convolution.load_state_dict(embedding.state_dict())  # same parameters, same keys
    pixel_values = torch.randn(3, 3, 48, 32, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        exact = convolution.double()(pixel_values.double())
    embedding.to(dtype), convolution.to(dtype)
    with torch.inference_mode():
        ours, theirs = embedding(pixel_values.to(dtype)), convolution(pixel_values.to(dtype))
    assert embedding._packed is not None and ours.shape == theirs.shape == (3, embedding.out_channels, 3, 2)
    tolerance = 1e-5 if dtype is torch.float32 else 3e-2
    torch.testing.assert_close(ours, theirs, rtol=tolerance, atol=tolerance)
    ours_error, theirs_error = ((result.double() - exact).abs().max().item() for result in (ours, theirs))
    assert ours_error <= 2 * theirs_error + 1e-6, (ours_error, theirs_error)
    # a size the kernel does not divide, and autograd, run the convolution itself
    embedding._packed = None
    with torch.inference_mode():
        torch.testing.assert_close(embedding(pixel_values[..., :40, :].to(dtype)), theirs[..., :2, :].to(dtype))
    assert embedding._packed is None
    assert torch.equal(embedding(pixel_values.to(dtype)).detach(), theirs) and embedding._packed is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_mlp_fuses_quick_gelu_into_its_first_product_only_where_it_may(dtype):
    from modeling_sllm.modeling_sllm import _QUICK_GELU_ALPHA

    model = tiny_model(seed=8)
    mlp = model.sllm.temporal_head.encoder.layers[0].mlp
    hidden = torch.randn(2, 7, 64) * 2
    with torch.inference_mode():
        exact = mlp.fc2.double()(mlp.activation_fn(mlp.fc1.double()(hidden.double())))
    model.to(dtype)

    def separate():
        with torch.enable_grad():  # autograd on: fc1, QuickGELU and fc2 one by one
            return mlp(hidden.to(dtype)).detach()

    with torch.inference_mode():
        fused = mlp(hidden.to(dtype))
    key = mlp.fc1._packed[0]
    assert key[:2] == (_QUICK_GELU_ALPHA, _QUICK_GELU_ALPHA)  # fc1 packed with its weight and bias scaled
    assert mlp.fc2._packed[0][:2] == (1 / _QUICK_GELU_ALPHA, 1.0)
    tolerance = 1e-5 if dtype is torch.float32 else 3e-2
    torch.testing.assert_close(fused, separate(), rtol=tolerance, atol=tolerance)
    fused_error, separate_error = ((result.double() - exact).abs().max().item() for result in (fused, separate()))
    assert fused_error <= 2 * separate_error + 1e-6, (fused_error, separate_error)
    # a hook on the activation (a probe) must run: the modules are called one by one then
    seen = []
    handle = mlp.activation_fn.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    with torch.inference_mode():
        hooked = mlp(hidden.to(dtype))
    handle.remove()
    assert seen == [(2, 7, 256)]
    torch.testing.assert_close(hooked, separate(), rtol=tolerance, atol=tolerance)
    # another activation is not fused
    other = tiny_model(seed=8, hidden_act="gelu").to(dtype).sllm.temporal_head.encoder.layers[0].mlp
    with torch.inference_mode():
        result = other(hidden.to(dtype))
    assert other.fc1._packed[0][:2] == (1.0, 1.0)
    expected = other.fc2(torch.nn.functional.gelu(other.fc1(hidden.to(dtype))))
    torch.testing.assert_close(result, expected.detach(), rtol=tolerance, atol=tolerance)


def test_short_bfloat16_tower_attention_matches_clips_and_is_used_only_where_it_may(monkeypatch):
    from transformers.models.clip.modeling_clip import CLIPAttention

    import modeling_sllm.modeling_sllm as modeling

    model = tiny_model(seed=9)
    attention = model.sllm.vision_tower.vision_model.encoder.layers[0].self_attn
    assert type(attention) is modeling.SLLMCLIPAttention and isinstance(attention, CLIPAttention)
    assert not model.sllm.temporal_head.encoder.layers[0].self_attn._uses_short_sequence_attention
    calls = []
    original = modeling._short_sequence_attention

    def counted(fused, *args):
        calls.append(tuple(fused.shape))
        return original(fused, *args)

    monkeypatch.setattr(modeling, "_short_sequence_attention", counted)
    plain_config = copy.deepcopy(attention.config)
    plain_config._attn_implementation = "eager"
    plain = CLIPAttention(plain_config).eval()
    plain.load_state_dict(attention.state_dict())
    width = attention.config.hidden_size
    generator = torch.Generator().manual_seed(0)

    def run(module, hidden, dtype, mask=None):
        module.to(dtype)
        with torch.inference_mode():
            return module(hidden.to(dtype), attention_mask=None if mask is None else mask.to(dtype))

    for tokens in (5, 64, 65):
        hidden = torch.randn(8, tokens, width, generator=generator) * 2
        exact, _ = run(plain, hidden, torch.float64)
        ours, weights = run(attention, hidden, torch.bfloat16)
        clip, _ = run(plain, hidden, torch.bfloat16)
        assert weights is None and ours.shape == (8, tokens, width) and ours.dtype == torch.bfloat16
        torch.testing.assert_close(ours, clip, rtol=3e-2, atol=3e-2)
        ours_error, clip_error = ((result.double() - exact).abs().max().item() for result in (ours, clip))
        assert ours_error <= 2 * clip_error + 1e-6, (tokens, ours_error, clip_error)
        # up to 64 tokens (B/32 at 224 px: 50) the two batched products; longer sequences through SDPA
        assert calls == ([(8, tokens, 3 * width)] if tokens <= 64 else []), (tokens, calls)
        calls.clear()
    hidden = torch.randn(8, 5, width, generator=generator)
    # float32, a mask, another implementation, autograd: never the short path
    run(attention, hidden, torch.float32)
    run(attention, hidden, torch.bfloat16, mask=torch.zeros(8, 1, 5, 5))
    attention.to(torch.bfloat16)
    with torch.enable_grad():
        attention(hidden.to(torch.bfloat16))
    model.set_attn_implementation("eager")
    _, weights = run(attention, hidden, torch.bfloat16)
    assert calls == [] and weights.shape == (8, 2, 5, 5)


def test_fused_bfloat16_query_key_value_product_matches_three_projections():
    model = tiny_model(seed=7).to(torch.bfloat16)
    attention = model.sllm.temporal_head.encoder.layers[1].self_attn
    hidden = torch.randn(2, 7, 64, dtype=torch.bfloat16)

    def three_products():
        with torch.enable_grad():  # autograd on: the plain nn.Linear path of each projection
            return attention(hidden)[0].detach()

    with torch.inference_mode():
        fused = attention(hidden)[0]
    assert attention._packed is not None  # one product on the packed concatenated q/k/v weights
    assert torch.equal(fused, three_products())
    # a hook on a projection (a probe, an adapter) must run: the projections are called one by one then
    calls = []
    handle = attention.k_proj.register_forward_hook(lambda module, args, output: calls.append(output.shape))
    with torch.inference_mode():
        assert torch.equal(attention(hidden)[0], fused)
    handle.remove()
    assert calls == [(2, 7, 64)]
    # new weights are picked up
    with torch.no_grad():
        attention.v_proj.bias.add_(1.0)
    with torch.inference_mode():
        updated = attention(hidden)[0]
    assert not torch.equal(updated, fused) and torch.equal(updated, three_products())
