#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-compare-guest.sh — guest half of bench/vm-compare.sh: what skbtraced and ipftrace2 cost the
# packet path, side by side on one function backend, inside one VM-tier guest (tests/vm).
#
# Runs as /test.sh (busybox sh) with skbtraced, ipftctl, firstline, iperf3, bpftool, jq and
# (unless it could not be built) ipft in the image.  Kernel command line (run-vm.sh --append):
#   skbt.cmp.backend=kprobe-multi|fentry|kprobe   the one backend of this boot
#   skbt.cmp.regex=all|ERE          functions for both tools (all: each tool's own default set)
#   skbt.cmp.rounds=N               rounds of the throughput cases, interleaved
#   skbt.cmp.iperf=S                seconds per iperf3 run
#   skbt.cmp.pings=N                pings per RTT and per BPF-runs measurement
#   skbt.cmp.firstruns=N            timed session starts per case
#   skbt.cmp.ipft=0|1               ipftrace2 is in the image (0: its rows say why not)
#   skbt.cmp.linger=S               the daemon's idle_detach_after
#   skbt.cmp.base=0|1               also run /usr/bin/skbtraced-base (another build, for A/B
#                                   comparisons of changes): its rows are named base_*
#   skbt.cmp.alt=none|BACKEND       also run skbtraced on this other backend, same functions
#                                   (rows alt_*, tool skbtraced-alt): one tool's two backends
#                                   side by side in one boot
#   skbt.cmp.coverwait=S            how long a session may take to get all its probes attached
#                                   before it is measured anyway (its row then says partial=)
# Prints, read back by the host from the console:
#   SKBT-CMP case=C round=R mbps=X rtt_ms=Y pkts=P runs=N run_ns=T [partial=A/T]
#     throughput (iperf3 over veth, BPF statistics off), ping RTT (stats off), then BPF
#     program runs and their run time during PINGS pings (stats on; P ICMP packets);
#     partial: the session was measured with only A of its T probes attached (coverwait)
#   SKBT-CMP info progs case=C round=R split=TYPE/NAME:RUNS_PER_PKT:NS_PER_RUN,...
#     the same runs per program (copies of one program summed), the costliest first
#   SKBT-CMP info fprogs case=C round=R split=FUNCTION:RUNS_PER_PKT:NS_PER_RUN,...
#     fentry only: every program that ran, named by the kernel function its link is attached
#     to (link fdinfo target_btf_id), so both tools' cost on one function compares
#   SKBT-CMP info phase=P tool=T round=R t=UPTIME   when each step began (where a boot's time goes)
#   SKBT-CMP info funcs common=N only_skbt=N only_ipft=N shared_addr=N extra=N only_skbt_some=...
#     the functions each attaches, compared (skbtraced's: attached for its session)
#   SKBT-CMP time tool=T what=W round=R s=SECONDS
#     ready (daemon: Status answers; ipft: "Trace ready!"), loaded (daemon start to idle with
#     its background program loads done), first_cold / first_warm (a session's first event,
#     functions detached or held), coverage (a session started on an idle daemon: all its
#     functions attached, from ipftctl's progress; "-" if not within coverwait), session_end,
#     stop
#   SKBT-CMP skip tool=T reason=...
# Traffic flows between two namespaces the script creates; the VM is discarded afterwards.
set -u
# shellcheck shell=sh disable=SC1091
. /usr/lib/skbt-vm/lib.sh

SOCK=/run/skbt.sock
OUT=/run/out
mkdir -p $OUT

cmdline_args skbt.cmp BACKEND=backend REGEX=regex ROUNDS=rounds IPERF_S=iperf PINGS=pings \
        FIRSTRUNS=firstruns HAVE_IPFT=ipft LINGER=linger BASE=base? COVERWAIT=coverwait ALT=alt
