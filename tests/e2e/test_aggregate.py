#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_aggregate.py - -o aggregate: one block per packet, complete and in order; --egress."""

import json

import skbt
from skbt import check, RX_TRACEPOINTS, TX_TRACEPOINTS

FREES = ("skb:consume_skb", "skb:kfree_skb")


def blocks_of(res):
    """The JSON blocks of an aggregate-json session."""
    out = []
    for i, line in enumerate(res.stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            b = json.loads(line)
        except ValueError:
            skbt.fail(f"aggregate-json line {i} is not JSON: {line[:300]!r}")
        for key in ("track_id", "part", "flow", "end", "packets", "events"):
            check(key in b, f"block without '{key}': {line[:300]}")
        out.append(b)
    return out


def describe(blocks, n=10):
    return "\n".join(f"track {b['track_id']} part {b['part']} end {b['end']!r} {b['flow']}: "
                     + ", ".join(f"{e['function']}@{e['ifname']}" for e in b["events"])
                     for b in blocks[:n])


def icmp_type(b):
    return next((e["icmp"]["type"] for e in b["events"] if "icmp" in e), None)


def seq_of(b):
    return next((e["icmp"].get("seq") for e in b["events"] if "icmp" in e), None)


def test_blocks_complete_and_ordered(t):
    """Each ping packet is one block: every event of it, in time order, from its first
    device to its free, with one track id; the session's summary counts every event."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, output="aggregate-json") as s:
        topo.ping(topo.a, topo.b4, count=3, interval=0.2)
        # A block is printed once its packet ended and a short linger passed.
        skbt.wait_for(lambda: sum(1 for ln in s.out.text().splitlines() if '"echo-reply' in ln
                                  or "echo-reply" in ln) >= 3, 10, "three reply blocks")
    r = s.result
    check(r.rc in (0, 130), f"exit status {r.rc}\n{r.stderr}")
    blocks = blocks_of(r)
    reqs = [b for b in blocks if icmp_type(b) == 8]
    reps = [b for b in blocks if icmp_type(b) == 0]
    check(len(reqs) == 3 and len(reps) == 3,
          f"want 3 request and 3 reply blocks, got {len(reqs)} and {len(reps)}:\n"
          f"{describe(blocks)}")
    check(sorted(seq_of(b) for b in reqs) == [1, 2, 3], f"request seqs {[seq_of(b) for b in reqs]}")
    total = 0
    for b in blocks:
        evs = b["events"]
        total += len(evs)
        skbt.check_schema_all(evs)
        check(b["track_id"] > 0, f"block without a track id: {describe([b])}")
        check({e["track_id"] for e in evs} == {b["track_id"]},
              f"events of another journey in block {b['track_id']}: {describe([b])}")
        ts = [e["timestamp"] for e in evs]
        check(ts == sorted(ts), f"block {b['track_id']} not in time order: {ts}")
        check({e["packet_id"] for e in evs} == set(b["packets"]),
              f"block {b['track_id']}: packets {b['packets']} but events of "
              f"{sorted({e['packet_id'] for e in evs})}")
        check(b["end"] == "freed", f"block {b['track_id']} ended '{b['end']}', want 'freed'")
        # Complete: out through A's veth, in through B's (or the reverse), and freed.
        fns = [(e["function"], e["ifname"]) for e in evs]
        src, dst = (topo.veth_a, topo.veth_b) if icmp_type(b) == 8 else (topo.veth_b, topo.veth_a)
        check(any(f in TX_TRACEPOINTS and i == src for f, i in fns),
              f"block {b['track_id']} lacks the TX on {src}: {fns}")
        check(any(f in RX_TRACEPOINTS and i == dst for f, i in fns),
              f"block {b['track_id']} lacks the RX on {dst}: {fns}")
        check(evs[-1]["function"] in FREES, f"block {b['track_id']} does not end with its free: {fns}")
        # Its flow is the packet's.
        check(b["flow"].startswith("ICMP ") and ("echo-request" in b["flow"]) == (icmp_type(b) == 8),
              f"block flow {b['flow']!r}")
    check(r.summary and r.summary["events"] == total,
          f"summary says {r.summary and r.summary['events']} events, the blocks hold {total}")
    check(len({b["track_id"] for b in blocks}) == len(blocks), "two blocks share a track id")


def test_text_blocks(t):
    """The text form: a header naming the flow like ipftrace, then one line per event."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, output="aggregate") as s:
        topo.ping(topo.a, topo.b4, count=1)
        skbt.wait_for(lambda: "===" in s.out.text(), 10, "a block")
    r = s.result
    lines = r.stdout.splitlines()
    heads = [ln for ln in lines if ln.startswith("=== ")]
    check(len(heads) == 1, f"one packet, {len(heads)} block headers:\n{r.stdout}")
    h = heads[0]
    check(h.startswith(f"=== ICMP {topo.a4} -> {topo.b4} echo-request") and "(track " in h
          and h.endswith(", freed)"), f"block header {h!r}")
    body = lines[lines.index(h) + 1:]
    body = body[:body.index("")] if "" in body else body
    check(len(body) >= 4, f"block body {body}")
    for ln in body:
        f = ln.split(" ")
        check(len(f) >= 5 and f[0].isdigit() and f[2].startswith("0x"),
              f"block line is not 'TIMESTAMP CPU PACKET_ID PROBE IFNAME': {ln!r}")
        # The header names the flow; lines repeat it only where it changed.
        check("ICMP" not in ln, f"unchanged flow repeated on a block line: {ln!r}")


def test_egress_ends_block(t):
    """--egress cuts a packet's block at that probe; what follows is a continued block."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--egress", "net:net_dev_start_xmit",
                 output="aggregate-json") as s:
        topo.ping(topo.a, topo.b4, count=1)
        skbt.wait_for(lambda: len(s.out.text().splitlines()) >= 2, 10, "two blocks")
    r = s.result
    blocks = blocks_of(r)
    first = [b for b in blocks if b["part"] == 1]
    cont = [b for b in blocks if b["part"] == 2]
    check(len(first) == 1 and len(cont) == 1, f"want one block and its continuation:\n"
          f"{describe(blocks)}")
    b = first[0]
    check(b["end"] == "egress" and b["events"][-1]["function"] == "net:net_dev_start_xmit",
          f"the first block does not end at the egress probe: {describe([b])}")
    check(cont[0]["track_id"] == b["track_id"], "the continuation has another track id")
    check(any(e["function"] in RX_TRACEPOINTS for e in cont[0]["events"]),
          f"the continuation lacks the receive side: {describe(cont)}")


def test_egress_unknown_and_needs_aggregate(t):
    r = t.d.ctl_run(["trace", "-o", "aggregate", "--egress", "no_such_function", "-c", "1"],
                    check_rc=False)
    check(r.returncode == 1 and "egress probe 'no_such_function' is not attached" in r.stderr,
          f"unknown --egress: status {r.returncode}, {r.stderr!r}")
    r = t.d.ctl_run(["trace", "--egress", "net:net_dev_xmit", "-c", "1"], check_rc=False)
    check(r.returncode == 2 and "-o aggregate" in r.stderr, f"--egress without aggregate: "
          f"status {r.returncode}, {r.stderr!r}")


def test_fields_and_stack_in_blocks(t):
    """Custom fields (-F) and --stack show in the blocks as on event lines."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "-F", "len", "--stack",
                 output="aggregate-json") as s:
        topo.ping(topo.a, topo.b4, count=1)
        skbt.wait_for(lambda: s.out.text().strip(), 10, "a block")
    blocks = blocks_of(s.result)
    check(blocks, "no block")
    for e in blocks[0]["events"]:
        check(isinstance(e.get("fields", {}).get("len"), int), f"-F len missing in a block: {e}")
        check(isinstance(e.get("stack"), list), f"--stack missing in a block: {e}")


def test_open_blocks_printed_at_end(t):
    """A session that ends holds no event back: open packets print, marked."""
    topo = t.topo
    s = t.trace("-p", "icmp", "--addr", topo.b4, "-c", "3", output="aggregate-json").start()
    topo.ping(topo.a, topo.b4, count=1)
    r = s.wait(20)
    blocks = blocks_of(r)
    check(sum(len(b["events"]) for b in blocks) == 3,
          f"-c 3 gave {sum(len(b['events']) for b in blocks)} events in blocks:\n{describe(blocks)}")
    check(all(b["end"] in ("session ended", "freed") for b in blocks), describe(blocks))


if __name__ == "__main__":
    skbt.main(globals())
