#!/usr/bin/env python3
"""Writes Fixtures/interop/: a tiny Llama verifier and draft checkpoints whose correct
conversions vLLM accepts far above chance, so that the interop matrix can tell a good
conversion from a broken one by acceptance alone.

Run with the torch environment:  $(bash scripts/venv.sh torch)/bin/python scripts/interop/make_fixtures.py

How the acceptance is built in (data flow as in vLLM's model_executor/models/llama_eagle3.py,
qwen3_eagle3.py and llama_eagle.py):

* Verifier: embeddings E (rows of RMS 1), decoder layers whose o_proj and down_proj are tiny, so
  the residual stream at every layer stays E[t]. Its lm_head row f(t) is E[t], so the greedy next
  token is a fixed permutation f of the current one. f maps the draft vocabulary D (a seeded
  subset of the target vocabulary) onto itself as one long cycle, and the rest onto itself.
* At position i a draft receives the verifier state for i and the embedding of the token sampled
  after it, u = t[i+1]; it must propose f(u).
* EAGLE-3 (layer 0 of vLLM's Eagle3 models): q/k/v read cat(input_layernorm(E[u]), hidden_norm(h)).
  Only the embedding half has weights: q = k = a*e and v = e per head, so attention is sharp on
  the draft's own position (its score is 8a^2 against about a^2 for any other token) and returns
  e; o_proj is the identity; the MLP is tiny; norm_before_residual is true with a small
  hidden_norm, so the hidden input (fc output or the previous draft state) barely enters the
  residual. The draft lm_head row d is E[f^-1(target(d))], so the draft proposes f(u) within D.
  Qwen3-style drafts get the same through q_norm/k_norm weights.
* EAGLE-3.1 drafts (norm_before_fc with input_norm.weight, fc_norm with fc_norm.{j}.weight) are
  the EAGLE-3 construction with those norms at one: the hidden input barely matters either way.
* DFlash (vLLM's qwen3_dflash.py): the mask positions attend to the anchor (the last accepted
  token) and copy its embedding, so the shared verifier head proposes f(anchor) at every mask
  position; only the first is right, so acceptance is 1/3 with 3 speculative tokens, all of it
  at position 0 (see make_dflash).
* EAGLE-1 (vLLM's llama_eagle.py): fc(cat(E[u], hidden)) with fc = [I | 0], a layer that barely
  changes it, and the verifier's lm_head: the draft proposes f(u).

Every fixture is deterministic (fixed seeds; safetensors headers and torch.save zips are
reproducible). Sizes: hidden 128, 2 heads of head_dim 64 (a shape vLLM's CPU attention accepts),
vocabulary 1024, draft vocabulary 512, verifier of 6 layers (so vLLM's default taps
(2, L//2, L-3) = (2, 3, 3) repeat a layer).
"""

import argparse
import json
import os
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors.torch import save_file

V = 1024          # target vocabulary
VD = 512          # draft vocabulary
H = 128           # hidden size
NH = 2            # attention heads
NKV = 2           # key/value heads
DH = 64           # head_dim
INTER = 64        # MLP width
VERIFIER_LAYERS = 6
EPS = 1e-5
ROPE_THETA = 500000.0
AUX_IDS = [1, 3, 4]   # explicit taps (distinct, inside 0..L-1)
ATTENTION_GAIN = 2.3  # q = k = gain * e: self score 8*gain^2 against ~gain^2 for other tokens
HIDDEN_NORM = 0.01    # residual share of the hidden input when norm_before_residual is true
TINY = 1e-4           # scale of weights that must barely change the residual stream

ROOT = Path(__file__).resolve().parents[2]


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def tiny(shape, gen) -> torch.Tensor:
    return torch.randn(shape, generator=gen) * TINY


def scale(value: float, size: int, gen) -> torch.Tensor:
    """A norm weight of about `value` (with a little noise: an exact constant reads as never
    loaded to `verify --content`)."""
    return value * (1 + torch.randn(size, generator=gen) * 1e-3)