# The backend of the tool being measured (skbtraced_round sets it; ipftrace2 takes BACKEND's).
CUR_BACKEND=$BACKEND
case $BACKEND in
kprobe-multi | kprobe) IPFT_BACKEND=$BACKEND ;;
fentry) IPFT_BACKEND=ftrace ;;
*) fail "unknown backend $BACKEND" ;;
esac
SKBT_SEL=
IPFT_SEL=
if [ "$REGEX" != all ]; then
        SKBT_SEL="--probes $REGEX"
        IPFT_SEL="-r $REGEX"
fi
# ipftrace2 filters on the packet mark only (and needs a non-zero one), so the traffic is
# marked: nftables sets mark 1 on every packet leaving or entering either namespace (the mark
# does not survive the veth into the other namespace).  Every case has these rules, so every
# case sees the same path.  Both tools match with mark 1 and match nothing with 0xdead.
MATCH=1
NOMATCH=0xdead

uptime_s() {
        cut -d' ' -f1 /proc/uptime
}
elapsed() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}
phase() {
        echo "SKBT-CMP info phase=$1 tool=$2 round=$3 t=$(uptime_s)"
}

step "topology"
veth_ab
for n in a b; do
        printf '%s\n' "table ip bench {" \
                "  chain pre { type filter hook prerouting priority -300; meta mark set $MATCH; }" \
                "  chain out { type filter hook output priority -300; meta mark set $MATCH; }" \
                "}" >$OUT/mark.nft
        check "nft mark rules in $n" ns $n nft -f $OUT/mark.nft
done
check "iperf3 server" ns b iperf3 -s -D -I $OUT/iperf3.pid
i=0
until ns a iperf3 -c 10.0.0.2 -t 1 >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 20 ] || fail "iperf3 server not answering"
        sleep 0.5
done

# Summed run time and run count of every BPF program (only the tracer's run in the guest).
bpf_runs() {
        bpftool prog show 2>/dev/null | awk '{ for (i = 1; i < NF; i++) {
                if ($i == "run_time_ns") t += $(i + 1); if ($i == "run_cnt") n += $(i + 1) } }
                END { printf "%d %d\n", t, n }'
}

# Run time and count per program name and type (the tracer's programs, one line each) into
# $1, and per program id into $1.id.
prog_runs() {
        bpftool -j prog show 2>/dev/null |
                jq -r '.[] | "\(.id) \(.type)/\(.name) \(.run_time_ns // 0) \(.run_cnt // 0) \(.bytes_jited // 0)"' \
                >"$1.id"
        awk '{ t[$2] += $3; n[$2] += $4 } END { for (k in t) print k, t[k], n[k] }' "$1.id" | sort >"$1"
}

# fentry: one program per function in both tools, so their cost compares function by function.
# Which function each program runs on: the tracing links' targets (linktargets: bpf_link_info,
# which 6.1's link fdinfo lacks), named from the kernel's BTF (dumped once, before any case).
[ "$BACKEND" != fentry ] ||
        bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
        awk '$2 == "FUNC" { print substr($1, 2, length($1) - 2), substr($3, 2, length($3) - 2) }' \
                >$OUT/btf-funcs
