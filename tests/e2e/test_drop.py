#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_drop.py - the drop tracer reports dropped packets with the kernel's reason and location."""

import skbt
from skbt import check

CLOSED_PORT = 9  # discard: nothing listens in the namespace

_RAW_SEND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, int(sys.argv[2]))
for _ in range(3):
    s.sendto(b"skbt-e2e", (sys.argv[1], 0))
"""


def check_drops(r):
    check(r.rc in (0, 130), f"exit status {r.rc}\n{r.describe()}")
    check(r.summary is not None, f"no summary line\n{r.describe()}")
    skbt.check_schema_all(r.events)
    for ev in r.events:
        for key in ("drop_reason", "location"):
            check(isinstance(ev.get(key), str) and ev[key],
                  f"drop tracer event without a non-empty '{key}' string: {ev}")


def test_udp_closed_port(t):
    topo = t.topo

    def dropped(ev):
        tp = skbt.tuple_of(ev)
        return (skbt.proto_of(ev) == "udp" and skbt.between(ev, topo.a4, topo.b4)
                and tp.get("dport") == CLOSED_PORT)

    with t.trace("--tracer", "drop", "-p", "udp", "--addr", topo.b4) as s:
        topo.udp_send(topo.a, topo.b4, CLOSED_PORT, count=3)
        s.wait_event(dropped, what="drop of the UDP datagram")
    r = s.result
    check_drops(r)
    ours = [ev for ev in r.events if dropped(ev)]
    check(ours, f"no drop of UDP {topo.a4} -> {topo.b4}:{CLOSED_PORT}\n{r.describe()}")
    reasons = {ev["drop_reason"] for ev in ours}
    # A datagram to a port without a socket: __udp4_lib_rcv() drops it with
    # SKB_DROP_REASON_NO_SOCKET (since 5.17).
    check(reasons == {"NO_SOCKET"}, f"drop_reason {reasons}, want NO_SOCKET\n{r.describe()}")
    check(all(ev["ifname"] in ("", topo.veth_b) for ev in ours),
          f"UDP drop not on {topo.veth_b}: {[ev['ifname'] for ev in ours]}")


def test_unknown_ip_protocol(t):
    topo = t.topo
    proto = 253  # RFC 3692 experimental: no handler in the kernel

    def dropped(ev):
        return skbt.between(ev, topo.a4, topo.b4) and skbt.tuple_of(ev).get("proto") == proto

    with t.trace("--tracer", "drop", "-p", str(proto), "--addr", topo.b4) as s:
        topo.ns_python(topo.a, _RAW_SEND, topo.b4, proto)
        s.wait_event(dropped, what=f"drop of the IP protocol {proto} packet")
    r = s.result
    check_drops(r)
    ours = [ev for ev in r.events if dropped(ev)]
    check(ours, f"no drop of IP protocol {proto} {topo.a4} -> {topo.b4}\n{r.describe()}")
    reasons = {ev["drop_reason"] for ev in ours}
    # ip_protocol_deliver_rcu(): no handler -> SKB_DROP_REASON_IP_NOPROTO.
    check(reasons == {"IP_NOPROTO"}, f"drop_reason {reasons}, want IP_NOPROTO\n{r.describe()}")


def test_blackhole_route(t):
    topo = t.topo
    target = f"10.199.{topo.n}.99"
    topo.ns_run(topo.a, ["ip", "route", "add", f"{target}/32", "via", topo.b4])
    topo.ns_run(topo.b, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    topo.ns_run(topo.b, ["ip", "route", "add", "blackhole", target])
    try:
        def dropped(ev):
            return skbt.between(ev, topo.a4, target)

        with t.trace("--tracer", "drop", "--daddr", target) as s:
            topo.udp_send(topo.a, target, 7, count=3)
            s.wait_event(dropped, what=f"drop of the datagram to blackholed {target}")
        r = s.result
    finally:
        topo.ns_run(topo.b, ["ip", "route", "del", "blackhole", target], check_rc=False)
        topo.ns_run(topo.b, ["sysctl", "-qw", "net.ipv4.ip_forward=0"], check_rc=False)
        topo.ns_run(topo.a, ["ip", "route", "del", f"{target}/32"], check_rc=False)
    check_drops(r)
    ours = [ev for ev in r.events if dropped(ev)]
    check(ours, f"no drop of {topo.a4} -> {target} (blackhole route in {topo.b})\n{r.describe()}")
    skbt.log(f"blackhole drop reasons: {sorted({ev['drop_reason'] for ev in ours})}, "
             f"locations: {sorted({ev['location'] for ev in ours})}")


def test_drop_tracer_reports_only_drops(t):
    """Answered echo requests are consumed, not dropped: the drop tracer stays quiet on them.

    (Echo replies may show up: the kernel also offers them to ping_rcv(), which
    drops its copy with NO_SOCKET when no ICMP datagram socket wants it.)
    """
    topo = t.topo
    with t.trace("--tracer", "drop", "-p", "icmp", "--addr", topo.b4) as s:
        topo.ping(topo.a, topo.b4, count=3)
    r = s.result
    check_drops(r)
    requests = [ev for ev in r.events if ev.get("icmp", {}).get("type") == 8]
    check(not requests, f"the drop tracer reported answered echo requests as drops:\n"
          f"{r.describe()}")



def test_netfilter_drop(t):
    """An nftables drop: the reason says netfilter; the table and chain need a function backend."""
    topo = t.topo
    rules = ("add table ip skbt_e2e_drop\n"
             "add chain ip skbt_e2e_drop in { type filter hook input priority 0; }\n"
             f"add rule ip skbt_e2e_drop in udp dport {CLOSED_PORT + 1} drop\n")
    status = t.d.status()
    function_backend = status.get("backend") not in (None, "tracepoint")
    listed = [p for p in t.d.list_probes() if p["name"].startswith("nf:")]
    check({p["name"] for p in listed} >= {"nf:ipt_do_table", "nf:nft_do_chain"} or function_backend,
          f"netfilter verdict probes missing from list: {listed}")
    if not function_backend:
        # This kernel has tracepoints only: the verdict probes are listed with why.
        for p in listed:
            check(p["kind"] == "netfilter" and not p["attached"] and
                  "function backend" in p.get("error", ""),
                  f"{p['name']}: want unattached with the reason, got {p}")
    topo.ns_run(topo.b, ["nft", "-f", "-"], input=rules)
    try:
        def dropped(ev):
            return (skbt.between(ev, topo.a4, topo.b4)
                    and skbt.tuple_of(ev).get("dport") == CLOSED_PORT + 1)

        with t.trace("--tracer", "drop", "-p", "udp", "--addr", topo.b4) as s:
            topo.udp_send(topo.a, topo.b4, CLOSED_PORT + 1, count=2)
            s.wait_event(dropped, what="drop of the datagram by the nftables rule")
        r = s.result
        check_drops(r)
        ours = [ev for ev in r.events if dropped(ev)]
        reasons = {ev["drop_reason"] for ev in ours}
        check(reasons == {"NETFILTER_DROP"}, f"drop_reason {reasons}, want NETFILTER_DROP")
        if function_backend:
            check(all(ev.get("netfilter", {}).get("table") == "skbt_e2e_drop" for ev in ours),
                  f"drops not explained by table skbt_e2e_drop: {ours}")
        else:
            check(all("netfilter" not in ev for ev in ours), f"a verdict from nowhere: {ours}")
    finally:
        topo.ns_run(topo.b, ["nft", "delete", "table", "ip", "skbt_e2e_drop"], check_rc=False)


def test_nf_rules_needs_verdicts(t):
    """--nf-rules: where no verdict is reported (tracepoints only), refused with the reason."""
    status = t.d.status()
    nf = status.get("netfilter", {})
    if status.get("backend") == "tracepoint":
        check(nf.get("rules") is False and "function" in nf.get("rules_unavailable", "")
              and nf.get("trace_hook_on") is False, f"Status netfilter: {nf}")
        r = t.d.ctl_run(["trace", "--nf-rules", "-c", "1"], check_rc=False)
        check(r.returncode != 0 and "nf_rules" in r.stderr and "backend" in r.stderr,
              f"--nf-rules on tracepoints: {r.returncode} {r.stderr!r}")


if __name__ == "__main__":
    skbt.main(globals())
