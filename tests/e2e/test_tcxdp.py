#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_tcxdp.py - drops by tc and XDP BPF programs, as the tracepoint backend sees them.

B's veth gets a program (tcxdp_drop.bpf.c, path in SKBT_TCXDP_OBJ) that drops IPv4 ICMP echo
requests: a tc program on clsact ingress (TC_ACT_SHOT), then an XDP program in generic (skb)
mode (XDP_DROP).  No tracepoint reports a program's run or its other verdicts; the drop itself
reaches skb:kfree_skb with the reason the kernel gives it: TC_INGRESS for a tc drop; for a
generic XDP drop XDP where the kernel says so, NOT_SPECIFIED where it frees the skb without a
reason (6.18 does, in do_xdp_generic()), so there the location names the XDP path.  Native XDP
drops free no skb: no tracepoint sees them.  On the device the program runs on.
"""

import os

import skbt
from skbt import check


def obj():
    path = os.environ.get("SKBT_TCXDP_OBJ", "")
    check(os.path.exists(path), f"SKBT_TCXDP_OBJ={path!r}: the test's BPF object is missing")
    return path


def ping_drops(t, want_reasons):
    """Trace drops while A pings B; return the drops of the echo requests."""
    topo = t.topo

    def ours(ev):
        icmp = ev.get("icmp") or {}
        return skbt.between(ev, topo.a4, topo.b4) and icmp.get("type") == 8

    with t.trace("--tracer", "drop", "-p", "icmp", "--addr", topo.b4) as s:
        r = topo.ping_ab(count=2, check_rc=False)
        check(r.returncode != 0, "the ping went through: the program dropped nothing")
        s.wait_event(ours, what=f"a drop ({'/'.join(want_reasons)}) of an echo request")
    drops = [ev for ev in s.result.events if ours(ev)]
    reasons = {ev.get("drop_reason") for ev in drops}
    check(drops and reasons <= set(want_reasons), f"drop reasons {reasons}, want {want_reasons}\n"
          f"{s.result.describe()}")
    check(all(ev.get("ifname") == topo.veth_b for ev in drops),
          f"drops not on {topo.veth_b}: {[ev.get('ifname') for ev in drops]}")
    return drops


def test_tc_program_drop(t):
    """A tc program's TC_ACT_SHOT at ingress: skb:kfree_skb, reason TC_INGRESS, its device."""
    topo = t.topo
    path = obj()
    topo.ns_run(topo.b, ["tc", "qdisc", "add", "dev", topo.veth_b, "clsact"])
    try:
        topo.ns_run(topo.b, ["tc", "filter", "add", "dev", topo.veth_b, "ingress", "bpf", "da",
                             "obj", path, "sec", "tc"])
        ping_drops(t, ["TC_INGRESS"])
    finally:
        topo.ns_run(topo.b, ["tc", "qdisc", "del", "dev", topo.veth_b, "clsact"], check_rc=False)
    check(topo.ping_ab(count=1, check_rc=False).returncode == 0, "no ping after the tc program")


def test_xdp_generic_drop(t):
    """A generic-mode XDP program's XDP_DROP: skb:kfree_skb, reason XDP or a location in the
    generic XDP path, its device."""
    topo = t.topo
    path = obj()
    topo.ns_run(topo.b, ["ip", "link", "set", "dev", topo.veth_b, "xdpgeneric", "obj", path,
                         "sec", "xdp"])
    try:
        drops = ping_drops(t, ["XDP", "NOT_SPECIFIED"])
        check(all(ev["drop_reason"] == "XDP" or "xdp" in ev.get("location", "") for ev in drops),
              f"a generic XDP drop without a reason is not located in the XDP path: {drops}")
    finally:
        topo.ns_run(topo.b, ["ip", "link", "set", "dev", topo.veth_b, "xdpgeneric", "off"],
                    check_rc=False)
    check(topo.ping_ab(count=1, check_rc=False).returncode == 0, "no ping after the XDP program")


if __name__ == "__main__":
    skbt.main(globals())