class Task:
    """The fixed token function every fixture is built around."""

    def __init__(self):
        gen = generator(14)
        rows = torch.randn(V, H, generator=gen)
        self.embed = rows / rows.pow(2).mean(dim=1, keepdim=True).sqrt()   # RMS 1 per row
        self.draft_ids = torch.randperm(V, generator=gen)[:VD].sort().values  # D, ascending
        in_draft = torch.zeros(V, dtype=torch.bool)
        in_draft[self.draft_ids] = True
        rest = torch.arange(V)[~in_draft]
        self.next = torch.empty(V, dtype=torch.long)            # f
        for group in (self.draft_ids, rest):
            order = group[torch.randperm(len(group), generator=gen)]
            self.next[order] = torch.roll(order, -1)            # one cycle through the group
        self.previous = torch.empty(V, dtype=torch.long)        # f^-1
        self.previous[self.next] = torch.arange(V)
        self.t2d = in_draft
        self.d2t = (self.draft_ids - torch.arange(VD)).to(torch.long)

    def verifier_lm_head(self) -> torch.Tensor:
        """Row j is E[f^-1(j)]: the logit of f(t) is the largest for a state E[t]."""
        return self.embed[self.previous].clone()

    def draft_lm_head(self) -> torch.Tensor:
        return self.embed[self.previous[self.draft_ids]].clone()

    def prompts(self, count: int, length: int) -> list[list[int]]:
        gen = generator(1414)
        starts = self.draft_ids[torch.randperm(VD, generator=gen)[:count]]
        out = []
        for start in starts.tolist():
            seq = [start]
            # Prompts are arbitrary draft-vocabulary tokens; the continuation is f's orbit.
            extra = self.draft_ids[torch.randint(0, VD, (length - 1,), generator=gen)].tolist()
            out.append(seq + extra)
        return out


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def save_safetensors(path: Path, state: "OrderedDict[str, torch.Tensor]") -> None:
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={"format": "pt"})


def llama_layer(prefix: str, gen, in_features: int = H) -> "OrderedDict[str, torch.Tensor]":
    """A decoder layer that barely changes the residual stream."""
    s = OrderedDict()
    s[f"{prefix}self_attn.q_proj.weight"] = tiny((NH * DH, in_features), gen)
    s[f"{prefix}self_attn.k_proj.weight"] = tiny((NKV * DH, in_features), gen)
    s[f"{prefix}self_attn.v_proj.weight"] = tiny((NKV * DH, in_features), gen)
    s[f"{prefix}self_attn.o_proj.weight"] = tiny((H, NH * DH), gen)
    s[f"{prefix}mlp.gate_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.up_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.down_proj.weight"] = tiny((H, INTER), gen)
    s[f"{prefix}input_layernorm.weight"] = scale(1, H, gen)
    s[f"{prefix}post_attention_layernorm.weight"] = scale(1, H, gen)
    return s


def llama_config(layers: int, **extra) -> dict:
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
        "intermediate_size": INTER, "num_attention_heads": NH, "num_key_value_heads": NKV,
        "head_dim": DH, "num_hidden_layers": layers, "vocab_size": V,
        "max_position_embeddings": 2048, "rms_norm_eps": EPS, "rope_theta": ROPE_THETA,
        "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False,
        "torch_dtype": "bfloat16", "attention_bias": False, "mlp_bias": False,
    }
    config.update(extra)
    return config


def make_verifier(task: Task, out: Path) -> None:
    gen = generator(600)
    s = OrderedDict()
    s["model.embed_tokens.weight"] = task.embed.clone()
    for i in range(VERIFIER_LAYERS):
        s.update(llama_layer(f"model.layers.{i}.", gen))
    s["model.norm.weight"] = scale(1, H, gen)
    s["lm_head.weight"] = task.verifier_lm_head()
    save_safetensors(out / "model.safetensors", OrderedDict((k, v.to(torch.bfloat16)) for k, v in s.items()))
    write_json(out / "config.json", llama_config(VERIFIER_LAYERS, transformers_version="4.53.3"))


