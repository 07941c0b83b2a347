#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# run-vm.sh — boot a cached Debian kernel under qemu (TCG) with a guest script and report PASS/FAIL.
#
# Usage: run-vm.sh KERNEL_VERSION SCRIPT [OPTIONS]
#
#   KERNEL_VERSION     6.1, 6.12 (aliases fetch-kernels.sh keeps) or a release under cache/
#   SCRIPT             guest script (busybox sh), run as /test.sh by the guest's /init
#   --timeout S        kill qemu after S seconds (default 300); the guest gives /test.sh
#                      S-30 seconds (at least S/2) so a hung test still reports FAIL
#   --extra FILE...    files for the image, FILE or FILE:DEST (default DEST /usr/bin/NAME);
#                      ELF files bring their libraries; takes every argument up to the next --option
#   --module NAME      load an extra kernel module (with its dependencies); repeatable
#   --log FILE         console log path (default cache/logs/<release>-<script>.log)
#   --append ARGS      extra kernel command line
#   --smp N            guest CPUs (default 1)
#   --quiet            do not stream the console; print only its last 60 lines at the end
#   --systemd          boot Debian 12 with systemd as PID 1 from a disk instead of the busybox
#                      initramfs (mkrootfs.sh, mkrootimg.sh); SCRIPT runs under bash once the
#                      system is up; --extra files default to /usr/local/bin/NAME
#
# Exit status: 0 iff the console shows "SKBT-VM-RESULT: PASS"; 1 on FAIL, timeout or no
# marker; 2 on usage or setup errors. Missing 6.1/6.12 kernels are fetched first.
# Environment: SKBT_VM_CACHE (cache dir), SKBT_VM_MODULES (extra modules), QEMU.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SKBT_VM_CACHE:-$SCRIPT_DIR/cache}
QEMU=${QEMU:-qemu-system-x86_64}

