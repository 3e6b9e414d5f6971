"""The probe case of bench/bench.py: `speculators probe` against PyTorch (transformers) on the CPU.

Both run the same greedy speculative verification (bench/probe_peer.py) of the 8B-shaped
2-layer verifier and its EAGLE-3 draft (bench/make_inputs.py) for the same prompts, K and tokens.
Beside whole-process wall time and peak RSS (ratios peer/ours), each side's own per-phase timing
(the probe's --json `timing`, the peer's equivalent) gives:

- decode: seconds per verification step against the memory-bandwidth roofline, the weight
  bytes one step reads divided by the machine's copy bandwidth;
- prefill: FLOP/s against OpenBLAS's single-precision GEMM rate at the prefill's shape;

both machine rates measured in the same run by bench/machine_rates.c, built here against the
OpenBLAS the probe links. Peak RSS is checked against 1.2 x the verifier's weight bytes + 512 MiB,
also with four times the prompts.
"""

import json
import os
import statistics
import subprocess

MB = 1 << 20


def parsed(row):
    """The JSON documents the counted runs of a measured command printed."""
    reports = []
    for output in row["outputs"]:
        try:
            reports.append(json.loads(output))
        except (TypeError, ValueError):
            pass
    return reports


def weight_bytes(directory):
    """Bytes of tensor data in a safetensors checkpoint (its files less their headers)."""
    import struct
    total = 0
    for name in sorted(os.listdir(directory)):
        if name.endswith(".safetensors"):
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                header = struct.unpack("<Q", handle.read(8))[0]
            total += os.path.getsize(path) - 8 - header
    return total


def machine_rates(work, rows):
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "machine_rates.c")
    binary = os.path.join(work, "machine_rates")
    subprocess.run(["cc", "-O2", "-pthread", source, "-lopenblas", "-o", binary], check=True)
    return json.loads(subprocess.run([binary, str(rows)], check=True, capture_output=True, text=True).stdout)


def prefill_flops(config, prompt_lengths):
    """Multiply-adds x 2 of the prefill: every layer's projections for every prompt row, the
    attention's scores and weighted sums over the causal triangle, lm_head for the last row."""
    h, inter = config["hidden_size"], config["intermediate_size"]
    heads, kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = config.get("head_dim") or h // heads
    layers, vocab = config["num_hidden_layers"], config["vocab_size"]
    per_row = layers * (2 * h * heads * hd + 2 * h * kv * hd + 3 * h * inter) * 2
    total = 0
    for n in prompt_lengths:
        total += per_row * n + layers * 2 * 2 * heads * hd * n * (n + 1) / 2 + 2 * h * vocab
    return total


def median_timing(reports, key):
    values = [report["timing"][key] for report in reports if "timing" in report]
    return statistics.median(values) if values else float("nan")


