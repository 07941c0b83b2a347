#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# ondemand.sh — VM-tier guest script: attach on demand on each function backend of this kernel.
#
# Runs inside the guest as /test.sh (busybox sh) with skbtraced, ipftctl, jq and bpftool in the
# image.  Kernel command line (run-vm.sh --append):
#   skbt.backends=kprobe-multi,fentry,kprobe   backends to exercise on a probe subset
#   skbt.kill=kprobe                           backend for the SIGKILL-during-attach check
# For each backend, on a subset of functions: an idle daemon has nothing attached and its
# programs run not once while packets flow (kernel.bpf_stats_enabled run counts); a session
# attaches what it needs and gets events from functions; two overlapping sessions share probes
# and what only the one that ended needed goes after the linger; then the daemon is idle again
# (no link, zero runs; on fentry only the shared body's three links to bpf_strncmp(), which
# run not once either); keep_attached holds its probes with no session; the runs the kernel
# skipped, as Status gives them, are at least what the kernel's counters of its programs say
# (kprobe on kernels before 6.7: Status says they are not counted).  Then a daemon killed
# with SIGKILL while it attaches hundreds of functions leaves no BPF program, link or kprobe.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT
T="ipftctl --socket $SOCK trace"
arg() {
        sed -n "s/.*skbt\.$1=\([^ ]*\).*/\1/p" /proc/cmdline
}
BACKENDS=$(arg backends | tr , ' ')
KILL=$(arg kill)
SUBSET='^(ip_rcv|ip_rcv_core|ip_local_deliver|ip_local_deliver_finish|icmp_rcv|icmp_echo|__dev_queue_xmit|ip_output|ip_finish_output2|__netif_receive_skb_core|net:netif_receive_skb|skb:kfree_skb)$'
LINGER=1

step "topology"
veth_ab 2
check "bpf_stats" sysctl -w kernel.bpf_stats_enabled=1

start_daemon() {
        skbtraced --socket $SOCK "$@" >$OUT/daemon.log 2>&1 &
        DPID=$!
        _i=0
        while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
                kill -0 $DPID 2>/dev/null || { tail -30 $OUT/daemon.log; fail "daemon exited"; }
                _i=$((_i + 1))
                [ $_i -lt 1500 ] || fail "daemon not ready after 300 s"
                sleep 0.2
        done
}

stop_daemon() {
        kill -TERM $DPID
        wait $DPID || fail "daemon exit status $? after SIGTERM"
}

st() {
        ipftctl --socket $SOCK status -o json | jq -c "$1"
}

# The daemon's programs, by id (bpftool sees them system-wide).
skbt_progs() {
        bpftool prog show -j | jq -r '.[] | select(.name | startswith("skbt_")) | .id' | sort -n
}

# Total run count of the daemon's programs.
runs() {
        bpftool prog show -j | jq '[.[] | select(.name | startswith("skbt_")) | .run_cnt // 0] | add // 0'
}

# Links to the daemon's programs, but for fentry's shared body (skbt_fentry_hop0-2, one per
# nesting level), which stays attached to bpf_strncmp(): only BPF programs call it, and the
# runs below show it does not run while no stub is attached.
skbt_links() {
        _ids=$(bpftool prog show -j | jq -r '.[] | select((.name | startswith("skbt_")) and
                (.name | startswith("skbt_fentry_hop") | not)) | .id' | tr '\n' ',' | sed 's/,$//')
        bpftool link show -j | jq --argjson p "[${_ids}]" '[.[] | select(.prog_id as $i | $p | index($i))] | length'
}

# Ping a few times; the daemon's programs must not run once.
check_zero_runs() {
        _r0=$(runs)
        ns a ping -c 5 -i 0.05 -W 1 10.0.0.2 >/dev/null || fail "$1: ping failed"
        _r1=$(runs)
        echo "$1: programs ran $((_r1 - _r0)) times over 5 pings"
        [ "$_r1" -eq "$_r0" ] || fail "$1: the daemon's programs ran $((_r1 - _r0)) times while idle"
        _l=$(skbt_links)
        [ "$_l" -eq 0 ] || fail "$1: $_l links to the daemon's programs while idle"
}

# function_graph's call stacks map: its type, flags and memlock.
graph_stack_info() {
        bpftool map show name graph_stack -j |
                jq -c 'if type == "array" then .[0] else . end | {type, flags, bytes_memlock}'
}

