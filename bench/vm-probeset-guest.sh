#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-probeset-guest.sh — guest half of bench/vm-probeset.sh: what a trace of every skb function
# shows on a few packet paths, event by event, so the host can compare it with what a smaller
# probe set would have shown of the same packets.
#
# Runs as /test.sh (busybox sh) with skbtraced, ipftctl, jq, nft, iperf3 and groups.conf in the
# image.  Kernel command line: skbt.ps.backend=kprobe-multi|fentry|kprobe.
# Prints, for the host:
#   SKBT-PS group NAME PROBE...            the probe groups as this kernel has them
#   SKBT-PS ev SCENARIO [track,skb,function,ifname,netns,proto,detail,drop_reason]
#   SKBT-PS pkts SCENARIO N                packets the scenario sent (for hits per packet)
# Scenarios: ping over veth, ping through a router that DNATs, a ping dropped by nftables,
# a UDP datagram to a closed port, a short TCP transfer.  Sessions use --track, so the events
# of one packet's journey (through NAT, into clones) share a track id.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
BACKEND=$(sed -n 's/.*skbt\.ps\.backend=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$BACKEND" ] || fail "skbt.ps.backend is required"

step "topology: a -- b over veth; c -- r (DNAT 10.1.0.100 -> 10.2.0.2) -- s"
for n in a b c r s; do check "netns $n" "$IP" netns add $n; done
check "veth ab" "$IP" link add va netns a type veth peer name vb netns b
check "veth cr" "$IP" link add vc netns c type veth peer name vr netns r
check "veth rs" "$IP" link add vr2 netns r type veth peer name vs netns s
check "addr a" ns a "$IP" addr add 10.0.0.1/24 dev va
check "addr b" ns b "$IP" addr add 10.0.0.2/24 dev vb
check "addr c" ns c "$IP" addr add 10.1.0.1/24 dev vc
check "addr r" ns r "$IP" addr add 10.1.0.254/24 dev vr
check "addr r vip" ns r "$IP" addr add 10.1.0.100/32 dev vr
check "addr r2" ns r "$IP" addr add 10.2.0.254/24 dev vr2
check "addr s" ns s "$IP" addr add 10.2.0.2/24 dev vs
for d in "a va" "b vb" "c vc" "r vr" "r vr2" "s vs"; do
        # shellcheck disable=SC2086 # two words
        set -- $d
        check "up $2" ns "$1" "$IP" link set "$2" up
done
for n in a b c r s; do check "lo $n" ns $n "$IP" link set lo up; done
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
check "warm-up ab" ns a ping -c 1 -W 5 10.0.0.2
check "warm-up crs" ns c ping -c 1 -W 5 10.1.0.100
check "iperf3 server" ns b iperf3 -s -D

step "$BACKEND: skbtraced, every skb function"
skbtraced --socket $SOCK --backend "$BACKEND" --no-return-probes >$OUT/daemon.log 2>&1 &
i=0
until ipftctl --socket $SOCK status >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 3000 ] || fail "daemon not ready after 600 s"
        sleep 0.2
done
ipftctl --socket $SOCK status -o json | jq -c '.probes'
ipftctl --socket $SOCK list --groups -o json >$OUT/groups.json || fail "list --groups"
jq -r '.groups[] | "SKBT-PS group \(.name) \([.probes[]? | if type == "object" then .name else . end] | join(" "))"' \
        $OUT/groups.json

# scenario NAME FILTER... -- COMMAND...: trace while COMMAND runs, print the events compactly.
scenario() {
        _name=$1
        shift
        _f=
        while [ "$1" != "--" ]; do _f="$_f $1"; shift; done
        shift
        # shellcheck disable=SC2086 # filter words
        ipftctl --socket $SOCK trace --track -o json $_f >"$OUT/$_name.json" 2>"$OUT/$_name.err" &
        _p=$!
        sleep 1
        "$@" >/dev/null 2>&1
        sleep 1
        kill -INT $_p
        wait $_p
        tail -n 1 "$OUT/$_name.err"
        jq -r --arg s "$_name" '"SKBT-PS ev \($s) " + ([.track_id, .packet_id, .function,
                .ifname, .netns, (.tuple.proto // ""), ((.icmp.type // .tuple.tcp_flags //
                "") | tostring), (.drop_reason // "")] | map(tostring) | join(","))' \
                "$OUT/$_name.json"
}

step "scenarios"
scenario ping -p icmp -d 10.0.0.2 -- ns a ping -c 3 -i 0.2 10.0.0.2
echo "SKBT-PS pkts ping 6"
scenario dnat -p icmp --addr 10.1.0.100 -- ns c ping -c 3 -i 0.2 10.1.0.100
echo "SKBT-PS pkts dnat 6"
scenario nftdrop -p icmp -d 10.0.0.3 -- ns a ping -c 3 -i 0.2 -W 1 10.0.0.3
echo "SKBT-PS pkts nftdrop 3"
scenario udpclosed -p udp --dport 9 -- ns a sh -c 'echo x | nc -u -w 1 10.0.0.2 9'
echo "SKBT-PS pkts udpclosed 1"
scenario tcp -p tcp --port 5201 -- ns a iperf3 -c 10.0.0.2 -n 256K -l 64K
n=$(jq -s 'map(select(.function == "net:net_dev_queue")) | length' $OUT/tcp.json)
echo "SKBT-PS pkts tcp ${n:-0}"
kill -TERM %1 2>/dev/null
echo "SKBT-PS done"
