#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-start-guest.sh — guest half of bench/vm-start.sh: session start on function probes, skbtraced
# against bpftrace attaching the same functions, inside one VM-tier guest (tests/vm).
#
# Runs as /test.sh (busybox sh) with skbtraced, ipftctl, floodgen, firstline and bpftrace in the
# image.  Kernel command line (run-vm.sh --append):
#   skbt.vmstart.backends=kprobe-multi,fentry   daemon backends, in order; each is compared with
#                                                bpftrace's matching probe type (kprobe:, kfunc:)
#   skbt.vmstart.runs=N                          ipftctl runs per backend
#   skbt.vmstart.btruns=M                        bpftrace runs per backend
#   skbt.vmstart.regex=ERE                       the functions (skbtraced --probes)
# Prints one line per measurement, read back by the host from the console:
#   SKBT-VMSTART tool=T backend=B probes=N run=I first_s=S exit_s=S status=RC
#   SKBT-VMSTART daemon backend=B probes=N ready_s=S stop_s=S
# Traffic: a bounded UDP flow (floodgen --rate) between two namespaces the script creates; the
# VM is discarded afterwards, so nothing needs cleaning up.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
PORT=47009
mkdir -p $OUT

cmdline_args skbt.vmstart BACKENDS=backends RUNS=runs BTRUNS=btruns REGEX=regex
BACKENDS=$(echo "$BACKENDS" | tr , ' ')

uptime_s() {
        cut -d' ' -f1 /proc/uptime
}

step "topology and traffic"
veth_ab
# 200 packets/s: the first event follows attach by a few ms at most, even under TCG.
# floodgen runs at most 600 s at a time; the loop is bounded too (and so is the VM).
(
        i=0
        while [ $i -lt 10 ]; do
                ns a floodgen --rate 200 --duration 500 10.0.0.2 $PORT || exit 1
                i=$((i + 1))
        done
) >$OUT/flood.log 2>&1 &
FLOOD=$!
sleep 1
kill -0 $FLOOD 2>/dev/null || { cat $OUT/flood.log; fail "floodgen exited"; }

for be in $BACKENDS; do
        case $be in
        kprobe-multi | kprobe) btkind=kprobe ;;
        fentry) btkind=kfunc ;;
        *) fail "unknown backend $be" ;;
        esac

        step "$be: daemon attaches functions matching $REGEX"
        t0=$(uptime_s)
        skbtraced --socket $SOCK --backend "$be" --no-return-probes --probes "$REGEX" \
                >"$OUT/daemon-$be.log" 2>&1 &
        DPID=$!
        i=0
        while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
                kill -0 $DPID 2>/dev/null || { cat "$OUT/daemon-$be.log"; fail "$be: daemon exited"; }
                i=$((i + 1))
                [ $i -lt 3000 ] || fail "$be: daemon not ready after 600 s"
                sleep 0.2
        done
        t1=$(uptime_s)
        # The functions it attached: the set bpftrace attaches too.
        ipftctl --socket $SOCK list -k function -o json >"$OUT/list-$be.json" ||
                fail "$be: ipftctl list"
        sed -n 's/.*"name": *"\([^"]*\)".*"attached": *true.*/\1/p' "$OUT/list-$be.json" \
                >"$OUT/funcs-$be"
        nf=$(wc -l <"$OUT/funcs-$be")
        [ "$nf" -gt 0 ] || fail "$be: no function attached"
        grep -E "chosen|attached" "$OUT/daemon-$be.log" | head -n 3

        step "$be: ipftctl trace -c 1, $RUNS runs over $nf functions"
        # One run first, not counted: the daemon's first session (page cache, allocations).
        firstline --timeout 120 -- ipftctl --socket $SOCK trace -c 1 -p udp --dport $PORT \
                -o json >/dev/null || fail "$be: warm-up session saw no event"
        r=1
        while [ $r -le "$RUNS" ]; do
                res=$(firstline --timeout 120 -- ipftctl --socket $SOCK trace -c 1 -p udp \
                        --dport $PORT -o json) || fail "$be: ipftctl run $r saw no event: $res"
                echo "SKBT-VMSTART tool=ipftctl backend=$be probes=$nf run=$r $res"
                r=$((r + 1))
        done
        t2=$(uptime_s)
        kill -TERM $DPID
        wait $DPID || fail "$be: daemon exit status $? after SIGTERM"
        t3=$(uptime_s)
        echo "SKBT-VMSTART daemon backend=$be probes=$nf ready_s=$(awk -v a="$t0" -v b="$t1" \
                'BEGIN { printf "%.2f", b - a }') stop_s=$(awk -v a="$t2" -v b="$t3" \
                'BEGIN { printf "%.2f", b - a }')"

        step "$be: bpftrace $btkind: on the same $nf functions, $BTRUNS runs (daemon stopped)"
        cp "$OUT/funcs-$be" "$OUT/btfuncs-$be"
        r=1
        pruned=0
        while [ $r -le "$BTRUNS" ]; do
                nb=$(wc -l <"$OUT/btfuncs-$be")
                # bpftrace refuses more than 512 probes by default.
                export BPFTRACE_MAX_PROBES=$((nb + 16))
                prog=$(sed "s/^/$btkind:/" "$OUT/btfuncs-$be" | tr '\n' ',' | sed 's/,$//')
                printf '%s { printf("%%s\\n", probe); exit(); }\n' "$prog" >"$OUT/prog-$be.bt"
                res=$(firstline --match "$btkind:" --timeout 900 -- bpftrace -q "$OUT/prog-$be.bt" \
                        2>"$OUT/bpftrace-$be.err")
                case $res in
                first_s=-*)
                        # bpftrace 0.17 cannot generate code for a few functions' BTF
                        # signatures (e.g. skb_flow_dissect_ct): leave those out, uncounted.
                        bad=$(sed -n 's/^ERROR: Code not generated for probe: [a-z]*:\(vmlinux:\)\{0,1\}\([^ ]*\) from:.*/\2/p' \
                                "$OUT/bpftrace-$be.err" | head -n 1)
                        if [ -n "$bad" ] && [ $pruned -lt 10 ]; then
                                echo "bpftrace cannot attach $bad: left out"
                                grep -v -x "$bad" "$OUT/btfuncs-$be" >$OUT/btfuncs.tmp
                                mv $OUT/btfuncs.tmp "$OUT/btfuncs-$be"
                                pruned=$((pruned + 1))
                                continue
                        fi
                        tail -n 5 "$OUT/bpftrace-$be.err" | cut -c1-300
                        fail "$be: bpftrace run $r saw no event"
                        ;;
                esac
                echo "SKBT-VMSTART tool=bpftrace backend=$btkind probes=$nb run=$r $res"
                r=$((r + 1))
        done
done
kill $FLOOD 2>/dev/null
echo "SKBT-VMSTART done"
