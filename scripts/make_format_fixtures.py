#!/usr/bin/env python3
"""Generate the DFlash, Qwen3 EAGLE-3, EAGLE-3.1, MTP and Speculators-type fixtures.

A sibling of ``scripts/make_fixtures.py``: it shares that script's geometry, module skeletons,
seeding, writers and ground-truth records, and writes next to its cases under Fixtures/. Run
from the repository root with the ``ref09`` environment (torch CPU, safetensors, xxhash,
speculators 0.9.0), after ``make_fixtures.py`` has written ``Fixtures/verifier``:

    $(bash scripts/venv.sh ref09)/bin/python scripts/make_format_fixtures.py

Every draft is written by ``safetensors.torch.save_file`` from a real ``nn.Module`` state
dict. ``Fixtures/reference-0.9.0/<case>`` is what speculators 0.9.0's ``convert_model`` writes
for the convertible cases (its CLI's ``--algorithm`` choices omit dflash, so the Python entry
point is called for every case alike). ``Fixtures/expected/<case>.json`` records per-tensor
ground truth in the format of ``make_fixtures.py``.

The script deletes and recreates only what it owns (``CASES``, ``reference-0.9.0/`` and the
``expected/`` records of those); two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import (  # noqa: E402  (shared helpers: one home for the fixture rules)
    DH, EPS, H, INTER, MLP, NH, NKV, V, VD, VERIFIER_LAYERS, Attention, LlamaLayer, RMSNorm,
    build_state_dict, expected_for, load_tensors, write_json, write_safetensors, versions,
)

MASK_TOKEN = 511      # a DFlash mask token id inside the verifier vocabulary (V = 512)
BLOCK = 4             # DFlash block_size (3 speculative tokens)
MTP_LAYERS = 2        # decoder layers of the MTP-carrying verifier lookalikes

# case -> (algorithm for the 0.9.0 reference or None, kwargs, intended label)
CASES = OrderedDict([
    ("dflash-zlab", ("dflash", {}, "z-lab DFlash draft (Qwen3 layers, block_size at the top level)")),
    ("dflash-fused-qkv", ("dflash", {}, "Laguna-style DFlash draft: fused qkv_proj, g_proj, "
                                         "aux_hidden_norms, block_size in dflash_config, a 4th target layer")),
    ("eagle3-qwen3", ("eagle3", {}, "SpecForge-style Qwen3 EAGLE-3 draft (q_norm/k_norm, config `dtype`)")),
    ("eagle3-norm-before-fc", ("eagle3", {}, "EAGLE-3.1 draft: norm_before_fc (input_norm.weight), "
                                              "norm_output, 2 layers, no num_key_value_heads")),
    ("eagle3-fc-norm", ("eagle3", {}, "EAGLE-3.1 draft: fc_norm (fc_norm.{j}.weight), "
                                       "num_key_value_heads = num_attention_heads")),
    ("speculators-dflash2", (None, {}, "Speculators dflash2 checkpoint (conv + candidate selector)")),
    ("speculators-dspark", (None, {}, "Speculators dspark checkpoint (Markov and confidence heads)")),
    ("speculators-peagle", (None, {}, "Speculators peagle checkpoint (eagle3 tensors + mask_token_id)")),
    ("speculators-mtp", (None, {}, "Speculators mtp checkpoint (mtp_layers.0.*)")),
    ("mtp-deepseek", (None, {}, "DeepSeek-V3/GLM-style verifier: MTP layer at model.layers.{num_hidden_layers}")),
    ("mtp-qwen3-next", (None, {}, "Qwen3-Next-style verifier: native mtp.* tensors")),
    ("mtp-mimo", (None, {}, "MiMo-style verifier: model.mtp_layers.{i}.*")),
    ("mtp-stripped", (None, {}, "DeepSeek-V3-style config promising an MTP layer the tensors lack")),
])
COPIES = {"speculators-dflash": "dflash-zlab"}  # detection copy of reference-0.9.0/<case>
REFERENCE_DIR = "reference-0.9.0"
REFERENCE_KEEP = ["config.json", "model.safetensors"]


# ----------------------------------------------------------------------------------------------
# Modules
# ----------------------------------------------------------------------------------------------

class Qwen3Attention(Attention):
    """Qwen3 attention: Llama projections plus per-head q_norm / k_norm [head_dim]."""

    def __init__(self, in_features: int, kv_heads: int = NKV):
        super().__init__(in_features)
        self.k_proj = nn.Linear(in_features, kv_heads * DH, bias=False)
        self.v_proj = nn.Linear(in_features, kv_heads * DH, bias=False)
        self.q_norm = RMSNorm(DH)
        self.k_norm = RMSNorm(DH)


class Qwen3Layer(nn.Module):
    def __init__(self, in_features: int = H, hidden_norm: bool = False):
        super().__init__()
        self.self_attn = Qwen3Attention(in_features)
        self.mlp = MLP()
        if hidden_norm:
            self.hidden_norm = RMSNorm(H)
        self.input_layernorm = RMSNorm(H)
        self.post_attention_layernorm = RMSNorm(H)


class ZLabDFlashModel(nn.Module):
    """z-lab `DFlashDraftModel`: Qwen3 layers over fc(target states); no embedding, no head."""

    def __init__(self, layers: int, targets: int):
        super().__init__()
        self.layers = nn.ModuleList([Qwen3Layer() for _ in range(layers)])
        self.norm = RMSNorm(H)
        self.fc = nn.Linear(targets * H, H, bias=False)
        self.hidden_norm = RMSNorm(H)


class FusedAttention(nn.Module):
    """Laguna attention: one fused qkv_proj, a gate g_proj, q_norm / k_norm."""

    def __init__(self):
        super().__init__()
        self.qkv_proj = nn.Linear(H, (NH + 2 * NKV) * DH, bias=False)
        self.g_proj = nn.Linear(H, NH * DH, bias=False)
        self.o_proj = nn.Linear(NH * DH, H, bias=False)
        self.q_norm = RMSNorm(DH)
        self.k_norm = RMSNorm(DH)


class FusedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = FusedAttention()
        self.mlp = MLP()
        self.input_layernorm = RMSNorm(H)
        self.post_attention_layernorm = RMSNorm(H)


class FusedDFlashModel(nn.Module):
    def __init__(self, layers: int, targets: int):
        super().__init__()
        self.layers = nn.ModuleList([FusedLayer() for _ in range(layers)])
        self.norm = RMSNorm(H)
        self.fc = nn.Linear(targets * H, H, bias=False)
        self.hidden_norm = RMSNorm(H)
        self.aux_hidden_norms = nn.ModuleList([RMSNorm(H) for _ in range(targets)])


class Qwen3Eagle3Model(nn.Module):
    """SpecForge `Qwen3ForCausalLMEagle3`: midlayer with q_norm/k_norm, vocabulary maps."""

    def __init__(self):
        super().__init__()
        self.midlayer = Qwen3Layer(2 * H, hidden_norm=True)
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))


class LlamaEagle3Layer(nn.Module):
    """A Llama EAGLE-3 layer whose key/value heads equal the attention heads (no GQA)."""

    def __init__(self, in_features: int, hidden_norm: bool):
        super().__init__()
        self.self_attn = Attention(in_features)
        self.self_attn.k_proj = nn.Linear(in_features, NH * DH, bias=False)
        self.self_attn.v_proj = nn.Linear(in_features, NH * DH, bias=False)
        self.mlp = MLP()
        if hidden_norm:
            self.hidden_norm = RMSNorm(H)
        self.input_layernorm = RMSNorm(H)
        self.post_attention_layernorm = RMSNorm(H)


class Eagle31Model(nn.Module):
    """Speculators-trained EAGLE-3.1 draft: `layers.N`, input_norm (norm_before_fc) or fc_norm."""

    def __init__(self, layers: int, norm_before_fc: bool, fc_norm: bool):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H, padding_idx=0)
        if norm_before_fc:
            self.input_norm = RMSNorm(3 * H)
        if fc_norm:
            self.fc_norm = nn.ModuleList([RMSNorm(H) for _ in range(3)])
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.layers = nn.ModuleList(
            [LlamaEagle3Layer(2 * H if i == 0 else H, hidden_norm=i == 0) for i in range(layers)])
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))


class GroupedConv(nn.Module):
    """vLLM `DFlashGroupedConv`: base_kernel [2, taps, H], kernel_projection [2·taps·H/g, H]."""

    def __init__(self, taps: int, group: int):
        super().__init__()
        self.base_kernel = nn.Parameter(torch.zeros(2, taps, H))
        self.kernel_projection = nn.Linear(H, 2 * taps * (H // group), bias=False)


class DFlash2Layer(Qwen3Layer):
    def __init__(self, taps: int, group: int):
        super().__init__()
        self.attention_conv = GroupedConv(taps, group)
        self.mlp_conv = GroupedConv(taps, group)


class CandidateSelector(nn.Module):
    def __init__(self, rank: int):
        super().__init__()
        self.predecessor_codebook = nn.Parameter(torch.zeros(V, rank))
        self.successor_codebook = nn.Parameter(torch.zeros(V, rank))
        self.hidden_projection = nn.Linear(H, rank, bias=False)


class DFlash2Model(nn.Module):
    def __init__(self, taps: int, group: int, rank: int):
        super().__init__()
        self.layers = nn.ModuleList([DFlash2Layer(taps, group) for _ in range(2)])
        self.norm = RMSNorm(H)
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.hidden_norm = RMSNorm(H)
        self.candidate_selector = CandidateSelector(rank)


class MarkovHead(nn.Module):
    def __init__(self, rank: int):
        super().__init__()
        self.markov_w1 = nn.Embedding(V, rank)
        self.markov_w2 = nn.Linear(rank, V, bias=False)


class ConfidenceHead(nn.Module):
    def __init__(self, inputs: int):
        super().__init__()
        self.proj = nn.Linear(inputs, 1, bias=False)


class DSparkModel(nn.Module):
    def __init__(self, rank: int):
        super().__init__()
        self.layers = nn.ModuleList([Qwen3Layer() for _ in range(2)])
        self.norm = RMSNorm(H)
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.hidden_norm = RMSNorm(H)
        self.markov_head = MarkovHead(rank)
        self.confidence_head = ConfidenceHead(H)


class PEagleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * H, H, bias=False)
        self.layers = nn.ModuleList([LlamaEagle3Layer(2 * H, hidden_norm=True)])
        self.norm = RMSNorm(H)
        self.lm_head = nn.Linear(H, VD, bias=False)
        self.register_buffer("d2t", torch.zeros(VD, dtype=torch.long))
        self.register_buffer("t2d", torch.zeros(V, dtype=torch.bool))
        # speculators' PEagleDraftModel: the aux-state stand-in for parallel positions.
        self.mask_hidden = nn.Parameter(torch.randn(1, 1, 3 * H))


class SpeculatorsMTPLayer(Qwen3Layer):
    """speculators `MTPDraftModel` layer: input_proj [H, 2H] and its three norms."""

    def __init__(self):
        super().__init__()
        self.input_proj = nn.Linear(2 * H, H, bias=False)
        self.token_layernorm = RMSNorm(H)
        self.hidden_layernorm = RMSNorm(H)
        self.final_layernorm = RMSNorm(H)


class SpeculatorsMTPModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.mtp_layers = nn.ModuleList([SpeculatorsMTPLayer()])


class Decoder(nn.Module):
    """`model.*` of a small causal LM (Llama layers)."""

    def __init__(self, layers: int):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, H)
        self.layers = nn.ModuleList([LlamaLayer() for _ in range(layers)])
        self.norm = RMSNorm(H)


class SharedHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RMSNorm(H)
        self.head = nn.Linear(H, V, bias=False)


class DeepSeekMTPLayer(LlamaLayer):
    """DeepSeek-V3 MTP block (attention simplified to Llama's): enorm, hnorm, eh_proj, shared_head."""

    def __init__(self):
        super().__init__()
        self.enorm = RMSNorm(H)
        self.hnorm = RMSNorm(H)
        self.eh_proj = nn.Linear(2 * H, H, bias=False)
        self.shared_head = SharedHead()


class CausalLM(nn.Module):
    def __init__(self, layers: int):
        super().__init__()
        self.model = Decoder(layers)
        self.lm_head = nn.Linear(H, V, bias=False)


class DeepSeekStyleLM(CausalLM):
    def __init__(self, layers: int):
        super().__init__(layers)
        self.model.layers.append(DeepSeekMTPLayer())


class Qwen3NextMTP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2 * H, H, bias=False)
        self.pre_fc_norm_embedding = RMSNorm(H)
        self.pre_fc_norm_hidden = RMSNorm(H)
        self.layers = nn.ModuleList([Qwen3Layer()])
        self.norm = RMSNorm(H)


