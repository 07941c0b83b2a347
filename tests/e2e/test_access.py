#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_access.py - who may use skbtraced: root and the access group; users see only their own.

Creates real users for the run and removes them afterwards:
  M1   member of the test group (a supplementary group)
  M2   member of the test group (its primary group)
  OUT  not a member
and a test group (not 'skbtrace', so that the host's own setup is left alone;
the daemon runs with --group). Checked on both layers: the socket's mode
(0660 root:GROUP) keeps outsiders from connecting, and the daemon's
SO_PEERCRED check refuses them should the socket be more open.
"""

import grp
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import skbt
from skbt import check, fail

TAG = f"{os.getpid() % 100000}"
GROUP = f"skbtg{TAG}"
M1, M2, OUT = f"skbt{TAG}m1", f"skbt{TAG}m2", f"skbt{TAG}out"
PER_USER_SESSIONS = 2
PER_USER_CONNECTIONS = 5

_users = []
_daemon = None
# The users cannot run an interpreter under root's home (pyenv, venv): use the system one.
USER_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


def _cleanup_accounts():
    for u in _users:
        subprocess.run(["userdel", u], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
    subprocess.run(["groupdel", GROUP], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)


def setup_accounts():
    for tool in ("useradd", "userdel", "groupadd", "groupdel"):
        if not any(os.access(os.path.join(p, tool), os.X_OK)
                   for p in ("/usr/sbin", "/sbin", "/usr/bin")):
            fail(f"{tool} not found: install the 'passwd' package (scripts/install-deps.sh)")
    skbt._cleanups.append(_cleanup_accounts)
    skbt.run(["groupadd", "--system", GROUP])
    nologin = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
    for name, args in ((M1, ["-g", "nogroup", "-G", GROUP]), (M2, ["-g", GROUP]),
                       (OUT, ["-g", "nogroup"])):
        skbt.run(["useradd", "--system", "-M", "-N", "-s", nologin] + args + [name])
        _users.append(name)
    skbt.log(f"users {M1} (in {GROUP}), {M2} (primary group {GROUP}), {OUT} (not in it)")


def as_user(name):
    """subprocess arguments that run a child as name, with its groups."""
    pw = pwd.getpwnam(name)
    return {"user": pw.pw_uid, "group": pw.pw_gid,
            "extra_groups": os.getgrouplist(name, pw.pw_gid)}


def ctl(d, name, args, timeout=20):
    """ipftctl as user name; the CompletedProcess."""
    return skbt.run([d.ctl, "--socket", d.sock] + list(args), timeout=timeout,
                    check_rc=False, **(as_user(name) if name else {}))


def trace_as(d, name, args):
    """ipftctl trace as user name in the background, until it says it is tracing."""
    cmd = [d.ctl, "--socket", d.sock, "trace"] + list(args) + ["-o", "json"]
    p = skbt._track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, **as_user(name)))
    p.out, p.err = skbt.Reader(p.stdout), skbt.Reader(p.stderr)
    p.out.start()
    p.err.start()
    m = p.err.wait_line(r"Tracing \d+ probes \(session (\d+)\)", 20,
                        f"{name}'s trace to start", proc=p)
    p.session = int(m.group(1))
    return p


def finish(p, timeout=10):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    rc = p.wait(timeout)
    p.out.join(5)
    p.err.join(5)
    return rc


# Raw protocol as another user: send each argv message, print every reply as a
# JSON line, then "EOF" when the daemon closes.  With "half-close" the client
# shuts down its side after sending (the daemon then closes when done);
# with "keep" it waits for the daemon to close on its own.
_RAW = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
for m in sys.argv[3:]:
    try:
        s.sendall(m.encode() + b"\0")
    except (BrokenPipeError, ConnectionResetError):
        break
if sys.argv[2] == "half-close":
    s.shutdown(socket.SHUT_WR)
buf = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        b = b""
    if not b:
        print("EOF")
        break
    buf += b
    while b"\0" in buf:
        raw, buf = buf.split(b"\0", 1)
        print(json.dumps(json.loads(raw)))
"""

