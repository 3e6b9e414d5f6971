"""PyTorch reference for `speculators probe`: tiny verifiers and drafts, and greedy speculative
decoding computed independently of the Swift code.

The verifier runs through Hugging Face transformers (LlamaForCausalLM, Qwen2ForCausalLM,
Qwen3ForCausalLM), the draft through a plain torch transcription of vLLM's EAGLE-3 / EAGLE-1
forward. Nothing is cached: every draft proposal and every verification recomputes the whole
sequence, so the reference shares no KV-cache or position bookkeeping with the probe.

  python probe_reference.py verifier DIR --family llama|qwen2|qwen3
  python probe_reference.py draft DIR --verifier VDIR [--algorithm eagle3|eagle] [--draft-layers N]
                                  [--source] [--fault NAME]
  python probe_reference.py run --verifier VDIR --draft DDIR --prompts FILE --k K --max-tokens N

`verifier` writes a bf16 safetensors verifier; `draft` a draft for it (Speculators format, or
with --source the layout before conversion; --fault writes a known conversion fault). The draft is built to agree often with its verifier
(its fc picks the verifier's last hidden state, its layer is a small perturbation, its lm_head
the verifier's rows), so acceptance is neither zero nor one. `run` prints one JSON object:
draft_tokens, accepted_tokens, accepted_per_position, outputs.
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

H, HEADS, KV, HD, I, V, L, VD = 64, 4, 2, 16, 128, 256, 4, 240


def verifier_config(family):
    config = {
        "hidden_size": H, "intermediate_size": I, "num_attention_heads": HEADS, "num_key_value_heads": KV,
        "num_hidden_layers": L, "vocab_size": V, "max_position_embeddings": 512, "rms_norm_eps": 1e-5,
        "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "bfloat16", "head_dim": HD,
    }
    if family == "llama":
        config.update(architectures=["LlamaForCausalLM"], model_type="llama", rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    elif family == "qwen2":
        config.update(architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_theta=1000000.0)
    else:
        config.update(architectures=["Qwen3ForCausalLM"], model_type="qwen3", rope_theta=1000000.0)
    return config


def make_verifier(path, family):
    import transformers
    os.makedirs(path, exist_ok=True)
    config = transformers.AutoConfig.for_model(**{k: v for k, v in verifier_config(family).items()
                                                  if k not in ("architectures", "torch_dtype")})
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    state = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    json.dump(verifier_config(family), open(os.path.join(path, "config.json"), "w"), indent=2)
    return state


def make_draft(path, family, algorithm, layers, source, fault, verifier, verifier_path):
    os.makedirs(path, exist_ok=True)
    g = torch.Generator().manual_seed(7)

    def rand(*shape, scale=0.05):
        return (scale * torch.randn(*shape, generator=g)).to(torch.bfloat16)

    def layer(prefix, inputs):
        t = {}
        t[prefix + "self_attn.q_proj.weight"] = rand(HEADS * HD, inputs, scale=0.3)
        t[prefix + "self_attn.k_proj.weight"] = rand(KV * HD, inputs, scale=0.3)
        t[prefix + "self_attn.v_proj.weight"] = rand(KV * HD, inputs, scale=0.3)
        t[prefix + "self_attn.o_proj.weight"] = rand(H, HEADS * HD)
        t[prefix + "mlp.gate_proj.weight"] = rand(I, H, scale=0.3)
        t[prefix + "mlp.up_proj.weight"] = rand(I, H, scale=0.3)
        t[prefix + "mlp.down_proj.weight"] = rand(H, I)
        t[prefix + "input_layernorm.weight"] = (1 + rand(H)).to(torch.bfloat16)
        t[prefix + "post_attention_layernorm.weight"] = (1 + rand(H)).to(torch.bfloat16)
        if family == "qwen3":
            t[prefix + "self_attn.q_norm.weight"] = (1 + rand(HD)).to(torch.bfloat16)
            t[prefix + "self_attn.k_norm.weight"] = (1 + rand(HD)).to(torch.bfloat16)
        return t

    tensors = {}
    layer_type = "qwen3" if family == "qwen3" else "llama"
    if algorithm == "eagle3":
        aux = [1, 2, L]
        fc = torch.zeros(H, 3 * H)
        fc[:, 2 * H:] = torch.eye(H)  # the last tap: the verifier's final stream
        fc += 0.01 * torch.randn(H, 3 * H, generator=g)
        tensors["fc.weight"] = fc.to(torch.bfloat16)
        first = "midlayer." if source and layers == 1 else "layers.0."
        tensors.update(layer(first, 2 * H))
        tensors[first + "hidden_norm.weight"] = (1 + rand(H)).to(torch.bfloat16)
        for index in range(1, layers):
            tensors.update(layer(f"layers.{index}.", H))
        tensors["norm.weight"] = verifier["model.norm.weight"].clone()
        ids = torch.arange(V)[torch.randperm(V, generator=g)[:VD]].sort().values
        tensors["lm_head.weight"] = verifier["lm_head.weight"][ids].clone()
        tensors["d2t"] = (ids - torch.arange(VD)).to(torch.int64)
        t2d = torch.zeros(V, dtype=torch.bool)
        t2d[ids] = True
        tensors["t2d"] = t2d
        if fault == "embedding":
            tensors["embed_tokens.weight"] = rand(V, H, scale=1.0)
        transformer = {
            "model_type": layer_type, "architectures": ["LlamaForCausalLM"], "hidden_size": H,
            "intermediate_size": I, "num_attention_heads": HEADS, "num_key_value_heads": KV, "head_dim": HD,
            "num_hidden_layers": layers, "vocab_size": V, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "max_position_embeddings": 512, "hidden_act": "silu", "torch_dtype": "bfloat16",
        }
        norm_before_residual = fault == "norm_before_residual"
        declared = aux if fault != "aux" else [i - 1 for i in aux]
        if source:
            config = dict(transformer, draft_vocab_size=VD, eagle_config={"eagle_aux_hidden_state_layer_ids": declared},
                          norm_before_residual=norm_before_residual)
        else:
            config = {
                "architectures": ["Eagle3Speculator"], "speculators_model_type": "eagle3",
                "speculators_version": "0.1.0", "draft_vocab_size": VD, "norm_before_residual": norm_before_residual,
                "target_hidden_size": None, "eagle_aux_hidden_state_layer_ids": declared,
                "transformer_layer_config": transformer,
                "speculators_config": {
                    "algorithm": "eagle3", "default_proposal_method": "greedy",
                    "proposal_methods": [{"proposal_type": "greedy", "speculative_tokens": 3,
                                          "verifier_accept_k": 1, "accept_tolerance": 0.0}],
                    "verifier": {"name_or_path": verifier_path, "architectures": ["LlamaForCausalLM"]}},
            }
    else:
        fc = torch.zeros(H, 2 * H)
        fc[:, H:] = torch.eye(H)
        fc += 0.01 * torch.randn(H, 2 * H, generator=g)
        prefix = "layers.0." if source else "transformer."
        t = layer(prefix, H)
        del t[prefix + "input_layernorm.weight"]
        tensors.update(t)
        tensors[("fc." if source else "fusion_fc.") + "weight"] = fc.to(torch.bfloat16)
        config = {
            "architectures": ["EagleSpeculator"], "speculators_model_type": "eagle", "speculators_version": "0.1.0",
            "layernorms": False, "fusion_bias": False,
            "transformer_layer_config": {
                "model_type": "llama", "hidden_size": H, "intermediate_size": I, "num_attention_heads": HEADS,
                "num_key_value_heads": KV, "head_dim": HD, "num_hidden_layers": 1, "vocab_size": V,
                "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 512, "hidden_act": "silu"},
            "speculators_config": {
                "algorithm": "eagle", "default_proposal_method": "greedy",
                "proposal_methods": [{"proposal_type": "greedy", "speculative_tokens": 3}],
                "verifier": {"name_or_path": verifier_path, "architectures": ["LlamaForCausalLM"]}},
        }
        if source:
            config = dict(config["transformer_layer_config"], architectures=["LlamaForCausalLM"])
    save_file(tensors, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)


# ---- reference decoding -------------------------------------------------------------------

def rms(x, w, eps):
    x32 = x.float()
    return x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps) * w.float()


def rope(x, positions, theta, dim):
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    freqs = positions.float()[:, None] * inv[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    half = dim // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Draft:
    def __init__(self, path, verifier):
        self.config = json.load(open(os.path.join(path, "config.json")))
        raw = {k: v.float() for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
        self.w = {("layers.0." + k[9:] if k.startswith("midlayer.") else k): v for k, v in raw.items()}
        self.layer_config = self.config.get("transformer_layer_config", self.config)
        self.eagle3 = "hidden_norm" in " ".join(self.w) or self.config.get("speculators_model_type") == "eagle3"
        if not self.eagle3 and "fc.weight" in self.w:
            self.w = {("transformer." + k[9:] if k.startswith("layers.0.") else
                       "fusion_fc." + k[3:] if k.startswith("fc.") else k): v for k, v in self.w.items()}
        self.embed = self.w.get("embed_tokens.weight", verifier.embed)
        self.lm_head = self.w.get("lm_head.weight", verifier.lm_head)
        self.d2t = self.w.get("d2t")
        converted = "speculators_model_type" in self.config
        self.norm_before_residual = self.config.get("norm_before_residual", converted)
        ids = self.config.get("eagle_aux_hidden_state_layer_ids") or \
            (self.config.get("eagle_config") or {}).get("eagle_aux_hidden_state_layer_ids")
        self.aux = sorted(set(ids)) if ids else None
        self.eps = self.layer_config["rms_norm_eps"]
        self.theta = self.layer_config.get("rope_theta", 10000.0)
        self.layers = self.layer_config["num_hidden_layers"]
        self.qk_norm = self.layer_config["model_type"] == "qwen3"

    def attention(self, prefix, x, positions):
        w = self.w
        n = x.shape[0]
        q = (x @ w[prefix + "self_attn.q_proj.weight"].T).view(n, HEADS, HD)
        k = (x @ w[prefix + "self_attn.k_proj.weight"].T).view(n, KV, HD)
        v = (x @ w[prefix + "self_attn.v_proj.weight"].T).view(n, KV, HD)
        if self.qk_norm:
            q = rms(q, w[prefix + "self_attn.q_norm.weight"], self.eps)
            k = rms(k, w[prefix + "self_attn.k_norm.weight"], self.eps)
        q, k = rope(q, positions, self.theta, HD), rope(k, positions, self.theta, HD)
        k = k.repeat_interleave(HEADS // KV, dim=1)
        v = v.repeat_interleave(HEADS // KV, dim=1)
        out = F.scaled_dot_product_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), is_causal=True)
        return out.transpose(0, 1).reshape(n, HEADS * HD) @ w[prefix + "self_attn.o_proj.weight"].T

    def mlp(self, prefix, x):
        w = self.w
        return (F.silu(x @ w[prefix + "mlp.gate_proj.weight"].T) * (x @ w[prefix + "mlp.up_proj.weight"].T)) \
            @ w[prefix + "mlp.down_proj.weight"].T

    def combine(self, features):
        return features @ self.w["fc.weight"].T if self.eagle3 else features

    def forward(self, tokens, hidden):
        """All rows at once (positions 0..n-1): returns (logits of the last row, carried hidden)."""
        w = self.w
        positions = torch.arange(len(tokens))
        emb = self.embed[torch.tensor(tokens)]
        if self.eagle3:
            e = rms(emb, w["layers.0.input_layernorm.weight"], self.eps)
            hn = rms(hidden, w["layers.0.hidden_norm.weight"], self.eps)
            stream = hn if self.norm_before_residual else hidden
            stream = stream + self.attention("layers.0.", torch.cat([e, hn], dim=-1), positions)
            stream = stream + self.mlp("layers.0.", rms(stream, w["layers.0.post_attention_layernorm.weight"], self.eps))
            for index in range(1, self.layers):
                p = f"layers.{index}."
                stream = stream + self.attention(p, rms(stream, w[p + "input_layernorm.weight"], self.eps), positions)
                stream = stream + self.mlp(p, rms(stream, w[p + "post_attention_layernorm.weight"], self.eps))
            normed = rms(stream, w["norm.weight"], self.eps)
            logits = normed[-1] @ self.lm_head.T
            best = int(torch.argmax(logits))
            if self.d2t is not None:
                best = best + int(self.d2t[best])
            return best, stream
        stream = torch.cat([emb, hidden], dim=-1) @ w["fusion_fc.weight"].T
        stream = stream + self.attention("transformer.", stream, positions)
        stream = stream + self.mlp("transformer.", rms(stream, w["transformer.post_attention_layernorm.weight"], self.eps))
        return int(torch.argmax(stream[-1] @ self.lm_head.T)), stream


class Verifier:
    def __init__(self, path):
        import transformers
        self.model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        self.embed = self.model.model.embed_tokens.weight.detach()
        self.lm_head = self.model.lm_head.weight.detach()
        self.layers = self.model.config.num_hidden_layers
        self._stream = None
        self.model.model.norm.register_forward_pre_hook(lambda module, args: setattr(self, "_stream", args[0]))

    def run(self, tokens, aux):
        """Greedy tokens after every position, and the draft features of every position."""
        out = self.model(torch.tensor([tokens]), output_hidden_states=True)
        greedy = out.logits[0].argmax(-1).tolist()
        states = list(out.hidden_states[:-1]) + [self._stream]  # index L: the stream before the norm
        if aux is None:
            features = out.hidden_states[-1][0]
        else:
            features = torch.cat([states[i][0] for i in aux], dim=-1)
        return greedy, features


def run(verifier_dir, draft_dir, prompts, k, max_tokens):
    verifier = Verifier(verifier_dir)
    draft = Draft(draft_dir, verifier)
    if draft.eagle3 and draft.aux is None:
        draft.aux = sorted({2, verifier.layers // 2, verifier.layers - 3})
    aux = draft.aux if draft.eagle3 else None
    totals = {"drafts": 0, "draft_tokens": 0, "accepted_tokens": 0, "accepted_per_position": [0] * k, "outputs": []}
    with torch.no_grad():
        for prompt in prompts:
            sequence = list(prompt)
            greedy, features = verifier.run(sequence, aux)
            sequence.append(greedy[-1])
            generated = 1
            while generated < max_tokens:
                # The draft's confirmed rows: position i has the verifier's feature at i and token i+1.
                n = len(sequence) - 1
                _, features = verifier.run(sequence[:n], aux)
                hidden = draft.combine(features)
                tokens = sequence[1:n + 1]
                proposals = []
                for _ in range(k):
                    best, carried = draft.forward(tokens, hidden)
                    proposals.append(best)
                    tokens = tokens + [best]
                    hidden = torch.cat([hidden, carried[-1:]], dim=0)
                greedy, _ = verifier.run(sequence + proposals, aux)
                targets = greedy[n:]
                accepted = 0
                while accepted < k and proposals[accepted] == targets[accepted]:
                    accepted += 1
                totals["drafts"] += 1
                totals["draft_tokens"] += k
                totals["accepted_tokens"] += accepted
                for index in range(accepted):
                    totals["accepted_per_position"][index] += 1
                sequence += proposals[:accepted] + [targets[accepted]]
                generated += accepted + 1
            totals["outputs"].append(sequence[len(prompt):len(prompt) + max_tokens])
    print(json.dumps(totals))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    make_v = sub.add_parser("verifier")
    make_v.add_argument("directory")
    make_v.add_argument("--family", default="llama")
    make_d = sub.add_parser("draft")
    make_d.add_argument("directory")
    make_d.add_argument("--verifier", required=True)
    make_d.add_argument("--algorithm", default="eagle3")
    make_d.add_argument("--draft-layers", type=int, default=1)
    make_d.add_argument("--source", action="store_true")
    make_d.add_argument("--fault", default="")
    runner = sub.add_parser("run")
    runner.add_argument("--verifier", required=True)
    runner.add_argument("--draft", required=True)
    runner.add_argument("--prompts", required=True)
    runner.add_argument("--k", type=int, default=3)
    runner.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    if args.command == "verifier":
        torch.manual_seed(0)
        make_verifier(args.directory, args.family)
    elif args.command == "draft":
        family = json.load(open(os.path.join(args.verifier, "config.json")))["model_type"]
        verifier = load_file(os.path.join(args.verifier, "model.safetensors"))
        make_draft(args.directory, family, args.algorithm, args.draft_layers, args.source, args.fault, verifier,
                   os.path.relpath(args.verifier, args.directory))
    else:
        prompts = [json.loads(line) for line in open(args.prompts) if line.strip()]
        run(args.verifier, args.draft, prompts, args.k, args.max_tokens)


if __name__ == "__main__":
    main()
