#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-probeset-guest.sh — guest half of bench/vm-probeset.sh: what a trace of every skb function
# shows on a few packet paths, event by event, so the host can compare it with what smaller
# probe sets would have shown of the same packets; and what each set costs a session that
# matches nothing.
#
# Runs as /test.sh (busybox sh) with skbtraced, ipftctl, jq, nft, iperf3, bpftool and (when it
# could be built) ipft in the image.  Kernel command line:
#   skbt.ps.backend=kprobe-multi|fentry|kprobe   the one backend of this boot
#   skbt.ps.sets=NAME=SEL;...     the probe sets to cost, each a session's probe selection
#                                 ("--probes all", "-g a,b", "-r RE"), spaces as '+'
#   skbt.ps.rounds=N  skbt.ps.iperf=S  skbt.ps.pings=N  skbt.ps.ipft=0|1
# Prints, for the host:
#   SKBT-PS group NAME PARENT PROBE...      the probe groups as this kernel has them
#   SKBT-PS ev SCENARIO track,skb,function,ifname,netns,proto,saddr,daddr,detail,drop,verdict
#   SKBT-PS cost case=C round=R mbps=X pkts=P runs=N run_ns=T
#   SKBT-PS progs case=C round=R split=TYPE/NAME:RUNS_PER_PKT:NS_PER_RUN,...   where the runs
#     went: the 12 costliest programs (copies of one program summed), the costliest first
# Scenarios: ping over veth, ping through a router that DNATs, a ping dropped by nftables,
# a UDP datagram to a closed port, a short TCP transfer, a ping through an IPIP tunnel.
# Sessions use --track, so the events of one packet's journey (through NAT, into clones,
# through the tunnel) share a track id.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
cmdline_args skbt.ps BACKEND=backend SETS=sets ROUNDS=rounds IPERF_S=iperf PINGS=pings \
        HAVE_IPFT=ipft
case $BACKEND in
kprobe-multi | kprobe) IPFT_BACKEND=$BACKEND ;;
fentry) IPFT_BACKEND=ftrace ;;
*) fail "unknown backend $BACKEND" ;;
esac

step "topology: a -- b over veth (IPIP tunnel a <-> b inside it); c -- r (DNAT) -- s"
veth_ab
for n in c r s; do check "netns $n" "$IP" netns add $n; done
check "veth cr" "$IP" link add vc netns c type veth peer name vr netns r
check "veth rs" "$IP" link add vr2 netns r type veth peer name vs netns s
check "addr c" ns c "$IP" addr add 10.1.0.1/24 dev vc
check "addr r" ns r "$IP" addr add 10.1.0.254/24 dev vr
check "addr r vip" ns r "$IP" addr add 10.1.0.100/32 dev vr
check "addr r2" ns r "$IP" addr add 10.2.0.254/24 dev vr2
check "addr s" ns s "$IP" addr add 10.2.0.2/24 dev vs
for d in "c vc" "r vr" "r vr2" "s vs"; do
        # shellcheck disable=SC2086 # two words
        set -- $d
        check "up $2" ns "$1" "$IP" link set "$2" up
done
for n in c r s; do check "lo $n" ns $n "$IP" link set lo up; done
check "route c" ns c "$IP" route add default via 10.1.0.254
check "route s" ns s "$IP" route add default via 10.2.0.254
check "forwarding" ns r sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
printf '%s\n' "table ip nat {" \
        "  chain pre { type nat hook prerouting priority -100; ip daddr 10.1.0.100 dnat to 10.2.0.2; }" \
        "}" >$OUT/nat.nft
check "dnat" ns r nft -f $OUT/nat.nft
printf '%s\n' "table ip filter {" \
        "  chain in { type filter hook input priority 0; ip daddr 10.0.0.3 drop; }" \
        "}" >$OUT/drop.nft
check "drop rule" ns b nft -f $OUT/drop.nft
check "addr b2" ns b "$IP" addr add 10.0.0.3/24 dev vb
TUNNEL=0
if ns a "$IP" link add tun0 type ipip local 10.0.0.1 remote 10.0.0.2 2>/dev/null &&
        ns b "$IP" link add tun0 type ipip local 10.0.0.2 remote 10.0.0.1; then
        check "addr tun a" ns a "$IP" addr add 10.9.0.1/24 dev tun0
        check "addr tun b" ns b "$IP" addr add 10.9.0.2/24 dev tun0
        check "tun a up" ns a "$IP" link set tun0 up
        check "tun b up" ns b "$IP" link set tun0 up
        TUNNEL=1
