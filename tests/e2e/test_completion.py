#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_completion.py - ipftctl's bash completion offers the daemon's probe, group and session names.

Commands, options and fixed values are tests/unit/test_completion.sh's (no
daemon); here the names come from a running skbtraced, asked through the socket
given on the command line, as a user typing TAB would see them.
"""

import os
import subprocess

import skbt
from skbt import check

SCRIPT = os.path.join(skbt.TOP, "client", "bash-completion", "ipftctl")

# The completion as bash runs it, the unit test's driver (COMP_WORDS split at blanks and
# at ':' and '=', the cursor at the end of the line).
DRIVER = os.path.join(skbt.TOP, "tests", "unit", "complete_line.sh")


def complete(line):
    """The replies for LINE (after 'ipftctl '), as a set."""
    full = f"{skbt.ipftctl_path()} {line}"
    r = subprocess.run(["bash", "--norc", "--noprofile", DRIVER, SCRIPT],
                       env=dict(os.environ, COMPLETE_LINE=full), capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0 and not r.stderr, f"completion of {line!r}: status {r.returncode}, "
          f"stderr {r.stderr!r}")
    return {w for w in r.stdout.splitlines() if w}


def test_names_from_the_daemon(t):
    sock = t.d.sock
    # Groups: the tree's names, and after a comma the next one.
    got = complete(f"--socket {sock} trace -g link-")
    check({"link-in", "link-out"} <= got, f"-g link-: {sorted(got)}")
    got = complete(f"--socket {sock} trace --group ip-in,tc")
    check("ip-in,tcp" in got and all(w.startswith("ip-in,tc") for w in got),
          f"--group ip-in,tc: {sorted(got)}")
    # Probes: what 'ipftctl list' shows, tracepoint names too, where bash replaces only
    # the part after the ':'.
    listed = {ln.split()[0] for ln in t.d.ctl_run(["list"]).stdout.splitlines()[1:] if ln.strip()}
    check("net:netif_receive_skb" in listed, f"list has no net:netif_receive_skb: {sorted(listed)[:20]}")
    got = complete(f"--socket {sock} trace -r net:netif_rec")
    check("netif_receive_skb" in got and all(":" not in w for w in got),
          f"-r net:netif_rec: {sorted(got)}")
    got = complete(f"--socket {sock} trace -o aggregate --egress net:net_dev_q")
    check(got == {"net_dev_queue"}, f"--egress net:net_dev_q: {sorted(got)}")
    got = complete(f"--socket {sock} list -r ")
    check(len(got) >= len(listed) // 2 and "net:netif_receive_skb" in got,
          f"list -r offers {len(got)} names of the {len(listed)} listed")
    # Session ids for stop: the session running now.
    with t.d.trace("-p", "icmp") as s:
        sessions = t.d.ctl_run(["sessions", "-o", "json"]).stdout
        got = complete(f"--socket {sock} stop ")
        check(got and all(w.isdigit() and w in sessions for w in got),
              f"stop offers {sorted(got)}; sessions: {sessions}")
    check(s.result.rc == 0, f"the session: {s.result.describe(3)}")


if __name__ == "__main__":
    skbt.main(globals())
