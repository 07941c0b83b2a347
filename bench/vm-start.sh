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

# shellcheck source=bench/vm-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"
vm_init vm-start
kernel=6.12
backends=kprobe-multi,fentry
runs=20
btruns=3
# The IP, UDP and device layers a UDP packet crosses from send to delivery: ~120 functions on 6.12.
regex='^(ip_|__ip_|udp_|__udp|dev_|__dev_|netif_|__netif_|napi_)'
timeout_s=2400
json=
log=

vm_opts --kernel=kernel --backends=backends --runs=runs --btruns=btruns --regex=regex \
        --timeout=timeout_s --json=json --log=log -- "$@"
vm_positive "--runs, --btruns and --timeout" "$runs" "$btruns" "$timeout_s"
# The kernel command line carries the regex: no spaces.
[[ $regex != *' '* ]] || die "--regex must not contain spaces"

vm_need_root
vm_need_tools bpftrace
bpftrace=$(command -v bpftrace)
vm_need_build daemon/skbtraced client/ipftctl bench/floodgen bench/firstline
vm_workdir
[ -n "$log" ] || log=$work/console.log

append="skbt.vmstart.backends=$backends skbt.vmstart.runs=$runs skbt.vmstart.btruns=$btruns"
append+=" skbt.vmstart.regex=$regex"
# bpftrace brings LLVM and clang (~200 MiB of libraries): the initramfs gets big, not slow.
rc=0
vm_boot "$kernel" vm-start-guest.sh "$timeout_s" "$log" "$work/run-vm.out" --append "$append" \
        --extra "$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$builddir/bench/floodgen" \
        "$builddir/bench/firstline" "$bpftrace" || rc=$?
grep -a '^SKBT-VMSTART' "$log" | tr -d '\r' || true
[ $rc -eq 0 ] || exit 1
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
