#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: lab set-up and partition switches, each measured beside its baseline in the same
# run and printed as a table with ratios. Benchmarks print; they never fail on a number.
set -euo pipefail
bin=${1:-.output/bin}
capnet="$bin/capnet"
tag=b$$
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (namespaces, tc, BPF)" >&2; exit 1; }

labs=()
cleanup() {
	for l in "${labs[@]}"; do "$capnet" --lab "$l" down >/dev/null 2>&1 || true; done
	for ns in $(ip netns list | awk '{print $1}' | grep "^${tag}ip-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rows=()
row() { rows+=("$(printf '%-44s %14s %14s %10s' "$1" "$2" "$3" "$4")"); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# The same lab built with ip commands, one process per step: what capnet replaces.
ip_lab_up() {
	local n=$1 p=${tag}ip-
	ip netns add "${p}sw"
	ip -n "${p}sw" link add br0 type bridge forward_delay 0
	ip -n "${p}sw" link set br0 up
	for i in $(seq 1 "$n"); do
		ip netns add "${p}n$i"
		ip -n "${p}sw" link add "p$i" type veth peer name eth0 netns "${p}n$i" \
			address "02:ca:fe:00:$(printf '%02x:%02x' $((i / 256)) $((i % 256)))"
		ip -n "${p}sw" link set "p$i" master br0 up
		ip -n "${p}n$i" link set eth0 up
		ip -n "${p}n$i" link set lo up
		ip -n "${p}n$i" addr add "10.78.$((i / 256)).$((i % 256))/16" dev eth0
	done
}
ip_lab_down() {
	local n=$1 p=${tag}ip-
	ip netns del "${p}sw"
	for i in $(seq 1 "$n"); do ip netns del "${p}n$i"; done
}

echo "bench: lab set-up and teardown"
for n in 8 64 250 1000; do
	l=${tag}u$n; labs+=("$l")
	t0=$(now); "$capnet" --lab "$l" up -n "$n" >/dev/null; t1=$(now)
	"$capnet" --lab "$l" down >/dev/null; t2=$(now)
	up=$(secs "$t0" "$t1"); down=$(secs "$t1" "$t2")
	if [ "$n" -le 64 ]; then
		t0=$(now); ip_lab_up "$n"; t1=$(now); ip_lab_down "$n"; t2=$(now)
		ipup=$(secs "$t0" "$t1")
		row "up -n $n (s): capnet | ip commands" "$up" "$ipup" "$(ratio "$ipup" "$up")"
		row "down, $n nodes (s): capnet | ip netns del" "$down" "$(secs "$t1" "$t2")" \
			"$(ratio "$(secs "$t1" "$t2")" "$down")"
	else
		row "up -n $n (s): capnet" "$up" "" ""
		row "down, $n nodes (s): capnet" "$down" "" ""
	fi
done

echo "bench: partition switches"
for n in 5 64 1000; do
	l=${tag}s$n; labs+=("$l")
	"$capnet" --lab "$l" up -n "$n" >/dev/null
	half=$((n / 2)); [ "$half" -ge 1 ] || half=1
	flips=() cmds=()
	for k in $(seq 1 20); do
		if [ $((k % 2)) -eq 1 ]; then spec="1-$half"; else spec="1-$((half > 1 ? half - 1 : 1))"; fi
		t0=$(now)
		out=$("$capnet" --lab "$l" --json partition "$spec")
		t1=$(now)
		flips+=("$(sed -n 's/.*"flip_us":\([0-9.]*\).*/\1/p' <<<"$out")")
		cmds+=("$(secs "$t0" "$t1")")
	done
	flip=$(printf '%s\n' "${flips[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	cmd=$(printf '%s\n' "${cmds[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	[ "$n" -eq 5 ] && flip5=$flip
	row "switch, $n nodes: map flip (us) | vs 5 nodes" "$flip" "${flip5}" "$(ratio "$flip" "$flip5")"
	row "switch, $n nodes: whole command (s)" "$cmd" "" ""
	"$capnet" --lab "$l" down >/dev/null
done

echo "bench: delay line (1 ms target)"
delay_bench=$(CAPNET="$capnet" "$bin/../tests/net/test_delay" --bench 2>/dev/null | grep -v '^bench:' || true)

printf '\n%-44s %14s %14s %10s\n' "measure" "capnet" "baseline" "ratio"
printf '%s\n' "${rows[@]}"
[ -z "$delay_bench" ] || printf '\n%s\n' "$delay_bench"
echo
echo "ratio: baseline / capnet for times (above 1 means capnet is faster); for the flip, size N"
echo "against 5 nodes (near 1 means a switch costs the same whatever the lab's size)."
