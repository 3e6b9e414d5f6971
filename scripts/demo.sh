#!/usr/bin/env bash
# The main job on the example shipped in the repo: inspect a small EAGLE-3 draft (a real
# torch.save .bin without embeddings), convert it against its small 2-shard verifier (the
# embedding is copied from the verifier's shard), then verify the result: structure, fit to the
# verifier, vocab maps, content, and every digest in the audit manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=.build/release/speculators
out="${1:-$(mktemp -d)/converted}"
echo "== speculators inspect Fixtures/eagle3-bin"
"$bin" inspect Fixtures/eagle3-bin
echo
echo "== speculators convert Fixtures/eagle3-bin --algorithm eagle3 --verifier Fixtures/verifier --output-path $out"
"$bin" convert Fixtures/eagle3-bin --algorithm eagle3 --verifier Fixtures/verifier --output-path "$out" --force
echo
echo "== speculators verify $out --verifier Fixtures/verifier --manifest --content"
"$bin" verify "$out" --verifier Fixtures/verifier --manifest --content
