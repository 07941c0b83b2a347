#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# run.sh - run one libFuzzer target for SECONDS from the seed corpus in the tree
#   tests/fuzz/run.sh BINARY SECONDS SEED_DIR
# New inputs go to a temporary directory (the tree's corpus is only read); a crash, a
# sanitizer report, a timeout (5 s per input) or more than 2 GiB of memory fails the test,
# and the input that did it is printed (hex) so that it can be added to the corpus.
set -eu
bin=$(readlink -f "$1") seconds=$2 seeds=$(readlink -f "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
cd "$work"
if "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        "$work/new" "$seeds" 2>"$work/log"; then
        grep -E "^(stat::number_of_executed_units|Done)" "$work/log" || true
        exit 0
fi
tail -n 60 "$work/log"
for f in "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-*; do
        [ -e "$f" ] || continue
        echo "input $(basename "$f"):"
        od -An -tx1 "$f" | head -n 20
done
exit 1
