#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_filters.py - address, port, protocol, mark and family filters exclude concurrent traffic."""

import sys

import skbt
from skbt import check

PORTS = (5353, 7777, 9999)


def mix(t, rounds=10, interval=0.1):
    """ICMP v4 on two address pairs, ICMPv6, UDP v4/v6 to several ports, all at once."""
    topo = t.topo
    if getattr(t, "sink", None) is None:
        t.sink = topo.udp_sink(topo.b, PORTS)
    procs = [
        topo.ping_spawn(topo.a, topo.b4, count=rounds, interval=interval),
        topo.ping_spawn(topo.a, topo.b4_2, count=rounds, interval=interval, source=topo.a4_2),
        topo.ping_spawn(topo.a, topo.b6, count=rounds, interval=interval),
    ]
    for dst in (topo.b4, topo.b6):
        for port in PORTS:
            procs.append(topo.udp_spawn(topo.a, dst, port, count=rounds, interval=interval))
    procs.append(topo.udp_spawn(topo.a, topo.b4_2, 9999, count=rounds, interval=interval))
    topo.wait_bg(procs, timeout=rounds * interval + 30)


def traced(t, *args):
    with t.trace(*args) as s:
        mix(t)
    r = s.result
    check(r.rc in (0, 130), f"exit status {r.rc}\n{r.describe()}")
    check(r.summary is not None, f"no summary line\n{r.describe()}")
    skbt.check_schema_all(r.events)
    check(r.events, f"'{' '.join(args)}' saw nothing of the test traffic\n{r.describe()}")
    return r


def test_addr(t):
    topo = t.topo
    r = traced(t, "--addr", topo.b4_2)
    for ev in r.events:
        check(skbt.involves(ev, topo.b4_2), f"--addr {topo.b4_2} let through {ev}")
    check(any(skbt.proto_of(ev) == "icmp" and skbt.between(ev, topo.a4_2, topo.b4_2)
              for ev in r.events), f"no ICMP {topo.a4_2} -> {topo.b4_2}\n{r.describe()}")
    check(any(skbt.proto_of(ev) == "icmp" and skbt.between(ev, topo.b4_2, topo.a4_2)
              for ev in r.events), f"no ICMP {topo.b4_2} -> {topo.a4_2}\n{r.describe()}")
    check(any(skbt.proto_of(ev) == "udp" and skbt.tuple_of(ev)["dport"] == 9999
              for ev in r.events), f"no UDP to {topo.b4_2}:9999\n{r.describe()}")


def test_saddr_direction(t):
    topo = t.topo
    r = traced(t, "-s", topo.b4, "-p", "icmp")
    for ev in r.events:
        check(skbt.tuple_of(ev).get("saddr") == topo.b4 and skbt.proto_of(ev) == "icmp",
              f"-s {topo.b4} -p icmp let through {ev}")
        check(ev.get("icmp", {}).get("type") == 0, f"only echo replies come from {topo.b4}: {ev}")


def test_dport_udp(t):
    r = traced(t, "--dport", "5353", "-p", "udp")
    for ev in r.events:
        tp = skbt.tuple_of(ev)
        check(skbt.proto_of(ev) == "udp" and tp.get("dport") == 5353,
              f"--dport 5353 -p udp let through {ev}")
    fams = {skbt.tuple_of(ev)["l3"] for ev in r.events}
    check(fams == {"ipv4", "ipv6"}, f"UDP to 5353 went over IPv4 and IPv6, seen: {fams}")


def test_mark(t):
    topo = t.topo
    rules = ("add table ip skbt_e2e\n"
             "add chain ip skbt_e2e o { type filter hook output priority 0; }\n"
             "add rule ip skbt_e2e o udp dport 7777 meta mark set 0x10\n")
    topo.ns_run(topo.a, ["nft", "-f", "-"], input=rules)
    try:
        # With a mask, and without one (the full mask, which the request leaves out and
        # the daemon must fill in).
        runs = [("-m 0x10/0xff", traced(t, "-m", "0x10/0xff"), 0xff),
                ("-m 0x10", traced(t, "-m", "0x10"), 0xffffffff)]
    finally:
        topo.ns_run(topo.a, ["nft", "delete", "table", "ip", "skbt_e2e"], check_rc=False)
    for what, r, mask in runs:
        for ev in r.events:
            check(ev["mark"] & mask == 0x10, f"{what} let through mark {ev['mark']:#x}: {ev}")
            tp = skbt.tuple_of(ev)
            # Only A's IPv4 UDP to 7777 is marked; the mark is scrubbed when the
            # packet crosses into B.
            check(skbt.proto_of(ev) == "udp" and tp.get("dport") == 7777 and
                  tp.get("l3") == "ipv4", f"{what}: marked event that is not IPv4 UDP to port "
                  f"7777: {ev}")
        check(any(ev["ifname"] == topo.veth_a for ev in r.events),
              f"{what}: no marked event on {topo.veth_a}\n{r.describe()}")


