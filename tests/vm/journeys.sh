#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# journeys.sh — VM-tier guest script: packet journeys on a function backend of this kernel.
#
# Runs inside the guest as /test.sh (busybox sh) with skbtraced, ipftctl, jq, nft and tcpdump
# in the image and the groups file at /usr/share/skbtraced/groups.conf.  Kernel command line:
#   skbt.backend=fentry|kprobe-multi|kprobe     the function backend to exercise
# Checks, with function probes (the tracepoint backend is the e2e tier's): --track follows a
# ping through DNAT on a router namespace and links the clone tcpdump gets (skb_clone's return);
# --ct shows the DNAT'ed entry's original and reply tuples (struct nf_conn from module BTF);
# tunnels (GRE with a key, GRETAP, IPIP, SIT, Geneve, VXLAN) and VLANs (802.1Q, QinQ) between a
# and b: events name the tunnel and its inner packet, --layer inner filters on it;
# aggregate blocks are complete and in order, --egress cuts them; -g selects a group's
# functions; --netns, -i and --pid leave out concurrent traffic; --stack shows a UDP drop's
# callers; TCP retransmissions (a write-queue skb, no headers, no skb->sk) take the tuple of
# the socket the function is passed.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
BE=$(sed -n 's/.*skbt\.backend=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$BE" ] || fail "no skbt.backend= on the kernel command line"
# --wait-attached: each session hears everything it selected from its first event on (probes
# are attached on demand), and its --duration counts from then.
T="ipftctl --socket $SOCK trace --wait-attached"

# The functions of a ping's and a UDP drop's path under both kernels' names, the copy and
# free functions tracking uses, TCP's retransmission, and the tracepoints.
SUBSET='^(ip_rcv|ip_rcv_finish|ip_local_deliver|ip_forward|ip_forward_finish|ip_output|ip_finish_output2|icmp_rcv|__dev_queue_xmit|dev_queue_xmit_nit|dev_hard_start_xmit|__netif_receive_skb_one_core|skb_clone|skb_copy|__pskb_copy_fclone|pskb_expand_head|__kfree_skb|kfree_skbmem|kfree_skb_partial|tpacket_rcv|packet_rcv|udp_rcv|__udp4_lib_rcv|kfree_skb_reason|sk_skb_reason_drop|__tcp_retransmit_skb|tcp_retransmit_skb|skb:.*|net:.*)$'

# tcpdump -Z root looks the user up.
[ -f /etc/passwd ] || echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd

step "topology: a -- b (10.0.0.0/24), cl -- rt -- sv with DNAT on rt"
for n in a b cl rt sv; do
        check "netns $n" "$IP" netns add $n
        check "lo $n" ns $n "$IP" link set lo up
done
check "veth a-b" "$IP" link add va netns a type veth peer name vb netns b
check "veth cl-rt" "$IP" link add c0 netns cl type veth peer name r0 netns rt
check "veth rt-sv" "$IP" link add r1 netns rt type veth peer name s0 netns sv
check "addr a" ns a "$IP" addr add 10.0.0.1/24 dev va
check "addr b" ns b "$IP" addr add 10.0.0.2/24 dev vb
check "addr b2" ns b "$IP" addr add 10.0.0.3/24 dev vb
check "addr cl" ns cl "$IP" addr add 10.1.0.1/24 dev c0
check "addr rt0" ns rt "$IP" addr add 10.1.0.254/24 dev r0
check "addr vip" ns rt "$IP" addr add 10.1.0.100/32 dev r0
check "addr rt1" ns rt "$IP" addr add 10.2.0.254/24 dev r1
check "addr sv" ns sv "$IP" addr add 10.2.0.2/24 dev s0
for d in "a va" "b vb" "cl c0" "rt r0" "rt r1" "sv s0"; do
        set -- $d
        check "$2 up" ns $1 "$IP" link set $2 up
done
check "route cl" ns cl "$IP" route add default via 10.1.0.254
check "route sv" ns sv "$IP" route add default via 10.2.0.254
check "forwarding" ns rt sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
printf 'table ip t {\n chain pre {\n  type nat hook prerouting priority -100;\n  ip daddr 10.1.0.100 dnat to 10.2.0.2\n }\n}\n' >$OUT/nat.nft
check "nft dnat" ns rt nft -f $OUT/nat.nft
check "ping a-b" ns a ping -c 1 -W 2 10.0.0.2
check "ping vip" ns cl ping -c 1 -W 2 10.1.0.100
NETNS_B=$(stat -L -c %i /run/netns/b)

step "$BE: daemon on the subset"
skbtraced --socket $SOCK --backend "$BE" --probes "$SUBSET" --idle-detach-after never --groups /usr/share/skbtraced/groups.conf \
        >$OUT/daemon.log 2>&1 &
DPID=$!
i=0
while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
        kill -0 $DPID 2>/dev/null || { tail -30 $OUT/daemon.log; fail "daemon exited"; }
        i=$((i + 1))
        [ $i -lt 1500 ] || fail "daemon not ready after 300 s"
        sleep 0.2
done
ipftctl --socket $SOCK list -o json | jq -r 'select(.kind == "function" and .attached) | .name' |
        tr '\n' ' '
echo


step "$BE: --track follows the ping through DNAT"
run dnat-track 4 -p icmp -d 10.1.0.100 --track -o json
run dnat-plain 4 -p icmp -d 10.1.0.100 -o json
sleep 1
ns cl ping -c 2 -i 0.5 -W 2 10.1.0.100 >/dev/null
waitjobs
jq -c '[.function, .ifname, .tuple.daddr, .track_id]' $OUT/dnat-track | head -40
# An echo request's events: before the rewrite (VIP) and after (server), one track id each.
jq -e -s '[.[] | select(.icmp.type == 8)] | group_by(.icmp.seq) | length == 2 and all(.[];
        (map(.track_id) | unique | length == 1 and .[0] != 0) and
        any(.[]; .tuple.daddr == "10.1.0.100") and
        any(.[]; .tuple.daddr == "10.2.0.2" and (.function == "ip_output" or
                .function == "__dev_queue_xmit" or .function == "icmp_rcv")))' \
        $OUT/dnat-track >/dev/null || fail "$BE: --track lost the request after DNAT"
