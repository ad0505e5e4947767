#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs test programs one after another and ends with one summary line. A program exits 0 on
# success, 77 when it skipped everything (it says why), anything else on failure.
set -u
kind=$1
shift
passed=0 failed=0 skipped=0 failures=()
for t in "$@"; do
	echo "=== $kind: $(basename "$t")"
	"$t"
	rc=$?
	case $rc in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); failures+=("$(basename "$t") (exit $rc)") ;;
	esac
done
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
echo "$kind: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
