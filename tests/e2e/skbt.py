# SPDX-License-Identifier: GPL-2.0-only
"""skbt.py - e2e test harness: netns topology, a real skbtraced, ipftctl sessions, traffic.

Standard library only.  Each test file does:

    import skbt

    def test_something(t):          # t: skbt.Context (topology, daemon, helpers)
        with t.trace("-p", "icmp") as s:
            t.topo.ping_ab()
        res = s.result
        ...

    if __name__ == "__main__":
        skbt.main(globals())

Exit status: 0 all passed, 1 a test failed, 77 skipped (not root).  With CI
set, scripts/run-tests.sh counts 77 as a failure: the tier must run in CI.

Environment:
  SKBTRACED, IPFTCTL   built binaries (meson sets them; default: build/ in the tree)
  SKBT_E2E_KEEP=1      keep the temporary directory (daemon log) after the run
  SKBT_E2E_ONLY=NAME   run only the test functions whose name contains NAME

Every wait in here has a timeout and fails with a message saying what did not
happen.  Test traffic only ever flows between the namespaces this harness
creates.
"""

import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUPS_CONF = os.path.join(TOP, "data", "groups.conf")

EXIT_SKIP = 77

# Tracepoints on the receive and transmit paths, as the daemon names them.
RX_TRACEPOINTS = ("net:netif_receive_skb", "net:netif_receive_skb_entry", "net:netif_rx",
                  "net:netif_rx_entry", "net:napi_gro_receive_entry")
TX_TRACEPOINTS = ("net:net_dev_queue", "net:net_dev_start_xmit", "net:net_dev_xmit")

SUMMARY_RE = re.compile(
    r"(\d+) events received, (\d+) lost \(ring buffer (\d+), queue (\d+)"
    r"(?:, skipped by the kernel (\d+))?\), duration ([0-9.]+)s")
STARTED_RE = re.compile(r"Tracing (\d+) probes")
# Probes still attaching when a session started (attach on demand), and the line that says
# every one is settled (docs/protocol.md "progress").
ATTACHING_RE = re.compile(r"^attaching \d+ probes: \d+ of \d+ attached already", re.M)
SETTLED_RE = re.compile(r"^(all \d+ probes attached|\d+ probes settled) after", re.M)
PACKET_ID_RE = re.compile(r"^0x[0-9a-f]+$")


class TestFailure(Exception):
    """A check failed; the message says what was expected and what happened."""


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def log(msg):
    print(f"# {msg}", flush=True)


def _sigterm(signum, frame):
    # meson's timeout sends SIGTERM: turn it into an exception so that
    # finally blocks and atexit handlers remove namespaces and the daemon.
    raise SystemExit(f"killed by signal {signum}")


def require_root():
    if os.geteuid() != 0:
        print("SKIP: the e2e tests need root (BPF, network namespaces); "
              "run them with sudo (CI counts this skip as a failure)", flush=True)
        sys.exit(EXIT_SKIP)


def _binary(var, default_rel):
    path = os.environ.get(var) or os.path.join(TOP, default_rel)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        fail(f"{var}: {path} is not an executable file; build first (meson compile -C build) "
             f"or set {var}")
    return path


def skbtraced_path():
    return _binary("SKBTRACED", "build/daemon/skbtraced")


def ipftctl_path():
    return _binary("IPFTCTL", "build/client/ipftctl")


def run(cmd, timeout=30, check_rc=True, input=None, **kw):
    """Run cmd, capture its output; fail on a non-zero exit when check_rc."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL, **kw)
    except subprocess.TimeoutExpired as e:
        fail(f"command timed out after {timeout} s: {' '.join(map(str, cmd))}\n"
             f"stdout: {e.stdout}\nstderr: {e.stderr}")
    if check_rc and r.returncode != 0:
        fail(f"command failed with status {r.returncode}: {' '.join(map(str, cmd))}\n"
             f"stdout: {r.stdout.strip()}\nstderr: {r.stderr.strip()}")
    return r


def wait_for(pred, timeout, what, interval=0.05):
    """Poll pred() until it returns a true value; fail with 'what' after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# Varlink over the daemon's Unix socket (docs/protocol.md)