class Qwen3NextStyleLM(CausalLM):
    def __init__(self, layers: int):
        super().__init__(layers)
        self.mtp = Qwen3NextMTP()


class MiMoMTPLayer(LlamaLayer):
    def __init__(self):
        super().__init__()
        self.token_layernorm = RMSNorm(H)
        self.hidden_layernorm = RMSNorm(H)
        self.input_proj = nn.Linear(2 * H, H, bias=False)
        self.final_layernorm = RMSNorm(H)


class MiMoStyleLM(CausalLM):
    def __init__(self, layers: int):
        super().__init__(layers)
        self.model.mtp_layers = nn.ModuleList([MiMoMTPLayer()])


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------

def qwen3_keys(layers: int, kv_heads: int | None = NKV, dtype_key: str = "torch_dtype") -> "OrderedDict":
    keys = OrderedDict([
        ("attention_bias", False), ("attention_dropout", 0.0), ("bos_token_id", 500),
        (dtype_key, "bfloat16"), ("eos_token_id", 501), ("head_dim", DH), ("hidden_act", "silu"),
        ("hidden_size", H), ("initializer_range", 0.02), ("intermediate_size", INTER),
        ("layer_types", ["full_attention"] * layers), ("max_position_embeddings", 4096),
        ("max_window_layers", layers), ("model_type", "qwen3"), ("num_attention_heads", NH),
        ("num_hidden_layers", layers), ("num_key_value_heads", kv_heads), ("rms_norm_eps", EPS),
        ("rope_scaling", None), ("rope_theta", 1000000.0), ("sliding_window", None),
        ("tie_word_embeddings", False), ("use_cache", True), ("use_sliding_window", False),
        ("vocab_size", V),
    ])
    if kv_heads is None:
        del keys["num_key_value_heads"]
    return keys


