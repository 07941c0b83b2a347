#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_sessions.py - concurrent sessions, isolation, slow clients, limits, stop and shutdown.

Each session must receive exactly the events its own filter matches, whatever
the other 63 do; a client that stops reading costs only itself; a client that
goes away frees its slot at once; the limits say which limit was hit.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import skbt
from skbt import check, fail

N_SESSIONS = 64
PORT_BASE = 31000

# Send COUNT datagrams to each port in argv, round-robin.
_UDP_MULTI = r"""
import socket, sys, time
dst, count, ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    for p in ports:
        s.sendto(b"skbt", (dst, p))
    time.sleep(0.02)
"""


# ---------------------------------------------------------------------------
# helpers (this module only)

def dport_of(ev):
    return skbt.tuple_of(ev).get("dport")


def udp_multi(topo, ports, count):
    topo.ns_python(topo.a, _UDP_MULTI, topo.b4, count, *ports, timeout=60)


def sessions_of(d):
    return skbt.varlink_call(d.sock, "io.skbtraced.Sessions")["sessions"]


def varlink_error(path, method, parameters=None, more=False, timeout=10):
    """Call; return (error name, parameters) of the first reply (None if not an error)."""
    msg = {"method": method, "parameters": parameters or {}}
    if more:
        msg["more"] = True
    replies, _ = skbt.varlink_raw(path, json.dumps(msg).encode() + b"\0", timeout=timeout)
    check(replies, f"{method}: no reply")
    return replies[0].get("error"), replies[0].get("parameters", {})


def spawn_ctl(d, args, stdout, **kw):
    """ipftctl with our own stdout (a pipe we may never read); stderr is collected."""
    cmd = [d.ctl, "--socket", d.sock] + list(args)
    p = skbt._track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout,
                                     stderr=subprocess.PIPE, text=True, **kw))
    p.err = skbt.Reader(p.stderr)
    p.err.start()
    return p


def wait_started(p, what, timeout=20):
    """The session's id, once it is live with every probe it needs attached."""
    m = p.err.wait_line(r"Tracing \d+ probes \(session (\d+)\)", timeout, what, proc=p)
    if skbt.ATTACHING_RE.search(p.err.text()):
        p.err.wait_line(skbt.SETTLED_RE.pattern, timeout, f"{what}: its probes to attach", proc=p)
    return int(m.group(1))


def status_latency(d):
    t0 = time.monotonic()
    d.status()
    return time.monotonic() - t0


def wait_freed(d, before_active, timeout, what):
    """Seconds until the daemon and BPF both count fewer than before_active sessions."""
    t0 = time.monotonic()
    while True:
        st = d.status()["sessions"]
        if st["active"] < before_active and st["bpf_active"] < before_active:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            fail(f"{what}: sessions still {st} after {timeout} s")
        time.sleep(0.002)


# ---------------------------------------------------------------------------

def test_64_sessions_each_sees_only_its_own(t):
    """64 sessions, 64 disjoint flows: each gets its own flow's events and nothing else."""
    topo, d = t.topo, t.d
    ports = [PORT_BASE + i for i in range(N_SESSIONS)]
    sink = topo.udp_sink(topo.b, ports)
    sessions = []
    try:
        for p in ports:
            sessions.append(t.trace("-p", "udp", "--dport", str(p)).start())
        st = d.status()["sessions"]
        check(st["active"] == N_SESSIONS and st["bpf_active"] == N_SESSIONS,
              f"with {N_SESSIONS} sessions, status says {st}")
        listed = sessions_of(d)
        check(len(listed) == N_SESSIONS, f"Sessions lists {len(listed)}, want {N_SESSIONS}")
        check(sorted(s["filter"].get("dport") for s in listed) == ports,
              f"Sessions does not show the {N_SESSIONS} filters: "
              f"{sorted(s['filter_text'] for s in listed)[:5]}...")

        # A 65th: every slot is taken, and the error says which limit.
        err, params = varlink_error(d.sock, "io.skbtraced.Trace", {"filter": {"proto": "udp"}},
                                    more=True)
        check(err == "io.skbtraced.LimitReached" and params.get("limit") == "max_sessions",
              f"a 65th session: {err} {params}, want LimitReached/max_sessions")
        r = d.ctl_run(["trace", "-p", "udp"], timeout=10, check_rc=False)
        check(r.returncode == 1 and "max_sessions" in r.stderr,
              f"ipftctl trace as the 65th: status {r.returncode}, stderr {r.stderr.strip()!r}")

        udp_multi(topo, ports, 3)
        for p, s in zip(ports, sessions):
            s.wait_event(lambda ev, p=p: dport_of(ev) == p, timeout=10,
                         what=f"an event for dport {p}")
    finally:
        for s in sessions:
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGINT)
        results = [s.wait(timeout=30) for s in sessions]
        sink.kill()
    for p, r in zip(ports, results):
        check(r.rc == 0, f"session dport {p}: exit status {r.rc}\n{r.describe()}")
        others = [ev for ev in r.events if skbt.proto_of(ev) != "udp" or dport_of(ev) != p]
        check(not others, f"session for dport {p} got {len(others)} events of other flows, "
              f"e.g. {others[:2]}")
        check(len(r.events) >= 3, f"session for dport {p} got {len(r.events)} events, want the "
              f"3 datagrams at least once each\n{r.describe(5)}")
        check(r.summary and r.summary["lost"] == 0, f"session dport {p} lost events\n"
              f"{r.describe(5)}")
    skbt.log(f"{N_SESSIONS} sessions: {sum(len(r.events) for r in results)} events in total, "
             "each only its own")
    skbt.wait_for(lambda: d.active_sessions() == 0, 5, "all 64 sessions to end")


