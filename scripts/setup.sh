#!/usr/bin/env bash
# Installs the system packages the build needs (only those missing), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for package in libssl-dev libxxhash-dev libopenblas-dev pkg-config xxhash; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product speculators 2>&1 | tail -n 3
