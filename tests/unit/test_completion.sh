#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# test_completion.sh - ipftctl's bash completion loads and completes commands, options and values
#
#   tests/unit/test_completion.sh IPFTCTL COMPLETION_SCRIPT
#
# No daemon (tests/e2e/test_completion.py does names from one): each case runs
# the completion function in a fresh bash as bash would (complete_line.sh, which
# the e2e test shares) and compares COMPREPLY.  The options are
# checked against the client's help, read here independently of the script.
set -uo pipefail

ipftctl=$(readlink -f "$1")
script=$2
driver=$(dirname "$0")/complete_line.sh
fails=0
fail() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }

# complete LINE: the replies for the completion of LINE (cursor at its end), one per line.
complete_line() {
        COMPLETE_LINE="$ipftctl $1" bash --norc --noprofile "$driver" "$script" | sort
}

# expect LINE WORD...: the replies are exactly WORD...
expect() {
        local line=$1 got want
        shift
        got=$(complete_line "$line" | tr '\n' ' ' | sed 's/ $//')
        want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
        if [ "$got" = "$want" ]; then
                printf 'ok: [%s] -> %s\n' "$line" "$got"
        else
                fail "[$line]: got '$got', want '$want'"
        fi
}

# includes LINE WORD...: the replies include every WORD.
includes() {
        local line=$1 got w
        shift
        got=$(complete_line "$line")
        for w in "$@"; do
                grep -qxF -- "$w" <<<"$got" || { fail "[$line]: '$w' not offered (got: $(echo $got))"; return; }
        done
        printf 'ok: [%s] includes %s\n' "$line" "$*"
}

# Loading: syntax, and the completion registered for ipftctl.
bash -n "$script" || fail "$script: syntax error"
reg=$(bash --norc --noprofile -c 'source "$0" && complete -p ipftctl' "$script" 2>&1)
[[ $reg == "complete -F _ipftctl ipftctl" ]] || fail "sourcing does not register _ipftctl: '$reg'"

# Commands: the client's command table, as 'ipftctl help' lists it.
commands=$("$ipftctl" help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' | grep -v '^Commands:')
[ -n "$commands" ] || fail "no commands in 'ipftctl help'"
# shellcheck disable=SC2086 # a word list
expect "" $commands
expect "tr" trace
expect "s" status sessions show stop
expect "help st" status stop
expect "--so" --socket
expect "--socket /nonexistent trace --prot" --proto
expect "trace --pro" --probes --proto

# Options: every long and short option each command's help shows, nothing else.
for cmd in $commands; do
        want=$("$ipftctl" help "$cmd" | grep -E '^ {2,8}-' |
                grep -oE '^ {2,8}(-[[:alnum:]], )?--?[[:alnum:]][[:alnum:]-]*' | sed 's/^ *//' | tr ', ' '\n\n' | grep -v '^$' | sort -u)
        # 'help' has no options; every other command has at least --help.
        [ -n "$want" ] || [ "$cmd" = help ] || fail "no options in 'ipftctl help $cmd'"
        # shellcheck disable=SC2086 # a word list
        expect "$cmd -" $want
done
expect "trace --de" --detail
includes "show /" /etc
includes "trace -w /" /etc
expect "trace --mark 0x10 --ma" --mark --mask

# Values: the fixed sets, each value checked against the option's help paragraph.
help_para() { # help_para CMD OPTION: the option's lines in the command's help
        # (mawk has no {m,n}: an option line is at most 8 spaces, then '-')
        "$ipftctl" help "$1" | awk -v o="$2" '
                match($0, /^ +-/) && RLENGTH <= 9 { on = index($0, o " ") > 0 || index($0, o ",") > 0 }
                on'
}
for spec in trace:--proto trace:--tracer list:--kind; do
        cmd=${spec%%:*}
        opt=${spec#*:}
        vals=$(complete_line "$cmd $opt ")
        [ -n "$vals" ] || fail "$cmd $opt: no values offered"
        para=$(help_para "$cmd" "$opt")
        for v in $vals; do
                grep -qw -- "$v" <<<"$para" || fail "$cmd $opt offers '$v', which its help does not name: $para"
        done
        printf 'ok: %s %s values in its help: %s\n' "$cmd" "$opt" "$(echo $vals)"
done
expect "trace -p ic" icmp icmp6
expect "trace -t f" function function_graph
expect "list -k t" tracepoint
expect "trace -o aggregate" aggregate aggregate-json
expect "trace --output=pc" pcapng
expect "list -o " json text
expect "status --output " json text
includes "trace -i l" lo

# Without a reachable daemon, names are not offered and nothing is printed.
out=$(complete_line "--socket /nonexistent/s.sock trace -g " 2>&1)
[ -z "$out" ] || fail "groups without a daemon: '$out'"
out=$(complete_line "--socket /nonexistent/s.sock stop " 2>&1)
[ -z "$out" ] || fail "session ids without a daemon: '$out'"

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all completion checks passed"