def dflash_zlab_config() -> dict:
    config = OrderedDict([("architectures", ["DFlashDraftModel"]),
                          ("auto_map", {"AutoModel": "dflash.DFlashDraftModel"}),
                          ("block_size", BLOCK),
                          ("dflash_config", {"mask_token_id": MASK_TOKEN, "target_layer_ids": [0, 1, 2]})])
    config.update(qwen3_keys(2))
    config["num_target_layers"] = VERIFIER_LAYERS
    return config


def dflash_fused_config() -> dict:
    config = OrderedDict([("architectures", ["DFlashDraftModel"]),
                          ("dflash_config", {"block_size": BLOCK, "mask_token_id": MASK_TOKEN,
                                             "target_layer_ids": [0, 1, 2, 3]})])
    config.update(qwen3_keys(2))
    config["num_target_layers"] = VERIFIER_LAYERS
    return config


def eagle3_qwen3_config() -> dict:
    config = OrderedDict([("architectures", ["Qwen3ForCausalLMEagle3"]), ("draft_vocab_size", VD)])
    config.update(qwen3_keys(1, dtype_key="dtype"))
    del config["layer_types"], config["max_window_layers"]
    return config


def eagle31_config(layers: int, flags: dict) -> dict:
    """A Llama EAGLE-3 config without num_key_value_heads (the heads are not grouped)."""
    config = OrderedDict([
        ("architectures", ["LlamaForCausalLMEagle3"]), ("model_type", "llama"),
        ("hidden_size", H), ("intermediate_size", INTER), ("num_attention_heads", NH),
        ("num_hidden_layers", layers), ("vocab_size", V), ("draft_vocab_size", VD),
        ("max_position_embeddings", 4096), ("rms_norm_eps", EPS), ("rope_theta", 500000.0),
        ("hidden_act", "silu"), ("torch_dtype", "bfloat16"),
    ])
    config.update(flags)
    return config


