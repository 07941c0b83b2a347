#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_groups.py - probe groups: list --groups, -g selection, unknown names; --detail."""

import json
import os
import re
import shutil

import skbt
from skbt import check, RX_TRACEPOINTS, TX_TRACEPOINTS


def groups_json(t):
    r = t.d.ctl_run(["list", "--groups", "-o", "json"])
    return {g["name"]: g for g in (json.loads(ln) for ln in r.stdout.splitlines() if ln.strip())}


def test_list_groups_tree(t):
    """The tree from the data file, with what exists and is attached here."""
    g = groups_json(t)
    for name in ("link", "link-in", "link-out", "sched", "ip", "ip-in", "ip-out", "tcp", "udp",
                 "icmp", "netfilter", "bridge", "life"):
        check(name in g, f"group {name} missing from list --groups: {sorted(g)}")
    check(g["link-in"]["parent"] == "link" and g["link"]["parent"] is None,
          f"tree: link-in's parent {g['link-in']['parent']!r}, link's {g['link']['parent']!r}")
    probes = {p["name"]: p for p in g["link-in"]["probes"]}
    check(probes.get("net:netif_receive_skb", {}).get("attached") is True,
          f"link-in: net:netif_receive_skb not attached: {probes.get('net:netif_receive_skb')}")
    check(g["link-in"]["attached"] >= 1, f"link-in counts {g['link-in']['attached']} attached")
    # The tcp group takes every tcp: tracepoint by its regex.
    tcp = {p["name"] for p in g["tcp"]["probes"]}
    check("tcp:tcp_probe" in tcp or any(n.startswith("tcp:") for n in tcp),
          f"tcp group has no tcp: tracepoint: {sorted(tcp)[:10]}")
    # Names this kernel lacks are listed as such, not hidden from JSON.
    check(all("exists" in p and "attached" in p for p in g["ip-in"]["probes"]), "probe fields")
    text = t.d.ctl_run(["list", "--groups"]).stdout
    check("link-in" in text and "net:netif_receive_skb" in text and "attached" in text,
          f"text tree:\n{text[:800]}")


