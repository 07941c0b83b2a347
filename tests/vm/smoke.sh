#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# smoke.sh — VM-tier guest smoke test: BTF, netns + veth + ping, traceable functions, kprobes, BPF.
#
# Runs inside the guest as /test.sh (busybox sh); needs nothing from skbtraced. Run it with
#     tests/vm/run-vm.sh 6.12 tests/vm/smoke.sh --extra /usr/sbin/bpftool:/usr/sbin/bpftool
# bpftool is optional: without it the feature probe is skipped.

set -u
# shellcheck source=tests/vm/guest-lib.sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

step "kernel"
uname -r
echo "cpus $(nproc), $(grep MemTotal /proc/meminfo)"
echo "loaded modules:"
cat /proc/modules

step "BTF"
check "/sys/kernel/btf/vmlinux missing" ls -l /sys/kernel/btf/vmlinux
echo "BTF objects:" /sys/kernel/btf/*

step "netns + veth + ping"
check "ip netns add ns1" "$IP" netns add ns1
check "ip netns add ns2" "$IP" netns add ns2
check "veth pair" "$IP" link add veth1 netns ns1 type veth peer name veth2 netns ns2
check "addr ns1" ns ns1 "$IP" addr add 10.0.0.1/24 dev veth1
check "addr ns2" ns ns2 "$IP" addr add 10.0.0.2/24 dev veth2
for n in 1 2; do
        check "link up ns$n" ns ns$n "$IP" link set veth$n up
        check "lo up ns$n" ns ns$n "$IP" link set lo up
done
ns ns1 "$IP" -br addr
check "ping 10.0.0.1 -> 10.0.0.2" ns ns1 ping -c 2 -W 2 10.0.0.2
check "ping 10.0.0.2 -> 10.0.0.1" ns ns2 ping -c 2 -W 2 10.0.0.1

step "traceable functions"
aff=/sys/kernel/tracing/available_filter_functions
check "$aff unreadable" test -r $aff
total=$(wc -l <$aff)
iprcv=$(grep -c 'ip_rcv' $aff)
echo "$aff: $total functions, $iprcv matching ip_rcv:"
grep 'ip_rcv' $aff | head -n 10
[ "$total" -gt 0 ] || fail "$aff is empty"
[ "$iprcv" -gt 0 ] || fail "no ip_rcv* in $aff"
for f in kfree_skb_reason sk_skb_reason_drop __netif_receive_skb_core dev_queue_xmit __dev_queue_xmit; do
        if grep -q -E "^$f( |\$)" $aff; then echo "  $f: traceable"; else echo "  $f: -"; fi
done
for t in skb/kfree_skb skb/consume_skb net/netif_receive_skb net/net_dev_queue; do
        if [ -d /sys/kernel/tracing/events/$t ]; then echo "  tracepoint $t: yes"; else echo "  tracepoint $t: -"; fi
done
for f in kprobe_events dynamic_events; do
        [ -e /sys/kernel/tracing/$f ] && echo "  tracefs $f: present"
done

step "kprobe and fprobe events on ip_rcv (tracefs, no BPF)"
T=/sys/kernel/tracing
check "create kprobe event" sh -c "echo 'p:skbt_ip_rcv ip_rcv' >>$T/kprobe_events"
check "enable kprobe event" sh -c "echo 1 >$T/events/kprobes/skbt_ip_rcv/enable"
ns ns1 ping -c 2 -W 2 10.0.0.2 >/dev/null
hits=$(awk '$1 == "skbt_ip_rcv" { print $2 }' $T/kprobe_profile)
echo 0 >$T/events/kprobes/skbt_ip_rcv/enable
echo '-:skbt_ip_rcv' >>$T/kprobe_events
echo "kprobe ip_rcv hits during 2 pings: ${hits:-none}"
[ "${hits:-0}" -ge 2 ] || fail "kprobe on ip_rcv did not fire"
# fprobe is what kprobe-multi is built on; fprobe trace events exist since 6.5 (informational).
if (echo 'f:skbt_f_ip_rcv ip_rcv' >>$T/dynamic_events) 2>/dev/null; then
        echo "fprobe event on ip_rcv: created"
        echo '-:skbt_f_ip_rcv' >>$T/dynamic_events
else
        echo "fprobe event on ip_rcv: not supported by this kernel"
fi

step "bpftool feature probe"
if [ -x /usr/sbin/bpftool ]; then
        /usr/sbin/bpftool feature probe kernel >/tmp/features 2>&1 ||
                fail "bpftool feature probe kernel failed: $(tail -n 1 /tmp/features)"
        grep -i -E 'tracing|kprobe' /tmp/features
        grep -q "program_type tracing is available" /tmp/features || fail "no tracing (fentry) program type"
        grep -q "program_type kprobe is available" /tmp/features || fail "no kprobe program type"
else
        echo "bpftool not in the image, skipped"
fi

step "done"
