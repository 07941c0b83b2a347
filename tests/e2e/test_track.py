#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_track.py - --track follows a packet through DNAT and into its clones; track ids."""

import os
import subprocess
import sys

import skbt
from skbt import check, fail, log, run

_AF_PACKET_READER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    data = s.recv(65536)
    print("got", len(data), flush=True)
"""


class RouterTopology:
    """client -- router -- server, the router DNATs a virtual address to the server.

    client: cl0 10.198.N.1/24, default via 10.198.N.254
    router: rt0 10.198.N.254/24 and the virtual 10.198.N.100/32; rt1 10.197.N.254/24;
            forwarding on; nftables: daddr 10.198.N.100 -> dnat to 10.197.N.2
    server: sv0 10.197.N.2/24, default via 10.197.N.254
    """

    def __init__(self, n):
        tag = f"{os.getpid()}-{n}"
        self.cl, self.rt, self.sv = f"skbt-cl-{tag}", f"skbt-rt-{tag}", f"skbt-sv-{tag}"
        self.cl_ip, self.rt_ip = f"10.198.{n}.1", f"10.198.{n}.254"
        self.vip = f"10.198.{n}.100"
        self.rt2_ip, self.sv_ip = f"10.197.{n}.254", f"10.197.{n}.2"
        self.created = []

    def ns(self, ns, cmd, check_rc=True):
        return run(["ip", "netns", "exec", ns] + list(cmd), check_rc=check_rc)

    def create(self):
        skbt._cleanups.append(self.destroy)
        for ns in (self.cl, self.rt, self.sv):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.cl, "link", "add", "cl0", "type", "veth", "peer", "name", "rt0",
             "netns", self.rt])
        run(["ip", "-n", self.rt, "link", "add", "rt1", "type", "veth", "peer", "name", "sv0",
             "netns", self.sv])
        for ns, dev, addr in ((self.cl, "cl0", f"{self.cl_ip}/24"),
                              (self.rt, "rt0", f"{self.rt_ip}/24"),
                              (self.rt, "rt0", f"{self.vip}/32"),
                              (self.rt, "rt1", f"{self.rt2_ip}/24"),
                              (self.sv, "sv0", f"{self.sv_ip}/24")):
            run(["ip", "-n", ns, "addr", "add", addr, "dev", dev])
        for ns, dev in ((self.cl, "cl0"), (self.rt, "rt0"), (self.rt, "rt1"), (self.sv, "sv0")):
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        run(["ip", "-n", self.cl, "route", "add", "default", "via", self.rt_ip])
        run(["ip", "-n", self.sv, "route", "add", "default", "via", self.rt2_ip])
        self.ns(self.rt, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        ruleset = ("table ip skbt_nat {\n chain pre {\n  type nat hook prerouting priority -100;\n"
                   f"  ip daddr {self.vip} dnat to {self.sv_ip}\n }}\n}}\n")
        r = run(["ip", "netns", "exec", self.rt, "nft", "-f", "-"], input=ruleset,
                check_rc=False)
        check(r.returncode == 0, f"nft could not install the DNAT rule (nftables and the "
              f"nf_tables/nft_nat modules are needed): {r.stderr.strip()}")
        skbt.wait_for(lambda: self.ns(self.cl, ["ping", "-n", "-q", "-c", "1", "-W", "1",
                                                self.vip], check_rc=False).returncode == 0,
                      15, f"ping {self.vip} (DNAT to {self.sv_ip}) from the client")
        log(f"router topology: {self.cl} {self.cl_ip} -> {self.rt} {self.vip} dnat "
            f"{self.sv_ip} -> {self.sv}")
        return self

    def destroy(self):
        for ns in self.created:
            subprocess.run(["ip", "netns", "del", ns], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        self.created.clear()


def requests(events):
    return [ev for ev in events if ev.get("icmp", {}).get("type") == 8]


def by_seq(events):
    out = {}
    for ev in events:
        out.setdefault(ev["icmp"]["seq"], []).append(ev)
    return out


def test_dnat_followed(t):
    """A tracked session filtered on the original destination still sees the packet after
    DNAT rewrote it, under the same track id; an untracked one does not."""
    rt = RouterTopology(t.topo.n).create()
    with t.trace("-p", "icmp", "-d", rt.vip, "--track") as tracked, \
            t.trace("-p", "icmp", "-d", rt.vip) as plain:
        run(["ip", "netns", "exec", rt.cl, "ping", "-n", "-q", "-c", "2", "-i", "0.3", "-W", "2",
             rt.vip], timeout=20)
        tracked.wait_event(lambda ev: skbt.tuple_of(ev).get("daddr") == rt.sv_ip
                           and ev["function"] == "skb:consume_skb", timeout=5,
                           what="the rewritten request's end at the server")
    a, b = tracked.result, plain.result
    check(a.rc in (0, 130) and b.rc in (0, 130), f"exit status {a.rc}, {b.rc}")
    skbt.check_schema_all(a.events)

    reqs = requests(a.events)
    check(reqs, f"the tracked session saw no echo request\n{a.describe()}")
    for seq, evs in by_seq(reqs).items():
        ids = {ev["track_id"] for ev in evs}
        check(len(ids) == 1 and 0 not in ids,
              f"echo request seq {seq}: track ids {ids}, want one non-zero id\n{a.describe(40)}")
        before = [ev for ev in evs if skbt.tuple_of(ev)["daddr"] == rt.vip]
        after = [ev for ev in evs if skbt.tuple_of(ev)["daddr"] == rt.sv_ip]
        check(before, f"seq {seq}: no event before the rewrite (daddr {rt.vip})")
        check(after, f"seq {seq}: the tracked session lost the packet after DNAT: no event "
              f"with daddr {rt.sv_ip}\n{a.describe(40)}")
        # The rewritten packet crosses the router to the server.
        where = {(ev["function"], ev["ifname"]) for ev in after}
        check(any(f in skbt.TX_TRACEPOINTS and i == "rt1" for f, i in where) or
              any(f == "net:netif_receive_skb" and i == "sv0" for f, i in where),
              f"seq {seq}: after DNAT, not seen leaving the router on rt1 nor arriving on sv0: "
              f"{sorted(where)}")
    ids = [evs[0]["track_id"] for evs in by_seq(reqs).values()]
    check(len(set(ids)) == len(ids), f"two echo requests share a track id: {ids}")

    check(b.events, f"the untracked session saw nothing\n{b.describe()}")
    leaked = [ev for ev in b.events if skbt.tuple_of(ev).get("daddr") == rt.sv_ip]
    check(not leaked, f"without --track, events after the rewrite (daddr {rt.sv_ip}) must not "
          f"match -d {rt.vip}: {leaked[:3]}")
    check(all(ev["track_id"] == 0 for ev in b.events),
          f"a session without --track reports track ids: {b.events[:2]}")


def test_clone_shares_track_id(t):
    """The copy an AF_PACKET socket gets is a clone: same journey, its own packet_id."""
    topo = t.topo
    reader = topo.ns_spawn(topo.b, [sys.executable, "-c", _AF_PACKET_READER, topo.veth_b],
                           ready=r"^ready")
    try:
        with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--track") as s:
            topo.ping(topo.a, topo.b4, count=1)
            reader.out.wait_line(r"^got", 10, "the AF_PACKET reader to receive the ping")
            # The clone is freed once the reader has read it, with no device; so is the
            # echo reply, which must not end the wait (it may come first).
            s.wait_event(lambda ev: ev["function"] == "skb:consume_skb"
                         and ev["ifname"] == "" and ev.get("icmp", {}).get("type") == 8,
                         timeout=5, what="the clone's consume_skb")
    finally:
        reader.kill()
    r = s.result
    reqs = requests(r.events)
    check(reqs, f"no echo request seen\n{r.describe()}")
    ids = {ev["track_id"] for ev in reqs}
    check(len(ids) == 1 and 0 not in ids, f"one ping, track ids {ids}\n{r.describe(40)}")
    pids = {ev["packet_id"] for ev in reqs}
    check(len(pids) >= 2, f"the request's track {ids} has one skb {pids}: the AF_PACKET clone "
          f"was not recognised\n{r.describe(40)}")
    frees = [ev for ev in reqs if ev["function"] in ("skb:consume_skb", "skb:kfree_skb")]
    check({ev["packet_id"] for ev in frees} == pids,
          f"every skb of the journey ends with a free: frees {frees}, skbs {pids}")


def test_reused_address_new_journey(t):
    """A freed skb's address, reused by the next packet, starts a new track id."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, "--track") as s:
        topo.ping(topo.a, topo.b4, count=4, interval=0.2)
        s.wait_event(lambda ev: ev.get("icmp", {}).get("seq") == 4
                     and ev["function"] == "skb:consume_skb", timeout=5, what="seq 4 freed")
    r = s.result
    reqs = requests(r.events)
    seqs = by_seq(reqs)
    check(set(seqs) >= {1, 2, 3, 4}, f"echo requests seen: {sorted(seqs)}\n{r.describe()}")
    track = {seq: {ev["track_id"] for ev in evs} for seq, evs in seqs.items()}
    for seq, ids in track.items():
        check(len(ids) == 1, f"seq {seq} has track ids {ids}")
    flat = [next(iter(ids)) for ids in track.values()]
    check(len(set(flat)) == len(flat), f"different packets share a track id: {track}")
    # The kernel recycles skbs: same address, new packet, new journey.
    addr = {}
    for ev in reqs:
        addr.setdefault(ev["packet_id"], set()).add(ev["track_id"])
    log(f"skb addresses used by the 4 requests: {len(addr)}")
    reps = [ev for ev in r.events if ev.get("icmp", {}).get("type") == 0]
    check(not ({ev["track_id"] for ev in reps} & set(flat)),
          "an echo reply has the track id of a request: they are different packets")


