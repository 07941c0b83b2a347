#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# systemd.sh — VM-tier guest script for the systemd guest: the Debian packages under a real systemd.
#
# Runs as /usr/lib/skbt-vm/test.sh in `run-vm.sh --systemd` (Debian 12, systemd as PID 1),
# with the packages under /root/debs. As an administrator would: install them (the postinst
# creates the group and enables the socket), `systemctl enable --now skbtraced.socket`; then
# as alice (group skbtrace) `ipftctl status` starts the daemon through socket activation and
# reports a function backend, `ipftctl trace --proto icmp` sees pings between two namespaces,
# `systemctl reload skbtraced` keeps that session (and a bad config file only warns), and
# `systemctl stop skbtraced` ends it with a summary. The journal has the daemon's messages at
# their priorities, the watchdog is armed and pinged, the daemon holds the capabilities the
# unit grants, bob (not in the group) is refused, and `systemd-analyze security` stays at or
# below the exposure tests/vm/README.md reports.
set -u
# shellcheck disable=SC1091
. /usr/lib/skbt-vm/lib.sh

# systemd-analyze security's overall exposure for skbtraced.service may not rise above this
# (tests/vm/README.md and skbtraced(8) give the figure; lower it here when the unit improves).
EXPOSURE_MAX=2.5
SOCK=/run/skbtraced/skbtraced.sock
OUT=/run/out
mkdir -p $OUT

as() { # as USER CMD...: run CMD as USER with USER's groups (setpriv, like a login would)
        _u=$1
        shift
        setpriv --reuid="$_u" --regid="$_u" --init-groups --reset-env "$@"
}
prop() { systemctl show -p "$2" --value "$1"; }
# wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds (TCG: generous bounds).
wait_for() {
        _s=$1
        _what=$2
        shift 2
        _n=$((_s * 5))
        until "$@"; do
                _n=$((_n - 1))
                [ $_n -gt 0 ] || fail "$_what: not after ${_s}s"
                sleep 0.2
        done
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
more_lines() { [ "$(lines "$1")" -gt "$2" ]; }
journal() { # the daemon's own messages as "PRIORITY MESSAGE" lines
        journalctl -u skbtraced.service -o json --no-pager |
                jq -r 'select(.SYSLOG_IDENTIFIER == "skbtraced") | "\(.PRIORITY) \(.MESSAGE)"'
}
in_journal() { journal | grep -q -- "$1"; }
# On a failure, what the daemon said is the first thing to read.
trap 'rc=$?; [ $rc -eq 0 ] || { echo "---- journal of skbtraced.service (last 40)"; journalctl -u skbtraced -o short-monotonic --no-pager | tail -n 40; }' EXIT

step "install the packages"
ls -l /root/debs
check "dpkg -i the packages" dpkg -i /root/debs/skbtraced_*.deb /root/debs/ipftctl_*.deb
getent group skbtrace || fail "the postinst did not create group skbtrace (systemd-sysusers)"
[ "$(systemctl is-enabled skbtraced.socket)" = enabled ] || fail "the postinst did not enable skbtraced.socket"
[ "$(systemctl is-active skbtraced.socket)" = active ] || fail "the postinst did not start skbtraced.socket"
[ "$(systemctl is-active skbtraced.service)" = inactive ] ||
        fail "skbtraced.service runs after install: socket activation should start it"
check "systemctl enable --now skbtraced.socket" systemctl enable --now skbtraced.socket
stat -c '%n %U:%G %a' $SOCK
[ "$(stat -c '%U:%G %a' $SOCK)" = "root:skbtrace 660" ] || fail "socket is $(stat -c '%U:%G %a' $SOCK), want root:skbtrace 660"

step "users and namespaces"
check "useradd alice" useradd -m -G skbtrace alice
check "useradd bob" useradd -m bob
veth_ab 5

step "bob (not in group skbtrace) is refused"
if as bob ipftctl status >$OUT/bob.out 2>&1; then
        fail "bob, not in group skbtrace, got a status: $(cat $OUT/bob.out)"
fi
cat $OUT/bob.out
grep -q "permission denied" $OUT/bob.out || fail "bob's error does not say permission denied: $(cat $OUT/bob.out)"
[ "$(systemctl is-active skbtraced.service)" = inactive ] || fail "bob's refused connection started the daemon"

step "socket activation: alice asks for the status"
t0=$(date +%s)
as alice ipftctl status >$OUT/status.txt 2>&1 || { cat $OUT/status.txt; fail "ipftctl status as alice failed"; }
echo "status answered $(($(date +%s) - t0)) s after the first connection (daemon start, TCG)"
cat $OUT/status.txt
[ "$(systemctl is-active skbtraced.service)" = active ] || fail "skbtraced.service not active after the first connection"
as alice ipftctl status -o json >$OUT/status.json || fail "ipftctl status -o json as alice failed"
backend=$(jq -r .backend $OUT/status.json)
case $backend in
kprobe-multi | fentry | kprobe) echo "backend: $backend" ;;
*) fail "status reports backend '$backend', want a function backend on $(uname -r)" ;;
esac
pid=$(prop skbtraced MainPID)
echo "daemon pid $pid"

