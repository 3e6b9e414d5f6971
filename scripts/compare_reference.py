#!/usr/bin/env python3
"""Compare `speculators convert` (this Swift tool) with the Python references (speculators 0.1.0
and 0.9.0).

For every convertible fixture case it converts `Fixtures/<case>` with our binary, takes the
reference conversion (the committed `Fixtures/reference/<case>/` for 0.1.0 and
`Fixtures/reference-0.9.0/<case>/` for 0.9.0, or a live run with `--run-reference`: the 0.1.0
`speculators convert` CLI, and 0.9.0's `convert_model` in the Python given by `--ref09-python`,
since its CLI's `--algorithm` omits dflash), reads both back with the real Python `safetensors`
package and compares:

- tensor names and shapes;
- values, by value: our tensor widened to float32 must equal the reference's float32 tensor
  rounded to our dtype (exact equality; the reference writes every float as float32 while we
  keep the source dtype, so rounding the reference back is the identity whenever our tensor came
  from a source of that dtype; it is a real rounding only for embeddings we copied from the bf16
  verifier into an fp16 draft, reported as "rounded");
- the config fields of docs/convert.md, "Config".

Known, intended differences (docs/convert.md and later reference fixes) are listed in EXPECTED below
and reported as "expected"; anything else is "UNEXPECTED" and the script exits with status 1.

Run from the repository root after `swift build` (or pass --binary), with a Python that has
safetensors, numpy and torch (the reference's own requirements):

    /work/pyref/bin/python scripts/compare_reference.py
    /work/pyref/bin/python scripts/compare_reference.py --run-reference   # needs speculators==0.1.0
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
    from safetensors import safe_open
except ImportError as error:  # pragma: no cover - environment problem
    sys.exit(f"compare_reference.py needs safetensors and torch: {error}")

# (case, algorithm, reference version)
CASES = [
    ("eagle1-bin", "eagle", "0.1.0"),
    ("eagle-safetensors", "eagle", "0.1.0"),
    ("hass-layernorms", "eagle", "0.1.0"),
    ("eagle3-bin", "eagle3", "0.1.0"),
    ("eagle3-embed", "eagle3", "0.1.0"),
    ("eagle3-2layer", "eagle3", "0.1.0"),
    ("dflash-zlab", "dflash", "0.9.0"),
    ("dflash-fused-qkv", "dflash", "0.9.0"),
    ("eagle3-qwen3", "eagle3", "0.9.0"),
    ("eagle3-fc-norm", "eagle3", "0.9.0"),
    ("eagle3-norm-before-fc", "eagle3", "0.9.0"),
]
REFERENCE_DIRS = {"0.1.0": "reference", "0.9.0": "reference-0.9.0"}

# (case or "*", what, key) -> why. `what` is "config" (a JSON path), "tensor" (a name prefix only
# in ours), "file" (a file only in one output).
EXPECTED = {
    ("*", "config", "speculators_config.proposal_methods[0].speculative_tokens"):
        "3, the reference's value since v0.2.0 (#146); 0.1.0 wrote 5",
    ("*", "config", "torch_dtype"):
        "we keep the source dtype (reference fix v0.2.0 #136); 0.1.0 writes float32",
    ("*", "config", "auto_map"): "not written: readers ignore it (HF custom-code artefact)",
    ("*", "config", "has_no_defaults_at_init"): "not written: leaked transformers class variable",
    ("*", "config", "transformers_version"): "not written: we are not transformers",
    ("*", "file", "eagle.py"): "not written: a copy of the reference's Python module",
    ("*", "file", "eagle3.py"): "not written: a copy of the reference's Python module",
    ("*", "file", "generation_config.json"): "not written: nothing reads it for a draft",
    ("*", "file", "speculators-manifest.json"): "ours only: the audit manifest",
    ("eagle3-embed", "config", "eagle_aux_hidden_state_layer_ids"):
        "v0.2.0+ key: SpecForge eagle_config ids [0,1,2] (output-of-layer) + 1 = [1,2,3]",
    ("eagle3-2layer", "config", "transformer_layer_config.num_hidden_layers"):
        "2: we keep every layer; 0.1.0 forces 1",
    ("eagle3-2layer", "tensor", "layers.1."):
        "we keep layers.1.*; 0.1.0 silently drops them (PR #812, 0 % acceptance)",
    # speculators 0.9.0 (transformers 5) references.
    ("*", "config", "dtype"): "transformers 5 writes `dtype`; we write `torch_dtype` (read by both)",
    ("*", "config", "tie_word_embeddings"): "not written: a PretrainedConfig default, no reader needs it",
    ("*", "config", "speculators_version"): "this tool's version, informational",
    ("*", "file", "config.py"): "not written: a copy of the reference's Python module",
    ("dflash-zlab", "config", "sliding_window_non_causal"):
        "true: z-lab drafts attend non-causally inside the block; 0.9.0 writes false, which vLLM "
        "turns into causal attention in every layer (vLLM PR #56692)",
    ("dflash-fused-qkv", "config", "sliding_window_non_causal"):
        "true: as for dflash-zlab (no sliding-window layers)",
    ("*", "config", "transformer_layer_config.rope_parameters"):
        "transformers 5 re-serialises rope_theta/rope_scaling as rope_parameters; we keep the source keys",
    ("*", "config", "transformer_layer_config.rope_parameters.rope_theta"):
        "transformers 5 re-serialises rope_theta/rope_scaling as rope_parameters; we keep the source keys",
    ("*", "config", "transformer_layer_config.rope_parameters.rope_type"):
        "transformers 5 re-serialises rope_theta/rope_scaling as rope_parameters; we keep the source keys",
    ("dflash-zlab", "config", "transformer_layer_config.rope_theta"): "the source key, kept (see rope_parameters)",
    ("dflash-fused-qkv", "config", "transformer_layer_config.rope_theta"): "the source key, kept",
    ("dflash-zlab", "config", "transformer_layer_config.rope_scaling"): "the source key, kept",
    ("dflash-fused-qkv", "config", "transformer_layer_config.rope_scaling"): "the source key, kept",
    ("*", "config", "transformer_layer_config.pad_token_id"):
        "transformers 5 adds pad_token_id null; the source has none",
    ("dflash-zlab", "config", "transformer_layer_config.torch_dtype"):
        "the source key, kept (transformers 5 renames it dtype)",
    ("dflash-fused-qkv", "config", "transformer_layer_config.torch_dtype"):
        "the source key, kept (transformers 5 renames it dtype)",
    ("dflash-zlab", "config", "transformer_layer_config.dtype"): "see transformer_layer_config.torch_dtype",
    ("dflash-fused-qkv", "config", "transformer_layer_config.dtype"): "see transformer_layer_config.torch_dtype",
    ("eagle3-qwen3", "tensor", "layers.0.self_attn."):
        "we keep q_norm/k_norm (vLLM runs Eagle3Qwen3ForCausalLM); 0.9.0 drops them silently",
    ("eagle3-qwen3", "config", "torch_dtype"):
        "bfloat16: the source says `dtype` (transformers 5 style); 0.9.0 reads only torch_dtype and "
        "writes float32",
    ("eagle3-qwen3", "config", "transformer_layer_config.model_type"):
        "qwen3: the draft's layers are Qwen3 (q_norm/k_norm); 0.9.0 always writes llama",
    ("eagle3-fc-norm", "tensor", "fc_norm."):
        "we keep fc_norm.{j}.weight (vLLM loads them with fc_norm true); 0.9.0 drops them with a warning",
    ("eagle3-fc-norm", "config", "fc_norm"): "0.9.0 copies the flag but drops its tensors; we write both",
}
# speculators 0.9.0's eagle3 output writes every flag and default; we write the flags that hold.
for _case in ("eagle3-qwen3", "eagle3-fc-norm"):
    EXPECTED.update({
        (_case, "tensor", "embed_tokens.weight"):
            "copied from the verifier (0.1.0 does too); 0.9.0 writes none and vLLM then shares the verifier's",
        (_case, "config", "eagle_aux_hidden_state_layer_ids"): "0.9.0 writes null (no ids known); we omit it",
        (_case, "config", "embed_requires_grad"): "a training flag; not written",
        (_case, "config", "fc_norm"): "0.9.0 writes the false default; we write only flags that hold",
        (_case, "config", "norm_before_fc"): "0.9.0 writes the false default; we write only flags that hold",
        (_case, "config", "norm_output"): "0.9.0 writes the false default; we write only flags that hold",
        (_case, "config", "transformer_layer_config.bos_token_id"):
            "0.9.0 writes LlamaConfig's default 1 (not the source's); eagle3 layer configs carry no token ids",
        (_case, "config", "transformer_layer_config.eos_token_id"):
            "0.9.0 writes LlamaConfig's default 2 (not the source's); eagle3 layer configs carry no token ids",
        (_case, "config", "transformer_layer_config.tie_word_embeddings"): "a PretrainedConfig default",
        (_case, "config", "transformer_layer_config.dtype"): "transformers 5 writes dtype; we write it at the top level",
        (_case, "config", "transformer_layer_config.rope_scaling"):
            "we keep rope_scaling/rope_theta; transformers 5 re-serialises them as rope_parameters",
        (_case, "config", "transformer_layer_config.rope_theta"):
            "we keep rope_scaling/rope_theta; transformers 5 re-serialises them as rope_parameters",
    })


def expected(case, what, key):
    keys = [key]
    if what == "config":  # a nested path is covered by its top-level key ("auto_map." → "auto_map")
        keys.append(key.split(".")[0].split("[")[0])
    for candidate_key in keys:
        for candidate in ((case, what, candidate_key), ("*", what, candidate_key)):
            if candidate in EXPECTED:
                return EXPECTED[candidate]
    if what == "tensor":
        for (c, w, prefix), why in EXPECTED.items():
            if w == "tensor" and c in (case, "*") and key.startswith(prefix):
                return why
    return None


def load_tensors(directory):
    """name -> (dtype string, shape, float32-or-integer numpy array) for every tensor."""
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        with safe_open(os.path.join(directory, name), framework="pt") as handle:
            for key in handle.keys():
                tensor = handle.get_tensor(key)
                dtype = str(tensor.dtype).replace("torch.", "")
                array = tensor.float().numpy() if tensor.is_floating_point() else tensor.numpy()
                tensors[key] = (dtype, list(tensor.shape), array)
    return tensors


def round_to(array, dtype):
    """A float32 array rounded to `dtype` (float32/float16/bfloat16) and widened back."""
    return torch.from_numpy(array).to(getattr(torch, dtype)).float().numpy()


def flatten(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def convert_ours(binary, case, algorithm, output):
    command = [binary, "convert", f"Fixtures/{case}", "--algorithm", algorithm, "--verifier",
               "Fixtures/verifier", "--output-path", output, "--json"]
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stderr.strip()


def reference_executable():
    """The reference CLI: next to this Python (a venv) if there, else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "speculators")
    return beside if os.access(beside, os.X_OK) else shutil.which("speculators")


