#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A bounded run of each fuzzer: SECONDS each, from its starting corpus in tests/fuzz/corpus/<name>/.
# With TEST_SUMMARY set, each result is appended there too (tests/run-tests.sh --summary).
set -u
seconds=$1
shift
rc=0
for f in "$@"; do
	name=$(basename "$f")
	corpus=$(dirname "$f")/corpus-$name
	mkdir -p "$corpus"
	inputs=tests/fuzz/corpus/$name
	[ -d "$inputs" ] || inputs=
	echo "=== fuzz: $name for ${seconds}s"
	if ! "$f" -max_total_time="$seconds" -print_final_stats=0 "$corpus" $inputs 2>"$corpus.log"; then
		tail -n 40 "$corpus.log"
		echo "fuzz: $name FAILED (crash input saved beside it)"
		rc=1
		[ -z "${TEST_SUMMARY:-}" ] || echo "fuzz 1 $name" >>"$TEST_SUMMARY"
	else
		grep -E '^(Done|#[0-9]+ +DONE)' "$corpus.log" | tail -n 1
		[ -z "${TEST_SUMMARY:-}" ] || echo "fuzz 0 $name" >>"$TEST_SUMMARY"
	fi
done
exit $rc
