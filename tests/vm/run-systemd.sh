#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# run-systemd.sh — the systemd scenario: build the Debian packages (if needed) and boot them in the systemd guest.
#
# Usage: run-systemd.sh DEB_DIR KERNEL_VERSION [run-vm.sh options]
#
# scripts/build-deb.sh DEB_DIR builds the packages, or reuses those built there from the same
# source (the package test suite builds them first); every non-debug .deb goes to /root/debs
# in the guest, and run-vm.sh --systemd runs tests/vm/systemd.sh there (SKBT_SYSTEMD_SCRIPT: another
# guest script, for debugging).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -ge 2 ]] || { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
debdir=$1
kver=$2
shift 2

"$SCRIPT_DIR/../../scripts/build-deb.sh" "$debdir" >/dev/null || {
        echo "run-systemd: building the packages failed" >&2
        exit 1
}
debs=()
for f in "$debdir"/*.deb; do
        [[ $f == *-dbgsym_* ]] && continue
        debs+=("$f:/root/debs/$(basename "$f")")
done
[[ ${#debs[@]} -gt 0 ]] || { echo "run-systemd: no packages in $debdir" >&2; exit 1; }
exec "$SCRIPT_DIR/run-vm.sh" "$kver" "${SKBT_SYSTEMD_SCRIPT:-$SCRIPT_DIR/systemd.sh}" --systemd "$@" --extra "${debs[@]}"
