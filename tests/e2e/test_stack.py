#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_stack.py - --stack: each event with its kernel stack, symbolized; drop + stack."""

import re

import skbt
from skbt import check

FRAME_RE = re.compile(r"^(0x[0-9a-f]+|[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+)$")


def names(stack):
    return [f.split("+")[0] for f in stack]


def test_drop_with_stack(t):
    """'where was it dropped and who called it': a UDP packet to a closed port."""
    topo = t.topo
    with t.trace("-t", "drop", "--stack", "-p", "udp", "--dport", "9") as s:
        topo.udp_send(topo.a, topo.b4, 9, count=2)
        s.wait_event(lambda ev: ev.get("drop_reason") == "NO_SOCKET", timeout=5, what="the drop")
    r = s.result
    drops = [ev for ev in r.events if ev.get("drop_reason") == "NO_SOCKET"]
    check(drops, f"no NO_SOCKET drop\n{r.describe()}")
    for ev in drops:
        st = ev.get("stack")
        check(isinstance(st, list) and len(st) >= 3, f"drop without a stack: {ev}")
        for f in st:
            check(FRAME_RE.match(f), f"stack frame {f!r} is neither FUNC+0xOFF/0xSIZE nor 0xADDR")
        fn = names(st)
        # The kernel's names for the callers: UDP receive, IP local delivery, the softirq.
        check(any(n.startswith(("__udp4_lib_rcv", "udp_rcv", "udp_queue_rcv")) for n in fn),
              f"the stack of a UDP drop has no UDP receive function: {fn}")
        check(any(n.startswith("ip_") for n in fn), f"no IP function in the stack: {fn}")
        check(any("netif_receive_skb" in n or "process_backlog" in n or "net_rx_action" in n
                  for n in fn), f"no receive path function in the stack: {fn}")


def test_text_stack_lines(t):
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--stack", "-r",
                 "^net:netif_receive_skb$", output="text") as s:
        topo.ping(topo.a, topo.b4, count=1)
        skbt.wait_for(lambda: "\n    " in s.out.text(), 10, "stack lines")
    lines = s.result.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if "net:netif_receive_skb" in ln)
    frames = []
    for ln in lines[i + 1:]:
        if not ln.startswith("    "):
            break
        frames.append(ln[4:])
    check(len(frames) >= 3, f"stack lines after the event: {lines[i:i + 8]}")
    check(all(FRAME_RE.match(f) for f in frames), f"frames {frames}")


def test_no_stack_unless_asked(t):
    """Another session's --stack does not change a session that did not ask."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, "--stack") as with_stack, \
            t.trace("-p", "icmp", "--addr", topo.b4) as without:
        topo.ping(topo.a, topo.b4, count=1)
        without.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5,
                           what="a free")
        with_stack.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5,
                              what="a free")
    check(with_stack.result.events and all("stack" in ev for ev in with_stack.result.events),
          "--stack events without a stack")
    check(without.result.events and not any("stack" in ev for ev in without.result.events),
          "events with a stack in a session without --stack")


if __name__ == "__main__":
    skbt.main(globals())
