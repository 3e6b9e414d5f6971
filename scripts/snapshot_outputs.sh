#!/usr/bin/env bash
# Runs a built `speculators` binary over every fixture and records what it prints and writes:
# inspect/hash/verify/diff (JSON and text), each convertible fixture's conversion (every file
# byte for byte) and the hostile corpora's one-line errors. Two snapshots of the same tree must
# be identical; compare a refactor with `diff -r BEFORE AFTER`.
#
#   scripts/snapshot_outputs.sh [BINARY] [OUT]   (defaults: .build/debug/speculators, /tmp/snapshot)
#   SNAPSHOT_WORK=DIR chooses where conversions are written (default /tmp/speculators-snapshot-work).
set -uo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-.build/debug/speculators}")"
out="${2:-/tmp/snapshot}"
rm -rf "$out"; mkdir -p "$out"
export NO_COLOR=1

# Runs one command; stdout, stderr and the exit status go to $out/<name>.{out,err,rc}.
record() {
  local name="$1"; shift
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"
}

cases=()
for dir in Fixtures/*/; do
  name="$(basename "$dir")"
  case "$name" in expected|reference|hostile|torch) continue ;; esac
  # Only checkpoint directories (collections of cases such as interop/ hold none at the top).
  ls "$dir" | grep -qE '^config\.json$|\.(safetensors|bin)$' || continue
  cases+=("$name")
done

for name in "${cases[@]}"; do
  record "inspect-$name.json" inspect "Fixtures/$name" --json
  record "inspect-$name.txt" inspect "Fixtures/$name"
  record "hash-$name.json" hash "Fixtures/$name" --json
  record "hash-$name.txt" hash "Fixtures/$name"
  record "verify-$name.json" verify "Fixtures/$name" --verifier Fixtures/verifier --content --json
  record "verify-$name.txt" verify "Fixtures/$name" --verifier Fixtures/verifier --content
done

convertible=(eagle1-bin:eagle eagle-safetensors:eagle hass-layernorms:eagle hass-bias:eagle
  eagle3-bin:eagle3 eagle3-embed:eagle3 eagle3-2layer:eagle3 eagle3-prefixed:eagle3)
# A fixed work directory: the manifest records the output path, so it must not vary.
work="${SNAPSHOT_WORK:-/tmp/speculators-snapshot-work}"
rm -rf "$work"; mkdir -p "$work"
for pair in "${convertible[@]}"; do
  name="${pair%%:*}"; algorithm="${pair##*:}"
  converted="$work/$name"
  record "convert-$name.json" convert "Fixtures/$name" --algorithm "$algorithm" \
    --verifier Fixtures/verifier --output-path "$converted" --json
  record "convert-$name-bf16.txt" convert "Fixtures/$name" --algorithm auto \
    --verifier Fixtures/verifier --output-path "$converted-bf16" --dtype bfloat16
  for variant in "$converted" "$converted-bf16"; do
    [ -d "$variant" ] || continue
    mkdir -p "$out/files-$(basename "$variant")"
    cp -r "$variant"/. "$out/files-$(basename "$variant")/"
  done
  if [ -d "$converted" ]; then
    record "verify-converted-$name.json" verify "$converted" --verifier Fixtures/verifier \
      --manifest --content --json
    record "verify-converted-$name.txt" verify "$converted" --verifier Fixtures/verifier \
      --manifest --content
    if [ -d "Fixtures/reference/$name" ]; then
      record "diff-ref-$name.json" diff "$converted" "Fixtures/reference/$name" --json
      record "diff-ref-$name-values.json" diff "$converted" "Fixtures/reference/$name" --values --json
      record "diff-ref-$name.txt" diff "$converted" "Fixtures/reference/$name"
    fi
    record "diff-src-$name.json" diff "Fixtures/$name" "$converted" --json
    record "diff-src-$name-bf16.json" diff "Fixtures/$name" "$converted-bf16" --values --json
    record "diff-manifest-$name.json" diff "$converted/speculators-manifest.json" "$converted" --json
  fi
done
rm -rf "$work"

for file in Fixtures/hostile/*/*; do
  case "$file" in *.md|*.json|*.py) continue ;; esac
  record "hostile-$(basename "$(dirname "$file")")-$(basename "$file")" inspect "$file" --json
done
record "verify-catalogue.txt" verify --list-checks
echo "snapshot: $(ls "$out" | wc -l) entries in $out"
