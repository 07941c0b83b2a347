#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_record.py - trace -w records a session; show renders it as the live sessions showed it."""

import glob
import json
import os
import shutil
import signal
import subprocess
import time

import skbt
from skbt import check

FORMATS = ("text", "json", "aggregate", "aggregate-json", "crossings")


def _show(t, *args, check_rc=True):
    return skbt.run([t.d.ctl, "show"] + list(args), timeout=60, check_rc=check_rc)


def _blocks(text):
    """Aggregate text output as a sorted list of blocks (live prints them as they end)."""
    return sorted(b.strip("\n") for b in text.split("\n\n") if b.strip())


def _lines_sorted(text):
    return sorted(ln for ln in text.splitlines() if ln.strip())


def _tshark(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                          "-e", "frame.comment", "-e", "frame.interface_id", "-e",
                          "frame.cap_len", "-e", "frame.len", "-e", "data.data", "-e", "ip.src",
                          "-e", "ip.dst"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"tshark cannot read {path}: {out.stderr}")
    return out.stdout.splitlines()


def _first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at line {i + 1}:\n  live: {x!r}\n  show: {y!r}"
    return f"lengths differ: live {len(a)}, show {len(b)}"


def _same(what, live, shown):
    check(live == shown, f"{what}: ipftctl show differs from the live session "
          f"({len(live)} vs {len(shown)} items); {_first_diff(live, shown)}")


def _start_pcapng(t, args, path):
    cmd = [t.d.ctl, "--socket", t.d.sock, "trace"] + args + ["-o", "pcapng"]
    with open(path, "wb") as f:
        return skbt._track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
                                            stderr=subprocess.PIPE, text=True))


def test_record_every_format(t):
    """One recording, rendered in every format, against live sessions of the same events."""
    topo = t.topo
    check(shutil.which("tshark"), "tshark is needed (scripts/install-deps.sh installs it)")
    rec = os.path.join(t.workdir, "every.jsonl.zst")
    live_png = os.path.join(t.workdir, "live.pcapng")
    # Custom fields and conntrack too: the tails of a record, in every format.
    filt = ["-p", "icmp", "--addr", topo.b4, "--track", "--ct", "-F", "len,mark"]
    before = t.d.active_sessions()
    live = {fmt: t.trace(*filt, output=fmt).start() for fmt in FORMATS}
    png = _start_pcapng(t, filt, live_png)
    # The recording shows aggregate blocks meanwhile: rendered by ipftctl from the JSON.
    recording = t.trace(*filt, "-w", rec, output="aggregate").start()
    try:
        skbt.wait_for(lambda: t.d.active_sessions() == before + len(FORMATS) + 2, 10,
                      "every session to be live")
        topo.ping_ab(count=4)
        live["json"].wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0 and
                                ev["function"] == "net:netif_receive_skb", what="the last reply")
        # Past the aggregate linger (200 ms): live blocks end as "freed", as offline ones do.
        time.sleep(0.8)
    finally:
        png.send_signal(signal.SIGINT)
        png_err = png.communicate(timeout=15)[1]
        results = {fmt: s.interrupt() for fmt, s in live.items()}
        rres = recording.interrupt()
    check(rres.rc == 0, f"the recording session failed\n{rres.describe()}")
    check(png.returncode == 0, f"live pcapng session failed: {png_err}")
    check(f"Recording to {rec}" in rres.stderr, f"no 'Recording to' notice: {rres.stderr}")
    events = results["json"].events
    check(len(events) >= 8, f"too few events to compare\n{results['json'].describe()}")

    shown = {fmt: _show(t, rec, "-o", fmt) for fmt in FORMATS}
    _same("text", results["text"].stdout.splitlines(), shown["text"].stdout.splitlines())
    _same("json", results["json"].stdout.splitlines(), shown["json"].stdout.splitlines())
    _same("aggregate", _blocks(results["aggregate"].stdout), _blocks(shown["aggregate"].stdout))
    _same("aggregate-json", _lines_sorted(results["aggregate-json"].stdout),
          _lines_sorted(shown["aggregate-json"].stdout))
    _same("crossings", results["crossings"].stdout.splitlines(),
          shown["crossings"].stdout.splitlines())
    # What the recording client showed while recording: the live aggregate blocks too.
    _same("aggregate shown while recording", _blocks(results["aggregate"].stdout),
          _blocks(rres.stdout))
    check(len(_blocks(shown["aggregate"].stdout)) >= 8, "too few aggregate blocks to compare")

    # pcapng: the same packets and comments (timestamps: each session's own clock offset).
    show_png = os.path.join(t.workdir, "show.pcapng")
    with open(show_png, "wb") as f:
        r = subprocess.run([t.d.ctl, "show", rec, "-o", "pcapng"], stdout=f,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 0, f"show -o pcapng failed: {r.stderr}")
    _same("pcapng", _tshark(live_png), _tshark(show_png))

    # The summary is in the file, and show says it.
    summary = shown["text"].stderr
    check(f"recorded {len(events)} events, 0 lost" in summary,
          f"show's summary does not give the recorded count ({len(events)}): {summary}")
    info = _show(t, "--info", rec).stdout
    for want in ("recording ", "daemon    skbtraced", "request", f"{len(events)} in the file"):
        check(want in info, f"--info lacks {want!r}:\n{info}")


