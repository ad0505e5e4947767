#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: capnet's five-node story (README.md), CAP and PACELC, on a real lab. Every claim the demo
# makes is checked as it is made; a false claim stops the demo with a non-zero exit. It leaves
# an HTML report of the messages the partition cost.
set -euo pipefail
bin=$(cd "${1:-.output/bin}" && pwd)
out=${DEMO_OUT:-$PWD/demo-report}
lab=demo$$
export CAPNET_LAB=$lab
PATH=$bin:$PATH

cleanup() {
	[ -z "${trace_pid:-}" ] || kill -INT "$trace_pid" 2>/dev/null || true
	capnet down >/dev/null 2>&1 || true
}
trap cleanup EXIT

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*" | fold -s -w 96; }
show() { printf '  $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }
ok() { printf '  \033[32mok\033[0m  %s\n' "$*"; }
false_claim() { printf '  \033[31mFALSE\033[0m  %s\n' "$*"; exit 1; }
now_ms() { date +%s%3N; }
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1; }

# capctl with its output shown, its exit status returned.
ask() {
	local rc=0 text
	text=$(capctl "$@" 2>&1) || rc=$?
	printf '  $ capctl %s\n' "$*"
	printf '%s\n' "$text" | sed 's/^/    /'
	last_output=$text
	return $rc
}

# A request at ALL needs every replica seen, which the failure detectors of a busy machine may
# take a while to say after a start or a heal: a refusal (exit 3, UNAVAILABLE) changes nothing,
# so it is asked again, for 15 s at most, and shown once.
ask_all() {
	local i rc=3
	for i in $(seq 1 150); do
		rc=0
		last_output=$(capctl "$@" 2>&1) || rc=$?
		[ $rc -eq 3 ] || break
		sleep 0.1
	done
	printf '  $ capctl %s\n' "$*"
	printf '%s\n' "$last_output" | sed 's/^/    /'
	return $rc
}

leader_of() { # the leader node 1..5 agree on, or empty
	local i role
	for i in 1 2 3 4 5; do
		role=$(capctl --json --timeout 300 -n "$i" status 2>/dev/null | json_field role || true)
		[ "$role" = leader ] && { echo "$i"; return 0; }
	done
	return 1
}
wait_leader() {
	local i
	for i in $(seq 1 100); do leader_of >/dev/null && return 0; sleep 0.1; done
	false_claim "a leader is elected within 10 s"
}
# Retries while the node still sees itself cut off (its reachability is measured, not assumed).
settled() {
	local i rc
	for i in $(seq 1 50); do
		rc=0; capctl "$@" >/dev/null 2>&1 || rc=$?
		[ $rc -ne 3 ] && return 0
		sleep 0.1
	done
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it builds network namespaces): sudo make demo" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$out"

bold "capnet: the CAP theorem on a real network"
say "Five replicas, each in its own network namespace, joined by a Linux bridge. Between them, an eBPF program at every switch port decides for every frame whether it passes. No simulation: real sockets, real packets, real drops."

bold "1. The lab"
show capnet up -n 5
show capnet start --mode cp
wait_leader
leader=$(leader_of)
ok "five Raft replicas elected node $leader as leader"
capctl -n 1 put x 1 >/dev/null
ask -n 1 put x 1 || false_claim "a write through node 1 succeeds"
ok "a write through node 1 succeeds: the network is healthy"

bold "2. CP: the partition {1,2} | {3,4,5}"
captrace record -o "$out/trace" >"$out/record.log" 2>&1 &
trace_pid=$!
for i in $(seq 1 50); do grep -q recording "$out/record.log" && break; sleep 0.1; done
show capnet partition 1,2 3-5
sleep 1
t0=$(now_ms)
rc=0; ask -n 1 put x 2 || rc=$?
took=$(( $(now_ms) - t0 ))
[ $rc -eq 3 ] && grep -q "no quorum (2/5 reachable, 3 needed)" <<<"$last_output" ||
	false_claim "the minority refuses with the quorum message"
ok "the minority refuses in ${took} ms: an HTTP service's \"503 Service Unavailable\", with its reason"
t0=$(now_ms)
ask -n 3 put x 2 || false_claim "the majority accepts a write"
took=$(( $(now_ms) - t0 ))
majority_leader=""
for i in 3 4 5; do
	[ "$(capctl --json --timeout 300 -n "$i" status 2>/dev/null | json_field role || true)" = leader ] && majority_leader=$i
done
[ -n "$majority_leader" ] || false_claim "the majority has a leader of its own"
if [ "$leader" -le 2 ]; then
	ok "the majority accepts the write in ${took} ms: it elected node $majority_leader when node $leader was cut off"
