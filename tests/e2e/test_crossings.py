#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_crossings.py - -o crossings: a line per (netns, interface) a packet enters, as tracepkt."""

import re

import skbt
from skbt import check

# [NAME:INODE] for named namespaces (ip netns), [     INODE] for others.
LINE_RE = re.compile(r"^\[(?:(\S+):)?\s*(\d+)\] (\S+)\s+(request|reply) (\S+) -> (\S+)  \((\S+)\)$")


def test_ping_crossings(t):
    """One ping: the request enters A's veth then B's, the reply B's then A's; nothing more."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, output="crossings") as s:
        topo.ping_ab(count=1)
        skbt.wait_for(lambda: len([l for l in s.out.text().splitlines() if l.strip()]) >= 4,
                      10, "four crossing lines (request and reply, two interfaces each)")
    r = s.result
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    check(lines, f"no crossing lines\n{r.describe()}")
    got = []
    for line in lines:
        m = LINE_RE.match(line)
        check(m, f"not a crossing line: {line!r}")
        got.append((m.group(1), int(m.group(2)), m.group(3), m.group(4), m.group(5), m.group(6)))
    want = [(topo.a, topo.netns_a, topo.veth_a, "request", topo.a4, topo.b4),
            (topo.b, topo.netns_b, topo.veth_b, "request", topo.a4, topo.b4),
            (topo.b, topo.netns_b, topo.veth_b, "reply", topo.b4, topo.a4),
            (topo.a, topo.netns_a, topo.veth_a, "reply", topo.b4, topo.a4)]
    check(got == want, "crossings of one ping:\n" + "\n".join(lines) +
          f"\nexpected:\n" + "\n".join(map(str, want)))


def test_crossings_in_help(t):
    r = t.d.ctl_run(["trace", "--help"], timeout=10)
    check("crossings" in r.stdout, "trace --help does not mention crossings")


if __name__ == "__main__":
    skbt.main(globals())
