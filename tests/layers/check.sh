#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The layering of the code, checked on the built objects (docs/hacking.md draws it):
#  - each room calls only the rooms below it in ROOMS: lab never calls a command, the filter
#    never calls a service, a checker never calls capnet;
#  - pure code (PURE: codecs, Raft, Dynamo, checkers, specs, schedules, placement, the
#    two-phase switch) opens nothing, prints nothing, reads no clock, sleeps not, reads no
#    environment and never exits, neither itself nor through what it calls (lib/monotonic is
#    a clock too), so unit tests and simulations drive it alone. Writing to
#    or reading from a stream its caller gives it is allowed.
# A symbol a room takes from a room it may not call is printed with both objects.
# Usage: tests/layers/check.sh OBJDIR (the build's .output/obj).
set -u
export LC_ALL=C
obj=${1:?usage: check.sh OBJDIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$obj" || exit 1

# room | its objects (globs, relative to OBJDIR) | the rooms it may call. An object is in the
# last room that names it: wire (the shims' wire tag) and pairing (captrace's pure pairing of
# messages, which capnet maelstrom uses too) are layers below the folders that hold them.
ROOMS='
lib       | lib/*.o                                      |
policy    | netem/policy/*.o                             | lib
script    | netem/script/*.o                             | lib policy
check     | tools/check/*.o                              | lib
node      | node/*.o                                     | lib
explain   | netem/explain.o                              | lib
lab       | netem/lab/*.o                                | lib policy explain
filter    | netem/filter/*.o                             | lib policy explain lab
delay     | netem/delay/*.o                              | lib policy explain lab filter
labcheck  | netem/lab/lab_open.o netem/lab/fault_log.o   | lib policy explain lab filter delay
hosts     | netem/hosts/*.o                              | lib policy explain lab
svc       | netem/svc/*.o                                | lib policy explain lab labcheck
cli       | netem/cli.o                                  | lib policy explain lab labcheck filter
cmd       | netem/cmd/*.o                                | lib policy script explain lab labcheck filter delay hosts svc cli node
maelstrom | netem/maelstrom/*.o                          | lib policy script check explain lab labcheck filter delay cli cmd wire pairing
capctl    | tools/capctl/*.o                             | lib check node script lab labcheck filter svc hosts
captrace  | tools/captrace/*.o                           | lib policy node lab labcheck filter wire pairing hosts
wire      | netem/maelstrom/wire.o                       | lib
pairing   | tools/captrace/trace_pair.o tools/captrace/trace_packet.o | lib node wire
'
# Programs' mains call every room; they are not a room.
MAINS='netem/capnet.o node/capnode.o tools/capctl/capctl.o tools/captrace/captrace.o'

PURE='netem/policy/*.o netem/script/*.o tools/check/*.o
node/raft.o node/raft_wire.o node/proto.o node/proto_auth.o node/dynamo*.o node/kv.o
node/bank.o node/app.o node/ap_log.o node/cp_admit.o node/crc32c.o
netem/hosts/hosts.o netem/hosts/placement.o netem/hosts/switch_plan.o
netem/hosts/clock_bound.o netem/hosts/lab_hosts.o netem/maelstrom/wire.o
tools/captrace/trace_pair.o tools/captrace/trace_packet.o'
IMPURE='^(open|open64|openat|creat|fopen|fopen64|freopen|opendir|socket|connect|bind|accept|send|sendto|sendmsg|recv|recvfrom|recvmsg|read|write|pread|pwrite|ioctl|mmap|unlink|rename|mkdir|rmdir|stat|fstat|lstat|printf|vprintf|puts|putchar|perror|stdout|stderr|stdin|clock_gettime|gettimeofday|time|nanosleep|usleep|sleep|poll|select|epoll_wait|getenv|secure_getenv|exit|_exit|abort|fork|system|execv|execvp|getrandom|rand|random|srand)$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# Which room each object is in: the last line of ROOMS that names it.
declare -A room_of
while IFS='|' read -r room globs _; do
	room=$(echo "$room" | tr -d ' ')
	[ -n "$room" ] || continue
	for o in $globs; do
		[ -e "$o" ] && [ -e "$src/${o%.o}.c" ] && room_of[$o]=$room
	done
done <<<"$ROOMS"
for m in $MAINS; do unset "room_of[$m]"; done
[ ${#room_of[@]} -gt 0 ] || { echo "layers: no objects in $obj (build first)"; exit 1; }

# Every defined global symbol, with its object.
for o in "${!room_of[@]}"; do
	nm --defined-only -g "$o" | awk -v o="$o" 'NF == 3 { print $3, o }'
done | sort >"$tmp/defined"

while IFS='|' read -r room _ may; do
	room=$(echo "$room" | tr -d ' ')
	[ -n "$room" ] || continue
	for o in "${!room_of[@]}"; do
		[ "${room_of[$o]}" = "$room" ] || continue
		nm -u "$o" | awk '{ print $2 }' | sort -u >"$tmp/undefined"
		while read -r sym from; do
			to=${room_of[$from]}
			[ "$to" = "$room" ] && continue
			case " $may " in *" $to "*) continue ;; esac
			echo "layers: $o ($room) calls $sym of $from ($to), which $room may not call"
			fail=1
		done < <(join "$tmp/undefined" "$tmp/defined")
	done
done <<<"$ROOMS"

# Objects that do I/O, directly or through what they call: pure code calling
# monotonic_ns() reads a clock as surely as calling clock_gettime().
for o in "${!room_of[@]}"; do
	nm -u "$o" | awk '{ print $2 }' | sort -u >"$tmp/undefined"
	grep -E "$IMPURE" "$tmp/undefined" | awk -v o="$o" '{ print o, "-", $1 }'
	join "$tmp/undefined" "$tmp/defined" | awk -v o="$o" '{ print o, $2, $1 }'
done >"$tmp/calls"
declare -A io_of
while read -r o why; do io_of[$o]=$why; done < <(awk '
	{ caller[NR] = $1; callee[NR] = $2; sym[NR] = $3 }
	$2 == "-" && !($1 in io) { io[$1] = $3 }
	END {
		do {
			grown = 0
			for (i = 1; i <= NR; i++)
				if (callee[i] in io && !(caller[i] in io)) {
					io[caller[i]] = sym[i] " (of " callee[i] ")"
					grown = 1
				}
		} while (grown)
		for (o in io) print o, io[o]
	}' "$tmp/calls")

declare -A pure
for o in $PURE; do pure[$o]=1; done
for o in $PURE; do
	[ -n "${room_of[$o]:-}" ] || continue
	for sym in $(nm -u "$o" | awk '{ print $2 }' | grep -E "$IMPURE"); do
		echo "layers: $o is pure code, yet calls $sym"
		fail=1
	done
	while read -r _ from sym; do
		# Pure code it calls is named on its own line, with the culprit.
		[ -n "${io_of[$from]:-}" ] && [ -z "${pure[$from]:-}" ] || continue
		echo "layers: $o is pure code, yet calls $sym of $from, which calls ${io_of[$from]}"
		fail=1
	done < <(awk -v o="$o" '$1 == o && $2 != "-"' "$tmp/calls")
done

[ $fail -eq 0 ] && echo "layers: ${#room_of[@]} objects in their rooms; pure code calls no I/O"
exit $fail
