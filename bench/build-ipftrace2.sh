#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# build-ipftrace2.sh - build the peer tool ipftrace2 from its upstream source, for side-by-side
# benchmarks (bench/vm-compare.sh).  Nothing of it is part of skbtraced or goes into the repo.
#
#   bench/build-ipftrace2.sh TARBALL OUTDIR      builds OUTDIR/ipft, prints its path
#
# TARBALL is a `git archive` of github.com/YutaroHayakawa/ipftrace2 (a pinned commit; the
# benchmark report names it).  The build happens in a temporary directory, with the Makefile
# adjusted for Debian 12's libraries (shared instead of -static, no libfts, lua5.3, the
# multiarch include path for its BPF programs); needs libbpf-dev libelf-dev zlib1g-dev
# libpcre2-dev liblua5.3-dev xxd gcc-multilib clang (scripts/install-deps.sh installs them).
# Exit status 0 with the path on stdout, 77 when it cannot be built here (why on stdout).
set -euo pipefail

skip() { printf 'cannot build ipftrace2: %s\n' "$*"; exit 77; }

[ $# -eq 2 ] || { echo "usage: $0 TARBALL OUTDIR" >&2; exit 2; }
tarball=$1
outdir=$2
[ -r "$tarball" ] || skip "no source tarball at $tarball"
for t in clang xxd make cc; do
        command -v "$t" >/dev/null || skip "$t not installed (scripts/install-deps.sh)"
done
for h in lua5.3/lua.h pcre2.h bpf/libbpf.h libelf.h zlib.h; do
        [ -e "/usr/include/$h" ] || skip "/usr/include/$h missing (scripts/install-deps.sh)"
done
multiarch=$(cc -print-multiarch 2>/dev/null || true)
if [ -z "$multiarch" ] || [ ! -d "/usr/include/$multiarch/asm" ]; then
        skip "no /usr/include/<multiarch>/asm for the BPF build (gcc-multilib)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-ipft.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work" --strip-components=1 || skip "cannot unpack $tarball"
mk=$work/src/Makefile
[ -f "$mk" ] || skip "$tarball has no src/Makefile"
# Debian ships no static libraries for all of these and no libfts (glibc has fts); its Lua is
# liblua5.3 with headers under lua5.3/; BPF builds need the multiarch asm/ headers.
sed -i -e 's/^[[:space:]]*-static[[:space:]]*\\$/  \\/' -e 's/^[[:space:]]*-lfts[[:space:]]*\\$/  \\/' \
        -e 's/-llua \\/-llua5.3 \\/' \
        -e "s|^CFLAGS := \\\\|CFLAGS := -I/usr/include/lua5.3 \\\\|" \
        -e "s|^BPF_CFLAGS := \\\\|BPF_CFLAGS := -I/usr/include/$multiarch \\\\|" "$mk"
if ! make -C "$work/src" -j"$(nproc)" ipft >"$work/build.log" 2>&1; then
        tail -n 15 "$work/build.log" >&2
        skip "make failed (last lines above)"
fi
mkdir -p "$outdir"
install -m 0755 "$work/src/ipft" "$outdir/ipft"
echo "$outdir/ipft"