linked() {
        ipftctl --socket $SOCK list -o json 2>/dev/null | jq -r 'select(.linked) | .name' | sort |
                tr '\n' ' '
}

# Until nothing is attached (the linger after the last session ran out).
wait_idle() {
        _i=0
        while [ "$(st .attach.idle)" != true ]; do
                _i=$((_i + 1))
                [ $_i -lt 100 ] || fail "$1: not idle 10 s after the last session: $(st .attach)"
                sleep 0.1
        done
}

for be in $BACKENDS; do
        step "$be: an idle daemon attaches nothing, runs nothing"
        start_daemon --backend "$be" --probes "$SUBSET" --idle-detach-after $LINGER
        st .attach
        [ "$(st '.attach.idle and .attach.linked == 0')" = true ] || fail "$be: a new daemon has probes attached"
        check_zero_runs "$be: idle from the start"
        # function_graph's per-task call stacks cost nothing until used (Linux 6.1+): a hash
        # that is not preallocated (BPF_F_NO_PREALLOC) holds its buckets only.  Its memlock
        # says so from Linux 6.4 (map_mem_usage); before, it is max_entries x (key + value)
        # whatever the map allocated, so the kernel's vmalloc use is printed beside.
        gs=$(graph_stack_info)
        echo "graph_stack idle: $gs; $(grep VmallocUsed /proc/meminfo)"
        want='.type == "hash" and .flags == 1'
        [ "$(printf '%s\n' 6.4 "$(uname -r)" | sort -V | head -n1)" = 6.4 ] &&
                want="$want and .bytes_memlock < 1048576"
        echo "$gs" | jq -e "$want" >/dev/null ||
                fail "$be: function_graph's call stacks are allocated up front: $gs"

        step "$be: a session attaches what it needs, events come from functions"
        # Live at once: no --wait-attached; the harness waits for the "all attached" line (the
        # first session of a kind loads programs, which takes seconds under TCG).
        $T -p icmp --addr 10.0.0.2 -o json --duration 600 >$OUT/s1 2>$OUT/s1.err &
        S1=$!
        wait_live $OUT/s1.err $S1
        cat $OUT/s1.err
        grep -q "^attaching" $OUT/s1.err || fail "$be: the session did not report attaching"
        ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null
        i=0
        until jq -e -s 'any(.[]; .function == "icmp_rcv")' $OUT/s1 >/dev/null 2>&1; do
                i=$((i + 1))
                [ $i -lt 100 ] || break
                sleep 0.1
        done
        # Runs the kernel skipped, as the daemon reports them, against the kernel's own counters
        # of its programs (bpftool: recursion_misses), read first: the daemon's figure also has
        # the kprobe links' misses, and the shared body's hops are shared_body_missed instead.
        km=$(bpftool prog show -j | jq '[.[] | select((.name | startswith("skbt_")) and
                (.name | startswith("skbt_fentry_hop") | not)) | .recursion_misses // 0] | add // 0')
        st '.probes | {missed_runs, missed_runs_uncounted}'
        dm=$(st .probes.missed_runs)
        echo "$be: runs skipped by the kernel: Status $dm, bpftool $km"
        [ "$dm" -ge "$km" ] || fail "$be: Status says $dm runs skipped, the kernel's counters $km"
        [ "$(st .probes.missed_runs_uncounted)" = null ] ||
                fail "$be on $(uname -r) counts skipped runs, yet: $(st .probes.missed_runs_uncounted)"
        kill -INT $S1
        wait $S1
        cat $OUT/s1.err
        jq -e -s 'any(.[]; .function == "ip_rcv") and any(.[]; .function == "icmp_rcv")' $OUT/s1 \
                >/dev/null || fail "$be: no events from ip_rcv and icmp_rcv"
        grep -q "^all [0-9]* probes attached after" $OUT/s1.err || fail "$be: no progress to full coverage"
        grep -q "^coverage: all" $OUT/s1.err || fail "$be: the summary does not say when coverage was full"

        step "$be: overlapping sessions share probes; what one alone needed goes after the linger"
        # From idle, so that each session's probes come in a link of their own (a kprobe-multi
        # link goes only when none of its functions is needed).
        wait_idle "$be"
        $T --wait-attached -p icmp -r '^(ip_rcv|net:netif_receive_skb)$' -o json --duration 60 \
                >$OUT/a 2>$OUT/a.err &
        A=$!
        wait_live $OUT/a.err $A
        run b 3 --wait-attached -r '^(ip_rcv|icmp_rcv)$' -p icmp -o json
        echo "linked with both: $(linked)"
        bg ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        waitjobs
        jq -e -s 'any(.[]; .function == "icmp_rcv")' $OUT/b >/dev/null || fail "$be: session b saw no icmp_rcv"
        i=0
        while linked | grep -q icmp_rcv; do
                i=$((i + 1))
                [ $i -lt 100 ] || fail "$be: icmp_rcv still attached 10 s after the session needing it ended"
                sleep 0.1
        done
        echo "linked after b's linger: $(linked)"
        linked | grep -q "ip_rcv " || fail "$be: ip_rcv, still needed by session a, was detached"
        ns a ping -c 1 -W 1 10.0.0.2 >/dev/null
        sleep 0.5
        kill -INT $A
        wait $A
        jq -e -s 'any(.[]; .function == "ip_rcv") and all(.[]; .function != "icmp_rcv")' $OUT/a \
                >/dev/null || fail "$be: session a's events are wrong"

        step "$be: the tasks' function_graph stacks go with the last graph session"
        # A frame pushed for a call still running when the last graph session ends is never
        # popped; the daemon empties the per-task stacks then (probes/live.c).
        run g 3 --wait-attached -t function_graph -r '^(ip_rcv|icmp_rcv)$' -p icmp -o json
        ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null
        # While the session runs: a task's stack goes with the return that empties it.
        n=$(bpftool map dump name graph_stack -j | jq length)
        echo "call stacks left after the pings, the session still running: $n"
        [ "$n" = 0 ] || fail "$be: $n tasks' call stacks left after their calls returned"
        waitjobs
        jq -e -s 'any(.[]; .is_return)' $OUT/g >/dev/null || fail "$be: function_graph saw no return"
        st '.probes | {return_stacks, returns_lost}'
        [ "$(st '.probes.return_stacks == "on-use" and .probes.returns_lost == 0')" = true ] ||
                fail "$be: function_graph's call stacks: $(st .probes)"
        n=$(bpftool map dump name graph_stack -j | jq length)
        echo "call stacks left after the last function_graph session: $n"
        [ "$n" = 0 ] || fail "$be: $n tasks' call stacks left after the last function_graph session"

        step "$be: after the linger, idle again"
        wait_idle "$be"
        st .attach
        check_zero_runs "$be: after the linger"
        # fentry: the shared body stays attached (a session's first stub is then one
        # trampoline update), each nesting level's program once.
        if [ "$be" = fentry ]; then
                _h=$(bpftool prog show -j | jq -r '.[] | select(.name | startswith("skbt_fentry_hop")) | .id' |
                        tr '\n' ',' | sed 's/,$//')
                _hl=$(bpftool link show -j | jq --argjson p "[${_h}]" '[.[] | select(.prog_id as $i | $p | index($i))] | length')
                echo "$be: the shared body's links while idle: $_hl"
                [ "$_hl" = 3 ] || fail "$be: $_hl links to the shared body while idle, not 3"
        fi
        stop_daemon

        step "$be: keep_attached holds its probes with no session"
        start_daemon --backend "$be" --probes "$SUBSET" --idle-detach-after 0 --keep-attached '^(ip_rcv|icmp_rcv)$'
        i=0
        while [ "$(linked)" != "icmp_rcv ip_rcv " ]; do
                i=$((i + 1))
                [ $i -lt 300 ] || fail "$be: keep_attached: linked '$(linked)'"
                sleep 0.2
        done
        st .attach
        [ "$(st '.attach.kept')" = 2 ] || fail "$be: keep_attached: kept $(st .attach.kept)"
        stop_daemon

        [ "$be" = "${BACKENDS%% *}" ] || continue
        step "$be: function_graph with its call stacks preallocated (kernels before 6.1)"
        # The form older kernels get (probes/loader.c), forced: an LRU hash allocated up front.
        export SKBTRACED_GRAPH_PREALLOC=1
        start_daemon --backend "$be" --probes "$SUBSET" --idle-detach-after $LINGER
        unset SKBTRACED_GRAPH_PREALLOC
        gs=$(graph_stack_info)
        echo "graph_stack: $gs; $(grep VmallocUsed /proc/meminfo)"
        echo "$gs" | jq -e '.type == "lru_hash" and .flags == 0' >/dev/null ||
                fail "$be: SKBTRACED_GRAPH_PREALLOC=1: graph_stack is $gs"
        run gp 3 --wait-attached -t function_graph -r '^(ip_rcv|icmp_rcv)$' -p icmp -o json
        bg ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null
        waitjobs
        jq -e -s 'any(.[]; .is_return and .function == "icmp_rcv")' $OUT/gp >/dev/null ||
                fail "$be: function_graph saw no return with preallocated call stacks"
        [ "$(st '.probes.return_stacks == "preallocated" and .probes.returns_lost == 0')" = true ] ||
                fail "$be: preallocated call stacks: $(st .probes)"
        stop_daemon
