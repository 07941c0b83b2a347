#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# probeset-report.py - the tables of bench/vm-probeset.sh from the guest's SKBT-PS lines (stdin):
# for each probe set, what it shows of each scenario's packets against every skb function,
# and what one session matching nothing costs with it.
#
#   probeset-report.py SETS < lines      SETS as vm-probeset.sh --sets
import re
import statistics
import sys
from collections import Counter, defaultdict

# The stages of a packet's path an operator reads from a trace, by the kernel's function and
# tracepoint names (each kernel's structure: the receive and transmit layers, routing,
# netfilter, sockets).  A probe may mark several stages.
STAGES = [
    ("received", r"^(net:netif_receive_skb|net:netif_rx|net:napi_gro|__?netif_receive_skb|"
                 r"netif_rx|__netif_rx|napi_gro|enqueue_to_backlog|process_backlog|"
                 r"__netif_receive_skb)"),
    ("ip-in", r"^(ip_rcv|ip_rcv_core|ip_list_rcv|ipv6_rcv|ip6_rcv_core)$"),
    ("routed", r"^(ip_route_|fib_|ip6_route|ip6_pol_route|ip_rcv_finish|ip6_rcv_finish|"
               r"ip_route_output|ip_route_input)"),
    ("forwarded", r"^ip6?_forward"),
    ("local", r"^(ip_local_deliver|ip6_input|ip6?_protocol_deliver_rcu)"),
    ("l4", r"^(tcp_v[46]_rcv|tcp_v[46]_do_rcv|udp_rcv|__udp[46]_lib_rcv|udpv6_rcv|icmp_rcv|"
           r"icmpv6_rcv|ping_rcv|icmp_echo|raw_rcv|tcp_rcv_)"),
    ("socket", r"(sock_queue_rcv|__udp_enqueue_schedule_skb|tcp_queue_rcv|tcp_data_queue|"
               r"skb_copy_datagram|ping_queue_rcv_skb|udp_queue_rcv|tcp_add_backlog)"),
    ("netfilter", r"^(nf_hook_slow|nft_do_chain|ipt_do_table|nf:|nf_conntrack_in|"
                  r"ipv4_conntrack)"),
    ("nat-fn", r"^(nf_nat_|nft_nat)"),
    ("ip-out", r"^(ip_output|ip_finish_output|__ip_finish_output|__ip_queue_xmit|"
               r"ip_queue_xmit|ip_local_out|__ip_local_out|ip_send_skb|ip_push_pending|"
               r"ip6_output|ip6_xmit|ip6_finish_output|ip6_local_out)"),
    ("queued", r"^(net:net_dev_queue|qdisc:|__dev_queue_xmit|dev_queue_xmit|sch_direct_xmit|"
               r"dev_qdisc_enqueue|.*_enqueue$)"),
    ("transmitted", r"^(net:net_dev_xmit|net:net_dev_start_xmit|dev_hard_start_xmit|"
                    r"xmit_one|veth_xmit|.*_start_xmit$)"),
    ("tunnel", r"(ipip|ip_tunnel|iptunnel|tunnel4|vxlan|gre_)"),
    ("freed", r"^(skb:kfree_skb|skb:consume_skb|kfree_skb|consume_skb|__kfree_skb|"
              r"kfree_skbmem|sk_skb_reason_drop|napi_consume_skb)"),
]
STAGE_RE = [(n, re.compile(r)) for n, r in STAGES]
FIELDS = ("track", "skb", "fn", "dev", "netns", "proto", "saddr", "daddr", "detail", "drop",
          "verdict")


def parse(lines):
    groups, events, cost, info = {}, defaultdict(list), [], []
    for line in lines:
        w = line.rstrip("\n").split(" ", 3)
        if len(w) < 3:
            continue
        if w[1] == "group":
            rest = (w[3] if len(w) > 3 else "").split()
            groups[w[2]] = (rest[0] if rest and rest[0] != "-" else None, set(rest[1:]))
        elif w[1] == "ev" and len(w) > 3:
            events[w[2]].append(dict(zip(FIELDS, w[3].split(","))))
        elif w[1] == "cost":
            kv = dict(x.split("=", 1) for x in line.split()[2:] if "=" in x)
            cost.append(kv)
        elif w[1] in ("probes", "skip", "costinfo", "progs"):
            info.append(" ".join(w[1:]))
    return groups, events, cost, info


def set_filter(spec, groups):
    """A predicate on probe names for a session's probe selection."""
    words = spec.replace("+", " ").split()
    if words == ["--probes", "all"]:
        return lambda fn: True
    if words == ["--probes", "groups"]:
        words = ["-g", ",".join(groups)]
    if len(words) != 2 or words[0] not in ("-g", "-r"):
        sys.exit(f"probeset-report: cannot read the set '{spec}'")
    if words[0] == "-r":
        rx = re.compile(words[1])
        return lambda fn: bool(rx.search(fn))
    want = set(words[1].split(","))

    def chosen(g):
        while g:
            if g in want:
                return True
            g = groups[g][0] if g in groups else None
        return False
    names = set().union(*(p for g, (_, p) in groups.items() if chosen(g))) if groups else set()
    return lambda fn: fn in names