# Open N connections as this user, then one more with a Status call; print its reply.
_CONNS = r"""
import json, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
held = []
for _ in range(n):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    held.append(c)
time.sleep(0.2)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(10)
c.connect(path)
c.sendall(b'{"method":"io.skbtraced.Status"}\0')
buf = b""
while b"\0" not in buf:
    b = c.recv(65536)
    if not b:
        break
    buf += b
print(buf.split(b"\0")[0].decode())
"""


def raw_as(d, name, *messages, mode="half-close"):
    r = skbt.run([USER_PYTHON, "-c", _RAW, d.sock, mode] + [json.dumps(m) for m in messages],
                 timeout=20, **as_user(name))
    lines = r.stdout.splitlines()
    return [json.loads(x) for x in lines if x != "EOF"], "EOF" in lines


def daemon(t):
    """One daemon for the module, with its socket where the test users can reach it."""
    global _daemon
    if _daemon is None:
        setup_accounts()
        sockdir = tempfile.mkdtemp(prefix="skbt-access-", dir="/tmp")
        os.chmod(sockdir, 0o755)
        skbt._cleanups.append(lambda: shutil.rmtree(sockdir, ignore_errors=True))
        d = t.new_daemon(["--group", GROUP,
                          "--max-sessions-per-user", str(PER_USER_SESSIONS),
                          "--max-connections-per-user", str(PER_USER_CONNECTIONS)])
        d.sock = os.path.join(sockdir, "skbtraced.sock")
        _daemon = d.start()
    check(_daemon.running(), "the daemon died\n" + _daemon.log_text(60))
    return _daemon


def sessions_as(d, name):
    r = ctl(d, name, ["sessions", "-o", "json"])
    check(r.returncode == 0, f"ipftctl sessions as {name}: {r.returncode} {r.stderr!r}")
    return [json.loads(x) for x in r.stdout.splitlines()]


# ---------------------------------------------------------------------------

def test_socket_is_root_and_group_only(t):
    d = daemon(t)
    st = os.stat(d.sock)
    check(st.st_mode & 0o777 == 0o660, f"socket mode {oct(st.st_mode & 0o777)}, want 0660")
    check(st.st_uid == 0 and st.st_gid == grp.getgrnam(GROUP).gr_gid,
          f"socket owner {st.st_uid}:{st.st_gid}, want root:{GROUP}")
    status = d.status()
    check(status["group"] == GROUP and status["group_exists"],
          f"status group: {status.get('group')} {status.get('group_exists')}")


def test_outsider_cannot_connect(t):
    d = daemon(t)
    for args in (["status"], ["trace", "-p", "icmp"], ["sessions"]):
        r = ctl(d, OUT, args)
        check(r.returncode == 1, f"ipftctl {args[0]} as {OUT}: status {r.returncode}, want 1")
        check("permission denied" in r.stderr and f"add yourself to group {GROUP}" in r.stderr,
              f"ipftctl {args[0]} as {OUT} should say how to get access: {r.stderr!r}")
        check(r.stdout == "", f"ipftctl {args[0]} as {OUT} printed {r.stdout!r}")


