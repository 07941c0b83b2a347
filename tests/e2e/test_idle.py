#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_idle.py - idle detach: tracepoint links only while sessions run (plus the linger)."""

import os
import signal
import time

import skbt
from skbt import check


def _bpf_fds(pid):
    """The daemon's BPF fds: ({link_id: fdinfo} of its raw_tracepoint links, {prog ids})."""
    links, progs = {}, set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            kind = os.readlink(f"/proc/{pid}/fd/{fd}")
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(ln.rstrip("\n").split(":\t", 1) for ln in f if ":\t" in ln)
        except (OSError, ValueError):
            continue  # closed meanwhile
        if kind == "anon_inode:bpf_link" and info.get("link_type") == "raw_tracepoint":
            links[int(info["link_id"])] = info
        elif kind == "anon_inode:bpf-prog" and "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return links, progs


def _links(d):
    """Raw tracepoint links the daemon holds, checked two ways: its own fds, and bpftool's
    list of every link in the system (those running one of its programs)."""
    mine, progs = _bpf_fds(d.proc.pid)
    seen = {l["id"] for l in skbt.bpf_link_list()
            if l.get("prog_id") in progs and l.get("type") == "raw_tracepoint"}
    check(seen == set(mine), f"the daemon's raw_tracepoint link fds {sorted(mine)} and "
          f"bpftool's links to its programs {sorted(seen)} differ")
    return len(mine)


def _tp(d):
    return d.status()["tracepoints"]


def _wait_detached(d, timeout=10):
    skbt.wait_for(lambda: _tp(d)["idle_detached"], timeout, "the idle detach")
    n = _links(d)
    check(n == 0, f"status says detached but the daemon holds {n} raw_tracepoint links")


def _icmp_session(t, d):
    """A session after a detach still gets its events (re-attached before it went live)."""
    with t.trace_on(d, "-p", "icmp", "--addr", t.topo.b4) as s:
        st = _tp(d)
        check(not st["idle_detached"] and st["linked"] == st["loaded"] > 0,
              f"a session runs but the tracepoints are not all linked: {st}")
        n = _links(d)
        check(n == st["loaded"], f"a session runs: the daemon holds {n} raw_tracepoint links, "
              f"want {st['loaded']}")
        t.topo.ping(t.topo.a, t.topo.b4, count=2)
        s.wait_event(lambda ev: skbt.involves(ev, t.topo.b4), what="an ICMP event")
    r = s.result
    check(any(skbt.involves(ev, t.topo.b4) for ev in r.events),
          f"no ICMP event in a session started after the idle detach\n{r.describe()}\n"
          f"{d.log_text(40)}")
    return st


def test_links_only_while_sessions(t):
    d = t.new_daemon(["--idle-detach-after", "0.3"]).start()
    try:
        # A daemon starts idle: its start-up links go after the linger.
        _wait_detached(d)
        st = _tp(d)
        check(st["idle_detach_after_s"] == 0.3 and st["linked"] == 0 and st["detaches"] == 1,
              f"status after the first detach: {st}")
        _, progs = _bpf_fds(d.proc.pid)
        check(len(progs) >= st["loaded"], f"the programs must stay loaded while detached: "
              f"{len(progs)} program fds, {st['loaded']} tracepoints")
        # 'list' still offers the probes: attached means loaded and ready.
        tps = [p for p in d.list_probes() if p["kind"] == "tracepoint"]
        check(tps and all(p["attached"] and not p["linked"] for p in tps if "error" not in p),
              f"while detached, list must say attached (usable) and not linked: {tps[:3]}")
        t0 = time.monotonic()
        st = _icmp_session(t, d)
        skbt.log(f"session after detach live in {time.monotonic() - t0:.2f} s, re-attach took "
                 f"{_tp(d)['last_attach_us']} us")
        check(_tp(d)["attaches"] == 1, f"one re-attach expected: {_tp(d)}")
        _wait_detached(d)
        check(_tp(d)["detaches"] == 2, f"two detaches expected: {_tp(d)}")
        check("re-attached" in open(d.log_path).read(),
              "the daemon does not log the re-attach (debug level, with its duration)")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_session_within_linger_no_detach(t):
    d = t.new_daemon(["--idle-detach-after", "3"]).start()
    try:
        with t.trace_on(d, "-p", "icmp", "--addr", t.topo.b4):
            pass
        before = _tp(d)
        check(not before["idle_detached"], f"detached before the linger ran out: {before}")
        # Sessions that end and start within the linger keep the links: no detach, no attach.
        for _ in range(3):
            check(_links(d) == before["loaded"], "links dropped between sessions")
            _icmp_session(t, d)
        after = _tp(d)
        check(after["detaches"] == before["detaches"] and after["attaches"] == before["attaches"],
              f"sessions within the linger detached or re-attached: before {before}, "
              f"after {after}")
        # And once it runs out, they go.
        _wait_detached(d, timeout=15)
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_linger_zero(t):
    d = t.new_daemon(["--idle-detach-after", "0"]).start()
    try:
        _wait_detached(d)
        for i in range(2):
            _icmp_session(t, d)
            _wait_detached(d)
        st = _tp(d)
        check(st["attaches"] == 2 and st["detaches"] == 3, f"linger 0: {st}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_never_keeps_links(t):
    d = t.new_daemon(["--idle-detach-after", "never"]).start()
    try:
        time.sleep(1)
        st = _tp(d)
        check(st["idle_detach_after_s"] == -1 and not st["idle_detached"] and st["detaches"] == 0
              and st["linked"] == st["loaded"] > 0, f"idle_detach_after never: {st}")
        check(_links(d) == st["loaded"], "idle_detach_after never: links dropped")
        out = d.ctl_run(["status"]).stdout
        check("also while idle" in out, f"ipftctl status does not say the links stay:\n{out}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_reload(t):
    conf = os.path.join(t.workdir, "idle.conf")
    with open(conf, "w") as f:
        f.write("idle_detach_after = never\n")
    d = t.new_daemon(["--config", conf]).start()
    try:
        check(_tp(d)["idle_detach_after_s"] == -1, f"from the file: {_tp(d)}")
        with open(conf, "w") as f:
            f.write("idle_detach_after = 0.2\n")
        d.proc.send_signal(signal.SIGHUP)
        _wait_detached(d)
        out = d.ctl_run(["status"]).stdout
        check("detached while idle" in out, f"ipftctl status does not say detached:\n{out}")
        # Back to never: the links come back at once, without a session.
        with open(conf, "w") as f:
            f.write("idle_detach_after = never\n")
        d.proc.send_signal(signal.SIGHUP)
        skbt.wait_for(lambda: not _tp(d)["idle_detached"], 5, "the re-attach on reload")
        st = _tp(d)
        check(st["linked"] == st["loaded"] and _links(d) == st["loaded"],
              f"after reload to never: {st}")
        _icmp_session(t, d)
        d.stop()
    finally:
        if d.running():
            d.kill()


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