def test_show_filters(t):
    """Filters on recorded events select what the same filter selects live."""
    topo = t.topo
    rec = os.path.join(t.workdir, "filters.jsonl")
    with t.trace("-p", "icmp", "--addr", topo.b4, "--track", "-w", rec) as s:
        topo.ping_ab(count=3)
        s.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0, what="a reply")
        time.sleep(0.3)
    everything = [json.loads(ln) for ln in _show(t, rec, "-o", "json").stdout.splitlines()]
    check(everything and all(ev["tuple"]["proto"] == "icmp" for ev in everything),
          f"the recording has other events than the session's filter: {everything[:3]}")
    replies = [json.loads(ln) for ln in
               _show(t, rec, "-o", "json", "-s", topo.b4).stdout.splitlines()]
    # With track ids, a journey is followed from its first matching event on (as --track).
    want, followed = [], set()
    for ev in everything:
        if ev["track_id"] in followed or ev["tuple"]["saddr"] == topo.b4:
            followed.add(ev["track_id"])
            want.append(ev)
    check(replies == want, f"-s {topo.b4}: {len(replies)} events, want {len(want)}")
    rx = [json.loads(ln) for ln in
          _show(t, rec, "-o", "json", "-r", "^net:netif_receive").stdout.splitlines()]
    check(rx and all(ev["function"].startswith("net:netif_receive") for ev in rx),
          f"-r ^net:netif_receive: {[ev['function'] for ev in rx][:5]}")
    tid = everything[0]["track_id"]
    one = [json.loads(ln) for ln in
           _show(t, rec, "-o", "json", "--track-id", str(tid)).stdout.splitlines()]
    check(one == [ev for ev in everything if ev["track_id"] == tid],
          f"--track-id {tid}: {len(one)} events")
    # A window from the first reply on: no earlier event.
    first_reply = next(ev for ev in everything if ev["icmp"]["type"] == 0)
    r = _show(t, rec, "-o", "json", "--udp-is-not-an-option", check_rc=False)
    check(r.returncode == 2 and "unrecognized option" in r.stderr, f"bad option: {r.stderr}")
    none = _show(t, rec, "-o", "json", "--since", "+100000").stdout
    check(none == "", f"--since +100000 s shows events: {none[:200]}")
    later = [json.loads(ln) for ln in _show(t, rec, "-o", "json", "--since", "+0").stdout
             .splitlines()]
    check(later == everything, "--since +0 leaves events out")
    check(first_reply["timestamp"] > everything[0]["timestamp"], "replies came first?")


def test_rotation_by_size(t):
    """--rotate-size: parts of about that size, each with the header; together the session."""
    topo = t.topo
    base = os.path.join(t.workdir, "rot.jsonl")
    filt = ["-p", "icmp", "--addr", topo.b4]
    with t.trace(*filt) as live:
        with t.trace(*filt, "-w", base, "--rotate-size", "8K", output="text") as s:
            topo.ping_ab(count=12, interval=0.05)
            live.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0 and
                            ev["icmp"]["seq"] >= 11, what="the last reply")
            time.sleep(0.3)
        check(s.result.rc == 0, f"recording failed\n{s.result.describe()}")
    parts = sorted(glob.glob(os.path.join(t.workdir, "rot-*.jsonl")))
    check(len(parts) >= 3, f"expected several parts of 8 KiB, got {parts}")
    for i, p in enumerate(parts, 1):
        with open(p) as f:
            lines = f.read().splitlines()
        head = json.loads(lines[0])
        check(head.get("record") == "header" and head.get("part") == i,
              f"{p} does not start with the header of part {i}: {lines[0][:200]}")
        size = os.path.getsize(p)
        # A part ends with the first line past the size: one event line at most beyond it.
        check(size <= 8192 + max(len(x) + 1 for x in lines),
              f"{p} is {size} bytes for --rotate-size 8K")
        if i < len(parts):
            check(json.loads(lines[-1]).get("reason") == "rotate", f"{p} does not end rotated")
    shown = _show(t, *reversed(parts), "-o", "json").stdout.splitlines()
    _same("rotated parts, given in reverse", live.result.stdout.splitlines(), shown)
    # Without the first parts: what is there is shown, and the gap is said.
    r = _show(t, parts[0], parts[-1], "-o", "json")
    check("not given" in r.stderr, f"no warning about missing parts: {r.stderr}")