done

# Kernels before 6.7 skip kprobe runs uncounted (bpf_prog_active): Status says so, not 0 alone.
if [ "$(printf '%s\n' 6.7 "$(uname -r)" | sort -V | head -n1)" != 6.7 ]; then
        step "kprobe on $(uname -r): skipped runs not counted, and said so"
        start_daemon --backend kprobe --probes "$SUBSET"
        st '.probes | {missed_runs, missed_runs_uncounted}'
        st .probes.missed_runs_uncounted | grep -q "6\.7" ||
                fail "kprobe on $(uname -r): Status does not say that skipped runs go uncounted"
        stop_daemon
fi

if [ -n "$KILL" ]; then
        step "$KILL: SIGKILL while attaching leaves no BPF object behind"
        kprobes_before=$(wc -l </sys/kernel/debug/kprobes/list)
        start_daemon --backend "$KILL"
        $T -p icmp -r '^(ip|tcp|udp|dev|netif|napi|skb|__)' -o json --duration 600 >$OUT/k 2>$OUT/k.err &
        K=$!
        i=0
        until grep -q "^attaching" $OUT/k.err; do
                i=$((i + 1))
                [ $i -lt 300 ] || fail "$KILL: the session never started attaching"
                sleep 0.1
        done
        sleep 2
        grep -qE "probes (attached|settled) after" $OUT/k.err &&
                fail "$KILL: the attach was over before the kill: nothing was tested"
        echo "$KILL: killing the daemon while it attaches: $(st .attach)"
        kill -KILL $DPID
        wait $DPID
        wait $K
        i=0
        while [ -n "$(skbt_progs)" ] || [ "$(wc -l </sys/kernel/debug/kprobes/list)" -gt "$kprobes_before" ]; do
                i=$((i + 1))
                if [ $i -ge 100 ]; then
                        bpftool prog show | grep skbt_ | head
                        fail "$KILL: BPF programs or kprobes left 10 s after SIGKILL"
                fi
                sleep 0.1
        done
        [ "$(bpftool link show -j | jq length)" -eq 0 ] || { bpftool link show; fail "$KILL: BPF links left after SIGKILL"; }
        echo "$KILL: nothing left after SIGKILL"