def test_ipv6_only(t):
    topo = t.topo
    r = traced(t, "-6")
    for ev in r.events:
        check(ev["tuple"] is not None and ev["tuple"]["l3"] == "ipv6", f"-6 let through {ev}")
    protos = {skbt.proto_of(ev) for ev in r.events if skbt.involves(ev, topo.b6)}
    check({"icmp6", "udp"} <= protos, f"-6 should see ICMPv6 and UDP to {topo.b6}, saw {protos}")


def test_two_sessions_at_once(t):
    """Two live sessions with different filters: each gets only its own packets."""
    topo = t.topo
    with t.trace("-p", "udp", "--dport", "7777") as s_udp:
        with t.trace("-p", "icmp", "-d", topo.b4) as s_icmp:
            mix(t)
    for s in (s_udp, s_icmp):
        check(s.result.rc in (0, 130), f"exit status {s.result.rc}\n{s.result.describe()}")
        check(s.result.events, f"session {s.args} saw nothing\n{s.result.describe()}")
        skbt.check_schema_all(s.result.events)
    for ev in s_udp.result.events:
        check(skbt.proto_of(ev) == "udp" and skbt.tuple_of(ev)["dport"] == 7777,
              f"UDP session got {ev}")
    for ev in s_icmp.result.events:
        check(skbt.proto_of(ev) == "icmp" and skbt.tuple_of(ev)["daddr"] == topo.b4,
              f"ICMP session got {ev}")


_TCP_SEND = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"x" * 100)
time.sleep(float(sys.argv[3]))
s.close()
"""


def test_tcp_retransmit_from_socket(t):
    """tcp:tcp_retransmit_skb sees the skb before its headers exist (a write-queue skb, with
    no skb->sk): its tuple comes from the tracepoint's socket argument and its flags from
    TCP's control block, so address, port and protocol filters match it, and others not."""
    topo = t.topo
    port = 9500
    rtx = ("-r", "^tcp:tcp_retransmit_skb$")
    # The handshake's last ACK and everything after it are dropped: the data is retransmitted.
    topo.ns_run(topo.b, ["nft", "-f", "-"], input=(
        "table ip skbt_rtx {\n chain in {\n  type filter hook input priority 0;\n"
        f"  tcp dport {port} tcp flags syn accept\n  tcp dport {port} drop\n }}\n}}\n"))
    srv = topo.tcp_server(topo.b, port)
    try:
        with t.trace("-p", "tcp", "-d", topo.b4, "--dport", str(port), *rtx) as s, \
                t.trace("-p", "tcp", "--dport", str(port + 1), *rtx) as other_port, \
                t.trace("-p", "udp", *rtx) as other_proto:
            p = topo.ns_spawn(topo.a, [sys.executable, "-c", _TCP_SEND, topo.b4, str(port),
                                       "4"])
            s.wait_event(lambda ev: ev["function"] == "tcp:tcp_retransmit_skb", timeout=8,
                         what="a retransmission of the data")
            p.kill()
    finally:
        srv.kill()
        topo.ns_run(topo.b, ["nft", "delete", "table", "ip", "skbt_rtx"], check_rc=False)
    check(s.result.events, f"no retransmission matched -p tcp -d {topo.b4} --dport {port}\n"
          f"{s.result.describe()}")
    for ev in s.result.events:
        tup = ev["tuple"]
        check(ev["function"] == "tcp:tcp_retransmit_skb" and tup and
              tup.get("from_socket") is True and tup["proto"] == "tcp" and
              tup["saddr"] == topo.a4 and tup["daddr"] == topo.b4 and tup["dport"] == port and
              tup["sport"] > 0 and "." in tup.get("tcp_flags", ""),
              f"retransmitted skb's tuple: {ev}")
    for other in (other_port, other_proto):
        check(not other.result.events, f"session {' '.join(other.args)} matched the "
              f"retransmissions:\n{other.result.describe()}")


if __name__ == "__main__":
    skbt.main(globals())
