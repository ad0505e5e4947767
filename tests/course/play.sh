#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Plays a course (docs/how-it-works.md) the way a student would: every "$ " line of its
# ```console blocks is run, in order, in one shell, and what it prints must have the shape the
# course shows under it.
#
# The shape: the output is the lines shown, where "..." in a line stands for any text
# (addresses, times, ids that differ per run) and a line that is only "..." for any number of
# lines. A command shown with no output must print nothing. "(exit status N)" says the command fails with N; otherwise it
# must succeed. A command that ends in "&" runs in the background, and its output is not
# checked.
#
# It runs in a network and mount namespace of its own, with its own /run/netns, /run/capnet
# and bpffs: the course's names (red, blue, capnet-n1, ...) are then the course's alone, and
# everything it made goes away with the namespaces, whatever happens.
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
course=$(realpath "${1:-$repo/docs/how-it-works.md}")

if [ "$(id -u)" -ne 0 ]; then
	echo "course: needs root (namespaces): skipped"
	exit 77
fi

if [ "${CAPNET_COURSE_INSIDE:-}" != 1 ]; then
	for tool in unshare nsenter tcpdump ethtool bpftool; do
		command -v "$tool" >/dev/null || { echo "course: $tool is missing (make deps)"; exit 1; }
	done
	mkdir -p /run/netns /run/capnet
	CAPNET_COURSE_INSIDE=1 exec unshare --mount --net --propagation private \
		"$BASH" "$0" "$course"
fi

# Inside: a world of our own.
mount -t tmpfs course-netns /run/netns || exit 1
mount -t tmpfs course-run /run/capnet || exit 1
mount -t bpf course-bpf /sys/fs/bpf || exit 1
ip link set lo up
work=$(mktemp -d /tmp/capnet-course-XXXXXX)
# The replay section loads the objects make built, from .output/ as the top of the repository.
ln -s "$repo/.output" "$work/.output"
cd "$work" || exit 1
export PATH="$repo/.output/bin:$PATH"

finish() {
	local ns
	for ns in /run/netns/*; do
		[ -e "$ns" ] || continue
		ip netns pids "${ns##*/}" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	cd / && rm -rf "$work"
}
trap finish EXIT

# A shown line as a bash pattern: the text literal, "..." anything.
pattern_of() {
	local line=$1 out="" lit
	while :; do
		lit=${line%%...*}
		out+=$(printf '%s' "$lit" | sed 's/[][*?\\]/\\&/g')
		[ "$lit" = "$line" ] && break
		out+='*'
		line=${line#*...}
	done
	printf '%s' "$out"
}

# Whether the output has the shape shown: "" if it has, else the first difference. The shown
# lines come in runs separated by lone "..." lines; each run must appear whole, in order, the
# first at the start (unless a "..." is before it) and the last at the end (unless one is after).
shape_differs() {
	local out=$1
	shift
	local shown=("$@") got=() line pos=0 k start end seg=() last=$(($# - 1)) mismatch=""
	while IFS= read -r line; do
		got+=("${line%"${line##*[![:space:]]}"}")
	done <<<"$out"
	k=0
	while [ $k -le $last ]; do
		if [ "${shown[$k]}" = "..." ]; then
			k=$((k + 1))
			continue
		fi
		seg=()
		start=$k
		while [ $k -le $last ] && [ "${shown[$k]}" != "..." ]; do
			seg+=("${shown[$k]}")
			k=$((k + 1))
		done
		end=$k # one past the run
		if [ "$start" -eq 0 ]; then
			run_at "$pos" "${seg[@]}" || { echo "$mismatch"; return; }
			[ $end -le $last ] || [ ${#got[@]} -eq ${#seg[@]} ] ||
				{ echo "it prints more than the ${#seg[@]} lines shown"; return; }
			pos=${#seg[@]}
		elif [ $end -gt $last ]; then
			local at=$((${#got[@]} - ${#seg[@]}))
			[ $at -ge $pos ] && run_at "$at" "${seg[@]}" ||
				{ echo "it should end with: ${seg[*]}"; return; }
			pos=${#got[@]}
		else
			while [ $pos -le $((${#got[@]} - ${#seg[@]})) ] && ! run_at "$pos" "${seg[@]}"; do
				pos=$((pos + 1))
			done
			[ $pos -le $((${#got[@]} - ${#seg[@]})) ] || { echo "no lines like: ${seg[0]}"; return; }
			pos=$((pos + ${#seg[@]}))
		fi
	done
}

# Whether the lines shown match got[], the output, from line $1 on.
run_at() {
	local at=$1 i=0 pat
	shift
	for line in "$@"; do
		mismatch="line $((at + i + 1)) should be: $line"
		[ $((at + i)) -lt ${#got[@]} ] || return 1
		pat=$(pattern_of "$line")
		# shellcheck disable=SC2053 # a pattern, on purpose
		[[ ${got[$((at + i))]} == $pat ]] || return 1
		i=$((i + 1))
	done
}

commands=0 failures=0
cmd="" expected=() where=0

check() {
	local out status want=0 line missing="" shown=()
	[ -n "$cmd" ] || return 0
	commands=$((commands + 1))
	# In this shell, not a subshell: what one command starts (a capture in the background, a
	# variable) the next ones see.
	# A file per command: a job left in the background writes to its own.
	eval "$cmd" >"$work/.output-of-command-$commands" 2>&1 </dev/null
	status=$?
	out=$(<"$work/.output-of-command-$commands")
	# Started in the background: what it prints comes later, and is not the course's to show.
	[[ $cmd =~ \&[[:space:]]*$ ]] && { cmd=""; expected=(); return 0; }
	for line in "${expected[@]}"; do
		if [[ $line =~ ^\(exit\ status\ ([0-9]+)\)$ ]]; then
			want=${BASH_REMATCH[1]}
		else
			shown+=("$line")
		fi
	done
	if [ "$status" -ne "$want" ]; then
		missing="exit status $status, not $want"
	elif [ ${#shown[@]} -eq 0 ]; then
		[ -z "$out" ] || missing="it should print nothing"
	else
		missing=$(shape_differs "$out" "${shown[@]}")
	fi
	if [ -n "$missing" ]; then
		failures=$((failures + 1))
		printf 'course: line %d: $ %s\n  %s\n  it printed:\n%s\n' "$where" "$cmd" \
			"$missing" "$(sed 's/^/    | /' <<<"$out")"
	fi
	cmd=""
	expected=()
}

in_block=0 continued=0 n=0
while IFS= read -r line; do
	n=$((n + 1))
	if [ $in_block -eq 0 ]; then
		[ "$line" = '```console' ] && in_block=1
		continue
	fi
	if [ "$line" = '```' ]; then
		check
		in_block=0
		continue
	fi
	if [ $continued -eq 1 ]; then
		cmd+=$'\n'"$line"
	elif [ "${line:0:2}" = '$ ' ]; then
		check
		cmd=${line:2}
		where=$n
	elif [ -z "$cmd" ]; then
		echo "course: line $n: output before any command: $line"
		failures=$((failures + 1))
		continue
	else
		line=${line%"${line##*[![:space:]]}"}
		expected+=("$line")
	fi
	[ "${line: -1}" = '\' ] && continued=1 || continued=0
done <"$course"
check
wait

left=$(ip netns list)
if [ -n "$left" ]; then
	echo "course: namespaces left at its end: $left"
	failures=$((failures + 1))
fi
echo "course: $commands commands, $failures failed"
[ $commands -gt 0 ] && [ $failures -eq 0 ]