jq -e -s 'length > 0 and all(.[]; .tuple.daddr != "10.2.0.2" and .track_id == 0)' \
        $OUT/dnat-plain >/dev/null || fail "$BE: without --track the rewritten packet matched"

step "$BE: --ct: the DNAT'ed ping's conntrack entry (nf_conntrack is a module here)"
run dnat-ct 3 -p icmp -d 10.2.0.2 --ct -o json
sleep 1
ns cl ping -c 1 -W 2 10.1.0.100 >/dev/null
waitjobs
jq -c '[.function, .ifname, .conntrack.state, .conntrack.orig.daddr, .conntrack.reply.saddr]' \
        $OUT/dnat-ct | head -20
# On rt, after the rewrite: the original tuple has the VIP, the reply tuple the server.
jq -e -s 'any(.[]; .icmp.type == 8 and .conntrack.state == "new" and
        .conntrack.orig.saddr == "10.1.0.1" and .conntrack.orig.daddr == "10.1.0.100" and
        .conntrack.reply.saddr == "10.2.0.2" and .conntrack.reply.daddr == "10.1.0.1" and
        (.conntrack.status | index("DST_NAT") != null))' $OUT/dnat-ct >/dev/null ||
        fail "$BE: --ct did not show the DNAT'ed entry's two tuples"

