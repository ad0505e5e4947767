#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs tests one after another and ends with one summary line. A test is a program, or a
# program and its arguments in one word ("tests/man/check.sh .output/bin"); it exits 0 on
# success, 77 when it skipped everything (it says why), anything else on failure.
#
# With TEST_SUMMARY set to a file, each result is also appended there, so that `make test`
# ends with one summary of every check it ran: `run-tests.sh --summary FILE` prints it and
# fails if anything did.
set -u

if [ "${1:-}" = --summary ]; then
	file=$2
	[ -s "$file" ] || { echo "test: nothing ran"; exit 1; }
	awk '
		$2 == 0 { passed++ } $2 == 77 { skipped++ }
		$2 != 0 && $2 != 77 { failed++; names = names "\n  " $1 ": " $3 " (exit " $2 ")" }
		END {
			if (failed) print "FAILED:" names
			printf "test: %d passed, %d failed, %d skipped\n", passed, failed, skipped
			exit failed ? 1 : 0
		}' "$file"
	exit
fi

kind=$1
shift
passed=0 failed=0 skipped=0 failures=()
for t in "$@"; do
	prog=${t%% *}
	name=$(basename "$prog")
	# Scripts share names (check.sh): they go by their folder too.
	case $prog in *.sh) name=$(basename "$(dirname "$prog")")/$name ;; esac
	echo "=== $kind: $name"
	# shellcheck disable=SC2086 # a test's arguments are words of its entry
	$t
	rc=$?
	case $rc in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); failures+=("$name (exit $rc)") ;;
	esac
	[ -z "${TEST_SUMMARY:-}" ] || echo "$kind $rc $name" >>"$TEST_SUMMARY"
done
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
echo "$kind: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