def _read_messages(sock, count=None, timeout=10.0):
    """Read NUL-terminated JSON messages until count are read or EOF."""
    sock.settimeout(timeout)
    buf = b""
    msgs = []
    deadline = time.monotonic() + timeout
    while count is None or len(msgs) < count:
        if time.monotonic() >= deadline:
            fail(f"no complete reply within {timeout} s (have {len(msgs)}, partial {buf[:200]!r})")
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            fail(f"no reply within {timeout} s (have {len(msgs)}, partial {buf[:200]!r})")
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
        while b"\0" in buf:
            raw, buf = buf.split(b"\0", 1)
            try:
                msgs.append(json.loads(raw))
            except ValueError:
                fail(f"daemon sent a message that is not JSON: {raw[:300]!r}")
    return msgs, buf


def varlink_raw(path, data, timeout=10.0, count=1, want_eof=False):
    """Send raw bytes; return (replies, eof).

    With want_eof, wait (up to timeout) for the daemon to close the connection
    after the replies and report whether it did; otherwise eof only tells
    whether it had closed before count replies arrived.  A daemon that rejects
    an oversized request may close before it has read all of it; EPIPE or
    ECONNRESET while sending is therefore not an error.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        msgs, _ = _read_messages(s, count=count, timeout=timeout)
        if len(msgs) < count:
            return msgs, True
        if not want_eof:
            return msgs, False
        s.settimeout(timeout)
        try:
            eof = s.recv(1) == b""
        except socket.timeout:
            eof = False
        except ConnectionResetError:
            eof = True
        return msgs, eof


def varlink_call(path, method, parameters=None, timeout=10.0):
    """One non-streaming call; returns the reply's parameters, fails on an error reply."""
    msg = {"method": method}
    if parameters is not None:
        msg["parameters"] = parameters
    replies, _ = varlink_raw(path, json.dumps(msg).encode() + b"\0", timeout=timeout)
    check(replies, f"{method}: connection closed without a reply")
    r = replies[0]
    if "error" in r:
        fail(f"{method}: error reply {r}")
    return r.get("parameters", {})


# --------------------------------------------------------------------------
# Processes we started, killed at exit whatever happens

_procs = []
_cleanups = []


def _track(p):
    _procs.append(p)
    return p


def _kill_all():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception as e:  # cleanup must go on
            print(f"# cleanup: {e}", file=sys.stderr)
    _cleanups.clear()


atexit.register(_kill_all)


