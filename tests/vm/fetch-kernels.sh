#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fetch-kernels.sh — fetch the Debian 6.1 and 6.12 cloud kernels for the VM tier into tests/vm/cache/.
#
# Usage: fetch-kernels.sh [--no-install] [6.1|6.12|all]...     (default: all)
#
# For each kernel line this resolves the Debian package (6.1: the newest
# linux-image-6.1.0-N-cloud-amd64 apt knows; 6.12: what linux-image-6.12-cloud-amd64
# depends on), downloads it with `apt-get download` and unpacks it with `dpkg-deb -x`.
# Nothing is installed into the host's /boot or /lib/modules. Result:
#
#   cache/<release>/vmlinuz  config  modules/   (lib/modules/<release> as shipped + modules.dep)
#   cache/<release>/.complete                                (written last: the cache is usable)
#   cache/6.1 -> <release>, cache/6.12 -> <release>          (aliases run-vm.sh accepts)
#
# Modules stay as shipped (.ko on 6.1, .ko.xz on 6.12); mkinitramfs.sh resolves the few it
# needs through modules.dep and decompresses them. Re-running is cheap: a release that already
# has .complete is skipped. Host tools the tier needs (qemu-system-x86, busybox-static, cpio,
# xz-utils, iproute2) are installed with apt-get if missing, unless --no-install is given.
#
# Environment: SKBT_VM_CACHE overrides the cache directory.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SKBT_VM_CACHE:-$SCRIPT_DIR/cache}

log() { printf 'fetch-kernels: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

install_tools=1
lines=()
for arg in "$@"; do
        case $arg in
        --no-install) install_tools=0 ;;
        6.1 | 6.12) lines+=("$arg") ;;
        all) lines+=(6.1 6.12) ;;
        -h | --help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$arg' (want 6.1, 6.12, all or --no-install)" ;;
        esac
done
[[ ${#lines[@]} -gt 0 ]] || lines=(6.1 6.12)

# ---- host tools ------------------------------------------------------------------------------
# command -> Debian package that provides it (busybox-static ships /bin/busybox).
declare -A tool_pkg=(
        [qemu-system-x86_64]=qemu-system-x86
        [busybox]=busybox-static
        [cpio]=cpio
        [xz]=xz-utils
        [ip]=iproute2
        [dpkg-deb]=dpkg
        [ldd]=libc-bin
        [depmod]=kmod
)
missing=()
for tool in "${!tool_pkg[@]}"; do
        # busybox must be the static build: the initramfs has no libraries for it.
        if [[ $tool == busybox ]]; then
                dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
                        missing+=(busybox-static)
                continue
        fi
        command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
                missing+=("${tool_pkg[$tool]}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
        mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
        if [[ $install_tools -eq 0 ]]; then
                die "missing host packages: ${missing[*]} (run without --no-install, or apt-get install them)"
        fi
        [[ $(id -u) -eq 0 ]] || die "missing host packages ${missing[*]} and not root to install them"
        log "installing missing host packages: ${missing[*]}"
        log "+ apt-get update"
        apt-get update -qq
        log "+ apt-get install -y --no-install-recommends ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---- package resolution ----------------------------------------------------------------------
apt_updated=0
apt_refresh() {
        if [[ $apt_updated -eq 0 && $(id -u) -eq 0 ]]; then
                log "+ apt-get update (package not known to apt yet)"
                apt-get update -qq || true
                apt_updated=1
                return 0
        fi
        return 1
}

# Print the name of the binary kernel package for a kernel line, or nothing.
resolve_pkg() {
        local line=$1
        case $line in
        6.1)
                apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
                        awk '{ print $1 }' | sort -V | tail -n 1
                ;;
        6.12)
                # The meta package depends on exactly one versioned image package.
                apt-cache depends linux-image-6.12-cloud-amd64 2>/dev/null |
                        awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.12\./ { print $2; exit }'
                ;;
        esac
}

fetch_line() {
        local line=$1 pkg release dest tmp deb moddir
        pkg=$(resolve_pkg "$line")
        if [[ -z $pkg ]] && apt_refresh; then
                pkg=$(resolve_pkg "$line")
        fi
        if [[ -z $pkg ]]; then
                if [[ -e $CACHE/$line/.complete ]]; then
                        log "warning: apt knows no $line cloud kernel; keeping cached $(readlink "$CACHE/$line"), ignoring"
                        return 0
                fi
                die "apt knows no $line cloud kernel package (is bookworm-security / backports in sources?)"
        fi
        release=${pkg#linux-image-}
        dest=$CACHE/$release
        if [[ -e $dest/.complete ]]; then
                log "$line: $release already in cache, skipping"
        else
                log "$line: fetching $pkg"
                rm -rf "$dest" "$dest.tmp"
                tmp=$dest.tmp
                mkdir -p "$tmp/dl" "$tmp/root"
                # apt-get download writes into the current directory and may drop privileges to
                # _apt, so let that user write there.
                chmod 0777 "$tmp/dl"
                (cd "$tmp/dl" && apt-get download -q "$pkg" >&2)
                deb=$(find "$tmp/dl" -maxdepth 1 -name '*.deb' | head -n 1)
                [[ -n $deb ]] || die "apt-get download $pkg produced no .deb"
                log "$line: unpacking $(basename "$deb") ($(du -h "$deb" | cut -f1))"
                dpkg-deb -x "$deb" "$tmp/root"
                moddir=
                for d in "$tmp/root/lib/modules/$release" "$tmp/root/usr/lib/modules/$release"; do
                        [[ -d $d ]] && moddir=$d && break
                done
                [[ -n $moddir ]] || die "$pkg has no lib/modules/$release"
                [[ -f $tmp/root/boot/vmlinuz-$release ]] || die "$pkg has no boot/vmlinuz-$release"
                mkdir -p "$dest"
                mv "$tmp/root/boot/vmlinuz-$release" "$dest/vmlinuz"
                mv "$tmp/root/boot/config-$release" "$dest/config" 2>/dev/null || true
                # System.map in the image package is a one-line stub (the real one is in -dbg).
                mv "$moddir" "$dest/modules"
                # The package ships no modules.dep (postinst runs depmod); build one for the
                # unpacked tree without touching the host's /lib/modules.
                if [[ ! -s $dest/modules/modules.dep ]]; then
                        command -v depmod >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
                        mkdir -p "$tmp/depmod/lib/modules"
                        ln -s "$dest/modules" "$tmp/depmod/lib/modules/$release"
                        depmod -b "$tmp/depmod" "$release" ||
                                die "depmod for $release failed"
                fi
                printf '%s\n' "$pkg" >"$dest/package"
                dpkg-deb -f "$deb" Version >"$dest/package-version"
                rm -rf "$tmp"
                touch "$dest/.complete"
                log "$line: $release ready in $dest"
        fi
        ln -sfn "$release" "$CACHE/$line"
}

mkdir -p "$CACHE"
for line in "${lines[@]}"; do
        fetch_line "$line"
done
for line in "${lines[@]}"; do
        printf '%s\t%s\n' "$line" "$(readlink "$CACHE/$line")"
done