def run(work, ours, hf_python, reps, measure, run_once, max_tokens=16, k=3):
    """Prints the probe case; `measure` and `run_once` are bench.py's."""
    verifier = os.path.join(work, "verifier")
    draft = os.path.join(work, "probe-draft")
    prompts_file = os.path.join(work, "probe-prompts.jsonl")
    prompts = [json.loads(line) for line in open(prompts_file) if line.strip()]
    config = json.load(open(os.path.join(verifier, "config.json")))
    rates = machine_rates(work, max(len(p) for p in prompts))
    copy, gemm = rates["copy_bytes_per_second"], rates["gemm_flops_per_second"]
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_peer.py")
    common = ["--prompt-ids", prompts_file, "--max-tokens", str(max_tokens), "--num-speculative-tokens", str(k)]
    peer_common = ["--verifier", verifier, "--draft", draft, "--prompts", prompts_file, "--k", str(k),
                   "--max-tokens", str(max_tokens)]
    commands = [
        ("speculators probe (Swift; sgemm prefill, fused decode)",
         [ours, "probe", draft, "--verifier", verifier, "--json", "--no-diagnosis"] + common, None),
        ("PyTorch + transformers, bf16", [hf_python, peer] + peer_common + ["--dtype", "bfloat16"], None),
        ("PyTorch + transformers, float32", [hf_python, peer] + peer_common + ["--dtype", "float32"], None),
    ]
    print(f"\n## probe: {len(prompts)} prompts of {len(prompts[0])} tokens, {max_tokens} tokens each, K={k}")
    print(f"machine: {rates['cores']} cores, copy bandwidth {copy / 1e9:.2f} GB/s (read + written), "
          f"OpenBLAS ({rates['blas_core']}) sgemm {gemm / 1e9:.1f} GFLOP/s at {rates['gemm_rows']}x14336x4096 "
          f"({rates['gemm_square_flops_per_second'] / 1e9:.1f} at 2048^3)")
    rows = measure(commands, reps, capture=True)
    for row in rows:
        row["reports"] = parsed(row)
    ours_row = rows[0]
    print(f"{'command':<44} {'median s':>9} {'min':>7} {'max':>7} {'peak RSS':>9} {'exit':>5} {'peer/ours':>10}")
    for row in rows:
        ratio = f"{row['wall'] / ours_row['wall']:.2f}x" if row is not ours_row else ""
        print(f"{row['label']:<44} {row['wall']:>9.2f} {row['min']:>7.2f} {row['max']:>7.2f} "
              f"{row['rss'] / MB:>6.0f}MiB {','.join(map(str, row['status'])):>5} {ratio:>10}")

    step_bytes = ours_row["reports"][0]["timing"]["verifier_step_bytes"] if ours_row["reports"] else 0
    draft_bytes = ours_row["reports"][0]["timing"]["draft_step_bytes"] if ours_row["reports"] else 0
    flops = prefill_flops(config, [len(p) for p in prompts])
    print(f"\nper phase (medians of each side's own timing): a verification step reads "
          f"{step_bytes / 1e9:.2f} GB of weights (roofline {step_bytes / copy * 1e3:.0f} ms), a draft step "
          f"{draft_bytes / 1e9:.2f} GB (roofline {draft_bytes / copy * 1e3:.0f} ms); prefill {flops / 1e9:.0f} GFLOP")
    print(f"{'command':<44} {'prefill s':>9} {'GFLOP/s':>8} {'% GEMM':>7} {'verify ms':>9} {'% roof':>7} "
          f"{'draft ms':>8} {'% roof':>7} {'accepted':>9} {'same tokens':>11}")
    reference = ours_row["reports"][0]["outputs"] if ours_row["reports"] else None
    for row in rows:
        if not row["reports"]:
            print(f"{row['label']:<44} (no report)")
            continue
        report = row["reports"][0]
        prefill = median_timing(row["reports"], "prefill_seconds")
        verify = median_timing(row["reports"], "verify_seconds") / max(1, report["timing"]["verify_steps"])
        drafting = median_timing(row["reports"], "draft_seconds") / max(1, report["timing"]["draft_steps"])
        same = "yes" if report["outputs"] == reference else "no"
        print(f"{row['label']:<44} {prefill:>9.2f} {flops / prefill / 1e9:>8.1f} {flops / prefill / gemm:>6.0%} "
              f"{verify * 1e3:>9.0f} {step_bytes / copy / verify:>6.0%} {drafting * 1e3:>8.0f} "
              f"{draft_bytes / copy / drafting:>6.0%} {report['accepted_tokens']:>4}/{report['draft_tokens']:<4} "
              f"{same:>11}")

    # Peak RSS against the bound, with these prompts and with four times as many.
    weights = weight_bytes(verifier)
    bound = 1.2 * weights + 512 * MB
    many = os.path.join(work, "probe-prompts-x4.jsonl")
    with open(many, "w") as out:
        for _ in range(4):
            out.writelines(json.dumps(p) + "\n" for p in prompts)
    _, many_rss, many_status, _, _ = run_once(
        [ours, "probe", draft, "--verifier", verifier, "--json", "--no-diagnosis", "--prompt-ids", many,
         "--max-tokens", str(max_tokens), "--num-speculative-tokens", str(k)])
    print(f"\npeak RSS bound: 1.2 x {weights / 1e9:.2f} GB of verifier weights + 512 MiB = {bound / MB:.0f} MiB; "
          f"probe {ours_row['rss'] / MB:.0f} MiB with {len(prompts)} prompts, {many_rss / MB:.0f} MiB with "
          f"{4 * len(prompts)} (exit {many_status}): "
          f"{'within' if max(ours_row['rss'], many_rss) <= bound else 'OVER'}")