class Reader(threading.Thread):
    """Drain a pipe into a list of lines, so that a chatty child never blocks."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.lines = []
        self.lock = threading.Lock()

    def run(self):
        for line in iter(self.pipe.readline, ""):
            with self.lock:
                self.lines.append(line)
        self.pipe.close()

    def text(self):
        with self.lock:
            return "".join(self.lines)

    def wait_line(self, regex, timeout, what, proc=None):
        rx = re.compile(regex)

        def seen():
            with self.lock:
                for ln in self.lines:
                    m = rx.search(ln)
                    if m:
                        return m
            if proc is not None and proc.poll() is not None and not self.is_alive():
                fail(f"{what}: the process exited with status {proc.returncode} first; "
                     f"output: {self.text()!r}")
            return None

        return wait_for(seen, timeout, what)


# --------------------------------------------------------------------------
# Topology: two namespaces joined by a veth pair

_used_nets = set()


class Topology:
    """Namespaces A and B joined by veth, with IPv4 and IPv6 on both ends.

    A: veth_a, a4 = 10.199.N.1, a4_2 = 10.199.N.11, a6 = fd00:199:N::1
    B: veth_b, b4 = 10.199.N.2, b4_2 = 10.199.N.12, b6 = fd00:199:N::2
    """

    def __init__(self, n=None):
        if n is None:
            n = random.choice([i for i in range(10, 250) if i not in _used_nets])
        _used_nets.add(n)
        self.n = n
        tag = f"{os.getpid()}-{n}"
        self.a = f"skbt-a-{tag}"
        self.b = f"skbt-b-{tag}"
        self.veth_a = f"skbt{n}a"
        self.veth_b = f"skbt{n}b"
        self.a4, self.b4 = f"10.199.{n}.1", f"10.199.{n}.2"
        self.a4_2, self.b4_2 = f"10.199.{n}.11", f"10.199.{n}.12"
        self.a6, self.b6 = f"fd00:199:{n}::1", f"fd00:199:{n}::2"
        self.created = []
        self.bg = []

    # -- lifecycle --

    def create(self):
        _cleanups.append(self.destroy)
        for ns in (self.a, self.b):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            # No DAD and no router solicitations: addresses usable at once, less noise.
            for k, v in (("accept_dad", "0"), ("dad_transmits", "0"), ("router_solicitations", "0")):
                for scope in ("all", "default"):
                    self.ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{scope}.{k}={v}"],
                                check_rc=False)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.a, "link", "add", self.veth_a, "type", "veth",
             "peer", "name", self.veth_b, "netns", self.b])
        for ns, dev, v4, v4_2, v6 in ((self.a, self.veth_a, self.a4, self.a4_2, self.a6),
                                      (self.b, self.veth_b, self.b4, self.b4_2, self.b6)):
            run(["ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", dev])
            run(["ip", "-n", ns, "addr", "add", f"{v4_2}/24", "dev", dev])
            run(["ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        self.ifindex_a = self._ifindex(self.a, self.veth_a)
        self.ifindex_b = self._ifindex(self.b, self.veth_b)
        self.netns_a = os.stat(f"/run/netns/{self.a}").st_ino
        self.netns_b = os.stat(f"/run/netns/{self.b}").st_ino
        # Ready when traffic flows both ways on both families (also fills the
        # neighbour caches, so that tests see no ARP/NDP in the first packets).
        for ns, dst in ((self.a, self.b4), (self.b, self.a4), (self.a, self.b6),
                        (self.b, self.a6), (self.a, self.b4_2), (self.b, self.a4_2)):
            wait_for(lambda: self.ns_run(ns, ["ping", "-n", "-q", "-c", "1", "-W", "1", dst],
                                         check_rc=False, timeout=5).returncode == 0,
                     10, f"ping {dst} from {ns} after creating the topology")
        log(f"topology: {self.a} {self.veth_a} {self.a4},{self.a4_2},{self.a6} <-> "
            f"{self.b} {self.veth_b} {self.b4},{self.b4_2},{self.b6}")
        return self

    def destroy(self):
        for p in self.bg:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        self.bg.clear()
        for ns in self.created:
            subprocess.run(["ip", "netns", "del", ns], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        self.created.clear()

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()

    def _ifindex(self, ns, dev):
        out = run(["ip", "-n", ns, "-j", "link", "show", "dev", dev]).stdout
        return json.loads(out)[0]["ifindex"]

    # -- running things inside a namespace --

    @staticmethod
    def ns_cmd(ns, cmd):
        return ["ip", "netns", "exec", ns] + list(cmd)

    def ns_run(self, ns, cmd, timeout=30, check_rc=True, input=None):
        return run(self.ns_cmd(ns, cmd), timeout=timeout, check_rc=check_rc, input=input)

    def ns_python(self, ns, code, *args, timeout=30, check_rc=True):
        return self.ns_run(ns, [sys.executable, "-c", code] + [str(a) for a in args],
                           timeout=timeout, check_rc=check_rc)

    def ns_spawn(self, ns, cmd, ready=None, timeout=10):
        """Start cmd in ns in the background; wait for a stdout line matching ready."""
        p = _track(subprocess.Popen(self.ns_cmd(ns, cmd), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        self.bg.append(p)
        p.out = Reader(p.stdout)
        p.err = Reader(p.stderr)
        p.out.start()
        p.err.start()
        if ready:
            p.out.wait_line(ready, timeout, f"'{ready}' from {' '.join(cmd[:3])} in {ns}", proc=p)
        return p

    def ns_of(self, side):
        return self.a if side == "a" else self.b

    # -- traffic --

    def ping(self, src_ns, dst, count=3, interval=0.2, source=None, check_rc=True):
        cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", "2"]
        if source:
            cmd += ["-I", source]
        return self.ns_run(src_ns, cmd + [dst], timeout=count * interval + 15, check_rc=check_rc)

    def ping_ab(self, count=3, **kw):
        return self.ping(self.a, self.b4, count=count, **kw)

    def ping_spawn(self, src_ns, dst, count=10, interval=0.1, source=None):
        cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", "2"]
        if source:
            cmd += ["-I", source]
        return self.ns_spawn(src_ns, cmd + [dst])

    def udp_send(self, src_ns, dst, port, count=3, interval=0.05, sport=0, payload="skbt"):
        """Send count UDP datagrams from src_ns to dst:port (no reply expected)."""
        return self.ns_python(src_ns, _UDP_SEND, dst, port, count, interval, sport, payload,
                              timeout=count * interval + 15)

    def udp_spawn(self, src_ns, dst, port, count=20, interval=0.05, sport=0, payload="skbt"):
        return self.ns_spawn(src_ns, [sys.executable, "-c", _UDP_SEND, dst, str(port), str(count),
                                      str(interval), str(sport), payload])

    def udp_sink(self, ns, ports):
        """UDP receivers on every address of ns, IPv4 and IPv6, for the given ports."""
        return self.ns_spawn(ns, [sys.executable, "-c", _UDP_SINK] + [str(p) for p in ports],
                             ready=r"^ready")

    def tcp_server(self, ns, port):
        """A TCP server on every address of ns that answers each line with 'ok'."""
        return self.ns_spawn(ns, [sys.executable, "-c", _TCP_SERVER, str(port)], ready=r"^ready")

    def tcp_request(self, src_ns, dst, port, data="hello"):
        """Connect, send a line, return the reply line."""
        r = self.ns_python(src_ns, _TCP_CLIENT, dst, port, data, timeout=20)
        return r.stdout.strip()

    @staticmethod
    def wait_bg(procs, timeout=30):
        deadline = time.monotonic() + timeout
        for p in procs:
            left = max(0.1, deadline - time.monotonic())
            try:
                p.wait(timeout=left)
            except subprocess.TimeoutExpired:
                fail(f"background traffic {p.args} did not finish within {timeout} s")
            if hasattr(p, "out"):
                p.out.join(5)
                p.err.join(5)
            check(p.returncode == 0, f"background traffic {p.args} failed with status "
                  f"{p.returncode}: {p.err.text() if hasattr(p, 'err') else ''}")


_UDP_SEND = r"""
import socket, sys, time
dst, port, count, interval, sport, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), int(sys.argv[5]), sys.argv[6].encode()
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if sport:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
for i in range(count):
    s.sendto(payload, (dst, port))
    time.sleep(interval)