def speculators_config(algorithm: str, tokens: int) -> dict:
    return {
        "algorithm": algorithm, "default_proposal_method": "greedy",
        "proposal_methods": [{"accept_tolerance": 0.0, "proposal_type": "greedy",
                              "speculative_tokens": tokens, "verifier_accept_k": 1}],
        "verifier": {"architectures": ["LlamaForCausalLM"], "name_or_path": "Fixtures/verifier"},
    }


def speculators_dflash_keys(kind: str, architecture: str) -> "OrderedDict":
    layer = qwen3_keys(2)
    return OrderedDict([
        ("architectures", [architecture]), ("aux_hidden_state_layer_ids", [1, 2, 3]),
        ("block_size", BLOCK), ("draft_vocab_size", V), ("mask_token_id", MASK_TOKEN),
        ("speculators_config", speculators_config(kind, BLOCK - 1)),
        ("speculators_model_type", kind), ("speculators_version", "0.9.0"),
        ("target_hidden_size", None), ("torch_dtype", "bfloat16"), ("transformer_layer_config", layer),
    ])


def verifier_keys(model_type: str, layers: int, architecture: str, **extra) -> "OrderedDict":
    config = OrderedDict([
        ("architectures", [architecture]), ("model_type", model_type), ("hidden_size", H),
        ("intermediate_size", INTER), ("num_attention_heads", NH), ("num_key_value_heads", NKV),
        ("head_dim", DH), ("num_hidden_layers", layers), ("vocab_size", V),
        ("max_position_embeddings", 4096), ("rms_norm_eps", EPS), ("torch_dtype", "bfloat16"),
    ])
    config.update(extra)
    return config


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