def test_overlapping_filters_share_packets(t):
    """Overlapping filters both see the shared packets; disjoint ones only their own."""
    topo = t.topo
    p1, p2 = PORT_BASE + 100, PORT_BASE + 101
    sink = topo.udp_sink(topo.b, [p1, p2])
    try:
        with t.trace("-p", "udp", "--addr", topo.b4) as wide, \
                t.trace("-p", "udp", "--dport", str(p1)) as s1, \
                t.trace("-p", "udp", "--dport", str(p2)) as s2:
            udp_multi(topo, [p1, p2], 3)
            s1.wait_event(lambda ev: dport_of(ev) == p1, what=f"dport {p1}")
            s2.wait_event(lambda ev: dport_of(ev) == p2, what=f"dport {p2}")
            wide.wait_event(lambda ev: dport_of(ev) == p2, what=f"dport {p2} in the wide one")
    finally:
        sink.kill()
    rw, r1, r2 = wide.result, s1.result, s2.result

    def keys(evs):
        return {(ev["packet_id"], ev["timestamp"], ev["function"]) for ev in evs}

    check(r1.events and all(dport_of(ev) == p1 for ev in r1.events),
          f"session dport {p1}: wrong or no events\n{r1.describe()}")
    check(r2.events and all(dport_of(ev) == p2 for ev in r2.events),
          f"session dport {p2}: wrong or no events\n{r2.describe()}")
    check(not keys(r1.events) & keys(r2.events), "disjoint sessions share events")
    wide_keys = keys(ev for ev in rw.events if dport_of(ev) in (p1, p2))
    check(keys(r1.events) <= wide_keys and keys(r2.events) <= wide_keys,
          f"the wide session (addr {topo.b4}) misses events the narrow ones saw: "
          f"{len(keys(r1.events) - wide_keys)} of dport {p1}, "
          f"{len(keys(r2.events) - wide_keys)} of dport {p2}")


def _flood(topo, count=4000):
    """ICMP flood a -> b: thousands of events a second for a session on it."""
    return topo.ns_spawn(topo.a, ["ping", "-f", "-q", "-n", "-c", str(count), "-s", "200",
                                  topo.b4])


def max_per_probe(events):
    per_probe = {}
    for ev in events:
        per_probe[ev["function"]] = per_probe.get(ev["function"], 0) + 1
    return max(per_probe.values(), default=0)


def _healthy_session_checks(r, port, n):
    check(r.rc == 0, f"healthy session: exit status {r.rc}\n{r.describe()}")
    check(r.summary is not None and r.summary["lost"] == 0,
          f"the healthy session lost events next to a stalled one\n{r.describe(5)}")
    check(all(dport_of(ev) == port for ev in r.events), "healthy session got foreign events")
    per_probe = {}
    for ev in r.events:
        per_probe[ev["function"]] = per_probe.get(ev["function"], 0) + 1
    check(per_probe and max(per_probe.values()) >= n,
          f"healthy session: want each of the {n} datagrams at some probe, got {per_probe}")


