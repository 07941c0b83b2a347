#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# run-tests.sh - configure, build and run the skbtraced test suites, then print "N passed, N failed"
#
#   scripts/run-tests.sh                   suites unit, fuzz, bpf, e2e, bench (smoke), package and vm
#   scripts/run-tests.sh --suite e2e       one suite (repeat --suite for several)
#   scripts/run-tests.sh -- --repeat 3     arguments after -- go to `meson test`
#
# The bpf, e2e and vm suites need root.  Tests exit 77 to say "skipped"
# (e.g. not root); with CI=true a skip counts as a failure, because in CI
# every tier must run (docs: DESIGN "Testing tiers").  A requested suite with
# no tests at all is reported, and is a failure with CI=true.
#
# Environment: BUILDDIR (default: build/ in the source tree), CI, SKBT_VM_JOBS (VM guests
# run at once, default 2; the host suites always run one test at a time).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
builddir=${BUILDDIR:-$top/build}
ci=0
case "${CI:-}" in
true | 1 | yes) ci=1 ;;
esac

usage() {
        cat <<EOF
usage: $0 [--suite NAME]... [-- MESON_TEST_ARGS...]

Configure (if needed) and build in $builddir, run the test suites one test at
a time and print a final "N passed, N failed[, N skipped]" line.
  --suite NAME   run only suite NAME (unit, fuzz, bpf, e2e, bench, package, vm); may be repeated
  -h, --help     show this help
Default suites: unit bpf e2e, plus bench (smoke mode), package (the .debs) and vm when the
build defines them.
Host tests run one at a time, then the vm suite SKBT_VM_JOBS (default 2) guests at a time.
With CI=true skipped tests count as failures.
EOF
}

suites=()
extra=()
while [ $# -gt 0 ]; do
        case "$1" in
        --suite)
                [ $# -ge 2 ] || { echo "run-tests: --suite needs a NAME" >&2; exit 2; }
                suites+=("$2")
                shift
                ;;
        --suite=*) suites+=("${1#--suite=}") ;;
        -h | --help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "run-tests: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
        esac
        shift
done

log() { printf 'run-tests: %s\n' "$*"; }

# The closing line CI reads; printed on every path out of this script.
final() {
        local passed=$1 failed=$2 skipped=$3
        if [ "$skipped" -gt 0 ]; then
                echo "$passed passed, $failed failed, $skipped skipped"
        else
                echo "$passed passed, $failed failed"
        fi
}

if [ "$(id -u)" -ne 0 ]; then
        log "warning: not root: the bpf, e2e and vm tests will skip (exit 77)$([ $ci -eq 1 ] && echo ', which CI=true counts as failure')"
fi

cd "$top"

if [ ! -f "$builddir/meson-private/coredata.dat" ]; then
        log "meson setup $builddir"
        if ! meson setup "$builddir"; then
                log "meson setup failed"
                final 0 1 0
                exit 1
        fi
fi

log "meson compile -C $builddir"
if ! meson compile -C "$builddir"; then
        log "build failed"
        final 0 1 0
        exit 1
fi

# Suites the build defines (introspection names them "project:suite").
mapfile -t defined < <(meson introspect "$builddir" --tests |
        python3 -c 'import json, sys
names = set()
for t in json.load(sys.stdin):
    for s in t.get("suite", []):
        names.add(s.split(":", 1)[-1])
print("\n".join(sorted(names)))')

has_suite() {
        local s
        for s in "${defined[@]}"; do
                [ "$s" = "$1" ] && return 0
        done
        return 1
}

if [ ${#suites[@]} -eq 0 ]; then
        suites=(unit fuzz bpf e2e)
        has_suite bench && suites+=(bench)
        # Before vm: the systemd scenario installs the packages this suite builds.
        has_suite package && suites+=(package)
        has_suite vm && suites+=(vm)
fi

missing=0
run=()
vm_run=()
for s in "${suites[@]}"; do
        if ! has_suite "$s"; then
                log "suite '$s': no tests defined in this build (defined: ${defined[*]:-none})"
                missing=$((missing + 1))
        elif [ "$s" = vm ]; then
                vm_run=(--suite vm)
        else
                run+=(--suite "$s")
        fi
done

# Host tests run one at a time: they share the kernel's BPF state and the machine's cores.
# The VM tests come after them, in a meson run of their own, SKBT_VM_JOBS (default 2) guests
# at a time: each guest is one TCG vCPU, so two of them use a two-core machine fully and
# nothing else runs meanwhile.  Each meson run rewrites testlog.json: the results of both
# are collected in run-tests.json and counted from there.
testlog="$builddir/meson-logs/testlog.json"
results="$builddir/meson-logs/run-tests.json"
rm -f "$results"
meson_rc=0
run_meson() { # run_meson JOBS ARGS...
        local jobs=$1 rc=0
        shift
        rm -f "$testlog"
        log "meson test -C $builddir --print-errorlogs --num-processes $jobs $* ${extra[*]}"
        meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes "$jobs" \
                "$@" ${extra[@]+"${extra[@]}"} || rc=$?
        [ "$rc" -eq 0 ] || meson_rc=$rc
        [ ! -f "$testlog" ] || cat "$testlog" >>"$results"
}
[ ${#run[@]} -eq 0 ] || run_meson 1 "${run[@]}"
[ ${#vm_run[@]} -eq 0 ] || run_meson "${SKBT_VM_JOBS:-2}" "${vm_run[@]}"

# Count results: OK/EXPECTEDFAIL pass; SKIP is a skip; anything else fails.
read -r passed failed skipped < <(
        python3 - "$results" <<'EOF'
import json, sys
passed = failed = skipped = 0
skips = []
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            r = t.get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
                skips.append(t.get("name", "?"))
            else:
                failed += 1
except FileNotFoundError:
    pass
for n in skips:
    print("run-tests: skipped: " + n, file=sys.stderr)
print(passed, failed, skipped)
EOF
)

rc=0
if [ "$meson_rc" -ne 0 ]; then
        rc=1
        # meson test failing without a failed test (e.g. it could not start) is still a failure.
        [ "$failed" -gt 0 ] || failed=1
fi
[ "$failed" -eq 0 ] || rc=1
if [ "$ci" -eq 1 ]; then
        if [ "$skipped" -gt 0 ]; then
                log "CI=true: counting $skipped skipped test(s) as failed (every tier must run in CI)"
                failed=$((failed + skipped))
                skipped=0
                rc=1
        fi
        if [ "$missing" -gt 0 ]; then
                log "CI=true: counting $missing requested suite(s) without tests as failed"
                failed=$((failed + missing))
                rc=1
        fi
fi
if [ $((passed + failed + skipped)) -eq 0 ]; then
        log "no test ran"
        rc=1
fi
final "$passed" "$failed" "$skipped"
exit "$rc"
