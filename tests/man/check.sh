#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every subcommand and every option a program's --help lists is in its man page (docs/man/),
# written as scdoc's bold (*word*), so that a page cannot fall behind its program; and the
# bash completions (completion/) parse and know capnet's subcommands.
#   tests/man/check.sh BIN_DIR
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
for prog in capnet capctl captrace capnode; do
	page=$(ls "$root"/docs/man/"$prog".[18].scd)
	help=$("$bin/$prog" --help 2>&1 || true)
	# Subcommands: a line of two spaces, then a lowercase word and a blank.
	words=$(sed -nE 's/^  ([a-z][a-z]+) .*/\1/p' <<<"$help")
	# Options: -x or --word, after a blank or a bracket, bar, comma or parenthesis.
	words+=" "$(grep -oE -- '(^|[][ |(,])-{1,2}[a-zA-Z0-9][a-zA-Z0-9-]*' <<<"$help" |
		sed -E 's/^[][ |(,]//')
	n=0
	for w in $(tr ' ' '\n' <<<"$words" | sort -u); do
		n=$((n + 1))
		if ! grep -qF -- "*$w*" "$page"; then
			echo "man: $prog --help lists $w, which $(basename "$page") does not document" >&2
			fail=1
		fi
	done
	echo "man: $prog: $n subcommands and options, each in $(basename "$page")"
done
# The completions parse, and offer every subcommand capnet's --help lists.
for prog in capnet capctl captrace capnode; do
	bash -n "$root/completion/$prog" || fail=1
done
for cmd in $(sed -nE 's/^  ([a-z][a-z]+) .*/\1/p' <<<"$("$bin/capnet" --help 2>&1 || true)"); do
	if ! grep -qw -- "$cmd" "$root/completion/capnet"; then
		echo "completion: capnet $cmd is not offered" >&2
		fail=1
	fi
done
exit $fail
