#!/usr/bin/env bash
# Writes Fixtures/probe: tiny bf16 verifiers (Llama with llama3 RoPE scaling, Qwen2, Qwen3), drafts
# for them (EAGLE-3 converted and before conversion, multi-layer, EAGLE-1, three conversion faults),
# prompts, and the PyTorch reference's counts for each case (Tests/Support/probe_reference.py,
# verifier through transformers). ProbeTests compare `speculators probe` against these.
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(bash scripts/venv.sh hf)/bin/python"
reference=Tests/Support/probe_reference.py
root=Fixtures/probe
rm -rf "$root"
mkdir -p "$root/verifiers" "$root/drafts" "$root/expected"
printf '%s\n' '[1, 2, 3, 4, 5, 6, 7, 8]' '[10, 20, 30, 40]' '[100, 7, 9, 200, 3, 3]' '[250, 0, 17]' >"$root/prompts.jsonl"
for family in llama qwen2 qwen3; do
  "$python" "$reference" verifier "$root/verifiers/$family" --family "$family"
done
# case  verifier  draft options
cases=(
  "llama-eagle3 llama"
  "llama-eagle3-source llama --source"
  "llama-eagle3-2layer llama --draft-layers 2"
  "qwen2-eagle3 qwen2"
  "qwen3-eagle3 qwen3"
  "llama-eagle llama --algorithm eagle"
  "fault-norm-before-residual llama --fault norm_before_residual"
  "fault-aux-layers llama --fault aux"
  "fault-embedding llama --fault embedding"
)
for line in "${cases[@]}"; do
  read -r name family options <<<"$line"
  # shellcheck disable=SC2086
  "$python" "$reference" draft "$root/drafts/$name" --verifier "$root/verifiers/$family" $options
  "$python" "$reference" run --verifier "$root/verifiers/$family" --draft "$root/drafts/$name" \
    --prompts "$root/prompts.jsonl" --k 3 --max-tokens 16 2>/dev/null >"$root/expected/$name.json"
  echo "probe fixture: $name $(cut -c1-80 "$root/expected/$name.json")"
done
