#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# complete_line.sh - complete one command line with a bash completion script, as bash would
#
#   COMPLETE_LINE="ipftctl trace -p ic" bash --norc --noprofile complete_line.sh SCRIPT
#
# Prints the replies (COMPREPLY), one per line; exits 3 when SCRIPT does not
# load.  The cursor is at the end of the line, and COMP_WORDS are split as
# bash splits them: at blanks and at COMP_WORDBREAKS' ':' and '=', a break
# character being a word of its own.  Shared by tests/unit/test_completion.sh
# (commands, options, values) and tests/e2e/test_completion.py (names from a
# daemon).  Not set -u: completion scripts may read unset variables, as they
# may in an interactive shell.
# shellcheck disable=SC1090 # the script under test
source "$1" || exit 3
COMP_LINE=$COMPLETE_LINE
COMP_POINT=${#COMP_LINE}
COMP_WORDS=()
w= line=$COMP_LINE
while [[ -n $line ]]; do
        c=${line:0:1}
        line=${line:1}
        if [[ $c == " " ]]; then
                [[ -n $w ]] && COMP_WORDS+=("$w")
                w=
        elif [[ $c == [:=] ]]; then
                [[ -n $w ]] && COMP_WORDS+=("$w")
                COMP_WORDS+=("$c")
                w=
        else
                w+=$c
        fi
done
COMP_WORDS+=("$w")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_ipftctl
printf '%s\n' "${COMPREPLY[@]}"
