#!/usr/bin/env bash
# The vLLM interop matrix (or, with --smoke, its CI gate): sets up the pinned vLLM CPU build in
# its private environment (scripts/venv.sh vllm), builds the speculators binary if it is missing,
# and runs scripts/interop/matrix.py with the given options. See docs/vllm.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="$(bash scripts/venv.sh vllm)/bin/python"
binary="${SPECULATORS_BIN:-.build/debug/speculators}"
if [ ! -x "$binary" ]; then
  swift build --product speculators >&2
fi
exec "$python" scripts/interop/matrix.py --speculators "$binary" "$@"
