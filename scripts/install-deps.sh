#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# install-deps.sh - install everything needed to build and test skbtraced on Debian 12
#
# Idempotent: packages already installed are left alone, so a second run only
# refreshes the package lists.  Needs root (apt-get).
#
#   scripts/install-deps.sh           build + unit/bpf/e2e + VM test tier
#   scripts/install-deps.sh --no-vm   skip qemu, busybox and the test kernels
#
# The VM tier's kernels are Debian's newest linux-image-6.1.0-N-cloud-amd64
# and linux-image-6.12-cloud-amd64.  By default tests/vm/fetch-kernels.sh
# fetches them with `apt-get download` and unpacks them with `dpkg-deb -x`
# into tests/vm/cache/ (no maintainer scripts, nothing under /boot).  With
# SKBT_KERNEL_METHOD=install (the default when that script is absent) they are
# installed with apt-get instead: that adds files under /boot and /lib/modules
# plus initramfs-tools, and never changes the running kernel.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

want_vm=1
fetch_kernels="$top/tests/vm/fetch-kernels.sh"
# The VM tier unpacks its kernels itself (tests/vm/fetch-kernels.sh); apt-get
# install is the fallback when that script is not there.
if [ -f "$fetch_kernels" ]; then
        kernel_method=${SKBT_KERNEL_METHOD:-extract}
else
        kernel_method=${SKBT_KERNEL_METHOD:-install}
fi

usage() {
        cat <<EOF
usage: $0 [--no-vm]

Install the Debian packages needed to build skbtraced and run its tests.
  --no-vm     skip the VM test tier (qemu, busybox-static, test kernels)
  -h, --help  show this help

Environment: SKBT_KERNEL_METHOD=extract (default when tests/vm/fetch-kernels.sh
exists) or install: how the VM tier's kernels are provided (see the comment
at the top of this script).
EOF
}

while [ $# -gt 0 ]; do
        case "$1" in
        --no-vm) want_vm=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install-deps: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        esac
        shift
done

case "$kernel_method" in
install | extract) ;;
*) echo "install-deps: SKBT_KERNEL_METHOD must be 'install' or 'extract', not '$kernel_method'" >&2; exit 2 ;;
esac

