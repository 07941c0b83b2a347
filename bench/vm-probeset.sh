#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vm-probeset.sh — what a smaller probe set would show of the same packets: a trace of every skb
# function on a few packet paths in one VM-tier guest, compared with the subset of its events
# that the probe groups (data/groups.conf: functions and tracepoints) would have given.
#
#   bench/vm-probeset.sh [--kernel 6.12|6.1] [--backend kprobe-multi|fentry|kprobe]
#                        [--timeout S] [--log FILE]
#
# Guest: bench/vm-probeset-guest.sh (ping over veth, ping through a DNAT router, a ping dropped
# by nftables, UDP to a closed port, a short TCP transfer; sessions with --track).  Prints, per
# scenario: probe hits per packet with every function and with the groups' probes, and what the
# smaller set loses of each packet's journey: the (namespace, device) places it was seen at,
# the drops and where they were reported, the functions seen first and last.
# Needs root, qemu, the cached kernels, jq, nft, iperf3 and a build (BUILDDIR).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}
kernel=6.12
backend=kprobe-multi
timeout_s=1800
log=

die() { printf 'vm-probeset: %s\n' "$*" >&2; exit 2; }
while [ $# -gt 0 ]; do
        case "$1" in
        --kernel | --backend | --timeout | --log)
                [ $# -ge 2 ] || die "$1 needs a value"
                case "$1" in
                --kernel) kernel=$2 ;;
                --backend) backend=$2 ;;
                --timeout) timeout_s=$2 ;;
                --log) log=$2 ;;
                esac
                shift 2 ;;
        -h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) die "unknown argument '$1'" ;;
        esac
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: vm-probeset: needs root"; exit 77; }
for t in jq nft iperf3; do
        command -v "$t" >/dev/null || { echo "SKIP: vm-probeset: $t not installed"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-vmps.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -n "$log" ] || log=$work/console.log

"$top/tests/vm/run-vm.sh" "$kernel" "$here/vm-probeset-guest.sh" --timeout "$timeout_s" --quiet \
        --log "$log" --append "skbt.ps.backend=$backend" \
        --module nf_tables --module nft_chain_nat --module nft_nat \
        --extra "$builddir/daemon/skbtraced" "$builddir/client/ipftctl" "$(command -v jq)" \
        "$(command -v nft)" "$(command -v iperf3)" \
        "$top/data/groups.conf:/usr/share/skbtraced/groups.conf" >"$work/run-vm.out" 2>&1 ||
        { tail -n 40 "$work/run-vm.out" >&2; exit 1; }
grep -a '^SKBT-PS' "$log" | tr -d '\r' | python3 -c '
import sys
from collections import OrderedDict, defaultdict

groups, events, pkts = {}, defaultdict(list), {}
for line in sys.stdin:
    w = line.split(" ", 3)
    if len(w) < 3:
        continue
    if w[1] == "group":
        groups[w[2]] = set(w[3].split()) if len(w) > 3 else set()
    elif w[1] == "ev":
        f = w[3].strip().split(",")
        events[w[2]].append(dict(zip(("track", "skb", "fn", "dev", "netns", "proto", "detail",
                                      "drop"), f)))
    elif w[1] == "pkts":
        pkts[w[2]] = int(w[3])
small = set().union(*groups.values()) if groups else set()
print(f"probe groups: {len(groups)}, {len(small)} probes named")
print()
print("| scenario | packets | every function: hits, per packet, functions | groups: hits, "
      "per packet, functions | places lost | drops lost | journeys whose first / last probe "
      "differs |")
print("|---|---|---|---|---|---|---|")
for scen, evs in events.items():
    n = max(pkts.get(scen, 1), 1)
    sub = [e for e in evs if e["fn"] in small]
    def places(es):
        out = defaultdict(list)
        for e in es:
            if e["dev"]:
                key = (e["netns"], e["dev"])
                if key not in out[e["track"]]:
                    out[e["track"]].append(key)
        return out
    pa, ps = places(evs), places(sub)
    lost = sum(len(set(v) - set(ps.get(t, []))) for t, v in pa.items())
    total = sum(len(v) for v in pa.values())
    da = {(e["track"], e["drop"]) for e in evs if e["drop"]}
    ds = {(e["track"], e["drop"]) for e in sub if e["drop"]}
    ends = 0
    by_a, by_s = defaultdict(list), defaultdict(list)
    for e in evs:
        by_a[e["track"]].append(e["fn"])
    for e in sub:
        by_s[e["track"]].append(e["fn"])
    for t, fa in by_a.items():
        fs = by_s.get(t)
        if not fs or fs[0] != fa[0] or fs[-1] != fa[-1]:
            ends += 1
    fa_n, fs_n = len({e["fn"] for e in evs}), len({e["fn"] for e in sub})
    print(f"| {scen} | {n} | {len(evs)}, {len(evs) / n:.1f}, {fa_n} | "
          f"{len(sub)}, {len(sub) / n:.1f}, {fs_n} | {lost} of {total} | "
          f"{len(da - ds)} of {len(da)} | {ends} of {len(by_a)} |")
print()
print("Functions with the most hits that no group names (all scenarios):")
cnt = defaultdict(int)
for evs in events.values():
    for e in evs:
        if e["fn"] not in small:
            cnt[e["fn"]] += 1
for fn, c in sorted(cnt.items(), key=lambda x: -x[1])[:40]:
    print(f"  {c:6d} {fn}")
for scen, evs in events.items():
    print()
    print(f"{scen}: first journey, every function / groups only:")
    t0 = next((e["track"] for e in evs if e["track"] != "0"), None)
    print("  " + " ".join(e["fn"] + ("@" + e["dev"] if e["dev"] else "") for e in evs
                          if e["track"] == t0))
    print("  " + " ".join(e["fn"] + ("@" + e["dev"] if e["dev"] else "") for e in evs
                          if e["track"] == t0 and e["fn"] in small))
'
