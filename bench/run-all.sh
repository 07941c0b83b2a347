#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# run-all.sh - build and run every skbtraced benchmark, write docs/performance.md
#
#   bench/run-all.sh                     all benchmarks (about 13 minutes plus the VM comparison with
#                                        ipftrace2, about an hour), docs/performance.md
#   bench/run-all.sh --smoke             seconds-long runs that check the benchmarks work
#   bench/run-all.sh --only start,memory some sections (start throughput probecost idle memory
#                                        vmstart vmcompare; probebase only when named)
#   bench/run-all.sh --only probecost --base OTHER_BUILD/daemon/skbtraced
#                                        probe cost, plus the other build's daemon beside this one
#
# Needs root (BPF, network namespaces), 2 CPUs, bpftool, and for the comparisons bpftrace and
# iperf3 (scripts/install-deps.sh installs them).  Exits 77 (skipped) when not root.
# Environment: BUILDDIR (default build/ in the source tree), IPFTRACE2_TARBALL (vmcompare: the
# ipftrace2 source archive to build it from, bench/README.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}
smoke=0
only=
build=1
out=
pass=()

usage() {
        cat <<EOF2
usage: $0 [--smoke] [--only SECTIONS] [--out FILE] [--json FILE] [--no-build]
          [--base OTHER_BUILD/daemon/skbtraced [--rounds N]]

Build (unless --no-build) and run the benchmarks in one process, so that every
comparison is measured side by side, and write the report.
  --smoke          short runs that only check the benchmarks work (numbers mean nothing);
                   the report goes to \$BUILDDIR/bench/performance-smoke.md unless --out
  --only LIST      comma-separated sections: start,throughput,probecost,idle,memory,vmstart,
                   vmcompare, probebase
                   (default all but probebase; with --smoke all but vmstart, vmcompare)
  --base DAEMON    another build's skbtraced (its ipftctl is taken from the same build
                   directory): probecost and probebase run it beside this build's, on the
                   same tracepoints, sessions and hits (ns per hit of each, side by side)
  --rounds N       side-by-side rounds with --base, attach order alternating (default 4)
  --out FILE       Markdown report (default docs/performance.md)
  --json FILE      also write the raw results as JSON
  --no-build       use the binaries already in \$BUILDDIR
EOF2
}

while [ $# -gt 0 ]; do
        case "$1" in
        --smoke) smoke=1; pass+=(--smoke) ;;
        --base)
                # Resolved here: the harness runs from the source tree's top.
                [ $# -ge 2 ] || { echo "run-all: --base needs a path" >&2; exit 2; }
                pass+=(--base "$(realpath -m -- "$2")"); shift ;;
        --only | --json | --rounds)
                [ $# -ge 2 ] || { echo "run-all: $1 needs a value" >&2; exit 2; }
                [ "$1" = --only ] && only=$2
                pass+=("$1" "$2"); shift ;;
        --out)
                [ $# -ge 2 ] || { echo "run-all: --out needs a FILE" >&2; exit 2; }
                out=$2; shift ;;
        --no-build) build=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run-all: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
        esac
        shift
done

if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: the benchmarks need root (BPF programs, network namespaces)"
        exit 77
fi
for tool in ip taskset bpftool python3; do
        command -v "$tool" >/dev/null || { echo "run-all: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

if [ "$build" -eq 1 ]; then
        [ -f "$builddir/meson-private/coredata.dat" ] || meson setup "$builddir" "$top"
        meson compile -C "$builddir"
fi
if [ -z "$out" ]; then
        if [ "$smoke" -eq 1 ]; then
                out=$builddir/bench/performance-smoke.md
        else
                out=$top/docs/performance.md
        fi
fi

cd "$top"
python3 "$here/skbtbench.py" --builddir "$builddir" --out "$out" "${pass[@]}"
if [ "$smoke" -eq 1 ]; then
        # Smoke: every section asked for (all by default) produced its table (the numbers
        # are not judged).
        for s in start:"Session start" throughput:"Event throughput" probecost:"Probe cost" \
                idle:"Idle overhead" memory:"Memory"; do
                case ",${only:-start,throughput,probecost,idle,memory}," in
                *",${s%%:*},"*) ;;
                *) continue ;;
                esac
                section=${s#*:}
                grep -q "^## .*$section" "$out" || { echo "run-all: section '$section' missing in $out" >&2; exit 1; }
        done
        if grep -q MISMATCH "$out"; then
                echo "run-all: loss accounting does not add up (see $out)" >&2
                exit 1
        fi
        echo "run-all: smoke run OK ($out)"
fi