step "$BE: tunnels and VLANs between a and b"
# name type options..., inner addresses 10.4.N.1 (a) and .2 (b) or fd04:N::1/2
tunnel() {
        _n=$1
        _name=$2
        shift 2
        for _side in "a 10.0.0.1 10.0.0.2 1" "b 10.0.0.2 10.0.0.1 2"; do
                set -- $_side "$@"
                _ns=$1 _l=$2 _r=$3 _me=$4
                shift 4
                check "$_name in $_ns" ns $_ns "$IP" link add $_name "$@" local $_l remote $_r
                if [ "$_name" = sit1 ]; then
                        check "addr $_name" ns $_ns "$IP" addr add fd04:$_n::$_me/64 dev $_name nodad
                else
                        check "addr $_name" ns $_ns "$IP" addr add 10.4.$_n.$_me/24 dev $_name
                fi
                check "$_name up" ns $_ns "$IP" link set $_name up
        done
}
tunnel 1 gre1 type gre key 77
tunnel 2 gtap1 type gretap key 5
tunnel 3 ipip1 type ipip
tunnel 4 sit1 type sit
for _side in "a 10.0.0.2 1" "b 10.0.0.1 2"; do
        set -- $_side
        check "geneve in $1" ns $1 "$IP" link add gnv1 type geneve id 9 remote $2
        check "vxlan in $1" ns $1 "$IP" link add vx1 type vxlan id 42 remote $2 dstport 4789 dev v$1
        check "vlan in $1" ns $1 "$IP" link add link v$1 name v$1.100 type vlan id 100
        check "qinq s in $1" ns $1 "$IP" link add link v$1 name v$1.s type vlan proto 802.1ad id 200
        check "qinq c in $1" ns $1 "$IP" link add link v$1.s name v$1.s.10 type vlan id 10
        # The 802.1ad device first: its 802.1Q child cannot come up while it is down.
        check "v$1.s up" ns $1 "$IP" link set v$1.s up
        for d in gnv1:5 vx1:6 v$1.100:7 v$1.s.10:8; do
                check "addr ${d%:*}" ns $1 "$IP" addr add 10.4.${d#*:}.$3/24 dev ${d%:*}
                check "${d%:*} up" ns $1 "$IP" link set ${d%:*} up
        done
done
run tun 6 --layer inner -p icmp -d 10.4.0.0/16 -o json
run tun6 6 --layer inner -p icmp6 -d fd04:4::2 -o json
run outer 6 -p icmp -d 10.4.0.0/16 -o json
sleep 1
for n in 1 2 3 5 6 7 8; do
        ns a ping -c 1 -W 2 10.4.$n.2 >/dev/null 2>&1 || echo "ping 10.4.$n.2 failed"
done
ns a ping -6 -c 1 -W 2 fd04:4::2 >/dev/null 2>&1 || echo "ping fd04:4::2 failed"
waitjobs
jq -c 'select(.tunnel) | [.function, .ifname, .tunnel.type, (.tunnel.vni // .tunnel.key),
        .tunnel.inner.daddr]' $OUT/tun $OUT/tun6 | sort -u | head -40
for want in "gre 77 10.4.1.2" "gretap 5 10.4.2.2" "ipip null 10.4.3.2" "geneve 9 10.4.5.2" \
        "vxlan 42 10.4.6.2" "sit null fd04:4::2"; do
        set -- $want
        jq -e -s --arg t "$1" --argjson id "$2" --arg d "$3" 'any(.[]; .tunnel.type == $t and
                (.tunnel.vni // .tunnel.key) == $id and .tunnel.inner.daddr == $d and
                (.ifname == "va" or .ifname == "vb"))' $OUT/tun $OUT/tun6 >/dev/null ||
                fail "$BE: no $1 event (id $2) around the ping to $3"
done
# Inner filters also see the packets before and after the tunnel (the overlay devices).
jq -e -s 'any(.[]; .ifname == "gre1" and .tuple.daddr == "10.4.1.2" and (.tunnel | not))' \
        $OUT/tun >/dev/null || fail "$BE: --layer inner missed the packet on gre1"
# The outer layer sees the plain packets only, never an encapsulated one.
jq -e -s 'length > 0 and all(.[]; .tunnel | not)' $OUT/outer >/dev/null ||
        fail "$BE: an outer filter matched an encapsulated packet"
