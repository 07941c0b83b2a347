#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# demo.sh - build skbtraced, run it on a temporary socket and trace pings between two namespaces
#
#   sudo scripts/demo.sh
#
# Installs the build dependencies (scripts/install-deps.sh --no-vm), builds in
# build/, starts skbtraced on a socket in a temporary directory, creates two
# network namespaces joined by a veth pair, pings from one to the other and
# shows 10 events of `ipftctl trace --proto icmp --count 10`.  Everything it
# creates (daemon, namespaces, temporary directory) is removed on exit.  The
# traffic never leaves the two namespaces.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}

if [ -t 1 ]; then bold=$(printf "\033[1m"); plain=$(printf "\033[0m"); else bold= plain=; fi
say() { printf "%sdemo:%s %s\n" "$bold" "$plain" "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (BPF and network namespaces): sudo $0"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skbt-demo.XXXXXX")
ns_a="skbt-demo-a-$$"
ns_b="skbt-demo-b-$$"
daemon_pid=
ping_pid=

cleanup() {
        local rc=$?
        set +e
        if [ -n "$ping_pid" ] && kill -0 "$ping_pid" 2>/dev/null; then
                kill "$ping_pid"
                wait "$ping_pid" 2>/dev/null
        fi
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                say "stopping skbtraced (pid $daemon_pid)"
                kill -TERM "$daemon_pid"
                for _ in $(seq 50); do
                        kill -0 "$daemon_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -0 "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid"
                wait "$daemon_pid" 2>/dev/null
        fi
        ip netns del "$ns_a" 2>/dev/null
        ip netns del "$ns_b" 2>/dev/null
        if [ "$rc" -ne 0 ] && [ -s "$tmp/daemon.log" ]; then
                echo "--- skbtraced log (last 30 lines) ---" >&2
                grep -v 'libbpf: libbpf:' "$tmp/daemon.log" | tail -n 30 >&2
        fi
        rm -rf "$tmp"
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a step with its output in a log that is shown only if it fails.
quiet() {
        local what=$1 log="$tmp/$2.log"
        shift 2
        say "$what"
        if ! "$@" >"$log" 2>&1; then
                tail -n 40 "$log" >&2
                die "$what failed (full log above)"
        fi
}

quiet "installing dependencies (scripts/install-deps.sh --no-vm)" install \
        bash "$top/scripts/install-deps.sh" --no-vm

if [ ! -f "$builddir/meson-private/coredata.dat" ]; then
        quiet "configuring (meson setup $builddir)" setup meson setup "$builddir" "$top"
fi
quiet "building (meson compile -C $builddir)" build meson compile -C "$builddir"

skbtraced="$builddir/daemon/skbtraced"
ipftctl="$builddir/client/ipftctl"
sock="$tmp/skbtraced.sock"
[ -x "$skbtraced" ] || die "$skbtraced was not built"
[ -x "$ipftctl" ] || die "$ipftctl was not built"

say "starting skbtraced --socket $sock"
"$skbtraced" --socket "$sock" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
ready=0
for _ in $(seq 600); do # 60 s
        kill -0 "$daemon_pid" 2>/dev/null || die "skbtraced exited during start-up"
        if "$ipftctl" --socket "$sock" status >/dev/null 2>&1; then
                ready=1
                break
        fi
        sleep 0.1
done
[ "$ready" -eq 1 ] || die "skbtraced not ready after 60 s"
echo
say "ipftctl status"
"$ipftctl" --socket "$sock" status
echo

say "creating namespaces $ns_a (10.199.0.1) and $ns_b (10.199.0.2) joined by veth"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip -n "$ns_a" link add veth-demo type veth peer name veth-demo netns "$ns_b"
ip -n "$ns_a" addr add 10.199.0.1/24 dev veth-demo
ip -n "$ns_b" addr add 10.199.0.2/24 dev veth-demo
for ns in "$ns_a" "$ns_b"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set veth-demo up
done

say "pinging 10.199.0.2 from $ns_a in the background"
ip netns exec "$ns_a" ping -n -q -i 0.2 -c 100 10.199.0.2 >/dev/null 2>&1 &
ping_pid=$!

echo
say "ipftctl trace --proto icmp --addr 10.199.0.2 --count 10"
timeout 30 "$ipftctl" --socket "$sock" trace --proto icmp --addr 10.199.0.2 --count 10 ||
        die "ipftctl trace failed (status $?)"
echo
say "the same packets as JSON lines: ipftctl trace --proto icmp --addr 10.199.0.2 --count 2 -o json"
timeout 30 "$ipftctl" --socket "$sock" trace --proto icmp --addr 10.199.0.2 --count 2 -o json ||
        die "ipftctl trace -o json failed (status $?)"
echo
say "done; cleaning up"
