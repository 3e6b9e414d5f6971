"""Side-by-side: `speculators inspect --json` against Python `safetensors` listing the same
tensors (name, dtype, shape) of a MoE-shaped checkpoint: 96,000 tensors in 48 shards plus
the index, the naming of a Qwen3-MoE / Mixtral checkpoint (128 experts per layer, each with
gate/up/down projections, attention, norms and the router). Tensors are tiny, so the work is
the headers and the index. The input is generated on first use under WORK/moe-headers.

    python bench/inspect_moe.py --binary .build/release/speculators --python VENV/bin/python \\
        [--work DIR] [--reps N]

Run with the `torch` environment's Python (`bash scripts/venv.sh torch`); it needs torch and
safetensors for the input and the peer. Prints medians (and min/max) of N runs after one
warm-up each, commands taken in turn, wall and CPU (user + system) time, and the median of the
run-by-run ratios ours / Python (< 1: we are faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import measure  # noqa: E402

SHARDS = 48
TENSORS = 96_000
EXPERTS = 128

LISTING = (
    "import sys,glob\nfrom safetensors import safe_open\nn=0\n"
    "for f in sorted(glob.glob(sys.argv[1]+'/*.safetensors')):\n"
    " with safe_open(f,'numpy') as h:\n"
    "  for k in h.keys():\n"
    "   s=h.get_slice(k); s.get_dtype(); s.get_shape(); n+=1\n"
    "print(n)\n"
)


def moe_names():
    """Tensor names in checkpoint order, layer by layer, until there are TENSORS of them."""
    names = ["model.embed_tokens.weight"]
    layer = 0
    while len(names) < TENSORS:
        prefix = f"model.layers.{layer}."
        names += [prefix + p for p in ("input_layernorm.weight", "post_attention_layernorm.weight",
                                       "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                       "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                                       "mlp.gate.weight")]
        for expert in range(EXPERTS):
            names += [f"{prefix}mlp.experts.{expert}.{p}_proj.weight" for p in ("gate", "up", "down")]
        layer += 1
    names = names[:TENSORS - 2] + ["model.norm.weight", "lm_head.weight"]
    return names


def make_input(python, path):
    """Writes the shards and the index with the real safetensors writer (once)."""
    if os.path.exists(os.path.join(path, "model.safetensors.index.json")):
        return
    os.makedirs(path, exist_ok=True)
    script = f"""
import json, os, sys, torch
from safetensors.torch import save_file
names = json.load(sys.stdin)
per = len(names) // {SHARDS}
weight_map = {{}}
for s in range({SHARDS}):
    file = f"model-{{s + 1:05d}}-of-{SHARDS:05d}.safetensors"
    chunk = names[s * per:(s + 1) * per] if s < {SHARDS} - 1 else names[s * per:]
    tensors = {{n: torch.zeros(2, 2, dtype=torch.bfloat16) for n in chunk}}
    save_file(tensors, os.path.join(sys.argv[1], file), metadata={{"format": "pt"}})
    weight_map.update({{n: file for n in chunk}})
index = {{"metadata": {{"total_size": len(names) * 8}}, "weight_map": dict(sorted(weight_map.items()))}}
with open(os.path.join(sys.argv[1], "model.safetensors.index.json"), "w") as f:
    json.dump(index, f, indent=2)
with open(os.path.join(sys.argv[1], "config.json"), "w") as f:
    json.dump({{"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
               "hidden_size": 2, "num_experts": {EXPERTS}, "vocab_size": 2}}, f)
"""
    subprocess.run([python, "-c", script, path], input=json.dumps(moe_names()).encode(), check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--python", required=True, help="a Python with torch and safetensors")
    parser.add_argument("--work", default=os.environ.get("BENCH_WORK", "bench/work"))
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    path = os.path.join(args.work, "moe-headers")
    make_input(args.python, path)
    commands = [
        ("speculators inspect --json", [args.binary, "inspect", "--json", path], None),
        ("Python safetensors listing (name, dtype, shape)", [args.python, "-c", LISTING, path], None),
    ]
    rows = measure(commands, args.reps)
    ours, peer = rows
    print(f"inspect of {TENSORS:,} tensors in {SHARDS} shards, {args.reps} runs after a warm-up each")
    for row in rows:
        print(f"  {row['label']:<50} median wall {row['wall']:.3f} s  (min {row['min']:.3f}, max {row['max']:.3f})"
              f"  CPU {row['cpu']:.3f} s  peak RSS {row['rss'] / 1e6:.0f} MB  exit {row['status']}")
    # Each round ran both commands back to back: their ratio is the figure that holds when the
    # machine's speed drifts.
    for figure in ("walls", "cpus"):
        ratios = [a / b for a, b in zip(ours[figure], peer[figure]) if b > 0]
        print(f"  ours / Python, {figure[:-1]} time: median {statistics.median(ratios):.2f}"
              f"  (min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
