#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# test_client_libs.sh - ipftctl and skbtraced do not link libpcap, libpcre2, libzstd, zlib (opened when needed)
#
#   test_client_libs.sh IPFTCTL SKBTRACED
#
# Debian's libpcap brings ten more libraries with it (libdbus, libsystemd, libgcrypt, ...):
# linked, their loading cost every ipftctl run about 5 ms of CPU before main(), which made
# session start 2.5x slower (docs/performance.md, "Regression check against f8ce747").
# common/pcap_filter.c opens it with dlopen() when an expression is compiled; this checks
# that nobody links it again, and that the client still compiles an expression.  The same for
# libpcre2-8, libzstd and zlib (common/dynlib.h: each cost about 0.2 ms of every run's start-up,
# most of what made session start ~1 ms slower than at f8ce747); unit test recording writes and
# reads zstd and gzip recordings through them.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 IPFTCTL SKBTRACED" >&2; exit 2; }
command -v readelf >/dev/null || { echo "FAIL: readelf not found (binutils)"; exit 1; }
fails=0
for exe in "$@"; do
        needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
        [ -n "$needed" ] || { echo "FAIL: no NEEDED entries read from $exe"; fails=$((fails + 1)); continue; }
        if grep -qE '^lib(pcap|pcre2|zstd|z\.)' <<<"$needed"; then
                echo "FAIL: $exe links a library it should open when needed: $(echo $needed)"
                fails=$((fails + 1))
        else
                echo "ok: $(basename "$exe") needs $(echo $needed)"
        fi
done
# The expression still compiles (through dlopen): a bad one fails in the client with
# libpcap's own message, before any connection; a good one gets as far as connecting.
out=$("$1" --socket /nonexistent/skbtraced.sock trace 'tcp port 80 and' 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "invalid pcap filter" <<<"$out"; then
        echo "FAIL: a bad expression: exit $rc, '$out' (want libpcap's syntax error)"
        fails=$((fails + 1))
else
        echo "ok: a bad expression is refused by libpcap: $out"
fi
out=$("$1" --socket /nonexistent/skbtraced.sock trace 'tcp port 80' 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ] || grep -q "pcap" <<<"$out" || ! grep -q "cannot connect" <<<"$out"; then
        echo "FAIL: a good expression: exit $rc, '$out' (want it compiled, then no daemon)"
        fails=$((fails + 1))
else
        echo "ok: a good expression compiles, then: $out"
fi
# Regular expressions still compile (libpcre2-8 through dlopen): a bad one is refused with
# PCRE2's own message before any connection.
out=$("$1" --socket /nonexistent/skbtraced.sock list -r '(' 2>&1) && rc=0 || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "invalid regex '(' at offset 1: missing closing parenthesis" <<<"$out"; then
        echo "FAIL: a bad regex: exit $rc, '$out' (want PCRE2's error)"
        fails=$((fails + 1))
else
        echo "ok: a bad regex is refused by PCRE2: $out"
fi
exit $((fails > 0))