fi
# tc and XDP programs (tests/e2e/tcxdp_drop.bpf.c: each drops IPv4 echo requests) traced with
# fentry/fexit on the programs themselves, whatever backend serves the functions: a program
# loaded after the daemon started is found when a session selecting it starts; the drop is
# reported with the program's verdict on its device; another session's filter keeps it out;
# once unneeded and removed, the program goes (nothing of ours holds it) and 'list' says so.
OBJ=/usr/lib/skbt-vm/tcxdp_drop.bpf.o
# A session on '^PROBE' that must see the pings dropped by the program PROBE (with VERDICT,
# a jq test on .bpf) while a UDP-only session on the same program sees nothing.
bpf_drop() {
        _p=$1 _v=$2
        $T -r "^$_p" -p icmp --addr 10.0.0.2 -o json --duration 600 >$OUT/bp 2>$OUT/bp.err &
        _s1=$!
        wait_live $OUT/bp.err $_s1
        $T -r "^$_p" -p udp -o json --duration 600 >$OUT/bpu 2>$OUT/bpu.err &
        _s2=$!
        wait_live $OUT/bpu.err $_s2
        ns a ping -c 2 -i 0.3 -W 1 10.0.0.2 >/dev/null && fail "$_p: the ping went through"
        sleep 0.5
        kill -INT $_s1 $_s2
        wait $_s1
        wait $_s2
        head -c 600 $OUT/bp
        jq -e -s "length >= 2 and all(.[]; .function == \"$_p\" and .ifname == \"vb\" and
                  .tuple.daddr == \"10.0.0.2\" and ($_v))" $OUT/bp >/dev/null ||
                { cat $OUT/bp.err; fail "$_p: no drop events with the program's verdict"; }
        [ ! -s $OUT/bpu ] || fail "$_p: the UDP session got events: $(head -c 300 $OUT/bpu)"
}