def test_rotate_keep_and_gzip(t):
    """--rotate-keep N keeps the newest N parts; gzip parts are standard gzip streams."""
    topo = t.topo
    base = os.path.join(t.workdir, "keep.jsonl.gz")
    # -o none: only the file, nothing shown.
    with t.trace("-p", "icmp", "--addr", topo.b4, "-w", base, "--rotate-age", "1",
                 "--rotate-keep", "2", output="none") as s:
        for _ in range(4):
            topo.ping_ab(count=1)
            time.sleep(1.1)
    check(s.result.rc == 0, f"recording failed\n{s.result.describe()}")
    check(s.result.stdout == "", f"-o none printed events: {s.result.stdout[:200]}")
    parts = sorted(glob.glob(os.path.join(t.workdir, "keep-*.jsonl.gz")))
    check(len(parts) == 2, f"--rotate-keep 2 left {parts}")
    for p in parts:
        z = skbt.run(["gzip", "-t", p], check_rc=False)
        check(z.returncode == 0, f"{p} is not a valid gzip file: {z.stderr}")
    r = _show(t, *parts, "-o", "json")
    check(r.stdout.strip(), f"nothing shown from {parts}: {r.stderr}")


def test_killed_recorder(t):
    """A recorder killed mid-session leaves a file show reads up to the cut, saying where."""
    topo = t.topo
    rec = os.path.join(t.workdir, "killed.jsonl.zst")
    s = t.trace("-p", "icmp", "--addr", topo.b4, "-w", rec, output="json").start()
    topo.ping_ab(count=3)
    s.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0 and ev["icmp"]["seq"] == 3,
                 what="the last reply")
    # Past the once-a-second flush, then no clean end at all.
    time.sleep(1.5)
    s.proc.kill()
    res = s.wait()
    r = _show(t, rec, "-o", "json", check_rc=False)
    check(r.returncode == 1, f"a cut-short zstd recording should fail: {r.returncode} {r.stderr}")
    check("truncated" in r.stderr and "byte" in r.stderr,
          f"the error does not say where the file was cut: {r.stderr}")
    _same("events before the cut", res.stdout.splitlines(), r.stdout.splitlines())


def test_corrupt_recordings(t):
    """Corrupt and truncated files: a message naming the offset, never a crash."""
    topo = t.topo
    rec = os.path.join(t.workdir, "good.jsonl")
    with t.trace("-p", "icmp", "--addr", topo.b4, "-w", rec) as s:
        topo.ping_ab(count=2)
        s.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0, what="a reply")
    data = open(rec, "rb").read()
    lines = data.split(b"\n")
    cases = {
        "cut.jsonl": (data[:len(data) - len(lines[-2]) // 2 - 1], "has no end"),
        "garbage.jsonl": (b"\n".join(lines[:3] + [b'{"packet_id":"0x1","timestamp":x}']
                                    + lines[3:]), "line 4 (at byte"),
        "notrec.jsonl": (b"hello\n", "not a recording"),
        "empty.jsonl": (b"", "empty"),
        "long.jsonl": (lines[0] + b"\n" + b"{" + b" " * (17 << 20) + b"\n", "longer than"),
    }
    for name, (content, want) in cases.items():
        path = os.path.join(t.workdir, name)
        with open(path, "wb") as f:
            f.write(content)
        r = _show(t, path, check_rc=False)
        check(r.returncode == 1, f"{name}: show exited {r.returncode}, want 1: {r.stderr}")
        check(want in r.stderr, f"{name}: error lacks {want!r}: {r.stderr}")
    zst = os.path.join(t.workdir, "flip.jsonl.zst")
    skbt.run(["zstd", "-q", "-f", rec, "-o", zst])
    buf = bytearray(open(zst, "rb").read())
    buf[len(buf) // 2] ^= 0xff
    open(zst, "wb").write(bytes(buf))
    r = _show(t, zst, check_rc=False)
    check(r.returncode == 1 and "corrupt zstd data at byte" in r.stderr,
          f"a flipped byte in zstd data: {r.returncode} {r.stderr}")


def test_sessions_and_refusals(t):
    """Sessions shows a recording; an existing file is never overwritten."""
    topo = t.topo
    rec = os.path.join(t.workdir, "listed.jsonl")
    with t.trace("-p", "icmp", "--addr", topo.b4, "-w", rec, output="text"):
        out = t.d.ctl_run(["sessions", "-o", "json"]).stdout
        listed = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
        check(any(s.get("record") is True for s in listed), f"no recording session in {listed}")
        table = t.d.ctl_run(["sessions"]).stdout
        check("(recorded)" in table, f"the sessions table does not mark the recording:\n{table}")
    r = t.d.ctl_run(["trace", "-p", "icmp", "-w", rec, "-c", "1"], check_rc=False)
    check(r.returncode == 1 and "exists already" in r.stderr,
          f"-w over an existing file: {r.returncode} {r.stderr}")
    r = t.d.ctl_run(["trace", "--rotate-size", "1M"], check_rc=False)
    check(r.returncode == 2 and "only with -w" in r.stderr, f"--rotate-size alone: {r.stderr}")


if __name__ == "__main__":
    skbt.main(globals())