def convert_reference(case, algorithm, output):
    executable = reference_executable()
    if executable is None:
        raise RuntimeError("the reference `speculators` CLI (speculators==0.1.0) is not installed")
    command = [executable, "convert", f"Fixtures/{case}", "--algorithm", algorithm, "--verifier",
               "Fixtures/verifier", "--output-path", output]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"reference convert failed for {case}: {result.stderr[-500:]}")


REF09_CALL = """
import sys
from speculators.convert.entrypoints import convert_model
convert_model(sys.argv[1], sys.argv[2], sys.argv[3], output_path=sys.argv[4])
"""


def convert_reference09(python, case, algorithm, output):
    """speculators 0.9.0's `convert_model` (its CLI's --algorithm omits dflash)."""
    if python is None or not os.access(python, os.X_OK):
        raise RuntimeError("speculators 0.9.0 needs --ref09-python (e.g. $(bash scripts/venv.sh ref09)/bin/python)")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [python, "-c", REF09_CALL, f"Fixtures/{case}", "Fixtures/verifier", algorithm, output]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"reference convert failed for {case}: {result.stderr.strip().splitlines()[-1]}")


def recorded_failure(case, version):
    """The error the committed generator recorded when the reference could not convert `case`."""
    if version != "0.9.0":
        return None
    record = os.path.join("Fixtures", "expected", REFERENCE_DIRS[version], "_generator.json")
    try:
        runs = json.load(open(record))["reference_conversions"]
    except (OSError, KeyError, ValueError):
        return None
    return runs.get(case, {}).get("error")


