#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# scenarios.sh — VM-tier guest script: the e2e scenarios on each function backend of this kernel.
#
# Runs inside the guest as /test.sh (busybox sh) with skbtraced, ipftctl and jq in the image.
# Kernel command line (run-vm.sh --append):
#   skbt.backends=kprobe-multi,fentry,kprobe   backends to exercise on a probe subset
#   skbt.unusable=kprobe-multi                  backends the capability probe must call unusable
#   skbt.full=kprobe-multi                      backend for the one full-coverage run (or "none")
#   skbt.fullgraph=1                            that run also traces function_graph on every skb
#                                               function (its returns too: minutes of TCG on kprobe)
# For each backend: the daemon starts and reports it; an ICMP session with an address filter
# sees the echo request on its path in order (ip_rcv -> ip_local_deliver -> icmp_rcv) and
# nothing of concurrent traffic to another address; the drop tracer reports a UDP packet to a
# closed port with reason NO_SOCKET; a pcap filter expression selects like --addr does;
# custom fields (-F) match the events and -o pcapng writes packets;
# function_graph pairs returns with entries and nests.  The full-coverage run attaches every
# skb function for a session, then their returns for a function_graph session.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
# Probes are attached on demand: --wait-attached makes each session hear everything it
# selected from its first event on, and run (lib.sh) returns once it is live.
T="command ipftctl --socket $SOCK trace --wait-attached"

arg() {
        sed -n "s/.*skbt\.$1=\([^ ]*\).*/\1/p" /proc/cmdline
}
BACKENDS=$(arg backends | tr , ' ')
UNUSABLE=$(arg unusable | tr , ' ')
FULL=$(arg full)
FULLGRAPH=$(arg fullgraph)
# The path of an ICMP echo and a UDP drop, under each kernel's names.
SUBSET='^(veth_xmit|ip_rcv|ip_rcv_core|ip_rcv_finish|ip_local_deliver|ip_local_deliver_finish|ip_protocol_deliver_rcu|icmp_rcv|icmp_echo|__dev_queue_xmit|dev_hard_start_xmit|ip_output|ip_finish_output2|__netif_receive_skb_core|__netif_receive_skb_one_core|udp_rcv|__udp4_lib_rcv|kfree_skb_reason|sk_skb_reason_drop|skb:kfree_skb|net:netif_receive_skb)$'

step "topology"
for n in a b; do check "netns $n" "$IP" netns add $n; done
check "veth" "$IP" link add va netns a type veth peer name vb netns b
check "addr a" ns a "$IP" addr add 10.0.0.1/24 dev va
check "addr b" ns b "$IP" addr add 10.0.0.2/24 dev vb
check "addr b2" ns b "$IP" addr add 10.0.0.3/24 dev vb
for n in a b; do
        check "lo $n" ns $n "$IP" link set lo up
done
check "va up" ns a "$IP" link set va up
check "vb up" ns b "$IP" link set vb up
check "warm-up ping" ns a ping -c 1 -W 2 10.0.0.2

# start_daemon BACKEND [ARGS...]: start and wait until it answers status (bounded).
start_daemon() {
        _be=$1
        shift
        _t0=$(date +%s)
        skbtraced --socket $SOCK --backend "$_be" "$@" >$OUT/daemon-$_be.log 2>&1 &
        DPID=$!
        _i=0
        while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
                if ! kill -0 $DPID 2>/dev/null; then
                        cat $OUT/daemon-$_be.log
                        fail "$_be: daemon exited during start-up"
                fi
                _i=$((_i + 1))
                [ $_i -lt 1500 ] || fail "$_be: daemon not ready after 300 s"
                sleep 0.2
        done
        echo "$_be: ready in $(($(date +%s) - _t0)) s (TCG)"
        grep -E "probes attached|chosen" $OUT/daemon-$_be.log
}

stop_daemon() {
        kill -TERM $DPID
        wait $DPID
        _rc=$?
        [ $_rc -eq 0 ] || fail "daemon exit status $_rc after SIGTERM"
}

