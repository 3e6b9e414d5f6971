#!/usr/bin/env bash
# The one release build of the `speculators` executable: a self-contained binary that needs only
# glibc (libc, libm, ld-linux) and libgcc_s at run time, so it runs on a machine without Swift.
#
# - the Swift standard library, Foundation (with its ICU data) and Dispatch are linked
#   statically (--static-swift-stdlib);
# - every C library a systemLibrary target names in Package.swift (libcrypto, libxxhash, OpenBLAS
#   when a target uses it) is linked from Debian's static archive, with the libraries its
#   pkg-config file lists as private dependencies (OpenBLAS: libgfortran, libquadmath) and
#   libstdc++: SwiftPM reads pkg-config files from .build/static-libs first, whose `Libs` point
#   at a directory holding only those `.a` files;
# - libcurl, which Foundation's HTTP client calls, is loaded at run time when a Hub or URL
#   download first needs it (packaging/curl_loader.c), with a one-line error when it is absent;
# - three glibc functions that would raise the glibc floor above 2.34 are given by
#   packaging/glibc_compat.c.
#
# scripts/setup.sh runs this; scripts/package.sh, scripts/demo.sh and bench/ use its output,
# .build/release/speculators.
set -euo pipefail
cd "$(dirname "$0")/.."
static_dir="$PWD/.build/static-libs"
mkdir -p "$static_dir"
rm -f "$static_dir"/*.a "$static_dir"/*.pc "$static_dir"/*.o

# Links the static archive of -l$1 into the search directory; fails loudly if there is none.
link_archive() {
  local name="$1" libdir="$2" archive=""
  for candidate in "$libdir/lib$name.a" "$(clang -print-file-name="lib$name.a")"; do
    if [ -f "$candidate" ]; then archive="$candidate"; break; fi
  done
  if [ -z "$archive" ]; then
    echo "build_release: no static archive lib$name.a (searched $libdir and the C compiler's" \
      "directories); the self-contained build links it statically" >&2
    exit 2
  fi
  ln -sf "$archive" "$static_dir/lib$name.a"
}

for module in $(sed -n 's/.*pkgConfig: *"\([^"]*\)".*/\1/p' Package.swift); do
  libdir="$(pkg-config --variable=libdir "$module")"
  libs="$(pkg-config --static --libs-only-l --libs-only-other "$module")"
  libs="${libs//-lgfortran/-lgfortran -lquadmath}"  # libgfortran.a needs libquadmath.a
  for flag in $libs; do
    case "$flag" in
      -pthread) libs="${libs//-pthread/-lpthread}" ;;  # SwiftPM refuses -pthread in a .pc
      -lc | -lm | -ldl | -lpthread | -lrt) ;;  # glibc: stays dynamic
      -l*) link_archive "${flag#-l}" "$libdir" ;;
    esac
  done
  cat >"$static_dir/$module.pc" <<EOF
Name: $module
Description: $module from its static archive (scripts/build_release.sh)
Version: $(pkg-config --modversion "$module")
Cflags: $(pkg-config --cflags "$module")
Libs: -L$static_dir $(tr ' ' '\n' <<<"$libs" | awk 'NF && !seen[$0]++' | tr '\n' ' ')
EOF
done
link_archive stdc++ /nonexistent

# Objects linked into the binary as a whole: libcurl's functions, loading libcurl.so.4 when a
# download first needs them (it has no usable static archive), and the glibc compatibility
# functions.
objects=()
for source in packaging/curl_loader.c packaging/glibc_compat.c; do
  object="$static_dir/$(basename "$source" .c).o"
  clang -c -O2 -fPIC -Wall -Werror -o "$object" "$source"
  objects+=(-Xlinker "$object")
done
# FoundationNetworking asks for -lcurl: an empty archive answers it, so no libcurl.so is linked.
ar rc "$static_dir/libcurl.a"

PKG_CONFIG_PATH="$static_dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
  swift build -c release --product speculators --static-swift-stdlib --disable-local-rpath \
  -Xlinker -L"$static_dir" "${objects[@]}" 2>&1 \
  | grep --line-buffered -v "warning: the use of .mktemp. is dangerous"
