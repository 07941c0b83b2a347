#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_icmp.py - an ICMP session sees echo request and reply on the RX and TX tracepoints."""

import os

import skbt
from skbt import check, RX_TRACEPOINTS, TX_TRACEPOINTS


def tracepoint_mode():
    """What the daemon should serve tracepoints with here: "raw_tp" copies when
    SKBTRACED_NO_TP_BTF=1 (meson test *_raw_tp), "tp_btf" copies when
    SKBTRACED_NO_TP_SHARED=1 (meson test *_tp_copies) or on kernels before 6.10
    (raw tracepoint links take no attach cookie), else "shared"."""
    if os.environ.get("SKBTRACED_NO_TP_BTF") == "1":
        return "raw_tp"
    if os.environ.get("SKBTRACED_NO_TP_SHARED") == "1":
        return "tp_btf"
    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    return "shared" if release >= (6, 10) else "tp_btf"


def test_tracepoint_flavour(t):
    """Tracepoints are served by one shared program per skb position (attach
    cookies, Linux 6.10+), else by a tp_btf copy each (plain loads of the skb's
    fields) where the kernel allows; the *_raw_tp and *_tp_copies runs force the
    fallbacks, so that every flavour runs this file's checks."""
    mode = tracepoint_mode()
    key = {"raw_tp": None, "tp_btf": "tracepoints_tp_btf", "shared": "tracepoints_shared"}[mode]
    # The tracepoint programs load in the background after start-up (attach on demand).
    if key:
        skbt.wait_for(lambda: t.d.status()["probes"][key] ==
                      t.d.status()["probes"]["tracepoints"], 60,
                      "the tracepoint programs to load in the background")
    probes = t.d.status()["probes"]
    check(probes["tracepoints"] > 0, f"no tracepoint attached: {probes}")
    for k in ("tracepoints_tp_btf", "tracepoints_shared"):
        want = probes["tracepoints"] if k == key else 0
        check(probes[k] == want, f"{probes[k]} {k}, want {want} (mode {mode}): {probes}")


