#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_limits.py - --count and --duration, argument errors, daemon absent, bad requests."""

import json
import os
import time

import skbt
from skbt import check


def test_count(t):
    topo = t.topo
    s = t.trace("-p", "icmp", "--addr", topo.b4, "--count", "3").start()
    topo.ping(topo.a, topo.b4, count=5, interval=0.1)
    r = s.wait(timeout=20)
    check(r.rc == 0, f"--count 3: exit status {r.rc}, want 0\n{r.describe()}")
    check(len(r.events) == 3, f"--count 3 printed {len(r.events)} events\n{r.describe()}")
    skbt.check_schema_all(r.events)
    check(r.summary is not None and r.summary["events"] == 3,
          f"summary should say 3 events received\n{r.describe()}")


def test_duration(t):
    s = t.trace("-p", "icmp", "--addr", t.topo.b4, "--duration", "1").start()
    r = s.wait(timeout=15)
    elapsed = s.t_end - s.t_start
    check(r.rc == 0, f"--duration 1: exit status {r.rc}, want 0\n{r.describe()}")
    check(0.9 <= elapsed <= 3.5, f"--duration 1 ended after {elapsed:.2f} s, want 1 to 3 s")
    check(r.summary is not None, f"--duration 1: no summary on stderr\n{r.describe()}")
    check(0.9 <= r.summary["duration"] <= 3.5,
          f"summary duration {r.summary['duration']} s for --duration 1")


BAD_ARGS = [
    (["-p", "bogus"], "bogus"),
    (["--dport", "70000"], "70000"),
    (["--addr", "10.1.2.300"], "10.1.2.300"),
    (["--regex", "(unclosed"], "(unclosed"),
    (["--mask", "0xff"], "--mark"),
    (["--count", "0"], "0"),
    (["--duration", "-1"], "-1"),
    (["-4", "-6"], "-6"),
]


@skbt.needs_no_daemon
def test_bad_arguments(t):
    """Usage errors: exit 2 and a message naming the culprit, without contacting the daemon.

    The socket path does not exist: a client that tried to connect would fail
    with status 1 ("not running") instead of 2.
    """
    ctl = skbt.ipftctl_path()
    nowhere = os.path.join(t.workdir, "no-such-dir", "s.sock")
    for args, culprit in BAD_ARGS:
        r = skbt.run([ctl, "--socket", nowhere, "trace"] + args, timeout=10, check_rc=False)
        check(r.returncode == 2, f"ipftctl trace {' '.join(args)}: exit status {r.returncode}, "
              f"want 2 (usage error)\nstderr: {r.stderr.strip()}")
        check(culprit in r.stderr, f"ipftctl trace {' '.join(args)}: message does not mention "
              f"{culprit!r}: {r.stderr.strip()!r}")
        check(len(r.stderr.strip().splitlines()) <= 5,
              f"ipftctl trace {' '.join(args)}: a usage error should be short, got:\n{r.stderr}")
        check(r.stdout == "", f"ipftctl trace {' '.join(args)}: printed on stdout: {r.stdout!r}")
        check("not running" not in r.stderr,
              f"ipftctl trace {' '.join(args)} tried to reach the daemon: {r.stderr.strip()}")


@skbt.needs_no_daemon
def test_daemon_not_running(t):
    ctl = skbt.ipftctl_path()
    nowhere = os.path.join(t.workdir, "absent.sock")
    for sub in (["status"], ["trace", "-p", "icmp"], ["list"]):
        r = skbt.run([ctl, "--socket", nowhere] + sub, timeout=10, check_rc=False)
        check(r.returncode == 1, f"ipftctl {' '.join(sub)} without a daemon: exit status "
              f"{r.returncode}, want 1\nstderr: {r.stderr.strip()}")
        check("not running" in r.stderr, f"ipftctl {' '.join(sub)} without a daemon should say "
              f"it is not running: {r.stderr.strip()!r}")


def _error_reply(replies, eof, want, what):
    check(replies, f"{what}: no reply before the connection closed")
    rep = replies[0]
    check(rep.get("error") == want, f"{what}: reply {rep}, want error {want}")
    msg = rep.get("parameters", {}).get("message")
    check(isinstance(msg, str) and msg, f"{what}: error without a 'message': {rep}")
    check(eof, f"{what}: the daemon should close the connection after {want}")


def _still_serving(t, what):
    st = t.d.status()
    check("sessions" in st, f"after {what}: Status reply without sessions: {st}")
    r = t.d.ctl_run(["status"], check_rc=False, timeout=10)
    check(r.returncode == 0, f"after {what}: 'ipftctl status' failed ({r.returncode}): "
          f"{r.stderr.strip()}\n{t.d.log_text(40)}")


def test_malformed_request(t):
    for data, what in ((b"{not json}\0", "'{not json}'"),
                       (b'{"parameters": {}}\0', "a call without 'method'"),
                       (b'[1, 2, 3]\0', "a JSON array"),
                       (b'{"method": 42}\0', "a numeric method")):
        replies, eof = skbt.varlink_raw(t.d.sock, data, timeout=10, want_eof=True)
        _error_reply(replies, eof, "io.skbtraced.MalformedRequest", what)
        _still_serving(t, what)


def test_oversized_request(t):
    pad = "x" * (100 * 1024)
    data = json.dumps({"method": "io.skbtraced.Status", "parameters": {"pad": pad}}).encode()
    replies, eof = skbt.varlink_raw(t.d.sock, data + b"\0", timeout=10, want_eof=True)
    _error_reply(replies, eof, "io.skbtraced.RequestTooLarge", "a 100 KiB request")
    _still_serving(t, "a 100 KiB request")
    # The same without a terminating NUL: the daemon must not wait for one forever.
    t0 = time.monotonic()
    replies, eof = skbt.varlink_raw(t.d.sock, data, timeout=10, want_eof=True)
    _error_reply(replies, eof, "io.skbtraced.RequestTooLarge", "100 KiB without a NUL")
    check(time.monotonic() - t0 < 5, "RequestTooLarge took more than 5 s")
    _still_serving(t, "100 KiB without a NUL")


def test_protocol_errors(t):
    """Unknown method, unknown parameter, Trace without more: named errors, daemon fine."""
    cases = [
        ({"method": "io.skbtraced.NoSuchMethod"}, "org.varlink.service.MethodNotFound"),
        ({"method": "io.skbtraced.Trace", "parameters": {}}, "org.varlink.service.ExpectedMore"),
        ({"method": "io.skbtraced.Trace", "more": True,
          "parameters": {"filter": {"prot": "icmp"}}}, "org.varlink.service.InvalidParameter"),
        ({"method": "io.skbtraced.Trace", "more": True,
          "parameters": {"filter": {"dport": 70000}}}, "org.varlink.service.InvalidParameter"),
    ]
    for msg, want in cases:
        replies, _ = skbt.varlink_raw(t.d.sock, json.dumps(msg).encode() + b"\0", timeout=10)
        check(replies and replies[0].get("error") == want,
              f"{json.dumps(msg)}: reply {replies[:1]}, want error {want}")
        check(replies[0].get("parameters", {}).get("message"),
              f"{want} without a message: {replies[0]}")
    _still_serving(t, "protocol errors")


if __name__ == "__main__":
    skbt.main(globals())
