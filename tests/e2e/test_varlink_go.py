#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test_varlink_go.py - skbtraced through the varlink Go library (a client nobody here wrote).

Builds tests/e2e/varlink/varlinkcheck.go offline against Debian's
golang-github-varlink-go-dev (GOPROXY=off, a go.mod replace to the package's
source) and runs it against the daemon: introspection parsed by the library's
IDL parser, every method, every error path, oneway calls, pipelined calls and
a streamed Trace (ICMP between the test namespaces meanwhile); then as a user
outside the access group through a socket opened to everyone: PermissionDenied (the
daemon closes a refused connection at once, so the library may also find it closed when it
writes; the refusal itself is then read on a connection that only reads).
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import tempfile

import skbt
from skbt import check, fail

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where Debian's golang-github-varlink-go-dev puts the library's source.
VARLINK_GO = "/usr/share/gocode/src/github.com/varlink/go"
HERE = os.path.dirname(os.path.abspath(__file__))
_binary = None


def go_binary():
    """The varlinkcheck binary, built once per run in a temporary directory."""
    global _binary
    if _binary:
        return _binary
    go = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go")
                                else None)
    if not go or not os.path.isdir(VARLINK_GO):
        print("# SKIP: needs golang-go and golang-github-varlink-go-dev "
              "(scripts/install-deps.sh)", flush=True)
        raise SystemExit(77)
    build = tempfile.mkdtemp(prefix="skbt-varlinkcheck-")
    skbt._cleanups.append(lambda: shutil.rmtree(build, ignore_errors=True))
    shutil.copy(os.path.join(HERE, "varlink", "varlinkcheck.go"), build)
    # The module file is written here, not kept in the tree: it names this machine's copy
    # of the library (the Debian package's path), and the build must not reach the network.
    with open(os.path.join(build, "go.mod"), "w") as f:
        f.write("module skbtraced.test/varlinkcheck\n\ngo 1.19\n\n"
                "require github.com/varlink/go v0.4.0\n\n"
                f"replace github.com/varlink/go => {VARLINK_GO}\n")
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GO111MODULE="on",
               GOCACHE=os.path.join(build, "cache"), GOPATH=os.path.join(build, "gopath"),
               HOME=build, CGO_ENABLED="0")
    r = skbt.run([go, "build", "-o", "varlinkcheck", "."], cwd=build, env=env, timeout=300,
                 check_rc=False)
    check(r.returncode == 0, f"go build failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    os.chmod(build, 0o755)
    _binary = os.path.join(build, "varlinkcheck")
    return _binary


def run_check(args, what, **kw):
    r = skbt.run([go_binary()] + args, timeout=120, check_rc=False, **kw)
    skbt.log(r.stdout.strip())
    bad = [l for l in r.stdout.splitlines() if not l.startswith("ok ")]
    check(r.returncode == 0 and not bad and r.stdout.strip(),
          f"{what}: status {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout.splitlines()


def test_go_client(t):
    ping = t.topo.ping_spawn(t.topo.a, t.topo.b4, count=300, interval=0.05)
    try:
        lines = run_check(["-socket", t.d.sock, "-count", "5"], "varlinkcheck")
    finally:
        ping.kill()
        ping.wait(5)
    for name in ("introspection", "plain_calls", "errors", "oneway", "pipelining", "trace"):
        check(f"ok {name}" in lines, f"varlinkcheck did not run {name}: {lines}")
    check(t.d.active_sessions() == 0, "the Go client's session outlived its connection")


def test_go_client_denied(t):
    """An outsider through a socket opened by mistake: PermissionDenied, as varlink names it."""
    d = t.d
    old = [(p, os.stat(p).st_mode & 0o7777) for p in (t.workdir, d.dir, d.sock)]
    try:
        os.chmod(t.workdir, 0o711)
        os.chmod(d.dir, 0o711)
        os.chmod(d.sock, 0o666)
        lines = run_check(["-socket", d.sock, "-denied"], "varlinkcheck as nobody",
                          user=65534, group=65534, extra_groups=[])
        check(lines == ["ok permission_denied"], f"varlinkcheck -denied: {lines}")
    finally:
        for p, mode in old:
            os.chmod(p, mode)


# ---- every reply against the interface file ----

def load_idls():
    """The IDL parser of tests/unit/test_params_docs.py, on varlink/*.varlink."""
    spec = importlib.util.spec_from_file_location(
        "params_docs", os.path.join(SRC, "tests", "unit", "test_params_docs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    idls = {}
    for f in ("io.skbtraced.varlink", "org.varlink.service.varlink"):
        with open(os.path.join(SRC, "varlink", f), encoding="utf-8") as fh:
            idl = mod.Parser(fh.read()).parse()
        idls[idl["name"]] = idl
    return mod, idls


def conforms(mod, idl, t, v, path, problems):
    """Collect in problems where v does not have IDL type t."""
    t = mod.resolve(idl, t)
    kind = t[0]
    if kind == "maybe":
        if v is not None:
            conforms(mod, idl, t[1], v, path, problems)
        return
    ok = {"bool": lambda: isinstance(v, bool),
          "int": lambda: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
          "string": lambda: isinstance(v, str),
          "object": lambda: True,
          "enum": lambda: v in t[1],
          "array": lambda: isinstance(v, list),
          "map": lambda: isinstance(v, dict),
          "struct": lambda: isinstance(v, dict)}[kind]()
    if not ok:
        problems.append(f"{path}: {json.dumps(v)[:80]} is not {t if kind != 'struct' else 'an object'}")
        return
    if kind == "array":
        for i, e in enumerate(v):
            conforms(mod, idl, t[1], e, f"{path}[{i}]", problems)
    elif kind == "map":
        for k, e in v.items():
            conforms(mod, idl, t[1], e, f"{path}.{k}", problems)
    elif kind == "struct":
        fields = dict(t[1])
        for k in v:
            if k not in fields:
                problems.append(f"{path}.{k}: not declared")
        for k, ft in fields.items():
            if k in v:
                conforms(mod, idl, ft, v[k], f"{path}.{k}", problems)
            elif mod.resolve(idl, ft)[0] != "maybe":
                problems.append(f"{path}.{k}: declared, missing")


def check_reply(mod, idls, method, reply, problems):
    """A reply (or error) of method against its declaration."""
    iface, _, name = method.rpartition(".")
    if "error" in reply:
        e_iface, _, e_name = reply["error"].rpartition(".")
        idl = idls.get(e_iface)
        if not idl or e_name not in idl["errors"]:
            problems.append(f"{method}: error {reply['error']} is not declared")
            return
        params = dict(reply.get("parameters") or {})
        # The documented extension: every error says what to fix, standard ones too.
        if e_iface == "org.varlink.service":
            params.pop("message", None)
        conforms(mod, idl, idl["errors"][e_name], params, reply["error"], problems)
        return
    conforms(mod, idls[iface], idls[iface]["methods"][name][1], reply.get("parameters"),
             method, problems)


def exchange(path, msg, count=1, timeout=10):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(json.dumps(msg).encode() + b"\0")
        msgs, _ = skbt._read_messages(s, count=count, timeout=timeout)
        return msgs


class Stream:
    """The replies of a streamed call, as they come."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def _fill(self, enough, timeout):
        self.s.settimeout(timeout)
        while not enough():
            chunk = self.s.recv(65536)
            check(chunk, "the stream ended without a last reply")
            self.buf += chunk

    def next(self, timeout=10):
        self._fill(lambda: b"\0" in self.buf, timeout)
        raw, self.buf = self.buf.split(b"\0", 1)
        msg = json.loads(raw)
        # raw_output: the batch's lines follow its NUL as output_bytes bytes of their own.
        n = (msg.get("parameters") or {}).get("output_bytes")
        if isinstance(n, int) and n > 0:
            self._fill(lambda: len(self.buf) >= n, timeout)
            self.buf = self.buf[n:]
        return msg

    def until_last(self):
        out = [self.next()]
        while out[-1].get("continues"):
            out.append(self.next())
        return out


def test_replies_match_the_idl(t):
    """What the daemon sends is what the interface file declares: no member more, none less."""
    mod, idls = load_idls()
    sock, topo, problems = t.d.sock, t.topo, []
    calls = [
        ("io.skbtraced.Status", None), ("io.skbtraced.List", None),
        ("io.skbtraced.List", {"groups": True}), ("io.skbtraced.Sessions", None),
        ("org.varlink.service.GetInfo", None),
        ("org.varlink.service.GetInterfaceDescription", {"interface": "io.skbtraced"}),
        ("io.skbtraced.Stop", {"session": 999999}), ("io.skbtraced.Nope", None),
        ("com.example.Nope", None), ("io.skbtraced.Status", {"x": 1}),
        ("io.skbtraced.Trace", None),
    ]
    for method, params in calls:
        msg = {"method": method} if params is None else {"method": method, "parameters": params}
        for r in exchange(sock, msg):
            check_reply(mod, idls, method, r, problems)
    # A streamed Trace (started, batches, summary), and Sessions and Stop while one runs.
    ping = topo.ping_spawn(topo.a, topo.b4, count=200, interval=0.05)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(sock)
            s.sendall(json.dumps({"method": "io.skbtraced.Trace", "more": True, "parameters": {
                "filter": {"proto": "icmp"}, "output": "json", "track": True,
                "fields": ["len"], "count": 1000}}).encode() + b"\0")
            st = Stream(s)
            first = [st.next(), st.next()]  # started, and a first batch (the pings)
            sid = first[0]["parameters"]["started"]["session"]
            for r in exchange(sock, {"method": "io.skbtraced.Sessions"}):
                check_reply(mod, idls, "io.skbtraced.Sessions", r, problems)
            stopped = exchange(sock, {"method": "io.skbtraced.Stop",
                                      "parameters": {"session": sid}})
            for r in stopped:
                check_reply(mod, idls, "io.skbtraced.Stop", r, problems)
            rest = st.until_last()
        for r in first + rest:
            check_reply(mod, idls, "io.skbtraced.Trace", r, problems)
        check(rest and "summary" in rest[-1].get("parameters", {}),
              f"the stopped Trace ended without a summary: {rest[-1:]}")
    finally:
        ping.kill()
        ping.wait(5)
    check(not problems, "replies differ from varlink/io.skbtraced.varlink:\n  " +
          "\n  ".join(problems[:40]))


def trace_replies(sock, params, extra_calls=()):
    """The replies of a Trace ended by its duration, and of calls made while it ran."""
    side = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.sendall(json.dumps({"method": "io.skbtraced.Trace", "more": True,
                              "parameters": params}).encode() + b"\0")
        st = Stream(s)
        replies = [st.next()]
        for method, p in extra_calls if "error" not in replies[0] else ():
            s.sendall(json.dumps({"method": method, "more": True, "parameters": p}).encode()
                      + b"\0")
            side.append(method)
        if replies[0].get("continues"):
            replies += st.until_last()
    return replies, side


def test_more_replies_match_the_idl(t):
    """The other shapes a reply takes: each output format, recording, raw output, the tracers,
    and the errors a connection gets for a bad message or a second session."""
    mod, idls = load_idls()
    sock, topo, problems = t.d.sock, t.topo, []
    ping = topo.ping_spawn(topo.a, topo.b4, count=400, interval=0.02)
    try:
        variants = [
            {"output": "aggregate"}, {"output": "aggregate-json", "detail": True},
            {"output": "text", "detail": True, "stack": True},
            {"record": True, "snapshot": True, "conntrack": True, "fields": ["len"]},
            {"output": "json", "raw_output": True},
            # Whatever this host can do: a stream, or an error the interface declares.
            {"tracer": "function_graph"}, {"tracer": "drop"},
        ]
        kinds = set()
        for v in variants:
            params = dict(v, filter={"proto": "icmp"}, duration=1.0)
            # A second Trace on a connection with a session: SessionActive, in the stream.
            extra = [("io.skbtraced.Trace", {})] if v.get("output") == "text" else ()
            replies, side = trace_replies(sock, params, extra)
            for r in replies:
                check_reply(mod, idls, "io.skbtraced.Trace", r, problems)
                p = r.get("parameters") or {}
                kinds |= {k for k in ("started", "output", "output_bytes", "summary") if k in p}
                if "error" in r:
                    kinds.add(r["error"])
            if side:
                check(any(r.get("error") == "io.skbtraced.SessionActive" for r in replies),
                      f"a second Trace on the connection got no SessionActive: {replies[-3:]}")
        check({"started", "output", "output_bytes", "summary"} <= kinds,
              f"the variants did not produce every kind of reply: {sorted(kinds)}")
    finally:
        ping.kill()
        ping.wait(5)
    # A message that is no call, and one over 64 KiB: the connection closes after the error.
    for data, want in ((b'{"nomethod": 1}\0', "io.skbtraced.MalformedRequest"),
                       (b'{"method": "' + b"x" * 70000 + b'"}\0', "io.skbtraced.RequestTooLarge")):
        msgs, _ = skbt.varlink_raw(sock, data)
        check(msgs and msgs[0].get("error") == want, f"{data[:20]!r}...: {msgs}, want {want}")
        check_reply(mod, idls, "io.skbtraced.Status", msgs[0], problems)
    check(not problems, "replies differ from varlink/io.skbtraced.varlink:\n  " +
          "\n  ".join(problems[:40]))


if __name__ == "__main__":
    skbt.main(globals())