def test_tracepoint_probe_names(t):
    """Each tracepoint event names the tracepoint that fired, whichever program
    served it: with shared programs the probe comes from the link's attach
    cookie, and every tracepoint of a position runs the same program.  A ping's
    request crosses several tracepoints; those on the TX side must report A's
    veth, those on the RX side B's (net:net_dev_xmit fires after veth handed
    the skb to its peer, so its device is already B's: left out)."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4) as s:
        topo.ping(topo.a, topo.b4, count=2)
    r = s.result
    requests = [ev for ev in r.events if ev.get("icmp", {}).get("type") == 8
                and skbt.between(ev, topo.a4, topo.b4)]
    names = {ev["function"] for ev in requests}
    check(len(names & set(TX_TRACEPOINTS + RX_TRACEPOINTS)) >= 3,
          f"the request crossed fewer than 3 RX/TX tracepoints: {sorted(names)}\n{r.describe()}")
    tx = ("net:net_dev_queue", "net:net_dev_start_xmit")
    check(names & set(tx), f"no {tx} event for the request: {sorted(names)}\n{r.describe()}")
    for ev in requests:
        if ev["function"] in tx:
            check(ev["ifname"] == topo.veth_a, f"TX tracepoint on {ev['ifname']}, want "
                  f"{topo.veth_a}: the event names the wrong probe? {ev}")
        elif ev["function"] in RX_TRACEPOINTS:
            check(ev["ifname"] == topo.veth_b, f"RX tracepoint on {ev['ifname']}, want "
                  f"{topo.veth_b}: the event names the wrong probe? {ev}")


def test_echo_request_and_reply(t):
    topo = t.topo
    with t.trace("-p", "icmp") as s:
        topo.ping(topo.a, topo.b4, count=3)
    r = s.result
    check(r.rc in (0, 130), f"ipftctl ended by SIGINT: exit status {r.rc}, want 0\n{r.describe()}")
    check(r.summary is not None, f"no summary line on stderr\n{r.describe()}")
    check(r.summary["events"] == len(r.events),
          f"summary says {r.summary['events']} events, stdout has {len(r.events)}\n{r.describe()}")
    skbt.check_schema_all(r.events)
    skbt.check_timestamps_per_cpu(r.events)

    # The filter: ICMP (v4) only, whatever else the machine does.
    for ev in r.events:
        check(ev["tuple"] is not None and skbt.proto_of(ev) == "icmp"
              and ev["tuple"]["l3"] == "ipv4", f"-p icmp let through {ev}")

    ours = [ev for ev in r.events if {skbt.tuple_of(ev)["saddr"], skbt.tuple_of(ev)["daddr"]}
            == {topo.a4, topo.b4}]
    check(ours, f"no event for the ping {topo.a4} -> {topo.b4}\n{r.describe()}")

    requests = [ev for ev in ours if ev.get("icmp", {}).get("type") == 8]
    replies = [ev for ev in ours if ev.get("icmp", {}).get("type") == 0]
    check(requests, f"no echo request (icmp.type 8) seen\n{r.describe()}")
    check(replies, f"no echo reply (icmp.type 0) seen\n{r.describe()}")
    for ev in requests:
        check(skbt.between(ev, topo.a4, topo.b4), f"echo request not {topo.a4} -> {topo.b4}: {ev}")
    for ev in replies:
        check(skbt.between(ev, topo.b4, topo.a4), f"echo reply not {topo.b4} -> {topo.a4}: {ev}")
    seqs = {ev["icmp"].get("seq") for ev in requests}
    check({1, 2, 3} <= seqs, f"echo request seq {sorted(seqs, key=str)}, want 1, 2 and 3")
    ids = {ev["icmp"].get("id") for ev in ours}
    check(len(ids) == 1, f"one ping run, but icmp.id values {ids}")

    # RX: the request arrives on B's veth, the reply on A's.
    def seen(evs, names, ifname):
        return [ev for ev in evs if ev["function"] in names and ev["ifname"] == ifname]

    fns = sorted({ev["function"] for ev in ours})
    check(seen(requests, ("net:netif_receive_skb",), topo.veth_b),
          f"net:netif_receive_skb did not see the request on {topo.veth_b}; functions: {fns}")
    check(seen(replies, ("net:netif_receive_skb",), topo.veth_a),
          f"net:netif_receive_skb did not see the reply on {topo.veth_a}; functions: {fns}")
    # TX: the request leaves through A's veth, the reply through B's.
    check(seen(requests, TX_TRACEPOINTS, topo.veth_a),
          f"no TX tracepoint {TX_TRACEPOINTS} saw the request on {topo.veth_a}; functions: {fns}")
    check(seen(replies, TX_TRACEPOINTS, topo.veth_b),
          f"no TX tracepoint {TX_TRACEPOINTS} saw the reply on {topo.veth_b}; functions: {fns}")

    # Device fields on the device tracepoints match the topology.
    want = {topo.veth_a: (topo.ifindex_a, topo.netns_a), topo.veth_b: (topo.ifindex_b, topo.netns_b)}
    for ev in ours:
        if ev["function"] in RX_TRACEPOINTS + TX_TRACEPOINTS:
            check(ev["ifname"] in want, f"{ev['function']} on ifname {ev['ifname']!r}, want "
                  f"{topo.veth_a} or {topo.veth_b}: {ev}")
            ifindex, netns = want[ev["ifname"]]
            check(ev["ifindex"] == ifindex, f"ifindex {ev['ifindex']}, want {ifindex}: {ev}")
            check(ev["netns"] == netns, f"netns {ev['netns']}, want {netns} (inode of "
                  f"the namespace of {ev['ifname']}): {ev}")
            check(ev["len"] >= 84, f"len {ev['len']} < 84 (IPv4 + ICMP echo of 56 bytes): {ev}")
            check(ev["is_return"] is False, f"a tracepoint event with is_return true: {ev}")

    # packet_id is the skb: veth hands the same skb from A's TX path to B's RX
    # path, so a request keeps its packet_id across the pair.
    by_seq = {}
    for ev in requests:
        side = "tx" if ev["function"] in TX_TRACEPOINTS else \
            "rx" if ev["function"] in RX_TRACEPOINTS else None
        if side:
            by_seq.setdefault(ev["icmp"]["seq"], {}).setdefault(side, set()).add(ev["packet_id"])
    check(any(v.get("tx", set()) & v.get("rx", set()) for v in by_seq.values()),
          f"no echo request has the same packet_id on TX and RX: {by_seq}")


def test_events_stream_live(t):
    """Events reach stdout while the session runs (the client flushes each batch),
    so that 'ipftctl trace -o json | jq .' shows packets as they pass."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4) as s:
        topo.ping(topo.a, topo.b4, count=1)
        live = s.wait_event(lambda ev: skbt.involves(ev, topo.b4), timeout=5,
                            what="the ping's events on stdout while the session runs")
    r = s.result
    check(r.events, f"the session saw nothing\n{r.describe()}")
    check(live, "the events reached stdout only when the session ended: ipftctl must flush "
          "stdout after each batch when it is a pipe")


def test_text_output(t):
    """The default text output: one line per event, no JSON."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, output="text") as s:
        topo.ping(topo.a, topo.b4, count=2)
    r = s.result
    check(r.rc in (0, 130), f"exit status {r.rc}\n{r.describe()}")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    check(lines, f"no output lines\n{r.describe()}")
    check(any(topo.a4 in ln and topo.b4 in ln for ln in lines),
          f"no text line names {topo.a4} and {topo.b4}:\n" + "\n".join(lines[:10]))
    check(not any(ln.lstrip().startswith("{") for ln in lines), "text output contains JSON")


if __name__ == "__main__":
    skbt.main(globals())
