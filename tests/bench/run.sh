#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: capnet against its alternatives, each pair measured side by side in the same run
# (filter cost, partition switches, lab set-up, replicas, captrace) and printed as one table with
# ratios. Benchmarks print; they never fail on a number, and a row whose prerequisite is missing
# says "n/a" and why. tools/bench/README.md explains every row.
set -euo pipefail
bin=$(cd "${1:-.output/bin}" && pwd)
capnet="$bin/capnet"
capctl="$bin/capctl"
captrace="$bin/captrace"
tools="$bin/../bench"
repo=$(cd "$(dirname "$0")/../.." && pwd)
flood="$tools/udp_flood"
kvb="$tools/kv_bench"
pfilter="$tools/port_filter"
tag=b$$
ip_prog_pin=/sys/fs/bpf/${tag}-ip-lab-filter
# Narrower runs for a quick look (tools/bench/README.md):
#   BENCH_ONLY="sizes" BENCH_SIZES="5 64" BENCH_FLOOD_ROUNDS=4 make bench
sizes=${BENCH_SIZES:-5 64 250}
lab_sizes=${BENCH_LAB_SIZES:-8 64 250 1000}
only=" ${BENCH_ONLY:-lab sizes scale memory startup replicas auth real maelstrom elle captrace json hosts delay} "
# The filter-cost flood: rounds, and the counted window and the settling time after each switch
# (seconds). 24 rounds of 4 variants, 2 windows each: under 30 s per lab size.
flood_rounds=${BENCH_FLOOD_ROUNDS:-24}
flood_window=${BENCH_FLOOD_WINDOW:-0.1}
flood_settle=${BENCH_FLOOD_SETTLE:-0.025}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (namespaces, tc, BPF)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/capnet-bench.XXXXXX)
pids=()
# SIGTERM, and SIGKILL for what is still there 2 s later (an etcd leader cut off from its
# followers can spend a long time trying to hand its leadership over).
stop_pids() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
	rm -f "$tmp/pids"
}
# Every lab and namespace of this run starts with $tag: whatever a section left behind when it
# stopped on an error goes too.
cleanup() {
	local l ns
	[ ! -f "$tmp/pids" ] || mapfile -t -O "${#pids[@]}" pids <"$tmp/pids"
	stop_pids
	for l in $(ip netns list 2>/dev/null | awk '{print $1}' |
		sed -n "s/^\(${tag}[a-z][a-z0-9]*\)-sw\$/\1/p" | grep -vx "${tag}ip"); do
		"$capnet" --lab "$l" stop >/dev/null 2>&1 || true
		"$capnet" --lab "$l" down >/dev/null 2>&1 || true
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${tag}ip-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp" "/run/capnet-bench-$tag" "$ip_prog_pin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
field() { sed -n "s/.*\b$1 \([0-9.]*\).*/\1/p" <<<"$2"; }
json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
# Ratios are always "how much better capnet is": ratio_t for times (baseline / capnet),
# ratio_r for rates (capnet / baseline). Above 1: capnet is better.
fmt_ratio() {
	awk -v r="$1" 'BEGIN { printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r }'
}
ratio_t() { if awk -v c="$1" -v b="$2" 'BEGIN { exit !(c > 0 && b > 0) }'; then
	fmt_ratio "$(awk -v c="$1" -v b="$2" 'BEGIN { print b / c }')"; else echo "-"; fi; }
ratio_r() { if awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
	fmt_ratio "$(awk -v c="$1" -v b="$2" 'BEGIN { print c / b }')"; else echo "-"; fi; }
# goal LABEL VALUE OP THRESHOLD: "ok" or "MISSED", for the goal column; never an exit status.
goal() { awk -v v="$2" -v t="$4" -v op="$3" -v l="$1" 'BEGIN {
	x = v + 0; s = (op == ">=") ? x >= t : (op == "<=") ? x <= t : x > t
	if (v == "" || v == "-") print l " ?"
	else printf "%s %s (%.4g)\n", l, s ? "ok" : "MISSED", x }'; }
# Rows go to a file: each section runs in a subshell, so that an error ends only that section.
row() { printf '%-58s %12s %12s %8s  %s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$tmp/rows"; }
na() { printf '%-58s %s\n' "$1" "n/a: $2" >>"$tmp/rows"; }
# Progress on a terminal only: make bench's output is its table.
section() { printf '\n%s\n' "$1" >>"$tmp/rows"; [ ! -t 2 ] || echo "bench: $1" >&2; }
run_section() {
	local rc
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || na "$1" "stopped by an error (exit status $rc): see the messages above"
}

addr() { echo "10.77.$(($1 / 256)).$(($1 % 256))"; }
mac() { printf '02:ca:fe:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
# A permanent neighbour entry: no ARP, so a cut link stays cut and a flood starts at full speed.
neigh() { ip -n "$1-n$2" neigh replace "$(addr "$3")" lladdr "$(mac "$3")" dev eth0 nud permanent; }
range() { if [ "$1" -eq "$2" ]; then echo "$1"; else echo "$1-$2"; fi; }

# ---------------------------------------------------------------------------------------------
# Lab set-up and teardown: capnet (rtnetlink, one process) against the same lab built with one
# ip command per step.
# The same lab as capnet's, filter included: the program loaded once with bpftool and put on
# every port with tc (what capnet --explain up --hook clsact prints; this bpftool cannot attach
# through tcx).
ip_lab_up() {
	local n=$1 p=${tag}ip- i sw
	sw="nsenter --net=/run/netns/${tag}ip-sw"
	ip netns add "${p}sw"
	ip -n "${p}sw" link add br0 type bridge forward_delay 0
	ip -n "${p}sw" link set br0 up
	bpftool prog load "$bin/../partition.bpf.o" "$ip_prog_pin" type classifier
	for i in $(seq 1 "$n"); do
		ip netns add "${p}n$i"
		ip -n "${p}sw" link add "p$i" type veth peer name eth0 netns "${p}n$i" \
			address "$(mac "$i")"
		ip -n "${p}sw" link set "p$i" master br0 up
		$sw tc qdisc add dev "p$i" clsact
		$sw tc filter add dev "p$i" egress handle 1 pref 1 bpf direct-action \
			pinned "$ip_prog_pin"
		ip -n "${p}n$i" link set eth0 up
		ip -n "${p}n$i" link set lo up
		ip -n "${p}n$i" addr add "$(addr "$i")/16" dev eth0
	done
}
ip_lab_down() {
	local n=$1 p=${tag}ip- i
	ip netns del "${p}sw"
	rm -f "$ip_prog_pin"
	for i in $(seq 1 "$n"); do ip netns del "${p}n$i"; done
}

# Namespaces die in the kernel's background work after they are deleted (about 10 ms of it per
# namespace here); the next step waits for that, so that no step pays for the one before.
quiesce() { sleep "$(("$1" >= 200 ? "$1" / 100 : 2))"; }

bench_lab_setup() {
	local n l t0 t1 t2 up down upc ipup ipdown
	section "lab set-up and teardown (s): capnet | ip commands"
	for n in $lab_sizes; do
		l=${tag}u$n
		t0=$(now); "$capnet" --lab "$l" up -n "$n" >/dev/null; t1=$(now)
		"$capnet" --lab "$l" down >/dev/null; t2=$(now)
		up=$(secs "$t0" "$t1"); down=$(secs "$t1" "$t2")
		quiesce "$n"
		t0=$(now); "$capnet" --lab "$l" up -n "$n" --hook tcx >/dev/null; t1=$(now)
		"$capnet" --lab "$l" down >/dev/null
		upc=$(secs "$t0" "$t1")
		quiesce "$n"
		t0=$(now); ip_lab_up "$n"; t1=$(now); ip_lab_down "$n"; t2=$(now)
		ipup=$(secs "$t0" "$t1"); ipdown=$(secs "$t1" "$t2")
		quiesce "$n"
		local g=""
		[ "$n" -eq 64 ] && g=$(goal "<=0.15 s" "$up" "<=" 0.15)
		[ "$n" -eq 1000 ] && g=$(goal "<=3 s" "$up" "<=" 3)
		row "up -n $n (default hook: blocks)" "$up" "$ipup" "$(ratio_t "$up" "$ipup")" "$g"
		row "up -n $n --hook tcx" "$upc" "$ipup" "$(ratio_t "$upc" "$ipup")"
		row "down, $n nodes (ip: ip netns del)" "$down" "$ipdown" "$(ratio_t "$down" "$ipdown")"
	done
}

# ---------------------------------------------------------------------------------------------
# Partitions as node -> group assignments ("node group" lines), turned into capnet group
# arguments, per-namespace iptables-restore files (Jepsen: DROP by source in INPUT) and nft
# files (Chaos Mesh: one set of blocked source addresses).
assign_pairs() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) print i, int((i + 1) / 2) }'; }
assign_halves() {
	awk -v n="$1" -v h="$2" 'BEGIN { for (i = 1; i <= n; i++) print i, (i <= h) ? 1 : 2 }'
}
# 1..h-1 with n, then h..n-1: links 1 -> h+1 are cut here and in assign_halves.
assign_shifted() {
	awk -v n="$1" -v h="$2" 'BEGIN { for (i = 1; i <= n; i++) print i, (i < h || i == n) ? 1 : 2 }'
}
capnet_groups() {
	awk '{ g[$2] = g[$2] (g[$2] == "" ? "" : ",") $1; if (!($2 in seen)) { seen[$2]; o[++k] = $2 } }
	     END { for (i = 1; i <= k; i++) printf "%s%s", g[o[i]], (i < k ? " " : "\n") }'
}
# rules_files KIND DIR < assignment: DIR/<node>.<KIND> for every node.
rules_files() {
	mkdir -p "$2"
	awk -v kind="$1" -v dir="$2" '
	{ node[NR] = $1; grp[NR] = $2 }
	function ip(i) { return "10.77." int(i / 256) "." (i % 256) }
	END {
		for (a = 1; a <= NR; a++) {
			f = dir "/" node[a] "." kind
			blocked = ""
			if (kind == "ipt") {
				print "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]" > f
				for (b = 1; b <= NR; b++)
					if (grp[b] != grp[a])
						print "-A INPUT -s " ip(node[b]) "/32 -j DROP" > f
				print "COMMIT" > f
			} else {
				for (b = 1; b <= NR; b++)
					if (grp[b] != grp[a])
						blocked = blocked (blocked == "" ? "" : ", ") ip(node[b])
				print "table ip capnet_bench {\n\tset blocked {\n\t\ttype ipv4_addr" > f
				if (blocked != "")
					print "\t\telements = { " blocked " }" > f
				print "\t}\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;" > f
				print "\t\tip saddr @blocked drop\n\t}\n}" > f
			}
			close(f)
		}
	}'
}
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
# iptables-restore in every node, one after the other: the time to apply one change everywhere.
ipt_apply() {
	local l=$1 n=$2 dir=$3 i
	for i in $(seq 1 "$n"); do in_ns "$l-n$i" iptables-restore <"$dir/$i.ipt"; done
}
ipt_flush() {
	local l=$1 n=$2 i
	for i in $(seq 1 "$n"); do in_ns "$l-n$i" iptables -F INPUT; done
}
# Not even an empty chain left: iptables (nf_tables backend) keeps its base chains hooked after
# a flush, and every later packet would still pass through them.
nft_clear() {
	local l=$1 n=$2 i
	for i in $(seq 1 "$n"); do in_ns "$l-n$i" nft flush ruleset; done
}

# flood_stat OUTPUT KIND NAME KEY: the value after KEY on udp_flood's line "KIND NAME ...".
flood_stat() {
	awk -v kind="$2" -v name="$3" -v key="$4" '$1 == kind && $2 == name {
		for (i = 3; i < NF; i++) if ($i == key) { print $(i + 1); exit } }' <<<"$1"
}
# A ratio to three decimals: the filter rows differ by tenths of a percent.
fmt_ratio3() { awk -v r="$1" 'BEGIN { if (r == "") print "-"; else printf "%.3fx", r }'; }
iqr() { # OUTPUT PAIR KEY: "q1..q3" of the per-round KEY of PAIR
	printf '%s..%s' "$(flood_stat "$1" pair "$2" "$3_q1")" "$(flood_stat "$1" pair "$2" "$3_q3")"
}