step "the daemon holds the capabilities the unit grants"
grep Cap /proc/"$pid"/status
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/"$pid"/status)
# CAP_SYS_ADMIN 21, CAP_SYSLOG 34, CAP_PERFMON 38, CAP_BPF 39 (linux/capability.h)
for c in 21:CAP_SYS_ADMIN 34:CAP_SYSLOG 38:CAP_PERFMON 39:CAP_BPF; do
        (((0x$capeff >> ${c%%:*}) & 1)) || fail "the daemon lacks ${c#*:} (CapEff $capeff)"
done
# Nothing beyond what the unit's CapabilityBoundingSet= names.
(((0x$capeff & ~((1 << 21) | (1 << 34) | (1 << 38) | (1 << 39))) == 0)) ||
        fail "the daemon has capabilities the unit does not grant (CapEff $capeff)"

step "watchdog armed"
wd=$(prop skbtraced WatchdogUSec)
echo "WatchdogUSec=$wd"
[ "$wd" = 30s ] || fail "WatchdogUSec is '$wd', want 30s (skbtraced.service WatchdogSec=)"
wd_t0=$(prop skbtraced WatchdogTimestampMonotonic)
[ "${wd_t0:-0}" -gt 0 ] || fail "no WatchdogTimestamp for skbtraced.service"

step "alice traces ICMP between the namespaces"
as alice ipftctl trace --proto icmp -o json >$OUT/trace.json 2>$OUT/trace.err &
TPID=$!
wait_for 120 "trace session start" grep -q "^Tracing" $OUT/trace.err
cat $OUT/trace.err
ns a ping -q -i 0.5 10.0.0.2 >/dev/null 2>&1 &
PING=$!
wait_for 60 "ICMP events in alice's trace" more_lines $OUT/trace.json 2
head -n 2 $OUT/trace.json
others=$(jq -c 'select(.tuple.proto != "icmp")' $OUT/trace.json | head -n 1)
[ -z "$others" ] || fail "alice's --proto icmp trace has another event: $others"
as alice ipftctl sessions -o json >$OUT/sessions-before.json || fail "ipftctl sessions failed"

step "systemctl reload keeps the session"
n=$(lines $OUT/trace.json)
check "systemctl reload skbtraced" systemctl reload skbtraced
wait_for 30 "'configuration reloaded' in the journal" in_journal "configuration reloaded"
[ "$(prop skbtraced MainPID)" = "$pid" ] || fail "reload restarted the daemon (pid $pid -> $(prop skbtraced MainPID))"
kill -0 $TPID 2>/dev/null || fail "alice's trace ended on reload: $(cat $OUT/trace.err)"
wait_for 60 "events after the reload" more_lines $OUT/trace.json "$n"
as alice ipftctl sessions -o json >$OUT/sessions-after.json || fail "ipftctl sessions failed after reload"
cmp -s <(jq -S '[.. | .id? // empty]' $OUT/sessions-before.json) <(jq -S '[.. | .id? // empty]' $OUT/sessions-after.json) ||
        fail "the session list changed on reload: $(cat $OUT/sessions-before.json) -> $(cat $OUT/sessions-after.json)"

step "a bad config file on reload: a warning, the session goes on"
mkdir -p /etc/skbtraced
echo "max_sessions = lots" >/etc/skbtraced/skbtraced.conf
check "systemctl reload (bad file)" systemctl reload skbtraced
wait_for 30 "the reload warning in the journal" in_journal "cannot reload the configuration"
rm -f /etc/skbtraced/skbtraced.conf
[ "$(prop skbtraced MainPID)" = "$pid" ] || fail "a bad config file on reload restarted the daemon"
n=$(lines $OUT/trace.json)
wait_for 60 "events after the bad reload" more_lines $OUT/trace.json "$n"
kill -0 $TPID 2>/dev/null || fail "alice's trace ended on a bad reload"

step "drop locations are symbolized (CAP_SYSLOG reaches the daemon)"
as alice ipftctl trace -t drop -p udp --dport 9 -o json --count 1 --duration 60 >$OUT/drop.json 2>$OUT/drop.err &
DPID=$!
wait_for 60 "drop session start" grep -q "^Tracing" $OUT/drop.err
until ! kill -0 $DPID 2>/dev/null; do
        ns a bash -c 'echo x >/dev/udp/10.0.0.2/9' 2>/dev/null
        sleep 0.5