def test_group_selects_probes(t):
    """-g link-out: only the transmit probes; -g link: its children too."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, "-g", "link-out") as s:
        topo.ping(topo.a, topo.b4, count=2)
        s.wait_event(lambda ev: ev["function"] in TX_TRACEPOINTS, timeout=5, what="a TX event")
    r = s.result
    fns = {ev["function"] for ev in r.events}
    check(fns and fns <= set(TX_TRACEPOINTS), f"-g link-out let through {fns - set(TX_TRACEPOINTS)}")
    check(all(ev["group"] == "link-out" for ev in r.events),
          f"events name another group: {[ev['group'] for ev in r.events][:5]}")

    with t.trace("-p", "icmp", "--addr", topo.b4, "-g", "link") as s:
        topo.ping(topo.a, topo.b4, count=2)
        s.wait_event(lambda ev: ev["function"] in RX_TRACEPOINTS, timeout=5, what="an RX event")
    fns = {ev["function"] for ev in s.result.events}
    check(fns & set(TX_TRACEPOINTS) and fns & set(RX_TRACEPOINTS),
          f"-g link selects link-in and link-out, saw {fns}")
    check(not fns & {"skb:consume_skb", "skb:kfree_skb"}, f"-g link selected life probes: {fns}")


def test_groups_and_regex(t):
    """Groups, regex and tracer combine with AND; several groups with OR."""
    topo = t.topo
    with t.trace("-p", "icmp", "--addr", topo.b4, "-g", "link-in,life", "-r", "consume|netif_rx$") as s:
        topo.ping(topo.a, topo.b4, count=1)
        s.wait_event(lambda ev: ev["function"] == "skb:consume_skb", timeout=5, what="a free")
    fns = {ev["function"] for ev in s.result.events}
    check(fns and fns <= {"skb:consume_skb", "net:netif_rx"}, f"selected {fns}")


def test_unknown_group(t):
    r = t.d.ctl_run(["trace", "-g", "ip-in,no-such-group", "-c", "1"], check_rc=False)
    check(r.returncode == 1 and "unknown probe group 'no-such-group'" in r.stderr
          and "link-in" in r.stderr, f"status {r.returncode}, stderr {r.stderr!r}")
    r = t.d.ctl_run(["trace", "-g", "Bad_Name"], check_rc=False)
    check(r.returncode == 2 and "invalid group name" in r.stderr, f"{r.returncode} {r.stderr!r}")
    # Nothing of the group exists on this backend: said so, no empty session.
    r = t.d.ctl_run(["trace", "-g", "bridge", "-r", "^br_dev_xmit$", "-c", "1"], check_rc=False)
    check(r.returncode == 1 and "select no attached probe" in r.stderr, f"{r.returncode} {r.stderr!r}")


def test_default_probes(t):
    """--probes groups: the groups file's and the drop probes; --probes all every probe; the
    built-in default_probes is groups: a session that chooses no probes gets the groups' set,
    -r and -g still choose from every probe unless --probes groups narrows them too; with
    default_probes all such a session gets every probe, and without a groups file the default
    falls back to every probe, which the daemon says at start.  On daemons whose groups file
    names one probe, so that what a set holds does not depend on this kernel's tracepoints."""
    conf = os.path.join(t.workdir, "one-group.conf")
    with open(conf, "w") as f:
        f.write("[link-in]\ndescription = one probe\nprobes = net:netif_receive_skb\n")
    topo = t.topo
    d = t.new_daemon(["--groups", conf]).start()
    probes = [p for p in d.list_probes() if p["attached"]]
    every = {p["name"] for p in probes}
    grouped = {p["name"] for p in probes if p.get("group") or p.get("drop")}
    check("net:netif_receive_skb" in grouped and "net:net_dev_queue" in every - grouped,
          f"probes in the one group and drop probes: {sorted(grouped)}")
    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4) as s:
        topo.ping(topo.a, topo.b4, count=1)
        s.wait_event(lambda ev: ev["function"] == "net:netif_receive_skb", timeout=5,
                     what="an RX event")
    fns = {ev["function"] for ev in s.result.events}
    check(s.probes == len(grouped) and fns <= grouped,
          f"built-in default (groups): {s.probes} probes, want {len(grouped)}; events from "
          f"{fns - grouped}")
    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4, "--probes", "groups") as s:
        pass
    check(s.probes == len(grouped), f"--probes groups: {s.probes} probes, want {len(grouped)}")
    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4, "--probes", "all") as s:
        topo.ping(topo.a, topo.b4, count=1)
        s.wait_event(lambda ev: ev["function"] == "net:net_dev_queue", timeout=5, what="TX")
    check(s.probes == len(every), f"--probes all: {s.probes} probes, want {len(every)}")
    with t.trace_on(d, "-p", "icmp", "-r", "^net:net_dev_queue$") as s:
        pass
    check(s.probes == 1, f"-r chooses from every probe: {s.probes} probes, want 1")
    r = d.ctl_run(["trace", "--probes", "groups", "-r", "^net:net_dev_queue$", "-c", "1"],
                  check_rc=False)
    check(r.returncode == 1 and "matches no attached probe" in r.stderr,
          f"--probes groups -r outside the groups: {r.returncode} {r.stderr!r}")
    r = d.ctl_run(["trace", "--probes", "some", "-c", "1"], check_rc=False)
    check(r.returncode == 2 and "groups" in r.stderr and "all" in r.stderr,
          f"--probes some: {r.returncode} {r.stderr!r}")
    d.stop()

    d = t.new_daemon(["--groups", conf, "--default-probes", "all"]).start()
    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4) as s:
        pass
    check(s.probes == len(every), f"default_probes all: {s.probes}, want {len(every)}")
    d.stop()

    d = t.new_daemon(["--groups", os.path.join(t.workdir, "no-such-groups.conf")]).start()
    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4) as s:
        pass
    check(s.probes == len(every), f"no groups file: {s.probes} probes, want all {len(every)}")
    check("sessions that choose no probes get every probe" in d.log_text(),
          f"no warning that the default fell back to every probe\n{d.log_text(40)}")
    d.stop()