def test_stalled_client_does_not_stall_others(t):
    """'ipftctl trace ... | sleep 600' under a flood: the daemon and the other session go on."""
    topo = t.topo
    d = t.new_daemon(["--queue-size", "64"]).start()
    port, n = PORT_BASE + 200, 50
    sink = topo.udp_sink(topo.b, [port])
    cmd = (f"exec {d.ctl} --socket {d.sock} trace -p icmp --addr {topo.b4} -o json "
           f"| sleep 600")
    stalled = skbt._track(subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                           text=True, start_new_session=True))
    try:
        skbt.wait_for(lambda: len(sessions_of(d)) == 1, 20, "the stalled session to start")
        stalled_id = sessions_of(d)[0]["session"]
        with t.trace_on(d, "-p", "udp", "--dport", str(port)) as healthy:
            flood = _flood(topo)
            sender = topo.udp_spawn(topo.a, topo.b4, port, count=n, interval=0.02)
            worst = 0.0
            while flood.poll() is None or sender.poll() is None:
                worst = max(worst, status_latency(d))
                time.sleep(0.05)
            topo.wait_bg([flood, sender], timeout=60)
            # Every datagram delivered before the session ends (no race with the stop).
            skbt.wait_for(lambda: max_per_probe(healthy.events_so_far()) >= n, 10,
                          f"the healthy session to see all {n} datagrams")
        check(worst < 0.5, f"a status call took {worst:.3f} s during the flood: the daemon "
              f"stalls")
        _healthy_session_checks(healthy.result, port, n)

        def lost():
            for s in sessions_of(d):
                if s["session"] == stalled_id and s["lost_queue"] > 0:
                    return s
            return None

        s = skbt.wait_for(lost, 10, "the stalled session's lost_queue to grow")
        check(s["queued_bytes"] <= 64 * 1024 + 8192,
              f"the stalled session holds {s['queued_bytes']} bytes, over its 64 KiB queue")
        skbt.log(f"stalled session: {s['events']} events queued, {s['lost_queue']} dropped, "
                 f"{s['queued_bytes']} bytes held; status worst {worst * 1000:.1f} ms")
        check(d.status()["lost_queue"] >= s["lost_queue"], "status does not count queue losses")
    finally:
        os.killpg(stalled.pid, signal.SIGKILL)
        stalled.wait(10)
        sink.kill()
    dt = wait_freed(d, 1, 2, "killing the stalled client")
    check(dt <= 0.1, f"the killed stalled client's session was freed after {dt * 1000:.0f} ms")
    d.stop()


