#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# mkinitramfs.sh — build the busybox initramfs the VM tier boots (test script, binaries, modules).
#
# Usage: mkinitramfs.sh KERNEL_DIR OUT.gz [OPTIONS] [FILE[:DEST]...]
#
#   KERNEL_DIR        a kernel unpacked by fetch-kernels.sh (has vmlinuz and modules/)
#   OUT.gz            the gzip'd newc cpio archive to write
#   --script PATH     the guest test script, installed as /test.sh (run by /init)
#   --module NAME     load module NAME (and what modules.dep says it needs) at boot;
#                     repeatable; default set: veth. Built-in modules are skipped.
#   FILE[:DEST]       copy FILE into the image at DEST (default /usr/bin/<name>); ELF files get
#                     every library `ldd` lists plus the dynamic loader, and the libraries
#                     whose names (SONAMEs) they carry, for dlopen()
#
# Always included: busybox (static) with all applet links, iproute2's `ip` as /usr/sbin/ip
# (busybox's ip has no netns), /etc/iproute2, /init (guest-init.sh), the guest helper library
# /usr/lib/skbt-vm/lib.sh (guest-lib.sh), the kernel config as /boot/config-<release> (for
# bpftool feature probe; skbtraced must not rely on it). Modules are decompressed (.ko.xz/.ko.zst/.ko.gz) and
# listed in load order in /etc/skbt-vm/modules. Environment: SKBT_VM_MODULES adds module names.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 2 ]] || usage
KDIR=$1
OUT=$2
shift 2
[[ -f $KDIR/vmlinuz && -d $KDIR/modules ]] || die "$KDIR is not a kernel dir from fetch-kernels.sh"

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
# shellcheck disable=SC2206 # word splitting of the env list is intended
[[ -z ${SKBT_VM_MODULES:-} ]] || modules+=(${SKBT_VM_MODULES})

BUSYBOX=/bin/busybox
IPROUTE=/usr/sbin/ip
for f in "$BUSYBOX" "$IPROUTE"; do
        [[ -x $f ]] || die "$f missing (run fetch-kernels.sh, it installs busybox-static and iproute2)"
