#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# guest-systemd.sh — /usr/lib/skbt-vm/run in the systemd guest: run the test once the system is up, report, power off.
#
# Started by skbt-vm.service after multi-user.target (mkrootimg.sh writes the unit), with its
# output on the serial console. The same protocol as guest-init.sh: the host reads
#     SKBT-VM-RESULT: PASS            or      SKBT-VM-RESULT: FAIL <reason>
# The test script (/usr/lib/skbt-vm/test.sh) runs under bash as root, with the lib.sh helpers'
# variables set; it gets skbt.timeout=SECONDS from the kernel command line.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
export IP=/usr/sbin/ip
export SKBT_VM=1
export SKBT_VM_REASON=/run/skbt-vm-reason

# Leading newline: the console's last line may be a kernel message without one.
echo
echo "SKBT-VM-INIT: uptime $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r), $(systemctl --version | head -n 1)"

result() {
        echo "SKBT-VM-RESULT: $*"
        sync
        # A clean shutdown: stopping the units is part of what the test exercises.
        systemctl --no-block poweroff
        exit 0
}

# The boot itself: every unit up? A failed unit is reported, not fatal (the test decides).
state=$(systemctl is-system-running --wait 2>/dev/null)
echo "SKBT-VM-INIT: system $state at uptime $(cut -d' ' -f1 /proc/uptime) s"
if [ "$state" != running ]; then
        systemctl --no-pager --failed
fi

tmo=$(sed -n 's/.*skbt\.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
rm -f "$SKBT_VM_REASON"
cd /root || result "FAIL no /root"
echo "SKBT-VM-INIT: running /usr/lib/skbt-vm/test.sh${tmo:+ (timeout ${tmo}s)}"
if [ -n "$tmo" ]; then
        timeout "$tmo" bash /usr/lib/skbt-vm/test.sh
else
        bash /usr/lib/skbt-vm/test.sh
fi
rc=$?
echo "SKBT-VM-INIT: /test.sh exited $rc at uptime $(cut -d' ' -f1 /proc/uptime) s"

[ "$rc" -eq 0 ] && result PASS
reason=
[ -s "$SKBT_VM_REASON" ] && reason=$(head -n 1 "$SKBT_VM_REASON")
if [ -z "$reason" ]; then
        if [ -n "$tmo" ] && [ "$rc" -eq 124 ]; then
                reason="/test.sh timed out after ${tmo}s"
        else
                reason="/test.sh exited $rc"
        fi
fi
result "FAIL $reason"
