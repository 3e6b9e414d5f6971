"""Creates the benchmark inputs once (Llama-3.1-8B shapes), with real torch and safetensors.

Usage: python bench/make_inputs.py WORKDIR

Writes, unless already present (a `.done` marker per input):
  eagle1/      EAGLE-1 draft: config.json + pytorch_model.bin (fp16, ~1.5 GB, with embed_tokens)
  eagle3/      EAGLE-3 draft: config.json + pytorch_model.bin (fp16, ~0.85 GB, no embed_tokens)
  eagle3-3layer/  EAGLE-3 draft in the layers.N layout with 3 decoder layers (~1.7 GB), a second
               size of the same conversion, for the slope of cost in bytes
  verifier/    Llama verifier with 2 decoder layers, bf16, 2 safetensors shards + index (~3 GB)
  probe-draft/ EAGLE-3 draft of that verifier in the Speculators format (bf16 safetensors, ~0.8 GB:
               one layer, a 32,000-token lm_head with d2t, the verifier's embedding), built to
               agree often with its verifier; plus probe-prompts.jsonl, the probe case's prompts
  headers/     100,000 tiny tensors across 50 safetensors shards + index (header-bound work)

Names after WORKDIR (headers, eagle1, eagle3, eagle3-3layer, verifier, probe-draft) make only those.
"""

import json
import os
import sys
from collections import OrderedDict

import torch
from safetensors.torch import save_file

H, I, NH, NKV, V, VD, HD = 4096, 14336, 32, 8, 128256, 32000, 128
torch.manual_seed(0)


def rand(*shape, dtype=torch.float16):
    return (torch.randn(*shape, dtype=torch.float32) * 0.02).to(dtype)


def llama_config(**extra):
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
        "intermediate_size": I, "num_attention_heads": NH, "num_key_value_heads": NKV,
        "num_hidden_layers": 1, "vocab_size": V, "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-05, "hidden_act": "silu", "pad_token_id": 0, "bos_token_id": 128000,
        "eos_token_id": 128001, "tie_word_embeddings": False, "torch_dtype": "float16",
        "use_cache": True,
    }
    config.update(extra)
    return config


def layer(prefix, in_features, dtype, input_norm):
    tensors = OrderedDict()
    tensors[f"{prefix}self_attn.q_proj.weight"] = rand(NH * HD, in_features, dtype=dtype)
    tensors[f"{prefix}self_attn.k_proj.weight"] = rand(NKV * HD, in_features, dtype=dtype)
    tensors[f"{prefix}self_attn.v_proj.weight"] = rand(NKV * HD, in_features, dtype=dtype)
    tensors[f"{prefix}self_attn.o_proj.weight"] = rand(H, NH * HD, dtype=dtype)
    tensors[f"{prefix}mlp.gate_proj.weight"] = rand(I, H, dtype=dtype)
    tensors[f"{prefix}mlp.up_proj.weight"] = rand(I, H, dtype=dtype)
    tensors[f"{prefix}mlp.down_proj.weight"] = rand(H, I, dtype=dtype)
    tensors[f"{prefix}post_attention_layernorm.weight"] = 1 + rand(H, dtype=dtype)
    if input_norm:
        tensors[f"{prefix}input_layernorm.weight"] = 1 + rand(H, dtype=dtype)
    return tensors


def done(path):
    return os.path.exists(os.path.join(path, ".done"))


def mark(path):
    open(os.path.join(path, ".done"), "w").close()


def make_eagle1(root):
    path = os.path.join(root, "eagle1")
    if done(path):
        return
    os.makedirs(path, exist_ok=True)
    state = OrderedDict()
    state["embed_tokens.weight"] = rand(V, H)
    state["fc.weight"] = rand(H, 2 * H)
    state["fc.bias"] = rand(H)
    state.update(layer("layers.0.", H, torch.float16, input_norm=False))
    torch.save(state, os.path.join(path, "pytorch_model.bin"))
    json.dump(llama_config(bias=True), open(os.path.join(path, "config.json"), "w"), indent=2)
    mark(path)


def make_eagle3(root, name="eagle3", layers=1):
    """SafeAILab layout (`midlayer.*`) for one layer; `layers.N.*` (the first layer takes the
    2H input and has hidden_norm, the others are plain Llama layers) for more."""
    path = os.path.join(root, name)
    if done(path):
        return
    os.makedirs(path, exist_ok=True)
    state = OrderedDict()
    state["fc.weight"] = rand(H, 3 * H)
    first = "midlayer." if layers == 1 else "layers.0."
    state.update(layer(first, 2 * H, torch.float16, input_norm=True))
    state[first + "hidden_norm.weight"] = 1 + rand(H)
    for index in range(1, layers):
        state.update(layer(f"layers.{index}.", H, torch.float16, input_norm=True))
    state["norm.weight"] = 1 + rand(H)
    state["lm_head.weight"] = rand(VD, H)
    ids = torch.sort(torch.randperm(V)[:VD]).values
    state["d2t"] = ids - torch.arange(VD)
    t2d = torch.zeros(V, dtype=torch.bool)
    t2d[ids] = True
    state["t2d"] = t2d
    torch.save(state, os.path.join(path, "pytorch_model.bin"))
    config = llama_config(draft_vocab_size=VD, num_hidden_layers=layers)
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)
    mark(path)


