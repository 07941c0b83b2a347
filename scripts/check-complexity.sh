#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# check-complexity.sh - no function in daemon/, client/, common/, render/ over the size limits
#
#   scripts/check-complexity.sh [MAX_CC [MAX_LINES]]     (defaults 30 and 120)
#
# Measures every C function with pmccabe (Debian package pmccabe): its traditional
# cyclomatic complexity (each case of a switch counts) and its length in lines.  A function
# over a limit passes only when a comment in the 5 lines above it contains "complexity:"
# and says why it is better that way.  Prints the offenders and exits 1 if there are any;
# the unit suite runs it (tests/unit/meson.build).
set -euo pipefail

max_cc=${1:-30}
max_lines=${2:-120}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

if ! command -v pmccabe >/dev/null; then
        echo "check-complexity: pmccabe not found: install it (scripts/install-deps.sh)" >&2
        exit 1
fi

files=$(find daemon client common render -name '*.c' 2>/dev/null | sort)
bad=0
checked=0
# pmccabe: modified CC, traditional CC, statements, first line, lines, "file(line): name"
while read -r _ cc _ first lines where; do
        checked=$((checked + 1))
        [ "$cc" -gt "$max_cc" ] || [ "$lines" -gt "$max_lines" ] || continue
        file=${where%%(*}
        from=$((first > 5 ? first - 5 : 1))
        if sed -n "${from},${first}p" "$file" | grep -q 'complexity:'; then
                continue
        fi
        echo "$where: complexity $cc (max $max_cc), $lines lines (max $max_lines)"
        bad=$((bad + 1))
done < <(pmccabe $files)

echo "check-complexity: $checked functions, $bad over complexity $max_cc or $max_lines lines"
[ "$bad" -eq 0 ]
