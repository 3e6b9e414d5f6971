#!/usr/bin/env bash
# Installs the system packages the build needs (only those missing), then builds the
# self-contained release binary (scripts/build_release.sh) into .build/release/speculators.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
packages=(libssl-dev libxxhash-dev libopenblas-dev pkg-config xxhash)
if grep -q 'pkgConfig: *"openblas"' Package.swift; then
  # The release build links OpenBLAS statically; its archive needs libgfortran's archive, from
  # the GCC release whose libstdc++ the toolchain links.
  gcc_major="$(basename "$(dirname "$(clang -print-file-name=libstdc++.a)")")"
  packages+=("libgfortran-$gcc_major-dev")
fi
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash scripts/build_release.sh