def save(out: Path, module: nn.Module, case: str, config: dict, drop: tuple[str, ...] = ()) -> None:
    state = build_state_dict(module, case, torch.bfloat16, None)
    for name in [n for n in state if n.startswith(drop)] if drop else []:
        del state[name]
    write_safetensors(out / "model.safetensors", state)
    write_json(out / "config.json", config, sort_keys=False)


def build_case(case: str, out: Path) -> None:
    if case == "dflash-zlab":
        save(out, ZLabDFlashModel(2, 3), case, dflash_zlab_config())
    elif case == "dflash-fused-qkv":
        save(out, FusedDFlashModel(2, 4), case, dflash_fused_config())
    elif case == "eagle3-qwen3":
        save(out, Qwen3Eagle3Model(), case, eagle3_qwen3_config())
    elif case == "eagle3-norm-before-fc":
        save(out, Eagle31Model(2, norm_before_fc=True, fc_norm=False), case,
             eagle31_config(2, {"norm_before_fc": True, "norm_output": True}))
    elif case == "eagle3-fc-norm":
        save(out, Eagle31Model(1, norm_before_fc=False, fc_norm=True), case,
             eagle31_config(1, {"fc_norm": True, "num_key_value_heads": NH}))
    elif case == "speculators-dflash2":
        config = speculators_dflash_keys("dflash2", "DFlash2DraftModel")
        config.update([("conv_group_size", 16), ("conv_kernel_size", 2), ("selector_rank", 8),
                       ("selector_top_k", 4), ("sliding_window_non_causal", True)])
        save(out, DFlash2Model(taps=2, group=16, rank=8), case, config)
    elif case == "speculators-dspark":
        config = speculators_dflash_keys("dspark", "DSparkDraftModel")
        config.update([("confidence_head_with_markov", False), ("enable_confidence_head", True),
                       ("markov_head_type", "vanilla"), ("markov_rank", 8), ("sample_from_anchor", True)])
        save(out, DSparkModel(rank=8), case, config)
    elif case == "speculators-peagle":
        layer = qwen3_keys(1, kv_heads=NH)
        layer["model_type"] = "llama"
        for key in ("layer_types", "max_window_layers", "sliding_window", "use_sliding_window"):
            del layer[key]
        config = OrderedDict([
            ("architectures", ["PEagleDraftModel"]), ("draft_vocab_size", VD),
            ("eagle_aux_hidden_state_layer_ids", [1, 2, 3]), ("mask_token_id", MASK_TOKEN),
            ("norm_before_residual", False), ("speculators_config", speculators_config("peagle", 3)),
            ("speculators_model_type", "peagle"), ("speculators_version", "0.9.0"),
            ("target_hidden_size", None), ("torch_dtype", "bfloat16"), ("transformer_layer_config", layer),
        ])
        save(out, PEagleModel(), case, config)
    elif case == "speculators-mtp":
        layer = verifier_keys("qwen3", 2, "Qwen3ForCausalLM", num_nextn_predict_layers=1)
        config = OrderedDict([
            ("architectures", ["MTPDraftModel"]), ("num_nextn_predict_layers", 1),
            ("speculators_config", speculators_config("mtp", 3)), ("speculators_model_type", "mtp"),
            ("speculators_version", "0.9.0"), ("tie_word_embeddings", False),
            ("transformer_layer_config", layer),
        ])
        save(out, SpeculatorsMTPModel(), case, config)
    elif case == "mtp-deepseek":
        save(out, DeepSeekStyleLM(MTP_LAYERS), case,
             verifier_keys("deepseek_v3", MTP_LAYERS, "DeepseekV3ForCausalLM", num_nextn_predict_layers=1))
    elif case == "mtp-qwen3-next":
        save(out, Qwen3NextStyleLM(MTP_LAYERS), case,
             verifier_keys("qwen3_next", MTP_LAYERS, "Qwen3NextForCausalLM", num_nextn_predict_layers=1))
    elif case == "mtp-mimo":
        save(out, MiMoStyleLM(MTP_LAYERS), case,
             verifier_keys("mimo", MTP_LAYERS, "MiMoForCausalLM", num_nextn_predict_layers=1))
    elif case == "mtp-stripped":
        # A quantized or stripped export: the config still promises one MTP layer.
        save(out, DeepSeekStyleLM(MTP_LAYERS), case,
             verifier_keys("deepseek_v3", MTP_LAYERS, "DeepseekV3ForCausalLM", num_nextn_predict_layers=1),
             drop=(f"model.layers.{MTP_LAYERS}.",))
    else:
        raise SystemExit(f"unknown case {case}")


