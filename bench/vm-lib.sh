# SPDX-License-Identifier: GPL-2.0-only
# vm-lib.sh — what the bench/vm-*.sh drivers share (sourced, bash): their option parsing, checks
# and the boot of their guest in the VM tier (tests/vm/run-vm.sh).
# shellcheck shell=bash
#
#   vm_init NAME        here, top, builddir (BUILDDIR, default build/); die and skip say NAME
#   vm_opts OPT=VAR... -- "$@"   each "OPT VALUE" sets VAR; -h/--help prints the driver's head
#                       comment (the lines after its SPDX line, up to the first non-comment)
#   vm_positive WHAT VALUE...    dies "WHAT want positive numbers" unless each VALUE is one
#   vm_need_root        skips unless root
#   vm_need_tools T...  skips unless each tool is installed
#   vm_need_build F...  dies unless each BUILDDIR/F was built
#   vm_workdir          work: a temporary directory, removed on exit
#   vm_boot KERNEL GUEST TIMEOUT LOG OUT RUN-VM-OPTIONS...  boots KERNEL with bench/GUEST as
#                       its test script for at most TIMEOUT s (--quiet), the console in LOG,
#                       run-vm.sh's output in OUT; returns its status, with OUT's tail on
#                       stderr when it failed

vm_init() {
        vm_name=$1
        here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
        top=$(cd "$here/.." && pwd)
        builddir=${BUILDDIR:-$top/build}
}

die() {
        printf '%s: %s\n' "$vm_name" "$*" >&2
        exit 2
}

skip() {
        printf 'SKIP: %s: %s\n' "$vm_name" "$*"
        exit 77
}

vm_opts() {
        local -A var=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do
                var[${1%%=*}]=${1#*=}
                shift
        done
        shift
        while [ $# -gt 0 ]; do
                case $1 in
                -h | --help)
                        awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
                        exit 0
                        ;;
                esac
                if [ -z "$1" ] || [ -z "${var[$1]:-}" ]; then
                        die "unknown argument '$1'"
                fi
                [ $# -ge 2 ] || die "$1 needs a value"
                printf -v "${var[$1]}" '%s' "$2"
                shift 2
        done
}

vm_positive() {
        local what=$1 n
        shift
        for n in "$@"; do
                [[ $n =~ ^[1-9][0-9]*$ ]] || die "$what want positive numbers"
        done
}

vm_need_root() {
        [ "$(id -u)" -eq 0 ] || skip "needs root (qemu, as the VM tier runs it)"
        command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
}

vm_need_tools() {
        local t
        for t in "$@"; do
                command -v "$t" >/dev/null || skip "$t not installed (scripts/install-deps.sh)"
        done
}

vm_need_build() {
        local f
        for f in "$@"; do
                [ -x "$builddir/$f" ] ||
                        die "$builddir/$f missing: build first (meson compile -C $builddir)"
        done
}

vm_workdir() {
        work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-$vm_name.XXXXXX")
        trap 'rm -rf "$work"' EXIT
}

vm_boot() {
        local kernel=$1 guest=$2 timeout=$3 log=$4 out=$5 rc=0
        shift 5
        "$top/tests/vm/run-vm.sh" "$kernel" "$here/$guest" --timeout "$timeout" --quiet \
                --log "$log" "$@" >"$out" 2>&1 || rc=$?
        [ $rc -eq 0 ] || tail -n 40 "$out" >&2
        return $rc
}
