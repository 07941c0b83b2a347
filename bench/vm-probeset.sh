#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-probeset.sh — which probes a session should get by default: what smaller probe sets show
# of the same packets as every skb function does, and what each costs a session that matches
# nothing, in one VM-tier guest (tests/vm, qemu TCG).
#
#   bench/vm-probeset.sh [--kernel 6.12|6.1] [--backend kprobe-multi|fentry|kprobe]
#                        [--sets NAME=SEL;...] [--rounds N] [--iperf S] [--pings N]
#                        [--timeout S] [--log FILE]
#
# Guest: bench/vm-probeset-guest.sh.  Paths: a ping over veth, a ping through a router that
# DNATs, a ping dropped by nftables, UDP to a closed port (dropped NO_SOCKET), a short TCP
# transfer and a ping through an IPIP tunnel, traced on every skb function with --track; the
# host takes the events of each smaller set from that trace (a probe's hits do not depend on
# which other probes are attached) and compares, journey by journey, what an operator reads
# from them: the (namespace, device) places the packet was seen at, and the stages of its
# path (received, IP input, routed, forwarded, delivered locally, L4, socket, netfilter, NAT,
# IP output, queued, transmitted, tunnel, dropped with its reason, netfilter verdicts).
# Cost: per set and round, one session matching nothing (-m 0xdead) while iperf3 runs over
# veth (BPF statistics off), then BPF runs per ICMP packet over --pings pings; the same with
# no tracer and with ipftrace2 -m 0xdead (built as bench/vm-compare.sh builds it, from
# IPFTRACE2_TARBALL; its rows are skipped with the reason when it cannot be built).
# --sets: each set is a session's probe selection: "--probes+all", "--probes+groups", "-g+G1,G2"
# (groups of data/groups.conf), "-r+RE" ('+' stands for a space: the kernel command line
# carries them).  The scenarios are traced with --probes all.
# Needs root, qemu, the cached kernels, jq, nft, iperf3, bpftool and a build (BUILDDIR).
set -euo pipefail

# shellcheck source=bench/vm-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"
vm_init vm-probeset
kernel=6.12
backend=kprobe-multi
sets='all=--probes+all;groups=--probes+groups'
sets+=';path=-g+link-in,link-out,sched,ip,netfilter,drop;tracepoints=-r+:'
rounds=2
iperf_s=5
pings=200
timeout_s=1800
log=

vm_opts --kernel=kernel --backend=backend --sets=sets --rounds=rounds --iperf=iperf_s \
        --pings=pings --timeout=timeout_s --log=log -- "$@"
vm_positive "--rounds, --iperf, --pings and --timeout" "$rounds" "$iperf_s" "$pings" "$timeout_s"
[[ $sets != *' '* ]] || die "--sets: write spaces as '+'"
vm_need_root
vm_need_tools jq nft iperf3 bpftool
vm_need_build daemon/skbtraced client/ipftctl
vm_workdir
[ -n "$log" ] || log=$work/console.log

extra=("$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$(command -v jq)"
        "$(command -v nft)" "$(command -v iperf3)" "$(command -v bpftool):/usr/sbin/bpftool"
        "$top/data/groups.conf:/usr/share/skbtraced/groups.conf")
have_ipft=0
if [ -z "${IPFTRACE2_TARBALL:-}" ]; then
        echo "vm-probeset: ipftrace2 rows skipped: IPFTRACE2_TARBALL not set" >&2
elif ipft=$("$here/build-ipftrace2.sh" "$IPFTRACE2_TARBALL" "$work/ipft" 2>"$work/ipft.err"); then
        extra+=("$ipft")
        have_ipft=1
else
        echo "vm-probeset: ipftrace2 rows skipped: $ipft $(tail -n 1 "$work/ipft.err")" >&2
fi
append="skbt.ps.backend=$backend skbt.ps.sets=$sets skbt.ps.rounds=$rounds"
append+=" skbt.ps.iperf=$iperf_s skbt.ps.pings=$pings skbt.ps.ipft=$have_ipft"
vm_boot "$kernel" vm-probeset-guest.sh "$timeout_s" "$log" "$work/run-vm.out" --append "$append" \
        --module nf_tables --module nft_chain_nat --module nft_nat --module ipip \
        --extra "${extra[@]}" || exit 1
grep -a '^SKBT-PS' "$log" | tr -d '\r' | python3 "$here/probeset-report.py" "$sets"
grep -aq '^SKBT-PS done' "$log" || die "the guest did not finish (console: $log)"
