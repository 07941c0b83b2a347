#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_verdict.py - the per-CPU verdict cache (bpf/skbt_verdict.bpf.h, used while a session has
a pcap filter: the sessions here have one) decides again when what
the filters read changes between two probes of one skb: a DNAT rewrite, a VXLAN encapsulation
and decapsulation, a new mark; and sessions that all filter on the mark are decided by it alone."""

import contextlib
import json
import os

import skbt
from skbt import check, log, run
from test_track import RouterTopology, requests


def verdict_counts(daemon, which=("vhits", "vmisses")):
    """The daemon's verdict counters, summed over CPUs (default: the cache's hits and misses):
    counters of its per-CPU scratch map, found through the daemon's own fds."""
    ids = []
    for fd in os.listdir(f"/proc/{daemon.proc.pid}/fd"):
        try:
            if os.readlink(f"/proc/{daemon.proc.pid}/fd/{fd}") != "anon_inode:bpf-map":
                continue
            with open(f"/proc/{daemon.proc.pid}/fdinfo/{fd}") as f:
                info = dict(ln.rstrip("\n").split(":\t", 1) for ln in f if ":\t" in ln)
        except OSError:
            continue
        ids.append(info.get("map_id"))
    for mid in ids:
        show = json.loads(run(["bpftool", "-j", "map", "show", "id", mid]).stdout)
        if show.get("name") != "scratch":
            continue
        dump = json.loads(run(["bpftool", "-j", "map", "dump", "id", mid], timeout=60).stdout)
        sums = [0] * len(which)
        for entry in dump:
            for v in entry.get("formatted", entry)["values"]:
                for i, name in enumerate(which):
                    sums[i] += int(v["value"][name])
        return tuple(sums)
    skbt.fail(f"no BPF map 'scratch' among the daemon's fds (map ids {ids})")


@contextlib.contextmanager
def cache_hit(daemon):
    """The block must hit the verdict cache at least once: a test whose probes all miss would
    not notice a stale verdict."""
    h0, m0 = verdict_counts(daemon)
    yield
    h1, m1 = verdict_counts(daemon)
    log(f"verdict cache during the test: {h1 - h0} hits, {m1 - m0} misses")
    check(h1 > h0, f"the verdict cache was never hit ({h0} -> {h1} hits, {m0} -> {m1} misses): "
          "this test would not notice a stale verdict")


def test_dnat_decided_again(t):
    """Two plain sessions (no --track), one on the virtual address, one on the address DNAT
    rewrites it to: the router's first probe of an echo request decides that only the first
    wants it; after the rewrite, the same skb at the router's output must reach the second."""
    rt = RouterTopology(t.topo.n).create()
    with cache_hit(t.d), t.trace(f"icmp and dst host {rt.vip}") as before, \
            t.trace(f"icmp and dst host {rt.sv_ip}") as after:
        t.topo.ping(rt.cl, rt.vip, count=3, interval=0.3)
        after.wait_event(lambda ev: ev["function"] == "skb:consume_skb"
                         and ev.get("icmp", {}).get("type") == 8, timeout=5,
                         what="the rewritten request's end at the server")
    a, b = before.result, after.result
    check(a.rc in (0, 130) and b.rc in (0, 130), f"exit status {a.rc}, {b.rc}")

    # At the router, the request arrives on rt0 for the virtual address...
    arrived = {ev["packet_id"]: ev for ev in requests(a.events)
               if ev["function"] in skbt.RX_TRACEPOINTS and ev["ifname"] == "rt0"}
    check(arrived, f"the session on {rt.vip} saw no request arrive on rt0\n{a.describe(40)}")
    check(all(skbt.tuple_of(ev)["daddr"] == rt.vip for ev in requests(a.events)),
          f"the session on {rt.vip} reports a request to another address\n{a.describe(40)}")
    # ...and the same skb leaves on rt1 rewritten: the second session must see it there.
    left = [ev for ev in requests(b.events) if ev["packet_id"] in arrived
            and ev["function"] in skbt.TX_TRACEPOINTS and ev["ifname"] == "rt1"]
    check(left, f"no request the router received for {rt.vip} (skbs {sorted(arrived)}) was "
          f"reported leaving on rt1 to the session on {rt.sv_ip}: a verdict from before the "
          f"rewrite was reused\n{b.describe(40)}")
    check(all(skbt.tuple_of(ev)["daddr"] == rt.sv_ip for ev in left),
          f"rewritten requests with the wrong address: {left[:3]}")


