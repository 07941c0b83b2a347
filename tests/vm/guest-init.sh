#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# guest-init.sh — /init of the VM-tier initramfs: set up the guest, run /test.sh, report, power off.
#
# Runs as PID 1 under busybox sh (there is no bash in the guest). Never exits on its own: a dying
# PID 1 panics the kernel, which with panic=-1 and qemu -no-reboot also ends the VM, so that is
# only the fallback when poweroff fails. The one line the host reads is
#     SKBT-VM-RESULT: PASS            or      SKBT-VM-RESULT: FAIL <reason>

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
# iproute2's ip; call it by this path (busybox sh prefers its own `ip` applet by name).
export IP=/usr/sbin/ip
export SKBT_VM=1
export SKBT_VM_REASON=/run/skbt-vm-reason

mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
# The initramfs may lack /dev/console; make sure everything below reaches the serial console.
exec </dev/console >/dev/console 2>&1

# Leading newline: the firmware's last line on the serial port has none.
echo
echo "SKBT-VM-INIT: uptime $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r)"

result() {
        echo "SKBT-VM-RESULT: $*"
        sync
        # Let the UART drain before the machine disappears.
        sleep "${SKBT_VM_DRAIN:-0.2}"
        poweroff -f
        sleep 5
        echo "SKBT-VM-INIT: poweroff failed, exiting PID 1 to panic" >&2
        exit 1
}

setup_failed=
must() {
        "$@" || setup_failed="${setup_failed:+$setup_failed; }'$*' failed"
}

must mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
must mount -t devpts devpts /dev/pts
must mount -t tmpfs tmpfs /dev/shm
must mount -t tmpfs -o mode=0755 tmpfs /run
must mount -t tmpfs tmpfs /tmp
mkdir -p /run/netns /var
ln -sfn /run /var/run
must mount -t bpf bpf /sys/fs/bpf
must mount -t tracefs tracefs /sys/kernel/tracing
must mount -t debugfs debugfs /sys/kernel/debug
must mount -t cgroup2 cgroup2 /sys/fs/cgroup
must ip link set lo up

# Modules in dependency order, one path per line, written by mkinitramfs.sh.
if [ -f /etc/skbt-vm/modules ]; then
        while read -r mod; do
                [ -n "$mod" ] || continue
                must insmod "/$mod"
        done </etc/skbt-vm/modules
fi

[ -z "$setup_failed" ] || result "FAIL guest setup: $setup_failed"
[ -f /test.sh ] || result "FAIL no /test.sh in the initramfs"

# Test timeout from the kernel command line (skbt.timeout=SECONDS, set by run-vm.sh).
tmo=
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
        case $arg in
        skbt.timeout=*) tmo=${arg#skbt.timeout=} ;;
        esac
done

echo "SKBT-VM-INIT: setup done at uptime $(cut -d' ' -f1 /proc/uptime) s, running /test.sh${tmo:+ (timeout ${tmo}s)}"
rm -f "$SKBT_VM_REASON"
cd /
if [ -n "$tmo" ]; then
        timeout "$tmo" sh /test.sh
else
        sh /test.sh
fi
rc=$?
echo "SKBT-VM-INIT: /test.sh exited $rc at uptime $(cut -d' ' -f1 /proc/uptime) s"

if [ "$rc" -eq 0 ]; then
        result PASS
fi
reason=
[ -s "$SKBT_VM_REASON" ] && reason=$(head -n 1 "$SKBT_VM_REASON")
if [ -z "$reason" ]; then
        # busybox timeout kills with SIGTERM: 143.
        if [ -n "$tmo" ] && [ "$rc" -eq 143 ]; then
                reason="/test.sh timed out after ${tmo}s"
        else
                reason="/test.sh exited $rc"
        fi
fi
result "FAIL $reason"