def eagle3_first_layer(prefix: str, gen, qwen3: bool) -> "OrderedDict[str, torch.Tensor]":
    """Layer 0 of an EAGLE-3 draft: attention copies the token embedding (see module doc)."""
    zeros = torch.zeros(H, H)
    eye = torch.eye(H)
    gain = 1.0 if qwen3 else ATTENTION_GAIN   # Qwen3: q_norm/k_norm set the scale instead
    s = OrderedDict()
    s[f"{prefix}self_attn.q_proj.weight"] = torch.cat([gain * eye, zeros], dim=1)
    s[f"{prefix}self_attn.k_proj.weight"] = torch.cat([gain * eye, zeros], dim=1)
    s[f"{prefix}self_attn.v_proj.weight"] = torch.cat([eye, zeros], dim=1)
    s[f"{prefix}self_attn.o_proj.weight"] = eye.clone()
    if qwen3:
        s[f"{prefix}self_attn.q_norm.weight"] = scale(ATTENTION_GAIN, DH, gen)
        s[f"{prefix}self_attn.k_norm.weight"] = scale(ATTENTION_GAIN, DH, gen)
    s[f"{prefix}mlp.gate_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.up_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.down_proj.weight"] = tiny((H, INTER), gen)
    s[f"{prefix}hidden_norm.weight"] = scale(HIDDEN_NORM, H, gen)
    s[f"{prefix}input_layernorm.weight"] = scale(1, H, gen)
    s[f"{prefix}post_attention_layernorm.weight"] = scale(1, H, gen)
    return s


def eagle3_state(task: Task, seed: int, layers: int, embed: bool, first_prefix: str,
                 qwen3: bool = False) -> "OrderedDict[str, torch.Tensor]":
    gen = generator(seed)
    s = OrderedDict()
    if embed:
        s["embed_tokens.weight"] = task.embed.clone()
    s.update(eagle3_first_layer(first_prefix, gen, qwen3))
    for i in range(1, layers):
        s.update(llama_layer(f"layers.{i}.", gen))
        if qwen3:
            s[f"layers.{i}.self_attn.q_norm.weight"] = scale(1, DH, gen)
            s[f"layers.{i}.self_attn.k_norm.weight"] = scale(1, DH, gen)
    s["fc.weight"] = torch.randn(H, 3 * H, generator=gen) * 0.05
    s["norm.weight"] = scale(1, H, gen)
    s["lm_head.weight"] = task.draft_lm_head()
    s["d2t"] = task.d2t.clone()
    s["t2d"] = task.t2d.clone()
    return s


def cast(state, dtype):
    return OrderedDict((k, v.to(dtype) if v.is_floating_point() else v) for k, v in state.items())


def eagle3_config(layers: int, architecture: str, model_type: str = "llama", **extra) -> dict:
    config = llama_config(layers, architectures=[architecture], model_type=model_type,
                          draft_vocab_size=VD, norm_before_residual=True)
    config.update(extra)
    return config


def make_eagle3_bin(task: Task, out: Path) -> None:
    """SafeAILab EAGLE-3 (traineagle3): midlayer.*, no embed_tokens, pytorch_model.bin, fp16."""
    state = eagle3_state(task, 301, 1, embed=False, first_prefix="midlayer.")
    torch.save(cast(state, torch.float16), str(out / "pytorch_model.bin"))
    write_json(out / "config.json", eagle3_config(1, "LlamaForCausalLM", torch_dtype="float16"))


def make_eagle3_specforge(task: Task, out: Path) -> None:
    """SpecForge LlamaForCausalLMEagle3: embed_tokens saved, eagle_config carries the taps."""
    state = eagle3_state(task, 302, 1, embed=True, first_prefix="midlayer.")
    save_safetensors(out / "model.safetensors", cast(state, torch.bfloat16))
    write_json(out / "config.json", eagle3_config(
        1, "LlamaForCausalLMEagle3",
        eagle_config={"eagle_aux_hidden_state_layer_ids": AUX_IDS, "use_aux_hidden_state": True}))


def make_eagle3_2layer(task: Task, out: Path) -> None:
    """EAGLE-3 with layers.N naming and two decoder layers (the second barely acts)."""
    state = eagle3_state(task, 303, 2, embed=True, first_prefix="layers.0.")
    save_safetensors(out / "model.safetensors", cast(state, torch.bfloat16))
    write_json(out / "config.json", eagle3_config(
        2, "LlamaForCausalLMEagle3",
        eagle_config={"eagle_aux_hidden_state_layer_ids": AUX_IDS, "use_aux_hidden_state": True}))


def make_eagle3_qwen3(task: Task, out: Path) -> None:
    """Qwen3-style EAGLE-3 (SpecForge Qwen3 drafts): model_type qwen3, q_norm/k_norm."""
    state = eagle3_state(task, 304, 1, embed=True, first_prefix="midlayer.", qwen3=True)
    save_safetensors(out / "model.safetensors", cast(state, torch.bfloat16))
    write_json(out / "config.json", eagle3_config(
        1, "Qwen3ForCausalLMEagle3", model_type="qwen3",
        eagle_config={"eagle_aux_hidden_state_layer_ids": AUX_IDS, "use_aux_hidden_state": True}))