prog_funcs() {
        linktargets >$OUT/link-targets
        # A return program (fexit, attach type 25) is FUNCTION/exit.
        awk 'NR == FNR { f[$1] = $2; next } { print $1, (($2 == 1 && ($3 in f)) ? f[$3] : "btf" $2 ":" $3) \
                ($4 == 25 ? "/exit" : "") }' $OUT/btf-funcs $OUT/link-targets
}
# The machine code size of the programs that ran: jited_bytes=MIN-MAX progs=N.
prog_jited() {
        awk 'NR == FNR { n[$1] = $4; next } $4 > n[$1] { k++; if (!lo || $5 < lo) lo = $5; if ($5 > hi) hi = $5 }
                END { printf "jited_bytes=%d-%d progs=%d", lo, hi, k }' "$1" "$2"
}
# Per function: runs per ICMP packet and ns per run (from two per-id snapshots), by name.
prog_func_split() {
        prog_funcs >$OUT/prog-func
        awk -v pkts="$3" 'FILENAME == ARGV[1] { fn[$1] = $2; next }
                FILENAME == ARGV[2] { t[$1] = $3; n[$1] = $4; next }
                ($1 in fn) && $4 > n[$1] { dt[fn[$1]] += $3 - t[$1]; dn[fn[$1]] += $4 - n[$1] }
                END { for (k in dn) printf "%s:%.2f:%d\n", k, pkts ? dn[k] / pkts : 0, dt[k] / dn[k] }' \
                $OUT/prog-func "$1" "$2" | sort | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $0 }'
}
# Where a case's runs went: per program, runs per ICMP packet and ns per run, the costliest
# first (from two prog_runs snapshots).
prog_split() {
        awk -v pkts="$3" 'NR == FNR { t[$1] = $2; n[$1] = $3; next }
                $3 > n[$1] { dt = $2 - t[$1]; dn = $3 - n[$1]
                        printf "%d %s:%.1f:%d\n", dt, $1, pkts ? dn / pkts : 0, dt / dn }' "$1" "$2" |
                sort -rn | head -n 12 | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }'
}

# One throughput case: iperf3 and ping with BPF statistics off (they cost every run two clock
# reads), then the runs during PINGS more pings with statistics on.
measure() {
        _case=$1
        _round=$2
        _extra=${3:-}
        # The session-start cases' background pings pause meanwhile: the runs per packet count
        # only the measured pings' packets, whatever the window's length.
        kill -STOP $PINGER
        _mbps=$(ns a iperf3 -c 10.0.0.2 -t "$IPERF_S" -J 2>/dev/null |
                jq '.end.sum_received.bits_per_second / 1e6 | floor') || _mbps=-
        [ -n "$_mbps" ] || _mbps=-
        _rtt=$(ns a ping -q -c "$PINGS" -i 0.01 10.0.0.2 2>/dev/null |
                sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p')
        [ -n "$_rtt" ] || _rtt=-
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
        kill -CONT $PINGER
        _runs=$(($2 - _n0))
        _ns=0
        [ "$_runs" -gt 0 ] && _ns=$((($1 - _t0) / _runs))
        echo "SKBT-CMP case=$_case round=$_round mbps=$_mbps rtt_ms=$_rtt pkts=$((2 * ${_rx:-0})) runs=$_runs run_ns=$_ns$_extra"
        [ "$_runs" -eq 0 ] ||
                echo "SKBT-CMP info progs case=$_case round=$_round split=$(prog_split $OUT/progs0 $OUT/progs1 $((2 * ${_rx:-0})))"
        [ "$_runs" -eq 0 ] || [ "$CUR_BACKEND" != fentry ] ||
                echo "SKBT-CMP info fprogs case=$_case round=$_round split=$(prog_func_split $OUT/progs0.id $OUT/progs1.id $((2 * ${_rx:-0}))) $(prog_jited $OUT/progs0.id $OUT/progs1.id)"
}

# Background pings for the session-start cases: a first event within 20 ms of going live.
# Not through ns(): $! must be ping itself (ip netns exec execs it), for measure's SIGSTOP.
"$IP" netns exec a ping -q -i 0.02 -w 3000 10.0.0.2 >/dev/null 2>&1 &
PINGER=$!

skbt_status() {
        ipftctl --socket $SOCK status -o json 2>/dev/null
}

# Status attach.loads: programs loaded so far, their load time in ms, instructions verified.
skbt_loads() {
        skbt_status | jq -r '.attach.loads | "\(.programs)/\(.ms)/\(.verified_insns)"' 2>/dev/null
}
# Idle after the linger: no session for LINGER s, the daemon says its links are closed and
# the programs it loads in the background after start-up are loaded (their CPU is not idle).
wait_idle() {
        i=0
        while ! skbt_status | jq -e '.tracepoints | .idle_detached == true and
                        (.loaded // 0) >= (.usable // 0)' >/dev/null; do
                i=$((i + 1))
                [ $i -lt 6000 ] || fail "daemon not idle (links closed, programs loaded) after 600 s"
                sleep 0.1
        done
}
# Whether the session writing stderr to $1 is live with all its probes attached (as
# wait_live decides it), read with shell builtins only: no process start.
covered() {
        _tr=
        _att=
        while IFS= read -r _l; do
                case $_l in
                "all "*" probes attached after"* | [0-9]*" probes settled after"*) return 0 ;;
                "attaching "*" attached already"*) _att=1 ;;
                Tracing*) _tr=1 ;;
                esac
        done <"$1"
        [ -n "$_tr" ] && [ -z "$_att" ]
}
# Until the session writing stderr to $1 (pid $2) has all its probes attached, for at most
# COVERWAIT s (kprobe attaches one function at a time: minutes for all of them under TCG, and
# the first session after start-up waits for the daemon's background loads).  Sets PARTIAL to
# " partial=ATTACHED/TOTAL" (from its last progress line) when that limit ran out.  Polled
# once a second with builtins: the VM tier's wait_live (up to three greps every 0.1 s) took
# ~9 s of the guest's one CPU during a 40 s kprobe full attach, slowing the attach it waited
# for (docs/performance.md).  The coverage time is the daemon's own figure, not the poll's.
wait_covered() {
        PARTIAL=
        _w=0
        while kill -0 "$2" 2>/dev/null && ! covered "$1"; do
                _w=$((_w + 1))
                if [ $_w -gt "$COVERWAIT" ]; then
                        PARTIAL=$(sed -n 's/^attaching \([0-9]*\) probes: \([0-9]*\) done.*/ partial=\2\/\1/p' \
                                "$1" | tail -n 1)
                        [ -n "$PARTIAL" ] || PARTIAL=" partial=?"
                        echo "vm-compare: not all probes attached after $COVERWAIT s:$PARTIAL; measuring anyway" >&2
                        return 0
                fi
                sleep 1
        done
        kill -0 "$2" 2>/dev/null || fail "session exited before it was live: $(head -c 300 "$1")"
}
first_event() {
        firstline --timeout 300 -- ipftctl --socket $SOCK trace -c 1 -p icmp -o json |
                sed -n 's/^first_s=\([0-9.]*\) .*/\1/p'
}

