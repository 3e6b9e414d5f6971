#!/usr/bin/env bash
# Runs the release tarball's binary on a machine with no Swift: a minimal Debian (debootstrap
# --variant=minbase, no Swift, no libssl, no OpenBLAS, no Python) made once in a folder, entered
# with chroot. Inside, the tarball's `speculators` runs --version, inspects, converts and
# verifies the example draft (the same as scripts/demo.sh). Needs root and Debian's mirror.
#
# Usage: test_no_swift.sh [TARBALL]   (default: the newest dist/speculators-*.tar.gz)
# Environment: SPECULATORS_CHROOT (default ~/.cache/speculators/debian-<suite>-minbase),
#              DEBIAN_SUITE (default: this machine's, else bookworm), DEBIAN_MIRROR,
#              DEBOOTSTRAP_ARGS (extra options). The oldest glibc the binary supports, Ubuntu
#              22.04's 2.35, is also worth a run: DEBIAN_SUITE=jammy
#              DEBIAN_MIRROR=http://archive.ubuntu.com/ubuntu (with Ubuntu's archive keyring, or
#              DEBOOTSTRAP_ARGS=--no-check-gpg) SPECULATORS_CHROOT=~/.cache/speculators/ubuntu-jammy-minbase.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball="${1:-$(ls -t dist/speculators-*.tar.gz 2>/dev/null | head -n 1)}"
[ -f "$tarball" ] || { echo "test_no_swift: no tarball (run scripts/package.sh)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "test_no_swift: needs root (debootstrap, chroot)" >&2; exit 2; }
suite="${DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="${SPECULATORS_CHROOT:-$HOME/.cache/speculators/debian-$suite-minbase}"

if [ ! -f "$root/.speculators-ready" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  rm -rf "$root.partial"
  mkdir -p "$(dirname "$root")"
  # shellcheck disable=SC2086
  debootstrap --variant=minbase ${DEBOOTSTRAP_ARGS:-} "$suite" "$root.partial" "$mirror" >/dev/null
  rm -rf "$root"
  mv "$root.partial" "$root"
  touch "$root/.speculators-ready"
fi

# What the folder lacks, so the test means what it says.
for absent in /opt/swift /usr/bin/swift /usr/bin/python3; do
  [ ! -e "$root$absent" ] || { echo "test_no_swift: $root$absent exists" >&2; exit 1; }
done
for library in 'libswiftCore*' 'libFoundation*' 'libcrypto.so*' 'libopenblas*' 'libgfortran*'; do
  found="$(find "$root" -xdev -name "$library" -print -quit)"
  [ -z "$found" ] || echo "test_no_swift: note: the chroot has $found (the binary does not use it)"
done

work="/tmp/speculators-no-swift.$$"
mkdir -p "$root$work"
mounted=""
cleanup() {
  [ -z "$mounted" ] || umount "$root/proc"
  rm -rf "${root:?}$work"
}
trap cleanup EXIT
mount -t proc proc "$root/proc" && mounted=1
tar -xzf "$tarball" -C "$root$work"
binary="$(cd "$root$work" && ls -d speculators-*/speculators)"
cp -r Fixtures/eagle3-bin Fixtures/verifier "$root$work/"

run() { chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$@"; }
cd_run() { run /bin/sh -ec "cd $work && $*"; }
echo "== in $root ($(run /bin/sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), glibc $(run ldd --version | head -n 1 | awk '{print $NF}'))"
cd_run "./$binary --version"
output="$(cd_run "./$binary inspect eagle3-bin")"
head -n 4 <<<"$output"
output="$(cd_run "./$binary convert eagle3-bin --algorithm eagle3 --verifier verifier --output-path converted")"
tail -n 2 <<<"$output"
# verify exits 1 when it reports findings: only 2 (usage or input error) or a crash is a failure.
status=0
output="$(cd_run "./$binary verify converted --verifier verifier --manifest --content")" || status=$?
[ "$status" -le 1 ] || { echo "test_no_swift: verify exited $status" >&2; exit 1; }
tail -n 2 <<<"$output"
if [ -z "$(find "$root" -xdev -name 'libcurl*.so*' -print -quit)" ]; then
  # Without libcurl, a Hub id must fail with the one-line reason, not a crash.
  status=0
  output="$(run "$work/$binary" inspect org/name 2>&1)" || status=$?
  if [ "$status" -ne 2 ] || ! grep -q "needs libcurl" <<<"$output"; then
    echo "test_no_swift: a Hub id without libcurl gave exit $status: $output" >&2
    exit 1
  fi
  echo "$output"
fi
echo "test_no_swift: $(basename "$tarball") runs --version, inspect, convert and verify without Swift"
