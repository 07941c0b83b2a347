#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_harness.py - the e2e harness itself: topology, traffic and cleanup, no daemon needed.

When this fails, the other e2e tests cannot mean anything: it checks that
namespaces, veth, IPv4/IPv6, UDP, TCP, nftables marks and raw sockets work here.
"""

import json
import os
import subprocess
import sys

import skbt
from skbt import check


def test_addresses_and_ping(t):
    topo = t.topo
    for ns, dst in ((topo.a, topo.b4), (topo.b, topo.a4), (topo.a, topo.b6), (topo.b, topo.a6),
                    (topo.a, topo.b4_2)):
        r = topo.ping(ns, dst, count=2, interval=0.2, check_rc=False)
        check(r.returncode == 0, f"ping {dst} from {ns} failed: {r.stdout}{r.stderr}")
    links = json.loads(topo.ns_run(topo.a, ["ip", "-j", "link", "show", topo.veth_a]).stdout)
    check(links[0]["ifindex"] == topo.ifindex_a, "ifindex of veth_a changed")
    check(topo.netns_a != topo.netns_b, "both namespaces have the same inode")


def test_udp_reaches_sink(t):
    topo = t.topo
    sink = topo.udp_sink(topo.b, [5353, 7777])
    topo.udp_send(topo.a, topo.b4, 5353, count=2)
    topo.udp_send(topo.a, topo.b6, 7777, count=2)
    sink.out.wait_line(rf"^got 5353 {topo.a4} ", 5, "UDP over IPv4 at the sink")
    sink.out.wait_line(rf"^got 7777 {topo.a6} ", 5, "UDP over IPv6 at the sink")


def test_tcp_request(t):
    topo = t.topo
    topo.tcp_server(topo.b, 8080)
    check(topo.tcp_request(topo.a, topo.b4, 8080, "hi4") == "ok hi4", "TCP over IPv4")
    check(topo.tcp_request(topo.a, topo.b6, 8080, "hi6") == "ok hi6", "TCP over IPv6")


def test_nft_mark(t):
    topo = t.topo
    rules = ("add table ip skbt_e2e\n"
             "add chain ip skbt_e2e o { type filter hook output priority 0; }\n"
             "add rule ip skbt_e2e o udp dport 7777 meta mark set 0x10 counter\n")
    topo.ns_run(topo.a, ["nft", "-f", "-"], input=rules)
    try:
        topo.udp_send(topo.a, topo.b4, 7777, count=3)
        out = topo.ns_run(topo.a, ["nft", "-j", "list", "table", "ip", "skbt_e2e"]).stdout
        counters = [x["rule"]["expr"] for x in json.loads(out)["nftables"] if "rule" in x]
        packets = [e["counter"]["packets"] for expr in counters for e in expr if "counter" in e]
        check(packets == [3], f"nft mark rule counted {packets}, want [3]")
    finally:
        topo.ns_run(topo.a, ["nft", "delete", "table", "ip", "skbt_e2e"], check_rc=False)


def test_cleanup(t):
    """A second topology disappears with destroy(), even with a process running inside."""
    extra = skbt.Topology().create()
    names = (extra.a, extra.b)
    extra.ns_spawn(extra.b, ["sleep", "300"])
    extra.destroy()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for ns in names:
        check(ns not in listed, f"namespace {ns} still listed after destroy()")
        check(not os.path.exists(f"/run/netns/{ns}"), f"/run/netns/{ns} still exists")


def test_cleanup_on_sigterm(t):
    """A test process stopped by SIGTERM (meson's timeout) still removes its namespaces."""
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import skbt, signal;"
            "signal.signal(signal.SIGTERM, skbt._sigterm);"
            "topo = skbt.Topology().create(); print(topo.a, topo.b, flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while not line.startswith("skbt-a-"):
            line = p.stdout.readline()
            if not line:
                p.wait(timeout=30)
                skbt.fail(f"child exited before creating its topology: {p.stderr.read()}")
        names = line.split()
        p.terminate()
        p.wait(timeout=30)
        check(p.returncode != 0, "the child should have been stopped by SIGTERM")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()
    for ns in names:
        check(not os.path.exists(f"/run/netns/{ns}"), f"namespace {ns} left after SIGTERM")


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