# noret: _noret is the JSON list of functions with no return probe (ipftctl list).
noret() {
        _noret=$(command ipftctl --socket $SOCK list -o json |
                jq -c -s '[.[] | select(.kind == "function" and (.returns | not)) | .name]')
        [ -n "$_noret" ] || { echo "ipftctl list failed"; return 1; }
}

# task_depth FILE: the deepest a task's stack of calls with a return got in a function_graph
# JSON recording (the BPF side keeps one stack per task, packets nested in one another share it).
task_depth() {
        noret || return 1
        jq -s --argjson noret "$_noret" '
                reduce (.[] | select(.function as $f | $noret | index([$f]) | not)) as $e
                  ({d: {}, max: 0}; ($e.pid | tostring) as $t |
                  if $e.is_return then .d[$t] -= 1
                  else .d[$t] += 1 | .max = ([.max, .d[$t]] | max) end) | .max' "$1"
}

# paired FILE: every return in a function_graph JSON recording closes the last open entry of
# the same function on the same packet, and every entry is closed by the end, save those of
# functions with no return probe (the drop functions are leaves; ipftctl list says which).
# Catches frames lost on the BPF side (a task's stack deeper than it follows, a frame no
# return pops).  Prints what is wrong.
paired() {
        noret || return 1
        jq -r -s --argjson noret "$_noret" '
                reduce (.[] | select(.function as $f | $noret | index([$f]) | not)) as $e
                  ({bad: [], st: {}};
                  ($e.packet_id) as $p |
                  if $e.is_return then
                    (.st[$p] // []) as $s |
                    if ($s | length) > 0 and $s[-1] == $e.function
                    then .st[$p] = $s[:-1]
                    else .bad += ["return of \($e.function) on \($p) closes \($s[-1] // "nothing")"] end
                  else .st[$p] = ((.st[$p] // []) + [$e.function]) end)
                | .bad + [.st | to_entries[] | select(.value | length > 0) |
                          "never returned on \(.key): \(.value | join(" "))"]
                | if length == 0 then empty else .[:3] | join("; ") end' "$1" | grep . && return 1
        return 0
}

# in_order FILE NAME...: the names appear in this order among the file's lines.
in_order() {
        _f=$1
        shift
        _prev=0
        for _n in "$@"; do
                _l=$(grep -n -x "$_n" "$_f" | head -1 | cut -d: -f1)
                [ -n "$_l" ] || { echo "missing $_n"; return 1; }
                [ "$_l" -gt "$_prev" ] || { echo "$_n out of order"; return 1; }
                _prev=$_l
        done
}

step "capability probe"
ipftctl() { command ipftctl "$@"; }
skbtraced --socket $SOCK --backend tracepoint >$OUT/probe.log 2>&1 &
DPID=$!
_i=0
while ! command ipftctl --socket $SOCK status >/dev/null 2>&1; do
        _i=$((_i + 1))
        if [ $_i -ge 300 ] || ! kill -0 $DPID 2>/dev/null; then
                cat $OUT/probe.log
                fail "tracepoint daemon not ready"
        fi
        sleep 0.2
done
command ipftctl --socket $SOCK status -o json >$OUT/status.json
jq -r '.backends[] | "\(.name): \(.usable) \(.reason)"' $OUT/status.json
for b in $BACKENDS; do
        [ "$(jq -r --arg b "$b" '.backends[] | select(.name == $b) | .usable' $OUT/status.json)" = true ] ||
                fail "capability probe says $b is unusable on $(uname -r)"
done
for b in $UNUSABLE; do
        [ "$(jq -r --arg b "$b" '.backends[] | select(.name == $b) | .usable' $OUT/status.json)" = false ] ||
                fail "capability probe says $b is usable on $(uname -r); expected unusable"
        echo "$b correctly reported unusable: $(jq -r --arg b "$b" '.backends[] | select(.name == $b) | .reason' $OUT/status.json)"
done
stop_daemon

for be in $BACKENDS; do
        step "$be: start on the probe subset"
        start_daemon "$be" --probes "$SUBSET"
        command ipftctl --socket $SOCK status -o json >$OUT/st-$be.json
        [ "$(jq -r .backend $OUT/st-$be.json)" = "$be" ] || fail "$be: status reports backend $(jq -r .backend $OUT/st-$be.json)"
        nf=$(command ipftctl --socket $SOCK list -o json | jq -s '[.[] | select(.kind == "function" and .attached)] | length')
        echo "$be: $nf functions attached"
        [ "$nf" -ge 8 ] || fail "$be: only $nf functions of the subset attached"

        step "$be: ICMP path, address filter excludes concurrent traffic"
        run icmp-$be.json 4 -p icmp --addr 10.0.0.2 -o json
        bg ns a ping -c 3 -i 0.3 -W 1 10.0.0.3 >/dev/null
        bg ns a ping -c 2 -i 0.4 -W 1 10.0.0.2 >/dev/null
        waitjobs
        cat $OUT/icmp-$be.json.err
        n=$(wc -l <$OUT/icmp-$be.json)
        [ "$n" -gt 0 ] || fail "$be: no ICMP events"
        jq -e -s 'all(.[]; .tuple.saddr == "10.0.0.2" or .tuple.daddr == "10.0.0.2")' \
                $OUT/icmp-$be.json >/dev/null || fail "$be: address filter let other traffic through"
        # The first echo request's packet: its functions in order.
        pid=$(jq -r -s '[.[] | select(.icmp.type == 8 and .function == "ip_rcv")][0].packet_id' $OUT/icmp-$be.json)
        [ "$pid" != null ] || fail "$be: ip_rcv not seen for an echo request"
        jq -r --arg p "$pid" 'select(.packet_id == $p and .icmp.type == 8) | .function' \
                $OUT/icmp-$be.json >$OUT/path-$be.txt
        tr '\n' ' ' <$OUT/path-$be.txt
        echo
        r=$(in_order $OUT/path-$be.txt ip_rcv ip_local_deliver icmp_rcv) || fail "$be: RX path: $r"
        jq -e -s 'any(.[]; .function == "__dev_queue_xmit" and .icmp.type == 8)' \
                $OUT/icmp-$be.json >/dev/null || fail "$be: __dev_queue_xmit not seen on TX"
        # veth_xmit lives in the veth module: found through the module's split BTF.
        jq -e -s 'any(.[]; .function == "veth_xmit" and .icmp.type == 8)' \
                $OUT/icmp-$be.json >/dev/null || fail "$be: module function veth_xmit not seen"
        # fentry's functions are stubs of one shared body, and it ran for every hit they passed.
        if [ "$be" = fentry ]; then
                command ipftctl --socket $SOCK status -o json >$OUT/st-hop.json
                jq -c .probes $OUT/st-hop.json
                jq -e '.probes.functions_shared >= 8 and .probes.shared_body_missed == 0' \
                        $OUT/st-hop.json >/dev/null || fail "fentry: stubs of the shared body not in use"
        fi

        step "$be: pcap filter expression"
        # The same interpreter on every backend: an L3 probe (ip_rcv) and a device one.
        run pcap-$be.json 3 -o json 'icmp and host 10.0.0.3'
        bg ns a ping -c 2 -i 0.3 -W 1 10.0.0.3 >/dev/null
        bg ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null
        waitjobs
        cat $OUT/pcap-$be.json.err
        n=$(wc -l <$OUT/pcap-$be.json)
        [ "$n" -gt 0 ] || fail "$be: no events for 'icmp and host 10.0.0.3'"
        jq -e -s 'all(.[]; .tuple.saddr == "10.0.0.3" or .tuple.daddr == "10.0.0.3")' \
                $OUT/pcap-$be.json >/dev/null || fail "$be: pcap filter let other traffic through"
        jq -e -s 'any(.[]; .function == "ip_rcv") and any(.[]; .function == "__dev_queue_xmit")' \
                $OUT/pcap-$be.json >/dev/null || fail "$be: pcap filter: ip_rcv or __dev_queue_xmit missing"

        step "$be: custom fields and packet bytes"
        # BTF offset chains and header snapshots on function probes too.
        run fields-$be.json 3 -p icmp --addr 10.0.0.2 -o json -F 'len,gso_segs,skb->dev->mtu,protocol'
        bg ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null
        waitjobs
        head -2 $OUT/fields-$be.json
        [ "$(wc -l <$OUT/fields-$be.json)" -gt 0 ] || fail "$be: no events with -F"
        jq -e -s 'all(.[]; .fields.len == .len and .fields.protocol == 2048) and
                  any(.[]; .function == "ip_rcv" and .fields["skb->dev->mtu"] == 1500)' \
                $OUT/fields-$be.json >/dev/null || fail "$be: custom fields do not match the events"
        run trace-$be.pcapng 3 -p icmp --addr 10.0.0.2 -o pcapng
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        # A section header block, then packets: well over the headers' size.
        [ "$(od -An -tx4 -N4 $OUT/trace-$be.pcapng | tr -d ' ')" = 0a0d0d0a ] ||
                fail "$be: -o pcapng does not start with a section header block"
        [ "$(wc -c <$OUT/trace-$be.pcapng)" -gt 600 ] || fail "$be: -o pcapng wrote no packets"

        step "$be: drop with reason"
        # busybox nc has no UDP; its nslookup sends a UDP query to port 53, closed here.
        run drop-$be.json 6 -t drop -p udp --dport 53 -o json -c 1
        bg ns a timeout 3 nslookup example.invalid 10.0.0.2 >/dev/null 2>&1
        waitjobs
        cat $OUT/drop-$be.json
        jq -e -s 'any(.[]; .drop_reason == "NO_SOCKET")' $OUT/drop-$be.json >/dev/null ||
                fail "$be: no NO_SOCKET drop for a UDP packet to a closed port"

        step "$be: function_graph"
        # The return probes attach now (only function_graph needs them).
        run graph-$be.json 4 -t function_graph -p icmp --addr 10.0.0.2 -o json
        cat $OUT/graph-$be.json.err
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        run graph-$be.txt 3 -t function_graph -p icmp --addr 10.0.0.2
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        head -20 $OUT/graph-$be.txt
        ent=$(jq -s '[.[] | select(.is_return == false)] | length' $OUT/graph-$be.json)
        ret=$(jq -s '[.[] | select(.is_return == true)] | length' $OUT/graph-$be.json)
        echo "$be: $ent entries, $ret returns"
        [ "$ent" -gt 0 ] && [ "$ret" -gt 0 ] || fail "$be: function_graph saw $ent entries, $ret returns"
        jq -e -s 'any(.[]; .is_return == true and has("retval"))' $OUT/graph-$be.json >/dev/null ||
                fail "$be: returns carry no retval"
        jq -e -s 'any(.[]; .depth >= 1)' $OUT/graph-$be.json >/dev/null ||
                fail "$be: no nested call (depth >= 1)"
        r=$(paired $OUT/graph-$be.json) || fail "$be: function_graph: $r"
        # The tasks' call stacks are allocated on use (Linux 6.1+), and no return went
        # unfollowed for want of room.
        command ipftctl --socket $SOCK status -o json >$OUT/st-graph-$be.json
        jq -c '.probes | {return_stacks, returns_lost}' $OUT/st-graph-$be.json
        jq -e '.probes.return_stacks == "on-use" and .probes.returns_lost == 0' \
                $OUT/st-graph-$be.json >/dev/null || fail "$be: function_graph's call stacks"
        stop_daemon
done

if [ -n "$FULL" ] && [ "$FULL" != none ]; then
        step "$FULL: full coverage"
        # Return probes are attached only for function_graph sessions: no start-up cost.
        start_daemon "$FULL"
        n=$(command ipftctl --socket $SOCK list -o json | jq -s '[.[] | select(.kind == "function" and .attached)] | length')
        echo "$FULL: $n functions usable"
        [ "$n" -ge 300 ] || fail "$FULL: only $n functions usable in the full run"
        # Every function is attached for this session first (--wait-attached).  fentry loads
        # a program per function: a stub, ~45 s for 1,482 probes on 6.1 under TCG; a copy of
        # the whole body where the kernel refuses the shared one, 0.38 s each (566 s, beside
        # another guest): 1 s per function then, not lib.sh's 600 s, which fits the others.
        [ "$FULL" != fentry ] || [ "$n" -le 600 ] || LIVE_WAIT=$n
        run full-icmp.json 4 -p icmp --addr 10.0.0.2 -o json
        LIVE_WAIT=
        cat $OUT/full-icmp.json.err
        command ipftctl --socket $SOCK status -o json >$OUT/full.json
        jq -c .probes $OUT/full.json
        jq -c .attach $OUT/full.json
        l=$(jq .attach.linked_functions $OUT/full.json)
        echo "$FULL: $l functions linked"
        [ "$l" -ge 300 ] || fail "$FULL: only $l functions linked in the full run"
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        echo "$FULL: $(wc -l <$OUT/full-icmp.json) events for one ping"
        jq -e -s 'any(.[]; .function == "icmp_rcv")' $OUT/full-icmp.json >/dev/null ||
                fail "$FULL: icmp_rcv not seen with every function attached"
        # Every tracepoint is served by the shared programs where raw tracepoint links take
        # attach cookies (6.10+: the 6.12 guest), else by a tp_btf copy each (6.1; raw_tp is
        # the last fallback), and they report: the ping crossed net:netif_receive_skb.
        tpkey=tracepoints_tp_btf
        [ "$(printf '%s\n' 6.10 "$(uname -r)" | sort -V | head -n1)" = 6.10 ] && tpkey=tracepoints_shared
        jq -e --arg k $tpkey '.probes.tracepoints > 0 and .probes[$k] == .probes.tracepoints' \
                $OUT/full.json >/dev/null || fail "$FULL: not every tracepoint is $tpkey: $(jq -c .probes $OUT/full.json)"
        jq -e -s 'any(.[]; .function == "net:netif_receive_skb" and .ifname != "")' \
                $OUT/full-icmp.json >/dev/null || fail "$FULL: no net:netif_receive_skb event with its device"
        # Links go with the process: no need to wait for a slow detach here.
        [ "$FULLGRAPH" = 1 ] || kill -KILL $DPID
fi
if [ -n "$FULL" ] && [ "$FULL" != none ] && [ "$FULLGRAPH" = 1 ]; then
        step "$FULL: function_graph on every skb function"
        run full-graph.json 4 -t function_graph -p icmp --addr 10.0.0.2 -o json
        cat $OUT/full-graph.json.err
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        r=$(command ipftctl --socket $SOCK status -o json | jq .attach.linked_returns)
        ent=$(jq -s '[.[] | select(.is_return == false)] | length' $OUT/full-graph.json)
        ret=$(jq -s '[.[] | select(.is_return == true)] | length' $OUT/full-graph.json)
        echo "$FULL: $r return probes linked; $ent entries, $ret returns for one ping;" \
                "calls nested $(task_depth $OUT/full-graph.json) deep in the task"
        [ "$r" -ge 300 ] || fail "$FULL: only $r return probes linked for function_graph"
        [ "$ent" -gt 0 ] && [ "$ret" -gt 0 ] ||
                fail "$FULL: function_graph on every function saw $ent entries, $ret returns"
        jq -e -s 'any(.[]; .function == "icmp_rcv" and .is_return)' $OUT/full-graph.json \
                >/dev/null || fail "$FULL: no return of icmp_rcv with every function attached"
        r=$(paired $OUT/full-graph.json) || fail "$FULL: function_graph on every function: $r"
        # Links go with the process: no need to wait for a slow detach here.
        kill -KILL $DPID
fi
echo "all scenarios passed on $(uname -r)"
