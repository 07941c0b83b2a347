#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_pcapng.py - -o pcapng: tshark reads the stream; packets and comments match the JSON."""

import collections
import os
import shutil
import subprocess
import time

import skbt
from skbt import check


def _tshark(path):
    """(comment, src, dst, icmp type, interface, captured len) per packet, via tshark."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                          "-e", "frame.comment", "-e", "ip.src", "-e", "ip.dst", "-e",
                          "icmp.type", "-e", "frame.interface_id", "-e", "frame.cap_len"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"tshark cannot read {path}: {out.stderr}")
    return [tuple(line.split("|")) for line in out.stdout.splitlines() if line]


def test_pcapng_matches_json(t):
    topo = t.topo
    check(shutil.which("tshark"), "tshark is needed (scripts/install-deps.sh installs it)")
    path = os.path.join(t.workdir, "trace.pcapng")
    filt = ["-p", "icmp", "--addr", topo.b4]
    cmd = [t.d.ctl, "--socket", t.d.sock, "trace"] + filt + ["-o", "pcapng"]
    with open(path, "wb") as f:
        png = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE,
                               text=True)
    try:
        skbt.wait_for(lambda: t.d.active_sessions() >= 1, 10, "the pcapng session to start")
        with t.trace(*filt) as s:
            topo.ping_ab(count=3)
            s.wait_event(lambda ev: ev.get("icmp", {}).get("type") == 0 and
                         ev["function"] == "net:netif_receive_skb", what="the last reply")
            time.sleep(0.3)
            png.send_signal(2)
            err = png.communicate(timeout=15)[1]
    finally:
        if png.poll() is None:
            png.kill()
    check(png.returncode == 0, f"ipftctl -o pcapng exited {png.returncode}: {err}")
    r = s.result
    check(r.events, f"no JSON events\n{r.describe()}")
    pkts = _tshark(path)
    # Both sessions get the same records in the same order (one ring buffer, fanned out).
    want = [f"{ev['function']} packet_id={ev['packet_id']}"
            + (f" track_id={ev['track_id']}" if "track_id" in ev else "") for ev in r.events]
    got = [p[0] for p in pkts]
    check(got == want, f"pcapng comments differ from the JSON events:\n only pcapng: "
          f"{collections.Counter(got) - collections.Counter(want)}\n only JSON: "
          f"{collections.Counter(want) - collections.Counter(got)}\n pcapng: {got[:8]}\n "
          f"JSON: {want[:8]}")
    for (comment, src, dst, icmp_type, ifid, caplen), ev in zip(pkts, r.events):
        tp = ev["tuple"]
        check((src, dst) == (tp["saddr"], tp["daddr"]),
              f"{comment}: tshark decodes {src} -> {dst}, JSON says {tp}")
        check(int(icmp_type) == ev["icmp"]["type"], f"{comment}: icmp type {icmp_type} vs {ev}")
        check(ifid in ("0", "1") and int(caplen) > 0, f"{comment}: interface {ifid} len {caplen}")
    check(any(p[4] == "1" for p in pkts), "no packet seen from the network header (raw IP)")


def test_pcapng_in_help(t):
    r = t.d.ctl_run(["trace", "--help"], timeout=10)
    check("pcapng" in r.stdout, "trace --help does not mention pcapng")


if __name__ == "__main__":
    skbt.main(globals())