# Until nothing holds the program called $1 (the tracer's link went after the linger).
bpf_gone() {
        _i=0
        while bpftool prog show name "$1" 2>/dev/null | grep -q .; do
                _i=$((_i + 1))
                [ $_i -lt 150 ] || fail "program $1 still loaded 15 s after its last session"
                sleep 0.1
        done
}

step "tc (cls_bpf) and XDP programs, traced with fentry on them"
start_daemon --idle-detach-after $LINGER
# The tc/XDP tracers and the netfilter evaluators (which share their entry) load with the rest.
! grep -E "refused the (tc/XDP program tracers|netfilter verdict programs)" $OUT/daemon.log ||
        fail "the kernel refused the tc/XDP tracers or the netfilter evaluators"
ipftctl --socket $SOCK list -r '^(tc|xdp):'
check "clsact" ns b tc qdisc add dev vb clsact
check "cls_bpf" ns b tc filter add dev vb ingress bpf da obj $OBJ sec tc
# A session that cannot select a tc or XDP program does not look for new ones (a walk over every
# BPF program and link): the program above is found by the first session that may select it.
# (A tracepoint: its program is loaded already, attaching it is a link.)
$T -r '^net:netif_receive_skb$' -p icmp --duration 600 >/dev/null 2>$OUT/nb.err &
_s=$!
wait_live $OUT/nb.err $_s
kill -INT $_s
wait $_s
! grep -q "new tc or XDP programs" $OUT/daemon.log ||
        fail "a session on '^net:netif_receive_skb\$' looked for tc and XDP programs"
bpf_drop tc:skbt_tc_drop '.bpf.type == "tc" and .bpf.direction == "ingress" and .bpf.verdict == "SHOT"'
grep -q "1 new tc or XDP programs" $OUT/daemon.log || fail "the tc session did not find the program"
ipftctl --socket $SOCK list -r '^tc:' -o json | jq -e 'select(.name == "tc:skbt_tc_drop") | .kind == "bpf"' >/dev/null ||
        fail "list does not show tc:skbt_tc_drop"
check "cls_bpf removal" ns b tc filter del dev vb ingress
check "ping after cls_bpf" ns a ping -c 1 -W 2 10.0.0.2
bpf_gone skbt_tc_drop
ipftctl --socket $SOCK list -r '^tc:' -o json | tee $OUT/gone |
        jq -e -s 'any(.[]; .name == "tc:skbt_tc_drop" and (.error // "" | test("unloaded")))' >/dev/null ||
        fail "list does not say the tc program was unloaded: $(cat $OUT/gone)"
if [ "$(uname -r | cut -d. -f1-2)" != 6.1 ]; then
        step "tc (tcx link) program"
        # A bpffs outside /sys: 'ip netns exec' mounts its own /sys, without /sys/fs/bpf.
        check "bpffs" mkdir -p /run/bpffs
        check "bpffs mount" mount -t bpf bpf /run/bpffs
        check "tcx" ns b skbt-tcx-attach $OBJ skbt_tc_drop vb /run/bpffs/skbt_tcx
        bpf_drop tc:skbt_tc_drop '.bpf.type == "tc" and .bpf.verdict == "SHOT"'
        ipftctl --socket $SOCK list -r '^tc:' -o json | jq -e -s 'any(.[]; .attached and (.target // "" | startswith("tcx ingress")))' >/dev/null ||
                fail "list does not say where the tcx program is"
        rm /run/bpffs/skbt_tcx
        check "ping after tcx" ns a ping -c 1 -W 2 10.0.0.2
fi
step "XDP (generic) program"
check "xdpgeneric" ns b "$IP" link set dev vb xdpgeneric obj $OBJ sec xdp
bpf_drop xdp:skbt_xdp_drop '.bpf.type == "xdp" and .bpf.verdict == "DROP"'
check "xdp removal" ns b "$IP" link set dev vb xdpgeneric off
check "ping after xdp" ns a ping -c 1 -W 2 10.0.0.2
bpf_gone skbt_xdp_drop
stop_daemon
echo "attach on demand passed on $(uname -r)"