log() { printf 'install-deps: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: must run as root (apt-get); try: sudo $0" >&2
        exit 1
fi
if ! command -v apt-get >/dev/null; then
        echo "install-deps: apt-get not found: this script supports Debian 12 (bookworm)" >&2
        exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait (up to 10 min) for another apt/dpkg run to release its lock instead of failing.
apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

build_pkgs=(
        build-essential meson ninja-build pkg-config
        clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
        libjson-c-dev libsystemd-dev libpcap-dev
        libpcre2-dev      # regular expressions with compile and match limits (common/skbt_regex.c)
        libclang-rt-14-dev libfuzzer-14-dev  # tests/fuzz: clang -fsanitize=fuzzer
        libzstd-dev       # ipftctl trace -w / show: zstd-compressed recordings
)
test_pkgs=(
        iproute2 iputils-ping jq python3 socat netcat-openbsd
        nftables iptables tcpdump
        ebtables          # vm netfilter: ebtables-legacy, for the bridge verdicts (ebt_do_table)
        ethtool           # e2e custom fields: TSO off on a veth so the stack segments GSO
        tshark            # e2e: reads ipftctl's pcapng output
        systemd           # systemd-analyze verify, systemd-sysusers for the units
        passwd            # useradd/groupadd: test users for the access-control tests
        groff man-db      # man page lint
        bpftrace iperf3   # benchmarks
        liblua5.3-dev xxd gcc-multilib   # bench/build-ipftrace2.sh: the peer the VM benchmark runs
        debhelper dpkg-dev lintian   # the package suite: dpkg-buildpackage, lintian
        golang-go golang-github-varlink-go-dev   # e2e varlink_go: the varlink Go library as client
        pmccabe           # unit complexity: function size limits (scripts/check-complexity.sh)
)
vm_pkgs=(qemu-system-x86 busybox-static cpio xz-utils zstd
        kmod              # depmod for unpacked kernels
        mmdebstrap e2fsprogs)   # the systemd guest's root file system (tests/vm/mkrootfs.sh)

installed() {
        [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# Install the packages in "$@" that are not installed yet; return apt's status.
install_missing() {
        local p missing=()
        for p in "$@"; do
                installed "$p" || missing+=("$p")
        done
        if [ ${#missing[@]} -eq 0 ]; then
                log "already installed: $*"
                return 0
        fi
        log "apt-get install ${missing[*]}"
        apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"
}

# apt-get update, retried: a mirror being briefly unreachable should not fail CI.
log "apt-get update"
for try in 1 2 3; do
        if apt-get -q -o DPkg::Lock::Timeout=600 update; then
                break
        fi
        if [ "$try" -eq 3 ]; then
                echo "install-deps: apt-get update failed 3 times" >&2
                exit 1
        fi
        sleep 5
done

# dpkg --configure -a, waiting up to 10 min for a concurrent apt/dpkg to finish.
dpkg_configure_pending() {
        local i err
        err=$(mktemp)
        for i in $(seq 120); do
                if dpkg --configure -a 2>"$err"; then
                        rm -f "$err"
                        return 0
                fi
                grep -q 'lock' "$err" || break
                sleep 5
        done
        cat "$err" >&2
        rm -f "$err"
        return 1
}

# A previous run interrupted half-way leaves packages unconfigured, which
# makes every later apt-get fail: finish them first.
if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
        log "dpkg --configure -a (finishing an interrupted or concurrent install)"
        dpkg_configure_pending || true
fi

# wireshark-common asks whether non-root users may capture; answer before apt-get asks.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
install_missing "${build_pkgs[@]}" "${test_pkgs[@]}"

if [ "$want_vm" -eq 0 ]; then
        log "--no-vm: skipping qemu, busybox-static and the test kernels"
        log "done"
        exit 0
fi

install_missing "${vm_pkgs[@]}"

# --- test kernels -----------------------------------------------------------

# Newest linux-image-6.1.0-N-cloud-amd64 the archive has (the ABI number N
# changes with every 6.1 stable update; there is no meta package for it).
k61_pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' |
        awk '{print $1}' | sort -V | tail -n 1)
[ -n "$k61_pkg" ] || { echo "install-deps: no linux-image-6.1.0-*-cloud-amd64 in the package lists" >&2; exit 1; }
k612_meta=linux-image-6.12-cloud-amd64

if [ "$kernel_method" = extract ]; then
        [ -f "$fetch_kernels" ] || {
                echo "install-deps: SKBT_KERNEL_METHOD=extract needs tests/vm/fetch-kernels.sh" >&2
                exit 1
        }
        log "test kernels: $k61_pkg and $k612_meta: apt-get download + dpkg-deb -x into tests/vm/cache/"
        log "$fetch_kernels --no-install all"
        bash "$fetch_kernels" --no-install all
else
        # Adds /boot/vmlinuz-*, /boot/initrd.img-* and /lib/modules/*; the
        # running kernel is not touched.  --no-install-recommends: no firmware
        # or apparmor for a test kernel.
        log "test kernels: apt-get install $k61_pkg $k612_meta"
        if ! install_missing "$k61_pkg" "$k612_meta"; then
                # A postinst hook that cannot run here leaves dpkg half-configured,
                # which breaks every later apt-get: settle it before failing.
                dpkg_configure_pending || true
                echo "install-deps: installing the test kernels failed; try SKBT_KERNEL_METHOD=extract" >&2
                exit 1
        fi
fi
# The systemd guest's Debian 12 root file system (~1 min, cached in tests/vm/cache/debian12;
# a no-op when current), here so that its time shows apart from the tests'.
mkrootfs=$top/tests/vm/mkrootfs.sh
if [ -f "$mkrootfs" ]; then
        log "$mkrootfs --no-install"
        t0=$SECONDS
        bash "$mkrootfs" --no-install
        log "systemd guest root file system ready in $((SECONDS - t0)) s"
fi
log "done"
