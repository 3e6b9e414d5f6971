#!/usr/bin/env python3
"""Generate the small, deterministic test checkpoints under Fixtures/.

Run from the repository root with a Python that has torch, safetensors, transformers,
speculators==0.1.0, xxhash and numpy installed:

    /path/to/venv/bin/python scripts/make_fixtures.py

Every weight file is written by the real producer-side tools (``torch.save`` of a module
``state_dict()``, ``safetensors.torch.save_file``, ``transformers`` ``save_pretrained``), and
``Fixtures/reference/<case>`` is what the real Python ``speculators convert`` (v0.1.0) writes
for that case. ``Fixtures/expected/<case>.json`` records per-tensor dtype, shape, SHA-256,
XXH3-128 and first values, plus per-file sizes and SHA-256, so the Swift readers can be
checked against independent ground truth.

The script deletes and recreates only the directories it owns (the cases listed in CASES,
``reference/`` and ``expected/``); anything else under Fixtures/ (e.g. ``Fixtures/hostile``,
``Fixtures/README.md``) is left alone. Running it twice gives byte-identical files.

Geometry of every draft (tiny Llama): hidden 64, intermediate 128, 4 heads, 2 KV heads,
head_dim 16, vocab 512, draft vocab 128, rms_norm_eps 1e-5.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import save_file
import xxhash

# ----------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------

H = 64            # hidden_size
INTER = 128       # intermediate_size
NH = 4            # num_attention_heads
NKV = 2           # num_key_value_heads
DH = 16           # head_dim (= H / NH)
V = 512           # verifier vocab_size
VD = 128          # draft_vocab_size (EAGLE-3)
EPS = 1e-5        # rms_norm_eps
VERIFIER_LAYERS = 4
BOS, EOS = 500, 501  # Llama-3 style: special tokens at the top of the vocabulary

# Cases written from scratch by this script (directory names under Fixtures/).
SOURCE_CASES = [
    "eagle1-bin",
    "eagle-safetensors",
    "hass-layernorms",
    "eagle3-bin",
    "eagle3-embed",
    "eagle3-2layer",
]
DETECTION_CASES = [
    "modelopt-v1",
    "modelopt-v2",
    "medusa",
    "mlp-speculator",
    "hass-bias",
    "eagle3-prefixed",
    "pickle-named-safetensors",
    "speculators-eagle",
    "speculators-eagle3",
]
OWNED_DIRS = ["verifier", *SOURCE_CASES, *DETECTION_CASES, "reference", "expected"]

# Reference conversions with speculators 0.1.0: case -> --algorithm.
REFERENCE_ALGORITHMS = OrderedDict([
    ("eagle1-bin", "eagle"),
    ("eagle-safetensors", "eagle"),
    ("hass-layernorms", "eagle"),
    ("eagle3-bin", "eagle3"),
    ("eagle3-embed", "eagle3"),
    ("eagle3-2layer", "eagle3"),
])
# Cases also run through speculators 0.1.0 only to record what happens (outputs not committed).
REFERENCE_PROBES = OrderedDict([
    ("hass-bias", "eagle"),
    ("modelopt-v1", "eagle3"),
    ("modelopt-v2", "eagle3"),
    ("eagle3-prefixed", "eagle3"),
    ("pickle-named-safetensors", "eagle3"),
])
# Files of the converter output that are committed (the copied Python module is not).
REFERENCE_KEEP = ["config.json", "generation_config.json", "model.safetensors"]

# Detection-only cases that are plain copies of a reference conversion.
SPECULATORS_COPIES = {
    "speculators-eagle": "eagle1-bin",
    "speculators-eagle3": "eagle3-bin",
}

# What each case is meant to be recognised as (informal labels, mirrored in README.md).
INTENDED = {
    "verifier": "verifier: transformers LlamaForCausalLM, 2 safetensors shards + index",
    "eagle1-bin": "eagle1 (SafeAILab EAGLE-1/2), pytorch_model.bin, fp16, fc.bias",
    "eagle-safetensors": "eagle1 (SafeAILab EAGLE-1/2 layout), model.safetensors, bf16, no fc.bias",
    "hass-layernorms": "hass-layernorms (speculators research/hass), pytorch_model.bin, fp32",
    "eagle3-bin": "eagle3 midlayer layout, producer SafeAILab official, pytorch_model.bin, fp16",
    "eagle3-embed": "eagle3 midlayer layout, producer SpecForge (with embed_tokens), bf16",
    "eagle3-2layer": "eagle3 layers.N layout, 2 decoder layers, bf16",
    "modelopt-v1": "eagle3 midlayer layout, producer ModelOpt v1 export (d2t only), bf16",
    "modelopt-v2": "eagle3 layers.0 layout, producer ModelOpt v2 export (d2t only), bf16",
    "medusa": "medusa (FasterDecoding), medusa_lm_head.safetensors, fp16 - not convertible",
    "mlp-speculator": "mlp_speculator (IBM fms-extras), model.safetensors, fp16 - not convertible",
    "hass-bias": "eagle1 family (official HASS lookalike: fc.bias, fp32), pytorch_model.bin",
    "eagle3-prefixed": "eagle3 layers.0 layout with NeMo-style 'model.' prefix, bf16",
    "pickle-named-safetensors": "speculators research/eagle3 raw output: torch zip named "
                                "model.safetensors, bf16",
    "speculators-eagle": "speculators eagle (copy of reference/eagle1-bin)",
    "speculators-eagle3": "speculators eagle3 (copy of reference/eagle3-bin)",
}
for _case in REFERENCE_ALGORITHMS:
    INTENDED[f"reference/{_case}"] = (
        f"speculators {REFERENCE_ALGORITHMS[_case]} written by speculators 0.1.0 convert "
        f"from Fixtures/{_case}")


def case_seed(name: str) -> int:
    """A stable per-case seed (independent of Python's hash randomisation)."""
    return zlib.crc32(name.encode("utf-8"))


# ----------------------------------------------------------------------------------------------
# Module skeletons: real nn.Modules so state_dict() carries the `_metadata` attribute that a
# real producer's torch.save would pickle (OrderedDict + BUILD with {'_metadata': ...}).
# Submodule order mirrors each producer's __init__, which fixes the state_dict key order.
# ----------------------------------------------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))


class Attention(nn.Module):
    def __init__(self, in_features: int):
        super().__init__()
        self.q_proj = nn.Linear(in_features, NH * DH, bias=False)
        self.k_proj = nn.Linear(in_features, NKV * DH, bias=False)
        self.v_proj = nn.Linear(in_features, NKV * DH, bias=False)
        self.o_proj = nn.Linear(NH * DH, H, bias=False)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(H, INTER, bias=False)
        self.up_proj = nn.Linear(H, INTER, bias=False)
        self.down_proj = nn.Linear(INTER, H, bias=False)


class Eagle1DecoderLayer(nn.Module):
    """EAGLE-1 `LlamaDecoderLayer` with index 0: no input_layernorm."""

    def __init__(self):
        super().__init__()
        self.self_attn = Attention(H)
        self.mlp = MLP()
        self.post_attention_layernorm = RMSNorm(H)


class Eagle3FirstLayer(nn.Module):
    """EAGLE-3 `LlamaDecoderLayeremb`: q/k/v read concat(norm(embed), norm(hidden)) = 2H."""

    def __init__(self, input_layernorm: bool = True):
        super().__init__()
        self.self_attn = Attention(2 * H)
        self.mlp = MLP()
        self.hidden_norm = RMSNorm(H)
        if input_layernorm:
            self.input_layernorm = RMSNorm(H)
        self.post_attention_layernorm = RMSNorm(H)


class LlamaLayer(nn.Module):
    """A standard HF LlamaDecoderLayer (layers >= 1 of a multi-layer draft)."""

    def __init__(self):
        super().__init__()
        self.self_attn = Attention(H)
        self.mlp = MLP()
        self.input_layernorm = RMSNorm(H)
        self.post_attention_layernorm = RMSNorm(H)


class Eagle1Model(nn.Module):
    """SafeAILab EAGLE `cnets1.Model` (also official HASS)."""

    def __init__(self, fc_bias: bool):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.layers = nn.ModuleList([Eagle1DecoderLayer()])
        self.fc = nn.Linear(2 * H, H, bias=fc_bias)


class HassLayernormModel(nn.Module):
    """speculators research/hass `llama_eagle_full_grad` model with the three extra norms."""

    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.layers = nn.ModuleList([Eagle1DecoderLayer()])
        self.fc = nn.Linear(2 * H, H, bias=False)
        self.embed_layernorm = RMSNorm(H)
        self.hidden_layernorm = RMSNorm(H)
        self.lm_head_layernorm = RMSNorm(H)


class Eagle3OfficialModel(nn.Module):
    """SafeAILab `traineagle3/cnets.py` Model; embed_tokens is frozen (excluded on save)."""

    def __init__(self):
        super().__init__()
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.midlayer = Eagle3FirstLayer()
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.norm = RMSNorm(H)
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))