else
	ok "the majority accepts the write in ${took} ms: node $majority_leader still leads it"
fi
say "  Consistency was chosen over availability: nodes 1 and 2 would rather refuse than accept a write they cannot make durable on a majority."

bold "3. Heal: the minority catches up"
show capnet heal
wait_leader
settled -n 1 get x
ask -n 1 get x || false_claim "node 1 answers after the heal"
[ "$last_output" = 2 ] || false_claim "node 1 reads the majority's value 2"
ok "node 1 reads 2, the value written while it was cut off: one linearizable history"

bold "4. The bank in CP mode: money is never created or lost"
ask -n 1 open alice 100 >/dev/null || false_claim "open alice"
ask -n 2 open bob 100 >/dev/null || false_claim "open bob"
show capnet partition 1,2 3-5
sleep 1
rc=0; ask -n 1 transfer alice bob 30 || rc=$?
[ $rc -eq 3 ] || false_claim "a transfer on the minority side is refused"
ok "a transfer through the minority is refused"
ask -n 4 transfer alice bob 30 || false_claim "a transfer on the majority side succeeds"
ask -n 5 transfer alice bob 80 && false_claim "an overdraft is refused" || true
grep -q INSUFFICIENT_FUNDS <<<"$last_output" || false_claim "an overdraft is refused as INSUFFICIENT_FUNDS"
ok "an overdraft is refused: alice has 70"
show capnet heal
wait_leader
for i in 1 2 3 4 5; do
	settled -n "$i" balance
	total=$(capctl --json -n "$i" balance | json_field amount)
	[ "$total" = 200 ] || false_claim "node $i sees 200 in the bank"
done
ok "every node sees the same 200 in total, alice 70 and bob 130"

bold "5. What the partition cost, message by message"
kill -INT "$trace_pid" 2>/dev/null || true
wait "$trace_pid" || true
trace_pid=
captrace report "$out/trace" --html "$out/report.html" --svg "$out/report.svg" >"$out/report.txt" || false_claim "captrace reports the run"
captrace --json report "$out/trace" >"$out/report.json"
lost=$(tr ',' '\n' <"$out/report.json" | grep -c '"cause":"partition"' || true)
unexplained=$(tr ',' '\n' <"$out/report.json" | grep -c '"cause":"unexplained"' || true)
sed -n '1,12p' "$out/report.txt" | sed 's/^/    /'
[ "$lost" -gt 0 ] || false_claim "messages were lost to the partition"
[ "$unexplained" -eq 0 ] || false_claim "every lost message is explained"
ok "$lost messages lost to the partition, each matched to a drop of the filter; none unexplained"

bold "6. A load across a partition, as a picture"
cat >"$out/load.scn" <<SCN
load --nodes 1-5 --clients 5 --duration 4s --workload register --keys 2 --history $out/load.jsonl
at 1s partition 1,2 3-5
at 2500ms heal
wait
check register $out/load.jsonl
SCN
capnet run "$out/load.scn" >"$out/load.txt" 2>&1 || { sed 's/^/    /' "$out/load.txt"; false_claim "five clients across a partition and a heal leave a linearizable history"; }
tail -n 1 "$out/load.txt" | sed 's/^/    /'
show capctl report "$out/load.jsonl" --model register --html "$out/history.html" --svg-dir "$out/history"
ok "every operation's latency by outcome, the throughput and the partition as a band: $out/history.html"

ap_available=1
capnet stop >/dev/null
if ! capnet start --mode ap >/dev/null 2>"$out/ap-start.log"; then
	ap_available=0
