#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-startup-guest.sh — guest half of bench/vm-startup.sh: daemon start to ready, and the first
# session right after it (every probe, --wait-attached) to full coverage, in one VM-tier guest.
#
# Runs as /test.sh (busybox sh) with skbtraced, ipftctl and jq in the image (and
# /usr/bin/skbtraced-base with skbt.vmstartup.base=1).  Kernel command line:
#   skbt.vmstartup.backend=B    the daemon's --backend (every function: no --probes)
#   skbt.vmstartup.rounds=N     rounds; each runs every build once, alternating
#   skbt.vmstartup.base=0|1     also run /usr/bin/skbtraced-base (rows tool=base)
# Prints, per round and build:
#   SKBT-VMSTARTUP tool=T round=I ready_s=S first_full_s=S probes=N loads=JSON startup=TEXT
# ready_s: daemon start to its first Status answer; first_full_s: from there, a session over
# every probe started at once until all its probes are attached (the client's own figure).
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT

cmdline_args skbt.vmstartup BACKEND=backend ROUNDS=rounds BASE=base?

uptime_s() {
        cut -d' ' -f1 /proc/uptime
}
elapsed() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# One daemon start and its first session: $1 round, $2 binary, $3 row name.
startup_round() {
        t0=$(uptime_s)
        "$2" --socket $SOCK --backend "$BACKEND" >"$OUT/daemon-$3.log" 2>&1 &
        DPID=$!
        i=0
        while ! ipftctl --socket $SOCK status >/dev/null 2>&1; do
                kill -0 $DPID 2>/dev/null || { cat "$OUT/daemon-$3.log"; fail "$3: daemon exited"; }
                i=$((i + 1))
                [ $i -lt 30000 ] || fail "$3: daemon not ready after 600 s"
                sleep 0.02
        done
        t1=$(uptime_s)
        ipftctl --socket $SOCK trace --wait-attached -p icmp --duration 0.1 >/dev/null \
                2>"$OUT/session-$3.err" || fail "$3: the first session failed: $(cat "$OUT/session-$3.err")"
        t2=$(uptime_s)
        full=$(tr '\r' '\n' <"$OUT/session-$3.err" | sed -n 's/^all \([0-9]*\) probes attached.*/\1/p' | tail -n 1)
        loads=$(ipftctl --socket $SOCK status -o json | jq -c .attach.loads)
        startup=$(sed -n 's/.*start-up: //p' "$OUT/daemon-$3.log" | tr ' ' '_')
        kill -TERM $DPID
        wait $DPID || fail "$3: daemon exit status $? after SIGTERM"
        echo "SKBT-VMSTARTUP tool=$3 round=$1 ready_s=$(elapsed "$t0" "$t1")" \
                "first_full_s=$(elapsed "$t1" "$t2") probes=${full:-?} loads=$loads startup=$startup"
}

r=1
while [ $r -le "$ROUNDS" ]; do
        step "round $r"
        # Alternate the order, so neither build always runs on a warmer page cache.
        if [ "$BASE" = 1 ] && [ $((r % 2)) = 1 ]; then
                startup_round $r /usr/bin/skbtraced-base base
        fi
        startup_round $r "$(command -v skbtraced)" skbtraced
        if [ "$BASE" = 1 ] && [ $((r % 2)) = 0 ]; then
                startup_round $r /usr/bin/skbtraced-base base
        fi
        r=$((r + 1))
done
echo "SKBT-VMSTARTUP done"