class SpecForgeEagle3Model(nn.Module):
    """SpecForge `LlamaForCausalLMEagle3` (pre Aug-2025: embed_tokens saved)."""

    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.midlayer = Eagle3FirstLayer()
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))


class MultiLayerEagle3Model(nn.Module):
    """EAGLE-3 with `layers.N` naming and two decoder layers."""

    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.layers = nn.ModuleList([Eagle3FirstLayer(), LlamaLayer()])
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))


class ModelOptV1Model(nn.Module):
    """ModelOpt v1 export: official names, d2t only, no t2d, no embed_tokens."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.midlayer = Eagle3FirstLayer()
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))


class ModelOptV2Model(nn.Module):
    """ModelOpt v2 export: layers.0 naming, d2t only, no t2d, no embed_tokens."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.layers = nn.ModuleList([Eagle3FirstLayer()])
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))


class NemoEagle3Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.layers = nn.ModuleList([Eagle3FirstLayer()])
        self.norm = RMSNorm(H)


class NemoEagle3Model(nn.Module):
    """NeMo AutoModel EAGLE-3: `model.`-prefixed body, unprefixed lm_head, full-vocab head."""

    def __init__(self):
        super().__init__()
        self.model = NemoEagle3Inner()
        self.lm_head = nn.Linear(H, V, bias=False)


