#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_idle.py - attach on demand: probes linked only while sessions need them (plus the
linger and keep_attached), nothing on the packet path when idle."""

import json
import os
import signal
import socket
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


def _att(d):
    return d.status()["attach"]


def _tp(d):
    return d.status()["tracepoints"]


def _wait_idle(d, timeout=10):
    skbt.wait_for(lambda: _att(d)["idle"], timeout, "the idle detach")
    n = _links(d)
    check(n == 0, f"status says idle but the daemon holds {n} raw_tracepoint links")


def _run_counts(pids):
    """{prog_id: run_cnt} of the given programs (kernel.bpf_stats_enabled must be 1)."""
    r = skbt.run(["bpftool", "prog", "show", "-j"], timeout=30)
    return {p["id"]: p.get("run_cnt", 0) for p in json.loads(r.stdout) if p["id"] in pids}


def _icmp_session(t, d, *extra):
    """A session on every probe (--probes all: the default set leaves out tracepoints no group
    names) gets its events once its probes are attached (the harness waits for the client's
    "all N probes attached" line when some had to be)."""
    with t.trace_on(d, "-p", "icmp", "--addr", t.topo.b4, "--probes", "all", *extra) as s:
        st = _tp(d)
        check(st["linked"] == st["usable"] > 0,
              f"a session selecting every tracepoint runs but not all are linked: {st}")
        n = _links(d)
        check(n == st["usable"], f"a session runs: the daemon holds {n} raw_tracepoint links, "
              f"want {st['usable']}")
        t.topo.ping(t.topo.a, t.topo.b4, count=2)
        s.wait_event(lambda ev: skbt.involves(ev, t.topo.b4), what="an ICMP event")
    r = s.result
    check(any(skbt.involves(ev, t.topo.b4) for ev in r.events),
          f"no ICMP event in a session started with nothing attached\n{r.describe()}\n"
          f"{d.log_text(40)}")
    return r


def _trace_records(d, parameters, timeout=15):
    """The parameters of every reply of one Trace call, up to its summary."""
    req = json.dumps({"method": "io.skbtraced.Trace", "more": True, "parameters": parameters})
    out, buf = [], b""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(d.sock)
        s.sendall(req.encode() + b"\0")
        while not any("summary" in p for p in out):
            check(time.monotonic() < deadline, f"no summary within {timeout} s: {out}")
            chunk = s.recv(65536)
            check(chunk, f"the daemon closed the connection before the summary: {out}")
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                check("error" not in msg, f"Trace failed: {msg}")
                out.append(msg.get("parameters") or {})
    return out


def test_idle_runs_nothing(t):
    """A daemon starts with nothing attached, loads its programs in the background, and its
    programs run not once while packets flow and no session needs them."""
    d = t.new_daemon(["--idle-detach-after", "0.3"]).start()
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    try:
        st = _att(d)
        check(st["idle"] and st["linked"] == 0 and st["keep_attached"] == "none",
              f"a new daemon must have nothing attached: {st}")
        check(_links(d) == 0, "a new daemon holds tracepoint links")
        # The tracepoint programs load in the background, without a session.
        usable = _tp(d)["usable"]
        skbt.wait_for(lambda: _tp(d)["loaded"] >= usable, 60,
                      f"the programs of the {usable} tracepoints to load in the background")
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        _, progs = _bpf_fds(d.proc.pid)
        before = _run_counts(progs)
        t.topo.ping(t.topo.a, t.topo.b4, count=5, interval=0.05)
        after = _run_counts(progs)
        ran = {i: after[i] - before.get(i, 0) for i in after if after[i] != before.get(i, 0)}
        check(not ran, f"programs of an idle daemon ran on the packet path: {ran}")
        # And once a session needed them and the linger ran out, again none.
        _icmp_session(t, d)
        _wait_idle(d)
        before = _run_counts(progs)
        t.topo.ping(t.topo.a, t.topo.b4, count=5, interval=0.05)
        after = _run_counts(progs)
        ran = {i: after[i] - before.get(i, 0) for i in after if after[i] != before.get(i, 0)}
        check(not ran, f"programs ran after the linger: {ran}")
        d.stop()
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old)
        if d.running():
            d.kill()


def test_links_only_while_sessions(t):
    d = t.new_daemon(["--idle-detach-after", "0.3"]).start()
    try:
        _wait_idle(d)
        t0 = time.monotonic()
        _icmp_session(t, d)
        skbt.log(f"session with its probes attached first: {time.monotonic() - t0:.2f} s")
        st = _att(d)
        check(st["attached_total"] >= _tp(d)["usable"], f"attach counters: {st}")
        _wait_idle(d)
        st = _att(d)
        check(st["detached_total"] >= _tp(d)["usable"] and st["linked"] == 0,
              f"after the linger every probe must be detached: {st}")
        # A program per tracepoint, or one shared per skb position (Linux 6.10+).
        _, progs = _bpf_fds(d.proc.pid)
        tp = _tp(d)
        check(progs and tp["loaded"] == tp["usable"], f"the programs must stay loaded while "
              f"detached: {len(progs)} programs, {tp}")
        # 'list' still offers the probes: attached means usable.
        tps = [p for p in d.list_probes() if p["kind"] == "tracepoint"]
        check(tps and all(p["attached"] and not p["linked"] for p in tps if "error" not in p),
              f"while detached, list must say attached (usable) and not linked: {tps[:3]}")
        # Attached again for the next session, from the loaded programs.
        _icmp_session(t, d)
        log = open(d.log_path).read()
        check("attached" in log and "probes in" in log,
              "the daemon does not log its attaches (debug level, with their duration)")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_session_within_linger_no_detach(t):
    d = t.new_daemon(["--idle-detach-after", "3"]).start()
    try:
        _icmp_session(t, d)
        before = _att(d)
        check(not before["idle"] and before["linked"] > 0,
              f"detached before the linger ran out: {before}")
        # Sessions that end and start within the linger keep the links: no detach, no attach.
        for _ in range(3):
            check(_links(d) == _tp(d)["usable"], "links dropped between sessions")
            _icmp_session(t, d)
        after = _att(d)
        check(after["detached_total"] == before["detached_total"] and
              after["attached_total"] == before["attached_total"],
              f"sessions within the linger detached or re-attached: before {before}, "
              f"after {after}")
        # And once it runs out, they go.
        _wait_idle(d, timeout=15)
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_linger_zero(t):
    d = t.new_daemon(["--idle-detach-after", "0"]).start()
    try:
        for i in range(2):
            _icmp_session(t, d)
            _wait_idle(d)
        st = _att(d)
        check(st["detached_links"] >= 2 * _tp(d)["usable"], f"linger 0: {st}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_overlapping_sessions(t):
    """Two sessions share what both need; what one alone needed goes when it ends, the
    other's stays."""
    d = t.new_daemon(["--idle-detach-after", "0.2"]).start()
    try:
        with t.trace_on(d, "-p", "icmp", "-r", "^net:"):
            with t.trace_on(d, "-p", "icmp", "-r", "^(net|skb):") as b:
                linked = {p["name"] for p in d.list_probes() if p["linked"]}
                check(any(n.startswith("skb:") for n in linked) and
                      any(n.startswith("net:") for n in linked) and
                      all(n.startswith(("net:", "skb:")) for n in linked),
                      f"two sessions: linked {sorted(linked)}")
                n_both = _att(d)["attached_total"]
            # The second ended: its skb: probes go after the linger, net: stays.
            skbt.wait_for(lambda: not any(p["linked"] for p in d.list_probes()
                                          if p["name"].startswith("skb:")), 10,
                          "the skb: probes only the ended session needed to go")
            linked = {p["name"] for p in d.list_probes() if p["linked"]}
            check(linked and all(n.startswith("net:") for n in linked),
                  f"the first session's probes must stay: {sorted(linked)}")
            check(_att(d)["attached_total"] == n_both,
                  "the probes both sessions needed were attached twice")
            t.topo.ping(t.topo.a, t.topo.b4, count=1)
        _wait_idle(d)
        check(b.result.rc == 0, f"second session: {b.result.describe()}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_never_keeps_what_was_attached(t):
    d = t.new_daemon(["--idle-detach-after", "never"]).start()
    try:
        st = _att(d)
        check(st["idle_detach_after_s"] == -1 and st["linked"] == 0,
              f"idle_detach_after never: nothing is attached before a session needs it: {st}")
        _icmp_session(t, d)
        time.sleep(1)
        st = _att(d)
        check(not st["idle"] and st["detached_total"] == 0 and st["linked"] == _tp(d)["usable"],
              f"idle_detach_after never: what a session attached must stay: {st}")
        check(_links(d) == _tp(d)["usable"], "idle_detach_after never: links dropped")
        out = d.ctl_run(["status"]).stdout
        check("never detached" in out, f"ipftctl status does not say probes stay:\n{out}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_keep_attached(t):
    """keep_attached: those probes are attached without a session, and stay when sessions end;
    the others come and go."""
    d = t.new_daemon(["--idle-detach-after", "0.2", "--keep-attached", "^net:"]).start()
    try:
        kept = [p["name"] for p in d.list_probes() if p["name"].startswith("net:")]
        check(kept, "no net: tracepoint on this kernel")
        skbt.wait_for(lambda: _att(d)["linked"] == len(kept), 30,
                      f"the {len(kept)} kept probes to be attached without a session")
        st = _att(d)
        check(st["kept"] == len(kept) and st["keep_attached"] == "^net:" and not st["idle"],
              f"keep_attached ^net: {st}")
        linked = {p["name"] for p in d.list_probes() if p["linked"]}
        check(linked == set(kept), f"linked {sorted(linked)}, kept {sorted(kept)}")
        _icmp_session(t, d)
        skbt.wait_for(lambda: _att(d)["linked"] == len(kept), 10,
                      "the probes only the session needed to go")
        linked = {p["name"] for p in d.list_probes() if p["linked"]}
        check(linked == set(kept), f"after the session: linked {sorted(linked)}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_reload(t):
    conf = os.path.join(t.workdir, "idle.conf")
    with open(conf, "w") as f:
        f.write("idle_detach_after = 0.2\nkeep_attached = all\n")
    d = t.new_daemon(["--config", conf]).start()
    try:
        usable = _tp(d)["usable"]
        skbt.wait_for(lambda: _tp(d)["linked"] == usable, 30,
                      "keep_attached = all to attach every tracepoint")
        out = d.ctl_run(["status"]).stdout
        check("kept attached" in out, f"ipftctl status does not say probes are kept:\n{out}")
        with open(conf, "w") as f:
            f.write("idle_detach_after = 0.2\nkeep_attached = none\n")
        d.proc.send_signal(signal.SIGHUP)
        _wait_idle(d)
        out = d.ctl_run(["status"]).stdout
        check("nothing attached" in out, f"ipftctl status does not say idle:\n{out}")
        # Back to all: attached at once, without a session.
        with open(conf, "w") as f:
            f.write("idle_detach_after = 0.2\nkeep_attached = all\n")
        d.proc.send_signal(signal.SIGHUP)
        skbt.wait_for(lambda: _tp(d)["linked"] == usable, 10, "the re-attach on reload")
        check(_links(d) == usable, f"after reload to all: {_att(d)}")
        _icmp_session(t, d)
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_wait_attached(t):
    """--wait-attached: the client says events wait for every probe, and they come after."""
    d = t.new_daemon(["--idle-detach-after", "0"]).start()
    try:
        _wait_idle(d)
        with t.trace_on(d, "-p", "icmp", "--addr", t.topo.b4, "--wait-attached") as s:
            err = s.err.text()
            check("events start when all are" in err and "probes attached after" in err,
                  f"--wait-attached: stderr {err!r}")
            t.topo.ping(t.topo.a, t.topo.b4, count=2)
            s.wait_event(lambda ev: skbt.involves(ev, t.topo.b4), what="an ICMP event")
        check("coverage: all" in s.result.stderr, f"summary: {s.result.stderr!r}")
        # The protocol's records: started.attach, then progress until complete.
        _wait_idle(d)
        params = _trace_records(d, {"filter": {"proto": "icmp"}, "duration": 1})
        started = [p["started"] for p in params if "started" in p]
        progress = [p["progress"] for p in params if "progress" in p]
        summary = [p["summary"] for p in params if "summary" in p]
        check(started and started[0]["attach"]["total"] > 0 and
              started[0]["attach"]["attached"] < started[0]["attach"]["total"],
              f"started.attach after an idle detach: {started}")
        check(progress and progress[-1]["complete"] and
              progress[-1]["attached"] + progress[-1]["failed"] == progress[-1]["total"],
              f"progress records: {progress}")
        check(summary and summary[0]["coverage"]["total"] == progress[-1]["total"] and
              "full_ms" in summary[0]["coverage"], f"summary coverage: {summary}")
        d.stop()
    finally:
        if d.running():
            d.kill()


def test_ended_session_cancels_queued_attaches(t):
    """A session that ends while its probes are still queued leaves no attaching behind it
    (the worker drops what no session needs any more), and a session that comes right after
    and needs the same probes still gets every one of them."""
    # Right after start-up nothing is loaded: each probe's attach loads its program first,
    # slow enough for a 0.1 s session to end with most of its probes still queued.  The
    # tracepoint copies, one program per tracepoint: the shared programs (Linux 6.10+) are
    # a handful of loads, and with stamped copies that verify a third of what they did
    # (docs/performance.md, "Verified instructions per stamped copy") they were loaded
    # before the session's attaches, which then all ran within its 0.1 s.
    before = os.environ.get("SKBTRACED_NO_TP_SHARED")
    os.environ["SKBTRACED_NO_TP_SHARED"] = "1"
    try:
        d = t.new_daemon(["--idle-detach-after", "0"]).start()
    finally:
        if before is None:
            os.environ.pop("SKBTRACED_NO_TP_SHARED")
        else:
            os.environ["SKBTRACED_NO_TP_SHARED"] = before
    try:
        params = _trace_records(d, {"filter": {"proto": "icmp"}, "probes": "all",
                                    "duration": 0.1})
        total = [p["started"]["attach"]["total"] for p in params if "started" in p][0]
        skbt.wait_for(lambda: _att(d)["pending"] == 0, 60, "the attach queue to drain")
        st = _att(d)
        check(st["cancelled_total"] > 0 and st["attached_total"] < total,
              f"a 0.1 s session's {total} queued attaches all ran after it ended: {st}")
        # Queued, dropped, needed again: another short session, and right after it one
        # that needs the same probes gets full coverage.
        _trace_records(d, {"filter": {"proto": "icmp"}, "probes": "all", "duration": 0.1})
        with t.trace_on(d, "-p", "icmp", "--addr", t.topo.b4, "--probes", "all",
                        "--wait-attached") as s:
            t.topo.ping(t.topo.a, t.topo.b4, count=2)
            s.wait_event(lambda ev: skbt.involves(ev, t.topo.b4), what="an ICMP event")
        check("coverage: all" in s.result.stderr, f"summary: {s.result.stderr!r}\n"
              f"{_att(d)}")
        d.stop()
    finally:
        if d.running():
            d.kill()


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