def test_max_queued_bounds_stalled_sessions(t):
    """Four clients stop reading under a flood: max_queued caps what they make the daemon hold.

    With --max-queued 1 (MiB) and the default 8 MiB queue_size, four stalled sessions could
    hold 32 MiB; past 1 MiB in all, those holding more than an equal share drop events instead
    (lost_queue), a session that keeps up loses nothing, and each stalled client, once it reads
    again, is told its losses in its summary.
    """
    topo = t.topo
    budget, n_stalled = 1 << 20, 4
    d = t.new_daemon(["--max-queued", "1"]).start()
    port, n = PORT_BASE + 210, 50
    sink = topo.udp_sink(topo.b, [port])
    stalled, pipes = [], []
    try:
        for _ in range(n_stalled):
            rfd, wfd = os.pipe()
            p = spawn_ctl(d, ["trace", "-p", "icmp", "--addr", topo.b4, "-o", "json"], wfd)
            os.close(wfd)
            stalled.append(p)
            pipes.append(rfd)
            wait_started(p, "a stalled session to start")
        rss0 = d.status()["memory"]["rss_bytes"]
        peak_rss, peak_queued, worst = rss0, 0, 0.0
        with t.trace_on(d, "-p", "udp", "--dport", str(port)) as healthy:
            flood = _flood(topo, count=6000)
            sender = topo.udp_spawn(topo.a, topo.b4, port, count=n, interval=0.02)
            while flood.poll() is None or sender.poll() is None:
                t0 = time.monotonic()
                st = d.status()
                worst = max(worst, time.monotonic() - t0)
                peak_rss = max(peak_rss, st["memory"]["rss_bytes"])
                peak_queued = max(peak_queued, sum(s["queued_bytes"] for s in sessions_of(d)))
                time.sleep(0.05)
            topo.wait_bg([flood, sender], timeout=60)
            skbt.wait_for(lambda: max_per_probe(healthy.events_so_far()) >= n, 10,
                          f"the healthy session to see all {n} datagrams")
        _healthy_session_checks(healthy.result, port, n)
        held = [s for s in sessions_of(d) if s["queued_bytes"] > 0]
        check(len(held) == n_stalled and all(s["lost_queue"] > 0 for s in held),
              f"want {n_stalled} stalled sessions with queue losses, got {held}")
        # Each session's check uses the total as of the last batch of ring-buffer records
        # (at most 1024): the total may pass the budget by what one batch adds.
        check(peak_queued <= budget + (2 << 20),
              f"stalled sessions held {peak_queued} bytes together, budget {budget}")
        check(peak_rss < rss0 + (16 << 20),
              f"daemon RSS grew from {rss0 >> 20} to {peak_rss >> 20} MiB with {n_stalled} "
              f"stalled sessions and max_queued 1 MiB")
        check(worst < 0.5, f"a status call took {worst:.3f} s during the flood")
        skbt.log(f"max_queued 1 MiB, {n_stalled} stalled: peak {peak_queued} bytes queued, "
                 f"lost_queue {[s['lost_queue'] for s in held]}, RSS {rss0 >> 20} -> "
                 f"{peak_rss >> 20} MiB, status worst {worst * 1000:.1f} ms")
        # The stalled clients read again: each summary counts what its session dropped.
        for p, rfd in zip(stalled, pipes):
            threading.Thread(target=lambda fd=rfd: _drain(fd), daemon=True).start()
        skbt.wait_for(lambda: all(s["queued_bytes"] == 0 for s in sessions_of(d)), 30,
                      "the stalled queues to drain")
        for p in stalled:
            p.send_signal(signal.SIGINT)
        for p in stalled:
            rc = p.wait(20)
            p.err.join(10)
            m = skbt.SUMMARY_RE.search(p.err.text())
            check(rc == 0 and m and int(m.group(4)) > 0,
                  f"stalled client: exit status {rc}, want a summary with queue losses, "
                  f"stderr {p.err.text()[-300:]!r}")
    finally:
        for p in stalled:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        for rfd in pipes:
            os.close(rfd)
        sink.kill()
    d.stop()


def _drain(fd):
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def test_slow_reader_is_told_its_losses(t):
    """A client that reads too slowly gets its queue losses reported, live and in the summary."""
    topo = t.topo
    d = t.new_daemon(["--queue-size", "64"]).start()
    rfd, wfd = os.pipe()
    p = spawn_ctl(d, ["trace", "-p", "icmp", "--addr", topo.b4, "-o", "json"], wfd)
    os.close(wfd)
    drained = []
    try:
        wait_started(p, "the slow session to start")
        flood = _flood(topo)
        topo.wait_bg([flood], timeout=60)
        skbt.wait_for(lambda: sessions_of(d)[0]["lost_queue"] > 0, 10, "queue losses")

        def drain():
            while True:
                b = os.read(rfd, 65536)
                if not b:
                    break
                drained.append(len(b))

        th = threading.Thread(target=drain, daemon=True)
        th.start()
        # Let it catch up, then end it like Ctrl-C does.
        skbt.wait_for(lambda: sessions_of(d)[0]["queued_bytes"] == 0, 20, "the queue to drain")
        p.send_signal(signal.SIGINT)
        rc = p.wait(20)
        p.err.join(10)
        th.join(10)
    finally:
        if p.poll() is None:
            p.kill()
        os.close(rfd)
    err = p.err.text()
    m = skbt.SUMMARY_RE.search(err)
    check(rc == 0 and m, f"slow reader: exit status {rc}, stderr {err!r}")
    check(int(m.group(4)) > 0, f"the summary reports no queue losses: {m.group(0)}")
    check("events lost so far" in err, f"no live loss warning on stderr: {err!r}")
    skbt.log(f"slow reader: {m.group(0)}; read {sum(drained)} bytes")
    d.stop()


