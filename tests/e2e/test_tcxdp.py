#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_tcxdp.py - drops by tc and XDP BPF programs, as the tracepoint backend sees them.

B's veth gets a program (tcxdp_drop.bpf.c, path in SKBT_TCXDP_OBJ) that drops IPv4 ICMP echo
requests: a tc program on clsact ingress (TC_ACT_SHOT), then an XDP program in generic (skb)
mode (XDP_DROP).  No tracepoint reports a program's run or its other verdicts; the drop itself
reaches skb:kfree_skb with the reason the kernel gives it: TC_INGRESS for a tc drop; for a
generic XDP drop XDP where the kernel says so, NOT_SPECIFIED where it frees the skb without a
reason (6.18 does, in do_xdp_generic()), so there the location names the XDP path.  Native XDP
drops free no skb: no tracepoint sees them.  On the device the program runs on.  Where fentry
is refused (this host), 'ipftctl list' says why the programs themselves cannot be traced.
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


def programs_listed(t):
    """With a tc program loaded: where fentry works, it is a probe (tc:skbt_tc_drop); where
    it does not (this host's kernel), 'list' says why under tc:* and xdp:*, and a session
    selecting tc programs is refused with that reason."""
    bpf = {p["name"]: p for p in t.d.list_probes() if p.get("kind") == "bpf"}
    if "tc:*" not in bpf:
        check("tc:skbt_tc_drop" in bpf, f"fentry works here, yet the tc program is not a probe: "
              f"{sorted(bpf)}")
        return
    why = "tracing tc and XDP programs needs fentry/fexit on BPF programs; fentry here: "
    for name in ("tc:*", "xdp:*"):
        p = bpf.get(name)
        check(p is not None and not p["attached"] and p.get("error", "").startswith(why)
              and len(p["error"]) > len(why),
              f"{name} does not say why tc/XDP programs cannot be traced: {p}")
    # What 'ipftctl list' prints for them (the text an operator reads).
    r = t.d.ctl_run(["list", "-r", "^(tc|xdp):"])
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("tc:*", "xdp:*"))]
    print("ipftctl list -r '^(tc|xdp):' here:\n" + r.stdout, flush=True)
    check(len(lines) == 2 and all(why in ln for ln in lines),
          f"'ipftctl list' does not show tc:*/xdp:* with the reason: {r.stdout!r}")
    r = t.d.ctl_run(["trace", "-r", "^tc:", "--duration", "1"], check_rc=False)
    check(r.returncode != 0 and "tc:* cannot be attached here: " + why in r.stderr,
          f"a session on '^tc:' is not refused with the reason: rc={r.returncode} {r.stderr!r}")


def test_tc_program_drop(t):
    """A tc program's TC_ACT_SHOT at ingress: skb:kfree_skb, reason TC_INGRESS, its device."""
    topo = t.topo
    path = obj()
    topo.ns_run(topo.b, ["tc", "qdisc", "add", "dev", topo.veth_b, "clsact"])
    try:
        topo.ns_run(topo.b, ["tc", "filter", "add", "dev", topo.veth_b, "ingress", "bpf", "da",
                             "obj", path, "sec", "tc"])
        ping_drops(t, ["TC_INGRESS"])
        programs_listed(t)
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