class ResearchEagle3Layer(nn.Module):
    """speculators research/eagle3 layer: input_layernorm is an Identity (no weight)."""

    def __init__(self):
        super().__init__()
        self.self_attn = Attention(2 * H)
        self.mlp = MLP()
        self.post_attention_layernorm = RMSNorm(H)


class ResearchEagle3Model(nn.Module):
    """speculators research/eagle3 raw training output (top-level norms)."""

    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.hidden_norm = RMSNorm(H)
        self.input_layernorm = RMSNorm(H)
        self.layers = nn.ModuleList([ResearchEagle3Layer()])
        self.lm_head_layernorm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)


class MedusaResBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(H, H)


MEDUSA_HEADS = 2
MEDUSA_LAYERS = 1


def medusa_heads() -> nn.ModuleList:
    """FasterDecoding Medusa: ModuleList of Sequential(ResBlock * layers, Linear(H, V))."""
    return nn.ModuleList([
        nn.Sequential(*[MedusaResBlock() for _ in range(MEDUSA_LAYERS)],
                      nn.Linear(H, V, bias=False))
        for _ in range(MEDUSA_HEADS)
    ])


MLP_INNER = 32
MLP_PREDICT = 2


class LayerNormParameterized(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = nn.Parameter(torch.zeros(size))


class MLPSpeculator(nn.Module):
    """IBM fms-extras MLPSpeculator (inner_dim 32, n_predict 2)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.ModuleList([nn.Embedding(V, MLP_INNER) for _ in range(MLP_PREDICT)])
        self.proj = nn.ModuleList([
            nn.Linear(H if i == 0 else MLP_INNER, MLP_INNER, bias=False)
            for i in range(MLP_PREDICT)
        ])
        self.head = nn.ModuleList([nn.Linear(MLP_INNER, V, bias=False) for _ in range(MLP_PREDICT)])
        self.ln = nn.ModuleList([LayerNormParameterized(MLP_INNER) for _ in range(MLP_PREDICT)])


class MLPSpeculatorPreTrainedModel(nn.Module):
    """The HF wrapper keeps the speculator under `speculator.`."""

    def __init__(self):
        super().__init__()
        self.speculator = MLPSpeculator()


# ----------------------------------------------------------------------------------------------
# Deterministic values
# ----------------------------------------------------------------------------------------------

def is_norm_name(name: str) -> bool:
    """RMSNorm / LayerNorm scales: `*norm.weight`, and the MLP speculator's `ln.<i>.weight`."""
    return name.endswith("norm.weight") or re.search(r"(^|\.)ln\.\d+\.weight$", name) is not None


def fill_module(module: nn.Module, seed: int, verifier_embed: torch.Tensor | None) -> None:
    """Overwrite every parameter with small seeded values (norms = 1 + noise, not all ones).

    `embed_tokens.weight` (any prefix) becomes a copy of the verifier embedding when given, as
    official EAGLE/HASS/SpecForge checkpoints carry the target's embedding.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(module.named_parameters(), key=lambda item: item[0]):
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32) * 0.02
            if name.endswith("embed_tokens.weight") and verifier_embed is not None:
                param.copy_(verifier_embed.to(torch.float32))
            elif is_norm_name(name):
                param.copy_(1.0 + noise)
            else:
                param.copy_(noise)


def vocab_map(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A real EAGLE-3 vocab map: Vd ascending target ids; d2t[i] = ids[i] - i; t2d mask."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randperm(V, generator=gen)[:VD].sort().values
    d2t = (ids - torch.arange(VD)).to(torch.long)
    t2d = torch.zeros(V, dtype=torch.bool)
    t2d[ids] = True
    assert int(t2d.sum()) == VD and bool((d2t[1:] >= d2t[:-1]).all())
    return d2t, t2d


def set_vocab_buffers(module: nn.Module, seed: int) -> None:
    d2t, t2d = vocab_map(seed)
    if hasattr(module, "d2t"):
        module.d2t.copy_(d2t)
    if hasattr(module, "t2d"):
        module.t2d.copy_(t2d)


def build_state_dict(module: nn.Module, case: str, dtype: torch.dtype,
                     verifier_embed: torch.Tensor | None) -> "OrderedDict[str, torch.Tensor]":
    torch.manual_seed(case_seed(case))
    fill_module(module, case_seed(case), verifier_embed)
    set_vocab_buffers(module, case_seed(case) ^ 0x5A5A)
    module.to(dtype)  # casts floating tensors only; d2t (int64) and t2d (bool) keep their dtype
    return module.state_dict()


# ----------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------

def write_json(path: Path, obj, sort_keys: bool = True) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")


def write_safetensors(path: Path, state_dict) -> None:
    tensors = {name: t.detach().contiguous() for name, t in state_dict.items()}
    save_file(tensors, str(path), metadata={"format": "pt"})


def write_torch(path: Path, state_dict) -> None:
    torch.save(state_dict, str(path))


# ----------------------------------------------------------------------------------------------
# Configs (per producer; docs/formats.md)
# ----------------------------------------------------------------------------------------------

def eagle1_config(torch_dtype: str, bias: bool) -> dict:
    """EAGLE-LLaMA3-Instruct style (hand-written key order, as in the SafeAILab repo)."""
    return OrderedDict([
        ("architectures", ["LlamaForCausalLM"]), ("model_type", "llama"),
        ("hidden_size", H), ("intermediate_size", INTER), ("num_attention_heads", NH),
        ("num_key_value_heads", NKV), ("num_hidden_layers", 1), ("vocab_size", V),
        ("max_position_embeddings", 2048), ("rms_norm_eps", EPS), ("rope_theta", 500000.0),
        ("hidden_act", "silu"), ("pad_token_id", 0), ("bos_token_id", BOS), ("eos_token_id", EOS),
        ("tie_word_embeddings", False), ("torch_dtype", torch_dtype),
        ("transformers_version", "4.28.1"), ("use_cache", True), ("bias", bias),
    ])


def hass_layernorm_config() -> dict:
    """speculators research/hass llama3_1_8_B.json style (full HF Llama config).

    bos/eos are the LlamaConfig defaults (1, 2) and there is no pad_token_id, so the
    reference eagle conversion shows transformers' diff-dict omitting them.
    """
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": H,
        "initializer_range": 0.02, "intermediate_size": INTER,
        "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": NH, "num_hidden_layers": 1, "num_key_value_heads": NKV,
        "pretraining_tp": 1, "rms_norm_eps": EPS,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "transformers_version": "4.43.4", "use_cache": True, "vocab_size": V,
    }


def eagle3_official_config() -> dict:
    """SafeAILab EAGLE3-LLaMA3.1 style: draft_vocab_size, no rope_theta."""
    return OrderedDict([
        ("architectures", ["LlamaForCausalLM"]), ("model_type", "llama"),
        ("hidden_size", H), ("intermediate_size", INTER), ("num_attention_heads", NH),
        ("num_key_value_heads", NKV), ("num_hidden_layers", 1), ("vocab_size", V),
        ("draft_vocab_size", VD), ("max_position_embeddings", 2048), ("rms_norm_eps", EPS),
        ("hidden_act", "silu"), ("pad_token_id", 0), ("bos_token_id", BOS), ("eos_token_id", EOS),
        ("tie_word_embeddings", False), ("torch_dtype", "float16"),
        ("transformers_version", "4.28.1"), ("use_cache", True),
    ])


def specforge_config(num_layers: int = 1, aux_ids: list[int] | None = None) -> dict:
    """SpecForge configs/llama3-8B-eagle3.json style."""
    config = {
        "architectures": ["LlamaForCausalLMEagle3"], "model_type": "llama", "hidden_size": H,
        "intermediate_size": INTER, "num_attention_heads": NH, "num_key_value_heads": NKV,
        "num_hidden_layers": num_layers, "vocab_size": V, "draft_vocab_size": VD,
        "max_position_embeddings": 2048, "rms_norm_eps": EPS, "rope_theta": 500000.0,
        "hidden_act": "silu", "pad_token_id": 0, "bos_token_id": BOS, "eos_token_id": EOS,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True,
    }
    if aux_ids is not None:
        config["eagle_config"] = {"eagle_aux_hidden_state_layer_ids": aux_ids,
                                  "use_aux_hidden_state": True}
    return config


def modelopt_config(v2: bool) -> dict:
    """ModelOpt hf_spec_export template with the eagle_config signature block."""
    eagle_config = {
        "eagle_aux_hidden_state_layer_ids": [0, 1, 2], "use_aux_hidden_state": True,
        "use_input_layernorm_in_first_layer": True, "use_last_layernorm": True,
        "use_mtp_layernorm": False,
    }
    if v2:
        eagle_config.update({"next_layer_regular": True, "parallel_draft_step": 1,
                             "parallel_draft_heads_num_layers": 1})
    return {
        "architectures": ["LlamaForCausalLMEagle3"], "attention_bias": False, "bos_token_id": BOS,
        "draft_vocab_size": VD, "eagle_config": eagle_config, "eos_token_id": EOS,
        "head_dim": DH, "hidden_act": "silu", "hidden_size": H, "initializer_range": 0.02,
        "intermediate_size": INTER, "max_position_embeddings": 4096, "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": NH, "num_hidden_layers": 1,
        "num_key_value_heads": NKV, "pad_token_id": None, "pretraining_tp": 1,
        "rms_norm_eps": EPS, "rope_scaling": None, "rope_theta": 500000.0,
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True,
        "vocab_size": V,
    }


def nemo_config() -> dict:
    config = specforge_config()
    config["draft_vocab_size"] = V  # full-vocab head, no d2t/t2d
    return config


def research_eagle3_config() -> dict:
    """speculators research/eagle3/train/llama3_8_B.json style."""
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "bos_token_id": BOS,
        "draft_vocab_size": VD, "eos_token_id": EOS, "hidden_act": "silu", "hidden_size": H,
        "initializer_range": 0.02, "intermediate_size": INTER,
        "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": NH, "num_hidden_layers": 1, "num_key_value_heads": NKV,
        "pretraining_tp": 1, "rms_norm_eps": EPS,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "use_cache": True, "vocab_size": V,
    }


def medusa_config() -> dict:
    """Medusa: base model (Llama) keys plus medusa_num_heads / medusa_num_layers."""
    return {
        "architectures": ["LlamaForCausalLM"], "base_model_name_or_path": "Fixtures/verifier",
        "hidden_act": "silu", "hidden_size": H, "intermediate_size": INTER,
        "max_position_embeddings": 4096, "medusa_num_heads": MEDUSA_HEADS,
        "medusa_num_layers": MEDUSA_LAYERS, "model_type": "llama", "num_attention_heads": NH,
        "num_hidden_layers": VERIFIER_LAYERS, "num_key_value_heads": NKV, "rms_norm_eps": EPS,
        "torch_dtype": "float16", "transformers_version": "4.34.1", "vocab_size": V,
    }


def mlp_speculator_config() -> dict:
    return {
        "architectures": ["MLPSpeculatorPreTrainedModel"], "emb_dim": H,
        "inner_dim": MLP_INNER, "model_type": "mlp_speculator", "n_candidates": 4,
        "n_predict": MLP_PREDICT, "scale_input": True, "tie_weights": False,
        "top_k_tokens_per_head": [4, 3], "torch_dtype": "float16",
        "transformers_version": "4.38.2", "vocab_size": V,
    }


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

def make_verifier(out: Path) -> torch.Tensor:
    """A real tiny LlamaForCausalLM, 2 bf16 safetensors shards + index. Returns its embedding."""
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=V, hidden_size=H, intermediate_size=INTER,
        num_hidden_layers=VERIFIER_LAYERS, num_attention_heads=NH, num_key_value_heads=NKV,
        head_dim=DH, max_position_embeddings=4096, rms_norm_eps=EPS, rope_theta=500000.0,
        tie_word_embeddings=False, bos_token_id=BOS, eos_token_id=EOS, torch_dtype="bfloat16",
    )
    torch.manual_seed(case_seed("verifier"))
    model = LlamaForCausalLM(config)
    gen = torch.Generator().manual_seed(case_seed("verifier-norms"))
    with torch.no_grad():
        for name, param in sorted(model.named_parameters(), key=lambda item: item[0]):
            if name.endswith("norm.weight"):  # 1 + noise: a "trained" verifier, not all ones
                param.copy_(1.0 + torch.randn(param.shape, generator=gen) * 0.02)
    model = model.to(torch.bfloat16)
    # ~428 kB of bf16 weights; a 300 kB limit gives exactly two shards.
    model.save_pretrained(str(out), max_shard_size="300KB", safe_serialization=True)
    shards = sorted(p.name for p in out.glob("model-*.safetensors"))
    if len(shards) != 2 or not (out / "model.safetensors.index.json").exists():
        raise SystemExit(f"verifier: expected 2 shards + index, got {shards}")
    reloaded = AutoModelForCausalLM.from_pretrained(str(out))
    if reloaded.config.vocab_size != V:
        raise SystemExit("verifier: reload failed")
    return model.model.embed_tokens.weight.detach().clone()


def make_eagle1_bin(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(Eagle1Model(fc_bias=True), "eagle1-bin", torch.float16, embed)
    write_torch(out / "pytorch_model.bin", sd)
    write_json(out / "config.json", eagle1_config("float16", bias=True), sort_keys=False)


def make_eagle_safetensors(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(Eagle1Model(fc_bias=False), "eagle-safetensors", torch.bfloat16, embed)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", eagle1_config("bfloat16", bias=False), sort_keys=False)


def make_hass_layernorms(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(HassLayernormModel(), "hass-layernorms", torch.float32, embed)
    write_torch(out / "pytorch_model.bin", sd)
    write_json(out / "config.json", hass_layernorm_config())


def make_eagle3_bin(out: Path, embed: torch.Tensor) -> None:
    model = Eagle3OfficialModel()
    model.embed_tokens.weight.requires_grad_(False)
    sd = build_state_dict(model, "eagle3-bin", torch.float16, embed)
    # DeepSpeed save_16bit_model(exclude_frozen_parameters=True): delete the frozen embedding
    # from the module's own state_dict (which keeps its `_metadata`).
    for name, param in model.named_parameters():
        if not param.requires_grad:
            del sd[name]
    write_torch(out / "pytorch_model.bin", sd)
    write_json(out / "config.json", eagle3_official_config(), sort_keys=False)


def make_eagle3_embed(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(SpecForgeEagle3Model(), "eagle3-embed", torch.bfloat16, embed)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", specforge_config(aux_ids=[0, 1, 2]))


def make_eagle3_2layer(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(MultiLayerEagle3Model(), "eagle3-2layer", torch.bfloat16, embed)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", specforge_config(num_layers=2))


def make_modelopt(out: Path, v2: bool) -> None:
    name = "modelopt-v2" if v2 else "modelopt-v1"
    module = ModelOptV2Model() if v2 else ModelOptV1Model()
    sd = build_state_dict(module, name, torch.bfloat16, None)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", modelopt_config(v2))


def make_medusa(out: Path) -> None:
    sd = build_state_dict(medusa_heads(), "medusa", torch.float16, None)
    write_safetensors(out / "medusa_lm_head.safetensors", sd)
    write_json(out / "config.json", medusa_config())


def make_mlp_speculator(out: Path) -> None:
    module = MLPSpeculatorPreTrainedModel()
    sd = build_state_dict(module, "mlp-speculator", torch.float16, None)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", mlp_speculator_config())


def make_hass_bias(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(Eagle1Model(fc_bias=True), "hass-bias", torch.float32, embed)
    write_torch(out / "pytorch_model.bin", sd)
    config = eagle1_config("float32", bias=True)
    config["max_position_embeddings"] = 4096
    write_json(out / "config.json", config, sort_keys=False)


def make_eagle3_prefixed(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(NemoEagle3Model(), "eagle3-prefixed", torch.bfloat16, embed)
    write_safetensors(out / "model.safetensors", sd)
    write_json(out / "config.json", nemo_config())


def make_pickle_named_safetensors(out: Path, embed: torch.Tensor) -> None:
    sd = build_state_dict(ResearchEagle3Model(), "pickle-named-safetensors", torch.bfloat16,
                          embed)
    # The research trainer called torch.save(state_dict, "model<epoch>.safetensors").
    write_torch(out / "model.safetensors", sd)
    write_json(out / "config.json", research_eagle3_config())


# ----------------------------------------------------------------------------------------------
# Reference conversions (speculators 0.1.0 CLI, run from the repository root)
# ----------------------------------------------------------------------------------------------

def speculators_cli() -> list[str]:
    exe = Path(sys.executable).parent / "speculators"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "speculators"]


def run_reference(repo_root: Path, fixtures: Path, case: str, algorithm: str,
                  keep: bool = True) -> dict:
    """Run `speculators convert Fixtures/<case> --verifier Fixtures/verifier` from the root.

    With `keep`, the committed files land in Fixtures/reference/<case>; otherwise the output is
    only inspected (tensor provenance) and discarded.
    """
    rel_fixtures = fixtures.relative_to(repo_root)
    out = fixtures / "reference" / case
    with tempfile.TemporaryDirectory(prefix=f"ref-{case}-") as tmp:
        target = Path(tmp) / "converted"
        cmd = speculators_cli() + [
            "convert", str(rel_fixtures / case), "--algorithm", algorithm,
            "--verifier", str(rel_fixtures / "verifier"), "--output-path", str(target),
        ]
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   HF_HUB_DISABLE_TELEMETRY="1", LOGURU_COLORIZE="0", NO_COLOR="1")
        proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
        shown = ["speculators"] + cmd[len(speculators_cli()):-1] + ["<temporary directory>"]
        record = {
            "command": shown,
            "exit_status": proc.returncode,
        }
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            record["error"] = lines[-1] if lines else ""
            print(f"  {case}: speculators convert failed: {record['error']}", file=sys.stderr)
            return record
        written = sorted(p.name for p in target.iterdir())
        record["files_written"] = written
        if not keep:
            record.update(check_reference(fixtures, case, algorithm,
                                          target / "model.safetensors", strict=False))
            return record
        out.mkdir(parents=True)
        record["files_kept"] = [n for n in REFERENCE_KEEP if n in written]
        for name in record["files_kept"]:
            shutil.copyfile(target / name, out / name)
    return record


def reference_source_name(algorithm: str, name: str, source: dict) -> str | None:
    """The source tensor speculators 0.1.0 took `name` from (its documented rename rules)."""
    if algorithm == "eagle":
        if name.startswith("fusion_fc."):
            return "fc." + name[len("fusion_fc."):]
        if name == "transformer.input_layernorm.weight" and name not in source:
            return ("layers.0.input_layernorm.weight"
                    if "layers.0.input_layernorm.weight" in source else "hidden_layernorm.weight")
        if name.startswith("transformer."):
            return "layers.0." + name[len("transformer."):]
        if name == "embedding_layernorm.weight":
            return ("embed_layernorm.weight" if "embed_layernorm.weight" in source
                    else "post_embedding_layernorm.weight")
        if name == "pre_lm_head_layernorm.weight":
            return "lm_head_layernorm.weight"
        return name
    if name.startswith("layers.0."):
        midlayer = "midlayer." + name[len("layers.0."):]
        return midlayer if midlayer in source else name
    return name if name in source else None


def check_reference(fixtures: Path, case: str, algorithm: str, converted_path: Path,
                    strict: bool = True) -> dict:
    """Prove every converted tensor is its source tensor (or the verifier embedding) cast to
    the output dtype, and list the source tensors the converter silently dropped.

    With `strict`, an output tensor with no source stops the script (committed references must
    be fully determined by their inputs); otherwise it is listed as left at its initial value.
    """
    source = {}
    for path in sorted((fixtures / case).iterdir()):
        loaded = load_tensors(path) if path.is_file() else None
        source.update(loaded or {})
    verifier = {}
    for path in sorted((fixtures / "verifier").glob("*.safetensors")):
        verifier.update(load_tensors(path))
    converted = load_tensors(converted_path)
    origins, used, not_loaded = {}, set(), []
    for name, tensor in converted.items():
        origin = reference_source_name(algorithm, name, source)
        if origin in source:
            reference = source[origin]
            used.add(origin)
            origins[name] = origin
        elif name == "embed_tokens.weight":
            reference = verifier["model.embed_tokens.weight"]
            origins[name] = "verifier:model.embed_tokens.weight"
        elif strict:
            raise SystemExit(f"reference/{case}: no source for {name}")
        else:
            not_loaded.append(name)
            continue
        if tensor.shape != reference.shape or not torch.equal(tensor, reference.to(tensor.dtype)):
            raise SystemExit(f"reference/{case}: {name} differs from {origins[name]}")
    result = {"output_tensor_count": len(converted)}
    if not strict:
        result["output_tensors_not_from_source"] = sorted(not_loaded)
    return result | {
        "tensor_sources": dict(sorted(origins.items())),
        "dropped_source_tensors": sorted(set(source) - used),
        "output_dtypes": sorted({SAFETENSORS_DTYPES[t.dtype] for t in converted.values()}),
    }


# ----------------------------------------------------------------------------------------------
# Expected values
# ----------------------------------------------------------------------------------------------

SAFETENSORS_DTYPES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_tensors(path: Path) -> "OrderedDict[str, torch.Tensor] | None":
    """Tensors of one weights file, sniffed by magic bytes (never by extension)."""
    head = path.read_bytes()[:4]
    if head == b"PK\x03\x04":
        # A file object, not a path: torch >= 2.13 hands any path ending in ".safetensors" to
        # safetensors, which would refuse the pickle-named-safetensors case.
        with path.open("rb") as handle:
            return OrderedDict(torch.load(handle, map_location="cpu", weights_only=True))
    if path.suffix == ".safetensors":
        result = OrderedDict()
        with safe_open(str(path), framework="pt") as handle:
            for name in handle.keys():
                result[name] = handle.get_tensor(name)
        return result
    return None


def dense_bytes(tensor: torch.Tensor) -> bytes:
    """Dense little-endian C-order bytes (this machine is little-endian)."""
    assert sys.byteorder == "little"
    flat = tensor.detach().contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy().tobytes()


def first_values(tensor: torch.Tensor) -> list:
    flat = tensor.detach().reshape(-1)[:4]
    if tensor.dtype == torch.bool:
        return [bool(v) for v in flat.tolist()]
    if tensor.dtype.is_floating_point:
        return [float(v) for v in flat.to(torch.float64).tolist()]
    return [int(v) for v in flat.tolist()]


def expected_for(case_dir: Path, case: str) -> dict | None:
    files = sorted(p for p in case_dir.rglob("*") if p.is_file())
    tensors = {}
    for path in files:
        loaded = load_tensors(path)
        if loaded is None:
            continue
        for name, tensor in loaded.items():
            data = dense_bytes(tensor)
            tensors[name] = {
                "dtype": SAFETENSORS_DTYPES[tensor.dtype],
                "shape": list(tensor.shape),
                "file": path.relative_to(case_dir).as_posix(),
                "byte_count": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "xxh3_128": xxhash.xxh3_128_hexdigest(data),
                "first_values": first_values(tensor),
            }
    if not tensors:
        return None
    return {
        "case": case,
        "intended": INTENDED.get(case, ""),
        "files": [
            {"name": p.relative_to(case_dir).as_posix(), "size": p.stat().st_size,
             "sha256": sha256_file(p)}
            for p in files
        ],
        "tensor_count": len(tensors),
        "tensors": dict(sorted(tensors.items())),
    }


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

def versions() -> dict:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "safetensors": version("safetensors"),
        "transformers": version("transformers"),
        "speculators": version("speculators"),
        "numpy": version("numpy"),
        "xxhash": version("xxhash"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=".",
                        help="repository root (Fixtures/ is created under it); default: cwd")
    args = parser.parse_args()
    repo_root = Path(args.root).resolve()
    fixtures = repo_root / "Fixtures"
    fixtures.mkdir(exist_ok=True)
    for name in OWNED_DIRS:
        if name == "expected":
            # expected/ is shared with scripts/make_format_fixtures.py: remove only this
            # script's records.
            for case in ["verifier", *SOURCE_CASES, *DETECTION_CASES, "_generator"]:
                (fixtures / name / f"{case}.json").unlink(missing_ok=True)
            shutil.rmtree(fixtures / name / "reference", ignore_errors=True)
            continue
        shutil.rmtree(fixtures / name, ignore_errors=True)

    def case_dir(name: str) -> Path:
        path = fixtures / name
        path.mkdir(parents=True)
        return path

    print("verifier")
    embed = make_verifier(case_dir("verifier"))

    builders = {
        "eagle1-bin": lambda d: make_eagle1_bin(d, embed),
        "eagle-safetensors": lambda d: make_eagle_safetensors(d, embed),
        "hass-layernorms": lambda d: make_hass_layernorms(d, embed),
        "eagle3-bin": lambda d: make_eagle3_bin(d, embed),
        "eagle3-embed": lambda d: make_eagle3_embed(d, embed),
        "eagle3-2layer": lambda d: make_eagle3_2layer(d, embed),
        "modelopt-v1": lambda d: make_modelopt(d, v2=False),
        "modelopt-v2": lambda d: make_modelopt(d, v2=True),
        "medusa": make_medusa,
        "mlp-speculator": make_mlp_speculator,
        "hass-bias": lambda d: make_hass_bias(d, embed),
        "eagle3-prefixed": lambda d: make_eagle3_prefixed(d, embed),
        "pickle-named-safetensors": lambda d: make_pickle_named_safetensors(d, embed),
    }
    for name, build in builders.items():
        print(name)
        build(case_dir(name))

    (fixtures / "reference").mkdir()
    runs = OrderedDict()
    for case, algorithm in REFERENCE_ALGORITHMS.items():
        print(f"reference/{case} ({algorithm})")
        runs[case] = run_reference(repo_root, fixtures, case, algorithm)
        if runs[case]["exit_status"] == 0:
            runs[case].update(check_reference(fixtures, case, algorithm,
                                              fixtures / "reference" / case / "model.safetensors"))
    probes = OrderedDict()
    for case, algorithm in REFERENCE_PROBES.items():
        print(f"probe {case} ({algorithm}, output not kept)")
        probes[case] = run_reference(repo_root, fixtures, case, algorithm, keep=False)

    for copy_name, source in SPECULATORS_COPIES.items():
        print(f"{copy_name} (copy of reference/{source})")
        shutil.copytree(fixtures / "reference" / source, fixtures / copy_name)

    expected_dir = fixtures / "expected"
    (expected_dir / "reference").mkdir(parents=True, exist_ok=True)
    all_cases = ["verifier", *SOURCE_CASES, *DETECTION_CASES,
                 *[f"reference/{c}" for c in REFERENCE_ALGORITHMS]]
    for case in all_cases:
        path = fixtures / case
        if not path.is_dir():
            continue
        expected = expected_for(path, case)
        if expected is not None:
            write_json(expected_dir / f"{case}.json", expected)

    write_json(expected_dir / "_generator.json", {
        "command": "python scripts/make_fixtures.py (from the repository root)",
        "versions": versions(),
        "reference_conversions": runs,
        "probe_conversions": probes,
    })
    total = sum(p.stat().st_size for name in OWNED_DIRS for p in (fixtures / name).rglob("*")
                if p.is_file())
    print(f"done: {total} bytes in generated fixtures")


if __name__ == "__main__":
    main()
