#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_ctx_filters.py - --netns, -i/--ifname and --pid exclude concurrent traffic."""

import json
import subprocess
import sys
import time

import skbt
from skbt import check

# Sends UDP datagrams from a fixed source port until killed; prints its pid first.
_UDP_LOOP = r"""
import os, socket, sys, time
dst, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", sport))
print("pid", os.getpid(), flush=True)
while True:
    s.sendto(b"skbt", (dst, port))
    time.sleep(0.05)
"""


def background_pings(t):
    """Traffic the filters must leave out: A's loopback and B pinging A."""
    topo = t.topo
    return [topo.ping_spawn(topo.a, topo.a4_2, count=8, interval=0.1, source=topo.a4),
            topo.ping_spawn(topo.b, topo.a4, count=8, interval=0.1)]


def test_netns_path_and_inode(t):
    topo = t.topo
    for arg in (f"/run/netns/{topo.b}", str(topo.netns_b)):
        bg = background_pings(t)
        with t.trace("-p", "icmp", "--netns", arg) as s:
            topo.ping(topo.a, topo.b4, count=2, interval=0.1)
            s.wait_event(lambda ev: ev["ifname"] == topo.veth_b, timeout=5, what="B's veth")
        topo.wait_bg(bg)
        r = s.result
        check(any(ev["ifname"] == topo.veth_b for ev in r.events),
              f"--netns {arg}: nothing on {topo.veth_b}\n{r.describe()}")
        wrong = [ev for ev in r.events if ev["netns"] not in (0, topo.netns_b)]
        check(not wrong, f"--netns {arg} let through other namespaces: {wrong[:3]}")
        # Without a device the socket's namespace decided; it must be B's traffic.
        for ev in r.events:
            if ev["netns"] == 0:
                check(skbt.involves(ev, topo.b4), f"device-less event not of B: {ev}")


def test_ifname_in_netns(t):
    topo = t.topo
    bg = background_pings(t)
    with t.trace("-p", "icmp", "--netns", f"/run/netns/{topo.a}", "-i", topo.veth_a) as s:
        topo.ping(topo.a, topo.b4, count=2, interval=0.1)
        s.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0, timeout=5, what="a reply")
    topo.wait_bg(bg)
    r = s.result
    check(r.events, f"nothing seen\n{r.describe()}")
    for ev in r.events:
        check(ev["ifindex"] == topo.ifindex_a and ev["netns"] == topo.netns_a
              and ev["ifname"] == topo.veth_a, f"-i {topo.veth_a} let through {ev}")
    types = {ev.get("icmp", {}).get("type") for ev in r.events}
    check({0, 8} <= types, f"requests out and replies in on {topo.veth_a}: types {types}")


def test_ifname_in_clients_netns(t):
    """Without --netns the name is the client's: ipftctl run inside namespace A."""
    topo = t.topo
    cmd = ["ip", "netns", "exec", topo.a, t.d.ctl, "--socket", t.d.sock, "trace", "-p", "icmp",
           "-i", topo.veth_a, "-o", "json", "-c", "3"]
    p = skbt._track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    skbt.wait_for(lambda: t.d.active_sessions() > 0 or p.poll() is not None, 10, "the session")
    topo.ping(topo.a, topo.b4, count=3, interval=0.1)
    out, err = p.communicate(timeout=20)
    check(p.returncode == 0, f"ipftctl in {topo.a}: status {p.returncode}: {err}")
    evs = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
    check(len(evs) == 3 and all(ev["ifindex"] == topo.ifindex_a and ev["netns"] == topo.netns_a
                                for ev in evs), f"events {evs}")


def test_ifname_errors(t):
    topo = t.topo
    r = t.d.ctl_run(["trace", "--netns", f"/run/netns/{topo.a}", "-i", "nope0", "-c", "1"],
                    check_rc=False)
    check(r.returncode == 1 and "no interface 'nope0' in network namespace" in r.stderr,
          f"status {r.returncode}: {r.stderr!r}")
    r = t.d.ctl_run(["trace", "--netns", "4294967295", "-i", "lo", "-c", "1"], check_rc=False)
    check(r.returncode == 1 and "network namespace 4294967295 not found" in r.stderr,
          f"status {r.returncode}: {r.stderr!r}")
    r = t.d.ctl_run(["trace", "--netns", "/etc/hostname"], check_rc=False)
    check(r.returncode == 2 and "not a namespace file" in r.stderr, f"{r.returncode} {r.stderr!r}")


def test_pid(t):
    """--pid: only what the kernel did in that process's context."""
    topo = t.topo
    sink = topo.udp_sink(topo.b, [7001])
    one = topo.ns_spawn(topo.a, [sys.executable, "-c", _UDP_LOOP, topo.b4, "7001", "41001"],
                        ready=r"^pid")
    two = topo.ns_spawn(topo.a, [sys.executable, "-c", _UDP_LOOP, topo.b4, "7001", "41002"],
                        ready=r"^pid")
    try:
        pid = int(one.out.wait_line(r"^pid (\d+)", 5, "the sender's pid").group(1))
        with t.trace("-p", "udp", "--pid", str(pid)) as s:
            s.wait_event(lambda ev: skbt.tuple_of(ev).get("sport") == 41001, timeout=5,
                         what="the first sender's datagrams")
            # Some 30 more datagrams of sender one (it sends 20 a second), so that the
            # share of the other sender's below means something.
            time.sleep(1.5)
    finally:
        for p in (one, two, sink):
            p.kill()
    r = s.result
    check(r.events, f"nothing for pid {pid}\n{r.describe()}")
    for ev in r.events:
        check(ev["pid"] == pid, f"--pid {pid} let through pid {ev['pid']}: {ev}")
    # The other sender's datagrams can show up legitimately: softirq work (veth's backlog
    # is processed when the sender re-enables bottom halves) runs in whatever process is
    # current, so a datagram of sender two is sometimes received in sender one's context.
    # Those are rare; without the filter both senders would be seen about equally.
    ports = [skbt.tuple_of(ev).get("sport") for ev in r.events]
    own, other = ports.count(41001), ports.count(41002)
    check(own, "sender one unseen")
    check(other * 4 <= own, f"--pid {pid}: {other} events of the other sender, {own} of its own\n"
          f"{r.describe()}")


if __name__ == "__main__":
    skbt.main(globals())