fi
if [ $ap_available -eq 1 ]; then
	bold "7. AP: the same split, availability chosen instead"
	sleep 1
	ask_all --consistency all -n 1 put y 1 || false_claim "a write at ALL succeeds while healthy"
	show capnet partition 1,2 3-5
	sleep 1
	ask --consistency one -n 1 put y left || false_claim "the minority accepts a write at ONE"
	ask --consistency one -n 3 put y right || false_claim "the majority accepts a write at ONE"
	ok "both sides accept writes: availability kept, consistency given up"
	ask --consistency one -n 2 get y || false_claim "a read on the minority answers"
	[ "$last_output" != right ] || false_claim "the minority's read is stale"
	ok "node 2 reads \"$last_output\": stale, it cannot know the majority wrote \"right\""
	rc=0; ask --consistency all -n 3 put y all || rc=$?
	[ $rc -eq 3 ] || false_claim "a write at ALL is refused across the split"
	ok "a write at ALL is refused: it needs every replica"
	show capnet heal
	t0=$(now_ms)
	converged=0
	for i in $(seq 1 150); do
		vals=$(for n in 1 2 3 4 5; do capctl --consistency one -n "$n" get y 2>/dev/null | head -n 1; done | sort -u | wc -l)
		[ "$vals" -eq 1 ] && { converged=1; break; }
		sleep 0.1
	done
	[ $converged -eq 1 ] || false_claim "every replica converges within 15 s of the heal"
	ok "every replica holds the same value $(( $(now_ms) - t0 )) ms after the heal (last writer wins, by hybrid logical clock)"

	bold "8. The bank in AP mode: available during the split, conserved after it"
	ask_all --consistency all -n 1 open carol 100 >/dev/null || false_claim "open carol"
	ask_all --consistency all -n 1 open dave 0 >/dev/null || false_claim "open dave"
	show capnet partition 1,2 3-5
	sleep 1
	ask --consistency one -n 1 transfer carol dave 80 || false_claim "the minority accepts a transfer"
	ask --consistency one -n 4 transfer carol dave 80 || false_claim "the majority accepts a transfer"
	ok "both sides moved 80 out of carol's 100: each side saw enough money"
	show capnet heal
	for i in $(seq 1 150); do
		totals=$(for n in 1 2 3 4 5; do capctl --json -n "$n" balance carol 2>/dev/null | json_field amount; done | sort -u)
		[ "$totals" = -60 ] && break
		sleep 0.1
	done
	[ "$totals" = -60 ] || false_claim "every replica merges both transfers: carol at -60"
	for n in 1 2 3 4 5; do
		total=$(capctl --json -n "$n" balance 2>/dev/null | json_field amount)
		[ "$total" = 100 ] || false_claim "node $n holds 100 in total after convergence"
	done
	ask -n 2 balance || true
	grep -qi overdraw <<<"$last_output" || false_claim "the overdraft is reported, not hidden"
	ok "money is conserved on every replica (100 in total), and carol's overdraft of 60 is reported: the price of availability"
fi

bold "9. PACELC: even without a partition, consistency costs latency"
# One capctl load per mode, one client, timed per operation inside the load: process start-up and
# a busy machine add to both sides alike; only the network's round trip is CP's alone. With
# 2 ms each way on every link, a CP operation waits at least 4 ms for a majority to answer (a
# floor no load can lower); an AP write at ONE is answered by the node's own replica.
capnet stop >/dev/null
show capnet link all all --delay 2ms
capnet start --mode cp >/dev/null
wait_leader
# p50 and p99 of the ok operations of one load, in ms: "P50 P99".
latencies() {
	local json
	json=$(capctl --json load --nodes 1 --clients 1 --duration 3 --history "$out/pacelc-$1.jsonl" "${@:2}" 2>&1) ||
		false_claim "a load of the $1 lab runs ($json)"
	printf '%s %s\n' "$(json_field p50 <<<"$json")" "$(json_field p99 <<<"$json")"
}
read -r cp_p50 cp_p99 < <(latencies cp)
awk -v c="$cp_p50" 'BEGIN { exit !(c >= 4) }' || false_claim "every CP operation waits the 4 ms round trip to a majority (p50 ${cp_p50} ms)"
if [ $ap_available -eq 1 ]; then
	capnet stop >/dev/null
	capnet start --mode ap >/dev/null
	sleep 1
	read -r ap_p50 ap_p99 < <(latencies ap --consistency one)
	say "  Operations through node 1 with 2 ms each way between every pair of nodes, one capctl load each: CP (Raft, a majority must answer) p50 ${cp_p50} ms, p99 ${cp_p99} ms; AP at ONE (the local replica answers) p50 ${ap_p50} ms, p99 ${ap_p99} ms."
	awk -v c="$cp_p50" -v a="$ap_p50" 'BEGIN { exit !(c > a) }' || false_claim "CP operations are slower than AP writes at ONE (p50 ${cp_p50} ms against ${ap_p50} ms)"
	ok "else (no partition), latency or consistency: CP paid at least a 4 ms round trip per operation, AP at ONE did not"
else
	say "  CP operations through node 1 with 2 ms each way between every pair of nodes: p50 ${cp_p50} ms, p99 ${cp_p99} ms: each waits for a majority."
	ok "CP paid at least the 4 ms round trip to a majority per operation"
fi
show capnet heal --delays --links

bold "Done"
show capnet down
trap - EXIT
say "Every claim above was checked against the running system. The lost-message report is in $out/report.html; the load's history, latency and throughput with the partition shaded, in $out/history.html."