def test_killed_clients_free_their_slots_fast(t):
    """kill -9 of a client, or a plain close, frees the session and its BPF slot in 100 ms."""
    d = t.d
    clients = [t.trace("-p", "icmp", "--addr", f"10.250.0.{i}").start() for i in range(1, 6)]
    for s in clients:
        before = d.status()["sessions"]["active"]
        s.proc.kill()
        dt = wait_freed(d, before, 2, "kill -9 of a client")
        check(dt <= 0.1, f"kill -9: the session was freed after {dt * 1000:.0f} ms, want "
              f"<= 100 ms")
        s.proc.wait(5)
    # A script that closes its socket without a word.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(d.sock)
        c.sendall(b'{"method":"io.skbtraced.Trace","more":true,"parameters":{}}\0')
        msgs, _ = skbt._read_messages(c, count=1)
        check("started" in msgs[0].get("parameters", {}), f"raw Trace: {msgs}")
        before = d.status()["sessions"]["active"]
    dt = wait_freed(d, before, 2, "closing the socket")
    check(dt <= 0.1, f"close: the session was freed after {dt * 1000:.0f} ms")
    st = d.status()["sessions"]
    check(st["active"] == 0 and st["bpf_active"] == 0, f"sessions left over: {st}")


def test_client_not_reading_replies_is_bounded(t):
    """Requests from a client that does not read its replies wait: queued replies stay bounded."""
    d, n = t.d, 100
    rss0 = d.status()["memory"]["rss_bytes"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(d.sock)
        c.sendall(b'{"method":"io.skbtraced.List"}\0' * n)
        skbt.wait_for(lambda: d.status()["memory"]["queued_bytes"] > 0, 5, "replies to queue")
        worst = max(d.status()["memory"]["queued_bytes"] for _ in range(10))
        check(worst <= 2 << 20, f"{worst} bytes of replies queued for a client that does not "
              f"read, want at most 2 MiB")
        check(status_latency(d) < 0.5, "the daemon is slow to others meanwhile")
        # Every request is answered, in order, once it reads.
        msgs, _ = skbt._read_messages(c, count=n, timeout=60)
        check(len(msgs) == n and all("probes" in m.get("parameters", {}) for m in msgs),
              f"{len(msgs)} of {n} List replies")
    rss = d.status()["memory"]["rss_bytes"]
    check(rss < rss0 + (32 << 20), f"daemon RSS grew from {rss0} to {rss} bytes")


def test_sessions_list_and_stop(t):
    topo, d = t.topo, t.d
    with t.trace("-p", "icmp", "--addr", topo.b4, "-t", "drop") as s1, \
            t.trace("-p", "tcp", "--port", "80", "-r", "^net:") as s2:
        listed = {s["session"]: s for s in sessions_of(d)}
        check(len(listed) == 2, f"Sessions lists {len(listed)}, want 2: {listed}")
        by_pid = {s["pid"]: s for s in listed.values()}
        check(s1.proc.pid in by_pid and s2.proc.pid in by_pid,
              f"Sessions shows pids {sorted(by_pid)}, the clients are {s1.proc.pid} and "
              f"{s2.proc.pid}")
        a, b = by_pid[s1.proc.pid], by_pid[s2.proc.pid]
        check(a["uid"] == 0 and a["tracer"] == "drop" and a["filter"] == {"proto": "icmp",
              "addr": topo.b4}, f"session 1 described as {a}")
        check(b["tracer"] == "function" and b.get("regex") == "^net:" and b["filter"]["port"] == 80,
              f"session 2 described as {b}")
        for s in (a, b):
            for key in ("started_usec", "duration_ns", "events", "lost_ringbuf", "lost_queue",
                        "lost_rate", "probes", "filter_text"):
                check(key in s, f"Sessions entry has no {key}: {s}")
            check(abs(s["started_usec"] / 1e6 - time.time()) < 60,
                  f"started_usec {s['started_usec']} is not now")

        r = d.ctl_run(["sessions"])
        check(re.search(rf"^\s*{a['session']}\s+root\s+{s1.proc.pid}\s+drop\s", r.stdout, re.M),
              f"'ipftctl sessions' table does not show session {a['session']}:\n{r.stdout}")
        check("2 sessions" in r.stderr, f"'ipftctl sessions' count: {r.stderr!r}")
        r = d.ctl_run(["sessions", "-o", "json"])
        check(len(r.stdout.splitlines()) == 2, f"sessions -o json: {r.stdout!r}")

        r = d.ctl_run(["stop", str(a["session"])])
        check(f"stopped session {a['session']}" in r.stdout, f"ipftctl stop: {r.stdout!r}")
        r1 = s1.wait(timeout=10)
        check(r1.rc == 0 and "stopped by an operator" in r1.stderr,
              f"the stopped client should exit 0 and say why\n{r1.describe()}")
        check([s["session"] for s in sessions_of(d)] == [b["session"]],
              f"after stop: {sessions_of(d)}")

        r = d.ctl_run(["stop", "999999"], check_rc=False)
        check(r.returncode == 1 and "no session 999999" in r.stderr,
              f"stop of an unknown id: {r.returncode} {r.stderr!r}")
        for bad in ("0", "abc", "-1", "1x", "99999999999999999999"):
            r = d.ctl_run(["stop", bad], check_rc=False)
            check(r.returncode == 2 and bad.lstrip("-") in r.stderr, f"stop {bad!r}: {r.returncode} "
                  f"{r.stderr!r}")
        err, params = varlink_error(d.sock, "io.skbtraced.Stop", {"session": "1"})
        check(err == "org.varlink.service.InvalidParameter" and params.get("parameter") == "session",
              f"Stop with a string id: {err} {params}")
        err, params = varlink_error(d.sock, "io.skbtraced.Sessions", {"all": True})
        check(err == "org.varlink.service.InvalidParameter", f"Sessions with junk: {err} {params}")


def test_limits(t):
    """max_sessions, max_duration and rate_limit: a clear error, or a clear end."""
    topo = t.topo
    # Every probe attached up front: the sessions' short durations run from their start, and
    # a session waiting for probes to attach would see less of the flood than it lasts.
    d = t.new_daemon(["--max-sessions", "3", "--max-duration", "2", "--rate-limit", "20",
                      "--keep-attached", "all"]).start()
    usable = d.status()["tracepoints"]["usable"]
    skbt.wait_for(lambda: d.status()["tracepoints"]["linked"] == usable, 30,
                  "keep_attached = all to attach every tracepoint")
    st = d.status()
    check(st["limits"]["max_sessions"] == 3 and st["limits"]["max_duration"] == 2
          and st["limits"]["rate_limit"] == 20, f"status limits: {st['limits']}")

    # max_duration: a longer duration is refused; no duration gets the limit.
    r = d.ctl_run(["trace", "-p", "icmp", "--duration", "5"], check_rc=False, timeout=10)
    check(r.returncode == 1 and "max_duration" in r.stderr and "at most 2 s" in r.stderr,
          f"--duration 5 over max_duration 2: {r.returncode} {r.stderr!r}")
    s = t.trace_on(d, "-p", "icmp", "--addr", topo.b4).start()
    res = s.wait(timeout=10)
    elapsed = s.t_end - s.t_start
    check(res.rc == 0 and 1.8 <= elapsed <= 4.5, f"max_duration 2: ended after {elapsed:.1f} s "
          f"with {res.rc}\n{res.describe()}")
    check("max_duration" in res.stderr, f"the client does not say why it ended:\n{res.stderr}")

    # rate_limit: a flood yields about 20 events a second (+ a 1 s burst), the rest counted.
    s = t.trace_on(d, "-p", "icmp", "--addr", topo.b4, "--duration", "1.5").start()
    flood = _flood(topo, count=3000)
    res = s.wait(timeout=15)
    topo.wait_bg([flood], timeout=60)
    check(res.rc == 0, f"rate-limited session: {res.rc}\n{res.describe(3)}")
    check(len(res.events) <= 20 * 1.5 + 20 + 5,
          f"rate limit 20/s: {len(res.events)} events in 1.5 s\n{res.describe(3)}")
    m = re.search(r"(\d+) dropped over the rate limit", res.stderr)
    check(m and int(m.group(1)) > 100, f"rate-limited events are not reported: {res.stderr!r}")
    check("Rate limit: 20 events per second" in res.stderr, f"no rate notice: {res.stderr!r}")

    # max_sessions 3: the 4th is refused with the limit's name.
    held = [t.trace_on(d, "-p", "udp", "--dport", str(9000 + i)).start() for i in range(3)]
    err, params = varlink_error(d.sock, "io.skbtraced.Trace", {}, more=True)
    check(err == "io.skbtraced.LimitReached" and params.get("limit") == "max_sessions"
          and "3 sessions" in params.get("message", ""), f"4th session: {err} {params}")
    for s in held:
        s.interrupt()
    d.stop()


def test_connection_limit(t):
    d = t.new_daemon(["--max-connections", "4"]).start()
    socks = []
    try:
        for _ in range(4):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(d.sock)
            socks.append(c)
        err, params = varlink_error(d.sock, "io.skbtraced.Status")
        check(err == "io.skbtraced.LimitReached" and params.get("limit") == "max_connections",
              f"5th connection: {err} {params}")
    finally:
        for c in socks:
            c.close()
    skbt.wait_for(lambda: varlink_error(d.sock, "io.skbtraced.Status")[0] is None, 5,
                  "connections to be served again after the others closed")
    d.stop()


def test_status_shows_memory_and_counts(t):
    d = t.d
    st = d.status()
    for key in ("uptime_ns", "backend", "probes", "sessions", "events", "lost_ringbuf",
                "lost_queue", "lost_rate", "memory", "limits", "connections"):
        check(key in st, f"Status has no {key}")
    mem = st["memory"]
    check(mem["rss_bytes"] > 1 << 20, f"rss_bytes {mem['rss_bytes']}")
    check(mem["bpf_map_bytes"] > 0 and mem["bpf_maps"] > 0, f"BPF map memory: {mem}")
    r = d.ctl_run(["status"])
    for label in ("uptime:", "backend:", "probes:", "sessions:", "events:", "lost:", "memory:"):
        check(re.search(rf"^{label}", r.stdout, re.M), f"'ipftctl status' has no {label}:\n"
              f"{r.stdout}")
    check(re.search(r"^memory:\s+[0-9.]+ MiB resident, [0-9.]+ [KMG]iB in \d+ BPF maps",
                    r.stdout, re.M), f"memory line:\n{r.stdout}")


def test_sigterm_ends_every_session(t):
    """SIGTERM: each client gets its summary (with counters), the daemon exits within 1 s."""
    topo = t.topo
    d = t.new_daemon().start()
    sessions = [t.trace_on(d, "-p", "icmp", "--addr", topo.b4).start() for i in range(9)]
    stalled = skbt._track(subprocess.Popen(
        ["sh", "-c", f"exec {d.ctl} --socket {d.sock} trace -p icmp | sleep 600"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True))
    try:
        skbt.wait_for(lambda: d.active_sessions() == 10, 20, "10 sessions")
        topo.ping(topo.a, topo.b4, count=3, interval=0.05)
        sessions[-1].wait_event(lambda ev: True, what="an ICMP event")
        t0 = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            fail(f"skbtraced still running 5 s after SIGTERM\n{d.log_text()}")
        dt = time.monotonic() - t0
        check(rc == 0, f"exit status {rc} after SIGTERM\n{d.log_text()}")
        check(dt <= 1.0, f"skbtraced took {dt:.2f} s to exit after SIGTERM (with a stalled "
              f"client), want <= 1 s")
        for s in sessions:
            r = s.wait(timeout=5)
            check(r.rc == 0 and r.summary is not None and "shutting down" in r.stderr,
                  f"a client at shutdown: want a summary and the reason\n{r.describe(3)}")
        check(sessions[-1].result.summary["events"] > 0, "the counters in the summary are empty")
    finally:
        os.killpg(stalled.pid, signal.SIGKILL)
        stalled.wait(10)


def test_daemon_restart_with_client_attached(t):
    """A client never hangs when its daemon goes: it exits with a message saying so."""
    topo = t.topo
    d = t.new_daemon().start()
    sock = d.sock
    s = t.trace_on(d, "-p", "icmp", "--addr", topo.b4).start()
    d.terminate()
    r = s.wait(timeout=5)
    check(r.rc == 0 and "skbtraced is shutting down" in r.stderr,
          f"client after the daemon's SIGTERM\n{r.describe(3)}")

    d2 = t.new_daemon()
    d2.sock = sock
    d2.start()
    s = t.trace_on(d2, "-p", "icmp", "--addr", topo.b4).start()
    topo.ping(topo.a, topo.b4, count=1)
    s.wait_event(lambda ev: True, what="an event from the restarted daemon")
    t0 = time.monotonic()
    d2.kill()
    r = s.wait(timeout=5)
    dt = time.monotonic() - t0
    check(r.rc == 1 and "connection to skbtraced lost" in r.stderr,
          f"client after the daemon was killed: want status 1 and a clear message\n"
          f"{r.describe(3)}")
    check(dt < 2, f"the client took {dt:.1f} s to notice the daemon died")
    check(r.events, "the restarted daemon delivered nothing")


if __name__ == "__main__":
    skbt.main(globals())
