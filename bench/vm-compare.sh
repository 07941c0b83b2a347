#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-compare.sh — skbtraced against ipftrace2 on function probes, side by side in one VM-tier
# guest per backend (tests/vm, qemu TCG): what each costs the packet path, and how long each
# takes to get ready, to a session's first event, and to stop.
#
#   bench/vm-compare.sh [--kernel 6.12|6.1] [--backends LIST] [--regex all|ERE]
#                       [--fentry-regex all|ERE] [--rounds N] [--iperf S] [--pings N]
#                       [--firstruns N] [--linger S] [--cover-wait S] [--timeout S]
#                       [--json FILE] [--log DIR] [--base SKBTRACED] [--alt BACKEND]
#
# One boot per backend (default: those the kernel has: kprobe-multi,fentry,kprobe on 6.12,
# fentry,kprobe on 6.1).  In the guest (bench/vm-compare-guest.sh), nftables marks the
# traffic (ipftrace2 filters on marks only), and per round: no tracer; skbtraced idle after
# its linger, with one session matching nothing (a mark no packet carries), with one matching
# the marked traffic; ipftrace2 with the mark matching nothing, and with the traffic's mark.  Each case: iperf3 throughput over veth between two namespaces and
# ping RTT (BPF statistics off), then BPF program runs per ICMP packet and ns per run over
# --pings pings (statistics on).  Times: ready, a session's first event with the functions
# detached (cold) and held by another session (warm), session end, stop.
# A session is measured once all its probes are attached (as ipftrace2 once it is ready), and
# the time that took is reported (coverage); --cover-wait (default 1200 s) bounds that wait:
# kprobe attaches one function at a time, minutes for all under TCG.  A session still
# attaching then is measured anyway and its row says partial=ATTACHED/TOTAL.
# Both tools attach every function they find (--regex all, their own default sets) except on
# fentry, where both take --fentry-regex (default: the IP, UDP, device layers, ~115 functions):
# loading one program per function takes minutes under TCG.
# ipftrace2 is built from its upstream source archive (IPFTRACE2_TARBALL, see bench/README.md)
# by bench/build-ipftrace2.sh in a temporary directory; when it cannot be built its rows say
# why and the rest still runs.  Times under TCG are ~10x real hardware and
# vary between boots: compare within one backend's boot.
# --base runs another skbtraced build in the same boots too (rows base_*), for before/after
# comparisons of a change within one boot.  --alt runs skbtraced on another backend too, on
# the same functions (rows alt_*): e.g. fentry and kprobe per run within one boot.
# Prints the raw SKBT-CMP lines; --json writes them parsed.  Needs root, qemu, the cached
# kernels (tests/vm/fetch-kernels.sh), iperf3, bpftool, jq and a build (BUILDDIR, default
# build/).  Exit status 0 iff every boot completed; 77 when something needed is missing.
set -euo pipefail

# shellcheck source=bench/vm-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"
vm_init vm-compare
kernel=6.12
backends=
regex=all
fentry_regex='^(ip_|__ip_|udp_|__udp|dev_|__dev_|netif_|__netif_|napi_)'
rounds=2
iperf_s=5
pings=200
firstruns=5
linger=1
cover_wait=1200
timeout_s=3000
json=
logdir=
base=
alt=none

vm_opts --kernel=kernel --backends=backends --regex=regex --fentry-regex=fentry_regex \
        --rounds=rounds --iperf=iperf_s --pings=pings --firstruns=firstruns --linger=linger \
        --cover-wait=cover_wait --timeout=timeout_s --json=json --log=logdir --base=base \
        --alt=alt -- "$@"
vm_positive "--rounds, --iperf, --pings, --firstruns, --linger, --cover-wait and --timeout" \
        "$rounds" "$iperf_s" "$pings" "$firstruns" "$linger" "$cover_wait" "$timeout_s"
case $alt in
none | kprobe-multi | fentry | kprobe) ;;
*) die "--alt wants kprobe-multi, fentry or kprobe" ;;
esac
# The kernel command line carries the regexes: no spaces.
[[ $regex != *' '* && $fentry_regex != *' '* ]] || die "regexes must not contain spaces"
if [ -z "$backends" ]; then
        case $kernel in
        6.1) backends=fentry,kprobe ;;
        *) backends=kprobe-multi,fentry,kprobe ;;
        esac
