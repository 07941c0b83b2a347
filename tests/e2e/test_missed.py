#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_missed.py - probe runs the kernel skipped are reported as lost, never silently.

The trigger is real, not simulated: a UDP flood on the loopback of namespace A,
with RPS steering its receive to the receiver's CPU.  The receiver's recvmsg()
frees each datagram through the skb:consume_skb tracepoint in process context,
softirqs enabled; the sender's CPU kicks the receiver's with an IPI to run the
backlog, and on its way out of the interrupt NET_RX runs nested in that program
run.  Its tracepoints reach the same BPF program (the shared tracepoint
programs serve every tracepoint whose skb is the first argument), and the kernel
skips that run: it counts it in bpf_prog_info.recursion_misses (Linux 6.1+ for
raw tracepoints), which is what the daemon reads.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skbt  # noqa: E402
from skbt import check, fail, log  # noqa: E402

PORT = 9911
ROUNDS = 4
ROUND_SECONDS = 4

# Receiver pinned to CPU 1, sender to CPU 0, both on 127.0.0.1 in the namespace.
_FLOOD = r"""
import os, socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", port))
rx.settimeout(0.5)
pid = os.fork()
if pid == 0:
    os.sched_setaffinity(0, {0})
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for _ in range(200):
            try:
                tx.sendto(b"x" * 64, ("127.0.0.1", port))
            except OSError:
                pass
    os._exit(0)
os.sched_setaffinity(0, {1})
n = 0
end = time.monotonic() + secs + 0.5
while time.monotonic() < end:
    try:
        rx.recv(2048)
        n += 1
    except socket.timeout:
        pass
os.waitpid(pid, 0)
print("received", n, flush=True)
"""


def daemon_recursion_misses(d):
    """The kernel's own figure: recursion_misses of every BPF program the daemon holds
    (its fds' prog_id in /proc/PID/fdinfo, each read with bpftool)."""
    ids = set()
    fddir = f"/proc/{d.proc.pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:") and \
                            os.readlink(f"/proc/{d.proc.pid}/fd/{fd}") == "anon_inode:bpf-prog":
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    total = 0
    for i in sorted(ids):
        r = skbt.run(["bpftool", "prog", "show", "id", str(i), "-j"], check_rc=False)
        if r.returncode != 0:
            continue
        total += int(json.loads(r.stdout).get("recursion_misses", 0))
    return total, len(ids)


def flood(t, secs):
    r = t.topo.ns_python(t.topo.a, _FLOOD, PORT, secs, timeout=secs + 30)
    log(f"flood: {r.stdout.strip()}")


def test_skipped_runs_are_lost_events(t):
    """The kernel skips nested runs of a tracepoint program: Status, the session's summary
    and the kernel's own counters (bpftool) say how many."""
    if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        fail(f"needs CPUs 0 and 1 (the flood's sender and receiver): this test may use only "
             f"{sorted(os.sched_getaffinity(0))}")
    a = t.topo.a
    t.topo.ns_run(a, ["sh", "-c", "echo 2 > /sys/class/net/lo/queues/rx-0/rps_cpus"])
    # Its own daemon, detaching at once after a session: the programs stay loaded, unlinked.
    d = t.new_daemon(["--idle-detach-after", "0.2"]).start()
    sel = ("--probes", "all", "-r", r"^(net|skb):", "-p", "udp", "--port", str(PORT))
    before = d.status()["probes"]["missed_runs"]
    # A second session on a tracepoint whose skb is not the first argument (another program)
    # and that no packet here reaches: it loses nothing, whatever the first one loses.
    other = [p["name"] for p in d.list_probes() if p["kind"] == "tracepoint" and p["attached"]
             and p["name"].startswith("tcp:") and p["skb_arg"] != 1]
    check(other, "no tcp: tracepoint with its skb past the first argument here")
    with t.trace_on(d, *sel) as s, \
            t.trace_on(d, "--probes", "all", "-r", f"^{other[0]}$", "-p", "tcp") as quiet_s:
        for i in range(ROUNDS):
            flood(t, ROUND_SECONDS)
            st = d.status()
            if st["probes"]["missed_runs"] > before:
                break
            log(f"round {i + 1}: no run skipped yet")
        # Quiet now: the daemon's figure and the kernel's are read with nothing moving.
        st = d.status()
        missed = st["probes"]["missed_runs"]
        kernel, n_progs = daemon_recursion_misses(d)
        log(f"Status probes.missed_runs {missed} (from {before}); bpftool: {kernel} over the "
            f"daemon's {n_progs} programs")
        check(missed > before,
              f"no probe run skipped in {ROUNDS} floods of {ROUND_SECONDS} s: the trigger did "
              f"not work on this machine (Status {json.dumps(st['probes'])})")
        check(st["probes"]["missed_runs_uncounted"] is None,
              f"this kernel counts raw tracepoint misses, yet Status says "
              f"{st['probes']['missed_runs_uncounted']!r}")
        check(missed == kernel,
              f"Status says {missed} runs skipped, the kernel's counters of the daemon's "
              f"programs {kernel}")
        live = {x["probes"]: x["lost_missed"]
                for x in skbt.varlink_call(d.sock, "io.skbtraced.Sessions")["sessions"]}
        check(len(live) == 2 and live.get(1) == 0 and max(live.values()) > 0,
              f"the flooded session's lost_missed should count them, the one on {other[0]} "
              f"(1 probe) not: {live}")
    check(quiet_s.result.rc == 0 and (quiet_s.result.summary or {}).get("lost_missed") == 0,
          f"the session on {other[0]} lost runs it was not selected for: "
          f"{quiet_s.result.summary}")
    res = s.result
    check(res.rc == 0 and res.summary, f"no summary\n{res.describe()}")
    sm = res.summary
    log(f"summary: {sm}")
    check(0 < sm["lost_missed"] <= missed - before,
          f"the summary's 'skipped by the kernel' should be in 1..{missed - before}: {sm}")
    check(sm["lost"] == sm["lost_ringbuf"] + sm["lost_queue"] + sm["lost_missed"],
          f"the summary's lost total should add up its parts: {sm}")
    check("skipped by the kernel" in res.stderr and "events lost so far" in res.stderr,
          f"no live warning naming runs skipped by the kernel:\n{res.stderr}")
    total = d.status()["lost_missed"]
    check(total >= sm["lost_missed"],
          f"Status lost_missed {total} should include the ended session's {sm['lost_missed']}")

    # Detached after the linger, linked again by the next session: the same programs, whose
    # counters the kernel keeps; nothing skipped meanwhile is counted a second time.
    skbt.wait_for(lambda: d.status()["attach"]["idle"], 15, "the idle detach")
    quiet = d.status()["probes"]["missed_runs"]
    with t.trace_on(d, *sel):
        again = d.status()["probes"]
    log(f"after detach and re-attach: missed_runs {quiet} -> {again['missed_runs']} "
        f"({again['missed_runs_read']} objects read in {again['missed_runs_read_us']} us)")
    check(again["missed_runs"] == quiet,
          f"re-attaching the same programs counted their old misses again: {quiet} -> "
          f"{again['missed_runs']}")
    check(again["missed_runs_read"] > 0, f"Status says no program was read: {again}")
    d.stop()


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