def journey_view(evs):
    """What an operator reads of one journey: places, stages, drops, verdicts, addresses."""
    places, stages, addrs = [], set(), set()
    for e in evs:
        if e["dev"] and (e["netns"], e["dev"]) not in places:
            places.append((e["netns"], e["dev"]))
        for n, rx in STAGE_RE:
            if rx.search(e["fn"]):
                stages.add(n)
        if e["drop"]:
            stages.add("drop:" + e["drop"])
        if e["verdict"]:
            stages.add("verdict:" + e["verdict"])
        if e["saddr"]:
            addrs.add((e["saddr"], e["daddr"]))
    if len(addrs) > 1:
        stages.add("addresses-change")
    return places, stages


def path_table(sets, groups, events):
    print("| scenario | set | journeys | events per journey | functions | places lost | "
          "journeys missing a stage | stages missing (journeys) |")
    print("|---|---|---|---|---|---|---|---|")
    missed_fns = defaultdict(Counter)
    for scen, evs in events.items():
        by_track = defaultdict(list)
        for e in evs:
            by_track[e["track"]].append(e)
        by_track.pop("0", None)
        n = max(len(by_track), 1)
        full = {t: journey_view(es) for t, es in by_track.items()}
        for name, spec in sets:
            keep = set_filter(spec, groups)
            sub = [e for e in evs if keep(e["fn"])]
            lost_places = total_places = short = 0
            missing = Counter()
            for t, es in by_track.items():
                pl, st = journey_view([e for e in es if keep(e["fn"])])
                fpl, fst = full[t]
                total_places += len(fpl)
                lost_places += len(set(fpl) - set(pl))
                gone = fst - st
                if gone:
                    short += 1
                    missing.update(gone)
            for e in evs:
                if not keep(e["fn"]):
                    missed_fns[name][e["fn"]] += 1
            fns = len({e["fn"] for e in sub})
            ms = ", ".join(f"{k} ({v})" for k, v in sorted(missing.items())) or "none"
            print(f"| {scen} | {name} | {len(by_track)} | {len(sub) / n:.1f} | {fns} | "
                  f"{lost_places} of {total_places} | {short} | {ms} |")
    return missed_fns


def cost_table(cost):
    by = defaultdict(list)
    for c in cost:
        by[c["case"]].append(c)

    def med(rows, key):
        v = [float(r[key]) for r in rows if r.get(key, "-") not in ("-", "")]
        return statistics.median(v) if v else None
    base = med(by.get("none", []), "mbps")
    print("| case | rounds | iperf3 over veth, Mbit/s (median; each round) | vs no tracer | "
          "BPF runs per ICMP packet | ns per run (median; each round) | "
          "BPF µs per ICMP packet (median; each round) |")
    print("|---|---|---|---|---|---|---|")

    def cell(v, fmt):
        return f"{statistics.median(v):{fmt}} ({', '.join(f'{x:{fmt}}' for x in v)})" if v else "-"
    for case, rows in by.items():
        mb = med(rows, "mbps")
        each = ", ".join(r["mbps"] for r in rows)
        rel = f"{(mb / base - 1) * 100:+.1f}%" if mb and base and case != "none" else ""
        ran = [r for r in rows if int(r.get("pkts", 0)) > 0 and int(r.get("runs", 0)) > 0]
        runs = [int(r["runs"]) / int(r["pkts"]) for r in rows if int(r.get("pkts", 0)) > 0]
        ns = [int(r["run_ns"]) for r in ran]
        # The programs' own time per packet: runs per packet x ns per run, per round.
        us = [int(r["runs"]) * int(r["run_ns"]) / int(r["pkts"]) / 1000 for r in ran]
        rp = f"{statistics.median(runs):.1f}" if runs else "-"
        mbs = f"{mb:.0f}" if mb is not None else "-"
        print(f"| {case} | {len(rows)} | {mbs} ({each}) | {rel} | {rp} | {cell(ns, '.0f')} | "
              f"{cell(us, '.1f')} |")


def main():
    sets = [tuple(s.split("=", 1)) for s in sys.argv[1].split(";") if s]
    groups, events, cost, info = parse(sys.stdin)
    for i in info:
        print(i)
    print()
    print("What each set shows of the scenarios' journeys (a journey: one packet, --track),")
    print("against every skb function:")
    print()
    missed = path_table(sets, groups, events)
    print()
    print("One session matching nothing (-m 0xdead), per probe set:")
    print()
    cost_table(cost)
    for name, spec in sets:
        if spec == "--probes+all":
            continue
        print()
        print(f"Functions hit that the set '{name}' leaves out (hits, all scenarios):")
        for fn, c in missed[name].most_common(40):
            print(f"  {c:6d} {fn}")
    for scen, evs in events.items():
        t0 = next((e["track"] for e in evs if e["track"] != "0"), None)
        print()
        print(f"{scen}: the first journey, every function:")
        print("  " + " ".join(e["fn"] + ("@" + e["dev"] if e["dev"] else "") +
                              ("!" + e["drop"] if e["drop"] else "")
                              for e in evs if e["track"] == t0))


if __name__ == "__main__":
    main()