def make_eagle31_norm_before_fc(task: Task, out: Path) -> None:
    """EAGLE-3.1 norm_before_fc: input_norm.weight [3H] over the aux states, norm_output."""
    state = eagle3_state(task, 305, 1, embed=True, first_prefix="layers.0.")
    state["input_norm.weight"] = torch.ones(3 * H)
    save_safetensors(out / "model.safetensors", cast(state, torch.bfloat16))
    write_json(out / "config.json", eagle3_config(
        1, "LlamaForCausalLMEagle3", norm_before_fc=True, norm_output=True,
        eagle_config={"eagle_aux_hidden_state_layer_ids": AUX_IDS, "use_aux_hidden_state": True}))


def make_eagle31_fc_norm(task: Task, out: Path) -> None:
    """EAGLE-3.1 fc_norm: one fc_norm.{j}.weight [H] per aux state."""
    state = eagle3_state(task, 306, 1, embed=True, first_prefix="layers.0.")
    for j in range(len(AUX_IDS)):
        state[f"fc_norm.{j}.weight"] = torch.ones(H)
    save_safetensors(out / "model.safetensors", cast(state, torch.bfloat16))
    write_json(out / "config.json", eagle3_config(
        1, "LlamaForCausalLMEagle3", fc_norm=True,
        eagle_config={"eagle_aux_hidden_state_layer_ids": AUX_IDS, "use_aux_hidden_state": True}))


DFLASH_BLOCK = 4            # block_size: the anchor plus 3 mask positions
DFLASH_GATE = 3.0           # q_norm / k_norm weight: the anchor's score beats the rest by ~60
DFLASH_ROPE_THETA = 1.0e8   # the key/query "flag" dimension sits on rope's slowest pair
DFLASH_OUTPUT_GAIN = 20.0   # o_proj: the attended embedding outweighs the mask's own


def dflash_mask_token(task: Task) -> int:
    """A token outside the draft vocabulary D (never in a prompt or an orbit of D)."""
    return int(torch.arange(V)[~task.t2d][0])