def vxlan_tunnel(topo):
    """A VXLAN tunnel over the veth pair: vxa (A) 10.196.N.1 -- vxb (B) 10.196.N.2, VNI 42,
    UDP 4789 between a4 and b4.  Encapsulation and decapsulation keep the skb (the same
    packet_id), its headers change: the case a cache keyed on anything but the headers
    would get wrong."""
    if getattr(topo, "vxlan_verdict", None):
        return topo.vxlan_verdict
    inner = {}
    for ns, dev, local, remote, addr in ((topo.a, "vxa", topo.a4, topo.b4, 1),
                                         (topo.b, "vxb", topo.b4, topo.a4, 2)):
        r = run(["ip", "-n", ns, "link", "add", dev, "type", "vxlan", "id", "42", "local", local,
                 "remote", remote, "dstport", "4789"], check_rc=False)
        check(r.returncode == 0, f"cannot create a VXLAN device (the vxlan module is needed): "
              f"{r.stderr.strip()}")
        inner[dev] = f"10.196.{topo.n}.{addr}"
        run(["ip", "-n", ns, "addr", "add", f"{inner[dev]}/24", "dev", dev])
        run(["ip", "-n", ns, "link", "set", dev, "up"])
    skbt.wait_for(lambda: run(["ip", "netns", "exec", topo.a, "ping", "-n", "-q", "-c", "1", "-W",
                               "1", inner["vxb"]], check_rc=False).returncode == 0,
                  15, f"ping {inner['vxb']} through the VXLAN tunnel")
    topo.vxlan_verdict = (inner["vxa"], inner["vxb"])
    return topo.vxlan_verdict


def test_encap_decided_again(t):
    """Two plain sessions, one on the inner packet (ICMP to B's tunnel address), one on the
    outer one (UDP to b4, port 4789).  The same skb is inner on vxa, outer on the veth pair,
    inner again on vxb after B decapsulates it: each session must see it where its
    headers say so."""
    topo = t.topo
    _, inner_b = vxlan_tunnel(topo)
    with cache_hit(t.d), t.trace(f"icmp and dst host {inner_b}") as inner, \
            t.trace(f"udp and dst host {topo.b4} and dst port 4789") as outer:
        topo.ping(topo.a, inner_b, count=3, interval=0.3)
        inner.wait_event(lambda ev: ev.get("ifname") == "vxb"
                         and ev["function"] in skbt.RX_TRACEPOINTS, timeout=5,
                         what="a request arriving on vxb after decapsulation")
    i, o = inner.result, outer.result
    check(i.rc in (0, 130) and o.rc in (0, 130), f"exit status {i.rc}, {o.rc}")

    # A sends the request into the tunnel: inner headers on vxa...
    sent = {ev["packet_id"] for ev in requests(i.events)
            if ev["function"] in skbt.TX_TRACEPOINTS and ev["ifname"] == "vxa"}
    check(sent, f"the inner session saw no request queued on vxa\n{i.describe(40)}")
    # ...the same skb leaves on the veth encapsulated: the outer session must see it there.
    out_a = {ev["packet_id"] for ev in o.events
             if ev["packet_id"] in sent and ev["function"] in skbt.TX_TRACEPOINTS
             and ev["ifname"] == topo.veth_a}
    check(out_a, f"no skb the inner session saw on vxa (skbs {sorted(sent)}) was reported "
          f"leaving {topo.veth_a} encapsulated to the outer session: a verdict from before "
          f"the encapsulation was reused\n{o.describe(40)}")
    check(all(skbt.tuple_of(ev)["daddr"] == topo.b4 for ev in o.events),
          f"the outer session reports packets to other addresses\n{o.describe(20)}")
    # B receives it encapsulated on the veth, decapsulates the same skb: inner again on vxb.
    in_b = {ev["packet_id"] for ev in o.events
            if ev["function"] in skbt.RX_TRACEPOINTS and ev["ifname"] == topo.veth_b}
    check(in_b, f"the outer session saw nothing arrive on {topo.veth_b}\n{o.describe(40)}")
    decap = [ev for ev in requests(i.events) if ev["packet_id"] in in_b
             and ev["function"] in skbt.RX_TRACEPOINTS and ev["ifname"] == "vxb"]
    check(decap, f"no skb that arrived encapsulated on {topo.veth_b} (skbs {sorted(in_b)}) was "
          f"reported to the inner session on vxb after decapsulation: a verdict from before "
          f"it was reused\n{i.describe(40)}")
    check(all(skbt.tuple_of(ev)["daddr"] == inner_b for ev in i.events),
          f"the inner session reports packets to other addresses\n{i.describe(20)}")


