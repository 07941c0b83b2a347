#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_pcap.py - tcpdump filter expressions select packets on real traffic, alone and with flags."""

import skbt
from skbt import check
from test_filters import mix, traced


def _probes(events):
    return {ev["function"] for ev in events}


def test_pcap_port_and_host(t):
    topo = t.topo
    expr = f"udp dst port 7777 and dst host {topo.b4}"
    r = traced(t, expr)
    for ev in r.events:
        tp = skbt.tuple_of(ev)
        check(skbt.proto_of(ev) == "udp" and tp.get("dport") == 7777 and tp.get("daddr") == topo.b4,
              f"'{expr}' let through {ev}")
    probes = _probes(r.events)
    # Transmit (A) and receive (B) sides: the filter works wherever the probe sees the packet.
    check(probes & set(skbt.TX_TRACEPOINTS) and probes & set(skbt.RX_TRACEPOINTS),
          f"'{expr}' should match on TX and RX probes, saw {sorted(probes)}\n{r.describe()}")


def test_pcap_and_flags(t):
    """Flags and the expression combine with AND."""
    topo = t.topo
    r = traced(t, "-6", "udp", "port", "5353")
    for ev in r.events:
        tp = skbt.tuple_of(ev)
        check(tp.get("l3") == "ipv6" and skbt.proto_of(ev) == "udp" and 5353 in
              (tp.get("sport"), tp.get("dport")), f"-6 'udp port 5353' let through {ev}")
    check(any(skbt.involves(ev, topo.b6) for ev in r.events),
          f"no IPv6 UDP to {topo.b6}:5353\n{r.describe()}")


def test_pcap_two_sessions(t):
    topo = t.topo
    e1, e2 = f"icmp and host {topo.b4_2}", "ip6 and udp"
    with t.trace(e1) as s1:
        with t.trace(e2) as s2:
            mix(t)
    for s in (s1, s2):
        check(s.result.rc in (0, 130), f"exit status {s.result.rc}\n{s.result.describe()}")
        check(s.result.events, f"session {s.args} saw nothing\n{s.result.describe()}")
        skbt.check_schema_all(s.result.events)
    for ev in s1.result.events:
        check(skbt.proto_of(ev) == "icmp" and skbt.involves(ev, topo.b4_2), f"'{e1}' got {ev}")
    for ev in s2.result.events:
        check(skbt.tuple_of(ev).get("l3") == "ipv6" and skbt.proto_of(ev) == "udp",
              f"'{e2}' got {ev}")


def test_pcap_tcp_flags(t):
    """tcp[tcpflags]: the expression reads the TCP header at its real offset."""
    topo = t.topo
    server = topo.tcp_server(topo.b, 8080)
    expr = "tcp port 8080 and tcp[tcpflags] & tcp-syn != 0"
    try:
        with t.trace(expr) as s:
            check(topo.tcp_request(topo.a, topo.b4, 8080) == "ok hello", "TCP request failed")
            s.wait_event(lambda ev: skbt.tuple_of(ev).get("tcp_flags") == "S.",
                         what="the SYN-ACK")
    finally:
        server.kill()
    r = s.result
    flags = {skbt.tuple_of(ev).get("tcp_flags") for ev in r.events}
    check(flags == {"S", "S."}, f"'{expr}': expected SYN and SYN-ACK only, saw {flags}\n"
          f"{r.describe()}")


def test_pcap_listed_in_sessions(t):
    expr = "icmp or udp port 9999"
    with t.trace("-4", expr):
        sess = skbt.varlink_call(t.d.sock, "io.skbtraced.Sessions")["sessions"]
    mine = [s for s in sess if s.get("pcap_filter") == expr]
    check(len(mine) == 1, f"no session with pcap_filter '{expr}': {sess}")
    check(mine[0]["filter_text"] == f"l3 ipv4 and pcap '{expr}'" or
          f"pcap '{expr}'" in mine[0]["filter_text"],
          f"filter_text should show the expression: {mine[0]['filter_text']!r}")


def test_pcap_errors(t):
    for args, words in ((["tcp", "prt", "80"], "invalid pcap filter 'tcp prt 80'"),
                        (["greater", "100"], "packet length"),
                        (["ether", "host", "1"], "invalid pcap filter")):
        r = t.d.ctl_run(["trace"] + args, timeout=10, check_rc=False)
        check(r.returncode != 0, f"ipftctl trace {' '.join(args)} succeeded")
        check(words in r.stderr, f"ipftctl trace {' '.join(args)}: expected '{words}' in "
              f"{r.stderr!r}")


if __name__ == "__main__":
    skbt.main(globals())