"""

_UDP_SINK = r"""
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        data, peer = key.fileobj.recvfrom(65536)
        print("got", key.fileobj.getsockname()[1], peer[0], len(data), flush=True)
"""

_TCP_SERVER = r"""
import socket, sys
port = int(sys.argv[1])
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.bind(("::", port))
srv.listen(16)
print("ready", flush=True)
while True:
    c, peer = srv.accept()
    with c:
        c.settimeout(10)
        f = c.makefile("rwb")
        line = f.readline()
        f.write(b"ok " + line)
        f.flush()
    print("served", peer[0], flush=True)
"""

_TCP_CLIENT = r"""
import socket, sys
dst, port, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = socket.create_connection((dst, port), timeout=10)
f = c.makefile("rwb")
f.write(data.encode() + b"\n")
f.flush()
print(f.readline().decode().strip())
c.close()
"""


# --------------------------------------------------------------------------
# The daemon

class Daemon:
    """skbtraced on a temporary socket."""

    def __init__(self, workdir, args=()):
        self.bin = skbtraced_path()
        self.ctl = ipftctl_path()
        self.dir = tempfile.mkdtemp(prefix="daemon-", dir=workdir)
        self.sock = os.path.join(self.dir, "s.sock")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.args = list(args)
        self.proc = None
        # False: leave the groups file to the daemon's own default.
        self.groups_arg = True

    def start(self, timeout=60):
        _cleanups.append(self._cleanup)
        self.logf = open(self.log_path, "w")
        cmd = [self.bin, "--socket", self.sock, "-v"]
        # The probe groups of the source tree: a build-tree daemon has no installed ones.
        if self.groups_arg and "--groups" not in self.args and os.path.exists(GROUPS_CONF):
            cmd += ["--groups", GROUPS_CONF]
        cmd += self.args
        log(f"starting {' '.join(cmd)}")
        t0 = time.monotonic()
        self.proc = _track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                            stderr=subprocess.STDOUT))
        last = None
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                fail(f"skbtraced exited with status {self.proc.returncode} before it was ready\n"
                     f"{self.log_text()}")
            if os.path.exists(self.sock):
                last = self.ctl_run(["status"], timeout=10, check_rc=False)
                if last.returncode == 0:
                    break
            if time.monotonic() >= deadline:
                detail = (f"last 'ipftctl status': status {last.returncode}: {last.stderr.strip()}"
                          if last else f"{self.sock} never appeared")
                fail(f"skbtraced not ready after {timeout} s ({detail})\n{self.log_text()}")
            time.sleep(0.1)
        log(f"skbtraced ready after {time.monotonic() - t0:.2f} s")
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def ctl_run(self, args, timeout=30, check_rc=True):
        return run([self.ctl, "--socket", self.sock] + list(args), timeout=timeout,
                   check_rc=check_rc)

    def status(self):
        return varlink_call(self.sock, "io.skbtraced.Status")

    def list_probes(self):
        r = self.ctl_run(["list", "-o", "json"])
        return [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]

    def active_sessions(self):
        return int(self.status()["sessions"]["active"])

    def terminate(self, timeout=5.0):
        """SIGTERM; return the exit status; fail if it does not exit in time."""
        check(self.running(), "skbtraced is not running (it died earlier?)\n" + self.log_text())
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            fail(f"skbtraced did not exit within {timeout} s of SIGTERM\n{self.log_text()}")
        log(f"skbtraced exited with status {rc} {time.monotonic() - t0:.2f} s after SIGTERM")
        return rc

    def stop(self):
        rc = self.terminate()
        check(rc == 0, f"skbtraced exited with status {rc} after SIGTERM, want 0\n"
              f"{self.log_text()}")

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def log_text(self, tail=200):
        """The end of the daemon's log, without libbpf's debug chatter (-v)."""
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return "(no daemon log)"
        keep = [ln for ln in lines
                if "libbpf:" not in ln or re.search(r"error|fail|warn|invalid", ln, re.I)]
        cut = keep[-tail:]
        omitted = len(lines) - len(keep)
        head = (f"--- skbtraced log ({self.log_path}), last {len(cut)} lines"
                + (f", {omitted} libbpf debug lines left out" if omitted else "") + " ---\n")
        return head + "".join(cut) + "--- end of skbtraced log ---"

    def _cleanup(self):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    # -- sessions --

    def trace(self, *args, output="json"):
        return Session(self, list(args), output=output)


class Result:
    def __init__(self, rc, stdout, stderr, output):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.events = []
        if output == "json":
            for i, line in enumerate(stdout.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    fail(f"stdout line {i} is not JSON: {line!r}")
                check(isinstance(ev, dict), f"stdout line {i} is not a JSON object: {line!r}")
                self.events.append(ev)
        m = SUMMARY_RE.search(stderr)
        self.summary = None
        if m:
            self.summary = {"events": int(m.group(1)), "lost": int(m.group(2)),
                            "lost_ringbuf": int(m.group(3)), "lost_queue": int(m.group(4)),
                            "lost_missed": int(m.group(5) or 0), "duration": float(m.group(6))}

    def describe(self, n=20):
        evs = "\n".join(json.dumps(e) for e in self.events[:n])
        more = f"\n... {len(self.events) - n} more" if len(self.events) > n else ""
        return (f"ipftctl exit status {self.rc}, {len(self.events)} events\n"
                f"stderr:\n{self.stderr.strip()}\nfirst events:\n{evs}{more}")


class Session:
    """One 'ipftctl trace' run.

        with daemon.trace("-p", "icmp") as s:   # returns once the session is live
            ...traffic...
        s.result                                 # after the block: SIGINT, then collected

    With --count or --duration use s.wait() inside the block instead.
    """

    def __init__(self, daemon, args, output="json"):
        self.d = daemon
        self.args = args
        self.output = output
        self.proc = None
        self.result = None
        self.probes = None

    def start(self, timeout=20):
        cmd = [self.d.ctl, "--socket", self.d.sock, "trace"] + self.args + ["-o", self.output]
        log(f"session: {' '.join(cmd[3:])}")
        self.t_start = time.monotonic()
        self.proc = _track(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))
        self.out = Reader(self.proc.stdout)
        self.err = Reader(self.proc.stderr)
        self.out.start()
        self.err.start()

        # Live when the client says "Tracing N probes" and, if probes were still attaching,
        # that all of them are (so traffic sent next is seen everywhere it goes).
        def live():
            err = self.err.text()
            m = STARTED_RE.search(err)
            if m:
                self.probes = int(m.group(1))
                if not ATTACHING_RE.search(err) or SETTLED_RE.search(err):
                    return True
            if self.proc.poll() is not None:
                # A --count/--duration session may already be over; that is for wait() to judge.
                return "exited"
            return False

        try:
            wait_for(live, timeout, f"session '{' '.join(self.args)}' to start", interval=0.05)
        except TestFailure as e:
            fail(f"{e}\nipftctl stderr: {self.err.text()!r}\n{self.d.log_text()}")
        self.t_live = time.monotonic()
        return self

    def events_so_far(self):
        """Events printed so far (complete JSON lines only)."""
        evs = []
        for line in self.out.text().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict):
                evs.append(ev)
        return evs

    def wait_event(self, pred, timeout=10, what="the expected event"):
        """Wait until an event matching pred has been printed, so that ending the
        session cannot race with events still on their way.  Returns False on
        timeout: the caller's checks then say what is missing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(ev) for ev in self.events_so_far()):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        log(f"note: not seen within {timeout} s: {what}")
        return False

    def _collect(self, rc):
        self.out.join(10)
        self.err.join(10)
        self.result = Result(rc, self.out.text(), self.err.text(), self.output)
        return self.result

    def wait(self, timeout=30):
        """Wait for the client to end by itself (--count, --duration, daemon shutdown)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            self._collect(-9)
            fail(f"ipftctl trace {' '.join(self.args)} did not end within {timeout} s\n"
                 f"{self.result.describe()}")
        self.t_end = time.monotonic()
        return self._collect(rc)

    def interrupt(self, timeout=15):
        """End the session like Ctrl-C does; return the Result."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if self.result is None and self.proc is not None:
            if exc_type is not None:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait(10)
                return False
            self.interrupt()
        return False


