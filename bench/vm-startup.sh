#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-startup.sh — daemon start to ready, and the first session right after start-up (every probe,
# programs still loading) to full coverage, on function probes in one VM-tier guest (qemu TCG).
#
#   bench/vm-startup.sh [--kernel 6.12] [--backend kprobe-multi] [--rounds N] [--base SKBTRACED]
#                       [--timeout S] [--log FILE]
#
# Each round starts the daemon with every skb function and tracepoint (bench/vm-startup-guest.sh),
# times it to its first Status answer, then at once runs `ipftctl trace --wait-attached` over
# every probe and times it to full coverage; prints Status attach.loads (programs loaded, their
# load time and the instructions the verifier went through) and the daemon's start-up phases.
# --base runs another build in the same boot (rows tool=base), alternating the order per round,
# for before/after figures.  Times under TCG are ~10x real hardware: compare within one boot.
# Needs root, qemu and the cached kernels (tests/vm/fetch-kernels.sh), jq, and a build
# (BUILDDIR, default build/).  Exit status 0 iff every round finished.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}
kernel=6.12
backend=kprobe-multi
rounds=2
base=
timeout_s=1500
log=

die() { printf 'vm-startup: %s\n' "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
        case "$1" in
        --kernel | --backend | --rounds | --base | --timeout | --log)
                [ $# -ge 2 ] || die "$1 needs a value"
                case "$1" in
                --kernel) kernel=$2 ;;
                --backend) backend=$2 ;;
                --rounds) rounds=$2 ;;
                --base) base=$2 ;;
                --timeout) timeout_s=$2 ;;
                --log) log=$2 ;;
                esac
                shift 2 ;;
        -h | --help) sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
        esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a number"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: vm-startup: needs root"; exit 77; }
jq=$(command -v jq) || die "jq not installed"
for f in daemon/skbtraced client/ipftctl; do
        [ -x "$builddir/$f" ] || die "$builddir/$f missing: build first"
done
extra=("$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$jq")
if [ -n "$base" ]; then
        [ -x "$base" ] || die "--base $base: not an executable"
        extra+=("$base:/usr/bin/skbtraced-base")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-vmstartup.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -n "$log" ] || log=$work/console.log
append="skbt.vmstartup.backend=$backend skbt.vmstartup.rounds=$rounds"
append+=" skbt.vmstartup.base=$([ -n "$base" ] && echo 1 || echo 0)"
rc=0
"$top/tests/vm/run-vm.sh" "$kernel" "$here/vm-startup-guest.sh" --timeout "$timeout_s" --quiet \
        --log "$log" --append "$append" --extra "${extra[@]}" >"$work/run-vm.out" 2>&1 || rc=$?
grep -a '^SKBT-VMSTARTUP' "$log" | tr -d '\r' || true
if [ $rc -ne 0 ]; then
        tail -n 30 "$work/run-vm.out" >&2
        exit 1
fi
grep -aq '^SKBT-VMSTARTUP done' "$log" || die "the guest did not finish (see $log)"