def test_outsider_refused_by_the_daemon(t):
    """With the socket opened to everyone (a wrong SocketMode=), SO_PEERCRED still decides."""
    d = daemon(t)
    before = d.active_sessions()
    os.chmod(d.sock, 0o666)
    try:
        replies, eof = raw_as(d, OUT,
                              {"method": "io.skbtraced.Trace", "more": True, "parameters": {}},
                              {"method": "io.skbtraced.Status"}, mode="keep")
        check(len(replies) == 1 and eof,
              f"an outsider must get one error and a closed connection, got {replies}, "
              f"eof {eof}")
        e = replies[0]
        check(e.get("error") == "org.varlink.service.PermissionDenied",
              f"outsider's reply: {e}, want org.varlink.service.PermissionDenied")
        msg = e.get("parameters", {}).get("message", "")
        check(msg.startswith(f"permission denied: add yourself to group {GROUP}"),
              f"outsider's error message: {msg!r}")
        check(set(e["parameters"]) == {"message"}, f"the refusal tells more than it should: {e}")

        r = ctl(d, OUT, ["status"])
        check(r.returncode == 1 and f"permission denied: add yourself to group {GROUP}"
              in r.stderr and r.stdout == "", f"ipftctl status as {OUT} through an open socket: "
              f"{r.returncode} {r.stderr!r} {r.stdout!r}")
        r = ctl(d, OUT, ["trace", "-p", "icmp"])
        check(r.returncode == 1 and "permission denied" in r.stderr,
              f"ipftctl trace as {OUT}: {r.returncode} {r.stderr!r}")
        check(d.active_sessions() == before, "an outsider's Trace started a session")
        # Members and root are still served through the same socket.
        check(ctl(d, M1, ["status"]).returncode == 0, f"{M1} refused through an open socket")
        check(ctl(d, None, ["status"]).returncode == 0, "root refused through an open socket")
    finally:
        os.chmod(d.sock, 0o660)
    check(re.search(rf"uid {pwd.getpwnam(OUT).pw_uid} pid \d+ refused", open(d.log_path).read()),
          "the daemon does not log the refused connection")


def test_members_see_and_stop_only_their_own(t):
    d, topo = daemon(t), t.topo
    p1 = trace_as(d, M1, ["-p", "icmp", "--addr", topo.b4])
    p2 = trace_as(d, M2, ["-p", "icmp", "--addr", topo.b4])
    root = t.trace_on(d, "-p", "icmp", "--addr", topo.b4).start()
    ids = {M1: p1.session, M2: p2.session}
    try:
        topo.ping(topo.a, topo.b4, count=2, interval=0.1)
        skbt.wait_for(lambda: '"icmp"' in p1.out.text(), 10, f"{M1}'s trace to print events")

        uid1, uid2 = pwd.getpwnam(M1).pw_uid, pwd.getpwnam(M2).pw_uid
        mine1 = sessions_as(d, M1)
        check([(s["session"], s["uid"]) for s in mine1] == [(ids[M1], uid1)],
              f"{M1} sees {[(s['session'], s['uid']) for s in mine1]}, want only its own "
              f"session {ids[M1]}")
        mine2 = sessions_as(d, M2)
        check([s["session"] for s in mine2] == [ids[M2]], f"{M2} sees {mine2}")
        every = sessions_as(d, None)
        check({s["uid"] for s in every} == {0, uid1, uid2} and len(every) == 3,
              f"root sees {[(s['session'], s['uid']) for s in every]}, want all 3")
        root_id = next(s["session"] for s in every if s["uid"] == 0)

        # Another user's session, or root's, is not there for M2.
        for victim in (ids[M1], root_id):
            r = ctl(d, M2, ["stop", str(victim)])
            check(r.returncode == 1 and f"no session {victim} of yours" in r.stderr,
                  f"{M2} stopping session {victim}: {r.returncode} {r.stderr!r}")
        replies, _ = raw_as(d, M2, {"method": "io.skbtraced.Stop",
                                    "parameters": {"session": ids[M1]}})
        check(replies and replies[0].get("error") == "io.skbtraced.NoSuchSession",
              f"raw Stop of {M1}'s session by {M2}: {replies}")
        check(len(sessions_as(d, None)) == 3 and p1.poll() is None,
              "a member managed to stop another user's session")

        # Own sessions: yes; root: anyone's.
        r = ctl(d, M1, ["stop", str(ids[M1])])
        check(r.returncode == 0, f"{M1} stopping its own session: {r.returncode} {r.stderr!r}")
        check(finish(p1) == 0 and "stopped by an operator" in p1.err.text(),
              f"{M1}'s client after stop: {p1.err.text()!r}")
        r = ctl(d, None, ["stop", str(ids[M2])])
        check(r.returncode == 0, f"root stopping {M2}'s session: {r.stderr!r}")
        check(finish(p2) == 0, f"{M2}'s client after stop: {p2.err.text()!r}")
    finally:
        for p in (p1, p2):
            if p.poll() is None:
                p.kill()
        root.interrupt()
    events = [json.loads(x) for x in p1.out.text().splitlines() if x.strip()]
    check(events and all(skbt.involves(ev, topo.b4) for ev in events),
          f"{M1}'s trace: {len(events)} events, all of its filter's flow")