def make_dflash(task: Task, out: Path) -> None:
    """A z-lab DFlash draft (Qwen3 layer, no embedding, no head) whose mask positions copy the
    anchor's embedding, so vLLM's shared lm_head proposes f(anchor) at every position: the first
    draft token is right and the others are not (acceptance near 1/3 with 3 speculative tokens).

    One Qwen3 layer with attention biases; per head (2 heads of 64): the key is
    k_norm(b·e_f + P x), with e_f the flag dimension (index 31, rope's slowest pair) and P the
    head's half of x with the mask token's direction removed; the query is q_norm(-e_f) from the
    bias alone. Context states are zero (hidden_norm 0), so context keys and mask keys are pure
    e_f and score -8·g², while the anchor's key is mostly P·E[u] and scores about -g²: softmax
    puts the weight on the anchor, v is the identity, o_proj amplifies it past the residual.
    """
    gen = generator(307)
    mask = dflash_mask_token(task)
    direction = task.embed[mask] / task.embed[mask].norm()
    remove_mask = torch.eye(H) - torch.outer(direction, direction)
    flag = 31
    s = OrderedDict()
    q = torch.zeros(NH * DH, H)
    k = torch.zeros(NKV * DH, H)
    q_bias = torch.zeros(NH * DH)
    k_bias = torch.zeros(NKV * DH)
    for head in range(NH):
        for d in range(DH):
            if d not in (flag, flag + DH // 2):   # rope (neox) pairs dimension d with d + DH/2
                k[head * DH + d] = remove_mask[head * DH + d]
        q_bias[head * DH + flag] = -1.0
        k_bias[head * DH + flag] = 1.0
    prefix = "layers.0."
    s[f"{prefix}self_attn.q_proj.weight"] = q
    s[f"{prefix}self_attn.q_proj.bias"] = q_bias
    s[f"{prefix}self_attn.k_proj.weight"] = k
    s[f"{prefix}self_attn.k_proj.bias"] = k_bias
    s[f"{prefix}self_attn.v_proj.weight"] = torch.eye(H)
    s[f"{prefix}self_attn.v_proj.bias"] = torch.zeros(H)
    s[f"{prefix}self_attn.o_proj.weight"] = DFLASH_OUTPUT_GAIN * torch.eye(H)
    s[f"{prefix}self_attn.o_proj.bias"] = torch.zeros(H)   # vLLM's DFlash o_proj has one with attention_bias
    s[f"{prefix}self_attn.q_norm.weight"] = torch.full((DH,), DFLASH_GATE)
    s[f"{prefix}self_attn.k_norm.weight"] = torch.full((DH,), DFLASH_GATE)
    s[f"{prefix}mlp.gate_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.up_proj.weight"] = tiny((INTER, H), gen)
    s[f"{prefix}mlp.down_proj.weight"] = tiny((H, INTER), gen)
    s[f"{prefix}input_layernorm.weight"] = torch.ones(H)
    s[f"{prefix}post_attention_layernorm.weight"] = torch.ones(H)
    s["fc.weight"] = torch.randn(H, len(AUX_IDS) * H, generator=gen) * 0.02
    s["hidden_norm.weight"] = torch.zeros(H)
    s["norm.weight"] = torch.ones(H)
    save_safetensors(out / "model.safetensors", cast(s, torch.bfloat16))
    config = llama_config(1, architectures=["DFlashDraftModel"], model_type="qwen3", attention_bias=True,
                          rope_theta=DFLASH_ROPE_THETA, layer_types=["full_attention"])
    config.update({
        "auto_map": {"AutoModel": "dflash.DFlashDraftModel"}, "block_size": DFLASH_BLOCK,
        "dflash_config": {"mask_token_id": mask, "target_layer_ids": [i - 1 for i in AUX_IDS]},
        "num_target_layers": VERIFIER_LAYERS,
    })
    write_json(out / "config.json", config)


def eagle1_state(task: Task, seed: int, fc_bias: bool, layernorms: bool):
    """SafeAILab EAGLE-1 cnets1.Model (HASS uses the same); layer 0 has no input_layernorm."""
    gen = generator(seed)
    s = OrderedDict()
    s["embed_tokens.weight"] = task.embed.clone()
    layer = llama_layer("layers.0.", gen)
    del layer["layers.0.input_layernorm.weight"]
    s.update(layer)
    s["fc.weight"] = torch.cat([torch.eye(H), torch.zeros(H, H)], dim=1)
    if fc_bias:
        s["fc.bias"] = tiny((H,), gen)
    if layernorms:
        s["embed_layernorm.weight"] = scale(1, H, gen)
        s["hidden_layernorm.weight"] = scale(1, H, gen)
        s["lm_head_layernorm.weight"] = scale(1, H, gen)
    return s


def make_eagle1(task: Task, out: Path) -> None:
    torch.save(cast(eagle1_state(task, 101, False, False), torch.float16), str(out / "pytorch_model.bin"))
    write_json(out / "config.json", llama_config(1, torch_dtype="float16", bias=False))


def make_hass_bias(task: Task, out: Path) -> None:
    torch.save(cast(eagle1_state(task, 102, True, False), torch.bfloat16), str(out / "pytorch_model.bin"))
    write_json(out / "config.json", llama_config(1, torch_dtype="bfloat16", bias=True))


def make_hass_layernorms(task: Task, out: Path) -> None:
    torch.save(cast(eagle1_state(task, 103, False, True), torch.bfloat16), str(out / "pytorch_model.bin"))
    write_json(out / "config.json", llama_config(1))


CASES = OrderedDict([
    ("verifier", make_verifier),
    ("eagle3-bin", make_eagle3_bin),
    ("eagle3-specforge", make_eagle3_specforge),
    ("eagle3-2layer", make_eagle3_2layer),
    ("eagle3-qwen3", make_eagle3_qwen3),
    ("eagle31-norm-before-fc", make_eagle31_norm_before_fc),
    ("eagle31-fc-norm", make_eagle31_fc_norm),
    ("dflash", make_dflash),
    ("eagle1", make_eagle1),
    ("hass-bias", make_hass_bias),
    ("hass-layernorms", make_hass_layernorms),
])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "Fixtures" / "interop")
    args = parser.parse_args()
    task = Task()
    for name, make in CASES.items():
        out = args.out / name
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            old.unlink()
        make(task, out)
    write_json(args.out / "task.json", {
        "prompts": task.prompts(4, 12),
        "next_token": task.next.tolist(),
        "aux_ids": AUX_IDS,
        "verifier_layers": VERIFIER_LAYERS,
    })


if __name__ == "__main__":
    main()
