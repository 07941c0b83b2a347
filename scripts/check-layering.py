#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""check-layering.py - no circles between files: neither in #includes nor in who calls whom.

    scripts/check-layering.py BUILDDIR [--known FILE,FILE,...]...

Two graphs over the C files of common/, render/, daemon/ and client/:
  - includes: header -> the headers it #includes (quoted includes, resolved the way
    the meson include directories resolve them);
  - uses: object file -> the object files defining the symbols it leaves undefined
    (nm on the static libraries in BUILDDIR: calls and data references alike), so
    a file that calls back into one that calls it shows up whatever header it went
    through.
A cycle in either graph (a strongly connected component of more than one file) is
printed with the edges that close it, and the exit status is 1.  --known names a call
cycle (its files, comma-separated) that is known and being removed: it is printed but
does not fail, and a known cycle that is gone fails until it is taken off the list.  The data flow
the design wants (DESIGN.md: probe -> ring buffer -> session -> client) needs
every layer to call only downwards; this is the check that it does.
"""

import os
import re
import subprocess
import sys

DIRS = ["common", "render", "daemon", "client"]


def sources(top):
    out = []
    for d in DIRS:
        for root, _, files in os.walk(os.path.join(top, d)):
            out += [os.path.relpath(os.path.join(root, f), top) for f in files
                    if f.endswith((".c", ".h"))]
    return sorted(out)


def include_graph(top, files):
    """header or source -> headers it includes (only our own headers)."""
    by_name = {}
    for f in files:
        if f.endswith(".h"):
            by_name.setdefault(os.path.basename(f), []).append(f)
    graph = {}
    for f in files:
        edges = set()
        with open(os.path.join(top, f), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                name = m.group(1)
                here = os.path.normpath(os.path.join(os.path.dirname(f), name))
                if here in files:
                    edges.add(here)
                elif os.path.basename(name) in by_name:
                    cands = by_name[os.path.basename(name)]
                    # Same top folder first (daemon/x.h from daemon/), as meson's order does.
                    same = [c for c in cands if c.split("/")[0] == f.split("/")[0]]
                    edges.add((same or cands)[0])
        graph[f] = edges
    return graph


def object_graph(builddir, top):
    """object's source -> sources of the objects defining what it uses; and for each
    such edge, the symbols it uses (to say which calls close a cycle)."""
    defined, undefined = {}, {}
    libs = []
    for root, _, names in os.walk(builddir):
        libs += [os.path.join(root, n) for n in names if n.endswith(".a")]
    for lib in libs:
        rel = os.path.relpath(os.path.dirname(lib), builddir)
        if rel.split("/")[0] not in DIRS:
            continue
        out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"^[^:]+:([^:]+\.o):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
            if not m:
                continue
            member, kind, sym = m.groups()
            src = source_of(member, rel, top)
            if not src:
                continue
            if kind == "U":
                undefined.setdefault(src, set()).add(sym)
            elif kind in "TDBRVW" and kind.isupper():
                defined[sym] = src
    graph, why = {}, {}
    for src, syms in undefined.items():
        graph[src] = set()
        for s in syms:
            if s in defined and defined[s] != src:
                graph[src].add(defined[s])
                why.setdefault((src, defined[s]), []).append(s)
    for src in set(defined.values()):
        graph.setdefault(src, set())
    return graph, why


def source_of(member, libdir, top):
    """daemon/control/varlink.c from member control_varlink.c.o of a library in daemon/."""
    name = os.path.basename(member)[:-len(".o")]
    for cand in (os.path.join(libdir, name.replace("_", "/", 1)), os.path.join(libdir, name)):
        if os.path.exists(os.path.join(top, cand)):
            return cand
    # meson flattens the path with '_': try every split.
    parts = name.split("_")
    for i in range(1, len(parts)):
        cand = os.path.join(libdir, "_".join(parts[:i]), "_".join(parts[i:]))
        if os.path.exists(os.path.join(top, cand)):
            return cand
    return None


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def report(kind, graph, comps, why=None):
    for comp in comps:
        print(f"{kind} cycle between {len(comp)} files:")
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                syms = sorted((why or {}).get((a, b), []))
                more = f", +{len(syms) - 4}" if len(syms) > 4 else ""
                print(f"  {a} -> {b}" + (f" ({', '.join(syms[:4])}{more})" if syms else ""))


def main():
    args = sys.argv[1:]
    known = set()
    while "--known" in args:
        i = args.index("--known")
        known.add(tuple(sorted(args[i + 1].split(","))))
        del args[i:i + 2]
    builddir = os.path.abspath(args[0] if args else "build")
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = sources(top)
    inc = include_graph(top, files)
    obj, why = object_graph(builddir, top)
    if not obj:
        print(f"check-layering: no static libraries under {builddir}: build first",
              file=sys.stderr)
        return 1
    inc_cycles, obj_cycles = cycles(inc), cycles(obj)
    report("include", inc, inc_cycles)
    new = [c for c in obj_cycles if tuple(c) not in known]
    report("call", obj, new, why)
    report("known call", obj, [c for c in obj_cycles if tuple(c) in known], why)
    gone = known - {tuple(c) for c in obj_cycles}
    for c in sorted(gone):
        print(f"known call cycle {','.join(c)} is gone: take it off the --known list")
    print(f"check-layering: {len(inc)} files, {sum(map(len, inc.values()))} includes; "
          f"{len(obj)} objects, {sum(map(len, obj.values()))} uses between them; "
          f"{len(inc_cycles)} include and {len(new)} call cycles"
          f"{f' ({len(obj_cycles) - len(new)} known)' if len(obj_cycles) != len(new) else ''}")
    return 1 if inc_cycles or new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
