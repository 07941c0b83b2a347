#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-start.sh — session start on FUNCTION probes: skbtraced + ipftctl against bpftrace attaching
# the same kernel functions, measured side by side in one VM-tier guest (tests/vm, qemu TCG).
#
#   bench/vm-start.sh [--kernel 6.12] [--backends kprobe-multi,fentry] [--runs N] [--btruns M]
#                     [--regex ERE] [--timeout S] [--json FILE] [--log FILE]
#
# The host kernel allows no function probes; Debian's 6.12 kernel in the VM tier has kprobes,
# kprobe-multi and fentry.  In the guest (bench/vm-start-guest.sh), for each backend: skbtraced
# attaches the functions matching ERE once, then `ipftctl trace -c 1` is timed N times from
# command start to first event line; then, with the daemon stopped, bpftrace attaches the same
# functions (kprobe: for kprobe-multi/kprobe, kfunc: for fentry) M times, timed the same way
# (and to its exit: a one-shot tool detaches on exit).  Traffic: a UDP flow at 200 packets/s
# between two namespaces in the guest.  Times under TCG are ~10x real hardware; compare ratios.
# Prints the raw SKBT-VMSTART lines; --json writes them parsed.  Needs root, qemu, the cached
# kernels (tests/vm/fetch-kernels.sh), bpftrace, and a build (BUILDDIR, default build/).
# Exit status 0 iff every measurement was made; 77 when something needed is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}
kernel=6.12
backends=kprobe-multi,fentry
runs=20
btruns=3
# The IP, UDP and device layers a UDP packet crosses from send to delivery: ~120 functions on 6.12.
regex='^(ip_|__ip_|udp_|__udp|dev_|__dev_|netif_|__netif_|napi_)'
timeout_s=2400
json=
log=

die() { printf 'vm-start: %s\n' "$*" >&2; exit 2; }
skip() { printf 'SKIP: vm-start: %s\n' "$*"; exit 77; }

while [ $# -gt 0 ]; do
        case "$1" in
        --kernel | --backends | --runs | --btruns | --regex | --timeout | --json | --log)
                [ $# -ge 2 ] || die "$1 needs a value"
                case "$1" in
                --kernel) kernel=$2 ;;
                --backends) backends=$2 ;;
                --runs) runs=$2 ;;
                --btruns) btruns=$2 ;;
                --regex) regex=$2 ;;
                --timeout) timeout_s=$2 ;;
                --json) json=$2 ;;
                --log) log=$2 ;;
                esac
                shift 2 ;;
        -h | --help) sed -n '5,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
        esac
done
[[ $runs =~ ^[1-9][0-9]*$ && $btruns =~ ^[1-9][0-9]*$ ]] || die "--runs and --btruns want numbers"
# The kernel command line carries the regex: no spaces.
[[ $regex != *' '* ]] || die "--regex must not contain spaces"

[ "$(id -u)" -eq 0 ] || skip "needs root (qemu, as the VM tier runs it)"
bpftrace=$(command -v bpftrace) || skip "bpftrace not installed"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
for f in daemon/skbtraced client/ipftctl bench/floodgen bench/firstline; do
        [ -x "$builddir/$f" ] || die "$builddir/$f missing: build first (meson compile -C $builddir)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-vmstart.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -n "$log" ] || log=$work/console.log

append="skbt.vmstart.backends=$backends skbt.vmstart.runs=$runs skbt.vmstart.btruns=$btruns"
append+=" skbt.vmstart.regex=$regex"
# bpftrace brings LLVM and clang (~200 MiB of libraries): the initramfs gets big, not slow.
rc=0
"$top/tests/vm/run-vm.sh" "$kernel" "$here/vm-start-guest.sh" --timeout "$timeout_s" --quiet \
        --log "$log" --append "$append" \
        --extra "$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$builddir/bench/floodgen" \
        "$builddir/bench/firstline" "$bpftrace" >"$work/run-vm.out" 2>&1 || rc=$?
grep -a '^SKBT-VMSTART' "$log" | tr -d '\r' || true
if [ $rc -ne 0 ]; then
        tail -n 40 "$work/run-vm.out" >&2
        exit 1
fi
if [ -n "$json" ]; then
        grep -a '^SKBT-VMSTART' "$log" | tr -d '\r' | python3 -c '
import json, sys
kernel, bt, regex = sys.argv[1:4]
out = {"kernel": kernel, "bpftrace": bt, "regex": regex, "runs": [], "daemon": []}
for line in sys.stdin:
    words = line.split()[1:]
    if not words or words[0] == "done":
        continue
    kind = "daemon" if words[0] == "daemon" else "runs"
    kv = dict(w.split("=", 1) for w in words if "=" in w)
    out[kind].append(kv)
with open(sys.argv[4], "w") as f:
    json.dump(out, f, indent=1)
' "$(basename "$(readlink -f "${SKBT_VM_CACHE:-$top/tests/vm/cache}/$kernel")")" \
                "$("$bpftrace" --version)" "$regex" "$json"
fi
