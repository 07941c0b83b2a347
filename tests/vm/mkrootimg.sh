#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# mkrootimg.sh — compose the ext4 root disk `run-vm.sh --systemd` boots: Debian 12 + modules + test.
#
# Usage: mkrootimg.sh KERNEL_DIR OUT.img [OPTIONS] [FILE[:DEST]...]
#
#   KERNEL_DIR        a kernel unpacked by fetch-kernels.sh (its modules/ go to /lib/modules)
#   OUT.img           the raw ext4 image to write (sparse)
#   --script PATH     the guest test script, installed as /usr/lib/skbt-vm/test.sh (bash)
#   --module NAME     load module NAME at boot (systemd-modules-load); repeatable; default: veth
#   FILE[:DEST]       copy FILE into the image at DEST (default /usr/local/bin/<name>); the
#                     guest is a full Debian system, so libraries are not copied
#
# Unpacks cache/debian12/rootfs.tar (mkrootfs.sh builds it) and adds the kernel's modules, the
# guest library (guest-lib.sh as /usr/lib/skbt-vm/lib.sh), the runner (guest-systemd.sh as
# /usr/lib/skbt-vm/run) and its unit skbt-vm.service, which systemd starts once multi-user.target
# is reached. `mkfs.ext4 -d` turns the tree into the image without mounting anything.
# Typical: ~3 s, ~260 MB of a 1 GiB sparse file. Needs root (device nodes, file owners).

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SKBT_VM_CACHE:-$SCRIPT_DIR/cache}
ROOTFS=$CACHE/debian12/rootfs.tar

die() { printf 'mkrootimg: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 2 ]] || usage
KDIR=$1
OUT=$2
shift 2
[[ -f $KDIR/vmlinuz && -d $KDIR/modules ]] || die "$KDIR is not a kernel dir from fetch-kernels.sh"
[[ -e $CACHE/debian12/.complete ]] || die "$ROOTFS missing: run tests/vm/mkrootfs.sh"
[[ $(id -u) -eq 0 ]] || die "must run as root (the root file system has device nodes and owners)"

script=
modules=(veth)
files=()
while [[ $# -gt 0 ]]; do
        case $1 in
        --script) [[ $# -ge 2 ]] || usage; script=$2; shift 2 ;;
        --module) [[ $# -ge 2 ]] || usage; modules+=("$2"); shift 2 ;;
        -h | --help) usage ;;
        -*) die "unknown option $1" ;;
        *) files+=("$1"); shift ;;
        esac
done
[[ -n $script ]] || die "--script is required"
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/usr/sbin:/sbin

root=$(mktemp -d "${TMPDIR:-/tmp}/skbt-rootimg.XXXXXX")
trap 'rm -rf "$root"' EXIT

tar -xpf "$ROOTFS" -C "$root"
release=$(basename "$(readlink -f "$KDIR")")
# /lib is a link to usr/lib in the guest: write through the real path.
mkdir -p "$root/usr/lib/modules"
cp -a "$KDIR/modules" "$root/usr/lib/modules/$release"
printf '%s\n' "${modules[@]}" >"$root/etc/modules-load.d/skbt-vm.conf"
for m in "${modules[@]}"; do
        grep -q "/$m\.ko" "$KDIR/modules/modules.dep" ||
                grep -q "/$m\.ko" "$KDIR/modules/modules.builtin" 2>/dev/null ||
                die "no module $m in $release"
done

mkdir -p "$root/usr/lib/skbt-vm"
install -m 0644 "$SCRIPT_DIR/guest-lib.sh" "$root/usr/lib/skbt-vm/lib.sh"
install -m 0755 "$SCRIPT_DIR/guest-systemd.sh" "$root/usr/lib/skbt-vm/run"
install -m 0755 "$script" "$root/usr/lib/skbt-vm/test.sh"
cat >"$root/etc/systemd/system/skbt-vm.service" <<'EOF'
[Unit]
Description=skbtraced VM test (tests/vm/guest-systemd.sh)
# Once the system is up, as an administrator would find it.
After=multi-user.target

[Service]
Type=simple
ExecStart=/usr/lib/skbt-vm/run
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/skbt-vm.service "$root/etc/systemd/system/multi-user.target.wants/skbt-vm.service"

for spec in ${files[@]+"${files[@]}"}; do
        src=${spec%%:*}
        if [[ $spec == *:* ]]; then dest=${spec#*:}; else dest=/usr/local/bin/$(basename "$src"); fi
        [[ -f $src ]] || die "no such file: $src"
        mkdir -p "$root$(dirname "$dest")"
        cp -L "$src" "$root$dest"
done

# Room for what the test writes (packages installed, logs, the journal).
size_mb=$(( $(du -sm "$root" | cut -f1) + 768 ))
rm -f "$OUT"
mkfs.ext4 -q -F -L skbt-root -d "$root" "$OUT" "${size_mb}M" ||
        die "mkfs.ext4 -d failed"
printf 'mkrootimg: %s (%s MB, kernel %s, modules: %s)\n' "$OUT" "$size_mb" "$release" "${modules[*]}" >&2
