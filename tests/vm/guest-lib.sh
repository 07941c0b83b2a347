# SPDX-License-Identifier: GPL-2.0-only
# guest-lib.sh — helpers for VM-tier guest scripts (busybox sh), installed as /usr/lib/skbt-vm/lib.sh.
# shellcheck shell=sh
#
# Use from a guest script:   . /usr/lib/skbt-vm/lib.sh
#   step TEXT        announce a step ("== TEXT")
#   fail REASON      record REASON as the FAIL reason for the result line and exit 1
#   check TEXT CMD…  run CMD; on failure fail "TEXT"
#   ns NAME CMD…     run CMD inside network namespace NAME (iproute2 `ip netns exec`)
#   run NAME SECONDS ARGS…  a trace session ($T ARGS --duration SECONDS) in the background,
#                    output in $OUT/NAME and $OUT/NAME.err
#   bg CMD…          background traffic
#   waitjobs         wait for what run and bg started (plain `wait` would wait for the daemon)
# $IP is iproute2's ip (set by /init); always call it as "$IP", never as plain `ip`.

: "${IP:=/usr/sbin/ip}"
: "${SKBT_VM_REASON:=/run/skbt-vm-reason}"

step() {
        echo "== $*"
}

fail() {
        echo "FAIL: $*" >&2
        # Only the first failure is the reason.
        [ -s "$SKBT_VM_REASON" ] || echo "$*" >"$SKBT_VM_REASON"
        exit 1
}

check() {
        _what=$1
        shift
        "$@" || fail "$_what"
}

ns() {
        _ns=$1
        shift
        "$IP" netns exec "$_ns" "$@"
}

JOBS=
run() {
        _n=$1
        _s=$2
        shift 2
        $T "$@" --duration "$_s" >"$OUT/$_n" 2>"$OUT/$_n.err" &
        JOBS="$JOBS $!"
}

bg() {
        "$@" &
        JOBS="$JOBS $!"
}

waitjobs() {
        for _j in $JOBS; do wait "$_j"; done
        JOBS=
}
