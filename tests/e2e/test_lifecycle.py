#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_lifecycle.py - no BPF program or link outlives the daemon; SIGTERM ends sessions cleanly."""

import re
import time

import skbt
from skbt import check


def _ours_now(before):
    """Our programs (name skbt_*) that were not there before, and the links using them."""
    progs = {i for i in skbt.our_prog_ids() if i not in before}
    links = {l for l, p in skbt.bpf_links().items() if p in progs}
    return progs, links


def _wait_gone(progs, links, timeout, what, daemon):
    """Programs and links are released when the last fd closes (asynchronously)."""
    left = None

    def gone():
        nonlocal left
        now_progs = set(skbt.bpf_progs())
        now_links = set(skbt.bpf_links())
        left = (progs & now_progs, links & now_links)
        return not left[0] and not left[1]

    try:
        skbt.wait_for(gone, timeout, f"BPF objects to go away after {what}", interval=0.2)
    except skbt.TestFailure:
        if left is None:
            raise
        skbt.fail(f"after {what}, still loaded: programs {sorted(left[0])}, links "
                  f"{sorted(left[1])}\n{skbt.run(['bpftool', 'prog', 'list']).stdout[-3000:]}\n"
                  f"{daemon.log_text(60)}")


def _start(t):
    before = skbt.our_prog_ids()
    # Probes are attached on demand: keep every one attached from the start, so that links
    # exist to be checked (and kept while idle).
    d = t.new_daemon(["--idle-detach-after", "never", "--keep-attached", "all"]).start()
    skbt.wait_for(lambda: d.status()["attach"]["pending"] == 0 and
                  d.status()["attach"]["linked"] > 0, 60, "the kept probes to be attached")
    progs, links = _ours_now(before)
    check(progs, "the running daemon has no BPF program named skbt_* "
          f"(bpftool prog list shows {sorted(set(skbt.bpf_progs().values()))[:30]})\n"
          f"{d.log_text(60)}")
    check(links, f"the daemon's programs {sorted(progs)} have no BPF link (bpftool link list)")
    skbt.log(f"daemon holds {len(progs)} programs and {len(links)} links")
    return d, progs, links


def test_sigkill_leaves_nothing(t):
    d, progs, links = _start(t)
    # With a live session too: its state is in maps, which must go as well.
    with t.trace_on(d, "-p", "icmp") as s:
        t.topo.ping(t.topo.a, t.topo.b4, count=1)
        d.kill()
        r = s.wait(timeout=15)
    check(r.rc != 0, f"the client should fail when the daemon is killed\n{r.describe()}")
    _wait_gone(progs, links, 15, "SIGKILL", d)


def test_sigterm_with_active_session(t):
    d, progs, links = _start(t)
    with t.trace_on(d, "-p", "icmp") as s:
        t.topo.ping(t.topo.a, t.topo.b4, count=2)
        t0 = time.monotonic()
        rc = d.terminate(timeout=5)
        r = s.wait(timeout=10)
    check(rc == 0, f"skbtraced exit status {rc} after SIGTERM, want 0\n{d.log_text()}")
    check(r.rc == 0, f"client exit status {r.rc} when the daemon shuts down, want 0\n"
          f"{r.describe()}")
    check(r.summary is not None, f"client printed no summary on shutdown\n{r.describe()}")
    check(re.search(r"shut(ting )?down", r.stderr, re.I),
          f"client does not say the session ended because of the daemon's shutdown\n"
          f"{r.describe()}")
    skbt.log(f"daemon and client done {time.monotonic() - t0:.2f} s after SIGTERM")
    _wait_gone(progs, links, 10, "SIGTERM", d)


def test_restart_after_sigkill(t):
    """A new daemon starts fine after one was killed (no stale socket or pins in the way)."""
    d, _, _ = _start(t)
    sock = d.sock
    d.kill()
    d2 = t.new_daemon()
    d2.sock = sock  # same socket path: the stale socket file must not stop it
    d2.start()
    with t.trace_on(d2, "-p", "icmp", "--addr", t.topo.b4) as s:
        t.topo.ping(t.topo.a, t.topo.b4, count=2)
        s.wait_event(lambda ev: skbt.involves(ev, t.topo.b4), what="an ICMP event")
    check(s.result.events, f"restarted daemon traced nothing\n{s.result.describe()}")
    d2.stop()


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
