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

import os
import shutil
import subprocess
import tempfile

import skbt
from skbt import check, fail

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


if __name__ == "__main__":
    skbt.main(globals())