done
bb_banner=$("$BUSYBOX" --help 2>&1 || true)
if [[ $bb_banner != BusyBox* ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        die "$BUSYBOX is not a static busybox (install busybox-static)"
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/skbt-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/skbt-vm,proc,sys,dev,run,tmp,root,mnt}
mkdir -p "$root"/usr/lib/skbt-vm
# An initial console for the kernel to open before /init mounts devtmpfs (needs root; /init
# redirects to /dev/console itself anyway).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

is_elf() {
        [[ $(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == '177ELF' ]]
}

# Copy an ELF file's shared libraries and loader, at the paths ldd reports.
copy_libs() {
        local bin=$1 out lib libs
        if ! out=$(ldd "$bin" 2>&1); then
                grep -q 'not a dynamic executable\|statically linked' <<<"$out" && return 0
                die "ldd $bin failed: $out"
        fi
        if grep -q '=> not found' <<<"$out"; then
                die "$bin: ldd reports missing libraries: $(grep '=> not found' <<<"$out" | tr -s '\t\n' ' ')"
        fi
        libs=$(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out")
        for lib in $libs; do
                [[ -e $root$lib || -L $root$lib ]] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
}

# Libraries a binary opens with dlopen() are not in ldd's list (ipftctl opens libpcap when it
# compiles an expression, common/pcap_filter.c): copy those whose names the file carries, as the
# dynamic linker's cache knows them, with their own libraries.
ld_cache=
copy_dlopened() {
        local bin=$1 name path
        [[ -n $ld_cache ]] || ld_cache=$(PATH=$PATH:/sbin:/usr/sbin ldconfig -p) ||
                die "ldconfig -p failed"
        for name in $(grep -aoE 'lib[A-Za-z0-9_+-]+\.so(\.[0-9]+)*' "$bin" | sort -u); do
                path=$(awk -v n="$name" '$1 == n && $NF ~ /^\// { print $NF; exit }' <<<"$ld_cache")
                [[ -n $path ]] || continue
                [[ -e $root$path || -L $root$path ]] && continue
                mkdir -p "$root$(dirname "$path")"
                cp -L "$path" "$root$path"
                copy_libs "$path"
        done
}

# FILE[:DEST] -> into the image.
add_file() {
        local spec=$1 src dest
        src=${spec%%:*}
        dest=${spec#*:}
        [[ $spec == *:* ]] || dest=/usr/bin/$(basename "$src")
        [[ $dest == /* ]] || die "destination '$dest' must be absolute"
        [[ -f $src ]] || die "no such file: $src"
        mkdir -p "$root$(dirname "$dest")"
        # DEST may be a busybox applet link (absolute, pointing at the host's /bin/busybox):
        # remove it first so cp does not write through it.
        rm -f "$root$dest"
        cp -L "$src" "$root$dest"
        if is_elf "$src"; then
                copy_libs "$src"
                copy_dlopened "$src"
        fi
}

# busybox and its applets (links; skip the ones a real binary will shadow).
cp "$BUSYBOX" "$root/bin/busybox"
while read -r applet; do
        [[ -e $root/$applet || -L $root/$applet ]] && continue
        [[ -d $root/${applet%/*} ]] || mkdir -p "$root/${applet%/*}"
        ln -s /bin/busybox "$root/$applet"
done < <("$BUSYBOX" --list-full)

# iproute2's ip must be called "ip": it dispatches on argv[0].
add_file "$IPROUTE:/usr/sbin/ip"
[[ -d /etc/iproute2 ]] && cp -r /etc/iproute2 "$root/etc/"
[[ -d /usr/share/iproute2 ]] && mkdir -p "$root/usr/share" && cp -r /usr/share/iproute2 "$root/usr/share/"

cp "$SCRIPT_DIR/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$SCRIPT_DIR/guest-lib.sh" "$root/usr/lib/skbt-vm/lib.sh"
if [[ -n $script ]]; then
        [[ -f $script ]] || die "no such script: $script"
        cp "$script" "$root/test.sh"
        chmod 755 "$root/test.sh"
fi
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

for f in "${files[@]}"; do
        add_file "$f"
done

# ---- kernel modules ----------------------------------------------------------------------
release=$(basename "$(cd "$KDIR" && pwd -P)")
moddir=$KDIR/modules
dep=$moddir/modules.dep
[[ -f $dep ]] || die "$dep missing (fetch-kernels.sh runs depmod)"

# Path or name -> canonical module name, in $MODNAME (no subshell: modules.dep has ~3000 lines).
modname() {
        local n=${1##*/}
        n=${n%%.ko*}
        MODNAME=${n//-/_}
}

declare -A mod_path=() mod_deps=() builtin=() done_mod=()
while IFS=: read -r path deps; do
        modname "$path"
        mod_path[$MODNAME]=$path
        mod_deps[$MODNAME]=$deps
done <"$dep"
if [[ -f $moddir/modules.builtin ]]; then
        while read -r path; do
                modname "$path"
                builtin[$MODNAME]=1
        done <"$moddir/modules.builtin"
fi

load_order=()
visit() { # post-order walk: dependencies first
        local name=$1 d deps=() i
        [[ -n ${done_mod[$name]:-} ]] && return 0
        done_mod[$name]=1
        # shellcheck disable=SC2206
        deps=(${mod_deps[$name]})
        # modules.dep lists a module's dependencies so that the last one is loaded first.
        for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
                modname "${deps[i]}"
                d=$MODNAME
                [[ -n ${mod_path[$d]:-} ]] || die "modules.dep: $name needs unknown ${deps[i]}"
                visit "$d"
        done
        load_order+=("$name")
}

for m in "${modules[@]}"; do
        modname "$m"
        m=$MODNAME
        if [[ -n ${builtin[$m]:-} ]]; then
                printf 'mkinitramfs: %s is built into %s, not loading it\n' "$m" "$release" >&2
                continue
        fi
        [[ -n ${mod_path[$m]:-} ]] || die "module $m not found in $dep"
        visit "$m"
done

: >"$root/etc/skbt-vm/modules"
for m in "${load_order[@]}"; do
        src=$moddir/${mod_path[$m]}
        rel=lib/modules/$release/${mod_path[$m]%%.ko*}.ko
        mkdir -p "$root/$(dirname "$rel")"
        case $src in
        *.ko) cp "$src" "$root/$rel" ;;
        *.ko.xz) xz -dc "$src" >"$root/$rel" ;;
        *.ko.zst) zstd -qdc "$src" >"$root/$rel" ;;
        *.ko.gz) gzip -dc "$src" >"$root/$rel" ;;
        *) die "unknown module format: $src" ;;
        esac
        printf '%s\n' "$rel" >>"$root/etc/skbt-vm/modules"
done
printf '%s\n' "$release" >"$root/etc/skbt-vm/release"
# For humans and bpftool's feature probe (skbtraced itself must probe, not read config).
if [[ -f $KDIR/config ]]; then
        mkdir -p "$root/boot"
        cp "$KDIR/config" "$root/boot/config-$release"
fi

# ---- archive -----------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
        gzip -6 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
printf 'mkinitramfs: %s (%s, modules: %s)\n' "$OUT" "$(du -h "$OUT" | cut -f1)" \
        "${load_order[*]:-none}" >&2