def test_reply_not_in_request_journey(t):
    """The echo reply's skb often takes the address the request's skb just freed, and is
    freed soon after on the same CPU: it is another packet, in no journey of a session whose
    filter (request direction only) it does not match."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--track") as s:
        topo.ping(topo.a, topo.b4, count=10, interval=0.05)
        s.wait_event(lambda ev: ev.get("icmp", {}).get("seq") == 10
                     and ev["function"] == "skb:consume_skb", timeout=5, what="seq 10 freed")
    r = s.result
    seen = {ev["packet_id"] for ev in requests(r.events)}
    replies = [ev for ev in r.events if ev.get("icmp", {}).get("type") == 0]
    check(not replies, f"{len(replies)} echo reply events in a request-only session (skb "
          f"address reused by the reply: {sum(ev['packet_id'] in seen for ev in replies)}): "
          f"{replies[:3]}")


def test_tracking_map_counters(t):
    """Status counts tracking entries and how they left; ended sessions leave none behind."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, "--track") as s:
        topo.ping(topo.a, topo.b4, count=2)
        s.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5, what="a free")
    st = t.d.status()["tracking"]
    for key in ("entries", "buffers", "max", "created", "clones", "freed", "stale", "swept",
                "evicted", "failed"):
        check(isinstance(st.get(key), int), f"status.tracking.{key} missing: {st}")
    check(st["created"] > 0 and st["freed"] > 0, f"no tracking entries created/freed: {st}")
    check(st["max"] > 0, f"tracking map size {st['max']}")
    # The session's bit was swept from the maps: nothing is followed for nobody.
    skbt.wait_for(lambda: t.d.status()["tracking"]["entries"] == 0, 5,
                  f"the tracking map to be empty after the session ended ({st})")


if __name__ == "__main__":
    skbt.main(globals())