# --------------------------------------------------------------------------
# Checks on events (docs/output.md)

def tuple_of(ev):
    return ev.get("tuple") or {}


def proto_of(ev):
    p = tuple_of(ev).get("proto")
    if isinstance(p, str):
        return p.lower()
    return {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6", 132: "sctp"}.get(p, p)


def check_event_schema(ev):
    """Types of the members every event has (docs/output.md)."""
    where = json.dumps(ev)
    for key, typ in (("packet_id", str), ("timestamp", int), ("processor_id", int),
                     ("function", str), ("is_return", bool), ("mark", int), ("len", int),
                     ("ifindex", int), ("ifname", str), ("netns", int)):
        check(key in ev, f"event has no '{key}': {where}")
        v = ev[key]
        ok = isinstance(v, typ) and (typ is bool or not isinstance(v, bool))
        check(ok, f"event '{key}' is {type(v).__name__}, want {typ.__name__}: {where}")
    check(PACKET_ID_RE.match(ev["packet_id"]),
          f"packet_id {ev['packet_id']!r} is not a 0x-hex string: {where}")
    check(ev["function"], f"empty function name: {where}")
    check("tuple" in ev, f"event has no 'tuple' (object or null): {where}")
    t = ev["tuple"]
    if t is not None:
        check(isinstance(t, dict), f"tuple is not an object: {where}")
        for key in ("l3", "proto", "saddr", "daddr", "sport", "dport"):
            check(key in t, f"tuple has no '{key}': {where}")
        check(t["l3"] in ("ipv4", "ipv6"), f"tuple.l3 {t['l3']!r} not ipv4/ipv6: {where}")
        check(isinstance(t["sport"], int) and isinstance(t["dport"], int),
              f"tuple ports are not integers: {where}")
    if "icmp" in ev:
        for key in ("type", "code"):
            check(isinstance(ev["icmp"].get(key), int), f"icmp.{key} is not an integer: {where}")


def check_schema_all(events):
    for ev in events:
        check_event_schema(ev)


def check_timestamps_per_cpu(events):
    """Within one CPU the kernel's timestamps never go back."""
    last = {}
    for i, ev in enumerate(events):
        cpu, ts = ev["processor_id"], ev["timestamp"]
        if cpu in last:
            check(ts >= last[cpu][1], f"timestamp goes back on CPU {cpu}: event {last[cpu][0]} "
                  f"has {last[cpu][1]}, event {i} has {ts}")
        last[cpu] = (i, ts)


def between(ev, x, y):
    """The event's packet goes from address x to address y."""
    t = tuple_of(ev)
    return t.get("saddr") == x and t.get("daddr") == y


def involves(ev, addr):
    t = tuple_of(ev)
    return addr in (t.get("saddr"), t.get("daddr"))


# --------------------------------------------------------------------------
# BPF objects in the kernel (bpftool)

def _bpftool_list(kind):
    """Every BPF KIND ("prog", "link"), as `bpftool KIND list -j` shows it.  An object
    released while bpftool walks the ids (daemons detaching: idle detach, other tests)
    makes it print an "error" entry (EAGAIN, "can't get link by id") and exit 255 after
    a complete list: those entries are left out, and output that is not valid JSON is
    read again."""
    for _ in range(5):
        r = run(["bpftool", kind, "list", "-j"], timeout=30, check_rc=False)
        try:
            objs = json.loads(r.stdout or "[]")
        except ValueError:
            time.sleep(0.1)
            continue
        return [o for o in objs if "id" in o]
    fail(f"bpftool {kind} list -j failed 5 times: status {r.returncode}: {r.stderr.strip()}")


def bpf_progs():
    """{prog_id: name} of every loaded BPF program."""
    return {p["id"]: p.get("name", "") for p in _bpftool_list("prog")}


def bpf_link_list():
    """Every BPF link (see _bpftool_list)."""
    return _bpftool_list("link")


def bpf_links():
    """{link_id: prog_id} of every BPF link."""
    return {l["id"]: l.get("prog_id") for l in bpf_link_list()}


def our_prog_ids(prefix="skbt_"):
    return {i for i, name in bpf_progs().items() if name.startswith(prefix)}


# --------------------------------------------------------------------------
# Runner

class Context:
    """What a test function gets: a topology, a running daemon and helpers."""

    def __init__(self, workdir, topo, daemon):
        self.workdir = workdir
        self.topo = topo
        self.d = daemon

    def trace(self, *args, output="json"):
        return self.d.trace(*args, output=output)

    def new_daemon(self, args=()):
        return Daemon(self.workdir, args)

    def trace_on(self, daemon, *args, output="json"):
        return daemon.trace(*args, output=output)


def main(namespace, need_daemon=True, need_topology=True):
    """Run every test_* function of the calling module, in file order."""
    signal.signal(signal.SIGTERM, _sigterm)
    require_root()
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith("test_") and callable(fn)]
    only = os.environ.get("SKBT_E2E_ONLY")
    if only:
        tests = [(n, f) for n, f in tests if only in n]
    workdir = tempfile.mkdtemp(prefix="skbt-e2e-")
    keep = os.environ.get("SKBT_E2E_KEEP") == "1"
    failed = []
    topo = daemon = None
    try:
        try:
            if need_topology:
                topo = Topology().create()
            if need_daemon:
                daemon = Daemon(workdir).start()
        except TestFailure as e:
            print(f"not ok - setup\n{e}", flush=True)
            return _finish(1, workdir, keep=True)
        ctx = Context(workdir, topo, daemon)
        for i, (name, fn) in enumerate(tests, 1):
            t0 = time.monotonic()
            log(f"=== {name}")
            try:
                if daemon is not None and not daemon.running() and getattr(fn, "needs_daemon", True):
                    fail(f"skbtraced is not running: it exited with status {daemon.proc.returncode} "
                         f"during an earlier test\n" + daemon.log_text(40))
                fn(ctx)
                print(f"ok {i} - {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            except TestFailure as e:
                failed.append(name)
                print(f"not ok {i} - {name}\n{e}", flush=True)
                if daemon is not None and str(e).find("skbtraced log") < 0:
                    print(daemon.log_text(60), flush=True)
            except Exception:
                failed.append(name)
                print(f"not ok {i} - {name}: unexpected error\n{traceback.format_exc()}",
                      flush=True)
        if daemon is not None and daemon.running():
            try:
                daemon.stop()
            except TestFailure as e:
                failed.append("daemon shutdown")
                print(f"not ok - daemon shutdown\n{e}", flush=True)
    finally:
        _kill_all()
    print(f"# {len(tests) - len([f for f in failed if f != 'daemon shutdown'])} of "
          f"{len(tests)} passed", flush=True)
    return _finish(1 if failed else 0, workdir, keep=keep or bool(failed))


def _finish(rc, workdir, keep):
    if keep:
        print(f"# kept {workdir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(rc)


def needs_no_daemon(fn):
    """Mark a test that must run even if the shared daemon died."""
    fn.needs_daemon = False
    return fn
