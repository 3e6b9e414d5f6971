#!/usr/bin/env bash
# Builds the release artefacts for the current platform into dist/ (or $DIST_DIR):
#
#   speculators                                            the self-contained binary (stripped)
#   speculators-<version>-linux-<arch>.tar.gz              the binary + README.md in one folder
#   speculators_native-<version>-py3-none-manylinux_2_<N>_<arch>.whl
#                                                          a pip wheel installing the command
#                                                          `speculators` (distribution name
#                                                          `speculators-native`)
#
# then checks them: the binary is self-contained (scripts/check_portable.sh, which also gives
# the glibc floor N of the wheel's platform tag), and the wheel installs with pip into a fresh
# venv (no network) from which `speculators --version` and the conversion and verification of
# the example draft (the same as scripts/demo.sh) run. The binary is the one scripts/setup.sh
# builds (scripts/build_release.sh), so CI builds it once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dist="${DIST_DIR:-dist}"
mkdir -p "$dist"
# The shipped binary is the release build without its symbol tables and debug sections.
bin="$dist/speculators"
strip --strip-all -o "$bin" .build/release/speculators
version="$("$bin" --version | sed -n 's/^speculators version: //p')"
[ -n "$version" ] || { echo "package: cannot read the version from $bin --version" >&2; exit 1; }
arch="$(uname -m)"
floor="$(bash scripts/check_portable.sh "$bin")"
platform_tag="manylinux_${floor//./_}_${arch}"

folder="speculators-$version-linux-$arch"
stage="$(mktemp -d)"
scratch="$(mktemp -d)"
trap 'rm -rf "$stage" "$scratch"' EXIT
mkdir "$stage/$folder"
cp "$bin" "$stage/$folder/speculators"
cp README.md "$stage/$folder/README.md"
# Reproducible: sorted names, no owners, fixed times, no gzip timestamp.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - "$folder" \
  | gzip -n -9 >"$dist/$folder.tar.gz"
wheel="$(python3 scripts/make_wheel.py --binary "$bin" --version "$version" \
  --platform-tag "$platform_tag" --out-dir "$dist" --readme README.md)"

# The wheel, installed as a user would, in a fresh venv without network access.
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q --no-index --no-deps --disable-pip-version-check "$wheel"
in_venv() { env -i HOME="$HOME" PATH="$scratch/venv/bin:/usr/bin:/bin" "$@"; }
[ "$(in_venv sh -c 'command -v speculators')" = "$scratch/venv/bin/speculators" ]
in_venv speculators --version
in_venv speculators convert Fixtures/eagle3-bin --algorithm eagle3 --verifier Fixtures/verifier \
  --output-path "$scratch/converted" >/dev/null
# verify exits 1 when it reports findings (the example's may change with the checks): only a
# usage or input error (2) or a crash fails the package.
status=0
in_venv speculators verify "$scratch/converted" --verifier Fixtures/verifier --manifest --content \
  >/dev/null || status=$?
[ "$status" -le 1 ] || { echo "package: verify from the venv exited $status" >&2; exit 1; }
echo "package: the wheel installs into a fresh venv; speculators --version, convert and verify run"

for artefact in "$bin" "$dist/$folder.tar.gz" "$wheel"; do
  printf 'package: %s (%s bytes)\n' "$artefact" "$(stat -c %s "$artefact")"
done