else
        echo "SKBT-PS skip scenario=ipip reason=no-ipip-module"
fi
check "warm-up crs" ns c ping -c 1 -W 5 10.1.0.100
[ $TUNNEL = 0 ] || check "warm-up ipip" ns a ping -c 1 -W 5 10.9.0.2
check "iperf3 server" ns b iperf3 -s -D

step "$BACKEND: skbtraced, every skb function"
skbtraced --socket $SOCK --backend "$BACKEND" --no-return-probes --idle-detach-after 1 \
        --groups /usr/share/skbtraced/groups.conf \
        >$OUT/daemon.log 2>&1 &
DPID=$!
i=0
until ipftctl --socket $SOCK status >/dev/null 2>&1; do
        kill -0 $DPID 2>/dev/null || { tail -n 20 $OUT/daemon.log; fail "daemon exited"; }
        i=$((i + 1))
        [ $i -lt 3000 ] || fail "daemon not ready after 600 s"
        sleep 0.2
done
ipftctl --socket $SOCK status -o json | jq -c '.probes'
ipftctl --socket $SOCK list --groups -o json >$OUT/groups.json || fail "list --groups"
jq -r '"SKBT-PS group \(.name) \(.parent // "-") \([.probes[]? |
        select(.attached) | .name] | join(" "))"' $OUT/groups.json
ipftctl --socket $SOCK list -o json >$OUT/probes.json || fail "list"
jq -rs '"SKBT-PS probes " + ([.[] | select(.attached)] | group_by(.kind) |
        map("\(.[0].kind)=\(length)") | join(" "))' $OUT/probes.json

