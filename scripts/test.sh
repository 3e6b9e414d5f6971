#!/usr/bin/env bash
# Runs the whole test suite (unit and end-to-end); needs scripts/setup.sh to have run once.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests 2>&1 | tail -n 3
swift test --skip-build 2>&1 | tail -n 200
