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
#                    output in $OUT/NAME and $OUT/NAME.err; returns once it is live
#   wait_live ERR PID [SECONDS]  until the session writing stderr to ERR says it traces and,
#                    if probes had to be attached first (attach on demand), that all of them
#                    are; or until PID is gone (a --count session may be over: judged by its
#                    output).  Fails if neither after $LIVE_WAIT s (default 600; a script sets
#                    it for an attach it knows is longer); given SECONDS, returns 1 once
#                    those have passed instead (the caller decides what that means)
#   cmdline_args PREFIX VAR=KEY...  set each VAR from PREFIX.KEY=VALUE on the kernel command
#                    line (a bench guest's settings); fails naming every missing one, unless
#                    its KEY ends in '?' (then VAR may be empty)
#   veth_ab [PING_WAIT]  namespaces a and b joined by veth: va 10.0.0.1/24 in a, vb 10.0.0.2/24
#                    in b, all up; then one ping a -> b (waiting PING_WAIT s, default 5)
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

wait_live() {
        # By default 3000 polls of 0.1 s, with their greps (the bound the VM tests always had).
        _lw=${LIVE_WAIT:-600}
        _max=$((_lw * 10))
        [ $# -lt 3 ] || _max=$(($3 * 10))
        _w=0
        while kill -0 "$2" 2>/dev/null; do
                if grep -q "^Tracing" "$1" 2>/dev/null; then
                        grep -q "^attaching .* attached already" "$1" || return 0
                        grep -qE "^(all [0-9]+ probes attached|[0-9]+ probes settled) after" "$1" &&
                                return 0
                fi
                _w=$((_w + 1))
                if [ $_w -ge $_max ]; then
                        [ $# -lt 3 ] || return 1
                        fail "session not live after $_lw s: $(head -c 300 "$1")"
                fi
                sleep 0.1
        done
}

cmdline_args() {
        _prefix=$1
        shift
        _missing=
        for _a in "$@"; do
                _key=${_a#*=}
                _opt=
                case $_key in *\?) _opt=1 _key=${_key%\?} ;; esac
                # The prefix's and key's dots are literal; a value ends at the next space.
                _re=$(echo "$_prefix.$_key" | sed 's/\./\\./g')
                _val=$(sed -n "s/.*$_re=\([^ ]*\).*/\1/p" /proc/cmdline)
                [ -n "$_val" ] || [ -n "$_opt" ] || _missing="$_missing $_prefix.$_key"
                eval "${_a%%=*}=\$_val"
        done
        [ -z "$_missing" ] || fail "the kernel command line lacks$_missing"
}

veth_ab() {
        for _n in a b; do check "netns $_n" "$IP" netns add $_n; done
        check "veth" "$IP" link add va netns a type veth peer name vb netns b
        check "addr a" ns a "$IP" addr add 10.0.0.1/24 dev va
        check "addr b" ns b "$IP" addr add 10.0.0.2/24 dev vb
        for _n in a b; do check "lo $_n" ns $_n "$IP" link set lo up; done
        check "va up" ns a "$IP" link set va up
        check "vb up" ns b "$IP" link set vb up
        check "warm-up ping" ns a ping -c 1 -W "${1:-5}" 10.0.0.2 >/dev/null
}

JOBS=
run() {
        _n=$1
        _s=$2
        shift 2
        $T "$@" --duration "$_s" >"$OUT/$_n" 2>"$OUT/$_n.err" &
        JOBS="$JOBS $!"
        wait_live "$OUT/$_n.err" $!
}

bg() {
        "$@" &
        JOBS="$JOBS $!"
}

waitjobs() {
        for _j in $JOBS; do wait "$_j"; done
        JOBS=
}