# scenario NAME FILTER... -- COMMAND...: trace every probe while COMMAND runs, print the events.
scenario() {
        _name=$1
        shift
        _f=
        while [ "$1" != "--" ]; do _f="$_f $1"; shift; done
        shift
        # shellcheck disable=SC2086 # filter words
        ipftctl --socket $SOCK trace --probes all --track -o json $_f >"$OUT/$_name.json" \
                2>"$OUT/$_name.err" &
        _p=$!
        wait_live "$OUT/$_name.err" $_p
        "$@" >/dev/null 2>&1
        sleep 1
        kill -INT $_p
        wait $_p
        tail -n 1 "$OUT/$_name.err"
        jq -r --arg s "$_name" '"SKBT-PS ev \($s) " + ([.track_id, .packet_id, .function,
                .ifname, .netns, (.tuple.proto // ""), (.tuple.saddr // ""),
                (.tuple.daddr // ""), ((.icmp.type // .tuple.tcp_flags // "") | tostring),
                (.drop_reason // ""), (.netfilter.verdict // "")] | map(tostring) | join(","))' \
                "$OUT/$_name.json"
}

step "scenarios"
scenario ping -p icmp --addr 10.0.0.2 -- ns a ping -c 3 -i 0.2 10.0.0.2
scenario dnat -p icmp --addr 10.1.0.100 -- ns c ping -c 3 -i 0.2 10.1.0.100
scenario nftdrop -p icmp --addr 10.0.0.3 -- ns a ping -c 3 -i 0.2 -W 1 10.0.0.3
# busybox nc has no UDP; its nslookup sends a UDP query to port 53, closed here.
scenario udpclosed -p udp --dport 53 -- ns a timeout 3 nslookup example.invalid 10.0.0.2
scenario tcp -p tcp --port 5201 -- ns a iperf3 -c 10.0.0.2 -n 64K -l 16K
[ $TUNNEL = 0 ] || scenario ipip --addr 10.9.0.2 -- ns a ping -c 3 -i 0.2 10.9.0.2

# Summed run time and run count of every BPF program (only the tracer's run in the guest).
bpf_runs() {
        bpftool prog show 2>/dev/null | awk '{ for (i = 1; i < NF; i++) {
                if ($i == "run_time_ns") t += $(i + 1); if ($i == "run_cnt") n += $(i + 1) } }
                END { printf "%d %d\n", t, n }'
}
# Run time and count per program type and name (copies summed) into $1.
prog_runs() {
        bpftool -j prog show 2>/dev/null |
                jq -r '.[] | "\(.type)/\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' |
                awk '{ t[$1] += $2; n[$1] += $3 } END { for (k in t) print k, t[k], n[k] }' >"$1"
}
# Per program from two prog_runs snapshots: runs per ICMP packet ($3 packets) and ns per run,
# the 12 costliest first.
prog_split() {
        awk -v pkts="$3" 'NR == FNR { t[$1] = $2; n[$1] = $3; next }
                $3 > n[$1] { dt = $2 - t[$1]; dn = $3 - n[$1]
                        printf "%d %s:%.1f:%d\n", dt, $1, pkts ? dn / pkts : 0, dt / dn }' "$1" "$2" |
                sort -rn | head -n 12 | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }'
}
# iperf3 over the a-b veth with BPF statistics off, then BPF runs during PINGS pings.
measure() {
        _mbps=$(ns a iperf3 -c 10.0.0.2 -t "$IPERF_S" -J 2>/dev/null |
                jq '.end.sum_received.bits_per_second / 1e6 | floor') || _mbps=-
        echo 1 >/proc/sys/kernel/bpf_stats_enabled
        # shellcheck disable=SC2046 # two numbers
        set -- $(bpf_runs)
        _t0=$1 _n0=$2
        prog_runs $OUT/progs0
        _rx=$(ns a ping -q -c "$PINGS" -i 0.01 10.0.0.2 2>/dev/null |
                sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
        # shellcheck disable=SC2046 # two numbers
        set -- $(bpf_runs)
        prog_runs $OUT/progs1
        echo 0 >/proc/sys/kernel/bpf_stats_enabled
        _runs=$(($2 - _n0))
        _ns=0
        [ "$_runs" -gt 0 ] && _ns=$((($1 - _t0) / _runs))
        echo "SKBT-PS cost case=$_case round=$_round mbps=${_mbps:--} pkts=$((2 * ${_rx:-0})) runs=$_runs run_ns=$_ns"
        [ "$_runs" -eq 0 ] ||
                echo "SKBT-PS progs case=$_case round=$_round split=$(prog_split $OUT/progs0 $OUT/progs1 $((2 * ${_rx:-0})))"
}
# Idle: the last session's probes detached after the linger, the programs loaded.
wait_idle() {
        i=0
        while ! ipftctl --socket $SOCK status -o json 2>/dev/null | jq -e '.tracepoints |
                        .idle_detached == true and (.loaded // 0) >= (.usable // 0)' >/dev/null; do
                i=$((i + 1))
                [ $i -lt 6000 ] || fail "daemon not idle after 600 s"
                sleep 0.1
        done
}
# cost_set NAME SELECTION ROUND: one session matching nothing (a mark no packet carries).
cost_set() {
        wait_idle
        # shellcheck disable=SC2086 # selection words
        ipftctl --socket $SOCK trace -m 0xdead -o json $2 >/dev/null 2>"$OUT/cost-$1.err" &
        _cp=$!
        wait_live "$OUT/cost-$1.err" $_cp
        _case=$1 _round=$3
        measure
        echo "SKBT-PS costinfo case=$1 $(grep -E '^(all [0-9]+ probes attached|[0-9]+ probes settled|Tracing)' "$OUT/cost-$1.err" | tr '\n' ' ')"
        kill -INT $_cp
        wait $_cp
}
ipft_cost() {
        rm -f $OUT/ipft.err
        ipft -b "$IPFT_BACKEND" -m 0xdead -o json >/dev/null 2>$OUT/ipft.err &
        _ip=$!
        i=0
        until tr '\r' '\n' <$OUT/ipft.err | grep -q "Trace ready"; do
                kill -0 $_ip 2>/dev/null || { tail -n 5 $OUT/ipft.err; fail "ipft exited"; }
                i=$((i + 1))
                [ $i -lt 6000 ] || fail "ipft not ready after 600 s"
                sleep 0.1
        done
        _case=ipft _round=$1
        measure
        kill -INT $_ip
        wait $_ip
}

step "cost of each probe set, one session matching nothing"
# The cases in a different order each round (rotated), so that a drift of the host's load
# over a round does not always favour the same case.
CASES="none=- $(echo "$SETS" | tr ';' ' ')"
[ "$HAVE_IPFT" != 1 ] || CASES="$CASES ipft=-"
r=1
while [ "$r" -le "$ROUNDS" ]; do
        for s in $CASES; do
                case $s in
                none=-)
                        wait_idle
                        _case=none _round=$r
                        measure ;;
                ipft=-)
                        wait_idle
                        ipft_cost "$r" ;;
                *) cost_set "${s%%=*}" "$(echo "${s#*=}" | tr '+' ' ')" "$r" ;;
                esac
        done
        CASES="${CASES#* } ${CASES%% *}"
        r=$((r + 1))
done
kill -TERM $DPID 2>/dev/null
wait $DPID
echo "SKBT-PS done"
