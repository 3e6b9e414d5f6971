#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (AddressSanitizer, debug: Swift's bounds and overflow
# checks stay on) and runs each for a fixed time on a temporary copy of its seed corpus
# Fuzz/corpus/<target>/. Fails if any target crashes, hangs (per-input timeout), runs out of
# memory, or makes a sanitizer report. Prints executions per second and corpus size per target.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]      (default: 30 s, every target)
#
# Environment:
#   FUZZ_JOBS=N            run N targets at a time (default 1)
#   FUZZ_UPDATE_CORPUS=1   merge inputs that add coverage back into Fuzz/corpus/<target>/
#                          (minimised with -merge=1); CI never sets it
#   FUZZ_ARTIFACTS=DIR     where crash/timeout/oom inputs and logs go (default .build-fuzz/artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-30}
[ "$#" -gt 0 ] && shift
all_targets=(FuzzSafetensorsHeader FuzzZipArchive FuzzPickle FuzzShardIndex FuzzConfigJSON)
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=("${all_targets[@]}")
jobs=${FUZZ_JOBS:-1}
artifacts=${FUZZ_ARTIFACTS:-$root/.build-fuzz/artifacts}
mkdir -p "$artifacts"

dictionary_for() {
  case "$1" in
    FuzzPickle | FuzzZipArchive) echo "$root/Fuzz/dictionaries/pickle.dict" ;;
    *) echo "$root/Fuzz/dictionaries/json.dict" ;;
  esac
}

echo "building ${targets[*]} (libFuzzer + AddressSanitizer)…"
for target in "${targets[@]}"; do
  if ! SPECULATORS_FUZZ=1 swift build --scratch-path .build-fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address --product "$target" >"$artifacts/build-$target.log" 2>&1; then
    grep -E "error" "$artifacts/build-$target.log" >&2 || tail -20 "$artifacts/build-$target.log" >&2
    echo "build of $target failed" >&2
    exit 1
  fi
done
bin_dir=$(SPECULATORS_FUZZ=1 swift build --scratch-path .build-fuzz -c debug --show-bin-path)

# Runs one target; writes its log and a one-line summary into $artifacts.
run_target() {
  local target=$1
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/speculators-fuzz-$target.XXXXXX")
  mkdir -p "$work/corpus"
  cp "$root/Fuzz/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
  local log="$artifacts/$target.log"
  local status=0
  # Swift's crash backtracer would hold a crashing process for up to 30 s; libFuzzer reports
  # crashes itself.
  SWIFT_BACKTRACE=enable=no \
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}" \
    "$bin_dir/$target" "$work/corpus" -dict="$(dictionary_for "$target")" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-" >"$log" 2>&1 || status=$?
  local execs rate units bytes cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$work/corpus" -type f | wc -l)
  bytes=$(cat "$work/corpus/"* 2>/dev/null | wc -c)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ] && [ "$status" -eq 0 ]; then
    SWIFT_BACKTRACE=enable=no "$bin_dir/$target" -merge=1 "$root/Fuzz/corpus/$target" "$work/corpus" \
      >>"$log" 2>&1 || true
  fi
  rm -rf "$work"
  local verdict=ok
  if [ "$status" -ne 0 ] || grep -qE "ERROR: (libFuzzer|AddressSanitizer)|SUMMARY: " "$log"; then
    verdict="FAILED (exit $status; see $log)"
  fi
  printf '%-22s %5ss %10s execs %7s exec/s  corpus %4s files %8s bytes  %-22s %s\n' \
    "$target" "$seconds" "${execs:-?}" "${rate:-?}" "$units" "$bytes" "${cov:-}" "$verdict" \
    >"$artifacts/$target.summary"
}

echo "fuzzing each target for ${seconds}s (${jobs} at a time)…"
running=0
for target in "${targets[@]}"; do
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
for target in "${targets[@]}"; do
  cat "$artifacts/$target.summary"
  grep -q "FAILED" "$artifacts/$target.summary" && failed=1
done
if [ "$failed" -ne 0 ]; then
  for target in "${targets[@]}"; do
    if grep -q "FAILED" "$artifacts/$target.summary"; then
      echo "---- $target" >&2
      grep -E -A30 "ERROR: |Fatal error|SUMMARY: " "$artifacts/$target.log" | head -60 >&2 || true
    fi
  done
  exit 1
fi