# VLANs: the offloaded tag on the veth, the inner tag of QinQ.
jq -c 'select(.tuple.vlan) | [.function, .ifname, .tuple.daddr, .tuple.vlan]' $OUT/outer | sort -u
jq -e -s 'any(.[]; .tuple.daddr == "10.4.7.2" and .tuple.vlan == 100) and
        any(.[]; .tuple.daddr == "10.4.8.2" and .tuple.vlan == 10)' $OUT/outer >/dev/null ||
        fail "$BE: VLAN ids missing from the VLAN pings' events"

step "$BE: tcpdump's clone joins the reply's journey"
"$IP" netns exec b tcpdump -Z root -n -i vb -w $OUT/cap.pcap 2>$OUT/tcpdump.err &
TD=$!
i=0
until grep -q "listening on" $OUT/tcpdump.err; do
        kill -0 $TD 2>/dev/null || { cat $OUT/tcpdump.err; fail "tcpdump exited"; }
        i=$((i + 1))
        [ $i -lt 100 ] || fail "tcpdump not listening after 20 s"
        sleep 0.2
done
run clone 3 -p icmp -s 10.0.0.2 -d 10.0.0.1 --track -o json
sleep 0.7
ns a ping -c 1 -W 2 10.0.0.2 >/dev/null
waitjobs
kill $TD
wait $TD
jq -c '[.function, .packet_id, .track_id]' $OUT/clone | head -30
jq -e -s '[.[] | select(.icmp.type == 0)] | (map(.track_id) | unique | length == 1) and
        (map(.packet_id) | unique | length >= 2) and any(.[]; .function == "skb_clone")' \
        $OUT/clone >/dev/null || fail "$BE: the reply's clone for tcpdump is not in its journey"

step "$BE: aggregate blocks, complete and in order; --egress"
run agg 3 -p icmp -s 10.0.0.1 -d 10.0.0.2 -o aggregate-json
run egress 3 -p icmp -s 10.0.0.1 -d 10.0.0.2 -o aggregate-json --egress ip_output
sleep 1
ns a ping -c 1 -W 2 10.0.0.2 >/dev/null
waitjobs
jq -c '{track_id, part, end, flow, f: [.events[].function]}' $OUT/agg $OUT/egress
jq -e -s 'length == 1 and .[0].end == "freed" and (.[0].events | map(.timestamp) | . == sort) and
        (.[0].events | map(.function) | index("ip_output") < index("ip_rcv") and
         index("ip_rcv") < index("ip_local_deliver") and index("ip_local_deliver") < index("icmp_rcv"))
        and (.[0].events | map(.track_id) | unique | length == 1)' $OUT/agg >/dev/null ||
        fail "$BE: the request's block is incomplete or out of order"
jq -e -s 'length == 2 and .[0].end == "egress" and .[0].events[-1].function == "ip_output" and
        .[1].part == 2 and any(.[1].events[]; .function == "ip_rcv")' $OUT/egress >/dev/null ||
        fail "$BE: --egress ip_output did not end the block there"

step "$BE: -g ip-in"
ipftctl --socket $SOCK list --groups | sed -n '/ip-in/,/ip-forward/p'
run grp 3 -p icmp --addr 10.0.0.2 -g ip-in -o json
sleep 1
ns a ping -c 1 -W 2 10.0.0.2 >/dev/null
waitjobs
jq -r .function $OUT/grp | sort -u | tr '\n' ' '
echo
jq -e -s 'length > 0 and all(.[]; .group == "ip-in") and any(.[]; .function == "ip_rcv")' \
        $OUT/grp >/dev/null || fail "$BE: -g ip-in selected other probes"

step "$BE: --netns, -i, --pid leave out concurrent traffic"
run netns 4 -p icmp --netns /run/netns/b -o json
run ifname 4 -p icmp --netns /run/netns/a -i va -o json
sleep 1
bg ns a ping -c 3 -i 0.3 -W 2 10.0.0.2 >/dev/null
bg ns b ping -c 8 -i 0.2 -W 2 10.0.0.1 >/dev/null
bg ns cl ping -c 3 -i 0.3 -W 2 10.1.0.100 >/dev/null
waitjobs
jq -e -s --argjson n "$NETNS_B" 'length > 0 and all(.[]; .netns == $n or .netns == 0)' $OUT/netns \
        >/dev/null || fail "$BE: --netns let other namespaces through"
