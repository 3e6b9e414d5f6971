#!/usr/bin/env bash
# The main job on the example shipped in the repo: inspect a small EAGLE-3 draft (a real
# torch.save .bin without embeddings), convert it against its small 2-shard verifier (the
# embedding is copied from the verifier's shard), then verify the result: structure, fit to the
# verifier, vocab maps, content, and every digest in the audit manifest.
#
# The example weights are random (a freshly initialised draft, small enough to ship), so
# verify's content scan reports them as `content.uninitialised` warnings: expected here, and
# exactly what it would say of a real draft whose weights were never loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building the release binary (scripts/setup.sh)"
bash scripts/setup.sh
bin=.build/release/speculators
out="${1:-$(mktemp -d)/converted}"
echo "== speculators inspect Fixtures/eagle3-bin"
"$bin" inspect Fixtures/eagle3-bin
echo
# --force only when the output given already exists (the default is a fresh directory).
force=()
[ -e "$out" ] && force=(--force)
# The example verifier has 4 layers, where vLLM's default EAGLE-3 taps (2, L//2, L-3) = (2, 2, 1)
# repeat a layer and crash vLLM at the first decode step (convert warns, verify fails): the draft's
# aux layer ids are given explicitly, as a real conversion for such a verifier must.
kwargs='{"eagle_aux_hidden_state_layer_ids": [1, 2, 3]}'
echo "== speculators convert Fixtures/eagle3-bin --algorithm eagle3 --verifier Fixtures/verifier --algorithm-kwargs '$kwargs' --output-path $out ${force[*]:-}"
"$bin" convert Fixtures/eagle3-bin --algorithm eagle3 --verifier Fixtures/verifier \
  --algorithm-kwargs "$kwargs" --output-path "$out" "${force[@]}"
echo
echo "== speculators verify $out --verifier Fixtures/verifier --manifest --content"
echo "   (the example weights are random: content.uninitialised warnings are expected)"
"$bin" verify "$out" --verifier Fixtures/verifier --manifest --content
