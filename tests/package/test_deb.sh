#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# test_deb.sh - the Debian packages build, pass lintian, and hold what an installed skbtraced needs
#
#   tests/package/test_deb.sh OUTDIR MESON_VERSION BUILDDIR
#
# Checks that every library the meson build in BUILDDIR uses comes from a
# package debian/control names in Build-Depends (a clean build would fail
# otherwise, while this host, which has it installed, would not notice).  Builds with scripts/build-deb.sh --lintian (reusing packages already built
# from the same source), then checks each package's files and maintainer
# scripts.  Exit 77 (skip) when the packaging tools are missing outside CI.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
outdir=$1
meson_version=$2
builddir=$3

fails=0
fail() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }
ok() { printf 'ok: %s\n' "$*"; }

for tool in dpkg-buildpackage dh lintian; do
        if ! command -v "$tool" >/dev/null; then
                echo "$tool not found: scripts/install-deps.sh installs the packaging tools (debhelper, dpkg-dev, lintian)"
                exit 77
        fi
done

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
# A native package: the Debian version is the project's version.
[ "$version" = "$meson_version" ] ||
        fail "debian/changelog says $version, meson.build says $meson_version: add a changelog entry (dch -v $meson_version)"

# Build-Depends of debian/control, one package name per line.
build_deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control" | sed 's/^Build-Depends://' |
        tr ',' '\n' | sed 's/[[:space:]]*(.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$\|^[A-Z]')
# ... and what those depend on directly (libpcap-dev is libpcap0.8-dev's unversioned name).
build_deps_deps=$'\n'$(for p in $build_deps; do dpkg-query -W -f='${Depends}\n' "$p" 2>/dev/null; done |
        tr ',|' '\n\n' | sed 's/[[:space:]]*(.*//; s/^[[:space:]]*//; s/:any$//' | grep -v '^$' | sort -u)
while read -r dep; do
        # threads and dl: parts of the C library, no package of their own.
        case $dep in threads | dl) continue ;; esac
        pc=$(pkg-config --path "$dep" 2>/dev/null) || { fail "pkg-config knows no $dep (meson found it)"; continue; }
        pkg=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | head -n 1 | cut -d: -f1) ||
                { fail "no Debian package owns $pc ($dep)"; continue; }
        grep -qxF "$pkg" <<<"$build_deps$build_deps_deps" ||
                fail "meson uses $dep ($pkg) but debian/control's Build-Depends lacks $pkg"
done < <(meson introspect "$builddir" --dependencies |
        python3 -c 'import json, sys; print("\n".join(d["name"] for d in json.load(sys.stdin)))')
[ "$fails" -eq 0 ] && ok "Build-Depends name every library meson uses"

changes=$("$top/scripts/build-deb.sh" --lintian "$outdir") || { echo "FAIL: build-deb.sh failed"; exit 1; }
ok "built and lintian-clean: $changes"

arch=$(dpkg --print-architecture)
# package: files it must hold (paths as dpkg-deb -c lists them, without the leading ./)
declare -A want=(
        [skbtraced]="usr/sbin/skbtraced lib/systemd/system/skbtraced.service lib/systemd/system/skbtraced.socket
                usr/lib/sysusers.d/skbtraced.conf usr/share/skbtraced/groups.conf
                usr/share/man/man8/skbtraced.8.gz usr/share/doc/skbtraced/skbtraced.conf.example
                usr/share/doc/skbtraced/copyright usr/share/varlink/io.skbtraced.varlink"
        [ipftctl]="usr/bin/ipftctl usr/share/man/man1/ipftctl.1.gz usr/share/doc/ipftctl/copyright
                usr/share/bash-completion/completions/ipftctl"
)
for pkg in "${!want[@]}"; do
        deb=$outdir/${pkg}_${version}_$arch.deb
        if [ ! -f "$deb" ]; then
                fail "$deb missing"
                continue
        fi
        list=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||')
        for f in ${want[$pkg]}; do
                grep -qxF "$f" <<<"$list" || fail "$pkg does not ship $f"
        done
        ok "$pkg ships: $(echo ${want[$pkg]})"
done

# The daemon package's maintainer scripts: the group through systemd-sysusers,
# the socket enabled and started, the service neither (socket activation).
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$outdir/skbtraced_${version}_$arch.deb" "$ctl"
grep -q 'systemd-sysusers .*skbtraced.conf' "$ctl/postinst" ||
        fail "postinst does not run systemd-sysusers skbtraced.conf"
grep -q "deb-systemd-helper enable 'skbtraced.socket'" "$ctl/postinst" ||
        fail "postinst does not enable skbtraced.socket"
grep -q "deb-systemd-invoke \$_dh_action 'skbtraced.socket'" "$ctl/postinst" ||
        fail "postinst does not start skbtraced.socket"
if grep -q "deb-systemd-invoke .*'skbtraced.service'" "$ctl/postinst"; then
        fail "postinst starts skbtraced.service: socket activation should start it"
fi
grep -q "deb-systemd-invoke stop 'skbtraced.socket'" "$ctl/prerm" ||
        fail "prerm does not stop skbtraced.socket on removal"
depends=$(dpkg-deb -f "$outdir/skbtraced_${version}_$arch.deb" Depends)
grep -q 'systemd' <<<"$depends" || fail "skbtraced does not depend on systemd (systemd-sysusers): $depends"
# Opened with dlopen() for regular expressions (common/dynlib.h): no shlibs entry.
grep -q 'libpcre2-8-0' <<<"$depends" ||
        fail "skbtraced does not depend on libpcre2-8-0 (it opens it with dlopen): $depends"
ok "maintainer scripts: sysusers, socket enabled and started, service left to socket activation"
depends=$(dpkg-deb -f "$outdir/ipftctl_${version}_$arch.deb" Depends)
# Opened with dlopen() when first needed (common/pcap_filter.c, common/dynlib.h): no shlibs entry.
for lib in libpcap0.8 libpcre2-8-0 libzstd1 zlib1g; do
        grep -q "$lib" <<<"$depends" && ok "ipftctl depends on $lib: $depends" ||
                fail "ipftctl does not depend on $lib (it opens it with dlopen): $depends"
done

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all package checks passed"