def test_layer_decided_again(t):
    """--layer: a pcap filter on the outer frame, then the same expression on the inner one
    (the slot's new filter differs only in its layer): the cached verdicts of the first must
    not answer for the second, which sees the encapsulated requests too, with their tunnel
    and inner packet in events answered from the cache; and an inner filter on the
    underlay's port matches no encapsulated packet."""
    topo = t.topo
    _, inner_b = vxlan_tunnel(topo)
    expr = f"icmp and dst host {inner_b}"
    with t.trace(expr) as outer:
        topo.ping(topo.a, inner_b, count=2, interval=0.3)
        outer.wait_event(lambda ev: ev.get("ifname") == "vxb", timeout=5, what="vxb")
    check(not any(ev.get("tunnel") for ev in outer.result.events),
          f"a pcap filter on the outer frame matched encapsulated packets\n"
          f"{outer.result.describe(20)}")
    with cache_hit(t.d), t.trace("--layer", "inner", expr) as inner, \
            t.trace("--layer", "inner", "udp and dst port 4789") as under:
        topo.ping(topo.a, inner_b, count=3, interval=0.3)
        inner.wait_event(lambda ev: ev.get("ifname") == "vxb"
                         and ev["function"] in skbt.RX_TRACEPOINTS, timeout=5,
                         what="a request arriving on vxb after decapsulation")
    i, u = inner.result, under.result
    enc = [ev for ev in i.events if ev.get("tunnel")]
    check({ev["ifname"] for ev in enc} >= {topo.veth_a, topo.veth_b},
          f"the inner session did not see the encapsulated requests on both veths: a verdict "
          f"of the outer filter was reused\n{i.describe(40)}")
    check(all(ev["tunnel"]["type"] == "vxlan" and ev["tunnel"]["vni"] == 42
              and (ev["tunnel"]["inner"] or {}).get("daddr") == inner_b
              and ev["tuple"]["daddr"] == topo.b4 for ev in enc),
          f"encapsulated events without their tunnel or inner packet: {enc[:3]}")
    check(all(skbt.tuple_of(ev)["daddr"] == inner_b for ev in i.events if not ev.get("tunnel")),
          f"the inner session reports other packets\n{i.describe(20)}")
    check(not any(ev.get("tunnel") for ev in u.events),
          f"an inner filter on UDP 4789 matched an encapsulated packet (its inner packet is "
          f"ICMP)\n{u.describe(20)}")


