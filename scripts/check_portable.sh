#!/usr/bin/env bash
# Checks that a built `speculators` binary is self-contained, then prints its glibc floor
# (the highest GLIBC_2.N symbol version it needs, e.g. `2.34`) on stdout.
#
#  1. its dynamic dependencies (DT_NEEDED) are only glibc's libraries (libc, libm, libpthread,
#     libdl, librt, ld-linux) and libgcc_s: no Swift runtime, Foundation, libcrypto, libxxhash,
#     OpenBLAS, libgfortran or libstdc++;
#  2. it has no RPATH/RUNPATH and needs no GLIBC_PRIVATE or GLIBCXX symbols;
#  3. it runs (`--version`, `inspect` of the example draft) with the Swift toolchain out of
#     reach: in a private mount namespace where /opt/swift (or the toolchain holding `swift`) is
#     an empty directory, with LD_LIBRARY_PATH empty. Needs root (unshare); without it this step
#     says it was skipped.
#
# scripts/test_no_swift.sh is the stronger test: a minimal Debian made by debootstrap.
# Usage: check_portable.sh BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "${1:?usage: check_portable.sh BINARY}")"
fail() { echo "check_portable: $binary: $*" >&2; exit 1; }

needed="$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
for library in $needed; do
  case "$library" in
    libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | libgcc_s.so.1) ;;
    ld-linux-*.so.* | libutil.so.1 | libresolv.so.2) ;;
    *) fail "needs $library at run time (only glibc and libgcc_s are allowed)" ;;
  esac
done
if readelf -d "$binary" | grep -qE '\((RPATH|RUNPATH)\)'; then
  fail "has an RPATH/RUNPATH: $(readelf -d "$binary" | grep -E 'RPATH|RUNPATH')"
fi
versions="$(readelf --dyn-syms -W "$binary" | grep -oE '@(GLIBC|GLIBCXX|CXXABI)_[A-Z0-9_.]+' | sort -u)"
if grep -qE 'GLIBC_PRIVATE|GLIBCXX|CXXABI' <<<"$versions"; then
  fail "needs $(grep -E 'GLIBC_PRIVATE|GLIBCXX|CXXABI' <<<"$versions" | tr '\n' ' ')"
fi
floor="$(grep -oE 'GLIBC_2\.[0-9]+' <<<"$versions" | sed 's/GLIBC_//' | sort -t. -k2 -n | tail -n 1)"
[ -n "$floor" ] || fail "no GLIBC_2.N symbol versions found"
echo "check_portable: needs $(echo $needed | tr ' ' ','); glibc >= $floor" >&2

toolchain="/opt/swift"
if command -v swift >/dev/null 2>&1; then
  toolchain="$(dirname "$(dirname "$(dirname "$(realpath "$(command -v swift)")")")")"
fi
if [ "$toolchain" = / ] || [ "$toolchain" = /usr ]; then
  echo "check_portable: SKIPPED the run with the toolchain hidden (it is installed in $toolchain)" >&2
elif [ "$(id -u)" -eq 0 ] && unshare --mount true 2>/dev/null; then
  fixture="$PWD/Fixtures/eagle3-bin"
  # shellcheck disable=SC2016
  unshare --mount env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= \
    TOOLCHAIN="$toolchain" BINARY="$binary" FIXTURE="$fixture" sh -ec '
      mount --make-rprivate /
      [ -d "$TOOLCHAIN" ] && mount -t tmpfs -o size=1m none "$TOOLCHAIN"
      if [ -n "$(ls -A "$TOOLCHAIN" 2>/dev/null)" ]; then exit 3; fi
      "$BINARY" --version >/dev/null
      "$BINARY" inspect "$FIXTURE" >/dev/null' \
    || fail "does not run with $toolchain hidden and LD_LIBRARY_PATH empty"
  echo "check_portable: runs --version and inspect with $toolchain hidden" >&2
else
  echo "check_portable: SKIPPED the run with $toolchain hidden (needs root and unshare)" >&2
fi
echo "$floor"
