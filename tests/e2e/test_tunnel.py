#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_tunnel.py - tunnels: VXLAN between two namespaces, the inner packet in events and filters.

A and B (the harness's veth pair, the underlay) each get a VXLAN device vx0 (VNI 42, port 4789)
with an overlay address 10.198.N.1 / .2.  A ping over the overlay is a plain ICMP packet on vx0
and a UDP/VXLAN packet on the veth.  This kernel's tracepoints suffice; the other tunnel types
are covered by the parser's unit and BPF tests and the VM tier.
"""

import os
import time

import skbt
from skbt import check

VNI = 42


def overlay(t):
    """vx0 in A and B over the veth pair; returns (A's, B's) overlay addresses."""
    topo = t.topo
    if getattr(topo, "vx", None):
        return topo.vx
    o_a, o_b = f"10.198.{topo.n}.1", f"10.198.{topo.n}.2"
    for ns, local, remote, dev, addr in ((topo.a, topo.a4, topo.b4, topo.veth_a, o_a),
                                         (topo.b, topo.b4, topo.a4, topo.veth_b, o_b)):
        skbt.run(["ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", str(VNI),
                  "local", local, "remote", remote, "dstport", "4789", "dev", dev])
        skbt.run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "vx0"])
        skbt.run(["ip", "-n", ns, "link", "set", "vx0", "up"])
    skbt.wait_for(lambda: topo.ns_run(topo.a, ["ping", "-n", "-q", "-c", "1", "-W", "1", o_b],
                                      check_rc=False, timeout=5).returncode == 0,
                  10, "a ping over the VXLAN overlay")
    topo.vx = (o_a, o_b)
    return topo.vx


def is_request(ev, o_a, o_b):
    """The event is of the overlay echo request, encapsulated or not."""
    tun = ev.get("tunnel")
    inner = tun["inner"] if tun else ev.get("tuple")
    icmp = tun.get("inner_icmp") if tun else ev.get("icmp")
    return bool(inner and icmp and inner["saddr"] == o_a and inner["daddr"] == o_b
                and icmp["type"] == 8)


def test_outer_filter_shows_inner(t):
    """An underlay filter (UDP 4789) matches the encapsulated packets; each names the tunnel,
    its VNI and the inner packet."""
    topo = t.topo
    o_a, o_b = overlay(t)
    with t.trace("-p", "udp", "--dport", "4789", "-s", topo.a4) as s:
        topo.ping(topo.a, o_b, count=1)
        s.wait_event(lambda ev: ev["function"] == "net:netif_receive_skb", timeout=10,
                     what="the encapsulated request received by B's veth")
    evs = s.result.events
    skbt.check_schema_all(evs)
    check(evs and all(ev.get("tunnel") for ev in evs), f"an event without its tunnel: {evs[:2]}")
    for ev in evs:
        tun = ev["tunnel"]
        check(tun["type"] == "vxlan" and tun["vni"] == VNI, f"tunnel: {tun}")
        check(ev["tuple"]["dport"] == 4789 and ev["tuple"]["daddr"] == topo.b4,
              f"the event's tuple is not the outer packet's: {ev['tuple']}")
    # The tunnel carries more than the ping (vx0's own IPv6 neighbour and MLD packets).
    reqs = [ev for ev in evs if is_request(ev, o_a, o_b)]
    check(reqs and all(ev["tunnel"]["inner_protocol"] == "0x0800" for ev in reqs),
          f"no encapsulated echo request with its inner packet:\n{s.result.describe()}")
    check({ev["ifname"] for ev in reqs} >= {topo.veth_a, topo.veth_b},
          f"not seen on both veths: {sorted({ev['ifname'] for ev in reqs})}")


def test_inner_layer_follows_the_overlay_flow(t):
    """--layer inner: one overlay filter matches the packet before encapsulation (vx0 in A),
    encapsulated (the veths) and after decapsulation (vx0 in B)."""
    topo = t.topo
    o_a, o_b = overlay(t)
    with t.trace("--layer", "inner", "-p", "icmp", "-s", o_a, "-d", o_b) as s:
        topo.ping(topo.a, o_b, count=1)
        s.wait_event(lambda ev: ev["ifname"] == "vx0" and ev["netns"] == topo.netns_b,
                     timeout=10, what="the request on B's vx0, after decapsulation")
    evs = [ev for ev in s.result.events if is_request(ev, o_a, o_b)]
    check(len(evs) == len(s.result.events), f"events of other packets:\n{s.result.describe()}")
    where = {(ev["netns"], ev["ifname"], bool(ev.get("tunnel"))) for ev in evs}
    for want in ((topo.netns_a, "vx0", False), (topo.netns_a, topo.veth_a, True),
                 (topo.netns_b, topo.veth_b, True), (topo.netns_b, "vx0", False)):
        check(want in where, f"{want} not among (netns, device, encapsulated) {sorted(where)}")
    # The outer layer (the default) matches none of the encapsulated ones.
    with t.trace("-p", "icmp", "-s", o_a, "-d", o_b) as s:
        topo.ping(topo.a, o_b, count=1)
        s.wait_event(lambda ev: ev["ifname"] == "vx0" and ev["netns"] == topo.netns_b,
                     timeout=10, what="the request on B's vx0")
    check(not any(ev.get("tunnel") for ev in s.result.events),
          f"an outer filter matched an encapsulated packet:\n{s.result.describe()}")


def test_either_layer_and_inner_pcap(t):
    """--layer either: the outer or the inner packet; --layer inner with a pcap expression runs
    it on the inner frame."""
    topo = t.topo
    o_a, o_b = overlay(t)
    with t.trace("--layer", "either", "-d", o_b, "-p", "icmp") as either, \
            t.trace("--layer", "inner", f"icmp and dst host {o_b}") as pcap, \
            t.trace(f"icmp and dst host {o_b}") as outer_pcap:
        topo.ping(topo.a, o_b, count=1)
        for s in (either, pcap):
            s.wait_event(lambda ev: ev.get("tunnel") and ev["ifname"] == topo.veth_b,
                         timeout=10, what="the encapsulated request on B's veth")
        outer_pcap.wait_event(lambda ev: ev["ifname"] == "vx0", timeout=10, what="vx0")
    for s in (either, pcap):
        evs = s.result.events
        check(any(ev.get("tunnel") for ev in evs) and any(not ev.get("tunnel") for ev in evs),
              f"want the request both encapsulated and not:\n{s.result.describe()}")
        check(all(is_request(ev, o_a, o_b) for ev in evs), f"other packets:\n{s.result.describe()}")
    check(not any(ev.get("tunnel") for ev in outer_pcap.result.events),
          f"a pcap filter on the outer frame matched the inner one:\n{outer_pcap.result.describe()}")


def test_text_and_pcapng(t):
    """Text: the outer flow, then 'vxlan vni=42 {inner flow}'."""
    topo = t.topo
    o_a, o_b = overlay(t)
    with t.trace("-p", "udp", "--dport", "4789", "-s", topo.a4, output="text") as s:
        topo.ping(topo.a, o_b, count=1)
        skbt.wait_for(lambda: " vxlan vni=42 {ICMP " in s.out.text(), 10, "a vxlan text line")
    want = f" UDP {topo.a4}:"
    # The ping's lines: the overlay's own traffic (IPv6 multicast listener reports from a
    # device that just came up) may cross the tunnel too while the session runs.
    lines = [ln for ln in s.result.stdout.splitlines() if " vxlan " in ln and " {ICMP " in ln]
    check(lines and all(want in ln and f" -> {topo.b4}:4789 vxlan vni={VNI} {{ICMP {o_a} -> {o_b} "
                                    "echo-request id=" in ln for ln in lines),
          f"vxlan text lines:\n{s.result.stdout}")


def test_recording_keeps_the_tunnel(t):
    """trace -w records the tunnel: ipftctl show prints the same 'vxlan vni=42 {...}' lines as
    a live session of the same events."""
    topo = t.topo
    o_a, o_b = overlay(t)
    rec = os.path.join(t.workdir, "tunnel.jsonl.zst")
    filt = ["-p", "udp", "--dport", "4789", "-s", topo.a4]
    before = t.d.active_sessions()
    live = t.trace(*filt, output="text").start()
    recording = t.trace(*filt, "-w", rec, output="text").start()
    try:
        skbt.wait_for(lambda: t.d.active_sessions() == before + 2, 10, "both sessions live")
        topo.ping(topo.a, o_b, count=1)
        skbt.wait_for(lambda: " vxlan vni=42 {ICMP " in live.out.text(), 10, "a vxlan text line")
        time.sleep(0.5)
    finally:
        lres = live.interrupt()
        rres = recording.interrupt()
    check(rres.rc == 0, f"the recording session failed\n{rres.describe()}")
    # Only the ping's lines: the overlay's own traffic (ARP, IPv6 neighbour discovery from a
    # device that just came up) can fall between the two sessions' starts and reach only the
    # first; the ping is sent once both are live.
    shown = [ln for ln in skbt.run([t.d.ctl, "show", rec, "-o", "text"],
                                   timeout=60).stdout.splitlines() if " {ICMP " in ln]
    lines = [ln for ln in lres.stdout.splitlines() if " {ICMP " in ln]
    check(any(" vxlan vni=42 {ICMP " in ln for ln in shown),
          f"the recording shows no tunnel:\n" + "\n".join(shown[:10]))
    check(shown == lines, "ipftctl show differs from the live session:\n"
          + "\n".join(f"live: {a}\nshow: {b}" for a, b in zip(lines, shown) if a != b))


def test_track_across_decapsulation(t):
    """--track from the underlay: the journey goes on after B's vxlan decapsulates the packet
    (the same skb, its outer headers pulled)."""
    topo = t.topo
    o_a, o_b = overlay(t)

    def decapsulated(ev):
        # The overlay echo request itself, not any packet on B's vx0 (it sends an IPv6 MLD
        # report of its own when it comes up, which an earlier run took for the request).
        return (ev["ifname"] == "vx0" and ev["netns"] == topo.netns_b and not ev.get("tunnel")
                and is_request(ev, o_a, o_b))

    with t.trace("--track", "-p", "udp", "--dport", "4789", "-s", topo.a4) as s:
        topo.ping(topo.a, o_b, count=1)
        s.wait_event(lambda ev: decapsulated(ev), timeout=10,
                     what="the request on B's vx0 after decapsulation")
    evs = s.result.events
    rx = [ev for ev in evs if ev["ifname"] == topo.veth_b and ev.get("tunnel")
          and is_request(ev, o_a, o_b)]
    dec = [ev for ev in evs if decapsulated(ev)]
    check(rx and dec, f"want the request on B's veth and vx0:\n{s.result.describe()}")
    check(dec[0]["track_id"] == rx[0]["track_id"] != 0 and dec[0]["tuple"]["daddr"] == o_b,
          f"decapsulated event {dec[0]} not in the journey of {rx[0]}")


if __name__ == "__main__":
    skbt.main(globals())