def make_eagle3_3layer(root):
    make_eagle3(root, name="eagle3-3layer", layers=3)


def make_verifier(root):
    path = os.path.join(root, "verifier")
    if done(path):
        return
    os.makedirs(path, exist_ok=True)
    bf16 = torch.bfloat16
    shard1 = OrderedDict()
    shard1["model.embed_tokens.weight"] = rand(V, H, dtype=bf16)
    shard1.update(layer("model.layers.0.", H, bf16, input_norm=True))
    shard2 = OrderedDict()
    shard2.update(layer("model.layers.1.", H, bf16, input_norm=True))
    shard2["model.norm.weight"] = 1 + rand(H, dtype=bf16)
    shard2["lm_head.weight"] = rand(V, H, dtype=bf16)
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map, total = {}, 0
    for name, shard in zip(names, [shard1, shard2]):
        save_file(shard, os.path.join(path, name), metadata={"format": "pt"})
        for key, tensor in shard.items():
            weight_map[key] = name
            total += tensor.numel() * tensor.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    json.dump(index, open(os.path.join(path, "model.safetensors.index.json"), "w"), indent=2)
    config = llama_config(num_hidden_layers=2, torch_dtype="bfloat16", max_position_embeddings=131072,
                          rope_theta=500000.0)
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)
    mark(path)


def make_probe_draft(root, prompts=2, prompt_length=64):
    """The probe case's draft: fc passes the verifier's last tap (the stream after its last
    layer) through, the layer is a small perturbation, `norm` is the verifier's and `lm_head`
    holds the verifier's rows of the draft vocabulary, so drafts agree with the verifier
    whenever its greedy continuation repeats and the token is in the draft vocabulary."""
    make_verifier(root)
    path = os.path.join(root, "probe-draft")
    if done(path):
        return
    os.makedirs(path, exist_ok=True)
    from safetensors import safe_open
    verifier = os.path.join(root, "verifier")
    with safe_open(os.path.join(verifier, "model-00002-of-00002.safetensors"), "pt") as shard:
        norm = shard.get_tensor("model.norm.weight")
        head = shard.get_tensor("lm_head.weight")
    generator = torch.Generator().manual_seed(1)
    bf16 = torch.bfloat16
    fc = torch.randn(H, 3 * H, generator=generator) * 0.01
    fc[:, 2 * H:] += torch.eye(H)
    state = OrderedDict()
    state["fc.weight"] = fc.to(bf16)
    state.update(layer("layers.0.", 2 * H, bf16, input_norm=True))
    state["layers.0.hidden_norm.weight"] = 1 + rand(H, dtype=bf16)
    state["norm.weight"] = norm.clone()
    ids = torch.sort(torch.randperm(V, generator=generator)[:VD]).values
    state["lm_head.weight"] = head[ids].contiguous()
    state["d2t"] = (ids - torch.arange(VD)).to(torch.int64)
    t2d = torch.zeros(V, dtype=torch.bool)
    t2d[ids] = True
    state["t2d"] = t2d
    save_file(state, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    layer_config = llama_config(torch_dtype="bfloat16", max_position_embeddings=131072, rope_theta=500000.0)
    config = {
        "architectures": ["Eagle3Speculator"], "speculators_model_type": "eagle3", "speculators_version": "0.1.0",
        "draft_vocab_size": VD, "norm_before_residual": False, "target_hidden_size": None,
        "eagle_aux_hidden_state_layer_ids": [0, 1, 2], "transformer_layer_config": layer_config,
        "speculators_config": {
            "algorithm": "eagle3", "default_proposal_method": "greedy",
            "proposal_methods": [{"proposal_type": "greedy", "speculative_tokens": 3,
                                  "verifier_accept_k": 1, "accept_tolerance": 0.0}],
            "verifier": {"name_or_path": "../verifier", "architectures": ["LlamaForCausalLM"]}},
    }
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)
    with open(os.path.join(root, "probe-prompts.jsonl"), "w") as out:
        for _ in range(prompts):
            out.write(json.dumps(torch.randint(0, V, (prompt_length,), generator=generator).tolist()) + "\n")
    mark(path)


def make_headers(root, shards=50, per_shard=2000):
    path = os.path.join(root, "headers")
    if done(path):
        return
    os.makedirs(path, exist_ok=True)
    weight_map = {}
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        shard = {f"model.layers.{s}.block.{t}.weight": torch.zeros(4, dtype=torch.float16)
                 for t in range(per_shard)}
        save_file(shard, os.path.join(path, name), metadata={"format": "pt"})
        weight_map.update({key: name for key in shard})
    index = {"metadata": {"total_size": shards * per_shard * 8}, "weight_map": dict(sorted(weight_map.items()))}
    json.dump(index, open(os.path.join(path, "model.safetensors.index.json"), "w"), indent=2)
    mark(path)


if __name__ == "__main__":
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    makers = (make_headers, make_eagle1, make_eagle3, make_eagle3_3layer, make_verifier, make_probe_draft)
    wanted = sys.argv[2:]
    for make in makers:
        if wanted and make.__name__[5:].replace("_", "-") not in wanted:
            continue
        make(root)
        print(f"ready: {make.__name__[5:].replace('_', '-')}", flush=True)