def run_reference(repo_root: Path, fixtures: Path, case: str, algorithm: str, kwargs: dict) -> dict:
    """speculators 0.9.0 `convert_model(Fixtures/<case>, Fixtures/verifier, algorithm)`."""
    from speculators.convert.entrypoints import convert_model

    rel = fixtures.relative_to(repo_root)
    record = {"call": f"convert_model({str(rel / case)!r}, {str(rel / 'verifier')!r}, {algorithm!r}, "
                      f"output_path=<temporary directory>, **{json.dumps(kwargs, sort_keys=True)})"}
    cwd = os.getcwd()
    os.chdir(repo_root)
    try:
        with tempfile.TemporaryDirectory(prefix=f"ref09-{case}-") as tmp:
            target = Path(tmp) / "converted"
            try:
                convert_model(str(rel / case), str(rel / "verifier"), algorithm,
                              output_path=str(target), **kwargs)
            except Exception as error:  # noqa: BLE001 - recorded, not hidden
                record["error"] = f"{type(error).__name__}: {error}"
                print(f"  {case}: convert_model failed: {record['error']}", file=sys.stderr)
                return record
            written = sorted(p.name for p in target.iterdir())
            record["files_written"] = written
            out = fixtures / REFERENCE_DIR / case
            out.mkdir(parents=True)
            record["files_kept"] = [n for n in REFERENCE_KEEP if n in written]
            for name in record["files_kept"]:
                shutil.copyfile(target / name, out / name)
            source = load_tensors(fixtures / case / "model.safetensors")
            converted = load_tensors(out / "model.safetensors")
            record["dropped_source_tensors"] = sorted(set(source) - set(converted))
            record["new_tensors"] = sorted(set(converted) - set(source))
    finally:
        os.chdir(cwd)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=".", help="repository root; default: cwd")
    args = parser.parse_args()
    repo_root = Path(args.root).resolve()
    fixtures = repo_root / "Fixtures"
    if not (fixtures / "verifier" / "config.json").exists():
        raise SystemExit("Fixtures/verifier is missing: run scripts/make_fixtures.py first")
    owned = [*CASES, *COPIES, REFERENCE_DIR]
    for name in owned:
        shutil.rmtree(fixtures / name, ignore_errors=True)
    expected_dir = fixtures / "expected"
    for name in [*CASES, *COPIES]:
        (expected_dir / f"{name}.json").unlink(missing_ok=True)
    shutil.rmtree(expected_dir / REFERENCE_DIR, ignore_errors=True)

    for case in CASES:
        print(case)
        (fixtures / case).mkdir(parents=True)
        build_case(case, fixtures / case)

    (fixtures / REFERENCE_DIR).mkdir()
    runs = OrderedDict()
    for case, (algorithm, kwargs, _) in CASES.items():
        if algorithm is None:
            continue
        print(f"{REFERENCE_DIR}/{case} ({algorithm})")
        runs[case] = run_reference(repo_root, fixtures, case, algorithm, kwargs)
    for copy, source in COPIES.items():
        shutil.copytree(fixtures / REFERENCE_DIR / source, fixtures / copy)

    import make_fixtures
    make_fixtures.INTENDED.update({case: label for case, (_, _, label) in CASES.items()})
    make_fixtures.INTENDED.update({copy: f"Speculators dflash checkpoint (copy of {REFERENCE_DIR}/{source})"
                                   for copy, source in COPIES.items()})
    (expected_dir / REFERENCE_DIR).mkdir(parents=True, exist_ok=True)
    for case in [*CASES, *COPIES, *[f"{REFERENCE_DIR}/{c}" for c in runs if "error" not in runs[c]]]:
        record = expected_for(fixtures / case, case)
        if record is not None:
            write_json(expected_dir / f"{case}.json", record)
    write_json(expected_dir / REFERENCE_DIR / "_generator.json", {
        "command": "python scripts/make_format_fixtures.py (from the repository root)",
        "versions": versions(), "reference_conversions": runs,
    })
    total = sum(p.stat().st_size for name in owned for p in (fixtures / name).rglob("*") if p.is_file())
    print(f"done: {total} bytes in generated fixtures")


if __name__ == "__main__":
    main()
