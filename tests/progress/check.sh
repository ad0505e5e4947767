#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The live progress line of long work, checked under a pseudo-terminal (script(1)): it is there
# on a terminal, redrawn in place ("\r", then erase to the end of the line), and says what it
# should; on a pipe, and with -q, nothing of it is printed. Root: it builds labs.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/.output/bin
if [ "$(id -u)" -ne 0 ]; then
	echo "progress: needs root (labs): skipped"
	exit 77
fi
lab=pg$$
tmp=$(mktemp -d /tmp/capnet-progress-XXXXXX)
cleanup() {
	"$bin/capnet" --lab "$lab" down >/dev/null 2>&1
	"$bin/capnet" --lab "${lab}m" down >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
checks=0

# Runs a command line under a pseudo-terminal; its output, terminal codes and all, in $tmp/out.
on_tty() { TERM=xterm script -qefc "$1" /dev/null >"$tmp/out" 2>&1 </dev/null; }
has() { # what must be in the output, and what it is
	checks=$((checks + 1))
	if ! grep -qaF -- "$1" "$tmp/out"; then
		echo "progress: $2: no \"$1\" in: $(tr '\r\033' '|~' <"$tmp/out" | head -c 600)"
		fail=1
	fi
}
lacks() {
	checks=$((checks + 1))
	if grep -qaF -- "$1" "$tmp/out"; then
		echo "progress: $2: \"$1\" should not be there: $(tr '\r\033' '|~' <"$tmp/out" | head -c 600)"
		fail=1
	fi
}
cr=$'\r'
erase=$'\033[K'

# up of many nodes: nodes built, then the attach.
on_tty "$bin/capnet --lab $lab up -n 400"
has "${cr}up: " "up -n 400 on a terminal"
has "nodes built" "up -n 400 on a terminal"
has "$erase" "up -n 400 on a terminal"
has "lab $lab: 400 nodes up" "up -n 400 on a terminal"
"$bin/capnet" --lab "$lab" down >/dev/null
"$bin/capnet" --lab "$lab" up -n 400 >"$tmp/out" 2>&1
lacks "$cr" "up -n 400 on a pipe"
lacks "nodes built" "up -n 400 on a pipe"
"$bin/capnet" --lab "$lab" down >/dev/null
on_tty "$bin/capnet --lab $lab -q up -n 400"
lacks "nodes built" "up -n 400 -q on a terminal"
has "lab $lab: 400 nodes up" "up -n 400 -q on a terminal"
"$bin/capnet" --lab "$lab" down >/dev/null

# A load: elapsed, rate, outcomes and the partition in force.
"$bin/capnet" --lab "$lab" up -n 3 >/dev/null
"$bin/capnet" --lab "$lab" start --mode cp >/dev/null
sleep 2
"$bin/capnet" --lab "$lab" partition 1 2,3 >/dev/null
on_tty "$bin/capctl --lab $lab load --nodes 2,3 --clients 2 --duration 2s --history $tmp/h.jsonl"
has "ops/s" "capctl load on a terminal"
has " ok " "capctl load on a terminal"
has "partition 1 | 2,3" "capctl load on a terminal"
has "register load" "capctl load on a terminal"
"$bin/capctl" --lab "$lab" load --nodes 2,3 --clients 2 --duration 1s \
	--history "$tmp/h.jsonl" >"$tmp/out" 2>&1
lacks "ops/s  ok" "capctl load on a pipe"
on_tty "$bin/capctl --lab $lab -q load --nodes 2,3 --clients 2 --duration 1s --history $tmp/h.jsonl"
lacks "$cr " "capctl -q load on a terminal"

# A scenario: the step to come, the loads running, the partition in force; its loads quiet.
cat >"$tmp/s.scn" <<EOF
load --nodes 2,3 --clients 2 --duration 2s --workload register --history $tmp/run.jsonl
at 1s heal
at 2s partition 1 2,3
wait
EOF
on_tty "$bin/capnet --lab $lab run $tmp/s.scn"
has "${cr}run: " "capnet run on a terminal"
has "load running" "capnet run on a terminal"
has "scenario $tmp/s.scn: PASS" "capnet run on a terminal"
lacks "ops/s  ok" "capnet run's loads on a terminal"
"$bin/capnet" --lab "$lab" run "$tmp/s.scn" >"$tmp/out" 2>&1
lacks "${cr}run: " "capnet run on a pipe"
"$bin/capnet" --lab "$lab" down >/dev/null

# A Maelstrom test: time, history so far, the fault in force.
(cd "$tmp" && on_tty "$bin/capnet --lab ${lab}m maelstrom test -w echo --bin $repo/tests/maelstrom/echo.py --node-count 3 --time-limit 2 --rate 20")
has "${cr}maelstrom: " "maelstrom test on a terminal"
has "history events" "maelstrom test on a terminal"
(cd "$tmp" && "$bin/capnet" --lab "${lab}m" maelstrom test -w echo --bin "$repo/tests/maelstrom/echo.py" \
	--node-count 3 --time-limit 1 --rate 20 >"$tmp/out" 2>&1)
lacks "history events" "maelstrom test on a pipe"

echo "progress: $checks checks, $([ $fail -eq 0 ] && echo "all hold" || echo "some failed")"
exit $fail
