"""The probe benchmark's peer: the same greedy speculative verification in PyTorch on the CPU.

Usage: python bench/probe_peer.py --verifier DIR --draft DIR --prompts FILE [--k K]
                                  [--max-tokens N] [--dtype bfloat16|float32]

The verifier is Hugging Face transformers' LlamaForCausalLM with its DynamicCache (cropped when
drafts are rejected, logits of the last prompt row only at prefill, as `generate` does); the
EAGLE-3 draft (one layer, Speculators format, the verifier's embedding) is a torch transcription
of vLLM's EAGLE-3 Llama draft with a KV cache of its own. The decoding loop is the one
`speculators probe` runs: prefill, then per step a draft pass over the newly confirmed positions
and K-1 single-token passes, one verifier pass over [last token, K drafts], the longest agreeing
prefix accepted plus the verifier's bonus token, EOS ignored.

Prints one JSON object: draft_tokens, accepted_tokens, outputs, and timing (prefill, verify and
draft seconds; the same counters the probe's --json prints).
"""

import argparse
import json
import os
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file


def rms(x, weight, eps):
    """Llama's RMSNorm: statistics in float32, the result in the input's dtype, then scaled."""
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(x.dtype)


class Verifier:
    """transformers' model, its KV cache, and the stream entering each layer (the aux taps)."""

    def __init__(self, path, dtype, taps):
        import transformers
        self.model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=dtype).eval()
        self.layers = self.model.config.num_hidden_layers
        self.taps = taps
        self.cache = None
        self._streams = {}
        for index, layer in enumerate(self.model.model.layers):
            layer.register_forward_pre_hook(self._recorder(index))
        self.model.model.norm.register_forward_pre_hook(self._recorder(self.layers))

    def _recorder(self, index):
        def hook(module, args):
            if index in self.taps:
                self._streams[index] = args[0][0]
        return hook

    def reset(self):
        import transformers
        self.cache = transformers.DynamicCache(config=self.model.config)

    @property
    def length(self):
        return self.cache.get_seq_length()

    def truncate(self, length):
        extra = self.length - length
        if extra > 0:
            self.cache.crop(-extra)

    def forward(self, tokens, last_only=False):
        """Greedy token after each row (the last row only with last_only) and the tapped features."""
        out = self.model(torch.tensor([tokens]), past_key_values=self.cache, use_cache=True,
                         logits_to_keep=1 if last_only else 0)
        greedy = out.logits[0].argmax(-1).tolist()
        features = torch.cat([self._streams[i] for i in self.taps], dim=-1)
        return greedy, features


