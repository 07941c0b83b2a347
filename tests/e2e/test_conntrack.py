#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_conntrack.py - --ct: the packet's conntrack entry (state, status, zone, mark, tuples)."""

import skbt
from skbt import check

NAT_RULES = """table ip skbt_nat {{
  chain out {{
    type nat hook output priority -100;
    ip daddr {vip} ct mark set 0x2a dnat to {real}
  }}
}}
"""


def _dnat(t):
    """In A, locally sent packets to the virtual address .100 go to B (DNAT at OUTPUT)."""
    topo = t.topo
    vip = f"10.199.{topo.n}.100"
    topo.ns_run(topo.a, ["nft", "-f", "-"], input=NAT_RULES.format(vip=vip, real=topo.b4))
    return vip


def test_dnat_ping_shows_both_tuples(t):
    """A DNAT'ed ping: on A's veth the entry's original tuple has the virtual address, its
    reply tuple the real one, with DST_NAT; the request is new, the reply established-reply."""
    topo = t.topo
    vip = _dnat(t)
    with t.trace("-p", "icmp", "--ct") as s:
        topo.ping(topo.a, vip, count=1)
        s.wait_event(lambda ev: (ev.get("conntrack") or {}).get("state") == "established-reply",
                     timeout=10, what="the reply in A, with its conntrack entry")
    evs = s.result.events
    skbt.check_schema_all(evs)
    check(all("conntrack" in ev for ev in evs), "an event of a --ct session lacks 'conntrack'")
    tx = [ev for ev in evs if ev["function"] == "net:net_dev_queue"
          and ev["ifname"] == topo.veth_a and (ev.get("icmp") or {}).get("type") == 8]
    check(tx, f"no request leaving A\n{s.result.describe()}")
    ct = tx[0]["conntrack"]
    check(ct is not None, f"the DNAT'ed request has no conntrack entry: {tx[0]}")
    check(ct["state"] == "new" and ct["proto"] == "icmp", f"request state/proto: {ct}")
    check(ct["orig"]["saddr"] == topo.a4 and ct["orig"]["daddr"] == vip,
          f"original tuple is not {topo.a4} -> {vip}: {ct}")
    check(ct["reply"]["saddr"] == topo.b4 and ct["reply"]["daddr"] == topo.a4,
          f"reply tuple is not {topo.b4} -> {topo.a4}: {ct}")
    check("DST_NAT" in ct["status"], f"status lacks DST_NAT: {ct}")
    check(ct["mark"] == 0x2a and ct["zone"] == 0, f"mark/zone: {ct}")
    check(ct["orig"]["type"] == 8 and ct["orig"]["id"] == tx[0]["icmp"]["id"],
          f"ICMP id/type in the original tuple: {ct} vs {tx[0]['icmp']}")
    # The packet itself was rewritten: it goes to the real address.
    check(tx[0]["tuple"]["daddr"] == topo.b4, f"the request was not DNAT'ed: {tx[0]['tuple']}")
    # The reply after conntrack in A (un-NAT'ed: from the virtual address), before the
    # socket drops the entry; the ping socket's copy of it has none.
    rx = [ev for ev in evs if (ev["conntrack"] or {}).get("state") == "established-reply"]
    check(rx, f"no reply with an established-reply entry\n{s.result.describe()}")
    check(rx[0]["tuple"]["saddr"] == vip, f"the reply was not un-NAT'ed: {rx[0]['tuple']}")
    ct = rx[0]["conntrack"]
    check("SEEN_REPLY" in ct["status"] and "CONFIRMED" in ct["status"], f"reply status: {ct}")
    check(ct["orig"]["daddr"] == vip, f"the reply's entry is another one: {ct}")
    # In B the packets have B's own entry (no NAT there), or none before conntrack ran.
    b_ct = [ev["conntrack"] for ev in evs if ev["netns"] == topo.netns_b and ev["conntrack"]]
    check(all(c["orig"]["daddr"] == topo.b4 and "DST_NAT" not in c["status"] for c in b_ct),
          f"B's entries: {b_ct}")


def test_ct_text(t):
    """Text: ct= state, status, zone, mark, proto, and the tuples, as single words."""
    topo = t.topo
    vip = _dnat(t)
    with t.trace("-p", "icmp", "-d", topo.b4, "--ct", output="text") as s:
        topo.ping(topo.a, vip, count=1)
        skbt.wait_for(lambda: " ct=new " in s.out.text(), 10, "a line with ct=new")
    lines = [ln for ln in s.result.stdout.splitlines() if " ct=new " in ln]
    check(lines, f"no ct=new line:\n{s.result.stdout}")
    ln = lines[0]
    for part in (" ct_status=", "DST_NAT", " ct_zone=0 ct_mark=42 ct_proto=icmp",
                 f" ct_orig={topo.a4}->{vip}", f" ct_reply={topo.b4}->{topo.a4}"):
        check(part in ln, f"{part!r} not in {ln!r}")
    # Lines of packets without an entry say so.
    check(all(" ct=" in ln for ln in s.result.stdout.splitlines() if ln.strip()),
          f"a --ct line without ct=:\n{s.result.stdout}")


def test_no_ct_without_option(t):
    """Sessions that do not ask carry nothing of it."""
    topo = t.topo
    vip = _dnat(t)
    with t.trace("-p", "icmp", "-d", topo.b4) as s:
        topo.ping(topo.a, vip, count=1)
        s.wait_event(lambda ev: ev["function"] == "net:net_dev_queue", timeout=10, what="TX")
    check(not any("conntrack" in ev for ev in s.result.events), "conntrack without --ct")


def test_ct_tcp_state(t):
    """TCP: the conntrack TCP state moves along the handshake (SYN_SENT ... ESTABLISHED)."""
    topo = t.topo
    topo.tcp_server(topo.b, 9300)
    # Conntrack in B: a rule that needs it.
    topo.ns_run(topo.b, ["nft", "-f", "-"],
                input="table ip skbt_ct {\n chain in {\n  type filter hook input priority 0;\n"
                      "  ct state established,related,new accept\n }\n}\n")
    with t.trace("-p", "tcp", "--port", "9300", "--ct") as s:
        topo.tcp_request(topo.a, topo.b4, 9300)
        s.wait_event(lambda ev: (ev.get("conntrack") or {}).get("tcp_state") == "ESTABLISHED",
                     timeout=10, what="an event with tcp_state ESTABLISHED")
    states = [ev["conntrack"].get("tcp_state") for ev in s.result.events if ev["conntrack"]]
    check("SYN_SENT" in states and "ESTABLISHED" in states, f"TCP states seen: {states}")
    for ev in s.result.events:
        c = ev["conntrack"]
        if c:
            check(c["proto"] == "tcp" and c["orig"]["dport"] == 9300
                  and c["reply"]["sport"] == 9300, f"TCP tuple: {c}")


if __name__ == "__main__":
    skbt.main(globals())