# shellcheck disable=SC2153 # LINGER (no misspelt PINGER) is set by cmdline_args
skbtraced_round() {
        _r=$1
        _bin=$2
        _tool=$3
        _pfx=$4
        CUR_BACKEND=${5:-$BACKEND}
        step "round $_r: $_bin, $CUR_BACKEND"
        phase start "$_tool" "$_r"
        _t0=$(uptime_s)
        # shellcheck disable=SC2086 # SKBT_SEL is words
        "$_bin" --socket $SOCK --backend "$CUR_BACKEND" --idle-detach-after "$LINGER" $SKBT_SEL \
                >"$OUT/daemon-$_r.log" 2>&1 &
        _dpid=$!
        i=0
        until skbt_status >"$OUT/status.json"; do
                kill -0 $_dpid 2>/dev/null || { tail -n 20 "$OUT/daemon-$_r.log"; fail "daemon exited"; }
                i=$((i + 1))
                [ $i -lt 12000 ] || fail "daemon not ready after 600 s"
                sleep 0.05
        done
        echo "SKBT-CMP time tool=$_tool what=ready round=$_r s=$(elapsed "$_t0" "$(uptime_s)")"
        _probes=$(jq -r '[.probes | to_entries[] | select(.value | type == "number") |
                "\(.key)=\(.value)"] | join(",")' "$OUT/status.json")
        echo "SKBT-CMP info tool=$_tool round=$_r probes=$_probes"

        wait_idle
        echo "SKBT-CMP time tool=$_tool what=loaded round=$_r s=$(elapsed "$_t0" "$(uptime_s)")"
        measure "${_pfx}_idle" "$_r"
        phase first_cold "$_tool" "$_r"
        _k=1
        while [ $_k -le "$FIRSTRUNS" ]; do
                wait_idle
                echo "SKBT-CMP time tool=$_tool what=first_cold round=$_r s=$(first_event)"
                _k=$((_k + 1))
        done

        # One session whose filter matches nothing (a mark no packet carries), started once
        # the daemon is idle again: with attach on demand its functions attach now, and its
        # progress says when all were (full coverage).
        wait_idle
        _loads0=$(skbt_loads)
        phase nomatch "$_tool" "$_r"
        # The stderr files too: a --base or --alt round reuses the names, and the wait below
        # could read the previous round's "all N probes attached" before the shell truncates it.
        rm -f "$OUT/nomatch-$_r" "$OUT/nomatch-$_r.err" "$OUT/match-$_r.err"
        firstline --ready "$OUT/nomatch-$_r" --timeout 3000 -- ipftctl --socket $SOCK trace \
                -m $NOMATCH -o json >/dev/null 2>"$OUT/nomatch-$_r.err" &
        _spid=$!
        # Measured once all its probes are attached, as ipftrace2 is measured once it is ready.
        wait_covered "$OUT/nomatch-$_r.err" $_spid
        phase nomatch_covered "$_tool" "$_r"
        # The programs that session's coverage loaded (one per function on fentry), their load
        # time and the instructions the verifier went through (Status attach.loads, before,after).
        echo "SKBT-CMP info tool=$_tool round=$_r cover_loads=$_loads0,$(skbt_loads)"
        measure "${_pfx}_nomatch" "$_r" "$PARTIAL"
        ipftctl --socket $SOCK list -o json 2>/dev/null |
                jq -r 'select(.kind == "function" and .attached) | .name' | sort -u >"$OUT/funcs-$_pfx"
        phase first_warm "$_tool" "$_r"
        _k=1
        while [ $_k -le "$FIRSTRUNS" ]; do
                echo "SKBT-CMP time tool=$_tool what=first_warm round=$_r s=$(first_event)"
                _k=$((_k + 1))
        done
        kill -INT $_spid
        wait $_spid
        _end=$(sed -n 's/.* stop_s=\([0-9.]*\).*/\1/p' "$OUT/nomatch-$_r")
        _cov=$(sed -n 's/.* probes \(attached\|settled\) after \([0-9.]*\) s.*/\2/p' \
                "$OUT/nomatch-$_r.err" | tail -n 1)
        echo "SKBT-CMP time tool=$_tool what=coverage round=$_r s=${_cov:--}"
        echo "SKBT-CMP time tool=$_tool what=session_end round=$_r s=${_end:--}"

        # One session matching every packet of the traffic; its events go to /dev/null.
        phase match "$_tool" "$_r"
        ipftctl --socket $SOCK trace -m $MATCH -o json >/dev/null 2>"$OUT/match-$_r.err" &
        _spid=$!
        wait_covered "$OUT/match-$_r.err" $_spid
        phase match_covered "$_tool" "$_r"
        measure "${_pfx}_match" "$_r" "$PARTIAL"
        kill -INT $_spid
        wait $_spid
        tail -n 1 "$OUT/match-$_r.err"

        phase stop "$_tool" "$_r"
        _t0=$(uptime_s)
        kill -TERM $_dpid
        wait $_dpid || fail "daemon exit status $? after SIGTERM"
        echo "SKBT-CMP time tool=$_tool what=stop round=$_r s=$(elapsed "$_t0" "$(uptime_s)")"
        CUR_BACKEND=$BACKEND
}

