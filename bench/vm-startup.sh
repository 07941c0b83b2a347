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

# shellcheck source=bench/vm-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"
vm_init vm-startup
kernel=6.12
backend=kprobe-multi
rounds=2
base=
timeout_s=1500
log=

vm_opts --kernel=kernel --backend=backend --rounds=rounds --base=base --timeout=timeout_s \
        --log=log -- "$@"
vm_positive "--rounds and --timeout" "$rounds" "$timeout_s"
vm_need_root
vm_need_tools jq
jq=$(command -v jq)
vm_need_build daemon/skbtraced client/ipftctl
extra=("$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$jq")
if [ -n "$base" ]; then
        [ -x "$base" ] || die "--base $base: not an executable"
        extra+=("$base:/usr/bin/skbtraced-base")
fi

vm_workdir
[ -n "$log" ] || log=$work/console.log
append="skbt.vmstartup.backend=$backend skbt.vmstartup.rounds=$rounds"
append+=" skbt.vmstartup.base=$([ -n "$base" ] && echo 1 || echo 0)"
rc=0
vm_boot "$kernel" vm-startup-guest.sh "$timeout_s" "$log" "$work/run-vm.out" --append "$append" \
        --extra "${extra[@]}" || rc=$?
grep -a '^SKBT-VMSTARTUP' "$log" | tr -d '\r' || true
[ $rc -eq 0 ] || exit 1
grep -aq '^SKBT-VMSTARTUP done' "$log" || die "the guest did not finish (see $log)"