def test_mark_decided_again(t):
    """A mark set in prerouting (nftables, namespace b): the skb's probe before the hook has
    mark 0, those after it mark 0x2a; a session on the mark must see the later ones."""
    topo = t.topo
    ruleset = ("table ip skbt_mark {\n chain pre {\n  type filter hook prerouting priority -150;\n"
               "  ip protocol icmp meta mark set 0x2a\n }\n}\n")
    r = run(["ip", "netns", "exec", topo.b, "nft", "-f", "-"], input=ruleset, check_rc=False)
    check(r.returncode == 0, f"nft could not install the mark rule: {r.stderr.strip()}")
    try:
        with t.trace(f"icmp and dst host {topo.b4}") as every, \
                t.trace("-p", "icmp", "-m", "0x2a") as marked:
            topo.ping(topo.a, topo.b4, count=3, interval=0.2)
            marked.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5,
                              what="the marked request's consume_skb")
    finally:
        run(["ip", "netns", "exec", topo.b, "nft", "delete", "table", "ip", "skbt_mark"],
            check_rc=False)
    e, m = every.result, marked.result
    rx = {ev["packet_id"] for ev in requests(e.events)
          if ev["function"] in skbt.RX_TRACEPOINTS and ev["ifname"] == topo.veth_b
          and ev["mark"] == 0}
    check(rx, f"no request seen arriving on {topo.veth_b} with mark 0\n{e.describe(40)}")
    later = [ev for ev in requests(m.events) if ev["packet_id"] in rx]
    check(later, f"the session on mark 0x2a saw none of the skbs {sorted(rx)} after prerouting "
          f"marked them: a verdict from before the mark was reused\n{m.describe(40)}")
    check(all(ev["mark"] == 0x2a for ev in m.events),
          f"the session on mark 0x2a reports other marks: "
          f"{[ev for ev in m.events if ev['mark'] != 0x2a][:3]}")


def test_mark_alone(t):
    """The only session filters on a mark that prerouting sets (nftables, namespace b): the
    probes before the rule are decided by the mark alone, without the headers (vmarks
    counts them), and the marked probes after it still reach the session."""
    topo = t.topo
    ruleset = ("table ip skbt_mark1 {\n chain pre {\n  type filter hook prerouting priority "
               "-150;\n  ip protocol icmp meta mark set 0x2b\n }\n}\n")
    r = run(["ip", "netns", "exec", topo.b, "nft", "-f", "-"], input=ruleset, check_rc=False)
    check(r.returncode == 0, f"nft could not install the mark rule: {r.stderr.strip()}")
    try:
        (k0,) = verdict_counts(t.d, ("vmarks",))
        with t.trace("-m", "0x2b") as marked:
            topo.ping(topo.a, topo.b4, count=3, interval=0.2)
            marked.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5,
                              what="the marked request's consume_skb")
        (k1,) = verdict_counts(t.d, ("vmarks",))
    finally:
        run(["ip", "netns", "exec", topo.b, "nft", "delete", "table", "ip", "skbt_mark1"],
            check_rc=False)
    m = marked.result
    log(f"hits decided by the mark alone: {k1 - k0}")
    check(k1 > k0, f"no hit was decided by the mark alone ({k0} -> {k1}): the unmarked probes "
          "(before prerouting, the replies) should have been")
    reqs = requests(m.events)
    check(reqs, f"the session on mark 0x2b saw no marked request\n{m.describe(40)}")
    check(all(ev["mark"] == 0x2b for ev in m.events),
          f"the session on mark 0x2b reports other marks: "
          f"{[ev for ev in m.events if ev['mark'] != 0x2b][:3]}")
    check(all(skbt.tuple_of(ev).get("daddr") == topo.b4 for ev in reqs),
          f"marked requests without their headers: {reqs[:3]}")


if __name__ == "__main__":
    # test_mark_alone reads the count of hits the mark alone decided, which the daemon keeps
    # only when asked (it costs a map lookup per hit).
    os.environ["SKBTRACED_COUNT_GATED"] = "1"
    skbt.main(globals())