def compare_case(case, algorithm, ours_dir, reference_dir, notes):
    """Returns (row dict, list of unexpected differences)."""
    unexpected = []
    row = {"case": case}

    # Files.
    ours_files, reference_files = set(os.listdir(ours_dir)), set(os.listdir(reference_dir))
    for name in sorted(ours_files ^ reference_files):
        if name.startswith("model") and name.endswith(".safetensors"):
            unexpected.append(f"file {name} only in one output")
        elif expected(case, "file", name) is None:
            unexpected.append(f"file {name} only in {'ours' if name in ours_files else 'reference'}")

    # Tensors.
    ours, reference = load_tensors(ours_dir), load_tensors(reference_dir)
    only_ours = sorted(set(ours) - set(reference))
    only_reference = sorted(set(reference) - set(ours))
    for name in only_ours:
        why = expected(case, "tensor", name)
        if why is None:
            unexpected.append(f"tensor {name} only in ours")
        else:
            notes.add((case, f"{len([n for n in only_ours if expected(case, 'tensor', n) == why])} tensors only in ours", why))
    for name in only_reference:
        unexpected.append(f"tensor {name} only in the reference")
    common = sorted(set(ours) & set(reference))
    shape_ok, value_ok, rounded = True, True, []
    dtypes = set()
    for name in common:
        our_dtype, our_shape, our_values = ours[name]
        ref_dtype, ref_shape, ref_values = reference[name]
        dtypes.add(our_dtype)
        if our_shape != ref_shape:
            shape_ok = False
            unexpected.append(f"tensor {name}: shape {our_shape} vs reference {ref_shape}")
            continue
        if our_values.dtype.kind == "f":
            if np.array_equal(our_values, ref_values):
                continue
            if np.array_equal(our_values, round_to(ref_values, our_dtype)):
                rounded.append(name)
                continue
            value_ok = False
            diff = float(np.max(np.abs(our_values - ref_values)))
            unexpected.append(f"tensor {name}: values differ (max |diff| {diff:.3g})")
        else:
            if our_dtype != ref_dtype or not np.array_equal(our_values, ref_values):
                value_ok = False
                unexpected.append(f"tensor {name}: {our_dtype} values differ from the reference's {ref_dtype}")
    for name in rounded:
        notes.add((case, f"{name} equals the reference rounded to {ours[name][0]}",
                   "copied from the bf16 verifier and cast to the draft's dtype; the reference writes float32"))

    # Config.
    our_config = json.load(open(os.path.join(ours_dir, "config.json")))
    ref_config = json.load(open(os.path.join(reference_dir, "config.json")))
    if "model_type" in our_config:
        unexpected.append("config: top-level model_type written")
    flat_ours, flat_ref = flatten(our_config), flatten(ref_config)
    config_differences = 0
    for key in sorted(set(flat_ours) | set(flat_ref)):
        a, b = flat_ours.get(key, "<absent>"), flat_ref.get(key, "<absent>")
        if a == b:
            continue
        config_differences += 1
        why = expected(case, "config", key)
        if why is None:
            unexpected.append(f"config {key}: ours {json.dumps(a)} vs reference {json.dumps(b)}")
        else:
            top = key.split(".")[0].split("[")[0]
            specific = (case, "config", key) in EXPECTED or (case, "config", top) in EXPECTED
            notes.add((case if specific else "*", f"config {top if top in ('auto_map',) else key}", why))

    float_dtypes = sorted(d for d in dtypes if d.startswith(("float", "bfloat")))
    row.update({
        "tensors": f"{len(ours)}/{len(reference)}",
        "names": "same" if not only_ours and not only_reference else
                 f"+{len(only_ours)}/-{len(only_reference)}",
        "shapes": "same" if shape_ok else "DIFF",
        "values": ("equal" if not rounded else f"equal ({len(rounded)} rounded)") if value_ok else "DIFF",
        "dtype": ",".join(float_dtypes) + " vs " + ",".join(sorted(
            d for d in {reference[n][0] for n in common} if d.startswith(("float", "bfloat")))),
        "config": f"{config_differences} diffs",
        "result": "ok" if not unexpected else "UNEXPECTED",
    })
    return row, unexpected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/debug/speculators", help="our speculators executable")
    parser.add_argument("--run-reference", action="store_true",
                        help="run the Python reference instead of using Fixtures/reference/")
    parser.add_argument("--keep", help="keep the outputs in this directory")
    parser.add_argument("--ref09-python", help="a Python with speculators 0.9.0 (for --run-reference)")
    parser.add_argument("--version", choices=sorted(REFERENCE_DIRS), help="only the cases of one reference")
    arguments = parser.parse_args()
    if not os.path.isdir("Fixtures"):
        sys.exit("run from the repository root (Fixtures/ not found)")
    if not os.access(arguments.binary, os.X_OK):
        sys.exit(f"{arguments.binary} is not executable; run `swift build` first or pass --binary")

    work = arguments.keep or tempfile.mkdtemp(prefix="compare-reference-")
    os.makedirs(work, exist_ok=True)
    rows, problems, notes = [], [], set()
    try:
        for case, algorithm, version in CASES:
            if arguments.version and version != arguments.version:
                continue
            ours_dir = os.path.join(work, "ours", case)
            shutil.rmtree(ours_dir, ignore_errors=True)
            os.makedirs(os.path.dirname(ours_dir), exist_ok=True)
            status, stderr = convert_ours(arguments.binary, case, algorithm, ours_dir)
            if status != 0:
                rows.append({"case": case, "ref": version, "result": "UNEXPECTED"})
                problems.append((case, f"our convert exited {status}: {stderr}"))
                continue
            failure = recorded_failure(case, version)
            if arguments.run_reference:
                reference_dir = os.path.join(work, "reference", case)
                shutil.rmtree(reference_dir, ignore_errors=True)
                try:
                    if version == "0.9.0":
                        convert_reference09(arguments.ref09_python, case, algorithm, reference_dir)
                    else:
                        convert_reference(case, algorithm, reference_dir)
                except RuntimeError as error:
                    if failure is not None:
                        rows.append({"case": case, "ref": version, "result": "ok (reference fails)"})
                        notes.add((case, "reference fails", str(error)[-200:]))
                        continue
                    rows.append({"case": case, "ref": version, "result": "UNEXPECTED"})
                    problems.append((case, str(error)))
                    continue
            else:
                reference_dir = os.path.join("Fixtures", REFERENCE_DIRS[version], case)
                if not os.path.isdir(reference_dir) and failure is not None:
                    rows.append({"case": case, "ref": version, "result": "ok (reference fails)"})
                    notes.add((case, f"speculators {version} fails; ours converts",
                               failure.splitlines()[0][:160] + " ... (num_key_value_heads defaults to 8)"))
                    continue
            row, unexpected = compare_case(case, algorithm, ours_dir, reference_dir, notes)
            row["ref"] = version
            rows.append(row)
            problems += [(case, item) for item in unexpected]
    finally:
        if not arguments.keep:
            shutil.rmtree(work, ignore_errors=True)

    columns = ["case", "ref", "tensors", "names", "shapes", "values", "dtype", "config", "result"]
    widths = {c: max(len(c), *(len(str(r.get(c, "-"))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "-")).ljust(widths[c]) for c in columns))
    print("\n(tensors = ours/reference; dtype = ours vs the reference's; config = differing config fields)")
    if notes:
        print("\nExpected differences:")
        for case, what, why in sorted(notes):
            print(f"  [{case}] {what}: {why}")
    if problems:
        print("\nUNEXPECTED differences:")
        for case, item in problems:
            print(f"  [{case}] {item}")
        return 1
    print("\nNo unexpected differences.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
