# SPDX-License-Identifier: GPL-2.0-only
"""skbtbench.py - skbtraced benchmarks: session start, throughput, probe cost, idle overhead, memory.

Run through bench/run-all.sh (which builds first); see bench/README.md.  Standard library only.

Every measurement runs in this one process, side by side, so ratios compare like with like on
a noisy machine.  Traffic only flows between two network namespaces created here (veth pair
with addresses from 10.231.N.0/24), always bounded in time and count; the namespaces, the
daemon and every helper process are removed at exit, whatever happens.

CPU layout on a 2-CPU machine: the traffic generator (and the softirq work its packets cause,
including every probe hit) runs on CPU 0; the daemon and its clients run on CPU 1.  So
"events/s on one core" means the daemon and the client share CPU 1.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

EXIT_SKIP = 77
FLOOD_PORT = 47009       # the port every benchmark flow goes to (nobody listens there)
OTHER_PORT = 47999       # a port no benchmark packet goes to: "sessions active, no match"
PRODUCER_CPU = "0"
CONSUMER_CPU = "1"
# The daemons here close their tracepoint links this long after the last session (skbtraced(8)
# idle_detach_after; default 10 s): short, so "idle" is reached quickly; the state it reaches
# is the same as with the default.
BENCH_LINGER = "1"
# A session after idle detach starts this long (s) after the links were closed, well past the
# RCU grace period that a re-attach right after the detach waits for.
COLD_GAP = 0.3
# The session start cases after an idle detach: results key, report label.
COLD_CASES = (("ipftctl_cold", "after idle detach"), ("ipftctl_cold_now", "right after idle detach"))
SUMMARY_RE = re.compile(
    r"(\d+) events received, (\d+) lost \(ring buffer (\d+), queue (\d+)"
    r"(?:, skipped by the kernel (\d+))?\), duration ([0-9.]+)s")

_procs = []
_cleanups = []


class BenchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, timeout=60, check=True, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise BenchError(f"command failed ({r.returncode}): {shlex.join(cmd)}\n{r.stderr.strip()}")
    return r


def spawn(cmd, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(cmd, **kw)
    _procs.append(p)
    return p


def stop_proc(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def cleanup():
    for p in reversed(_procs):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception as e:  # cleanup goes on
            log(f"cleanup: {e}")
    _cleanups.clear()


def wait_for(pred, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def pct(values, p):
    """Percentile by linear interpolation between closest ranks."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def cpu_ticks(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_fdinfo(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def bpf_syscall(cmd, attr):
    """bpf(2) with a prepared attr buffer; returns the result or raises OSError."""
    libc = ctypes.CDLL(None, use_errno=True)
    nr_bpf = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
    if not nr_bpf:
        raise OSError(0, "unknown bpf(2) syscall number on this machine")
    r = libc.syscall(nr_bpf, cmd, attr, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def prog_fdinfo_by_id(prog_id):
    """A program's fdinfo, through an fd of our own (BPF_PROG_GET_FD_BY_ID)."""
    attr = ctypes.create_string_buffer(16)
    ctypes.c_uint32.from_buffer(attr, 0).value = prog_id
    fd = bpf_syscall(13, attr)  # BPF_PROG_GET_FD_BY_ID
    try:
        return read_fdinfo(f"/proc/self/fdinfo/{fd}")
    finally:
        os.close(fd)


def map_sizes(info):
    """{map name: memlock bytes} of the maps in a bpf_fdinfo() result (names from bpftool;
    maps of one name are summed)."""
    out = {}
    for (kind, mid), v in info.items():
        if kind != "map":
            continue
        r = run(["bpftool", "-j", "map", "show", "id", str(mid)], check=False)
        try:
            name = json.loads(r.stdout).get("name") or f"id {mid}"
        except ValueError:
            name = f"id {mid}"
        out[name] = out.get(name, 0) + int(v.get("memlock", 0))
    return out


def bpf_fdinfo(pid):
    """BPF programs and maps a process holds: {('prog'|'map', id): fdinfo dict}.  Programs
    include those it holds only through a BPF link (the daemon closes a function program's fd
    once its link holds it; tracepoint programs keep theirs, to re-attach after an idle
    detach): their fdinfo is read through an fd of our own."""
    out = {}
    linked = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link not in ("anon_inode:bpf-prog", "anon_inode:bpf-map", "anon_inode:bpf_link"):
                continue
            info = read_fdinfo(f"/proc/{pid}/fdinfo/{fd}")
        except (OSError, ValueError):
            continue
        if link == "anon_inode:bpf-prog" and "prog_id" in info:
            out[("prog", int(info["prog_id"]))] = info
        elif link == "anon_inode:bpf-map" and "map_id" in info:
            out[("map", int(info["map_id"]))] = info
        elif link == "anon_inode:bpf_link" and "prog_id" in info:
            linked.add(int(info["prog_id"]))
    for prog_id in linked:
        if ("prog", prog_id) in out:
            continue
        try:
            out[("prog", prog_id)] = prog_fdinfo_by_id(prog_id)
        except (OSError, ValueError):
            continue
    return out


def prog_stats(pid):
    """Summed run_time_ns and run_cnt of the daemon's BPF programs (kernel BPF stats)."""
    t = n = 0
    for (kind, _), info in bpf_fdinfo(pid).items():
        if kind == "prog":
            t += int(info.get("run_time_ns", 0))
            n += int(info.get("run_cnt", 0))
    return t, n


# --------------------------------------------------------------------------
# kernel.bpf_stats_enabled, on only while measuring

class BpfStats:
    """BPF_ENABLE_STATS keeps run_time_ns counting while its fd is open, and stops on close
    (or when this process dies), so the system setting is never left changed.  Falls back to
    the sysctl, restored afterwards."""

    BPF_ENABLE_STATS = 32
    BPF_STATS_RUN_TIME = 0

    def __init__(self):
        self.fd = -1
        self.old = None

    def __enter__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        attr = ctypes.create_string_buffer(16)
        ctypes.c_uint32.from_buffer(attr, 0).value = self.BPF_STATS_RUN_TIME
        nr_bpf = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
        fd = libc.syscall(nr_bpf, self.BPF_ENABLE_STATS, attr, 16) if nr_bpf else -1
        if fd >= 0:
            self.fd = fd
            return self
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            self.old = f.read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        return self

    def __exit__(self, *exc):
        if self.fd >= 0:
            os.close(self.fd)
        elif self.old is not None:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(self.old)


class FloorProgs:
    """The measurement floor: an empty raw_tp program ("return 0") attached to each of the
    daemon's tracepoints, next to the daemon's own programs.  Its run_time_ns / run_cnt over
    the same hits is what the kernel's dispatch and the statistics themselves (a clock read
    before and after every run) cost, with no program body at all.  Loaded with the bpf(2)
    syscall directly (no compiler needed): two instructions, type BPF_PROG_TYPE_RAW_TRACEPOINT,
    attached with BPF_RAW_TRACEPOINT_OPEN."""

    BPF_PROG_LOAD = 5
    BPF_RAW_TRACEPOINT_OPEN = 17
    BPF_PROG_TYPE_RAW_TRACEPOINT = 17
    # r0 = 0; exit
    INSNS = bytes([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])

    def __init__(self, tracepoints):
        self.fds = []
        self.prog_fds = []
        for tp in tracepoints:
            self._attach(tp.split(":", 1)[-1])

    def _bpf(self, cmd, attr):
        try:
            return bpf_syscall(cmd, attr)
        except OSError as e:
            raise BenchError(f"floor programs: bpf({cmd}): {e}") from e

    def _attach(self, name):
        insns = ctypes.create_string_buffer(self.INSNS, len(self.INSNS))
        lic = ctypes.create_string_buffer(b"GPL")
        attr = ctypes.create_string_buffer(128)
        ctypes.c_uint32.from_buffer(attr, 0).value = self.BPF_PROG_TYPE_RAW_TRACEPOINT
        ctypes.c_uint32.from_buffer(attr, 4).value = len(self.INSNS) // 8
        ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(insns)
        ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(lic)
        ctypes.memmove(ctypes.addressof(attr) + 48, b"skbt_floor", 10)  # prog_name
        pfd = self._bpf(self.BPF_PROG_LOAD, attr)
        self.fds.append(pfd)
        self.prog_fds.append(pfd)
        tpname = ctypes.create_string_buffer(name.encode())
        attr = ctypes.create_string_buffer(16)
        ctypes.c_uint64.from_buffer(attr, 0).value = ctypes.addressof(tpname)
        ctypes.c_uint32.from_buffer(attr, 8).value = pfd
        self.fds.append(self._bpf(self.BPF_RAW_TRACEPOINT_OPEN, attr))

    def stats(self):
        """Summed run_time_ns and run_cnt of the empty programs."""
        t = n = 0
        for fd in self.prog_fds:
            info = read_fdinfo(f"/proc/self/fdinfo/{fd}")
            t += int(info.get("run_time_ns", 0))
            n += int(info.get("run_cnt", 0))
        return t, n

    def close(self):
        for fd in reversed(self.fds):
            os.close(fd)
        self.fds.clear()
        self.prog_fds.clear()


# --------------------------------------------------------------------------
# Topology: two namespaces joined by veth

class Topology:
    def __init__(self):
        self.n = random.randint(10, 250)
        tag = f"{os.getpid()}"
        self.a, self.b = f"skbtb-a-{tag}", f"skbtb-b-{tag}"
        self.va, self.vb = f"skbtb{self.n}a", f"skbtb{self.n}b"
        self.a4, self.b4 = f"10.231.{self.n}.1", f"10.231.{self.n}.2"
        self.created = []

    def create(self):
        _cleanups.append(self.destroy)
        for ns in (self.a, self.b):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.a, "link", "add", self.va, "type", "veth", "peer", "name", self.vb,
             "netns", self.b])
        run(["ip", "-n", self.a, "addr", "add", f"{self.a4}/24", "dev", self.va])
        run(["ip", "-n", self.b, "addr", "add", f"{self.b4}/24", "dev", self.vb])
        run(["ip", "-n", self.a, "link", "set", self.va, "up"])
        run(["ip", "-n", self.b, "link", "set", self.vb, "up"])
        wait_for(lambda: run(self.ns(self.a, ["ping", "-n", "-q", "-c", "1", "-W", "1", self.b4]),
                             check=False, timeout=5).returncode == 0, 10, "ping across the veth")
        return self

    def destroy(self):
        for ns in self.created:
            subprocess.run(["ip", "netns", "del", ns], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        self.created.clear()

    @staticmethod
    def ns(ns, cmd):
        return ["ip", "netns", "exec", ns] + list(cmd)


# --------------------------------------------------------------------------
# The daemon and its clients

class Build:
    """One build's daemon and client.  Each daemon is driven with its own build's ipftctl (an
    older daemon need not accept what a newer client sends).  A daemon from before attach on
    demand has no --keep-attached: it holds its links from the start by itself."""

    def __init__(self, label, skbtraced, ipftctl):
        for f in (skbtraced, ipftctl):
            if not os.access(f, os.X_OK):
                raise BenchError(f"{f} is missing or not executable")
        self.label, self.skbtraced, self.ipftctl = label, skbtraced, ipftctl
        r = run([skbtraced, "--help"], check=False)
        self.keep_attached = "--keep-attached" in r.stdout + r.stderr

    @classmethod
    def from_daemon(cls, label, skbtraced):
        """A build from its daemon's path: BUILDDIR/daemon/skbtraced next to
        BUILDDIR/client/ipftctl (the layout of every meson build of this project)."""
        skbtraced = os.path.abspath(skbtraced)
        if os.path.isdir(skbtraced):
            skbtraced = os.path.join(skbtraced, "daemon", "skbtraced")
        top = os.path.dirname(os.path.dirname(skbtraced))
        return cls(label, skbtraced, os.path.join(top, "client", "ipftctl"))


class Daemon:
    def __init__(self, bench, cpu=CONSUMER_CPU, linger=BENCH_LINGER, verbose=False, env=None,
                 build=None):
        self.bench = bench
        self.build = build or bench.build
        self.sock = os.path.join(bench.tmp, f"skbtraced-{len(_procs)}.sock")
        self.log = open(os.path.join(bench.tmp, "skbtraced.log"), "a")
        self.linger = linger
        cmd = ["taskset", "-c", cpu, self.build.skbtraced, "--socket", self.sock]
        if linger is not None:
            cmd += ["--idle-detach-after", linger]
        # Probes are attached on demand: "never" here means the links are held while idle,
        # from the start, as they were before attach on demand (keep_attached = all).
        if linger == "never" and self.build.keep_attached:
            cmd += ["--keep-attached", "all"]
        if verbose:
            cmd += ["-v"]  # the re-attach times are logged at debug level
        self.cmd = cmd
        self.p = spawn(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                       env=dict(os.environ, **env) if env else None)
        self.pid = self.p.pid
        # Ready = answers Status (docs/protocol.md); never sleep-and-hope.
        wait_for(lambda: self.p.poll() is not None or self._status_ok(), 60, "skbtraced to start")
        if self.p.poll() is not None:
            raise BenchError(f"skbtraced exited with {self.p.returncode}; see {self.log.name}")
        if linger == "never" and self.build.keep_attached:
            wait_for(lambda: self._kept_attached(), 120, "the kept probes to be attached")

    def _kept_attached(self):
        a = self.status().get("attach", {})
        return a.get("pending", 1) == 0 and a.get("linked", 0) >= a.get("kept", 1) > 0

    def call(self, method, params=None, timeout=10):
        msg = {"method": method, "parameters": params or {}}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(json.dumps(msg).encode() + b"\0")
            buf = b""
            while b"\0" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise BenchError(f"{method}: connection closed")
                buf += chunk
        reply = json.loads(buf.split(b"\0", 1)[0])
        if "error" in reply:
            raise BenchError(f"{method}: {reply}")
        return reply["parameters"]

    def _status_ok(self):
        try:
            return self.call("io.skbtraced.Status", timeout=2)
        except (OSError, BenchError, ValueError):
            return None

    def status(self):
        return self.call("io.skbtraced.Status")

    def tracepoints(self):
        """The state of the tracepoint links (Status 'tracepoints'), or {} from an older daemon."""
        return self.status().get("tracepoints", {})

    def wait_loaded(self, timeout=120):
        """Until the programs the daemon loads in the background after start-up are loaded
        (Status 'tracepoints': 'loaded' reaches 'usable', 'attach': nothing pending).  The
        throughput and session start cases measure a daemon in its steady state: verifying
        those programs takes seconds of the daemon's CPU (Status 'attach.loads'), which would
        otherwise land in their window, on the CPU they measure.  A daemon that loads before
        it answers (before attach on demand) passes at once."""
        def loaded():
            st = self.status()
            tp = st.get("tracepoints", {})
            return (tp.get("loaded", 0) >= tp.get("usable", 0) and
                    st.get("attach", {}).get("pending", 0) == 0)
        wait_for(loaded, timeout, "the daemon to load its programs", interval=0.05)

    def wait_detached(self, timeout=60):
        """Until the linger after the last session ran out and the links are closed, and the
        programs the daemon loads in the background after start-up are loaded ('loaded'
        reaches 'usable'): idle cases must not measure the loading's CPU (the daemon shares
        a CPU with the traffic)."""
        def idle():
            tp = self.tracepoints()
            return tp.get("idle_detached") and tp.get("loaded", 0) >= tp.get("usable", 0)
        wait_for(idle, timeout, "the daemon to detach its idle tracepoint links and finish "
                 "loading its programs", interval=0.05)

    def stats_map(self):
        """(records emitted, records not reserved: ring buffer full), summed over CPUs."""
        for (kind, mid), info in bpf_fdinfo(self.pid).items():
            if kind != "map" or info.get("map_type") != "6":  # BPF_MAP_TYPE_PERCPU_ARRAY
                continue
            r = run(["bpftool", "-j", "map", "dump", "id", str(mid)])
            entries = json.loads(r.stdout)
            names = run(["bpftool", "-j", "map", "show", "id", str(mid)])
            if json.loads(names.stdout).get("name") != "stats":
                continue
            vals = {}
            for e in entries:
                key = e.get("key", 0)
                if isinstance(key, list):
                    key = int(key[0], 16)
                vals[key] = sum(int(v["value"]) if not isinstance(v["value"], list)
                                else int.from_bytes(bytes(int(x, 16) for x in v["value"]),
                                                    "little")
                                for v in e["values"])
            return vals.get(0, 0), vals.get(1, 0)
        raise BenchError("the daemon's stats map was not found")

    def stop(self):
        stop_proc(self.p, signal.SIGTERM, timeout=60)


class Client:
    """ipftctl trace with stdout to /dev/null (or a pipe, to count lines); stderr to a file."""

    def __init__(self, bench, daemon, args, stdout=subprocess.DEVNULL, cpu=CONSUMER_CPU):
        self.cmd = [daemon.build.ipftctl, "--socket", daemon.sock, "trace"] + list(args)
        self.errf = tempfile.TemporaryFile(mode="w+", dir=bench.tmp)
        self.wc = None
        if stdout == subprocess.PIPE:
            # wc -l counts what the client wrote, at C speed, on the consumer CPU.
            r, w = os.pipe()
            self.wc = spawn(["taskset", "-c", cpu, "wc", "-l"], stdin=r, stdout=subprocess.PIPE,
                            text=True)
            os.close(r)
            self.p = spawn(["taskset", "-c", cpu] + self.cmd, stdout=w, stderr=self.errf)
            os.close(w)
        else:
            self.p = spawn(["taskset", "-c", cpu] + self.cmd, stdout=stdout, stderr=self.errf)
        self.lines = 0

    def err(self):
        self.errf.seek(0)
        return self.errf.read()

    def started(self):
        return self.p.poll() is not None or "Tracing" in self.err()

    def finish(self, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)  # ipftctl half-closes and prints the summary
        self.p.wait(timeout=timeout)
        if self.wc:
            self.lines = int(self.wc.communicate(timeout=timeout)[0].split()[0])
        m = SUMMARY_RE.search(self.err())
        if not m:
            raise BenchError(f"no summary from {shlex.join(self.cmd)}: {self.err()!r}")
        return {"events": int(m.group(1)), "lost": int(m.group(2)),
                "lost_ringbuf": int(m.group(3)), "lost_queue": int(m.group(4)),
                "lost_missed": int(m.group(5) or 0)}


# --------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.smoke = args.smoke
        b = os.path.abspath(args.builddir)
        self.skbtraced = os.path.join(b, "daemon", "skbtraced")
        self.ipftctl = os.path.join(b, "client", "ipftctl")
        self.floodgen = os.path.join(b, "bench", "floodgen")
        for f in (self.skbtraced, self.ipftctl, self.floodgen):
            if not os.access(f, os.X_OK):
                raise BenchError(f"{f} is missing: build first (meson compile -C {args.builddir})")
        self.build = Build("new", self.skbtraced, self.ipftctl)
        self.base = Build.from_daemon("base", args.base) if args.base else None
        self.rounds = args.rounds
        self.tmp = tempfile.mkdtemp(prefix="skbt-bench-")
        _cleanups.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.topo = Topology().create()
        self.results = {}

    # -- helpers --

    def flood_cmd(self, duration, rate=None, count=None, port=FLOOD_PORT):
        cmd = ["taskset", "-c", PRODUCER_CPU, self.floodgen, "--duration", str(duration)]
        if rate:
            cmd += ["--rate", str(rate)]
        if count:
            cmd += ["--count", str(count)]
        return Topology.ns(self.topo.a, cmd + [self.topo.b4, str(port)])

    def flood(self, duration, rate=None):
        r = run(self.flood_cmd(duration, rate), timeout=duration + 30)
        m = dict(kv.split("=") for kv in r.stdout.split())
        return {k: float(v) for k, v in m.items()}

    def flood_bg(self, duration, rate):
        return spawn(self.flood_cmd(duration, rate), stdout=subprocess.DEVNULL)

    def trace_args(self, fmt="json", port=FLOOD_PORT):
        return ["-p", "udp", "--daddr", self.topo.b4, "--dport", str(port), "-o", fmt]

    def start_clients(self, d, n, args, **kw):
        cs = [Client(self, d, args, **kw) for _ in range(n)]
        wait_for(lambda: all(c.started() for c in cs), 30, f"{n} sessions to start")
        for c in cs:
            if c.p.poll() is not None:
                raise BenchError(f"ipftctl exited: {c.err()}")
        return cs

    # -- 1. session start --

    def bench_start(self):
        runs = 5 if self.smoke else 100
        bt_runs = 1 if self.smoke else 10
        d = Daemon(self, linger="10")
        d.wait_loaded()
        probes = d.call("io.skbtraced.List")["probes"]
        tps = [p["name"] for p in probes if p["kind"] == "tracepoint" and p["attached"]]
        # Traffic flows the whole time: "first event" is then a few hundred µs after live.
        rate = 2000
        bg = self.flood_bg(duration=600, rate=rate)
        ipft_args = ["-c", "1"] + self.trace_args("json")
        ipft_cmd = [self.ipftctl, "--socket", d.sock, "trace"] + ipft_args

        def first_line(cmd, pattern=None, timeout=60):
            t0 = time.perf_counter()
            p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            rx = re.compile(pattern) if pattern else None
            dt = None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                if rx is None or rx.search(line):
                    dt = time.perf_counter() - t0
                    break
            stop_proc(p, signal.SIGINT)
            if dt is None:
                raise BenchError(f"no event line from {shlex.join(cmd)}")
            return dt

        try:
            # Warm: one session after another within the linger (10 s, the default), so the
            # tracepoint links stay held, as for a script running 'trace -c 1' in a loop.
            first_line(ipft_cmd)  # the daemon's first session, page cache
            tp0 = d.tracepoints()
            ipft = [first_line(ipft_cmd) for _ in range(runs)]
            tp1 = d.tracepoints()
            res = {"ipftctl": {"cmd": shlex.join(["ipftctl", "trace"] + ipft_args),
                               "runs": ipft, "probes": len(tps),
                               "reattaches": tp1.get("attaches", 0) - tp0.get("attaches", 0)}}
            d.stop()
            # Cold: idle_detach_after = 0, and each run starts once the links are closed: its
            # session pays the re-attach of every tracepoint link.  A tracepoint whose last
            # probe went away less than an RCU grace period ago makes its next attach wait
            # for that grace period (the kernel's tracepoint_add_func()), so a session that
            # arrives right after the detach is measured apart: with the default linger
            # (10 s) it is the rare case, the gap the common one.
            d = Daemon(self, linger="0", verbose=True)
            cold_cmd = [self.ipftctl, "--socket", d.sock, "trace"] + ipft_args
            first_line(cold_cmd)
            for key, gap, n in (("ipftctl_cold", COLD_GAP, runs),
                                ("ipftctl_cold_now", 0, 5 if self.smoke else 30)):
                cold, attach_us = [], []
                for _ in range(n):
                    d.wait_detached()
                    time.sleep(gap)
                    cold.append(first_line(cold_cmd))
                    attach_us.append(d.tracepoints().get("last_attach_us", 0))
                res[key] = {"cmd": res["ipftctl"]["cmd"], "runs": cold, "gap": gap,
                            "probes": len(tps), "attach_us": attach_us,
                            "linked": d.tracepoints().get("loaded", 0)}
            bt = shutil.which("bpftrace")
            if bt:
                prog1 = 'tracepoint:net:netif_receive_skb { printf("%s\\n", probe); exit(); }'
                progn = (",".join("tracepoint:" + t for t in tps) +
                         ' { printf("%s\\n", probe); exit(); }')
                pat = r"^tracepoint:"
                one = [first_line([bt, "-q", "-e", prog1], pat) for _ in range(bt_runs)]
                alln = [first_line([bt, "-q", "-e", progn], pat) for _ in range(bt_runs)]
                res["bpftrace_1"] = {"cmd": "bpftrace -q -e '" + prog1 + "'", "runs": one,
                                     "probes": 1}
                res["bpftrace_all"] = {
                    "cmd": f"bpftrace -q -e 'tracepoint:skb:consume_skb,... ({len(tps)} "
                           "tracepoints, the daemon's set) { printf(\"%s\\n\", probe); exit(); }'",
                    "runs": alln, "probes": len(tps)}
                res["bpftrace_version"] = run([bt, "--version"]).stdout.strip()
            else:
                res["bpftrace_missing"] = True
        finally:
            stop_proc(bg)
            d.stop()
        res["rate"] = rate
        self.results["start"] = res

    # -- 2. throughput --

    def throughput_case(self, fmt, nclients, duration, count_lines=False, record=None):
        d = Daemon(self)
        d.wait_loaded()
        extra = ["-w", record] if record else []
        try:
            stdout = subprocess.PIPE if count_lines else subprocess.DEVNULL
            cs = self.start_clients(d, nclients, self.trace_args(fmt) + extra, stdout=stdout)
            em0, full0 = d.stats_map()
            cpu0 = cpu_ticks(d.pid)
            ccpu0 = sum(cpu_ticks(c.p.pid) for c in cs)
            t0 = time.monotonic()
            fl = self.flood(duration)
            # Drained when the daemon stops using CPU: the window ends at its last busy tick.
            last_busy, prev = time.monotonic(), cpu_ticks(d.pid)
            while time.monotonic() - last_busy < 0.5:
                time.sleep(0.02)
                cur = cpu_ticks(d.pid)
                if cur != prev:
                    last_busy, prev = time.monotonic(), cur
            window = last_busy - t0
            cpu = cpu_ticks(d.pid) - cpu0
            ccpu = sum(cpu_ticks(c.p.pid) for c in cs) - ccpu0
            em1, full1 = d.stats_map()
            sums = [c.finish() for c in cs]
            lines = [c.lines for c in cs] if count_lines else []
        finally:
            d.stop()
        rec_bytes = os.path.getsize(record) if record and os.path.exists(record) else 0
        if record and os.path.exists(record):
            os.unlink(record)
        events = sum(s["events"] for s in sums)
        records, rb_full = em1 - em0, full1 - full0
        checks = []
        for i, s in enumerate(sums):
            ok = (s["events"] + s["lost_queue"] == records and s["lost_ringbuf"] == rb_full)
            if count_lines:
                ok = ok and lines[i] == s["events"]
            checks.append(ok)
        return {
            "fmt": fmt, "clients": nclients, "flood": fl, "window_s": window,
            "events": events, "events_per_s": events / window,
            "records": records, "rb_full": rb_full,
            "offered_per_s": (records + rb_full) * nclients / window,
            "lost_ringbuf": sum(s["lost_ringbuf"] for s in sums),
            "lost_queue": sum(s["lost_queue"] for s in sums),
            "daemon_cpu_s": cpu, "client_cpu_s": ccpu,
            "daemon_ns_per_event": cpu * 1e9 / events if events else float("nan"),
            "summaries": sums, "lines": lines, "accounting_exact": all(checks),
            "record_bytes": rec_bytes,
            "cmd": shlex.join(["ipftctl", "trace"] + self.trace_args(fmt) +
                              (["-w", os.path.basename(record)] if record else [])) +
                   (" | wc -l" if count_lines else " > /dev/null"),
        }

    def bench_throughput(self):
        dur = 1 if self.smoke else 5
        res = {}
        for fmt, n in (("json", 1), ("text", 1), ("json", 8)):
            log(f"throughput: {n} {fmt} client(s), {dur} s flood")
            res[f"{fmt}{n}"] = self.throughput_case(fmt, n, dur)
        log("throughput: accounting check with counted output lines")
        res["check"] = self.throughput_case("json", 1, dur, count_lines=True)
        # ipftctl trace -w: the daemon sends JSON with packet bytes, the client writes it
        # (zstd) and renders the text it shows from it.
        log("throughput: 1 recording client (-w FILE.zst, text shown)")
        res["record1"] = self.throughput_case("text", 1, dur,
                                              record=os.path.join(self.tmp, "rec.jsonl.zst"))
        res["flood_cmd"] = shlex.join(["floodgen", "--duration", str(dur), "B_ADDR",
                                       str(FLOOD_PORT)])
        self.results["throughput"] = res

    # -- 3. probe cost --

    def probe_case(self, d, floor, nsessions, port, rate, duration, args=None):
        args = args or self.trace_args("json", port)
        cs = self.start_clients(d, nsessions, args) if nsessions else []
        try:
            em0, full0 = d.stats_map()
            with BpfStats():
                t0, n0 = prog_stats(d.pid)
                ft0, fn0 = floor.stats()
                fl = self.flood(duration, rate)
                t1, n1 = prog_stats(d.pid)
                ft1, fn1 = floor.stats()
            em1, full1 = d.stats_map()
        finally:
            for c in cs:
                c.finish()
        hits, fhits = n1 - n0, fn1 - fn0
        return {"sessions": nsessions, "hits": hits, "ns_per_hit": (t1 - t0) / hits if hits else
                float("nan"), "matched": (em1 - em0) + (full1 - full0), "rb_full": full1 - full0,
                "floor_hits": fhits,
                "floor_ns_per_hit": (ft1 - ft0) / fhits if fhits else float("nan"),
                "rate": rate, "sent": fl["sent"], "load": os.getloadavg()[0]}

    def bench_probecost(self):
        dur = 0.5 if self.smoke else 3
        d = Daemon(self)
        res = {}
        floor = None
        dn = None
        try:
            # The floor programs go on exactly the tracepoints the daemon attached.
            tps = [p["name"] for p in d.call("io.skbtraced.List")["probes"]
                   if p["kind"] == "tracepoint" and p["attached"]]
            floor = FloorProgs(tps)
            res["floor_probes"] = len(tps)
            probe_case = lambda *a: self.probe_case(d, floor, *a)
            rate = 20000
            # (a) as an idle daemon is: links closed after the linger, no program runs.
            d.wait_detached()
            res["a_idle"] = probe_case(0, FLOOD_PORT, rate, dur)
            res["a_idle"]["detached"] = True
            # (a) with idle_detach_after = never: programs run on every hit, only to find no
            # session (the cost before idle detach existed).
            dn = Daemon(self, linger="never")
            res["a_never"] = self.probe_case(dn, floor, 0, FLOOD_PORT, rate, dur)
            dn.stop()
            dn = None
            res["b_nomatch_1"] = probe_case(1, OTHER_PORT, rate, dur)
            res["b_nomatch_64"] = probe_case(1 if self.smoke else 64, OTHER_PORT, rate, dur)
            # A session that filters on a mark no packet has (`-m 0xdead`, as in the VM
            # comparison with ipftrace2): decided by the mark alone, in the entry's first
            # instructions (skbt_gate_out()).
            res["b_nomatch_mark"] = probe_case(1, FLOOD_PORT, rate, dur,
                                               ["-m", "0xdead", "-o", "json"])
            res["c_match_1"] = probe_case(1, FLOOD_PORT, rate, dur)
            # 64 sessions each render every event: keep the rate where the daemon keeps up.
            res["c_match_64"] = probe_case(1 if self.smoke else 64, FLOOD_PORT, 1000, dur)
        finally:
            if floor:
                floor.close()
            if dn:
                dn.stop()
            d.stop()
        res["linger"] = BENCH_LINGER
        res["cmd"] = "floodgen --rate R --duration %s B_ADDR PORT" % dur
        res["flavours"] = self.probe_flavours(dur)
        self.results["probecost"] = res
        if self.base:
            self.bench_probebase()

    def bench_probebase(self):
        """Probe cost beside the --base build (section probebase; probecost runs it too when
        --base is given)."""
        if not self.base:
            raise BenchError("section probebase needs --base BUILD/daemon/skbtraced")
        log(f"probe cost beside {self.base.skbtraced}, {self.rounds} rounds")
        self.results["probebase"] = self.probe_base(0.5 if self.smoke else 3)

    def side_by_side(self, daemons, cases, orders, dur, rate=20000):
        """Daemons side by side: all attached to the same tracepoints at once (links held,
        `never`), the same sessions started on each, measured over the same hits; ns per hit of
        each daemon's programs from the kernel's BPF stats (the floor is the same for all, so
        their difference is what their programs differ by).  The program that runs first on a
        hit may pay the cache misses on the skb and the packet for the others, so the daemons
        are started (and their links attached) in each order of `orders` in turn: one round
        per order.  daemons: {label: {"build": Build, "env": dict or None}}; cases: (name,
        sessions, port, rate or None).  Returns one row per case and round."""
        out = []
        for rnd, order in enumerate(orders):
            ds = {}
            try:
                for lab in order:
                    spec = daemons[lab]
                    ds[lab] = Daemon(self, linger="never", env=spec.get("env"),
                                     build=spec.get("build"))
                for d in ds.values():
                    d.wait_loaded()
                for case, n, port, crate in cases:
                    cs = []
                    try:
                        for d in ds.values():
                            cs += self.start_clients(d, n, self.trace_args("json", port))
                        with BpfStats():
                            before = {lab: prog_stats(d.pid) for lab, d in ds.items()}
                            fl = self.flood(dur, crate or rate)
                            after = {lab: prog_stats(d.pid) for lab, d in ds.items()}
                    finally:
                        for c in cs:
                            c.finish()
                    row = {"case": case, "sessions": n, "round": rnd + 1, "order": list(order),
                           "rate": crate or rate, "sent": fl["sent"],
                           "load": os.getloadavg()[0]}
                    for lab in order:
                        t, h = after[lab][0] - before[lab][0], after[lab][1] - before[lab][1]
                        row[lab] = {"hits": h, "ns_per_hit": t / h if h else float("nan")}
                    out.append(row)
            finally:
                for d in ds.values():
                    d.stop()
        return out

    def probe_flavours(self, dur):
        """The tracepoint programs' flavours side by side: the default daemon (one shared
        program per skb position with attach cookies where the kernel has them, Linux 6.10+),
        one forced to a tp_btf copy per tracepoint (SKBTRACED_NO_TP_SHARED=1) and one to raw_tp
        copies (SKBTRACED_NO_TP_BTF=1), for (b) with 64 sessions and (c) with 1, each daemon
        first, second and third in turn."""
        cases = (("b_nomatch_64", 1 if self.smoke else 64, OTHER_PORT, None),
                 ("c_match_1", 1, FLOOD_PORT, None))
        daemons = {"shared": {}, "tp_btf": {"env": {"SKBTRACED_NO_TP_SHARED": "1"}},
                   "raw_tp": {"env": {"SKBTRACED_NO_TP_BTF": "1"}}}
        return self.side_by_side(daemons, cases, (("raw_tp", "tp_btf", "shared"),
                                                  ("tp_btf", "shared", "raw_tp"),
                                                  ("shared", "raw_tp", "tp_btf")), dur)

    def probe_base(self, dur):
        """Another build's daemon (--base) beside this build's, as probe_flavours does with
        the flavours: cases (b) and (c) with 1 and 64 sessions, `self.rounds` rounds with the
        attach order alternating (base first in odd rounds)."""
        cases = (("b_nomatch_1", 1, OTHER_PORT, None),
                 ("b_nomatch_64", 1 if self.smoke else 64, OTHER_PORT, None),
                 ("c_match_1", 1, FLOOD_PORT, None),
                 ("c_match_64", 1 if self.smoke else 64, FLOOD_PORT, 1000))
        daemons = {"base": {"build": self.base}, "new": {"build": self.build}}
        orders = [("base", "new") if i % 2 == 0 else ("new", "base")
                  for i in range(self.rounds)]
        return {"base": self.base.skbtraced, "new": self.build.skbtraced,
                "rows": self.side_by_side(daemons, cases, orders, dur)}

    # -- 4. idle overhead --

    def iperf(self, path, duration):
        if path == "veth":
            server_ns, client_ns, addr = self.topo.b, self.topo.a, self.topo.b4
        else:
            server_ns, client_ns, addr = self.topo.a, self.topo.a, "127.0.0.1"
        port = str(5201 + random.randint(0, 500))
        srv = spawn(Topology.ns(server_ns, ["taskset", "-c", CONSUMER_CPU, "iperf3", "-s", "-1",
                                            "-p", port]),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            cmd = Topology.ns(client_ns, ["taskset", "-c", PRODUCER_CPU, "iperf3", "-c", addr,
                                          "-p", port, "-t", str(duration), "-J"])
            wait_for(lambda: run(Topology.ns(server_ns, ["ss", "-Hltn", f"sport = :{port}"]),
                                 check=False).stdout.strip(), 10, "the iperf3 server")
            r = run(cmd, timeout=duration + 30, check=False)
            out = json.loads(r.stdout)
            if "error" in out or "sum_received" not in out.get("end", {}):
                raise BenchError(f"iperf3: {out.get('error', 'no result')}: {shlex.join(cmd)}")
            return out["end"]["sum_received"]["bits_per_second"]
        finally:
            stop_proc(srv)

    def bench_idle(self):
        if not shutil.which("iperf3"):
            self.results["idle"] = {"missing": "iperf3"}
            return
        rounds = 1 if self.smoke else 5
        dur = 1 if self.smoke else 4
        res = {p: {"none": [], "idle": [], "idle_never": [], "session": []}
               for p in ("veth", "lo")}
        for r in range(rounds):
            log(f"idle overhead: round {r + 1}/{rounds}")
            for path in ("veth", "lo"):
                res[path]["none"].append(self.iperf(path, dur))
            # The old idle: tracepoint links kept while no session runs.
            d = Daemon(self, linger="never")
            try:
                for path in ("veth", "lo"):
                    res[path]["idle_never"].append(self.iperf(path, dur))
            finally:
                d.stop()
            d = Daemon(self)
            try:
                # Idle as the daemon is once the linger ran out: links closed.
                d.wait_detached()
                for path in ("veth", "lo"):
                    res[path]["idle"].append(self.iperf(path, dur))
                cs = self.start_clients(d, 1, self.trace_args("json", OTHER_PORT))
                try:
                    for path in ("veth", "lo"):
                        res[path]["session"].append(self.iperf(path, dur))
                finally:
                    for c in cs:
                        c.finish()
            finally:
                d.stop()
        res["cmd"] = f"iperf3 -c ADDR -t {dur} -J"
        res["linger"] = BENCH_LINGER
        self.results["idle"] = res

    # -- 6. session start on function probes, in a VM --

    def bench_vmstart(self):
        """bench/vm-start.sh: the VM tier's Debian 6.12 kernel under qemu has the function
        probes this host lacks; skbtraced and bpftrace are compared inside one guest."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm-start.sh")
        out = os.path.join(self.tmp, "vmstart.json")
        cmd = [script, "--json", out]
        if self.smoke:
            cmd += ["--backends", "kprobe-multi", "--runs", "2", "--btruns", "1",
                    "--regex", "^(ip_rcv|ip_local_deliver|udp_rcv)$", "--timeout", "600"]
        env = dict(os.environ, BUILDDIR=os.path.abspath(self.args.builddir))
        log(f"vmstart: {shlex.join(cmd)} (qemu TCG, minutes)")
        t0 = time.monotonic()
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           env=env, timeout=3600)
        if r.returncode == EXIT_SKIP:
            self.results["vmstart"] = {"skipped": r.stdout.strip() or r.stderr.strip()}
            return
        if r.returncode != 0:
            if self.smoke:
                raise BenchError(f"vm-start.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
            # A full run keeps the other sections' results: the report says what failed.
            log(f"vmstart: vm-start.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
            tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
            self.results["vmstart"] = {"skipped": f"`bench/vm-start.sh` failed (exit status "
                                                  f"{r.returncode}): " + " / ".join(tail)}
            return
        with open(out) as f:
            res = json.load(f)
        res["cmd"] = "bench/vm-start.sh" + ("" if not self.smoke else " " + shlex.join(cmd[3:]))
        res["seconds"] = time.monotonic() - t0
        res["load"] = os.getloadavg()[0]
        self.results["vmstart"] = res

    # -- 7. side by side with ipftrace2 on every function backend, in the VM --

    def bench_vmcompare(self):
        """bench/vm-compare.sh: one VM-tier boot per backend and kernel, skbtraced and
        ipftrace2 measured side by side in it (packet path cost, ready, first event, stop)."""
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm-compare.sh")
        env = dict(os.environ, BUILDDIR=os.path.abspath(self.args.builddir))
        res = {"kernels": [], "tarball": os.path.basename(env.get("IPFTRACE2_TARBALL", ""))}
        for kernel in ("6.12", "6.1"):
            out = os.path.join(self.tmp, f"vmcompare-{kernel}.json")
            cmd = [script, "--kernel", kernel, "--json", out]
            if self.smoke:
                cmd += ["--backends", "kprobe" if kernel == "6.1" else "kprobe-multi",
                        "--rounds", "1", "--iperf", "1", "--pings", "20", "--firstruns", "1",
                        "--regex", "^(ip_rcv|icmp_rcv|ip_output|__dev_queue_xmit)$",
                        "--timeout", "900"]
            log(f"vmcompare: {shlex.join(cmd)} (qemu TCG, minutes per backend)")
            t0 = time.monotonic()
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               env=env, timeout=4 * 3600)
            if r.returncode == EXIT_SKIP:
                res["kernels"].append({"kernel": kernel,
                                       "skipped": r.stdout.strip() or r.stderr.strip()})
                continue
            k = {"kernel": kernel}
            if os.path.exists(out):
                with open(out) as f:
                    k = json.load(f)
            if r.returncode != 0:
                if self.smoke:
                    raise BenchError(f"vm-compare.sh failed ({r.returncode}):\n{r.stdout}\n"
                                     f"{r.stderr}")
                log(f"vmcompare: vm-compare.sh failed ({r.returncode}):\n{r.stderr[-3000:]}")
                tail = (r.stderr.strip() or r.stdout.strip()).splitlines()[-3:]
                k["failed"] = (f"`bench/vm-compare.sh --kernel {kernel}` failed (exit status "
                               f"{r.returncode}): " + " / ".join(tail))
            k["cmd"] = "bench/vm-compare.sh " + shlex.join(cmd[1:3] + cmd[5:])
            k["seconds"] = time.monotonic() - t0
            k["load"] = os.getloadavg()[0]
            res["kernels"].append(k)
        self.results["vmcompare"] = res

    # -- 5. memory --

    def bench_memory(self):
        d = Daemon(self)
        try:
            def snap():
                info = bpf_fdinfo(d.pid)
                maps = sum(int(v.get("memlock", 0)) for (k, _), v in info.items() if k == "map")
                progs = sum(int(v.get("memlock", 0)) for (k, _), v in info.items() if k == "prog")
                return {"rss_kib": rss_kib(d.pid), "map_bytes": maps, "prog_bytes": progs,
                        "n_progs": sum(1 for k, _ in info if k == "prog"),
                        "maps": map_sizes(info)}
            res = {"idle": snap()}
            n = 4 if self.smoke else 64
            cs = self.start_clients(d, n, self.trace_args("json", OTHER_PORT))
            try:
                # Some events so every session's buffers have been used once.
                self.flood(0.2, 1000)
                res["sessions"] = snap()
                res["n_sessions"] = n
            finally:
                for c in cs:
                    c.finish()
        finally:
            d.stop()
        self.results["memory"] = res


# --------------------------------------------------------------------------
# Report

def fmt_ms(s):
    return f"{s * 1e3:.1f} ms"


def fmt_rate(v):
    return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs ({model}), {mem:.0f} GiB RAM"


def report(bench, args, elapsed):
    R = bench.results
    run_all = "bench/run-all.sh" + (" --smoke" if bench.smoke else "")
    L = []
    w = L.append
    w("<!-- SPDX-License-Identifier: GPL-2.0-only -->")
    w("# skbtraced performance")
    w("")
    w("Generated by `bench/run-all.sh` (see bench/README.md); do not edit by hand, re-run it. "
      "Only the analysis at the end (after the marker comment) is written by hand; "
      "regenerating keeps it.")
    w("All numbers of one table come from one run, measured side by side: on a shared machine the")
    w("ratios are meaningful, absolute times are noisy.")
    w("")
    w(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    w(f"- machine: {machine_info()}")
    w(f"- kernel: {platform.release()} {platform.machine()}")
    try:
        rev = run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe",
                   "--always", "--dirty"], check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rev = ""
    w(f"- skbtraced: {rev or '?'}; backend tracepoint (this kernel allows no fentry/kprobes)")
    others = [p for p in os.listdir("/proc") if p.isdigit() and _comm(p) == "skbtraced"]
    w(f"- other skbtraced processes running meanwhile (not ours, their probes cost too): "
      f"{max(0, len(others))}" if others else "- no other skbtraced was running")
    w(f"- suite command: `{run_all}` ({elapsed:.0f} s); CPU 0 runs the traffic and the probes, "
      "CPU 1 the daemon and its clients")
    if bench.smoke:
        w("")
        w("**Smoke mode: durations and run counts are cut to check that the benchmarks work. "
          "These numbers mean nothing.**")

    if "start" in R:
        s = R["start"]
        ip = s["ipftctl"]["runs"]
        w("")
        w("## 1. Session start")
        w("")
        w(f"Time from starting the command to its first event line on stdout, with traffic "
          f"already flowing ({s['rate']} UDP packets/s between the namespaces), daemon warm "
          "(its programs loaded). "
          "*Links held*: one session after another within the idle linger "
          "(`idle_detach_after = 10`, the default), so the tracepoint links stay attached "
          f"({s['ipftctl'].get('reattaches', 0)} re-attaches over the runs). *After idle "
          "detach*: `idle_detach_after = 0`, each run starting "
          f"{s.get('ipftctl_cold', {}).get('gap', '?')} s after the daemon closed its "
          "links, so its session first re-attaches them. *Right after idle detach*: the same, "
          "each run starting as soon as the links are closed, within the RCU grace period that "
          "the kernel then waits for before a tracepoint's first probe is attached again "
          "(with the default linger of 10 s, a session arriving in the few milliseconds after "
          "the detach is the rare case). "
          f"Command: `{run_all} --only start`.")
        w("")
        w("| tool | probes | runs | p50 | p95 | vs skbtraced (p50) | command |")
        w("|---|---|---|---|---|---|---|")
        base = pct(ip, 50)
        w(f"| skbtraced + ipftctl, links held | {s['ipftctl']['probes']} | {len(ip)} | "
          f"{fmt_ms(base)} | {fmt_ms(pct(ip, 95))} | 1× | `{s['ipftctl']['cmd']}` |")
        for k, what in COLD_CASES:
            if k in s:
                c = s[k]["runs"]
                w(f"| skbtraced + ipftctl, {what} | {s[k]['probes']} | "
                  f"{len(c)} | {fmt_ms(pct(c, 50))} | {fmt_ms(pct(c, 95))} | "
                  f"{pct(c, 50) / base:.1f}× | `{s[k]['cmd']}` |")
        for k in ("bpftrace_1", "bpftrace_all"):
            if k in s:
                v = s[k]["runs"]
                w(f"| {s.get('bpftrace_version', 'bpftrace')} | {s[k]['probes']} | {len(v)} | "
                  f"{fmt_ms(pct(v, 50))} | {fmt_ms(pct(v, 95))} | "
                  f"{pct(v, 50) / base:.0f}× slower | `{s[k]['cmd']}` |")
        if s.get("bpftrace_missing"):
            w("| bpftrace | - | - | - | - | not installed | |")
        cold = [(k, what) for k, what in COLD_CASES if s.get(k, {}).get("attach_us")]
        if cold:
            w("")
            w(f"Re-attaching the {s[cold[0][0]].get('linked', '?')} tracepoint links (the "
              "daemon's own measure, Status `tracepoints.last_attach_us`, logged at debug "
              "level) took " + "; ".join(
                  f"p50 {fmt_ms(pct(a, 50))}, p95 {fmt_ms(pct(a, 95))} over the {len(a)} runs "
                  f"{what}" for k, what in cold
                  for a in [[x / 1e6 for x in s[k]["attach_us"]]]) + ".")
        w("")
        w("Function probes (fentry, kprobe) cannot be attached on this kernel; section 6 makes "
          "the same comparison for function probes in a VM.")

    if "throughput" in R:
        t = R["throughput"]
        w("")
        w("## 2. Event throughput")
        w("")
        w(f"An unthrottled UDP flood (`{t['flood_cmd']}`, in namespace A, CPU 0; every packet "
          "hits about 7 tracepoints) against sessions matching exactly that flow; the daemon and "
          f"its clients share CPU 1. Command: `{run_all} --only throughput`. `events/s` is what "
          "the clients received, over the time from the flood's start until the daemon was "
          "idle again. `offered` is what the probes matched (delivered + lost). Each case starts "
          "once the daemon has loaded its programs (the start-up's background loads are not "
          "in the window).")
        w("")
        w("| clients | format | events/s delivered | offered/s | lost (ring buffer) | "
          "lost (client queue) | daemon CPU per event | client CPU | loss accounting | "
          "command |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        labels = {"check": " (lines counted by wc -l)", "record1": " (recording, -w FILE.zst)"}
        for k in ("json1", "text1", "json8", "check", "record1"):
            if k not in t:
                continue
            c = t[k]
            w(f"| {c['clients']}{labels.get(k, '')} | {c['fmt']} | "
              f"{fmt_rate(c['events_per_s'])} | {fmt_rate(c['offered_per_s'])} | "
              f"{c['lost_ringbuf']} | {c['lost_queue']} | {c['daemon_ns_per_event']:.0f} ns | "
              f"{c['client_cpu_s']:.2f} s | {'exact' if c['accounting_exact'] else 'MISMATCH'} | "
              f"`{c['cmd']}` |")
        w("")
        w("Loss accounting is *exact* when, for every client, the summary's delivered + queue "
          "losses equal the ring-buffer records the BPF programs submitted for it, and its "
          "ring-buffer losses equal the BPF counter of failed reservations (both read from the "
          "daemon's `stats` map with `bpftool map dump`); in the row with `wc -l` the lines "
          "the client wrote were also counted and equal the summary's `events received`.")
        if "record1" in t and t["record1"]["events"]:
            c = t["record1"]
            w("")
            w(f"The recording row (`ipftctl trace -w`, docs/recording.md): the daemon sends JSON "
              f"events with the packet bytes, the client writes them zstd-compressed "
              f"({c['record_bytes'] / c['events']:.0f} bytes per event on disk) and renders the "
              f"text it shows from the same events with the daemon's renderers.")

    if "probecost" in R:
        p = R["probecost"]
        w("")
        w("## 3. Probe cost")
        w("")
        w("Average run time per probe hit of the daemon's BPF programs, from the kernel's own "
          "statistics (`run_time_ns / run_cnt` in the programs' fdinfo, as `bpftool prog show` "
          "prints them), enabled with BPF_ENABLE_STATS (the same switch as "
          "`kernel.bpf_stats_enabled`) only while measuring. Every hit of the 30 tracepoints "
          "counts, including other traffic on the machine. Command: "
          f"`{run_all} --only probecost`, traffic `{p['cmd']}`.")
        if "floor_probes" in p:
            w("")
            w("*Floor*: during every case an empty raw_tp program (`r0 = 0; exit`, loaded by the "
              "harness with bpf(2)) is attached to each of the same "
              f"{p['floor_probes']} tracepoints, next to the daemon's programs, and measured "
              "over the same hits in the same way: what the kernel's dispatch and the statistics "
              "themselves (a clock read before and after every run) cost with no program body. "
              "*Above floor* is the difference: what the daemon's program adds. `load` is the "
              "1-minute load average when the case ended (`os.getloadavg()`, as `uptime` "
              "prints it).")
        w("")
        w("| case | sessions | traffic | hits | matched | ns per hit | floor (empty program) | "
          "above floor | load | target |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        rows = (("a_idle", "(a) no session: links detached, no program runs", "≤ 15 ns"),
                ("a_never", "(a) no session, `idle_detach_after = never`", ""),
                ("b_nomatch_1", "(b) sessions, packet not matching", ""),
                ("b_nomatch_64", "(b) sessions, packet not matching", "≤ 60 ns"),
                ("b_nomatch_mark", "(b) session `-m 0xdead`, packet not matching", ""),
                ("c_match_1", "(c) matching and emitting", "≤ 200 ns"),
                ("c_match_64", "(c) matching and emitting", "≤ 200 ns"))
        for k, name, target in rows:
            if k not in p:
                continue
            c = p[k]
            fl = c.get("floor_ns_per_hit")
            fl_s = f"{fl:.1f}" if fl is not None else "-"
            load = f"{c['load']:.2f}" if "load" in c else "-"
            if c["hits"] == 0:
                # No link, no run: the tracepoints cost what they cost without the daemon.
                ns, above = "0 (detached: no program runs)", "0"
            else:
                ns = f"{c['ns_per_hit']:.1f}"
                above = f"{c['ns_per_hit'] - fl:.1f}" if fl is not None else "-"
            w(f"| {name} | {c['sessions']} | {c['rate']} pkt/s | {c['hits']} | {c['matched']} | "
              f"{ns} | {fl_s} | {above} | {load} | {target} |")
        w("")
        w(f"The daemon here closes its tracepoint links {p.get('linger', '?')} s after the "
          "last session (`--idle-detach-after`; default 10 s): case (a) is measured once it "
          "has, as any idle daemon is; the `never` row is a second daemon that keeps them, "
          "the cost every idle daemon had before idle detach. Sessions re-attach the links "
          "before they go live, so (b) and (c) are unchanged by it.")
        if p.get("flavours"):
            w("")
            w("*Flavours side by side*: the table above is the default daemon, whose tracepoints "
              "are served by one shared program per skb position with the tracepoint in the "
              "link's attach cookie where the kernel allows it (Linux 6.10+; `shared`), else "
              "by a `tp_btf` copy each. Here daemons forced to a `tp_btf` copy per tracepoint "
              "(`SKBTRACED_NO_TP_SHARED=1`) and to `raw_tp` copies (`SKBTRACED_NO_TP_BTF=1`: one "
              "probe read of the whole sk_buff per hit instead of plain loads) run beside it, on "
              "the same tracepoints, with the same sessions, over the same hits (20000 pkt/s). "
              "The program that runs first on a hit may pay the cache misses on the skb and the "
              "packet for the others, so each daemon runs first, second and third in turn.")
            w("")
            w("| case | sessions | attach order | shared ns per hit | tp_btf ns per hit | "
              "raw_tp ns per hit | shared − tp_btf | tp_btf − raw_tp | hits | load |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            names = {"b_nomatch_64": "(b) not matching", "c_match_1": "(c) matching and emitting"}
            for r in p["flavours"]:
                sh = r.get("shared", {}).get("ns_per_hit", float("nan"))
                bt, rt = r["tp_btf"]["ns_per_hit"], r["raw_tp"]["ns_per_hit"]
                w(f"| {names.get(r['case'], r['case'])} | {r['sessions']} | "
                  f"{', '.join(r['order'])} | {sh:.1f} | {bt:.1f} | {rt:.1f} | "
                  f"{sh - bt:+.1f} | {bt - rt:+.1f} | {r['tp_btf']['hits']} | {r['load']:.2f} |")

    if "probebase" in R:
        report_probebase(R["probebase"], w, run_all)

    if "idle" in R:
        i = R["idle"]
        w("")
        w("## 4. Idle overhead")
        w("")
        if "missing" in i:
            w(f"Not measured: {i['missing']} is not installed.")
        else:
            w(f"TCP throughput of one iperf3 stream (`{i['cmd']}`; client CPU 0, server CPU 1), "
              "median of interleaved rounds: no daemon; daemon idle, measured once the linger "
              f"after its start ran out (`--idle-detach-after {i.get('linger', '?')}`) and its "
              "tracepoint links are closed; daemon idle with `idle_detach_after = never` "
              "(links kept, programs run on every hit: the idle daemon before idle detach); and "
              "one session whose filter matches none of the traffic. Command: "
              f"`{run_all} --only idle`.")
            w("")
            w("| path | no daemon | daemon idle | vs none | daemon idle, never detach | vs none "
              "| 1 non-matching session | vs none |")
            w("|---|---|---|---|---|---|---|---|")
            kinds = ("none", "idle", "idle_never", "session")
            for path, name in (("veth", "veth between namespaces"),
                               ("lo", "loopback in a namespace")):
                v = i[path]
                none, idle, never, sess = (statistics.median(v[k]) if v.get(k) else float("nan")
                                           for k in kinds)
                w(f"| {name} | {none / 1e9:.2f} Gbit/s | {idle / 1e9:.2f} Gbit/s | "
                  f"{(idle / none - 1) * 100:+.1f}% | {never / 1e9:.2f} Gbit/s | "
                  f"{(never / none - 1) * 100:+.1f}% | {sess / 1e9:.2f} Gbit/s | "
                  f"{(sess / none - 1) * 100:+.1f}% |")
            w("")
            w("Runs (Gbit/s): " + "; ".join(
                f"{path} {k}: " + ", ".join(f"{x / 1e9:.1f}" for x in i[path].get(k, []))
                for path in ("veth", "lo") for k in kinds))

    if "memory" in R:
        m = R["memory"]
        w("")
        w("## 5. Memory")
        w("")
        w("Daemon RSS (`VmRSS`) and the memory the kernel charges for its BPF maps and programs "
          "(`memlock` in their fdinfo, as `bpftool map/prog show` print it). Command: "
          f"`{run_all} --only memory`.")
        w("")
        w("| state | RSS | BPF maps | BPF programs |")
        w("|---|---|---|---|")
        for k, name in (("idle", "idle"), ("sessions", f"{m.get('n_sessions')} sessions")):
            if k in m:
                v = m[k]
                w(f"| {name} | {v['rss_kib'] / 1024:.1f} MiB | {v['map_bytes'] / 2**20:.1f} MiB | "
                  f"{v['prog_bytes'] / 2**20:.1f} MiB ({v['n_progs']} programs) |")
        if m.get("idle", {}).get("maps"):
            big = sorted(m["idle"]["maps"].items(), key=lambda kv: -kv[1])
            w("")
            w("Largest maps, idle (memlock, `bpftool map show`): " + ", ".join(
                f"`{k}` {b / 2**20:.2f} MiB" if b >= 2**20 else f"`{k}` {b / 1024:.0f} KiB"
                for k, b in big[:6]) +
              f"; {len(big) - 6} others {sum(b for _, b in big[6:]) / 1024:.0f} KiB.")
    if "vmstart" in R:
        v = R["vmstart"]
        w("")
        w("## 6. Session start on function probes (VM)")
        w("")
        if "skipped" in v:
            w(f"Not measured: {v['skipped']}")
        else:
            w(f"The host kernel allows no function probes, so this runs in the VM tier: Debian's "
              f"{v['kernel']} kernel under qemu TCG (tests/vm/run-vm.sh, one vCPU; TCG is about "
              "10× slower than hardware, so compare ratios, not absolute times). In the guest "
              "(bench/vm-start-guest.sh), for each backend, skbtraced attaches the functions "
              f"matching `{v['regex']}` once; `ipftctl trace -c 1` is timed from command start "
              "to its first event line; then, with the daemon stopped, bpftrace attaches the "
              "same functions (`kprobe:` for kprobe-multi, `kfunc:` for fentry) and is timed "
              "the same way, and to its exit (a one-shot tool detaches its probes before it "
              "exits). A UDP flow of 200 packets/s runs between two namespaces in the guest "
              "throughout. Times are from `bench/firstline` (CLOCK_MONOTONIC in the guest). "
              "bpftrace v0.17 cannot generate code for a few functions' signatures (e.g. "
              "`skb_flow_dissect_ct`); the guest leaves those out of its set (not timed), so its "
              "function count can be slightly lower. "
              f"Command: `{v['cmd']}` ({v['seconds']:.0f} s, host load {v['load']:.2f} at "
              "the end).")
            w("")
            w("| tool | backend / probe type | functions | runs | first event p50 | p95 | "
              "exited p50 | vs ipftctl (first event, p50) | command |")
            w("|---|---|---|---|---|---|---|---|---|")
            groups = {}
            for r in v["runs"]:
                groups.setdefault((r["tool"], r["backend"], r["probes"]), []).append(r)
            base = {}
            for (tool, be, n), rs in groups.items():
                if tool == "ipftctl":
                    base[be] = pct([float(r["first_s"]) for r in rs], 50)
            pair = {"kprobe": "kprobe-multi", "kfunc": "fentry"}
            for (tool, be, n), rs in groups.items():
                first = [float(r["first_s"]) for r in rs]
                ex = [float(r["exit_s"]) for r in rs]
                b = base.get(be if tool == "ipftctl" else pair.get(be))
                ratio = ("1×" if tool == "ipftctl" else
                         f"{pct(first, 50) / b:.0f}× slower" if b else "-")
                if tool == "ipftctl":
                    c = f"ipftctl trace -c 1 -p udp --dport {FLOOD_PORT} -o json"
                else:
                    c = (f"bpftrace -q prog.bt ({be}:f1,...,{be}:f{n} "
                         "{ printf(\"%s\\n\", probe); exit(); })")
                w(f"| {tool if tool == 'ipftctl' else v['bpftrace']} | {be} | {n} | {len(rs)} | "
                  f"{pct(first, 50) * 1e3:.0f} ms | {pct(first, 95) * 1e3:.0f} ms | "
                  f"{pct(ex, 50) * 1e3:.0f} ms | {ratio} | `{c}` |")
            if v.get("daemon"):
                w("")
                w("The daemon pays attach once, at start-up, and detach once, at stop (same "
                  "run; ready = `ipftctl status` answers):")
                w("")
                w("| backend | functions | daemon ready | daemon stopped (SIGTERM to exit) |")
                w("|---|---|---|---|")
                for d in v["daemon"]:
                    w(f"| {d['backend']} | {d['probes']} | {float(d['ready_s']):.1f} s | "
                      f"{float(d['stop_s']):.1f} s |")
    if "vmcompare" in R:
        report_vmcompare(R["vmcompare"], w)
    w("")
    return "\n".join(L)


VMCMP_CASES = (
    ("none", "no tracer"),
    ("skbt_idle", "skbtraced idle, after its linger"),
    ("skbt_nomatch", "skbtraced, 1 session matching nothing (`ipftctl trace -m 0xdead`)"),
    ("ipft_nomatch", "ipftrace2 running, matching nothing (`ipft -m 0xdead`)"),
    ("skbt_match", "skbtraced, 1 session matching the traffic (`ipftctl trace -m 1`)"),
    ("ipft_match", "ipftrace2 matching the traffic (`ipft -m 1`)"),
    ("base_idle", "other skbtraced build (--base), idle"),
    ("base_nomatch", "other skbtraced build (--base), 1 session matching nothing"),
    ("base_match", "other skbtraced build (--base), 1 session matching the traffic"),
    ("alt_idle", "skbtraced on the --alt backend, idle"),
    ("alt_nomatch", "skbtraced on the --alt backend, 1 session matching nothing"),
    ("alt_match", "skbtraced on the --alt backend, 1 session matching the traffic"),
)
VMCMP_TIMES = (
    ("ready", "ready (daemon: Status answers; ipftrace2: `Trace ready!`)"),
    ("loaded", "daemon start to idle with its background program loads done"),
    ("first_cold", "a session's first event, nothing else running (after the linger)"),
    ("first_warm", "a session's first event, another session running"),
    ("coverage", "a session's full coverage (every function it needs attached), started on "
                 "an idle daemon; ipftrace2: = ready"),
    ("session_end", "a session's end (SIGINT to `ipftctl` exit)"),
    ("stop", "stop (SIGTERM to the daemon's exit; SIGINT to ipftrace2's)"),
)


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def report_vmcompare(v, w):
    w("")
    w("## 7. Side by side with ipftrace2 on function probes (VM)")
    w("")
    w("Each backend in its own boot of the VM tier's kernels (tests/vm/run-vm.sh: qemu TCG, one "
      "vCPU; TCG makes every time about 10× longer than hardware and varies between boots, so "
      "compare rows of one table only). In the guest (bench/vm-compare-guest.sh): two "
      "namespaces joined by veth, nftables setting mark 1 on every packet entering or leaving "
      "either (ipftrace2 filters on marks only, and needs one), and per round, interleaved: "
      "no tracer; skbtraced idle once its linger (`--idle-detach-after 1`) ran out; with one "
      "session whose mark matches nothing; with one matching the traffic; ipftrace2 with the "
      "mark matching nothing; with the traffic's mark. Each case: `iperf3 -c` over the veth "
      "(BPF statistics off) and `ping -i 0.01` RTT, then the BPF programs' runs and run time "
      "over the same number of pings with `kernel.bpf_stats_enabled=1`, per ICMP packet "
      "(request or reply). Both tools attach every function they find (their own default "
      "sets) except on fentry, where both are given the same regex (one program per function "
      "takes minutes to load under TCG). ipftrace2 is built from its upstream source by "
      "bench/build-ipftrace2.sh"
      + (f" (`{v['tarball']}`)" if v.get("tarball") else "") + ".")
    for k in v["kernels"]:
        w("")
        if "skipped" in k:
            w(f"{k['kernel']}: not measured: {k['skipped']}")
            continue
        if k.get("failed"):
            w(f"{k['kernel']}: {k['failed']}")
        if k.get("ipft_skipped"):
            w(f"{k['kernel']}: ipftrace2 rows not measured: {k['ipft_skipped']}")
        for be, b in k.get("backends", {}).items():
            w("")
            infos = b.get("info", [])
            fs = [i["probes"] for i in infos if i.get("tool") == "skbtraced" and "probes" in i]
            nf = next((p.split("=", 1)[1] for p in (fs[0].split(",") if fs else [])
                       if p.startswith("functions=")), "?")
            nr = next((p.split("=", 1)[1] for p in (fs[0].split(",") if fs else [])
                       if p.startswith("returns=")), "0")
            ni = sorted({i["functions"] for i in infos if i.get("tool") == "ipft" and "functions" in i})
            boot = b.get("boot", {})
            w(f"### {k.get('kernel')}, {be}: skbtraced {nf} functions + {nr} returns "
              f"attached at start-up, ipftrace2 {', '.join(x for x in ni if x) or '-'} "
              f"functions")
            w("")
            w(f"Command: `{k['cmd']}` (this backend's boot: {boot.get('seconds', '?')} s"
              + ("" if boot.get("rc") in (None, "0") else f", exit status {boot.get('rc')}")
              + ").")
            w("")
            w("| case | rounds | iperf3 over veth (median) | vs no tracer | ping RTT (median) | "
              "BPF runs per ICMP packet | ns per run |")
            w("|---|---|---|---|---|---|---|")
            cases = {}
            for c in b.get("cases", []):
                cases.setdefault(c.get("case"), []).append(c)
            none = [_num(c["mbps"]) for c in cases.get("none", []) if _num(c.get("mbps"))]
            none_m = statistics.median(none) if none else None
            for key, label in VMCMP_CASES:
                cs = cases.get(key)
                if not cs:
                    continue
                mb = [_num(c.get("mbps")) for c in cs if _num(c.get("mbps")) is not None]
                rtt = [_num(c.get("rtt_ms")) for c in cs if _num(c.get("rtt_ms")) is not None]
                runs = sum(int(c.get("runs", 0)) for c in cs)
                pk = sum(int(c.get("pkts", 0)) for c in cs)
                tns = sum(int(c.get("runs", 0)) * int(c.get("run_ns", 0)) for c in cs)
                m = statistics.median(mb) if mb else None
                vs = (f"{(m / none_m - 1) * 100:+.1f}%" if m is not None and none_m and
                      key != "none" else "")
                thr = f"{m:.0f} Mbit/s ({', '.join(f'{x:.0f}' for x in mb)})" if m else "-"
                lat = f"{statistics.median(rtt):.3f} ms" if rtt else "-"
                per = f"{runs / pk:.1f}" if pk else "-"
                # Measured before all its probes were attached (vm-compare.sh --cover-wait).
                part = [c["partial"] for c in cs if c.get("partial")]
                if part:
                    per += f" (probes attached: {', '.join(part)})"
                ns = f"{tns / runs:.0f}" if runs else "-"
                w(f"| {label} | {len(cs)} | {thr} | {vs} | {lat} | {per} | {ns} |")
            times = {}
            for t in b.get("times", []):
                s_ = _num(t.get("s"))
                if s_ is not None:
                    times.setdefault((t.get("tool"), t.get("what")), []).append(s_)
            w("")
            w("| time | skbtraced (p50, runs) | ipftrace2 (p50, runs) |")
            w("|---|---|---|")
            for what, label in VMCMP_TIMES:
                cells = []
                for tool in ("skbtraced", "ipft"):
                    ts = times.get((tool, what))
                    cells.append(f"{pct(ts, 50):.3f} s ({len(ts)})" if ts else "-")
                if any(c != "-" for c in cells):
                    w(f"| {label} | {cells[0]} | {cells[1]} |")


def report_probebase(pb, w, run_all):
    """Side by side with another build: per case and round, then per case over the rounds."""
    rows = pb["rows"]
    w("")
    w("## 3b. Probe cost beside another build")
    w("")
    w(f"Two daemons on the same tracepoints at once: *base* (`{pb['base']}`) and *new* "
      f"(`{pb['new']}`), each driven by its own build's ipftctl, links held (`never`), the same "
      "sessions on both, measured over the same hits (kernel BPF stats of each daemon's "
      "programs: ns per hit including the dispatch; the floor is common to both, so new − base "
      "is what their programs differ by). Attach order alternates per round (the first "
      "program on a hit may pay the skb's cache misses for both). Command: "
      f"`{run_all} --only probebase --base {pb['base']}` (or with `probecost`).")
    w("")
    w("| case | sessions | round | attach order | base ns per hit | new ns per hit | new − base "
      "| hits base / new | load |")
    w("|---|---|---|---|---|---|---|---|---|")
    names = {"b_nomatch_1": "(b) not matching", "b_nomatch_64": "(b) not matching",
             "c_match_1": "(c) matching and emitting",
             "c_match_64": "(c) matching and emitting"}
    by_case = {}
    for r in rows:
        b, n = r["base"]["ns_per_hit"], r["new"]["ns_per_hit"]
        by_case.setdefault((r["case"], r["sessions"]), []).append((b, n))
        w(f"| {names.get(r['case'], r['case'])} | {r['sessions']} | {r['round']} | "
          f"{' first, '.join(r['order'])} second | {b:.1f} | {n:.1f} | {n - b:+.1f} | "
          f"{r['base']['hits']} / {r['new']['hits']} | {r['load']:.2f} |")
    w("")
    w("| case | sessions | rounds | base mean | new mean | new − base: mean (min, max) | new / base |")
    w("|---|---|---|---|---|---|---|")
    for (case, n), v in by_case.items():
        bm = statistics.mean(b for b, _ in v)
        nm = statistics.mean(x for _, x in v)
        ds = [x - b for b, x in v]
        w(f"| {names.get(case, case)} | {n} | {len(v)} | {bm:.1f} | {nm:.1f} | "
          f"{statistics.mean(ds):+.1f} ({min(ds):+.1f}, {max(ds):+.1f}) | {nm / bm:.3f} |")


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


# Everything from this line on in the report is written by hand (targets, analysis) and kept
# when the report is regenerated.
HAND_MARKER = "<!-- written by hand below: bench/run-all.sh keeps it when it regenerates the above -->"


def kept_tail(path):
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        return ""
    i = old.find(HAND_MARKER)
    return "\n" + old[i:] if i >= 0 else ""


SECTIONS = ("start", "throughput", "probecost", "idle", "memory", "vmstart", "vmcompare")
# Sections run only when named in --only.
EXTRA_SECTIONS = ("probebase",)
# --smoke without --only: vmstart and vmcompare boot VMs (minutes), so only when asked for.
SMOKE_SECTIONS = ("start", "throughput", "probecost", "idle", "memory")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="short runs: check that it works")
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--out", help="write the Markdown report here (default: stdout)")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--only", help="comma-separated sections: " +
                    ",".join(SECTIONS + EXTRA_SECTIONS) +
                    " (default: all but probebase; with --smoke all but vmstart)")
    ap.add_argument("--base", help="another build's daemon (BUILD/daemon/skbtraced, or BUILD): "
                    "probecost (and section probebase) measure it beside this build's")
    ap.add_argument("--rounds", type=int, default=4,
                    help="rounds of the side-by-side measurement with --base (default 4)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.only is None:
        args.only = ",".join(SMOKE_SECTIONS if args.smoke else SECTIONS)
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in SECTIONS + EXTRA_SECTIONS:
            ap.error(f"unknown section '{s}'")
    if "probebase" in only and not args.base:
        ap.error("section probebase needs --base")
    if os.geteuid() != 0:
        print("SKIP: the benchmarks need root (BPF, network namespaces)", flush=True)
        return EXIT_SKIP
    if os.cpu_count() < 2:
        print("SKIP: the benchmarks need 2 CPUs (traffic on one, daemon on the other)")
        return EXIT_SKIP
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(f"killed by signal {s}"))
    t0 = time.monotonic()
    try:
        bench = Bench(args)
        for s in only:
            log(f"section {s}")
            getattr(bench, "bench_" + s)()
        text = report(bench, args, time.monotonic() - t0)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(bench.results, f, indent=1)
        if args.out:
            text += kept_tail(args.out)
            with open(args.out, "w") as f:
                f.write(text)
            log(f"wrote {args.out}")
        else:
            print(text)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
