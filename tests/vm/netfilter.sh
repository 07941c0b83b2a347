#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# netfilter.sh — VM-tier guest script: netfilter verdicts on each function backend of this kernel.
#
# Runs inside the guest as /test.sh (busybox sh) with skbtraced, ipftctl, jq, nft and
# iptables-legacy in the image.  Kernel command line:
#   skbt.backends=B[,B...]     function backends to exercise (fentry, kprobe-multi, kprobe)
# Namespace b drops pings to 10.0.0.3 with an iptables (legacy) rule in filter/INPUT and pings
# to 10.0.0.4 with an nftables rule in table t, base chain "in" (hook input, after iptables);
# 10.0.0.2 is accepted by both.  Checks: each evaluation is an event with table, chain, hook
# and verdict (JSON "netfilter", text "nf=... verdict=..."); the drop tracer explains each
# drop with the rule's table and chain; -o crossings adds the verdicts to the line; the same for
# an ip6tables drop of fd00::3; function_graph shows the verdict inside the evaluation.
# Bridge: e -- sw (br0) -- f; an ebtables (legacy) rule in sw's filter/FORWARD drops pings to
# 10.3.0.3 and accepts those to 10.3.0.2: nf:ebt_do_table reports both.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
BACKENDS=$(sed -n 's/.*skbt\.backends=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
# skbt.fentry_copies=1: fentry loads a copy of the whole body per function, not stubs of the
# shared body (SKBTRACED_NO_FENTRY_HOP): the fallback stays tested (scenarios, journeys and
# ondemand run the stubs).
COPIES=$(sed -n 's/.*skbt\.fentry_copies=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$BACKENDS" ] || fail "no skbt.backends= on the kernel command line"
# --wait-attached: each session hears everything it selected from its first event on (probes
# are attached on demand), and its --duration counts from then.
T="ipftctl --socket $SOCK trace --wait-attached"
export XTABLES_LIBDIR=/usr/lib/xtables
SUBSET='^(ip_rcv|ip_local_deliver|icmp_rcv|ip_output|ipt_do_table|nft_do_chain|kfree_skb_reason|sk_skb_reason_drop|nf:.*|skb:.*|net:.*|xdp:.*)$'
# An XDP program for the nesting step (tests/e2e/tcxdp_drop.bpf.c; it passes all but echo requests).
XDP_OBJ=/usr/lib/skbt-vm/tcxdp_drop.bpf.o

step "topology: a -- b, filters in b"
for n in a b; do
        check "netns $n" "$IP" netns add $n
        check "lo $n" ns $n "$IP" link set lo up
done
check "veth a-b" "$IP" link add va netns a type veth peer name vb netns b
check "addr a" ns a "$IP" addr add 10.0.0.1/24 dev va
for x in 2 3 4; do
        check "addr b .$x" ns b "$IP" addr add 10.0.0.$x/24 dev vb
done
check "va up" ns a "$IP" link set va up
check "vb up" ns b "$IP" link set vb up
check "addr a6" ns a "$IP" addr add fd00::1/64 dev va nodad
check "addr b6" ns b "$IP" addr add fd00::3/64 dev vb nodad
# The iptables drop is rule 2 of user chain sub, which rule 2 of INPUT jumps to (rule 1 of
# each does not match): --nf-rules must say so, as 'iptables -L --line-numbers' counts.
check "iptables-legacy chain" ns b iptables-legacy -N sub
check "iptables-legacy rule 1" ns b iptables-legacy -A INPUT -p tcp -j ACCEPT
check "iptables-legacy jump" ns b iptables-legacy -A INPUT -d 10.0.0.3 -j sub
check "iptables-legacy sub 1" ns b iptables-legacy -A sub -p udp -j ACCEPT
check "iptables-legacy rule" ns b iptables-legacy -A sub -d 10.0.0.3 -j DROP
XT_NUM=$(ns b iptables-legacy -L sub -n --line-numbers | awk '$2 == "DROP" {print $1}')
[ "$XT_NUM" = 2 ] || fail "iptables -L --line-numbers: the drop is rule '$XT_NUM' of sub, not 2"
# Neighbour solicitations go to the solicited-node group, not fd00::3: only the echo is dropped.
# It is rule 2 of user chain sub6, which rule 2 of INPUT goes to (ip6t_entry: other offsets).
check "ip6tables-legacy chain" ns b ip6tables-legacy -N sub6
check "ip6tables-legacy rule 1" ns b ip6tables-legacy -A INPUT -p tcp -j ACCEPT
check "ip6tables-legacy goto" ns b ip6tables-legacy -A INPUT -d fd00::3 -g sub6
check "ip6tables-legacy sub6 1" ns b ip6tables-legacy -A sub6 -p udp -j ACCEPT
check "ip6tables-legacy rule" ns b ip6tables-legacy -A sub6 -d fd00::3 -j DROP
XT6_NUM=$(ns b ip6tables-legacy -L sub6 -n --line-numbers | awk '$2 == "DROP" {print $1}')
[ "$XT6_NUM" = 2 ] || fail "ip6tables -L --line-numbers: the drop is rule '$XT6_NUM' of sub6, not 2"
# The drop is in a regular chain the base chain jumps to, after a rule without a verdict:
# --nf-rules must name rule 2 of chain sub, by its handle.
printf 'table ip t {\n chain in {\n  type filter hook input priority 10;\n  ip daddr 10.0.0.4 jump sub\n }\n chain sub {\n  counter\n  ip daddr 10.0.0.4 drop\n }\n}\n' \
        >$OUT/drop.nft
check "nft rule" ns b nft -f $OUT/drop.nft
NFT_HANDLE=$(ns b nft -a list chain ip t sub | sed -n 's/.* drop # handle \([0-9]*\).*/\1/p')
[ -n "$NFT_HANDLE" ] || fail "no handle for the nftables drop rule"
for n in e f sw; do
        check "netns $n" "$IP" netns add $n
        check "lo $n" ns $n "$IP" link set lo up
done
check "bridge" ns sw "$IP" link add br0 type bridge
check "veth e-sw" "$IP" link add ev0 netns e type veth peer name se netns sw
check "veth f-sw" "$IP" link add fv0 netns f type veth peer name sf netns sw
for p in se sf; do
        check "$p in br0" ns sw "$IP" link set $p master br0
        check "$p up" ns sw "$IP" link set $p up
done
check "br0 up" ns sw "$IP" link set br0 up
check "addr e" ns e "$IP" addr add 10.3.0.1/24 dev ev0
check "addr f" ns f "$IP" addr add 10.3.0.2/24 dev fv0
check "addr f .3" ns f "$IP" addr add 10.3.0.3/24 dev fv0
check "ev0 up" ns e "$IP" link set ev0 up
check "fv0 up" ns f "$IP" link set fv0 up
check "ebtables-legacy rule" ns sw ebtables-legacy -A FORWARD -p 0x0800 --ip-dst 10.3.0.3 -j DROP
check "ping through the bridge" ns e ping -c 1 -W 2 10.3.0.2
ns e ping -c 1 -W 1 10.3.0.3 >/dev/null 2>&1 && fail "ebtables did not drop"
check "ping accepted" ns a ping -c 1 -W 2 10.0.0.2
ns a ping -c 1 -W 1 10.0.0.3 >/dev/null 2>&1 && fail "iptables did not drop"
ns a ping -c 1 -W 1 10.0.0.4 >/dev/null 2>&1 && fail "nftables did not drop"
ns a ping -6 -c 1 -W 1 fd00::3 >/dev/null 2>&1 && fail "ip6tables did not drop"

# hook_state true|false: nftables' trace hook (--nf-rules) is on or off: the probe on
# __nft_trace_packet linked or not, and the daemon's nftrace table (the static key) there or not.
hook_state() {
        ipftctl --socket $SOCK list -o json | jq -e -s --argjson on "$1" \
                'any(.[]; .name == "nf:__nft_trace_packet" and .linked == $on)' >/dev/null &&
                ipftctl --socket $SOCK status -o json |
                jq -e --argjson on "$1" '.netfilter.trace_hook_on == $on' >/dev/null
}

# xt_maps N: the daemon holds N per-CPU maps of iptables counter snapshots (--nf-rules: a per-CPU
# array of 4 values over 16 KiB, made at the first such session, dropped after the last).
xt_maps() {
        n=0
        for f in /proc/$DPID/fdinfo/*; do
                awk '/^map_type:/ {t = $2} /^max_entries:/ {m = $2} /^value_size:/ {v = $2}
                        END {exit !(t == 6 && m == 4 && v > 16384)}' "$f" 2>/dev/null &&
                        n=$((n + 1))
        done
        [ "$n" = "$1" ] || { echo "per-CPU snapshot maps: $n, not $1"; return 1; }
}

for BE in $BACKENDS; do
        step "$BE: daemon"
        if [ "$BE" = fentry ] && [ "$COPIES" = 1 ]; then
                export SKBTRACED_NO_FENTRY_HOP=1
        else
                unset SKBTRACED_NO_FENTRY_HOP
        fi
        skbtraced --socket $SOCK --backend "$BE" --probes "$SUBSET" --idle-detach-after never >$OUT/daemon-$BE.log 2>&1 &
        DPID=$!
        i=0
        while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
                kill -0 $DPID 2>/dev/null || { tail -30 $OUT/daemon-$BE.log; fail "daemon exited"; }
                i=$((i + 1))
                [ $i -lt 1500 ] || fail "daemon not ready after 300 s"
                sleep 0.2
        done
        ipftctl --socket $SOCK list -o json | jq -c 'select(.kind == "netfilter")'
        ipftctl --socket $SOCK list -o json | jq -e -s '
                any(.[]; .name == "nf:ipt_do_table" and .attached) and
                any(.[]; .name == "nf:nft_do_chain" and .attached) and
                any(.[]; .name == "nf:ebt_do_table" and .attached)' >/dev/null ||
                fail "$BE: the netfilter probes are not attached"

        step "$BE: verdicts of accepted and dropped pings"
        # The sessions are live (every probe attached: --wait-attached) one after the other;
        # function_graph's waits longest (every function and its return: on 6.1's kprobe,
        # longer than a fixed duration of the sessions started before it would last).  So
        # none ends by itself: the pings come once all are live, and Ctrl-C ends them all.
        for x in 2 3 4; do
                run v$x 900 -p icmp -d 10.0.0.$x -o json
        done
        run text 900 -p icmp -d 10.0.0.4 -o text
        run drops 900 -t drop -p icmp -o json
        run cross 900 -p icmp -d 10.0.0.4 -o crossings
        run graph 900 -t function_graph -p icmp -d 10.0.0.4 -o text
        run v6 900 -6 -d fd00::3 -o json
        # Sessions without --nf-rules cost nftables nothing: the hook's probe is not attached
        # and its static key is off (no table in the daemon's namespace); both change with
        # the first --nf-rules session.
        hook_state false || fail "$BE: nftables' trace hook is on with no --nf-rules session"
        xt_maps 0 || fail "$BE: iptables snapshots' map held with no --nf-rules session"
        run rules 900 -p icmp -d 10.0.0.4 --nf-rules -o json
        run rules2 900 -p icmp -d 10.0.0.2 --nf-rules -o text
        run rules3 900 -p icmp -d 10.0.0.3 --nf-rules -o json
        run rules6 900 -6 -d fd00::3 --nf-rules -o json
        hook_state true || fail "$BE: nftables' trace hook is not on for the --nf-rules sessions"
        xt_maps 1 || fail "$BE: no iptables snapshots' map for the --nf-rules sessions"
        run ebt 900 -p icmp --addr 10.3.0.3 -o json
        run ebt2 900 -p icmp -d 10.3.0.2 -o text
        sleep 1
        ns e ping -c 1 -W 1 10.3.0.3 >/dev/null 2>&1
        ns e ping -c 1 -W 1 10.3.0.2 >/dev/null 2>&1
        for x in 2 3 4; do
                ns a ping -c 1 -W 1 10.0.0.$x >/dev/null 2>&1
        done
        ns a ping -6 -c 1 -W 1 fd00::3 >/dev/null 2>&1
        sleep 3
        kill -INT $JOBS
        waitjobs
        # Every evaluator attached; if not, the reason the daemon gives (List's error).
        ipftctl --socket $SOCK list -o json | jq -c 'select(.kind == "netfilter")'
        ipftctl --socket $SOCK list -o json | jq -e -s '
                [.[] | select(.name == "nf:ipt_do_table" or .name == "nf:ip6t_do_table" or
                 .name == "nf:nft_do_chain" or .name == "nf:ebt_do_table")] | length == 4 and
                 all(.[]; .linked and (.error | not))' \
                >/dev/null || {
                cat $OUT/v2.err
                fail "$BE: a netfilter evaluator could not be attached: $(ipftctl --socket $SOCK \
                        list -o json | jq -r 'select(.kind == "netfilter" and .error) |
                        "\(.name): \(.error)"' | head -n 1)"
        }
        for x in 2 3 4; do
                echo "10.0.0.$x:"
                # (piped: jq writes nothing to this console directly)
                jq -c 'select(.netfilter) | [.function, .drop_reason, .netfilter]' $OUT/v$x | cat
        done
        # Accepted by both: an ACCEPT from iptables filter/INPUT and from nftables t/in.
        jq -e -s 'any(.[]; .function == "nf:ipt_do_table" and .netfilter ==
                {engine: "iptables", family: "ip", table: "filter", chain: "INPUT", hook: "INPUT",
                 verdict: "ACCEPT"}) and
                any(.[]; .function == "nf:nft_do_chain" and .netfilter ==
                {engine: "nftables", family: "ip", table: "t", chain: "in", hook: "INPUT",
                 verdict: "ACCEPT"}) and
                all(.[]; .netfilter.verdict != "DROP") and all(.[]; .tuple.daddr == "10.0.0.2")' \
                $OUT/v2 >/dev/null || fail "$BE: the accepted ping lacks its two ACCEPT verdicts"
        # Dropped by the iptables rule: nftables (priority 10) never sees it.  The drop
        # events that follow carry the verdict that explains them.
        jq -e -s '[.[] | select(.function | startswith("nf:"))] | length == 1 and .[0].netfilter ==
                {engine: "iptables", family: "ip", table: "filter", chain: "INPUT", hook: "INPUT",
                 verdict: "DROP"} and .[0].function == "nf:ipt_do_table"' $OUT/v3 >/dev/null ||
                fail "$BE: the iptables drop is not reported as filter/INPUT DROP"
        jq -e -s 'any(.[]; .netfilter.engine == "iptables" and .netfilter.verdict == "ACCEPT") and
                any(.[]; .drop_reason and .netfilter.engine == "nftables") and
                any(.[]; .netfilter == {engine: "nftables", family: "ip", table: "t", chain: "in",
                 hook: "INPUT", verdict: "DROP"})' $OUT/v4 >/dev/null || {
                cat $OUT/v4.err
                tail -n 30 $OUT/daemon-$BE.log
                fail "$BE: the nftables drop is not reported as t/in DROP"
        }
        grep 'nf=' $OUT/text
        grep -q ' nf=nftables family=ip table=t chain=in hook=INPUT verdict=DROP' $OUT/text ||
                fail "$BE: text output lacks the nftables verdict"

        jq -c 'select(.netfilter) | [.function, .drop_reason, .netfilter]' $OUT/v6 | cat
        jq -e -s 'any(.[]; .function == "nf:ip6t_do_table" and .netfilter ==
                {engine: "ip6tables", family: "ip6", table: "filter", chain: "INPUT",
                 hook: "INPUT", verdict: "DROP"}) and
                any(.[]; .drop_reason == "NETFILTER_DROP" and .netfilter.engine == "ip6tables")' \
                $OUT/v6 >/dev/null || fail "$BE: the ip6tables drop is not reported"
        grep 'nf=' $OUT/graph
        grep -q '^.* \+/\* nf=nftables family=ip table=t chain=in hook=INPUT verdict=DROP \*/$' \
                $OUT/graph || fail "$BE: function_graph output lacks the verdict"
        if [ "$BE" = fentry ]; then
                # Stubs of the shared body, or (skbt.fentry_copies) a copy of it per function.
                want='.probes.functions_shared > 0'
                [ "$COPIES" = 1 ] && want='.probes.functions_shared == 0'
                ipftctl --socket $SOCK status -o json | jq -e "$want and .probes.shared_body_missed == 0" \
                        >/dev/null || fail "$BE: functions not served as wanted ($want): $(ipftctl \
                        --socket $SOCK status -o json | jq -c .probes)"
        fi

        step "$BE: --nf-rules names the nftables rule"
        jq -c 'select(.netfilter.engine == "nftables") | [.function, .netfilter.verdict, .netfilter.rule]' \
                $OUT/rules | cat
        jq -e -s --argjson h "$NFT_HANDLE" 'any(.[]; .function == "nf:nft_do_chain" and
                .netfilter.verdict == "DROP" and .netfilter.chain == "in" and
                .netfilter.rule == {handle: $h, position: 2, chain: "sub"})' $OUT/rules >/dev/null ||
                fail "$BE: --nf-rules did not name rule $NFT_HANDLE (2nd of chain sub)"
        grep 'nf=nftables' $OUT/rules2 | head -2
        grep -q ' nf=nftables family=ip table=t chain=in hook=INPUT verdict=ACCEPT rule=policy' \
                $OUT/rules2 || fail "$BE: the accepted ping's verdict does not say policy"

        step "$BE: --nf-rules numbers the iptables rule"
        jq -c 'select(.netfilter.engine == "iptables") | [.function, .netfilter.verdict, .netfilter.rule]' \
                $OUT/rules3 | cat
        jq -e -s --argjson n "$XT_NUM" 'any(.[]; .function == "nf:ipt_do_table" and
                .netfilter.verdict == "DROP" and .netfilter.chain == "INPUT" and
                .netfilter.rule == {position: $n, chain: "sub"})' $OUT/rules3 >/dev/null ||
                fail "$BE: --nf-rules did not number the iptables drop rule $XT_NUM of chain sub"
        grep 'nf=iptables' $OUT/rules2 | head -2
        grep -q ' nf=iptables family=ip table=filter chain=INPUT hook=INPUT verdict=ACCEPT rule=policy' \
                $OUT/rules2 || fail "$BE: the accepted ping's iptables verdict does not say policy"
        jq -c 'select(.netfilter.engine == "ip6tables") | [.function, .netfilter.verdict, .netfilter.rule]' \
                $OUT/rules6 | cat
        jq -e -s --argjson n "$XT6_NUM" 'any(.[]; .function == "nf:ip6t_do_table" and
                .netfilter.verdict == "DROP" and .netfilter.chain == "INPUT" and
                .netfilter.rule == {position: $n, chain: "sub6"})' $OUT/rules6 >/dev/null ||
                fail "$BE: --nf-rules did not number the ip6tables drop rule $XT6_NUM of chain sub6"
        ipftctl --socket $SOCK status -o json | jq -c .netfilter
        ipftctl --socket $SOCK status -o json | jq -e '.netfilter.rules and
                .netfilter.iptables_rules and .netfilter.ip6tables_rules and
                (.netfilter.trace_hook_on | not)' >/dev/null ||
                fail "$BE: status: rules not available, or the trace hook still on"
        xt_maps 0 || fail "$BE: iptables snapshots' map still held after the --nf-rules sessions"

        step "$BE: ebtables verdicts on the bridge"
        jq -c 'select(.netfilter) | [.function, .ifname, .drop_reason, .netfilter]' $OUT/ebt | cat
        jq -e -s 'any(.[]; .function == "nf:ebt_do_table" and .netfilter ==
                {engine: "ebtables", family: "bridge", table: "filter", chain: "FORWARD",
                 hook: "FORWARD", verdict: "DROP"}) and
                any(.[]; .drop_reason and .netfilter.engine == "ebtables")' $OUT/ebt >/dev/null ||
                fail "$BE: the ebtables drop is not reported as filter/FORWARD DROP"
        grep 'nf=ebtables' $OUT/ebt2 | head -3
        grep -q ' nf=ebtables family=bridge table=filter chain=FORWARD hook=FORWARD verdict=ACCEPT' \
                $OUT/ebt2 || fail "$BE: the bridged ping's ebtables ACCEPT is missing"

        step "$BE: the drop tracer explains both drops"
        jq -c '{function, drop_reason, location, daddr: .tuple.daddr, netfilter}' $OUT/drops | cat
        jq -e -s 'all(.[]; .function | startswith("nf:") | not) and
                any(.[]; .tuple.daddr == "10.0.0.3" and .netfilter.engine == "iptables" and
                    .netfilter.table == "filter" and .netfilter.hook == "INPUT" and
                    .netfilter.verdict == "DROP") and
                any(.[]; .tuple.daddr == "10.0.0.4" and .netfilter.engine == "nftables" and
                    .netfilter.table == "t" and .netfilter.chain == "in" and
                    .netfilter.verdict == "DROP")' $OUT/drops >/dev/null ||
                fail "$BE: drop output does not name the table and chain that dropped"

        # Where it died: nf_hook_slow() frees what a table dropped.  Return probes stay off the
        # drop functions, so the tracepoint's location is not a return trampoline; a kprobe
        # reads the same caller from the stack.
        jq -e -s --arg be "$BE" '[.[] | select(.tuple.daddr == "10.0.0.3")] |
                any(.[]; .function == "skb:kfree_skb" and (.location | startswith("nf_hook_slow+")))
                and ($be == "fentry" or (map(.location) | unique | length == 1))' $OUT/drops \
                >/dev/null || fail "$BE: the drop's location is not nf_hook_slow"

        step "$BE: -o crossings"
        cat $OUT/cross
        grep -q 't\.in:DROP' $OUT/cross || fail "$BE: crossings lack the nftables verdict"

        # An XDP run nested in an evaluation on the same task: nftables in a's output rejects
        # UDP to port 53, and the ICMP error goes back to a over lo while the evaluation still
        # runs (__icmp_send() re-enables softirqs, which receive it there), through an XDP
        # program on lo.  That run matches no session; its return must not take the
        # evaluation's frame and send its record with the XDP verdict (XDP_PASS: STOLEN).
        step "$BE: an XDP run inside an nftables evaluation"
        printf 'table ip o {\n chain out {\n  type filter hook output priority 0;\n  udp dport 53 reject\n }\n}\n' \
                >$OUT/reject.nft
        check "nft reject in a" ns a nft -f $OUT/reject.nft
        check "xdpgeneric on a's lo" ns a "$IP" link set dev lo xdpgeneric obj $XDP_OBJ sec xdp
        run nest 900 -r '^(nf:nft_do_chain|xdp:skbt_xdp_drop)$' -p udp --dport 53 -o json
        ipftctl --socket $SOCK list -r '^xdp:' -o json | jq -e -s 'any(.[]; .linked)' >/dev/null ||
                fail "$BE: the XDP program on lo is not traced"
        ns a timeout 5 nslookup skbt.test 10.0.0.2 >/dev/null 2>&1
        sleep 1
        kill -INT $JOBS
        waitjobs
        jq -c '[.function, .netfilter]' $OUT/nest | cat
        jq -e -s '[.[] | select(.function == "nf:nft_do_chain" and .netfilter.table == "o")] |
                length >= 1 and all(.[]; .netfilter == {engine: "nftables", family: "ip",
                 table: "o", chain: "out", hook: "OUTPUT", verdict: "DROP"})' $OUT/nest >/dev/null ||
                fail "$BE: the rejected packet's verdict is not o/out DROP (an XDP return took its frame?)"
        check "xdp off" ns a "$IP" link set dev lo xdpgeneric off
        check "nft flush in a" ns a nft flush ruleset

        kill -TERM $DPID
        wait $DPID || fail "daemon exit status $? after SIGTERM"
done