ipft_case() {
        _r=$1
        _case=$2
        _mark=$3
        step "round $_r: ipftrace2 -b $IPFT_BACKEND -m $_mark"
        phase start ipft "$_r"
        rm -f $OUT/ipft.ready
        # shellcheck disable=SC2086 # IPFT_SEL is words
        firstline --stderr --match "Trace ready" --ready $OUT/ipft.ready --timeout 3000 -- \
                ipft -b "$IPFT_BACKEND" -m "$_mark" -o json $IPFT_SEL >/dev/null \
                2>"$OUT/ipft-$_case-$_r.err" &
        _fpid=$!
        i=0
        until [ -s $OUT/ipft.ready ]; do
                kill -0 $_fpid 2>/dev/null || {
                        tail -n 5 "$OUT/ipft-$_case-$_r.err"
                        fail "ipft exited before it was ready"
                }
                i=$((i + 1))
                # Twice a second, as cheap as the sessions' wait: firstline keeps the time.
                [ $i -lt 1200 ] || fail "ipft not ready after 600 s"
                sleep 0.5
        done
        echo "SKBT-CMP time tool=ipft what=ready round=$_r case=$_case s=$(sed -n 's/first_s=//p' $OUT/ipft.ready)"
        # Its progress line, rewritten in place with \r: the last one counts.
        _n=$(tr '\r' '\n' <"$OUT/ipft-$_case-$_r.err" | sed -n 's/.*succeeded \([0-9]*\).*/\1/p' | tail -n 1)
        echo "SKBT-CMP info tool=ipft round=$_r case=$_case functions=${_n:--}"
        measure "$_case" "$_r"
        phase stop ipft "$_r"
        kill -INT $_fpid
        wait $_fpid
        echo "SKBT-CMP time tool=ipft what=stop round=$_r case=$_case s=$(sed -n 's/.* stop_s=\([0-9.]*\).*/\1/p' $OUT/ipft.ready)"
}