fi

vm_need_root
vm_need_tools iperf3 bpftool jq nft
vm_need_build daemon/skbtraced client/ipftctl bench/firstline bench/linktargets
vm_workdir
[ -n "$logdir" ] || logdir=$work
mkdir -p "$logdir"

tarball=${IPFTRACE2_TARBALL:-}
ipft_note=
extra=("$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$builddir/bench/firstline"
        "$builddir/bench/linktargets"
        "$(command -v iperf3)" "$(command -v jq)" "$(command -v bpftool):/usr/sbin/bpftool"
        "$(command -v nft)")
if [ -z "$tarball" ]; then
        ipft_note="IPFTRACE2_TARBALL not set (the upstream source archive to build it from)"
elif ipft=$("$here/build-ipftrace2.sh" "$tarball" "$work/ipft" 2>"$work/ipft-build.err"); then
        extra+=("$ipft")
else
        ipft_note=$(printf '%s' "$ipft" | tail -n 1)
        [ -n "$ipft_note" ] || ipft_note="build-ipftrace2.sh failed: $(tail -n 1 "$work/ipft-build.err")"
fi
if [ -n "$base" ]; then
        [ -x "$base" ] || die "--base $base: not an executable"
        extra+=("$base:/usr/bin/skbtraced-base")
fi
have_ipft=1
[ -z "$ipft_note" ] || { have_ipft=0; echo "vm-compare: ipftrace2 rows skipped: $ipft_note" >&2; }

rc=0
IFS=, read -r -a belist <<<"$backends"
for be in "${belist[@]}"; do
        re=$regex
        [ "$be" != fentry ] || re=$fentry_regex
        append="skbt.cmp.backend=$be skbt.cmp.regex=$re skbt.cmp.rounds=$rounds"
        append+=" skbt.cmp.iperf=$iperf_s skbt.cmp.pings=$pings skbt.cmp.firstruns=$firstruns"
        append+=" skbt.cmp.ipft=$have_ipft skbt.cmp.linger=$linger skbt.cmp.coverwait=$cover_wait"
        append+=" skbt.cmp.alt=$alt skbt.cmp.base=$([ -n "$base" ] && echo 1 || echo 0)"
        log=$logdir/vm-compare-$kernel-$be.log
        t0=$SECONDS
        brc=0
        vm_boot "$kernel" vm-compare-guest.sh "$timeout_s" "$log" "$work/run-vm-$be.out" \
                --append "$append" --module nf_tables --extra "${extra[@]}" || brc=$?
        grep -a '^SKBT-CMP' "$log" | tr -d '\r' | sed "s/^SKBT-CMP /SKBT-CMP backend=$be /" \
                >"$work/lines-$be" || true
        echo "SKBT-CMP backend=$be boot seconds=$((SECONDS - t0)) rc=$brc" >>"$work/lines-$be"
        cat "$work/lines-$be"
        [ $brc -eq 0 ] || rc=1
done

if [ -n "$json" ]; then
        cat "$work"/lines-* | python3 -c '
import json, sys
kernel, note = sys.argv[1:3]
out = {"kernel": kernel, "ipft_skipped": note or None, "backends": {}}
for line in sys.stdin:
    words = line.split()[1:]
    kv = dict(w.split("=", 1) for w in words if "=" in w)
    be = out["backends"].setdefault(kv.pop("backend"), {"cases": [], "times": [], "info": [], "boot": {}})
    kind = [w for w in words[1:] if "=" not in w]
    kind = kind[0] if kind else "cases"
    if kind == "boot":
        be["boot"] = kv
    elif kind in ("time", "info", "skip"):
        be.setdefault(kind if kind != "time" else "times", []).append(kv)
    elif kind == "done":
        be["done"] = True
    else:
        be["cases"].append(kv)
with open(sys.argv[3], "w") as f:
    json.dump(out, f, indent=1)
' "$(basename "$(readlink -f "${SKBT_VM_CACHE:-$top/tests/vm/cache}/$kernel")")" "$ipft_note" "$json"
fi
exit $rc
