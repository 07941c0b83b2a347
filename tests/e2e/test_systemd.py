#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_systemd.py - units, install layout, socket activation, sd_notify, config file and SIGHUP.

systemd is not PID 1 here, so the daemon is started the way systemd would
start it: a listening socket as fd 3 with LISTEN_FDS/LISTEN_PID, and a
NOTIFY_SOCKET (and WATCHDOG_USEC) that this test owns and reads.
"""

import grp
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import skbt
from skbt import check, fail

CAPS_ALLOWED = {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_ADMIN", "CAP_SYSLOG"}


def build_dir():
    """The meson build directory: the daemon binary is BUILD/daemon/skbtraced."""
    return os.path.dirname(os.path.dirname(os.path.abspath(skbt.skbtraced_path())))


def unit_text(name):
    path = os.path.join(build_dir(), "systemd", name)
    check(os.path.isfile(path), f"{path} missing: the build should generate it")
    with open(path) as f:
        return f.read()


def parse_unit(text):
    """{section: {key: [values]}} (systemd allows repeated keys)."""
    out, sect = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            sect = out.setdefault(line.strip("[]"), {})
            continue
        k, _, v = line.partition("=")
        sect.setdefault(k.strip(), []).append(v.strip())
    return out


def need_tool(name):
    path = shutil.which(name)
    if not path:
        fail(f"{name} not found: install the 'systemd' package (scripts/install-deps.sh)")
    return path


# ---------------------------------------------------------------------------
# A daemon started as systemd would start it

class Activated:
    """skbtraced with an inherited listening socket and our NOTIFY_SOCKET."""

    def __init__(self, workdir, listen, args=(), watchdog_usec=None):
        self.dir = tempfile.mkdtemp(prefix="activated-", dir=workdir)
        self.listen = listen
        self.sock = listen.getsockname()
        self.notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.args = list(args)
        self.watchdog_usec = watchdog_usec
        self.messages = []
        # systemd drains NOTIFY_SOCKET all the time; a test that does not would block the
        # daemon's sd_notify() once 10 datagrams wait (net.unix.max_dgram_qlen), e.g. its
        # watchdog pings while a session waits for its probes.  A thread does it here.
        self.inbox = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.proc = None
        self.ctl = skbt.ipftctl_path()  # what skbt.Session needs of a daemon

    def _drain(self):
        while True:
            try:
                data = self.notify.recv(4096)
            except OSError:
                return
            self.inbox.put(data)

    def start(self):
        env = dict(os.environ, LISTEN_FDS="1", NOTIFY_SOCKET=self.notify_path)
        env.pop("LISTEN_FDNAMES", None)
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
        fd = self.listen.fileno()

        def as_fd3():
            # dup2() onto itself keeps O_CLOEXEC: clear it explicitly.
            os.dup2(fd, 3)
            os.set_inheritable(3, True)

        # LISTEN_PID/WATCHDOG_PID must be the daemon's pid: sh sets them, then execs it.
        cmd = ["sh", "-c", 'export LISTEN_PID=$$ WATCHDOG_PID=$$; exec "$0" "$@"',
               skbt.skbtraced_path(), "-v"] + self.args
        self.logf = open(self.log_path, "w")
        self.proc = skbt._track(subprocess.Popen(cmd, env=env, preexec_fn=as_fd3, close_fds=False,
                                                 stdin=subprocess.DEVNULL, stdout=self.logf,
                                                 stderr=subprocess.STDOUT))
        skbt._cleanups.append(self._cleanup)
        return self

    def _cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def recv(self, timeout):
        """The next notify message (a dict), or None after timeout."""
        try:
            data = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        msg = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append(msg)
        return msg

    def wait_message(self, key, timeout, value=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"skbtraced exited with {self.proc.returncode} while waiting for {key}\n"
                     f"{self.log_text()}")
            msg = self.recv(max(0.05, deadline - time.monotonic()))
            if msg and key in msg and (value is None or msg[key] == value):
                return msg
        fail(f"no {key}{'=' + value if value else ''} on NOTIFY_SOCKET within {timeout} s; "
             f"got {self.messages}\n{self.log_text()}")

    def log_text(self, tail=60):
        with open(self.log_path, errors="replace") as f:
            lines = [ln for ln in f if "libbpf:" not in ln]
        return "--- skbtraced log ---\n" + "".join(lines[-tail:]) + "--- end ---"

    def active_sessions(self):
        return int(skbt.varlink_call(self.sock, "io.skbtraced.Status")["sessions"]["active"])

    def ctl_run(self, args, timeout=20, check_rc=True):
        return skbt.run([skbt.ipftctl_path(), "--socket", self.sock] + list(args),
                        timeout=timeout, check_rc=check_rc)


def listening_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    return s


# ---------------------------------------------------------------------------

@skbt.needs_no_daemon
def test_units_verify(t):
    analyze = need_tool("systemd-analyze")
    tmp = tempfile.mkdtemp(prefix="units-", dir=t.workdir)
    svc = unit_text("skbtraced.service")
    # verify checks that ExecStart= exists: point it at the binary we built.
    with open(os.path.join(tmp, "skbtraced.service"), "w") as f:
        f.write(re.sub(r"^ExecStart=\S+", f"ExecStart={skbt.skbtraced_path()}", svc,
                       flags=re.M))
    with open(os.path.join(tmp, "skbtraced.socket"), "w") as f:
        f.write(unit_text("skbtraced.socket"))
    r = skbt.run([analyze, "verify", "--man=no", "./skbtraced.service", "./skbtraced.socket"],
                 cwd=tmp, check_rc=False)
    check(r.returncode == 0 and not r.stderr.strip(),
          f"systemd-analyze verify: status {r.returncode}\n{r.stdout}{r.stderr}")
    r = skbt.run([analyze, "security", "--offline=yes", "./skbtraced.service"], cwd=tmp,
                 check_rc=False)
    m = re.search(r"Overall exposure level for skbtraced.service: ([0-9.]+)", r.stdout)
    check(m and float(m.group(1)) <= 5.0,
          f"systemd-analyze security: exposure {m.group(1) if m else '?'}, want <= 5.0\n"
          f"{r.stdout[-2000:]}{r.stderr}")
    skbt.log(f"systemd-analyze security: exposure {m.group(1)}")

    u = parse_unit(svc)
    s = u["Service"]
    want = {"Type": "notify", "Restart": "on-failure", "LimitMEMLOCK": "infinity",
            "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
            "PrivateTmp": "yes", "ProtectClock": "yes", "RuntimeDirectory": "skbtraced",
            "RestrictAddressFamilies": "AF_UNIX AF_NETLINK"}
    for k, v in want.items():
        check(s.get(k) == [v], f"skbtraced.service: {k}={s.get(k)}, want {v}")
    check(s.get("ExecReload") and "HUP" in s["ExecReload"][0], "no ExecReload sending SIGHUP")
    check(s.get("RestartPreventExitStatus") == ["6"],
          "a bad config (exit status 6) must not be restarted in a loop")
    check("WatchdogSec" in s, "no WatchdogSec=")
    caps = set(" ".join(s.get("CapabilityBoundingSet", [])).split())
    check(caps and caps <= CAPS_ALLOWED, f"CapabilityBoundingSet {sorted(caps)}, want a subset "
          f"of {sorted(CAPS_ALLOWED)}")
    for cap in caps:
        check(re.search(rf"^#\s+{cap}\s+\S", svc, re.M),
              f"skbtraced.service does not say why it needs {cap}")
    check(re.search(r"^ExecStart=/\S+/skbtraced$", svc, re.M), "ExecStart is not the daemon")

    sock = parse_unit(unit_text("skbtraced.socket"))["Socket"]
    check(sock.get("SocketMode") == ["0660"] and sock.get("SocketGroup") == ["skbtrace"]
          and sock.get("ListenStream") == ["/run/skbtraced/skbtraced.sock"],
          f"skbtraced.socket: {sock}")


def test_runs_with_the_units_capabilities(t):
    """The daemon works with only the unit's CapabilityBoundingSet= and NoNewPrivileges=.

    systemd is not PID 1 here, so setpriv applies the same restrictions: if a
    capability the unit drops were needed, this is where it would show.
    """
    setpriv = need_tool("setpriv")
    topo = t.topo
    svc = parse_unit(unit_text("skbtraced.service"))["Service"]
    caps = " ".join(svc["CapabilityBoundingSet"]).split()
    # This daemon binds its own socket and gives it to the group (CAP_CHOWN); under the
    # unit the socket always comes from skbtraced.socket (tests/vm/systemd.sh runs that).
    caps.append("CAP_CHOWN")
    wanted = ",".join("+" + c[len("CAP_"):].lower() for c in caps)
    wrapper = os.path.join(t.workdir, "skbtraced-confined")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec {setpriv} --no-new-privs --inh-caps=-all "
                f"--bounding-set -all,{wanted} {skbt.skbtraced_path()} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    d = t.new_daemon()
    d.bin = wrapper
    d.start()
    with open(f"/proc/{d.proc.pid}/status") as f:
        eff = int(re.search(r"^CapEff:\s+([0-9a-f]+)", f.read(), re.M).group(1), 16)
    check(eff != 0 and bin(eff).count("1") == len(caps),
          f"the confined daemon has CapEff {eff:#x}, want exactly {caps}")
    st = d.status()
    check(st["probes"]["attached"] > 0, f"no probe attached with the unit's capabilities: "
          f"{st['probes']}\n{d.log_text()}")
    # Traffic is traced, and drop locations are symbolized (CAP_SYSLOG: /proc/kallsyms).
    with t.trace_on(d, "-p", "udp", "--dport", "9", "-t", "drop") as s:
        topo.udp_send(topo.a, topo.b4, 9, count=2)
        s.wait_event(lambda ev: ev.get("drop_reason"), what="a drop event")
    drops = [ev for ev in s.result.events if ev.get("drop_reason")]
    check(drops, f"no drop traced with the unit's capabilities\n{s.result.describe(5)}")
    check(all("+0x" in ev.get("location", "") for ev in drops),
          f"drop locations are not symbolized (CAP_SYSLOG?): "
          f"{sorted({ev.get('location') for ev in drops})}")
    d.stop()


@skbt.needs_no_daemon
def test_sysusers_creates_the_group(t):
    sysusers = need_tool("systemd-sysusers")
    text = unit_text("skbtraced.conf")
    check(re.search(r"^g\s+skbtrace\s+-\s*$", text, re.M), f"sysusers entry: {text!r}")
    root = tempfile.mkdtemp(prefix="sysusers-", dir=t.workdir)
    os.makedirs(os.path.join(root, "etc"))
    skbt.run([sysusers, f"--root={root}", os.path.join(build_dir(), "systemd", "skbtraced.conf")])
    with open(os.path.join(root, "etc", "group")) as f:
        check(re.search(r"^skbtrace:x:\d+:", f.read(), re.M), "systemd-sysusers made no group")


@skbt.needs_no_daemon
def test_meson_install_layout(t):
    meson = need_tool("meson")
    dest = tempfile.mkdtemp(prefix="destdir-", dir=t.workdir)
    skbt.run([meson, "install", "-C", build_dir(), "--no-rebuild", "--quiet", "--destdir", dest],
             timeout=120)
    files = set()
    for dirpath, _, names in os.walk(dest):
        files |= {os.path.relpath(os.path.join(dirpath, n), dest) for n in names}
    opts = json.loads(skbt.run([meson, "introspect", "--buildoptions", build_dir()]).stdout)
    prefix = next(o["value"] for o in opts if o["name"] == "prefix").lstrip("/")
    for want in ("sbin/skbtraced", "bin/ipftctl", "share/man/man8/skbtraced.8",
                 "share/man/man1/ipftctl.1", "lib/systemd/system/skbtraced.service",
                 "lib/systemd/system/skbtraced.socket", "lib/sysusers.d/skbtraced.conf"):
        hit = [f for f in files if f.endswith(want)]
        check(hit, f"meson install did not install {want}; installed: {sorted(files)}")
    svc = next(f for f in files if f.endswith("skbtraced.service"))
    with open(os.path.join(dest, svc)) as f:
        execstart = re.search(r"^ExecStart=(\S+)", f.read(), re.M).group(1)
    check(os.path.join(dest, execstart.lstrip("/")) in
          {os.path.join(dest, f) for f in files if f.endswith("sbin/skbtraced")},
          f"the installed unit runs {execstart}, which meson did not install")
    check(execstart.startswith("/" + prefix), f"ExecStart {execstart} is outside prefix /{prefix}")


def test_socket_activation_and_notify(t):
    topo = t.topo
    sockdir = tempfile.mkdtemp(prefix="run-", dir=t.workdir)
    path = os.path.join(sockdir, "skbtraced.sock")
    listen = listening_socket(path)
    # A client that connects before the daemon runs is served once it does.
    early = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    early.connect(path)
    early.sendall(b'{"method":"io.skbtraced.Status"}\0')

    d = Activated(t.workdir, listen, watchdog_usec=400000).start()
    ready = d.wait_message("READY", 60, "1")
    check("STATUS" in ready and re.search(r"\d+ probes usable", ready["STATUS"]),
          f"READY=1 without a STATUS summary: {ready}")
    st = skbt.varlink_call(path, "io.skbtraced.Status")
    # Ready once the probes are known and the object loaded; they attach on demand.
    check(st["probes"]["attached"] > 0, f"READY=1 before the probes were usable: {st['probes']}")
    msgs, _ = skbt._read_messages(early, count=1)
    check(msgs and "version" in msgs[0].get("parameters", {}),
          f"the connection queued before start got {msgs}")
    early.close()
    check(re.search(r"using the listening socket passed by systemd", d.log_text()),
          "the daemon did not take the inherited socket")
    d.wait_message("WATCHDOG", 5, "1")

    # It serves a real trace through the inherited socket.
    s = skbt.Session(d, ["-p", "icmp", "--addr", topo.b4]).start()
    topo.ping(topo.a, topo.b4, count=2)
    s.wait_event(lambda ev: skbt.involves(ev, topo.b4), what="an ICMP event")
    msg = d.wait_message("STATUS", 5)
    check(re.search(r"1 sessions", msg["STATUS"]), f"STATUS does not count sessions: {msg}")

    # SIGHUP: RELOADING=1 then READY=1.
    d.proc.send_signal(signal.SIGHUP)
    d.wait_message("RELOADING", 5, "1")
    d.wait_message("READY", 5, "1")

    # SIGTERM: STOPPING=1, the client is told, the socket stays (systemd owns it).
    d.proc.send_signal(signal.SIGTERM)
    d.wait_message("STOPPING", 5, "1")
    check(d.proc.wait(5) == 0, f"exit status {d.proc.returncode}\n{d.log_text()}")
    r = s.wait(timeout=5)
    check(r.rc == 0 and "shutting down" in r.stderr, f"client at shutdown\n{r.describe(3)}")
    check(os.path.exists(path), "the daemon removed the socket systemd owns")

    # Restart on the same socket, as systemd does: a client that connects in
    # between waits in the backlog and is served by the new daemon.
    between = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    between.connect(path)
    between.sendall(b'{"method":"io.skbtraced.Status"}\0')
    d2 = Activated(t.workdir, listen).start()
    d2.wait_message("READY", 60, "1")
    msgs, _ = skbt._read_messages(between, count=1, timeout=20)
    check(msgs and "version" in msgs[0].get("parameters", {}),
          f"a client connecting during the restart got {msgs}")
    between.close()
    d2.ctl_run(["status"])
    d2.proc.send_signal(signal.SIGTERM)
    check(d2.proc.wait(5) == 0, "second daemon exit")
    listen.close()


@skbt.needs_no_daemon
def test_bad_config_stops_the_start(t):
    conf = os.path.join(t.workdir, "bad.conf")
    with open(conf, "w") as f:
        f.write("# test\nmax_sessions = 10\nmax_sesions = 3\n")
    sock = os.path.join(t.workdir, "never.sock")
    r = skbt.run([skbt.skbtraced_path(), "--socket", sock, "--config", conf], timeout=20,
                 check_rc=False)
    check(r.returncode == 6, f"bad config: exit status {r.returncode}, want 6 (not configured)"
          f"\n{r.stderr}")
    check(f"{conf}:3: unknown setting 'max_sesions'" in r.stderr,
          f"bad config: the message should name file, line and setting: {r.stderr!r}")
    check(not os.path.exists(sock), "the daemon created its socket despite a bad config")
    r = skbt.run([skbt.skbtraced_path(), "--socket", sock, "--config",
                  os.path.join(t.workdir, "missing.conf")], timeout=20, check_rc=False)
    check(r.returncode == 6 and "missing.conf" in r.stderr,
          f"--config of a missing file: {r.returncode} {r.stderr!r}")
    r = skbt.run([skbt.skbtraced_path(), "--socket", sock, "--max-sessions", "65"], timeout=20,
                 check_rc=False)
    check(r.returncode == 2 and "--max-sessions" in r.stderr and "65" in r.stderr,
          f"--max-sessions 65: {r.returncode} {r.stderr!r}")


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def test_config_file_and_reload(t):
    topo = t.topo
    conf = os.path.join(t.workdir, "skbtraced.conf")
    _write(conf, "max_sessions = 10\nmax_duration = 1h\nrate_limit = 100000\ngroup = daemon\n")
    d = t.new_daemon(["--config", conf, "--max-sessions-per-user", "3"]).start()
    st = d.status()
    lim = st["limits"]
    check(lim["max_sessions"] == 10 and lim["max_duration"] == 3600
          and lim["rate_limit"] == 100000 and lim["max_sessions_per_user"] == 3,
          f"limits from the file and the command line: {lim}")
    check(st["config"] == conf and st["group"] == "daemon", f"status: config {st['config']}, "
          f"group {st['group']}")
    check(os.stat(d.sock).st_gid == grp.getgrnam("daemon").gr_gid, "socket group is not 'daemon'")

    with t.trace_on(d, "-p", "icmp", "--addr", topo.b4) as s:
        sid = skbt.varlink_call(d.sock, "io.skbtraced.Sessions")["sessions"][0]["session"]
        # A good new file: applied, the session goes on, the command line still wins.
        _write(conf, "max_sessions = 20\nmax_sessions_per_user = 9\nqueue_size = 128\n"
                     "group = nogroup\n")
        d.proc.send_signal(signal.SIGHUP)
        skbt.wait_for(lambda: d.status()["limits"]["max_sessions"] == 20, 5,
                      "the reloaded max_sessions")
        lim = d.status()["limits"]
        check(lim["max_sessions_per_user"] == 3 and lim["queue_size"] == 128 * 1024
              and lim["max_duration"] == 0 and lim["rate_limit"] == 0,
              f"after reload: {lim} (the command line's 3 per user must stay; keys removed "
              f"from the file go back to their defaults)")
        check(os.stat(d.sock).st_gid == grp.getgrnam("nogroup").gr_gid,
              "the socket's group did not follow the reloaded group")

        # A bad file: ignored with a warning, nothing changes.
        _write(conf, "max_sessions = 0\n")
        d.proc.send_signal(signal.SIGHUP)
        skbt.wait_for(lambda: "cannot reload the configuration" in open(d.log_path).read(), 5,
                      "the warning about the bad file")
        check(d.running(), "a bad config on reload killed the daemon")
        check(d.status()["limits"]["max_sessions"] == 20, "a bad file changed the settings")
        log = open(d.log_path).read()
        check(re.search(rf"{re.escape(conf)}:1: invalid max_sessions '0'.*keeping the current "
                        r"settings, ignoring", log), "the reload warning does not say what and "
              "where")

        # The session lived through both reloads and still traces.
        listed = skbt.varlink_call(d.sock, "io.skbtraced.Sessions")["sessions"]
        check([x["session"] for x in listed] == [sid], f"sessions after reloads: {listed}")
        topo.ping(topo.a, topo.b4, count=2)
        s.wait_event(lambda ev: skbt.involves(ev, topo.b4), what="an event after the reloads")
    check(s.result.events and s.result.rc == 0, f"the session across reloads\n"
          f"{s.result.describe(3)}")
    d.stop()


if __name__ == "__main__":
    skbt.main(globals(), need_daemon=False)