die() { printf 'run-vm: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '5,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 2 ]] || usage
kver=$1
script=$2
shift 2
timeout_s=300
extras=()
modargs=()
log=
append=
smp=1
quiet=0
systemd=0
while [[ $# -gt 0 ]]; do
        case $1 in
        --timeout) [[ $# -ge 2 ]] || usage; timeout_s=$2; shift 2 ;;
        --extra)
                shift
                while [[ $# -gt 0 && $1 != --* ]]; do
                        extras+=("$1")
                        shift
                done
                ;;
        --module) [[ $# -ge 2 ]] || usage; modargs+=(--module "$2"); shift 2 ;;
        --log) [[ $# -ge 2 ]] || usage; log=$2; shift 2 ;;
        --append) [[ $# -ge 2 ]] || usage; append=$2; shift 2 ;;
        --smp) [[ $# -ge 2 ]] || usage; smp=$2; shift 2 ;;
        --quiet) quiet=1; shift ;;
        --systemd) systemd=1; shift ;;
        -h | --help) usage ;;
        *) die "unknown argument $1" ;;
        esac
done
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive number of seconds"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp wants a positive number"
[[ -f $script ]] || die "no such script: $script"

if [[ ! -e $CACHE/$kver/.complete ]]; then
        case $kver in
        6.1 | 6.12)
                printf 'run-vm: kernel %s not in %s, fetching it\n' "$kver" "$CACHE" >&2
                # One fetch at a time: VM tests run side by side (run-tests.sh), and two
                # guests of one kernel would otherwise both unpack it into the cache.
                mkdir -p "$CACHE"
                flock "$CACHE" "$SCRIPT_DIR/fetch-kernels.sh" "$kver" >&2 ||
                        die "fetch-kernels.sh $kver failed"
                ;;
        *) die "kernel $kver not in $CACHE (fetch-kernels.sh knows 6.1 and 6.12)" ;;
        esac
fi
kdir=$(cd "$CACHE/$kver" && pwd -P)
release=$(basename "$kdir")
command -v "$QEMU" >/dev/null || die "$QEMU not found (fetch-kernels.sh installs qemu-system-x86)"

name=$(basename "$script")
name=${name%.sh}
[[ -n $log ]] || log=$CACHE/logs/$release-$name.log
mkdir -p "$(dirname "$log")"

work=$(mktemp -d "${TMPDIR:-/tmp}/skbt-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT

t0=$EPOCHREALTIME
if [[ $systemd -eq 1 ]]; then
        # A no-op when the cached root file system is current.
        "$SCRIPT_DIR/mkrootfs.sh" >&2 || die "mkrootfs.sh failed"
        "$SCRIPT_DIR/mkrootimg.sh" "$kdir" "$work/root.img" --script "$script" \
                ${modargs[@]+"${modargs[@]}"} ${extras[@]+"${extras[@]}"} || die "mkrootimg.sh failed"
        # systemd and a Debian userland want more room than the initramfs.
        boot=(-drive "file=$work/root.img,format=raw,if=none,id=root,cache=unsafe"
                -device nvme,serial=skbt-root,drive=root)
        root_args="root=/dev/nvme0n1 rw rootfstype=ext4"
        mem=1536
else
        "$SCRIPT_DIR/mkinitramfs.sh" "$kdir" "$work/initrd.gz" --script "$script" \
                ${modargs[@]+"${modargs[@]}"} ${extras[@]+"${extras[@]}"} || die "mkinitramfs.sh failed"
        boot=(-initrd "$work/initrd.gz")
        root_args=
        mem=1024
fi
t_build=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

guest_tmo=$((timeout_s - 30))
((guest_tmo >= timeout_s / 2)) || guest_tmo=$((timeout_s / 2))
((guest_tmo >= 1)) || guest_tmo=1

cmdline="console=ttyS0${root_args:+ $root_args} quiet panic=-1 skbt.timeout=$guest_tmo${append:+ $append}"
qemu_cmd=("$QEMU" -accel tcg -cpu max -smp "$smp" -m "$mem" -nographic -no-reboot -net none
        -kernel "$kdir/vmlinuz" "${boot[@]}" -append "$cmdline")
printf 'run-vm: %s, %s, timeout %ss (guest test %ss), %s built in %ss\n' \
        "$release" "$script" "$timeout_s" "$guest_tmo" "$([[ $systemd -eq 1 ]] && echo root disk || echo initramfs)" \
        "$t_build" >&2
printf 'run-vm: + %s\n' "${qemu_cmd[*]}" >&2

# Stream the serial console into the log, time-stamping the lines we care about.
: >"$log"
t_start=$EPOCHREALTIME
set +e
timeout -k 5 "$timeout_s" "${qemu_cmd[@]}" </dev/null 2>&1 | {
        t_init='' t_result=''
        esc_re=$'\e''(\[[0-9;?]*[A-Za-z]|[A-Za-z])'
        while IFS= read -r line || [[ -n $line ]]; do
                line=${line//$'\r'/}
                # SeaBIOS clears the screen with escape sequences; keep the log plain text.
                while [[ $line =~ $esc_re ]]; do
                        line=${line/"${BASH_REMATCH[0]}"/}
                done
                printf '%s\n' "$line" >>"$log"
                [[ $quiet -eq 1 ]] || printf '%s\n' "$line"
                case $line in
                *SKBT-VM-INIT:\ uptime*) [[ -n $t_init ]] || t_init=$EPOCHREALTIME ;;
                *SKBT-VM-RESULT:*) t_result=$EPOCHREALTIME ;;
                esac
        done
        printf '%s %s\n' "${t_init:--}" "${t_result:--}" >"$work/times"
}
qemu_rc=${PIPESTATUS[0]}
set -e
t_end=$EPOCHREALTIME

read -r t_init t_result <"$work/times" || { t_init=-; t_result=-; }
since() { # seconds from qemu start to $1, or "-"
        [[ $1 == - ]] && { printf -- -; return; }
        awk -v a="$t_start" -v b="$1" 'BEGIN { printf "%.1f", b - a }'
}
guest_uptime=$(sed -n 's/.*SKBT-VM-INIT: uptime \([0-9.]*\) s.*/\1/p' "$log" | head -n 1)
# Not anchored: kernel messages may share the line. The last marker counts.
marker=$(grep -ao 'SKBT-VM-RESULT: .*' "$log" | tail -n 1 || true)

if [[ $quiet -eq 1 ]]; then
        printf -- '---- last 60 lines of %s ----\n' "$log"
        tail -n 60 "$log"
        printf -- '----\n'
fi
printf 'run-vm: %s boot: /init at %ss wall (guest uptime %ss), result at %ss, qemu exited at %ss (rc %s)\n' \
        "$release" "$(since "$t_init")" "${guest_uptime:--}" "$(since "$t_result")" "$(since "$t_end")" "$qemu_rc"
printf 'run-vm: console log: %s\n' "$log"

case $marker in
'SKBT-VM-RESULT: PASS')
        printf 'run-vm: %s %s: PASS\n' "$release" "$name"
        exit 0
        ;;
'SKBT-VM-RESULT: FAIL'*)
        printf 'run-vm: %s %s: FAIL (%s)\n' "$release" "$name" "${marker#SKBT-VM-RESULT: FAIL }"
        ;;
*)
        if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
                why="qemu killed after ${timeout_s}s"
        elif grep -qa 'Kernel panic' "$log"; then
                why="kernel panic: $(grep -a 'Kernel panic' "$log" | head -n 1)"
        else
                why="qemu exited $qemu_rc"
        fi
        printf 'run-vm: %s %s: FAIL (no result marker; %s)\n' "$release" "$name" "$why"
        ;;
esac
exit 1
