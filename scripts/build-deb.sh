#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# build-deb.sh - build the Debian packages (skbtraced, ipftctl) from this source tree into a directory
#
#   scripts/build-deb.sh [--lintian] [--force] [OUTDIR]     (default OUTDIR: build/deb)
#
# Runs `dpkg-buildpackage -b -us -uc` on a copy of the source tree (the files
# git knows plus new ones it does not ignore; without git, the tree minus
# build directories and the VM cache), because dpkg-buildpackage writes its
# results next to the source directory and leaves obj-*/ and debian/ state
# inside it.  The .deb, .changes and .buildinfo files land in OUTDIR together
# with a stamp naming the source they were built from: a second call on the
# same source reuses them (the VM tier's systemd scenario installs them), unless
# --force.  --lintian then runs lintian on the .changes and fails on errors.
#
# Needs the build dependencies in debian/control (scripts/install-deps.sh
# installs them).  Environment: DEB_BUILD_OPTIONS (default parallel=NPROC).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

lintian=0
force=0
outdir=
while [ $# -gt 0 ]; do
        case "$1" in
        --lintian) lintian=1 ;;
        --force) force=1 ;;
        -h | --help) sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "build-deb: unknown option '$1'" >&2; exit 2 ;;
        *) outdir=$1 ;;
        esac
        shift
done
outdir=${outdir:-$top/build/deb}

log() { printf 'build-deb: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
        command -v "$tool" >/dev/null ||
                die "$tool not found: install dpkg-dev and debhelper (scripts/install-deps.sh)"
done
[ "$lintian" -eq 0 ] || command -v lintian >/dev/null ||
        die "lintian not found (scripts/install-deps.sh installs it)"

# The source files, NUL-separated, relative to $top.
list_sources() {
        if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
                # Deleted but not yet committed files are listed by ls-files: skip them.
                git -C "$top" ls-files -z -co --exclude-standard |
                        (cd "$top" && while IFS= read -r -d '' f; do
                                [ -e "$f" ] && printf '%s\0' "$f"
                        done)
        else
                (cd "$top" && find . \( -path ./build -o -path './build-*' -o -path ./tests/vm/cache \
                        -o -path ./.git \) -prune -o -type f -printf '%P\0')
        fi
}

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
# What the packages are built from: every source file's name and content.
stamp=$(list_sources | sort -z | (cd "$top" && xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)

if [ "$force" -eq 0 ] && [ -f "$outdir/source.stamp" ] &&
        [ "$(cat "$outdir/source.stamp")" = "$stamp" ] &&
        ls "$outdir"/skbtraced_"$version"_*.changes >/dev/null 2>&1; then
        log "packages in $outdir are built from this source, reusing them (--force rebuilds)"
else
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/skbt-deb.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        src=$tmp/skbtraced-$version
        mkdir -p "$src"
        list_sources | (cd "$top" && tar -cf - --null -T -) | tar -xf - -C "$src"

        export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
        log "dpkg-buildpackage -b -us -uc in $src (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
        t0=$SECONDS
        if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
                tail -n 60 "$tmp/build.log" >&2
                die "dpkg-buildpackage failed (last 60 lines above)"
        fi
        log "built in $((SECONDS - t0)) s"
        mkdir -p "$outdir"
        rm -f "$outdir"/*.deb "$outdir"/*.changes "$outdir"/*.buildinfo "$outdir/source.stamp"
        cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$outdir"/
        cp "$tmp/build.log" "$outdir/build.log"
        printf '%s\n' "$stamp" >"$outdir/source.stamp"
fi

changes=$(ls "$outdir"/skbtraced_"$version"_*.changes)
for f in "$outdir"/*.deb; do
        log "$(basename "$f") ($(du -h "$f" | cut -f1))"
done

if [ "$lintian" -eq 1 ]; then
        log "lintian $(basename "$changes")"
        # Errors fail; warnings and the rest are shown.  Root is how CI runs it.
        lintian --allow-root --info --display-level '>=warning' --fail-on error "$changes" ||
                die "lintian reports errors (above)"
fi
printf '%s\n' "$changes"