class Draft:
    """vLLM's EAGLE-3 Llama draft with one decoder layer, run with its own KV cache."""

    def __init__(self, path, verifier, dtype):
        self.config = json.load(open(os.path.join(path, "config.json")))
        layer = self.config["transformer_layer_config"]
        self.w = {k: (v.to(dtype) if v.is_floating_point() else v)
                  for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
        self.heads, self.kv = layer["num_attention_heads"], layer["num_key_value_heads"]
        self.hd = layer.get("head_dim") or layer["hidden_size"] // self.heads
        self.eps = layer["rms_norm_eps"]
        theta = layer.get("rope_theta", 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        self.norm_before_residual = self.config.get("norm_before_residual", True)
        self.embed = verifier.model.model.embed_tokens.weight
        self.lm_head = self.w["lm_head.weight"]
        self.d2t = self.w["d2t"]
        self.keys = self.values = None

    @property
    def length(self):
        return 0 if self.keys is None else self.keys.shape[0]

    def truncate(self, length):
        if self.keys is not None:
            self.keys, self.values = self.keys[:length], self.values[:length]

    def rope(self, x, positions):
        freqs = positions.float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None, :].to(x.dtype), emb.sin()[:, None, :].to(x.dtype)
        half = self.hd // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * sin

    def attention(self, x):
        w, n, start = self.w, x.shape[0], self.length
        positions = torch.arange(start, start + n)
        q = self.rope(F.linear(x, w["layers.0.self_attn.q_proj.weight"]).view(n, self.heads, self.hd), positions)
        k = self.rope(F.linear(x, w["layers.0.self_attn.k_proj.weight"]).view(n, self.kv, self.hd), positions)
        v = F.linear(x, w["layers.0.self_attn.v_proj.weight"]).view(n, self.kv, self.hd)
        self.keys = k if self.keys is None else torch.cat([self.keys, k])
        self.values = v if self.values is None else torch.cat([self.values, v])
        group = self.heads // self.kv
        keys = self.keys.repeat_interleave(group, dim=1).transpose(0, 1)
        values = self.values.repeat_interleave(group, dim=1).transpose(0, 1)
        mask = torch.arange(start + n)[None, :] <= positions[:, None]
        out = F.scaled_dot_product_attention(q.transpose(0, 1), keys, values, attn_mask=mask)
        return F.linear(out.transpose(0, 1).reshape(n, self.heads * self.hd), w["layers.0.self_attn.o_proj.weight"])

    def combine(self, features):
        return F.linear(features, self.w["fc.weight"])

    def forward(self, tokens, hidden):
        """One pass over new rows: the greedy verifier-vocabulary token of the last row, and the
        stream (before the final norm) each row carries to the next step."""
        w = self.w
        embeds = self.embed[torch.tensor(tokens)]
        e = rms(embeds, w["layers.0.input_layernorm.weight"], self.eps)
        hn = rms(hidden, w["layers.0.hidden_norm.weight"], self.eps)
        stream = (hn if self.norm_before_residual else hidden) + self.attention(torch.cat([e, hn], dim=-1))
        x = rms(stream, w["layers.0.post_attention_layernorm.weight"], self.eps)
        gated = F.silu(F.linear(x, w["layers.0.mlp.gate_proj.weight"])) * F.linear(x, w["layers.0.mlp.up_proj.weight"])
        stream = stream + F.linear(gated, w["layers.0.mlp.down_proj.weight"])
        logits = F.linear(rms(stream[-1:], w["norm.weight"], self.eps), self.lm_head)
        best = int(torch.argmax(logits[0]))
        return best + int(self.d2t[best]), stream


def decode(verifier, draft, prompt, k, max_tokens, totals):
    clock = [time.monotonic()]

    def lap():
        now = time.monotonic()
        elapsed, clock[0] = now - clock[0], now
        return elapsed

    verifier.reset()
    draft.truncate(0)
    greedy, features = verifier.forward(prompt, last_only=True)
    totals["timing"]["prefill_tokens"] += len(prompt)
    totals["timing"]["prefill_seconds"] += lap()
    output = [greedy[-1]]
    confirmed_tokens, confirmed_features = prompt[1:] + [greedy[-1]], features
    position = len(prompt)
    while len(output) < max_tokens:
        draft.truncate(position - len(confirmed_tokens))
        token, carried = draft.forward(confirmed_tokens, draft.combine(confirmed_features))
        proposals, state = [token], carried[-1:]
        for _ in range(1, k):
            token, state = draft.forward([token], state)
            proposals.append(token)
        totals["timing"]["draft_steps"] += k
        totals["timing"]["draft_seconds"] += lap()
        targets, features = verifier.forward([output[-1]] + proposals)
        totals["timing"]["verify_steps"] += 1
        totals["timing"]["verify_seconds"] += lap()
        accepted = 0
        while accepted < k and proposals[accepted] == targets[accepted]:
            accepted += 1
        totals["draft_tokens"] += k
        totals["accepted_tokens"] += accepted
        output += proposals[:accepted] + [targets[accepted]]
        verifier.truncate(position + accepted + 1)
        confirmed_tokens = proposals[:accepted] + [targets[accepted]]
        confirmed_features = features[:accepted + 1]
        position += accepted + 1
    totals["outputs"].append(output[:max_tokens])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--verifier", required=True)
    parser.add_argument("--draft", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    prompts = [json.loads(line) for line in open(args.prompts) if line.strip()]
    config = json.load(open(os.path.join(args.draft, "config.json")))
    taps = sorted(set(config["eagle_aux_hidden_state_layer_ids"]))
    totals = {"draft_tokens": 0, "accepted_tokens": 0, "outputs": [],
              "timing": {"prefill_tokens": 0, "prefill_seconds": 0.0, "verify_steps": 0, "verify_seconds": 0.0,
                         "draft_steps": 0, "draft_seconds": 0.0}}
    with torch.inference_mode():
        verifier = Verifier(args.verifier, dtype, taps)
        draft = Draft(args.draft, verifier, dtype)
        for prompt in prompts:
            decode(verifier, draft, prompt, args.k, args.max_tokens, totals)
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