# The functions each tool attaches, compared (runs per packet differ with them): how many
# only one has, some of those, and attached names sharing one address (aliases: one
# function probed twice).
compare_funcs() {
        [ "$HAVE_IPFT" = 1 ] && [ -s "$OUT/funcs-skbt" ] || return 0
        # shellcheck disable=SC2086 # IPFT_SEL is words
        ipft -b "$IPFT_BACKEND" -l $IPFT_SEL 2>/dev/null | awk 'NF >= 3 { print $1 }' | sort -u >"$OUT/funcs-ipft"
        awk 'NR == FNR { a[$1] = 1; next } { if ($1 in a) c++; else o++ } END {
                printf "common=%d only_skbt=%d ", c, o }' "$OUT/funcs-ipft" "$OUT/funcs-skbt"
        awk 'NR == FNR { a[$1] = 1; next } !($1 in a) { o++ } END { printf "only_ipft=%d ", o }' \
                "$OUT/funcs-skbt" "$OUT/funcs-ipft"
        awk 'NR == FNR { a[$1] = 1; next } ($3 in a) && !seen[$3]++ { n[$1]++ } END {
                for (k in n) if (n[k] > 1) { d++; e += n[k] - 1 } printf "shared_addr=%d extra=%d ", d, e }' \
                "$OUT/funcs-skbt" /proc/kallsyms
        awk 'NR == FNR { a[$1] = 1; next } !($1 in a) { printf "%s%s", (k++ ? "," : "only_skbt_some="), $1 }
                k >= 40 { exit }' "$OUT/funcs-ipft" "$OUT/funcs-skbt"
        echo
}

r=1
while [ $r -le "$ROUNDS" ]; do
        step "round $r: no tracer"
        measure none $r
        skbtraced_round $r skbtraced skbtraced skbt
        [ "$BASE" != 1 ] || skbtraced_round $r skbtraced-base skbtraced-base base
        [ "$ALT" = none ] || skbtraced_round $r skbtraced skbtraced-alt alt "$ALT"
        if [ "$HAVE_IPFT" = 1 ]; then
                ipft_case $r ipft_nomatch $NOMATCH
                ipft_case $r ipft_match $MATCH
        elif [ $r -eq 1 ]; then
                echo "SKBT-CMP skip tool=ipft reason=not-built-on-the-host"
        fi
        r=$((r + 1))
done
phase compare_funcs - -
echo "SKBT-CMP info funcs $(compare_funcs)"
phase end - -
kill $PINGER 2>/dev/null
echo "SKBT-CMP done"