def test_per_user_session_limit(t):
    d = daemon(t)
    held = [trace_as(d, M1, ["-p", "udp", "--dport", str(7000 + i)])
            for i in range(PER_USER_SESSIONS)]
    other, roots = [], []
    try:
        r = ctl(d, M1, ["trace", "-p", "udp"])
        check(r.returncode == 1 and "max_sessions_per_user" in r.stderr,
              f"{M1}'s session {PER_USER_SESSIONS + 1}: {r.returncode} {r.stderr!r}")
        replies, _ = raw_as(d, M1, {"method": "io.skbtraced.Trace", "more": True,
                                    "parameters": {}})
        check(replies and replies[0].get("error") == "io.skbtraced.LimitReached"
              and replies[0]["parameters"].get("limit") == "max_sessions_per_user",
              f"raw Trace over the per-user limit: {replies}")
        # Others are not affected by M1's share; root has none.
        other.append(trace_as(d, M2, ["-p", "udp"]))
        for _ in range(PER_USER_SESSIONS + 1):
            roots.append(t.trace_on(d, "-p", "udp").start())
    finally:
        for p in held + other:
            finish(p)
        for s in roots:
            s.interrupt()


def test_members_get_no_skb_dump(t):
    """--dump-skb is root's: a dump holds kernel addresses in integer members; --ct is anyone's."""
    d = daemon(t)
    r = ctl(d, M1, ["trace", "-p", "icmp", "--dump-skb", "-c", "1"])
    check(r.returncode != 0 and "dump_skb" in r.stderr and "root only" in r.stderr,
          f"{M1}'s --dump-skb: {r.returncode} {r.stderr!r}")
    replies, _ = raw_as(d, M1, {"method": "io.skbtraced.Trace", "more": True,
                                "parameters": {"dump_skb": True}})
    check(replies and replies[0].get("error") == "org.varlink.service.InvalidParameter"
          and replies[0]["parameters"].get("parameter") == "dump_skb",
          f"raw Trace with dump_skb as a member: {replies}")
    p = trace_as(d, M1, ["-p", "icmp", "--ct"])
    finish(p)
    s = t.trace_on(d, "-p", "icmp", "--dump-skb").start()
    s.interrupt()


def test_per_user_connection_limit(t):
    d = daemon(t)
    r = skbt.run([USER_PYTHON, "-c", _CONNS, d.sock, str(PER_USER_CONNECTIONS)], timeout=30,
                 **as_user(M1))
    reply = json.loads(r.stdout)
    check(reply.get("error") == "io.skbtraced.LimitReached"
          and reply["parameters"].get("limit") == "max_connections_per_user",
          f"{M1}'s connection {PER_USER_CONNECTIONS + 1}: {reply}")
    r = skbt.run([USER_PYTHON, "-c", _CONNS, d.sock, str(PER_USER_CONNECTIONS - 1)],
                 timeout=30, **as_user(M1))
    check("error" not in json.loads(r.stdout), f"within the limit: {r.stdout}")


if __name__ == "__main__":
    skbt.main(globals())