# Filter cost at size n: the same traffic 1 -> 2 (an open link of a partition into n/2 groups)
# through capnet's filter, through no filter, and with the partition as iptables or nft rules.
# One flood runs throughout and udp_flood switches the path between the four variants, so that
# the machine's drift falls on all of them alike (tools/bench/README.md).
bench_filter_cost() {
	local l=$1 n=$2 dir=$tmp/f$2 out g
	local n2="nsenter --net=/run/netns/$1-n2" ports hook
	local c b i p r cn ci cp cr xc xi groups with_rules without_rules k
	hook=$("$capnet" --lab "$l" --json status | sed -n 's/.*"hook":"\([a-z]*\)".*/\1/p')
	ports="$pfilter --lab $l --hook $hook"
	assign_pairs "$n" >"$tmp/pairs$n"
	rules_files ipt "$dir" <"$tmp/pairs$n"
	rules_files nft "$dir" <"$tmp/pairs$n"
	groups=$(capnet_groups <"$tmp/pairs$n")
	# shellcheck disable=SC2086
	"$capnet" --lab "$l" partition $groups >/dev/null
	g=$(awk 'END { print $2 }' "$tmp/pairs$n")
	# Eight per-service rules, each the same partition for one TCP port: the flood (UDP)
	# is named by none of them, so it pays for their matching only.
	without_rules="$capnet --lab $l heal >/dev/null && $capnet --lab $l partition $groups >/dev/null"
	with_rules=$without_rules
	for k in 1 2 3 4 5 6 7 8; do
		with_rules="$with_rules && $capnet --lab $l partition $groups --only tcp:$((2370 + k)) >/dev/null"
	done
	neigh "$l" 1 2
	# capnet's program, from its pin, put on the two ports of the path and taken off them
	# (port_filter: the attach code of capnet up, through the lab's hook). Every variant's
	# command brings the path into that variant from any other, node 2's rules emptied with
	# nft flush ruleset: iptables' nf_tables backend keeps its base chains hooked after
	# iptables -F, and every later packet would still walk an empty chain.
	out=$("$flood" --tx "$l-n1" --rx "$l-n2" --dst "$(addr 2)" --rounds "$flood_rounds" \
		--window "$flood_window" --settle "$flood_settle" \
		--variant "cap=$n2 nft flush ruleset && $ports attach p1 p2 && $without_rules" \
		--variant "rules=$n2 nft flush ruleset && $ports attach p1 p2 && $with_rules" \
		--variant "none=$n2 nft flush ruleset && $ports detach p1 p2" \
		--variant "ipt=$ports detach p1 p2 && $n2 nft flush ruleset &&
			$n2 iptables-restore $dir/2.ipt" \
		--variant "nft=$ports detach p1 p2 && $n2 nft flush ruleset &&
			$n2 nft -f $dir/2.nft")
	$n2 nft flush ruleset
	$ports attach p1 p2
	eval "$without_rules"
	c=$(flood_stat "$out" variant cap pps)
	r=$(flood_stat "$out" variant rules pps)
	cr=$(flood_stat "$out" pair rules/cap ratio)
	b=$(flood_stat "$out" variant none pps)
	i=$(flood_stat "$out" variant ipt pps)
	p=$(flood_stat "$out" variant nft pps)
	cn=$(flood_stat "$out" pair cap/none ratio)
	ci=$(flood_stat "$out" pair cap/ipt ratio)
	cp=$(flood_stat "$out" pair cap/nft ratio)
	row "$n nodes, $g groups: capnet filter | no filter" "$c" "$b" "$(fmt_ratio3 "$cn")" \
		"$(goal ">=0.95" "$cn" ">=" 0.95) IQR $(iqr "$out" cap/none ratio)"
	row "$n nodes: capnet | iptables, $((n - 2)) DROP rules in INPUT" "$c" "$i" \
		"$(fmt_ratio3 "$ci")" "$(goal ">1" "$ci" ">" 1) IQR $(iqr "$out" cap/ipt ratio)"
	row "$n nodes: capnet | nft set of $((n - 2)) addresses" "$c" "$p" "$(fmt_ratio3 "$cp")" \
		"IQR $(iqr "$out" cap/nft ratio)"
	row "$n nodes: 8 tcp port rules loaded | none (frames no rule names)" "$r" "$c" \
		"$(fmt_ratio3 "$cr")" "$(goal ">=0.95" "$cr" ">=" 0.95) IQR $(iqr "$out" rules/cap ratio)"
	# The same comparison as time added to each frame, against no filter at all.
	xc=$(flood_stat "$out" pair cap/none added_ns)
	xi=$(flood_stat "$out" pair ipt/none added_ns)
	row "$n nodes: ns added per frame: capnet | iptables" "$xc" "$xi" "$(ratio_t "$xc" "$xi")" \
		"IQR $(iqr "$out" cap/none added_ns) | $(iqr "$out" ipt/none added_ns)"
	"$capnet" --lab "$l" heal >/dev/null
}

# Switch times at size n: healthy -> two groups and one partition -> another, as a capnet map
# flip, as the whole capnet command, and as iptables-restore in every namespace.
bench_switch() {
	local l=$1 n=$2 h=$(($2 / 2)) k out t0 t1 reps=10 ireps=3
	local flip2=() sw2=() cmd2=() flipx=() swx=() cmdx=() ipt2=() iptx=() help=() a b hp g
	[ "$n" -ge 64 ] && ireps=2
	assign_halves "$n" "$h" >"$tmp/a$n"
	assign_shifted "$n" "$h" >"$tmp/b$n"
	a=$(capnet_groups <"$tmp/a$n")
	b=$(capnet_groups <"$tmp/b$n")
	for k in $(seq 1 "$reps"); do
		"$capnet" --lab "$l" heal >/dev/null
		t0=$(now)
		# shellcheck disable=SC2086
		out=$("$capnet" --lab "$l" --json partition $a)
		t1=$(now)
		flip2+=("$(json_field flip_us "$out")"); sw2+=("$(json_field switch_us "$out")")
		cmd2+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		t0=$(now)
		# shellcheck disable=SC2086
		out=$("$capnet" --lab "$l" --json partition $b)
		t1=$(now)
		flipx+=("$(json_field flip_us "$out")"); swx+=("$(json_field switch_us "$out")")
		cmdx+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		# The floor of any command, timed the same way between the others.
		t0=$(now)
		"$capnet" --help >/dev/null
		t1=$(now)
		help+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
	done
	"$capnet" --lab "$l" heal >/dev/null
	rules_files ipt "$tmp/ia$n" <"$tmp/a$n"
	rules_files ipt "$tmp/ib$n" <"$tmp/b$n"
	ipt_flush "$l" "$n" # loads the modules: not part of any timing
	for k in $(seq 1 "$ireps"); do
		ipt_flush "$l" "$n"
		t0=$(now); ipt_apply "$l" "$n" "$tmp/ia$n"; t1=$(now)
		ipt2+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		t0=$(now); ipt_apply "$l" "$n" "$tmp/ib$n"; t1=$(now)
		iptx+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
	done
	nft_clear "$l" "$n"
	local f2 s2 c2 fx sx cx i2 ix
	f2=$(printf '%s\n' "${flip2[@]}" | median); s2=$(printf '%s\n' "${sw2[@]}" | median)
	c2=$(printf '%s\n' "${cmd2[@]}" | median); i2=$(printf '%s\n' "${ipt2[@]}" | median)
	fx=$(printf '%s\n' "${flipx[@]}" | median); sx=$(printf '%s\n' "${swx[@]}" | median)
	cx=$(printf '%s\n' "${cmdx[@]}" | median); ix=$(printf '%s\n' "${iptx[@]}" | median)
	i2us=$(awk -v m="$i2" 'BEGIN { printf "%.0f", m * 1000 }')
	ixus=$(awk -v m="$ix" 'BEGIN { printf "%.0f", m * 1000 }')
	row "$n: healthy->2 groups, flip (us) | iptables-restore" "$f2" "$i2us" "$(ratio_t "$f2" "$i2us")"
	row "$n: healthy->2 groups, write+flip (us) | iptables" "$s2" "$i2us" "$(ratio_t "$s2" "$i2us")"
	row "$n: healthy->2 groups, capnet command (ms) | iptables" "$c2" "$i2" "$(ratio_t "$c2" "$i2")"
	row "$n: partition->partition, flip (us) | iptables" "$fx" "$ixus" "$(ratio_t "$fx" "$ixus")"
	row "$n: partition->partition, write+flip (us) | iptables" "$sx" "$ixus" "$(ratio_t "$sx" "$ixus")"
	row "$n: partition->partition, command (ms) | iptables" "$cx" "$ix" "$(ratio_t "$cx" "$ix")"
	hp=$(printf '%s\n' "${help[@]}" | median)
	g=""
	[ "$n" -ne 5 ] ||
		g=$(goal "<=+1 ms" "$(awk -v a="$c2" -v b="$hp" 'BEGIN { print a - b }')" "<=" 1)
	row "$n: healthy->2 groups, command | capnet --help (ms)" "$c2" "$hp" \
		"$(ratio_t "$c2" "$hp")" "$g"
}

# Atomicity: a flood on a link cut in both partitions (1 -> h+1) and one on a link open in both
# (h+1 -> h+2) while capnet switches between them; nothing may cross the first.
bench_atomicity() {
	local l=$1 n=$2 h=$(($2 / 2)) a b k=0 cut open fc fo end
	a=$(capnet_groups <"$tmp/a$n")
	b=$(capnet_groups <"$tmp/b$n")
	# shellcheck disable=SC2086
	"$capnet" --lab "$l" partition $a >/dev/null
	neigh "$l" 1 $((h + 1))
	neigh "$l" $((h + 1)) $((h + 2))
	"$flood" --tx "$l-n1" --rx "$l-n$((h + 1))" --dst "$(addr $((h + 1)))" --warmup 0 \
		--secs 3 --port 9978 >"$tmp/cut$n" &
	fc=$!
	"$flood" --tx "$l-n$((h + 1))" --rx "$l-n$((h + 2))" --dst "$(addr $((h + 2)))" \
		--warmup 0 --secs 3 --port 9979 >"$tmp/open$n" &
	fo=$!
	sleep 0.2
	end=$(($(date +%s%N) + 2500000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		# shellcheck disable=SC2086
		"$capnet" --lab "$l" partition $b >/dev/null
		# shellcheck disable=SC2086
		"$capnet" --lab "$l" partition $a >/dev/null
		k=$((k + 2))
	done
	wait "$fc" "$fo"
	cut=$(field total_received "$(cat "$tmp/cut$n")")
	open=$(field total_received "$(cat "$tmp/open$n")")
	row "$n: atomicity, $k switches: across doubly-cut | open link" "$cut" "$open" "" \
		"$(goal "=0" "$cut" "<=" 0)"
	"$capnet" --lab "$l" heal >/dev/null
}

# The kernel's IPv4 neighbour entries, all namespaces together (the table is one).
neigh_entries() { local hex; hex=$(awk 'NR == 2 { print $1 }' /proc/net/stat/arp_cache); echo $((16#$hex)); }

# 1,000 nodes on each hook: up, the neighbour table the lab adds, the whole partition command,
# and what status prints.
bench_scale() {
	local n=1000 l hook before after cmd=() help=() k t0 t1 c hp lines st up
	section "scale, $n nodes: up (s), neighbour entries, partition command (ms), status"
	for hook in blocks clsact tcx; do
		l=${tag}x$hook
		before=$(neigh_entries)
		t0=$(now)
		"$capnet" --lab "$l" up -n "$n" --hook "$hook" >/dev/null
		t1=$(now)
		up=$(secs "$t0" "$t1")
		after=$(neigh_entries)
		cmd=() help=()
		for k in $(seq 1 10); do
			t0=$(now)
			"$capnet" --lab "$l" partition "1-$((n / 2))" "$((n / 2 + 1))-$n" >/dev/null
			t1=$(now)
			cmd+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
			"$capnet" --lab "$l" heal >/dev/null
			t0=$(now)
			"$capnet" --help >/dev/null
			t1=$(now)
			help+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		done
		c=$(printf '%s\n' "${cmd[@]}" | median)
		hp=$(printf '%s\n' "${help[@]}" | median)
		t0=$(now); lines=$("$capnet" --lab "$l" status | wc -l); t1=$(now)
		st=$(secs "$t0" "$t1")
		"$capnet" --lab "$l" down >/dev/null
		quiesce "$n"
		if [ "$hook" = blocks ]; then
			row "$n ($hook): up, s" "$up" "" "" "$(goal "<=3 s" "$up" "<=" 3)"
		else
			row "$n ($hook): up, s" "$up" "" ""
		fi
		row "$n ($hook): neighbour entries the lab adds" "$((after - before))" "" "" \
			"$(goal "=0 (was N(N-1) = $((n * (n - 1))))" "$((after - before))" "<=" 0)"
		row "$n ($hook): partition, whole command | capnet --help (ms)" "$c" "$hp" \
			"$(ratio_t "$c" "$hp")" "$(goal "<=5 ms" "$c" "<=" 5)"
		row "$n ($hook): status, lines | seconds" "$lines" "$st" ""
	done
}

# The lab's BPF maps, all of them, as the kernel charges them (bpftool's bytes_memlock, which
# for per-CPU maps counts every possible CPU), and the same maps on a 64-CPU machine: the
# per-CPU values scaled from this machine's possible CPUs.
map_memory() { # lab -> "bytes bytes_on_64_cpus"
	local p cpus
	cpus=$(awk -F- '{ print ($2 == "" ? $1 : $2) + 1 }' /sys/devices/system/cpu/possible)
	for p in /sys/fs/bpf/capnet/"$1"/*; do
		bpftool -j map show pinned "$p" 2>/dev/null || true
		echo
	done | awk -v cpus="$cpus" '
		/"bytes_memlock"/ {
			m = $0; sub(/.*"bytes_memlock":/, "", m); sub(/[,}].*/, "", m)
			t = $0; sub(/.*"type":"/, "", t); sub(/".*/, "", t)
			e = $0; sub(/.*"max_entries":/, "", e); sub(/[,}].*/, "", e)
			v = $0; sub(/.*"bytes_value":/, "", v); sub(/[,}].*/, "", v)
			# A per-CPU map holds a value per entry per CPU (an upper bound for a
			# hash, whose entries may not all exist yet).
			pc = (t ~ /^percpu/) ? e * (int((v + 7) / 8) * 8) * cpus : 0
			if (pc > m) pc = m
			all += m; all64 += m - pc + pc * 64 / cpus
		}
		END { printf "%.0f %.0f\n", all, all64 }'
}

bench_memory() {
	local n l m
	section "memory: the lab's BPF maps (MB, bpftool memlock) | the same on 64 CPUs"
	for n in 64 1000; do
		l=${tag}m$n
		"$capnet" --lab "$l" up -n "$n" >/dev/null
		m=$(map_memory "$l")
		"$capnet" --lab "$l" down >/dev/null
		quiesce "$n"
		row "$n nodes: BPF maps, this machine ($(nproc) CPUs) | 64 CPUs (MB)" \
			"$(awk -v b="${m%% *}" 'BEGIN { printf "%.1f", b / 1048576 }')" \
			"$(awk -v b="${m##* }" 'BEGIN { printf "%.1f", b / 1048576 }')" ""
	done
}

bench_sizes() {
	local n l
	for n in $sizes; do
		l=${tag}s$n
		"$capnet" --lab "$l" up -n "$n" >/dev/null
		section "partition switch, $n nodes (flip, write+flip: in-process; command: whole process)"
		bench_switch "$l" "$n"
		if [ "$n" -ge 5 ]; then bench_atomicity "$l" "$n"; fi
		section "filter cost, $n nodes: UDP 64-byte frames received per CPU second of the path, 1 -> 2"
		bench_filter_cost "$l" "$n"
		"$capnet" --lab "$l" down >/dev/null
	done
}

# ---------------------------------------------------------------------------------------------
# Replicas: capnode CP (and AP when it works) against etcd, 5 nodes, 8 clients, same load.
kv_row() { # label capnet-output baseline-output
	local co=$2 bo=$3
	row "$1: writes/s" "$(field ops_per_s "$co")" "$(field ops_per_s "$bo")" \
		"$(ratio_r "$(field ops_per_s "$co")" "$(field ops_per_s "$bo")")"
	row "$1: p50 (us)" "$(field p50_us "$co")" "$(field p50_us "$bo")" \
		"$(ratio_t "$(field p50_us "$co")" "$(field p50_us "$bo")")"
	row "$1: p99 (us)" "$(field p99_us "$co")" "$(field p99_us "$bo")" \
		"$(ratio_t "$(field p99_us "$co")" "$(field p99_us "$bo")")"
}

etcd_start() { # lab dir: one member per node, data under /run like capnode's
	local l=$1 d=$2 i cl=""
	mkdir -p "$d"
	for i in 1 2 3 4 5; do cl="$cl${cl:+,}e$i=http://$(addr "$i"):2380"; done
	for i in 1 2 3 4 5; do
		# capnode's election timeout (30-60 ticks of 10 ms) for etcd too: [300, 600) ms.
		"$capnet" --lab "$l" exec "$i" -- etcd --name "e$i" --data-dir "$d/e$i" \
			--listen-peer-urls "http://$(addr "$i"):2380" \
			--initial-advertise-peer-urls "http://$(addr "$i"):2380" \
			--listen-client-urls http://127.0.0.1:2379 \
			--advertise-client-urls http://127.0.0.1:2379 \
			--initial-cluster "$cl" --initial-cluster-state new \
			--initial-cluster-token "$l" --heartbeat-interval 50 --election-timeout 300 \
			--pre-vote \
			--log-level error >"$d/e$i.log" 2>&1 &
		pids+=($!)
	done
}
# Prints the node of the etcd leader once every member agrees on it: just after an election a
# member can still name the old leader, and isolating a node that is no longer leader would
# time a failover that never happened.
etcd_leader() {
	local l=$1 i s leader="" lead_node="" id
	for i in 1 2 3 4 5; do
		s=$(in_ns "$l-n$i" etcdctl --endpoints 127.0.0.1:2379 --command-timeout=1s \
			endpoint status -w json 2>/dev/null) || return 1
		id=$(json_field leader "$s")
		[ -n "$id" ] && [ "$id" != 0 ] || return 1
		[ -z "$leader" ] || [ "$leader" = "$id" ] || return 1
		leader=$id
		[ "$(json_field member_id "$s")" != "$id" ] || lead_node=$i
	done
	[ -n "$lead_node" ] && echo "$lead_node"
}

bench_replicas() {
	local l=${tag}kv ap="" ap_reason="" et_reason="" fo_cp="" fo_et="" lead="" ver="" i a
	local cp_out=() et_out=() ap_out=() fo_cps=() fo_ets=() cp et k o v
	section "replicas, 5 nodes, 8 clients, closed-loop writes: capnode | etcd (same lab, same load)"
	"$capnet" --lab "$l" up -n 5 >/dev/null
	if ! "$capnet" --lab "$l" start --mode cp >"$tmp/kv.err" 2>&1; then
		na "capnode CP" "capnet start --mode cp: $(head -n 1 "$tmp/kv.err" | head -c 80)"
		"$capnet" --lab "$l" down >/dev/null
		return
	fi
	# etcd runs beside capnode in the same nodes (other ports), so that their loads can take
	# turns: whatever else the machine is doing falls on both alike.
	if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
		et_reason="etcd or etcdctl not installed (Debian etcd-server, etcd-client)"
	else
		ver=$(etcd --version | awk 'NR == 1 { print $3 }')
		etcd_start "$l" "/run/capnet-bench-$tag"
		printf '%s\n' "${pids[@]}" >"$tmp/pids"
		for i in $(seq 1 50); do lead=$(etcd_leader "$l") && break; sleep 0.2; done
		[ -n "$lead" ] || et_reason="the 5-member etcd cluster elected no leader in 10 s"
	fi
	sleep 1
	for i in 1 2 3; do
		cp_out+=("$("$kvb" --lab "$l" --nodes 5 --clients 8 --secs 3 2>>"$tmp/kv.err" || true)")
		if [ -n "$lead" ]; then
			et_out+=("$("$kvb" --lab "$l" --nodes 5 --etcd --leader "$lead" --secs 3 \
				2>>"$tmp/etcd.err" || true)")
		fi
	done
	# Failovers, three of each (the election timeout is random): each isolates the leader,
	# times the first write through the majority, heals. One under 100 ms, shorter than any
	# election timeout, means the node isolated had stopped being leader: it is left out.
	for k in 1 2 3; do
		o=$("$kvb" --lab "$l" --nodes 5 --failover --capnet "$capnet" 2>>"$tmp/kv.err") || o=""
		"$capnet" --lab "$l" heal >/dev/null
		v=$(field failover_ms "$o")
		if [ -n "$v" ] && awk -v f="$v" 'BEGIN { exit !(f >= 100) }'; then fo_cps+=("$v"); fi
		sleep 1
	done
	for k in 1 2 3; do
		[ -n "$lead" ] || break
		# The heal lets the isolated member back: wait until every member names the same
		# leader twice, a second apart.
		lead=""
		for i in $(seq 1 15); do
			a=$(etcd_leader "$l") || a=""
			sleep 1
			lead=$(etcd_leader "$l") || lead=""
			[ -z "$lead" ] || [ "$lead" != "$a" ] || break
			lead=""
		done
		if [ -z "$lead" ]; then
			echo "no stable etcd leader 30 s after a heal" >>"$tmp/etcd.err"
			break
		fi
		o=$("$kvb" --lab "$l" --nodes 5 --etcd --leader "$lead" --failover \
			--capnet "$capnet" 2>>"$tmp/etcd.err") || o=""
		"$capnet" --lab "$l" heal >/dev/null
		v=$(field failover_ms "$o")
		if [ -z "$v" ]; then
			continue
		elif awk -v f="$v" 'BEGIN { exit !(f >= 100) }'; then
			fo_ets+=("$v")
		else
			echo "an etcd failover took $v ms: the member isolated was no longer leader" \
				>>"$tmp/etcd.err"
		fi
	done
	[ ${#fo_cps[@]} -eq 0 ] || fo_cp=$(printf '%s\n' "${fo_cps[@]}" | median)
	[ ${#fo_ets[@]} -eq 0 ] || fo_et=$(printf '%s\n' "${fo_ets[@]}" | median)
	stop_pids
	"$capnet" --lab "$l" stop >/dev/null 2>&1 || true

	# Medians of three 3-second runs, each figure on its own.
	cp="" et=""
	for f in ops_per_s p50_us p99_us; do
		cp="$cp $f $(for o in "${cp_out[@]}"; do field "$f" "$o"; done | median)"
		[ ${#et_out[@]} -eq 0 ] ||
			et="$et $f $(for o in "${et_out[@]}"; do field "$f" "$o"; done | median)"
	done
	if [ -n "$(field ops_per_s "$cp")$(field ops_per_s "$et")" ]; then
		kv_row "CP: capnode | etcd${ver:+ $ver}" "$cp" "$et"
	fi
	if [ -z "$(field ops_per_s "$cp")" ]; then
		na "capnode CP" "no write succeeded: $(grep -v started "$tmp/kv.err" | head -n 1 | head -c 80)"
	fi
	if [ -n "$et_reason" ]; then
		na "etcd" "$et_reason"
	elif [ -z "$(field ops_per_s "$et")" ]; then
		na "etcd" "load failed: $(head -n 1 "$tmp/etcd.err" | head -c 80)"
	fi
	if [ -n "$fo_cp" ]; then
		row "failover, median of ${#fo_cps[@]}: isolated -> first write (ms) | etcd" \
			"$fo_cp" "$fo_et" "$(ratio_t "$fo_cp" "$fo_et")"
	else
		na "failover" "no leader, or no write committed 20 s after isolating it"
	fi
	if [ -n "$fo_cp" ] && [ -z "$fo_et" ] && [ -z "$et_reason" ]; then
		na "etcd failover" "$(tail -n 1 "$tmp/etcd.err" 2>/dev/null | head -c 100)"
	fi

	if ! "$capnet" --lab "$l" start --mode ap >"$tmp/ap.err" 2>&1; then
		ap_reason="AP mode not available: capnet start --mode ap: $(head -n 1 "$tmp/ap.err" | head -c 80)"
	elif ! { sleep 1 &&
		"$capctl" --lab "$l" -n 1 --timeout 2000 put bench-probe 1 >/dev/null 2>&1; }; then
		ap_reason="AP mode not available: capnode --mode ap does not answer a put"
	else
		for i in 1 2 3; do
			ap_out+=("$("$kvb" --lab "$l" --nodes 5 --clients 8 --secs 3 --spread \
				2>>"$tmp/ap.err" || true)")
		done
		for f in ops_per_s p50_us p99_us; do
			ap="$ap $f $(for o in "${ap_out[@]}"; do field "$f" "$o"; done | median)"
		done
		[ -n "$(field ops_per_s "$ap")" ] ||
			ap_reason="AP load failed: $(head -n 1 "$tmp/ap.err" | head -c 80)"
	fi
	"$capnet" --lab "$l" stop >/dev/null 2>&1 || true
	if [ -n "$(field ops_per_s "$ap")" ]; then
		# etcd has no AP mode: the ratios say what giving up consistency buys against it.
		kv_row "AP (QUORUM, clients on all 5 nodes): capnode | etcd" "$ap" "$et"
		row "AP writes/s | CP writes/s (capnode, same load)" "$(field ops_per_s "$ap")" \
			"$(field ops_per_s "$cp")" \
			"$(ratio_r "$(field ops_per_s "$ap")" "$(field ops_per_s "$cp")")"
	else
		na "capnode AP" "$ap_reason"
	fi
	"$capnet" --lab "$l" down >/dev/null
}

# ---------------------------------------------------------------------------------------------
# The MAC's cost: the same capnode cluster and load with the lab's key and with --no-key, in
# turns (so whatever else the machine does falls on both), medians of three 3-second runs.
auth_runs() { # lab mode key|no-key -> appends one kv_bench output line to $tmp/auth.<mode>.<key>
	local l=$1 mode=$2 key=$3 opt="" spread=""
	[ "$key" = no-key ] && opt=--no-key
	[ "$mode" = ap ] && spread=--spread
	"$capnet" --lab "$l" start --mode "$mode" $opt >>"$tmp/auth.err" 2>&1 || return 0
	sleep 1
	"$kvb" --lab "$l" --nodes 5 --clients 8 --secs 3 $spread 2>>"$tmp/auth.err" \
		>>"$tmp/auth.$mode.$key" || true
	"$capnet" --lab "$l" stop >/dev/null 2>&1 || true
}

auth_median() { # field file
	[ -f "$2" ] || return 0
	while read -r line; do field "$1" "$line"; done <"$2" | median
}

bench_auth() {
	local l=${tag}au mode key k with without f
	section "the MAC on every datagram, 5 nodes, 8 clients, closed-loop writes: with | without"
	"$capnet" --lab "$l" up -n 5 >/dev/null
	for k in 1 2 3; do
		for mode in cp ap; do
			for key in key no-key; do
				auth_runs "$l" "$mode" "$key"
			done
		done
	done
	"$capnet" --lab "$l" down >/dev/null
	for mode in cp ap; do
		with="" without=""
		for f in ops_per_s p50_us p99_us; do
			with="$with $f $(auth_median "$f" "$tmp/auth.$mode.key")"
			without="$without $f $(auth_median "$f" "$tmp/auth.$mode.no-key")"
		done
		if [ -n "$(field ops_per_s "$with")" ] && [ -n "$(field ops_per_s "$without")" ]; then
			kv_row "${mode^^}: with MAC | without (start --no-key)" "$with" "$without"
		else
			na "${mode^^} with and without MAC" "$(grep -v -e started -e no-key \
				"$tmp/auth.err" 2>/dev/null | head -n 1 | head -c 80)"
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# Start-up: a capctl put and get to a 5-node capnode cluster as whole processes, against
# capnet --help (a process that links the same libraries and does nothing), 20 of each in turns
# so that the machine's drift falls on all three alike; times from bash's clock, no fork.
bench_startup() {
	local l=${tag}st k n=20 lead t0 help=() put=() get=() h p g op
	section "start-up, whole processes (ms): capctl to a 5-node capnode cluster | capnet --help"
	"$capnet" --lab "$l" up -n 5 >/dev/null
	"$capnet" --lab "$l" start --mode cp >/dev/null
	for k in $(seq 1 50); do
		lead=$("$capctl" --lab "$l" -n 1 status 2>/dev/null | sed -n 's/.*, leader \([0-9]*\)$/\1/p')
		[ -z "$lead" ] || [ "$lead" = 0 ] || break
		sleep 0.1
	done
	"$capctl" --lab "$l" -n "$lead" put bench-k 1 >/dev/null
	for k in $(seq 1 "$n"); do
		t0=$EPOCHREALTIME; "$capnet" --help >/dev/null
		help+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		t0=$EPOCHREALTIME; "$capctl" --lab "$l" -n "$lead" put bench-k "$k" >/dev/null
		put+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
		t0=$EPOCHREALTIME; "$capctl" --lab "$l" -n "$lead" get bench-k >/dev/null
		get+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
	done
	# The operation itself, in one process: what is left of a whole put or get once start-up
	# is taken away is its round trip through Raft on this machine.
	op=$(json_field p50 "$("$capctl" --lab "$l" --json load --client capnode --nodes "$lead" \
		--clients 1 --duration 2 --history "$tmp/startup.jsonl" 2>/dev/null || true)")
	"$capnet" --lab "$l" stop >/dev/null 2>&1 || true
	"$capnet" --lab "$l" down >/dev/null
	h=$(printf '%s\n' "${help[@]}" | median)
	p=$(printf '%s\n' "${put[@]}" | median)
	g=$(printf '%s\n' "${get[@]}" | median)
	row "capctl put at the leader | capnet --help, median of $n" "$p" "$h" "$(ratio_t "$p" "$h")" \
		"$(goal "<=+1.5 ms" "$(awk -v a="$p" -v b="$h" 'BEGIN { print a - b }')" "<=" 1.5)"
	row "capctl get at the leader | capnet --help, median of $n" "$g" "$h" "$(ratio_t "$g" "$h")" \
		"$(goal "<=+1.5 ms" "$(awk -v a="$g" -v b="$h" 'BEGIN { print a - b }')" "<=" 1.5)"
	if [ -n "$op" ]; then
		op=$(awk -v o="$op" 'BEGIN { printf "%.3f", o }')
		row "capctl put minus one operation in-process (p50 $op) | --help" \
			"$(awk -v a="$p" -v o="$op" 'BEGIN { printf "%.3f", a - o }')" "$h" \
			"$(ratio_t "$(awk -v a="$p" -v o="$op" 'BEGIN { print a - o }')" "$h")" \
			"$(goal "<=+1.5 ms" "$(awk -v a="$p" -v o="$op" -v b="$h" 'BEGIN { print a - o - b }')" "<=" 1.5)"
	else
		na "one operation in-process" "capctl load --clients 1 gave no p50"
	fi
}

# ---------------------------------------------------------------------------------------------
# Real systems: capctl's own clients measured against the systems' own tools, and the checkers on
# large histories.
capctl_figures() { # capctl-load-json -> "ops_per_s N p50_us N p99_us N"
	local j=$1
	awk -v o="$(json_field ops_per_s "$j")" -v p50="$(json_field p50 "$j")" \
		-v p99="$(json_field p99 "$j")" 'BEGIN { if (o != "")
		printf "ops_per_s %s p50_us %.0f p99_us %.0f", o, p50 * 1000, p99 * 1000 }'
}

# Maelstrom: a 5-node broadcast of the correct example nodes through the shims. One-way
# latency is the sending shim's sendmsg to the receiving shim's read, both on CLOCK_MONOTONIC
# (one clock for every namespace), joined from the shims' message logs.
bench_maelstrom() {
	local d out st msgs lat prog raw_p50="" raw_p99="" l=${tag}mr
	section "maelstrom: 5-node broadcast of the example nodes through the shims"
	# The baseline of the shims' latency: raw UDP datagrams of the same size between two nodes
	# of a lab, on the same path (veth, bridge, filter), at 2000 a second.
	"$capnet" --lab "$l" up -n 2 >/dev/null
	"$capnet" --lab "$l" exec 2 -- "$tools/udp_latency" --listen 7171 >"$tmp/udp_lat" &
	pids+=($!)
	sleep 0.3
	"$capnet" --lab "$l" exec 1 -- "$tools/udp_latency" --send "$(addr 2):7171" 6000 2000 120
	wait "${pids[-1]}" 2>/dev/null || true
	read -r raw_p50 raw_p99 _ <"$tmp/udp_lat" || true
	"$capnet" --lab "$l" down >/dev/null
	[ -n "${raw_p50:-}" ] || na "raw UDP one-way latency" "no datagram arrived"
	for prog in "python3 $repo/tests/maelstrom/broadcast.py" \
		"$bin/../tests/maelstrom/c_node broadcast"; do
		d=$(mktemp -d "$tmp/mael.XXXXXX")
		if ! out=$(cd "$d" && "$capnet" --lab "${tag}ml" maelstrom test -w broadcast \
			--bin $prog --node-count 5 --time-limit 5 --rate 200 2>&1); then
			na "maelstrom broadcast (${prog##*/})" "$(tail -n 1 <<<"$out" | head -c 80)"
			continue
		fi
		st=$(json_field setup_s "$(cat "$d"/store/latest/results.json)")
		msgs=$(json_field messages "$(cat "$d"/store/latest/results.json)")
		row "maelstrom test to a running cluster, ${prog##*/} (s)" "$st" "-" "-"
		row "messages/s between nodes through the shims, ${prog##*/}" \
			"$(awk -v m="$msgs" 'BEGIN { printf "%.0f", m / 5 }')" "-" "-"
		lat=$(awk 'FNR == 1 { node = FILENAME; sub(/.*net-n/, "", node); sub(/\.log/, "", node) }
			$1 == "s" { sent[node " " $4 " " $2] = $3 }
			$1 == "r" { k = $2 " " node " " $3; if (k in sent) print ($4 - sent[k]) / 1000 }' \
			"$d"/store/latest/net-n*.log | sort -g |
			awk '{ a[NR] = $1 } END { if (NR) printf "%.0f %.0f", a[int(NR * 0.5 + 0.5)], a[int(NR * 0.99 + 0.5)] }')
		row "one-way latency p50, ${prog##*/} shims | raw UDP (us)" "${lat%% *}" \
			"${raw_p50:--}" "$(ratio_t "${lat%% *}" "${raw_p50:-0}")"
		row "one-way latency p99, ${prog##*/} shims | raw UDP (us)" "${lat##* }" \
			"${raw_p99:--}" "$(ratio_t "${lat##* }" "${raw_p99:-0}")"
	done
	# What the shims carry when the program sends as much as they take: the C node with every
	# node its neighbour, clients asking up to 5,000 operations a second, each message resent
	# to every neighbour until acknowledged.
	d=$(mktemp -d "$tmp/mael.XXXXXX")
	if out=$(cd "$d" && "$capnet" --lab "${tag}mt" maelstrom test -w broadcast \
		--bin "$bin/../tests/maelstrom/c_node" broadcast --node-count 5 --time-limit 5 \
		--rate 5000 --topology total 2>&1); then
		msgs=$(json_field messages "$(cat "$d"/store/latest/results.json)")
		msgs=$(awk -v m="$msgs" 'BEGIN { printf "%.0f", m / 5 }')
		row "messages/s through the shims, c_node at --rate 5000, total" "$msgs" "-" "-" \
			"$(goal ">=50,000" "$msgs" ">=" 50000)"
	else
		na "maelstrom shim throughput" "$(tail -n 1 <<<"$out" | head -c 80)"
	fi
}

bench_real_systems() {
	local l=${tag}rs out rb set get ours i ratio t0 t1 cp et h
	section "real systems, capctl load against the systems' own tools (same node, same clients)"
	"$capnet" --lab "$l" up -n 3 >/dev/null
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		na "capctl load --client redis" "redis-server or redis-benchmark not installed"
	elif ! "$capnet" --lab "$l" start 1 --name redis -- redis-server --port 6379 \
		--bind 127.0.0.1 --save '' --appendonly no >"$tmp/rs.err" 2>&1; then
		na "capctl load --client redis" "$(head -n 1 "$tmp/rs.err" | head -c 80)"
	else
		sleep 0.5
		# redis-benchmark: 8 clients, one request outstanding each (-P 1), SET then GET.
		rb=$("$capnet" --lab "$l" exec 1 -- redis-benchmark -h 127.0.0.1 -p 6379 -c 8 \
			-n 200000 -t set,get -P 1 -q 2>/dev/null | tr '\r' '\n')
		set=$(sed -n 's/^SET: \([0-9.]*\) requests.*/\1/p' <<<"$rb" | tail -n 1)
		get=$(sed -n 's/^GET: \([0-9.]*\) requests.*/\1/p' <<<"$rb" | tail -n 1)
		out=$("$capctl" --lab "$l" --json load --client redis --nodes 1 --clients 8 \
			--duration 5 --history "$tmp/redis.jsonl" 2>>"$tmp/rs.err") || out=""
		ours=$(json_field ops_per_s "$out")
		if [ -n "$set" ] && [ -n "$get" ] && [ -n "$ours" ]; then
			rb=$(awk -v a="$set" -v b="$get" 'BEGIN { printf "%.0f", (a + b) / 2 }')
			ratio=$(awk -v c="$ours" -v b="$rb" 'BEGIN { printf "%.3f", c / b }')
			row "redis, 8 clients: capctl load ops/s | redis-benchmark (SET, GET)" "$ours" \
				"$rb" "$(ratio_r "$ours" "$rb")" "$(goal ratio "$ratio" ">=" 0.8)"
		else
			na "capctl load --client redis" "no figure: $(head -n 1 "$tmp/rs.err" | head -c 80)"
		fi
		"$capnet" --lab "$l" stop --name redis >/dev/null 2>&1 || true
	fi
	if ! command -v etcd >/dev/null; then
		na "capctl load --client etcd" "etcd not installed (Debian etcd-server)"
	else
		"$capnet" --lab "$l" start --mode cp >/dev/null 2>&1 || true
		"$capnet" --lab "$l" start --name etcd -- etcd --name "e{i}" --data-dir "{dir}/etcd" \
			--listen-peer-urls "http://{ip}:2380" --initial-advertise-peer-urls \
			"http://{ip}:2380" --listen-client-urls "http://{ip}:2379,http://127.0.0.1:2379" \
			--advertise-client-urls "http://{ip}:2379" \
			--initial-cluster "{each:e{i}=http://{ip}:2380}" --initial-cluster-state new \
			--logger zap --log-level error >"$tmp/et.err" 2>&1 || true
		sleep 4
		cp=$(capctl_figures "$("$capctl" --lab "$l" --json load --client capnode --clients 8 \
			--duration 5 --history "$tmp/cp.jsonl" 2>>"$tmp/et.err" || true)")
		et=$(capctl_figures "$("$capctl" --lab "$l" --json load --client etcd --clients 8 \
			--duration 5 --history "$tmp/etcd.jsonl" 2>>"$tmp/et.err" || true)")
		if [ -n "$cp" ] && [ -n "$et" ]; then
			kv_row "capctl load, 3 nodes, 8 clients: capnode CP | etcd" "$cp" "$et"
		else
			na "capctl load --client etcd" "$(grep -v started "$tmp/et.err" | head -n 1 | head -c 80)"
		fi
	fi
	"$capnet" --lab "$l" down >/dev/null
	for m in set append; do
		h="$tmp/gen-$m.jsonl"
		"$tools/history_gen" "$m" 100000 >"$h"
		t0=$(now)
		if "$capctl" check --model "$m" "$h" >/dev/null; then
			t1=$(now)
			row "capctl check --model $m, 100,000 operations (s)" "$(secs "$t0" "$t1")" "-" "-"
		else
			na "capctl check --model $m" "the generated history was not found valid"
		fi
		rm -f "$h"
	done
}

# ---------------------------------------------------------------------------------------------
# The transaction checker at Elle's scale: a generated strictly serializable history of 1,000,000
# list-append transactions, read and checked for strict serializability. Elle's README: 22 million
# transactions in about two minutes with ~60 GB of heap, on all the cores of its machine; ours is
# per CPU second of one core, and must stay within 2 GB.
bench_elle() {
	local h=$tmp/txn.edn out cpu mib rate elle=183333
	section "transaction checker: 1,000,000 list-append transactions, strict-serializable"
	"$tools/txn_history_gen" 1000000 >"$h"
	if ! out=$("$capctl" -v check --model list-append "$h" 2>&1 >/dev/null); then
		na "capctl check --model list-append" "the generated history was not found valid"
		rm -f "$h"
		return
	fi
	rm -f "$h"
	cpu=$(sed -n 's/.* in \([0-9.]*\) s of CPU.*/\1/p' <<<"$out")
	mib=$(sed -n 's/.*peak memory \([0-9]*\) MiB.*/\1/p' <<<"$out")
	rate=$(awk -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", 1000000 / c }')
	row "transactions/s per core | Elle's, all its cores" "$rate" "$elle" \
		"$(ratio_r "$rate" "$elle")" "$(goal "per core" "$rate" ">" "$elle")"
	row "peak memory (MiB) | Elle's heap" "$mib" "61440" "$(ratio_t "$mib" 61440)" \
		"$(goal "2 GB" "$mib" "<=" 2048)"
}

# ---------------------------------------------------------------------------------------------
# captrace: record a lab under a UDP flood, then time the report.
bench_captrace() {
	local l=${tag}tr d=$tmp/trace rec out t0 t1 pk rate wall
	section "captrace report: a 5-node lab recorded under a 2 s UDP flood"
	"$capnet" --lab "$l" up -n 5 >/dev/null
	neigh "$l" 1 2
	"$captrace" --lab "$l" record -o "$d" --duration 3 >"$tmp/rec.out" 2>&1 &
	rec=$!
	sleep 0.5
	"$flood" --tx "$l-n1" --rx "$l-n2" --dst "$(addr 2)" --warmup 0 --secs 2 >/dev/null
	if ! wait "$rec"; then
		na "captrace report" "record failed: $(head -c 120 "$tmp/rec.out")"
	else
		t0=$(now)
		if out=$("$captrace" -v report "$d" 2>&1 >/dev/null); then
			t1=$(now)
			pk=$(sed -n 's/.*read \([0-9]*\) packets.*/\1/p' <<<"$out")
			rate=$(sed -n 's/.*: \([0-9.]*\) packets\/s.*/\1/p' <<<"$out")
			wall=$(awk -v p="$pk" -v a="$t0" -v b="$t1" 'BEGIN { if (b > a) printf "%.0f", p / (b - a) }')
			row "report: read+parse packets/s | whole report ($pk packets)" "$rate" "$wall" ""
		else
			na "captrace report" "$(head -c 120 <<<"$out")"
		fi
	fi
	"$capnet" --lab "$l" down >/dev/null
}

# ---------------------------------------------------------------------------------------------
# JSON: lib/json, the reader of capctl check and captrace report, against Debian's jansson and
# json-c on one history (README.md's dependency table cites this row).
bench_json() {
	local out ours jan jc rest
	section "JSON reader: a 400,000-event history, parsed into events (median of 3)"
	if ! out=$("$tools/json_bench" 200000 2>&1); then
		na "JSON reader" "$(head -c 120 <<<"$out")"
		return 0
	fi
	ours=$(field ours_s "${out//=/ }")
	jan=$(field jansson_s "${out//=/ }")
	jc=$(field json_c_s "${out//=/ }")
	rest=$(field check_rest_s "${out//=/ }")
	row "parse: lib/json vs jansson 2.14 (s)" "$ours" "$jan" "$(ratio_t "$ours" "$jan")"
	row "parse: lib/json vs json-c 0.16 (s)" "$ours" "$jc" "$(ratio_t "$ours" "$jc")"
	row "capctl check total: with lib/json vs with jansson (s)" \
		"$(awk -v a="$ours" -v b="$rest" 'BEGIN { printf "%.3f", a + b }')" \
		"$(awk -v a="$jan" -v b="$rest" 'BEGIN { printf "%.3f", a + b }')" \
		"$(ratio_t "$(awk -v a="$ours" -v b="$rest" 'BEGIN { print a + b }')" \
			"$(awk -v a="$jan" -v b="$rest" 'BEGIN { print a + b }')")"
}

# A lab across hosts, on emulated hosts (network and mount namespaces with sshd, reached through
# ssh only): test_hosts --bench makes them and prints its rows; BENCH_HOSTS_NODES sets the size
# of its up row (1000).
bench_hosts() {
	local out
	section "A lab across hosts: 4 emulated hosts on this machine, one clock"
	out=$(CAPNET="$capnet" BENCH_PORT_FILTER="$pfilter" "$bin/../tests/net/test_hosts" --bench \
		2>/dev/null) || true
	grep -v '^bench:' <<<"$out" >>"$tmp/rows" || true
	grep '^bench:' <<<"$out" >&2 || true
}

delay_bench() {
	[ ! -t 2 ] || echo "bench: delay line (1 ms target)" >&2
	CAPNET="$capnet" "$bin/../tests/net/test_delay" --bench 2>/dev/null | grep -v '^bench:' || true
}

if [ ! -x "$flood" ] || [ ! -x "$kvb" ] || [ ! -x "$pfilter" ] || [ ! -x "$tools/history_gen" ]; then
	echo "bench: $tools/udp_flood, kv_bench or port_filter missing (make bench-tools)" >&2
	exit 1
fi
t_start=$(now)
delay=""
: >"$tmp/rows"
[[ $only != *" lab "* ]] || run_section bench_lab_setup
[[ $only != *" sizes "* ]] || run_section bench_sizes
[[ $only != *" scale "* ]] || run_section bench_scale
[[ $only != *" memory "* ]] || run_section bench_memory
[[ $only != *" startup "* ]] || run_section bench_startup
[[ $only != *" replicas "* ]] || run_section bench_replicas
[[ $only != *" auth "* ]] || run_section bench_auth
[[ $only != *" real "* ]] || run_section bench_real_systems
[[ $only != *" maelstrom "* ]] || run_section bench_maelstrom
[[ $only != *" elle "* ]] || run_section bench_elle
[[ $only != *" captrace "* ]] || run_section bench_captrace
[[ $only != *" json "* ]] || run_section bench_json
[[ $only != *" hosts "* ]] || run_section bench_hosts
[[ $only != *" delay "* ]] || delay=$(delay_bench)

printf '\n%-58s %12s %12s %8s  %s\n' "measure" "capnet" "baseline" "ratio" "goal"
cat "$tmp/rows"
[ -z "$delay" ] || printf '\n%s\n' "$delay"
cat <<EOF

ratio: how much better capnet is, measured in the same run: baseline / capnet for times,
capnet / baseline for rates (above 1: capnet is better). Times are medians of repeated runs;
filter-cost rates are medians of short windows of one flood switched between the variants,
their ratios medians of per-round ratios, with the interquartile range (IQR) of those. Numbers
are this machine's, now ($(nproc) CPUs, $(uname -r)). tools/bench/README.md explains each row.
bench: $(secs "$t_start" "$(now)") s
EOF