done
wait $DPID || fail "the drop trace failed: $(cat $OUT/drop.err)"
cat $OUT/drop.json
loc=$(jq -r 'select(.drop_reason != null) | .location' $OUT/drop.json | head -n 1)
[ -n "$loc" ] || fail "no drop event for UDP to a closed port: $(cat $OUT/drop.err)"
case $loc in
*+0x*) echo "drop location $loc" ;;
*) fail "drop location '$loc' is not symbolized: the daemon cannot read kallsyms addresses (CAP_SYSLOG)" ;;
esac

step "an interface name resolves in a named namespace (the daemon enters it)"
as alice ipftctl trace -p icmp -i vb --netns /run/netns/b --count 1 --duration 60 >$OUT/ifname.out 2>&1 ||
        fail "ipftctl trace -i vb --netns /run/netns/b as alice failed: $(tail -n 1 $OUT/ifname.out)"
cat $OUT/ifname.out
grep -q ' vb ICMP' $OUT/ifname.out || fail "the -i vb event is not on vb: $(cat $OUT/ifname.out)"

step "-i lo in the caller's own namespace (ipftctl looks the index up: the daemon cannot enter it)"
for u in alice root; do
        (while :; do ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; sleep 0.3; done) &
        LPID=$!
        as $u ipftctl trace -p icmp -i lo --count 1 --duration 60 >$OUT/lo-$u.out 2>&1
        lrc=$?
        kill $LPID
        [ $lrc = 0 ] || fail "ipftctl trace -p icmp -i lo as $u failed: $(tail -n 1 $OUT/lo-$u.out)"
        cat $OUT/lo-$u.out
        grep -q ' lo ICMP' $OUT/lo-$u.out || fail "the -i lo event ($u) is not on lo: $(cat $OUT/lo-$u.out)"
done

step "the watchdog is pinged"
wait_for 60 "a watchdog ping (WatchdogTimestamp moving)" \
        test "$(prop skbtraced WatchdogTimestampMonotonic)" -gt "$wd_t0"
echo "WatchdogTimestampMonotonic $wd_t0 -> $(prop skbtraced WatchdogTimestampMonotonic)"

step "systemctl stop with a session running: the session ends with a summary"
check "systemctl stop skbtraced" systemctl stop skbtraced
wait $TPID
trc=$?
kill $PING 2>/dev/null
cat $OUT/trace.err
grep -q "skbtraced is shutting down" $OUT/trace.err || fail "alice's trace did not say the daemon shut down"
grep -Eq "^[0-9]+ events received, [0-9]+ lost" $OUT/trace.err || fail "alice's trace ended without a summary"
echo "trace client exit status $trc"
[ "$(systemctl is-active skbtraced.service)" = inactive ] || fail "skbtraced.service still $(systemctl is-active skbtraced.service) after stop"
[ "$(systemctl is-active skbtraced.socket)" = active ] || fail "stopping the service stopped the socket"

step "the journal: the daemon's messages at their priorities"
journal | tee $OUT/journal.txt
grep -Eq '^6 ready in ' $OUT/journal.txt || fail "no 'ready in' at priority 6 (info)"
grep -Eq '^6 configuration reloaded' $OUT/journal.txt || fail "no 'configuration reloaded' at priority 6"
grep -Eq '^4 cannot reload the configuration' $OUT/journal.txt || fail "no reload warning at priority 4 (warning)"
grep -Eq '^6 received .*, shutting down' $OUT/journal.txt || fail "no shutdown message at priority 6"
if grep -Eq '^7 ' $OUT/journal.txt; then fail "debug messages (priority 7) without -v"; fi
if grep -Eq '^[0-9] (<[0-9]>|skbtraced:)' $OUT/journal.txt; then
        fail "a message carries its own level prefix or name: the journal should have parsed it"
fi

step "socket activation again after the stop"
as alice ipftctl status >/dev/null 2>&1 || fail "ipftctl status after stop did not restart the daemon"
[ "$(systemctl is-active skbtraced.service)" = active ] || fail "no restart through the socket"

step "systemd-analyze security"
systemd-analyze security --no-pager skbtraced.service >$OUT/security.txt 2>&1
grep '✗' $OUT/security.txt
exposure=$(sed -n 's/.*Overall exposure level for skbtraced.service: \([0-9.]*\).*/\1/p' $OUT/security.txt)
echo "SKBT-VM-EXPOSURE: $exposure"
[ -n "$exposure" ] || fail "no exposure figure from systemd-analyze security: $(tail -n 3 $OUT/security.txt)"
awk -v e="$exposure" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(e <= m) }' ||
        fail "exposure $exposure is above $EXPOSURE_MAX"
echo "all systemd checks passed"
