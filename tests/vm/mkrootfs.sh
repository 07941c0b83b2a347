#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# mkrootfs.sh — build the Debian 12 root file system (systemd as PID 1) that `run-vm.sh --systemd` boots.
#
# Usage: mkrootfs.sh [--no-install] [--force]
#
# Runs mmdebstrap (minbase + systemd, udev, iproute2, ping, jq and the libraries the skbtraced
# package depends on) from the host's own apt sources into cache/debian12/rootfs.tar, with
# getty and the periodic timers masked (a test boot has no use for them). The archive holds no
# kernel, no modules and nothing of skbtraced: run-vm.sh adds the kernel's modules, the
# packages under test and the guest scripts at each boot, so one archive serves every kernel
# and every build. Result:
#
#   cache/debian12/rootfs.tar   the root file system
#   cache/debian12/key          what it was built from (this script's hash); a different key
#   cache/debian12/.complete    or no .complete means: build again
#
# Re-running with a complete, current cache is a no-op (~0 s); a build takes ~2-3 min (most of
# it downloading and unpacking ~130 packages). mmdebstrap is installed with apt-get if missing,
# unless --no-install. Environment: SKBT_VM_CACHE (cache dir), SKBT_VM_SOURCES (an apt sources
# file to build from instead of the host's).

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SKBT_VM_CACHE:-$SCRIPT_DIR/cache}
DEST=$CACHE/debian12

log() { printf 'mkrootfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

install_tools=1
force=0
for arg in "$@"; do
        case $arg in
        --no-install) install_tools=0 ;;
        --force) force=1 ;;
        -h | --help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$arg'" ;;
        esac
done

# What the guest needs besides minbase: systemd as init, udev for devices, the tools the
# scenario uses, and the run-time libraries of the skbtraced and ipftctl packages (their
# Depends; the guest installs the .debs with dpkg, offline). Changing this list changes the key.
PACKAGES=(
        systemd systemd-sysv udev dbus
        iproute2 iputils-ping kmod procps jq
        libbpf1 libelf1 libjson-c5 libpcap0.8 libpcre2-8-0 zlib1g libsystemd0
)
# Units a short test boot does not want: a login prompt on the console, periodic jobs.
MASK=(
        serial-getty@ttyS0.service getty@tty1.service
        apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
        fstrim.timer e2scrub_reap.service
)

key=$(sha256sum "$0" | cut -d' ' -f1)
if [[ $force -eq 0 && -e $DEST/.complete && $(cat "$DEST/key" 2>/dev/null) == "$key" ]]; then
        log "$DEST/rootfs.tar is current, skipping"
        exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
        [[ $install_tools -eq 1 ]] || die "mmdebstrap missing (apt-get install mmdebstrap, or run without --no-install)"
        [[ $(id -u) -eq 0 ]] || die "mmdebstrap missing and not root to install it"
        log "+ apt-get install -y --no-install-recommends mmdebstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >&2
fi
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (apt-get install e2fsprogs): run-vm.sh --systemd needs it"

# The host's apt sources, so the guest comes from wherever this host's packages come from.
sources=()
if [[ -n ${SKBT_VM_SOURCES:-} ]]; then
        sources=("$SKBT_VM_SOURCES")
else
        [[ -s /etc/apt/sources.list ]] && grep -q '^[[:space:]]*deb' /etc/apt/sources.list &&
                sources+=(/etc/apt/sources.list)
        for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
                [[ -f $f ]] && grep -qi 'debian' "$f" && sources+=("$f")
        done
fi
[[ ${#sources[@]} -gt 0 ]] || die "no apt sources on this host (set SKBT_VM_SOURCES to a sources file)"

rm -rf "$DEST"
mkdir -p "$DEST"
# mmdebstrap picks the output format from the name: keep .tar last.
tmp=$DEST/rootfs.tmp.tar
t0=$SECONDS
log "mmdebstrap bookworm (minbase + ${PACKAGES[*]}) from ${sources[*]}"
mask_hook='for u in '"${MASK[*]}"'; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done'
# Documentation and translations are of no use in a test guest and are a third of the size.
# Descriptors 3-9 are closed for it: with them inherited (a caller's lock files, e.g. nested
# `flock FILE CMD`), mmdebstrap hands apt a status descriptor above 9, which dash cannot
# redirect ("Bad fd number") and the build fails.
if ! mmdebstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --customize-hook='echo skbt-vm >"$1/etc/hostname"' \
        --customize-hook='echo "/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1" >"$1/etc/fstab"' \
        --customize-hook="$mask_hook" \
        bookworm "$tmp" "${sources[@]}" >"$DEST/mmdebstrap.log" 2>&1 \
        3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
        tail -n 30 "$DEST/mmdebstrap.log" >&2
        die "mmdebstrap failed (log: $DEST/mmdebstrap.log)"
fi
mv "$tmp" "$DEST/rootfs.tar"
printf '%s\n' "$key" >"$DEST/key"
touch "$DEST/.complete"
log "$DEST/rootfs.tar ($(du -h "$DEST/rootfs.tar" | cut -f1)) built in $((SECONDS - t0)) s"
