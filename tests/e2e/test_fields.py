#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_fields.py - custom fields (-F): GSO fields across segmentation, paths, errors, sessions."""

import shutil

import skbt
from skbt import check

_BULK_SEND = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.sendall(b"x" * 200000)
c.close()
"""

_BULK_SINK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
while c.recv(65536):
    pass
"""


def test_gso_segmentation(t):
    """ipftrace's GSO example: TCP builds a GSO packet; with TSO off on the veth, the stack
    segments it before the driver: len/gso_size/gso_segs/gso_type change on the way."""
    topo = t.topo
    check(shutil.which("ethtool"), "ethtool is needed (scripts/install-deps.sh installs it)")
    topo.ns_run(topo.a, ["ethtool", "-K", topo.veth_a, "tso", "off"])
    try:
        sink = topo.ns_spawn(topo.b, ["python3", "-c", _BULK_SINK, "9100"], ready=r"^ready")
        with t.trace("-p", "tcp", "--dport", "9100",
                     "-F", "len,data_len,gso_size,gso_segs,gso_type") as s:
            topo.ns_python(topo.a, _BULK_SEND, topo.b4, 9100)
            s.wait_event(lambda ev: ev["function"] == "net:net_dev_start_xmit"
                         and ev["fields"]["len"] > 1000, what="a segment at the driver")
        sink.kill()
    finally:
        topo.ns_run(topo.a, ["ethtool", "-K", topo.veth_a, "tso", "on"], check_rc=False)
    r = s.result
    skbt.check_schema_all(r.events)
    for ev in r.events:
        check(set(ev["fields"]) == {"len", "data_len", "gso_size", "gso_segs", "gso_type"},
              f"fields of {ev}")
        check(ev["fields"]["len"] == ev["len"], f"field len and event len differ: {ev}")
    gso = [ev for ev in r.events if ev["function"] == "net:net_dev_queue"
           and ev["fields"]["gso_segs"] > 1]
    check(gso, f"no GSO packet (gso_segs > 1) queued\n{r.describe()}")
    g = gso[0]["fields"]
    check(g["gso_size"] > 0 and g["len"] > 1514 and g["gso_type"] & 1,
          f"a GSO TCPv4 packet has gso_size, len > MTU and SKB_GSO_TCPV4: {g}")
    segs = [ev for ev in r.events if ev["function"] == "net:net_dev_start_xmit"
            and ev["fields"]["len"] > 1000]
    check(segs, f"no segment reached the driver\n{r.describe()}")
    for ev in segs:
        check(ev["fields"]["len"] <= 1514 and ev["fields"]["gso_size"] == 0,
              f"with TSO off the driver gets segments, not {ev['fields']}")
    # The GSO packet itself ends where it was segmented.
    ids = {ev["packet_id"] for ev in gso}
    check(any(ev["packet_id"] in ids and ev["function"] == "skb:consume_skb" for ev in r.events),
          f"the GSO packet is not consumed after segmentation\n{r.describe()}")


def test_text_paths(t):
    topo = t.topo
    with t.trace("-p", "icmp", "-d", topo.b4, "-F", "mark,skb->dev->mtu,protocol,ifindex",
                 output="text") as s:
        topo.ping_ab(count=2)
        s.wait_event(lambda ev: False, timeout=0.5)
    out = s.result.stdout
    lines = [l for l in out.splitlines() if "ICMP" in l]
    check(lines, f"no ICMP lines:\n{s.result.describe()}")
    for line in lines:
        # Fields go at the end of the line, in the order asked for.
        check(line.endswith(f" mark=0 skb->dev->mtu=1500 protocol=2048 ifindex={topo.ifindex_a}")
              or line.endswith(f" mark=0 skb->dev->mtu=1500 protocol=2048 "
                               f"ifindex={topo.ifindex_b}"),
              f"fields missing at the end of {line!r}")


def test_two_sessions_own_fields(t):
    topo = t.topo
    with t.trace("-p", "icmp", "-F", "len,mark") as s1:
        with t.trace("-p", "icmp", "-F", "gso_segs,len,skb->dev->ifindex") as s2:
            topo.ping_ab(count=2)
    for s, keys in ((s1, ["len", "mark"]), (s2, ["gso_segs", "len", "skb->dev->ifindex"])):
        r = s.result
        check(r.events, f"session {s.args} saw nothing\n{r.describe()}")
        for ev in r.events:
            check(list(ev["fields"]) == keys, f"session {s.args} got fields {ev['fields']}")
            check(ev["fields"]["len"] == ev["len"], f"len differs: {ev}")
    for ev in s2.result.events:
        check(ev["fields"]["skb->dev->ifindex"] == ev["ifindex"], f"ifindex differs: {ev}")


def test_field_errors(t):
    for args, words in ((["-F", "gso_sze"], "unknown field 'gso_sze': close matches: gso_size"),
                        (["-F", "skb->dev->mt"], "no member 'mt'; close matches: mtu"),
                        (["-F", "skb->cb"], "not a number or pointer"),
                        (["-F", "a,b,c,d,e,f,g,h,i"], "more than 8 fields")):
        r = t.d.ctl_run(["trace"] + args, timeout=10, check_rc=False)
        check(r.returncode != 0, f"ipftctl trace {' '.join(args)} succeeded")
        check(words in r.stderr, f"ipftctl trace {' '.join(args)}: expected '{words}' in "
              f"{r.stderr!r}")


def test_dump_skb(t):
    """--dump-skb: the whole sk_buff of each event as the kernel prints it, bounded, with
    pointers hashed; other sessions' records do not grow."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--dump-skb") as s, \
            t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4) as plain:
        topo.ping_ab(count=1)
        s.wait_event(lambda ev: ev["function"] == "net:netif_receive_skb", timeout=10,
                     what="the request at RX")
        plain.wait_event(lambda ev: ev["function"] == "net:netif_receive_skb", timeout=10,
                         what="the request at RX (plain session)")
    evs = s.result.events
    check(evs and all("skb_dump" in ev for ev in evs), f"an event without skb_dump: {evs[:2]}")
    check(not any("skb_dump" in ev for ev in plain.result.events), "a plain session got dumps")
    rx = [ev for ev in evs if ev["function"] == "net:netif_receive_skb"][0]
    d = rx["skb_dump"]
    skbt.log(f"skb_dump: {len(d)} bytes, skb_dump_size {rx.get('skb_dump_size')}: {d[:300]}")
    check(d.startswith("(struct sk_buff){"), f"not an sk_buff dump: {d[:80]!r}")
    # The length it printed is the one the event has.
    check(f".len = (unsigned int){rx['len']}" in d, f"len {rx['len']} not in the dump: {d[:400]}")
    check(len(d) <= 3071, f"dump longer than the bound: {len(d)}")
    check("skb_dump_error" not in rx, f"dump failed: {rx.get('skb_dump_error')}")
    # Pointers are the kernel's hashed %p values, never the skb's own address.
    check(rx["packet_id"][2:] not in d, "the skb's address appears in the dump")
    # Text: a line of its own after the event's line.
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--dump-skb", "-c", "2",
                 output="text") as s:
        topo.ping_ab(count=1)
        s.wait(timeout=10)
    lines = s.result.stdout.splitlines()
    check(len(lines) == 4 and lines[1].startswith("    skb (struct sk_buff){")
          and lines[3].startswith("    skb (struct sk_buff){") and " ICMP " in lines[0],
          f"text dump lines:\n{s.result.stdout[:600]}")


if __name__ == "__main__":
    skbt.main(globals())