def test_detail_text(t):
    """--detail: device:index, netns (with its ip netns name), pid, comm and group on each line."""
    topo = t.topo
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4, "--detail", output="text") as s:
        topo.ping(topo.a, topo.b4, count=1)
        skbt.wait_for(lambda: "net:netif_receive_skb" in s.out.text(), 10, "an RX line")
    lines = [ln for ln in s.result.stdout.splitlines() if "net:netif_receive_skb" in ln]
    check(lines, f"no RX line\n{s.result.stdout}")
    ln = lines[0]
    check(f" if={topo.veth_b}:{topo.ifindex_b} netns={topo.b}:{topo.netns_b} pid=" in ln
          and " comm=" in ln and ln.endswith(" group=link-in"), f"--detail line {ln!r}")
    # JSON carries the same always.
    with t.trace("-p", "icmp", "-s", topo.a4, "-d", topo.b4) as s:
        topo.ping(topo.a, topo.b4, count=1)
        s.wait_event(lambda ev: ev["function"] == "net:net_dev_queue", timeout=5, what="TX")
    tx = [ev for ev in s.result.events if ev["function"] == "net:net_dev_queue"]
    check(tx and tx[0]["comm"] == "ping" and tx[0]["group"] == "link-out"
          and tx[0]["track_id"] == 0, f"JSON comm/group/track_id: {tx[:1]}")
    # The namespace's name (the topology's namespaces are ip netns ones), next to its inode.
    check(tx[0]["netns"] == topo.netns_a and tx[0].get("netns_name") == topo.a,
          f"JSON netns/netns_name: {tx[:1]}")


def installed_groups_path():
    """SKBT_DEFAULT_GROUPS of the build: where an installed daemon reads its groups."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(skbt.skbtraced_path())))
    with open(os.path.join(build, "config.h")) as f:
        return re.search(r'^#define SKBT_DEFAULT_GROUPS "(.*)"$', f.read(), re.M).group(1)


def daemon_without_installed_groups(t, binary):
    """BINARY, with no --groups, where the installed groups file does not exist: a mount
    namespace of its own with an empty tmpfs over that file's folder if it exists here."""
    hide = os.path.dirname(installed_groups_path())
    wrapper = os.path.join(t.workdir, f"no-installed-groups-{os.path.basename(binary)}")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"exec unshare --mount --propagation private sh -c '[ ! -d {hide} ] || "
                f"mount -t tmpfs none {hide} || exit 1; exec \"$0\" \"$@\"' {binary} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    d = t.new_daemon()
    d.bin = wrapper
    d.groups_arg = False
    return d.start()


@skbt.needs_no_daemon
def test_build_tree_daemon_finds_its_groups(t):
    """A daemon run from the build tree, with nothing installed, reads the source tree's
    groups (the README's walkthrough); a copy of it elsewhere does not."""
    src = os.path.join(skbt.TOP, "data", "groups.conf")
    d = daemon_without_installed_groups(t, os.path.abspath(skbt.skbtraced_path()))
    st = d.status()
    check(st["groups"]["file"] == src, f"status groups: {st['groups']}, want the file {src}")
    r = d.ctl_run(["list", "--groups"])
    check("link-in" in r.stdout and "net:netif_receive_skb" in r.stdout,
          f"list --groups from a build-tree daemon:\n{r.stdout[:600]}{r.stderr}")
    d.stop()

    # The same binary outside the build tree is an installed daemon: no fallback.
    copy = os.path.join(t.workdir, "skbtraced-copy")
    shutil.copy2(skbt.skbtraced_path(), copy)
    d = daemon_without_installed_groups(t, copy)
    r = d.ctl_run(["list", "--groups"], check_rc=False)
    check(r.returncode != 0 and installed_groups_path() in r.stderr,
          f"a copied daemon listed groups or did not name the missing file: "
          f"{r.returncode} {r.stdout[:300]}{r.stderr}")
    d.stop()


if __name__ == "__main__":
    skbt.main(globals())