jq -e -s 'length > 0 and all(.[]; .ifname == "va")' $OUT/ifname >/dev/null ||
        fail "$BE: -i va let other devices through"
# ip execs ping: $! is ping's pid.
"$IP" netns exec a ping -c 10 -i 0.2 -W 2 10.0.0.2 >/dev/null &
P1=$!
JOBS="$JOBS $P1"
"$IP" netns exec a ping -c 10 -i 0.2 -W 2 10.0.0.3 >/dev/null &
P2=$!
JOBS="$JOBS $P2"
$T -p icmp --pid $P1 -o json --duration 2 >$OUT/pid 2>$OUT/pid.err
waitjobs
# Sending is done in the sender's context; receiving may run in whoever's softirq.
jq -e -s --argjson p "$P1" 'length > 0 and all(.[]; .pid == $p) and
        any(.[]; .tuple.daddr == "10.0.0.2") and
        all(.[]; .function != "ip_output" or .tuple.daddr != "10.0.0.3")' \
        $OUT/pid >/dev/null || fail "$BE: --pid $P1 let other processes' packets through"
echo "pid $P1: $(wc -l <$OUT/pid) events; the other ping ($P2) left out"

step "$BE: a UDP drop's stack"
bg sh -c ". /usr/lib/skbt-vm/lib.sh; sleep 1; ns a timeout 3 nslookup example.invalid 10.0.0.2" \
        >/dev/null 2>&1
$T -t drop --stack -p udp --dport 53 -o json -c 1 --duration 6 >$OUT/stack 2>/dev/null
waitjobs
jq -c '{drop_reason, stack}' $OUT/stack
jq -e -s 'length == 1 and .[0].drop_reason == "NO_SOCKET" and
        any(.[0].stack[]; test("^(__udp4_lib_rcv|udp_rcv|udp_queue_rcv)")) and
        any(.[0].stack[]; test("^ip_"))' $OUT/stack >/dev/null ||
        fail "$BE: the drop's stack lacks the UDP and IP callers"

step "$BE: TCP retransmissions take their socket's tuple (the sk argument: no skb->sk)"
printf 'table ip rtx {\n chain in {\n  type filter hook input priority 0;\n  tcp dport 9500 tcp flags syn accept\n  tcp dport 9500 drop\n }\n}\n' >$OUT/rtx.nft
check "nft rtx" ns b nft -f $OUT/rtx.nft
bg ns b timeout 8 nc -l -p 9500 >/dev/null 2>&1
run rtx 5 -p tcp -d 10.0.0.2 --dport 9500 -o json
run rtx-other 5 -p tcp --dport 9501 -o json
bg sh -c ". /usr/lib/skbt-vm/lib.sh; echo data | ns a timeout 4 nc 10.0.0.2 9500" >/dev/null 2>&1
waitjobs
ns b nft delete table ip rtx
jq -c '[.function, .tuple.saddr, .tuple.sport, .tuple.tcp_flags, .tuple.from_socket]' $OUT/rtx |
        grep -i retrans | head -5
jq -e -s 'any(.[]; (.function == "__tcp_retransmit_skb" or .function == "tcp_retransmit_skb")
        and .tuple.from_socket == true and .tuple.saddr == "10.0.0.1" and .tuple.sport > 0
        and (.tuple.tcp_flags | contains(".")))' $OUT/rtx >/dev/null ||
        fail "$BE: no retransmission with the socket's tuple"
jq -e -s 'length == 0' $OUT/rtx-other >/dev/null || fail "$BE: --dport 9501 matched port 9500"

ipftctl --socket $SOCK status -o json | jq -c .tracking
kill -TERM $DPID
wait $DPID || fail "daemon exit status $? after SIGTERM"
echo "journeys passed on $(uname -r) with $BE"
