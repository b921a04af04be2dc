# Longer than 500 lines: the whole model in one file, as transformers' modeling files (remote code copies it whole).
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""PyTorch SLLM model: CLIP frame encoder, frame-feature restoration (FFRes), temporal head and Text4Vis classifier."""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as torch_module_globals
from transformers import CLIPVisionModelWithProjection, PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN, QuickGELUActivation
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import BaseModelOutput, BaseModelOutputWithPooling
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.clip.modeling_clip import CLIPAttention, CLIPMLP
from transformers.processing_utils import Unpack
from transformers.utils import ModelOutput, TransformersKwargs, can_return_tuple, logging
from transformers.utils.output_capturing import capture_outputs

from .configuration_sllm import SLLMConfig
from .text_features import build_prompts, encode_prompts, load_clip


logger = logging.get_logger(__name__)


@dataclass
class SLLMModelOutput(ModelOutput):
    r"""
    video_embeds (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
        Video embedding: output of the temporal head.
    frame_embeds (`torch.FloatTensor` of shape `(batch_size, num_frames, hidden_size)`):
        Vision-tower embeddings of the kept (encoded) frames.
    restored_embeds (`torch.FloatTensor` of shape `(batch_size, num_restored_frames, hidden_size)`, *optional*):
        Restored embeddings of the skipped frames, gap by gap (`None` when `keep_interval == 1`).
    sequence_embeds (`torch.FloatTensor` of shape `(batch_size, sequence_length, hidden_size)`):
        Kept and restored embeddings interleaved in time order: `f_0, r_0, f_1, ..., f_{N-1}`.
    target_embeds (`torch.FloatTensor` of shape `(batch_size, num_restored_frames, hidden_size)`, *optional*):
        Vision-tower embeddings of the skipped frames (computed without gradients), when `skipped_pixel_values` is
        given.
    vision_hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        The CLIP tower's hidden states for the kept frames: its embedding output and the output of each of its
        `vision_config.num_hidden_layers` layers, each
        `(batch_size * num_frames, num_patches + 1, vision_config.hidden_size)` (row `b * num_frames + i` is frame `i`
        of video `b`).
    vision_attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        The CLIP tower's attention weights for the kept frames, one per layer, each
        `(batch_size * num_frames, vision_config.num_attention_heads, num_patches + 1, num_patches + 1)`.
    restoration_hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        The restoration transformer's input and the output of each of its `restoration_num_layers` layers, each
        `(2 * batch_size * num_restored_frames, 2, hidden_size)`: one 2-token sequence per direction, video and
        restored frame, row `(d * batch_size + b) * num_restored_frames + r` for direction `d` (0: `(f_i, f_{i+1})`, 1:
        reversed), video `b` and restored frame `r`. Empty when the model restores no frames (`keep_interval == 1`).
    restoration_attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        The restoration transformer's attention weights, one per layer, each
        `(2 * batch_size * num_restored_frames, num_attention_heads, 2, 2)` (rows as above). Empty when
        `keep_interval == 1`.
    temporal_hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        The temporal transformer's input (the sequence plus frame position embeddings) and the output of each of its
        `temporal_num_layers` layers, each `(batch_size, sequence_length, hidden_size)`. Empty for
        `temporal_head="mean"`.
    temporal_attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        The temporal transformer's attention weights, one per layer, each
        `(batch_size, num_attention_heads, sequence_length, sequence_length)`. Empty for `temporal_head="mean"`.
    """

    video_embeds: torch.FloatTensor | None = None
    frame_embeds: torch.FloatTensor | None = None
    restored_embeds: torch.FloatTensor | None = None
    sequence_embeds: torch.FloatTensor | None = None
    target_embeds: torch.FloatTensor | None = None
    vision_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    vision_attentions: tuple[torch.FloatTensor, ...] | None = None
    restoration_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    restoration_attentions: tuple[torch.FloatTensor, ...] | None = None
    temporal_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    temporal_attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class SLLMVideoClassifierOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*):
        `classification_loss + restoration_loss_weight * restoration_loss`, over the terms that could be computed.
    logits (`torch.FloatTensor` of shape `(batch_size, num_labels)`):
        `exp(logit_scale) * cos(video_embeds, class_embeddings)`, in float32 whatever the model's dtype (see
        [`SLLMForVideoClassification.classify`]).
    classification_loss (`torch.FloatTensor` of shape `()`, *optional*):
        Cross-entropy of the logits, when `labels` are given.
    restoration_loss (`torch.FloatTensor` of shape `()`, *optional*):
        Loss between restored and true skipped-frame embeddings, when `skipped_pixel_values` are given.
    video_embeds, frame_embeds, restored_embeds, target_embeds:
        As in [`SLLMModelOutput`].
    vision_hidden_states, vision_attentions, restoration_hidden_states, restoration_attentions, temporal_hidden_states,
    temporal_attentions:
        As in [`SLLMModelOutput`], when `output_hidden_states=True` / `output_attentions=True`.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    classification_loss: torch.FloatTensor | None = None
    restoration_loss: torch.FloatTensor | None = None
    video_embeds: torch.FloatTensor | None = None
    frame_embeds: torch.FloatTensor | None = None
    restored_embeds: torch.FloatTensor | None = None
    target_embeds: torch.FloatTensor | None = None
    vision_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    vision_attentions: tuple[torch.FloatTensor, ...] | None = None
    restoration_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    restoration_attentions: tuple[torch.FloatTensor, ...] | None = None
    temporal_hidden_states: tuple[torch.FloatTensor, ...] | None = None
    temporal_attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class SLLMRestorationOutput(ModelOutput):
    r"""
    restored_embeds (`torch.FloatTensor` of shape `(batch_size, num_restored_frames, hidden_size)`):
        Restored embeddings of the skipped frames, gap by gap.
    hidden_states, attentions:
        The restoration transformer's, as `restoration_hidden_states` / `restoration_attentions` of
        [`SLLMModelOutput`].
    """

    restored_embeds: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


def _onednn_prepacking_available(dtype: torch.dtype) -> bool:
    """Whether this PyTorch build can pre-pack linear weights of `dtype` for oneDNN (the ops inductor's freezing
    uses)."""
    mkldnn = torch.ops.mkldnn
    if not (
        torch.backends.mkldnn.is_available()
        and hasattr(mkldnn, "_reorder_linear_weight")
        and hasattr(mkldnn, "_linear_pointwise")
    ):
        return False
    if dtype is torch.bfloat16:
        return hasattr(mkldnn, "_is_mkldnn_bf16_supported") and bool(mkldnn._is_mkldnn_bf16_supported())
    return True


_ONEDNN_PREPACKING: dict[torch.dtype, bool] = {}  # decided at the first CPU call in each dtype
_PREPACKED_DTYPES = (torch.float32, torch.bfloat16)
_PLAIN_WEIGHT_TYPES = (nn.Parameter, torch.Tensor)
# QuickGELU(x) = x * sigmoid(1.702 x) = silu(1.702 x) / 1.702: oneDNN's swish post-op (alpha 1) on a product whose
# weight and bias are scaled by 1.702, the next product's weight divided by it
_QUICK_GELU_ALPHA = 1.702


def _prepacking_applies(module: nn.Module, hidden_states: torch.Tensor, weight: torch.Tensor) -> bool:
    """
    Whether `module`'s product of `hidden_states` with `weight` may use a pre-packed weight: the module in eval mode
    (training mode keeps `nn.Linear`, also under `no_grad`, so that training is reproducible bit for bit), float32 or
    bfloat16 inputs and weights of one dtype on a CPU, no autograd, no CPU autocast, no compiler or tracer at work, a
    plain weight tensor with a version counter, contiguous inputs.
    """
    dtype = hidden_states.dtype
    if (
        module.training
        or dtype not in _PREPACKED_DTYPES
        or weight.dtype is not dtype
        or torch.is_grad_enabled()
        or torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.jit.is_tracing()
        or hidden_states.device.type != "cpu"
        or torch.is_autocast_enabled("cpu")  # autocast casts `F.linear`'s inputs, not the pre-packed product's
        or type(weight) not in _PLAIN_WEIGHT_TYPES
        or weight.is_inference()  # inference tensors keep no version counter to invalidate the cache
        or not hidden_states.is_contiguous()
    ):
        return False
    available = _ONEDNN_PREPACKING.get(dtype)
    if available is None:
        available = _ONEDNN_PREPACKING[dtype] = _onednn_prepacking_available(dtype)
    return available


class _PrepackedWeightCache:
    """
    Keeps pre-packed weights on a module (`_packed`): built on first use, rebuilt when a weight or bias changes (its
    memory or its version: in-place updates such as optimizer steps bump it), dropped when the module's tensors are
    replaced (`.to()`, `.cuda()`...) and never copied or pickled (an opaque oneDNN tensor). The cache holds the
    storages it was built from, so that no other tensor can take their addresses while it names them. It costs one
    more copy of the weights in memory.
    """

    _packed: tuple | None = None

    def _prepacked_product(
        self,
        inputs: torch.Tensor,
        weights: tuple[torch.Tensor, ...],
        biases: tuple[torch.Tensor | None, ...],
        weight_scale: float = 1.0,
        bias_scale: float = 1.0,
        post_op: str = "none",
    ) -> torch.Tensor:
        """
        `inputs` `(..., in_features)` times the packed (row-wise concatenated) `weights` times `weight_scale`, plus
        their (concatenated) bias times `bias_scale` (scaled in float32, then rounded once to the weights' dtype),
        followed by oneDNN's `post_op` -> `(..., sum of the weights' out_features)`. The weights are packed for
        products with as many rows as the first call's `inputs`.
        """
        tensors = [tensor for tensor in (*weights, *biases) if tensor is not None]
        key = (weight_scale, bias_scale, *((tensor.data_ptr(), tensor._version) for tensor in tensors))
        if self._packed is None or self._packed[0] != key:
            weight = weights[0] if len(weights) == 1 else torch.cat(weights)
            bias = biases[0] if len(biases) == 1 else torch.cat(biases)
            weight, bias = weight.detach(), None if bias is None else bias.detach()
            if weight_scale != 1.0:
                weight = (weight.float() * weight_scale).to(weight.dtype)
            if bias is not None and bias_scale != 1.0:
                bias = (bias.float() * bias_scale).to(bias.dtype)
            packed = torch.ops.mkldnn._reorder_linear_weight(weight, inputs.numel() // inputs.shape[-1])
            self._packed = (key, packed, bias, [tensor.untyped_storage() for tensor in tensors])
        return torch.ops.mkldnn._linear_pointwise(inputs, self._packed[1], self._packed[2], post_op, [], "")

    def _apply(self, fn, recurse=True):
        self._packed = None  # the tensors are about to be replaced (`.to()`, `.cuda()`, ...)
        return super()._apply(fn, recurse)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_packed", None)
        return state


class SLLMLinear(_PrepackedWeightCache, nn.Linear):
    """
    The linear layers of the restoration and temporal blocks (and of the CLIP tower, whose `nn.Linear`s take this class
    in [`SLLMModel`]): `nn.Linear` (same parameters, same state-dict keys) plus one inference fast path. For float32
    and bfloat16 on a CPU without autograd, the weight is kept pre-packed in oneDNN's blocked layout (packed once,
    repacked only when the weight changes), so that each call skips the weight copy oneDNN otherwise makes for every
    product. The products of the restoration and temporal blocks have only 15-30 rows (one video's frame features),
    so that copy is about a fifth of their time in bfloat16 (5-10% in the tower's products of ~400 rows). In float32
    oneDNN also replaces `F.linear`'s MKL product, which on an AMD EPYC (Zen 4) took 1.1-1.4x as long for the tower's
    products and 2.5x as long for the blocks'; the results differ from MKL's by float32 rounding (another summation
    order). bfloat16 results are bit-identical to `nn.Linear`'s (oneDNN there too). Every other case (training mode,
    also under `no_grad`, as for the restoration targets; GPUs, `torch.compile`, `torch.export`, `torch.jit.trace`)
    runs `nn.Linear.forward` unchanged, so that training is reproducible bit for bit.
    """

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if not _prepacking_applies(self, hidden_states, weight):
            return F.linear(hidden_states, weight, self.bias)
        return self._prepacked_product(hidden_states, (weight,), (self.bias,))


def _packed_quick_gelu_mlp(mlp: nn.Module, hidden_states: torch.Tensor) -> torch.Tensor | None:
    """
    `fc2(quick_gelu(fc1(hidden_states)))` of an MLP with `fc1`, `activation_fn` and `fc2` as two pre-packed oneDNN
    products, the activation fused into the first as its swish post-op (see `_QUICK_GELU_ALPHA`): on a CPU the
    separate activation (three elementwise operators) took 4% of SLLM's bfloat16 model time. The float32 epilogue of
    the fused product rounds once where the separate operators round four times in bfloat16; the scaled weights are
    rounded once more. `None` when the fast path does not apply (other activation, hooks, replaced layers,
    autograd...): the caller runs its modules.
    """
    fc1, fc2 = mlp.fc1, mlp.fc2
    if (
        type(mlp.activation_fn) is not QuickGELUActivation
        or type(fc1) is not SLLMLinear
        or type(fc2) is not SLLMLinear
        or fc1.bias is None
        or not _prepacking_applies(mlp, hidden_states, fc1.weight)
        or fc2.weight.dtype is not hidden_states.dtype
        or any(_has_hooks(module) for module in (fc1, mlp.activation_fn, fc2))
    ):
        return None
    scaled_activations = fc1._prepacked_product(
        hidden_states, (fc1.weight,), (fc1.bias,), _QUICK_GELU_ALPHA, _QUICK_GELU_ALPHA, "swish"
    )
    return fc2._prepacked_product(scaled_activations, (fc2.weight,), (fc2.bias,), 1 / _QUICK_GELU_ALPHA)


class SLLMPatchEmbedding(_PrepackedWeightCache, nn.Conv2d):
    """
    The CLIP tower's patch embedding (the class its `Conv2d` takes in [`SLLMModel`]; same parameters): a convolution
    whose stride is its kernel size, so on the CPU inference path of [`SLLMLinear`] it runs as one pre-packed product
    of the flattened patches `(frames * patches, channels * patch * patch)` with the flattened kernel. For 8 frames of
    B/32 the convolution took 1.8x as long in bfloat16 (SLLM's model time: 1.009x in bfloat16, 1.014x in float32).
    Returns the convolution's `(frames, hidden_size, grid, grid)` (a strided view), its results up to the summation
    order.
    """

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        kernel = self.kernel_size
        if (
            self.stride != kernel
            or self.padding != (0, 0)
            or self.dilation != (1, 1)
            or self.groups != 1
            or pixel_values.dim() != 4
            or pixel_values.shape[2] % kernel[0]
            or pixel_values.shape[3] % kernel[1]
            or not _prepacking_applies(self, pixel_values, weight)
        ):
            return super().forward(pixel_values)
        frames, channels, height, width = pixel_values.shape
        grid = (height // kernel[0], width // kernel[1])
        patches = (
            pixel_values.view(frames, channels, grid[0], kernel[0], grid[1], kernel[1])
            .permute(0, 2, 4, 1, 3, 5)
            .reshape(frames * grid[0] * grid[1], -1)
        )
        embeds = self._prepacked_product(patches, (weight.flatten(1),), (self.bias,))
        return embeds.view(frames, *grid, -1).permute(0, 3, 1, 2)


class SLLMCLIPMLP(CLIPMLP):
    """The MLP of the CLIP tower's layers (the class its `CLIPMLP`s take in [`SLLMModel`]; same parameters): CLIP's
    forward, or on a CPU at inference the fused pre-packed products of `_packed_quick_gelu_mlp`."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        fused = _packed_quick_gelu_mlp(self, hidden_states)
        return super().forward(hidden_states) if fused is None else fused


def _has_hooks(module: nn.Module) -> bool:
    """Whether calling `module` runs hooks (its own or global ones) besides its `forward`."""
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or torch_module_globals._global_forward_hooks
        or torch_module_globals._global_forward_pre_hooks
    )


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
):
    attn_weights = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous()
    return attn_output, attn_weights


# CPU inference in bfloat16 through "sdpa": the CLIP tower's sequences of at most this many tokens take
# `_short_sequence_attention` (two batched products around a softmax) instead of SDPA's CPU kernel. On an AMD EPYC
# (Zen 4, 2 threads) the kernel took 1.8-2x as long for 8 frames of 50 tokens (B/32 at 224 px), but won from 82 tokens
# on and for the 15 tokens of one video in the temporal block, and tied in float32: those keep SDPA, as do the
# restoration and temporal blocks.
_SHORT_SEQUENCE_TOKENS = 64


def _short_sequence_attention(fused: torch.Tensor, num_heads: int, head_dim: int, scaling: float) -> torch.Tensor:
    """
    Softmax attention of the fused projections `fused` `(batch, seq_len, 3 * num_heads * head_dim)` (queries, keys,
    values) -> `(batch, seq_len, num_heads * head_dim)`, with one copy to the head-major layout for all three.
    """
    batch, seq_len = fused.shape[:2]
    queries, keys, values = (
        fused.view(batch, seq_len, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4).reshape(3, -1, seq_len, head_dim)
    )
    scores = torch.baddbmm(fused.new_empty(()), queries, keys.transpose(1, 2), beta=0.0, alpha=scaling)
    probabilities = torch.softmax(scores, dim=-1, dtype=torch.float32).to(scores.dtype)  # as the eager attention
    attn_output = torch.bmm(probabilities, values)
    return attn_output.view(batch, num_heads, seq_len, head_dim).transpose(1, 2).reshape(batch, seq_len, -1)


class _SLLMAttentionForward(_PrepackedWeightCache):
    """
    The forward of [`SLLMAttention`] and of the CLIP tower's attention in [`SLLMModel`] (same parameters as
    `CLIPAttention`). In CPU inference (float32 or bfloat16) the query, key and value projections run as one product on
    their pre-packed concatenated weights (three small products cost about half again as much as one three times
    wider), and in the CLIP tower short bfloat16 sequences take `_short_sequence_attention` instead of "sdpa";
    elsewhere, and whenever one of the projections was replaced or hooked (adapters, probes), they run as the three
    modules and the attention through the attention interface.
    """

    _uses_short_sequence_attention = False  # see `_SHORT_SEQUENCE_TOKENS`

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`hidden_states`: `(batch, seq_len, hidden_size)`; `attention_mask`: additive, as the interface takes it."""
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        projections = (self.q_proj, self.k_proj, self.v_proj)
        if (
            _prepacking_applies(self, hidden_states, self.q_proj.weight)
            and all(type(projection) is SLLMLinear and projection.bias is not None for projection in projections)
            and all(projection.weight.dtype is hidden_states.dtype for projection in projections)
            and not any(_has_hooks(projection) for projection in projections)
        ):
            fused = self._prepacked_product(
                hidden_states,
                tuple(projection.weight for projection in projections),
                tuple(projection.bias for projection in projections),
            )
            if (
                self._uses_short_sequence_attention
                and attention_mask is None
                and hidden_states.dtype is torch.bfloat16
                and self.config._attn_implementation == "sdpa"
                and hidden_states.dim() == 3
                and hidden_states.shape[1] <= _SHORT_SEQUENCE_TOKENS
            ):
                attn_output = _short_sequence_attention(fused, self.num_heads, self.head_dim, self.scale)
                return self.out_proj(attn_output), None
            queries, keys, values = (
                part.view(hidden_shape).transpose(1, 2) for part in fused.split(self.embed_dim, dim=-1)
            )
        else:
            queries = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
            keys = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
            values = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)

        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        attn_output, attn_weights = attention_interface(
            self,
            queries,
            keys,
            values,
            attention_mask,
            scaling=self.scale,
            dropout=0.0 if not self.training else self.dropout,
            **kwargs,
        )
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.out_proj(attn_output), attn_weights


class SLLMAttention(_SLLMAttentionForward, nn.Module):
    """Multi-head self-attention of the restoration and temporal blocks (width `config.hidden_size`)."""

    def __init__(self, config: SLLMConfig):
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.head_dim = config.head_dim
        self.num_heads = config.num_attention_heads
        self.scale = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.is_causal = False
        self.q_proj = SLLMLinear(self.embed_dim, self.embed_dim)
        self.k_proj = SLLMLinear(self.embed_dim, self.embed_dim)
        self.v_proj = SLLMLinear(self.embed_dim, self.embed_dim)
        self.out_proj = SLLMLinear(self.embed_dim, self.embed_dim)


class SLLMCLIPAttention(_SLLMAttentionForward, CLIPAttention):
    """The attention of the CLIP tower's layers (the class its `CLIPAttention`s take in [`SLLMModel`]; same
    parameters): CLIP's computation, with the CPU inference paths of `_SLLMAttentionForward`."""

    _uses_short_sequence_attention = True


class SLLMMLP(nn.Module):
    """Block MLP: `hidden_size -> config.intermediate_size -> hidden_size` with `config.hidden_act` (QuickGELU)."""

    def __init__(self, config: SLLMConfig):
        super().__init__()
        self.activation_fn = ACT2FN[config.hidden_act]
        self.fc1 = SLLMLinear(config.hidden_size, config.intermediate_size)
        self.fc2 = SLLMLinear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        fused = _packed_quick_gelu_mlp(self, hidden_states)  # CPU inference: see there
        return self.fc2(self.activation_fn(self.fc1(hidden_states))) if fused is None else fused


class SLLMEncoderLayer(GradientCheckpointingLayer):
    """
    Pre-LN residual attention block (the OpenAI CLIP block layout, LayerNorm eps `config.layer_norm_eps`). Its
    attention weights are the second output of `self_attn`, where [`SLLMEncoder`] records them.
    """

    def __init__(self, config: SLLMConfig):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.self_attn = SLLMAttention(config)
        self.layer_norm2 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = SLLMMLP(config)

    def forward(self, hidden_states: torch.Tensor, **kwargs: Unpack[TransformersKwargs]) -> torch.Tensor:
        attn_output, _ = self.self_attn(self.layer_norm1(hidden_states), **kwargs)
        hidden_states = hidden_states + attn_output
        return hidden_states + self.mlp(self.layer_norm2(hidden_states))


class SLLMPreTrainedModel(PreTrainedModel):
    config: SLLMConfig
    config_class = SLLMConfig
    base_model_prefix = "sllm"
    main_input_name = "pixel_values"
    input_modalities = ("video",)
    supports_gradient_checkpointing = True
    _no_split_modules = ["SLLMEncoderLayer", "CLIPEncoderLayer", "CLIPVisionEmbeddings"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    # the losses are per-batch means: the Trainer scales them for gradient accumulation
    accepts_loss_kwargs = False

    def save_pretrained(self, save_directory, *args, **kwargs):
        """
        Saves like [`PreTrainedModel.save_pretrained`]; when the classes are registered for remote code, the folder's
        `auto_map` names both `AutoModel` and `AutoModelForVideoClassification`, whichever of the two is saved.
        """
        if self._auto_class is not None:
            module = type(self).__module__.split(".")[-1]
            auto_map = dict(getattr(self.config, "auto_map", None) or {})
            auto_map.setdefault("AutoModel", f"{module}.SLLMModel")
            auto_map.setdefault("AutoModelForVideoClassification", f"{module}.SLLMForVideoClassification")
            self.config.auto_map = auto_map
        return super().save_pretrained(save_directory, *args, **kwargs)

    def initialize_weights(self):
        """
        Initialises the weights a checkpoint did not provide. The CLIP vision tower initialises its modules with CLIP's
        own `_init_weights` (done first and explicitly: as custom code, transformers' generic pass would give the
        tower's attention and MLP projections N(0, 0.02)); the SLLM modules then get the Text4Vis initialisation.
        """
        for module in self.modules():
            if isinstance(module, CLIPVisionModelWithProjection):
                module.initialize_weights()
        super().initialize_weights()

    def _init_weights(self, module):
        """Text4Vis initialisation of the video modules (the CLIP tower has its own, see `initialize_weights`)."""
        std = self.config.initializer_range
        if isinstance(module, SLLMZeroInitLinear):
            init.zeros_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, SLLMForVideoClassification):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)
            init.normal_(module.class_embeddings, mean=0.0, std=std)


class SLLMEncoder(SLLMPreTrainedModel):
    """
    A stack of `num_layers` [`SLLMEncoderLayer`]s (the restoration and the temporal transformers). Like CLIP's vision
    model it is a sub-model so that it records its own hidden states and attention weights (`_can_record_outputs`).
    """

    _can_record_outputs = {"hidden_states": SLLMEncoderLayer, "attentions": SLLMAttention}

    def __init__(self, config: SLLMConfig, num_layers: int):
        super().__init__(config)
        self.layers = nn.ModuleList([SLLMEncoderLayer(config) for _ in range(num_layers)])
        self.post_init()

    @capture_outputs
    def forward(self, inputs_embeds: torch.Tensor, **kwargs: Unpack[TransformersKwargs]) -> BaseModelOutput:
        """`inputs_embeds`: `(batch, seq_len, hidden_size)`; `hidden_states` has `num_layers + 1` entries."""
        hidden_states = inputs_embeds
        for layer in self.layers:
            hidden_states = layer(hidden_states, **kwargs)
        return BaseModelOutput(last_hidden_state=hidden_states)


class SLLMZeroInitLinear(nn.Linear):
    """A linear layer initialised to zero (the residual restoration correction starts as "add nothing")."""


class SLLMFrameRestoration(nn.Module):
    """
    Frame-feature restoration (FFRes). For each pair of adjacent kept-frame embeddings `(f_i, f_{i+1})` the shared
    transformer reads the 2-token sequence and the reversed sequence `(f_{i+1}, f_i)`; the outputs are averaged over
    both directions and both tokens. All pairs, gaps and directions run as one batch.

    With `keep_interval = k > 2` each gap holds `k - 1` skipped frames; a learned gap-offset embedding (offset `j` for
    the forward pair, `k - j` for the reversed pair) tells the transformer which of them to restore. In `"residual"`
    mode the output is the position-weighted linear interpolation of the two neighbours plus a learned correction
    whose projection starts at zero, so an untrained module returns the interpolation exactly.
    """

    def __init__(self, config: SLLMConfig):
        super().__init__()
        self.keep_interval = config.keep_interval
        self.mode = config.restoration_mode
        self.position_embeddings = nn.Embedding(config.max_frame_positions, config.hidden_size)
        self.gap_embeddings = (
            nn.Embedding(config.keep_interval - 1, config.hidden_size) if config.keep_interval > 2 else None
        )
        self.encoder = SLLMEncoder(config, config.restoration_num_layers)
        self.correction = (
            SLLMZeroInitLinear(config.hidden_size, config.hidden_size) if self.mode == "residual" else None
        )

    def forward(self, frame_embeds: torch.Tensor, **kwargs: Unpack[TransformersKwargs]) -> SLLMRestorationOutput:
        """
        Args:
            frame_embeds (`torch.FloatTensor` of shape `(batch_size, num_frames, hidden_size)`): kept-frame embeddings.

        Returns:
            [`SLLMRestorationOutput`]: `restored_embeds` of shape
            `(batch_size, (num_frames - 1) * (keep_interval - 1), hidden_size)`.
        """
        batch_size, num_frames, hidden_size = frame_embeds.shape
        num_gaps, per_gap = num_frames - 1, self.keep_interval - 1
        left, right = frame_embeds[:, :-1], frame_embeds[:, 1:]
        # (2 directions, batch, gaps, 2 tokens, hidden)
        pairs = torch.stack([torch.stack([left, right], dim=2), torch.stack([right, left], dim=2)])
        pairs = pairs + self.position_embeddings.weight[:2].to(pairs.dtype)
        # one copy per skipped frame of a gap: (2, batch, gaps, per_gap, 2, hidden)
        pairs = pairs.unsqueeze(3).expand(-1, -1, -1, per_gap, -1, -1)
        if self.gap_embeddings is not None:
            offsets = self.gap_embeddings.weight.to(pairs.dtype)  # row j-1 is offset j
            offsets = torch.stack([offsets, offsets.flip(0)])  # forward offset j, reversed offset k - j
            pairs = pairs + offsets[:, None, None, :, None, :]
        encoder_outputs = self.encoder(pairs.reshape(-1, 2, hidden_size), return_dict=True, **kwargs)
        restored = encoder_outputs.last_hidden_state.mean(dim=1)
        restored = restored.view(2, batch_size, num_gaps, per_gap, hidden_size).mean(dim=0)
        if self.correction is not None:
            weights = torch.arange(1, per_gap + 1, device=frame_embeds.device, dtype=frame_embeds.dtype)
            weights = (weights / self.keep_interval)[None, None, :, None]
            interpolation = left.unsqueeze(2) * (1 - weights) + right.unsqueeze(2) * weights
            restored = interpolation + self.correction(restored)
        return SLLMRestorationOutput(
            restored_embeds=restored.reshape(batch_size, num_gaps * per_gap, hidden_size),
            hidden_states=encoder_outputs.hidden_states,
            attentions=encoder_outputs.attentions,
        )


class SLLMTemporalHead(nn.Module):
    """
    Text4Vis temporal head. `"transformer"`: add frame position embeddings, run the temporal transformer, add the input
    back, average over time. `"mean"`: average over time.
    """

    def __init__(self, config: SLLMConfig):
        super().__init__()
        self.head_type = config.temporal_head
        if self.head_type == "transformer":
            self.position_embeddings = nn.Embedding(config.max_frame_positions, config.hidden_size)
            self.encoder = SLLMEncoder(config, config.temporal_num_layers)

    def forward(
        self, sequence_embeds: torch.Tensor, **kwargs: Unpack[TransformersKwargs]
    ) -> BaseModelOutputWithPooling:
        """
        `sequence_embeds`: `(batch_size, sequence_length, hidden_size)`. Returns `last_hidden_state` (the transformer's
        output plus its input, `(batch_size, sequence_length, hidden_size)`) and its time average `pooler_output`, the
        video embedding `(batch_size, hidden_size)`, with the transformer's `hidden_states` / `attentions`.
        """
        if self.head_type == "mean":
            return BaseModelOutputWithPooling(
                last_hidden_state=sequence_embeds, pooler_output=sequence_embeds.mean(dim=1)
            )
        positions = self.position_embeddings.weight[: sequence_embeds.shape[1]].to(sequence_embeds.dtype)
        encoder_outputs = self.encoder(sequence_embeds + positions, return_dict=True, **kwargs)
        last_hidden_state = encoder_outputs.last_hidden_state + sequence_embeds
        return BaseModelOutputWithPooling(
            last_hidden_state=last_hidden_state,
            pooler_output=last_hidden_state.mean(dim=1),
            hidden_states=encoder_outputs.hidden_states,
            attentions=encoder_outputs.attentions,
        )


def interleave_frames(
    frame_embeds: torch.Tensor, restored_embeds: torch.Tensor | None, keep_interval: int
) -> torch.Tensor:
    """
    Puts kept and restored embeddings back in time order.

    Args:
        frame_embeds: `(batch_size, N, hidden_size)`.
        restored_embeds: `(batch_size, (N - 1) * (keep_interval - 1), hidden_size)` or `None` (`keep_interval == 1`).

    Returns:
        `(batch_size, N + (N - 1) * (keep_interval - 1), hidden_size)`: `f_0, r_0, ..., f_{N-1}`.
    """
    if restored_embeds is None or keep_interval == 1:
        return frame_embeds
    batch_size, num_frames, hidden_size = frame_embeds.shape
    gaps = restored_embeds.view(batch_size, num_frames - 1, keep_interval - 1, hidden_size)
    body = torch.cat([frame_embeds[:, :-1].unsqueeze(2), gaps], dim=2).reshape(batch_size, -1, hidden_size)
    return torch.cat([body, frame_embeds[:, -1:]], dim=1)


def restoration_loss(
    restored: torch.Tensor, target: torch.Tensor, kind: str = "kl", temperature: float = 0.1
) -> torch.Tensor:
    """
    Loss between restored and true skipped-frame embeddings, both `(..., hidden_size)`; averaged over embeddings.

    - `"kl"`: `KL(softmax(target) || softmax(restored))` over the feature dimension (the paper; `F.kl_div` with
      `log_softmax(restored)` as input), mean over embeddings.
    - `"kl_temperature"`: the same on L2-normalised embeddings divided by `temperature` (a sharper, scale-free target).
    - `"mse"`: mean squared error of the raw embeddings.
    - `"normalized_mse"`: mean squared error of the L2-normalised embeddings, summed over features.
    - `"cosine"`: `1 - cos(restored, target)`.
    """
    restored = restored.reshape(-1, restored.shape[-1]).float()
    target = target.reshape(-1, target.shape[-1]).float()
    if kind == "kl":
        return F.kl_div(F.log_softmax(restored, dim=-1), F.softmax(target, dim=-1), reduction="batchmean")
    if kind == "kl_temperature":
        restored = F.normalize(restored, dim=-1) / temperature
        target = F.normalize(target, dim=-1) / temperature
        return F.kl_div(F.log_softmax(restored, dim=-1), F.softmax(target, dim=-1), reduction="batchmean")
    if kind == "mse":
        return F.mse_loss(restored, target)
    if kind == "normalized_mse":
        return (F.normalize(restored, dim=-1) - F.normalize(target, dim=-1)).pow(2).sum(-1).mean()
    if kind == "cosine":
        return (1 - F.cosine_similarity(restored, target, dim=-1)).mean()
    raise ValueError(f"Unknown restoration loss {kind!r}.")


def _recorded(outputs: ModelOutput | None, name: str, requested: bool) -> tuple[torch.Tensor, ...] | None:
    """`outputs.<name>` when requested, `()` when requested from a part without transformer layers, else `None`."""
    if not requested:
        return None
    value = getattr(outputs, name, None) if outputs is not None else None
    return () if value is None else value


class SLLMModel(SLLMPreTrainedModel):
    """SLLM without the classifier: frame encoding, restoration of the skipped frames and the temporal head."""

    # a folder saved from SLLMForVideoClassification also holds the classifier, which this model does not use
    _keys_to_ignore_on_load_unexpected = [r"^logit_scale$", r"^class_embeddings$"]

    def __init__(self, config: SLLMConfig):
        config.validate()  # again: `from_pretrained(..., **overrides)` sets fields after the config was validated
        super().__init__(config)
        self.vision_tower = CLIPVisionModelWithProjection._from_config(config.vision_config)
        # CPU inference: the tower's products (about 400 rows for 8 frames) gain 5-10% in bfloat16 from pre-packed
        # weights, 10-30% in float32 (oneDNN for MKL), its MLPs fuse QuickGELU into their first product, and its
        # attention runs one q/k/v product (and in bfloat16 the short-sequence attention: SLLM B/32 6% faster); the
        # patch embedding is one product too
        for module in self.vision_tower.modules():
            if type(module) is nn.Linear:
                module.__class__ = SLLMLinear  # subclasses adding no parameter: the code and weights are CLIP's
            elif type(module) is CLIPMLP:
                module.__class__ = SLLMCLIPMLP
            elif type(module) is CLIPAttention:
                module.__class__ = SLLMCLIPAttention
            elif type(module) is nn.Conv2d:
                module.__class__ = SLLMPatchEmbedding
        self.restoration = SLLMFrameRestoration(config) if config.keep_interval > 1 else None
        self.temporal_head = SLLMTemporalHead(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.vision_tower.vision_model.embeddings.patch_embedding

    def _check_frames(
        self, pixel_values: torch.Tensor, name: str, expected_frames: int, batch_size: int | None = None
    ):
        vision_config = self.config.vision_config
        if not isinstance(pixel_values, torch.Tensor):
            raise ValueError(f"`{name}` must be a torch.Tensor, got {type(pixel_values).__name__}.")
        if pixel_values.dim() != 5:
            raise ValueError(
                f"`{name}` must have shape (batch_size, num_frames, {vision_config.num_channels}, height, width), got "
                f"a {pixel_values.dim()}-d tensor of shape {tuple(pixel_values.shape)}."
            )
        batch, frames, channels, height, width = pixel_values.shape
        if frames != expected_frames:
            raise ValueError(
                f"`{name}` has {frames} frames per video but this model expects {expected_frames} (num_frames="
                f"{self.config.num_frames}, keep_interval={self.config.keep_interval}); "
                f"shape {tuple(pixel_values.shape)}."
            )
        if channels != vision_config.num_channels:
            raise ValueError(
                f"`{name}` has {channels} channels, the vision tower expects {vision_config.num_channels}; shape "
                f"{tuple(pixel_values.shape)}."
            )
        if (height, width) != (vision_config.image_size, vision_config.image_size):
            raise ValueError(
                f"`{name}` frames are {height}x{width}, the vision tower expects {vision_config.image_size}x"
                f"{vision_config.image_size}; shape {tuple(pixel_values.shape)}."
            )
        if batch_size is not None and batch != batch_size:
            raise ValueError(f"`{name}` has batch size {batch}, `pixel_values` has {batch_size}.")

    def _resolve_output_flags(self, kwargs: dict) -> dict:
        """
        Sets `output_hidden_states` / `output_attentions` in `kwargs` (the call's value, else the config's), so that
        the vision tower, which has a config of its own, honours them too; raises when they cannot be honoured.
        """
        for name in ("output_hidden_states", "output_attentions"):
            value = kwargs.get(name)
            value = bool(getattr(self.config, name)) if value is None else value
            if not isinstance(value, bool):
                raise ValueError(
                    f"`{name}` must be True or False, got {value!r}: SLLM returns the states of every layer of its "
                    "three encoders (vision tower, restoration, temporal head)."
                )
            kwargs[name] = value
        if kwargs["output_attentions"]:
            for part, config in (
                ("restoration and temporal", self.config),
                ("vision tower", self.vision_tower.config),
            ):
                if config._attn_implementation != "eager":
                    raise ValueError(
                        f"`output_attentions=True` needs the eager attention, but the {part} layers use "
                        f"{config._attn_implementation!r}: load the model with `attn_implementation=\"eager\"` or "
                        "call `model.set_attn_implementation(\"eager\")`."
                    )
        return kwargs

    def get_frame_embeddings(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """`pixel_values` `(batch_size, num_frames, C, H, W)` -> projected CLIP embeddings
        `(batch_size, num_frames, D)`."""
        batch_size, num_frames = pixel_values.shape[:2]
        embeds = self.vision_tower(pixel_values=pixel_values.flatten(0, 1), return_dict=True).image_embeds
        return embeds.view(batch_size, num_frames, -1)

    @can_return_tuple
    def forward(
        self,
        pixel_values: torch.Tensor,
        skipped_pixel_values: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> SLLMModelOutput:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            The kept frames, in time order (positions `0, k, 2k, ...` of the `num_frames * k` sampled frames).
        skipped_pixel_values (`torch.FloatTensor` of shape
            `(batch_size, (num_frames - 1) * (k - 1), num_channels, height, width)`, *optional*):
            The skipped frames between kept frames (training only): their tower embeddings, computed without
            gradients, are the restoration targets.
        output_hidden_states, output_attentions (`bool`, *optional*):
            Return the hidden states / attention weights of the vision tower (kept frames), the restoration and the
            temporal transformers (defaults: the config's). Attention weights need the eager attention.
        """
        self._check_frames(pixel_values, "pixel_values", self.config.num_frames)
        if skipped_pixel_values is not None:
            if self.restoration is None:
                raise ValueError("`skipped_pixel_values` given but keep_interval=1: this model restores no frames.")
            self._check_frames(
                skipped_pixel_values, "skipped_pixel_values", self.config.num_restored_frames, pixel_values.shape[0]
            )
        kwargs = self._resolve_output_flags(kwargs)

        batch_size, num_frames = pixel_values.shape[:2]
        vision_outputs = self.vision_tower(pixel_values=pixel_values.flatten(0, 1), return_dict=True, **kwargs)
        frame_embeds = vision_outputs.image_embeds.view(batch_size, num_frames, -1)

        restoration_outputs = self.restoration(frame_embeds, **kwargs) if self.restoration is not None else None
        restored_embeds = restoration_outputs.restored_embeds if restoration_outputs is not None else None
        head_restored = restored_embeds
        if restored_embeds is not None and not self.config.restoration_trained_by_head:
            head_restored = restored_embeds.detach()  # the restoration loss alone trains the module
        sequence_embeds = interleave_frames(frame_embeds, head_restored, self.config.keep_interval)
        temporal_outputs = self.temporal_head(sequence_embeds, **kwargs)

        target_embeds = None
        if skipped_pixel_values is not None:
            with torch.no_grad():
                target_embeds = self.get_frame_embeddings(skipped_pixel_values)

        hidden, attentions = kwargs["output_hidden_states"], kwargs["output_attentions"]
        return SLLMModelOutput(
            video_embeds=temporal_outputs.pooler_output,
            frame_embeds=frame_embeds,
            restored_embeds=restored_embeds,
            sequence_embeds=sequence_embeds,
            target_embeds=target_embeds,
            vision_hidden_states=vision_outputs.hidden_states,
            vision_attentions=vision_outputs.attentions,
            restoration_hidden_states=_recorded(restoration_outputs, "hidden_states", hidden),
            restoration_attentions=_recorded(restoration_outputs, "attentions", attentions),
            temporal_hidden_states=_recorded(temporal_outputs, "hidden_states", hidden),
            temporal_attentions=_recorded(temporal_outputs, "attentions", attentions),
        )


class SLLMForVideoClassification(SLLMPreTrainedModel):
    """
    SLLM with the Text4Vis classifier: logits are `exp(logit_scale)` times the cosine similarity between the video
    embedding and fixed class text embeddings (CLIP text features of the class prompts).
    """

    def __init__(self, config: SLLMConfig):
        super().__init__(config)
        self.sllm = SLLMModel(config)
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale_init_value))
        self.class_embeddings = nn.Parameter(
            torch.empty(config.num_labels, config.hidden_size), requires_grad=config.train_class_embeddings
        )
        self.post_init()

    @torch.no_grad()
    def set_class_embeddings(self, class_embeddings: torch.Tensor, id2label: dict[int, str] | None = None):
        """
        Replaces the classifier by new class text embeddings `(num_labels, hidden_size)` (e.g. for zero-shot
        evaluation on unseen classes), updating `config.id2label` / `label2id` when `id2label` is given.
        """
        if class_embeddings.dim() != 2 or class_embeddings.shape[1] != self.config.hidden_size:
            raise ValueError(
                f"class_embeddings must have shape (num_labels, {self.config.hidden_size}), got "
                f"{tuple(class_embeddings.shape)}."
            )
        if id2label is not None:
            if len(id2label) != class_embeddings.shape[0]:
                raise ValueError(f"Got {len(id2label)} labels for {class_embeddings.shape[0]} class embeddings.")
            self.config.id2label = {int(index): label for index, label in id2label.items()}
            self.config.label2id = {label: index for index, label in self.config.id2label.items()}
        elif class_embeddings.shape[0] != self.config.num_labels:
            raise ValueError(
                f"Got {class_embeddings.shape[0]} class embeddings for {self.config.num_labels} labels; pass id2label."
            )
        self.class_embeddings = nn.Parameter(
            class_embeddings.detach().to(self.logit_scale.device, self.logit_scale.dtype).clone(),
            requires_grad=self.config.train_class_embeddings,
        )

    @classmethod
    def from_clip(
        cls,
        clip_name_or_path: str,
        class_names: list[str],
        descriptions: list[str | None] | None = None,
        prompt_mode: str = "normal",
        clip_kwargs: dict | None = None,
        **config_kwargs,
    ) -> "SLLMForVideoClassification":
        """
        Builds an SLLM classifier from a CLIP checkpoint (Hub id or local folder, e.g.
        `"openai/clip-vit-base-patch32"`): its vision tower becomes the frame encoder, its logit scale is reused and
        the classifier holds its text features of the class prompts. The restoration and temporal widths follow the
        checkpoint's projection dim, so any CLIP size works. The config records the checkpoint and the prompt mode
        (`text_model_name_or_path`, `prompt_mode`) so that new classes can be encoded the same way later.

        Args:
            class_names (`list[str]`): one name per class, in label-id order.
            descriptions (`list[str]`, *optional*): one description per class (needed for `prompt_mode="enhance"`).
            prompt_mode (`str`): `"normal"` (class name) or `"enhance"` (`"name,description"`).
            clip_kwargs (`dict`, *optional*): extra arguments of `CLIPModel.from_pretrained` (revision, cache_dir...).
            config_kwargs: [`SLLMConfig`] fields (`num_frames`, `keep_interval`, `temporal_head`, ...).
        """
        prompts = build_prompts(class_names, descriptions, prompt_mode)
        if len(set(class_names)) != len(class_names):
            raise ValueError("class_names contains duplicates; each class needs a unique name.")
        clip, tokenizer = load_clip(clip_name_or_path, **(clip_kwargs or {}))

        vision_config = clip.config.vision_config.to_dict()
        vision_config["projection_dim"] = clip.config.projection_dim
        config = SLLMConfig(
            vision_config=vision_config,
            id2label=dict(enumerate(class_names)),
            logit_scale_init_value=float(clip.logit_scale.detach()),
            text_model_name_or_path=str(clip_name_or_path),
            prompt_mode=prompt_mode,
            **config_kwargs,
        )
        model = cls(config)
        tower = model.sllm.vision_tower
        tower.vision_model.load_state_dict(clip.vision_model.state_dict())
        tower.visual_projection.load_state_dict(clip.visual_projection.state_dict())
        with torch.no_grad():
            model.logit_scale.copy_(clip.logit_scale.detach())
        model.set_class_embeddings(encode_prompts(clip, tokenizer, prompts))
        return model

    def classify(self, video_embeds: torch.Tensor) -> torch.Tensor:
        """
        `video_embeds` `(batch_size, hidden_size)` -> logits `(batch_size, num_labels)`: `exp(logit_scale)` times the
        cosine similarity with the class embeddings, computed in float32 whatever the model's dtype or autocast (a
        `1 x D` by `D x C` product, nothing next to the tower): in bfloat16 the logits (about 100 x a cosine) would be
        rounded to steps of 1/8 and close classes would tie.
        """
        if torch.is_autocast_enabled(video_embeds.device.type):
            with torch.autocast(video_embeds.device.type, enabled=False):
                return self.classify(video_embeds)
        video_embeds = F.normalize(video_embeds.float(), dim=-1)
        class_embeds = F.normalize(self.class_embeddings.float(), dim=-1)
        return self.logit_scale.float().exp() * video_embeds @ class_embeds.t()

    @can_return_tuple
    def forward(
        self,
        pixel_values: torch.Tensor,
        skipped_pixel_values: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> SLLMVideoClassifierOutput:
        r"""
        pixel_values (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            The kept frames (the only frames decoded and encoded at inference).
        skipped_pixel_values (`torch.FloatTensor` of shape
            `(batch_size, (num_frames - 1) * (k - 1), num_channels, height, width)`, *optional*):
            The skipped frames (training): targets of the restoration loss.
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class ids in `[0, num_labels)`. Checked in eager mode (an error names the bad labels); under
            `torch.compile` / `torch.export` the check is skipped so that the step stays one graph without a host sync.
        output_hidden_states, output_attentions (`bool`, *optional*):
            As in [`SLLMModel`].
        """
        outputs: SLLMModelOutput = self.sllm(
            pixel_values, skipped_pixel_values=skipped_pixel_values, return_dict=True, **kwargs
        )
        logits = self.classify(outputs.video_embeds)

        classification_loss = None
        if labels is not None:
            labels = labels.to(logits.device).long().view(-1)
            if labels.shape[0] != logits.shape[0]:
                raise ValueError(f"Got {labels.shape[0]} labels for a batch of {logits.shape[0]} videos.")
            if not torch.compiler.is_compiling():  # data-dependent and a host sync: eager mode only
                bad = (labels < 0) | (labels >= self.config.num_labels)
                if bad.any():
                    raise ValueError(
                        f"Labels {labels[bad].tolist()} are outside [0, {self.config.num_labels}) (num_labels of this "
                        "model)."
                    )
            classification_loss = F.cross_entropy(logits, labels)

        restoration = None
        if outputs.target_embeds is not None:
            restoration = restoration_loss(
                outputs.restored_embeds,
                outputs.target_embeds,
                self.config.restoration_loss,
                self.config.restoration_loss_temperature,
            )

        loss = None
        if classification_loss is not None:
            loss = classification_loss
        if restoration is not None:
            weighted = self.config.restoration_loss_weight * restoration
            loss = weighted if loss is None else loss + weighted

        return SLLMVideoClassifierOutput(
            loss=loss,
            logits=logits,
            classification_loss=classification_loss,
            restoration_loss=restoration,
            video_embeds=outputs.video_embeds,
            frame_embeds=outputs.frame_embeds,
            restored_embeds=outputs.restored_embeds,
            target_embeds=outputs.target_embeds,
            vision_hidden_states=outputs.vision_hidden_states,
            vision_attentions=outputs.vision_attentions,
            restoration_hidden_states=outputs.restoration_hidden_states,
            restoration_attentions=outputs.restoration_attentions,
            temporal_hidden_states=outputs.temporal_hidden_states,
            temporal_attentions=outputs.temporal_attentions,
        )


__all__ = [
    "SLLMPreTrainedModel",
    "SLLMModel",
    "SLLMForVideoClassification",
    "SLLMModelOutput",
    "SLLMVideoClassifierOutput",
    "SLLMRestorationOutput",
    "SLLMEncoder",
    "SLLMFrameRestoration",
    "SLLMTemporalHead",
    "interleave_frames",
    "restoration_loss",
]
