#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/soak.sh - run the suite many times and print every verdict that
# differed between runs of the same configuration (a "flip"). A verdict is
# ok, XFAIL, SKIP, not ok or XPASS of one test; a SKIP with another reason
# is the same verdict.
#
# Usage: bench/soak.sh [options] [-- run_tests.sh arguments]
#   -n N        native runs as the current user (root: default 50)
#   -u N        native runs as an unprivileged user (default 20; root only)
#   -k N        VM runs per kernel (default 10)
#   --kernels "K..."   VM kernels (default "debian-6.1 debian-6.12")
#   --load      keep the other core busy (a CPU hog) and a quarter of the
#               available memory in use (a memory hog) during native runs
#   --user U    the unprivileged user (default nobody)
#   --keep DIR  keep every run's KTAP stream in DIR
#
# Prints, per configuration: runs, tests seen, wall time min/median/max,
# and each flipped test with how often each verdict came. Exit 0 when no
# test flipped, 1 when one did, 2 on bad usage.

set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
native=50 unpriv=20 vmruns=10 kernels="debian-6.1 debian-6.12" load=0 user=nobody keep=""
args=()

usage() { sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "soak.sh: $*" >&2; usage >&2; exit 2; }
count() { [[ ${2:-} =~ ^[0-9]+$ ]] || die_usage "$1 needs a number"; }

while [ $# -gt 0 ]; do
	case $1 in
	-n) count "$1" "${2:-}"; native=$2; shift ;;
	-u) count "$1" "${2:-}"; unpriv=$2; shift ;;
	-k) count "$1" "${2:-}"; vmruns=$2; shift ;;
	--kernels) [ $# -ge 2 ] || die_usage "--kernels needs a list"; kernels=$2; shift ;;
	--load) load=1 ;;
	--user) [ $# -ge 2 ] || die_usage "--user needs a name"; user=$2; shift ;;
	--keep) [ $# -ge 2 ] || die_usage "--keep needs a directory"; keep=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; args=("$@"); break ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || unpriv=0
id "$user" >/dev/null 2>&1 || die_usage "no user '$user'"

work=$(mktemp -d "${TMPDIR:-/tmp}/iopin-soak.XXXXXX") || exit 2
hogs=()
cleanup() {
	[ ${#hogs[@]} -gt 0 ] && kill "${hogs[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ -z "$keep" ] || mkdir -p "$keep" || exit 2

make -s -C "$top" >&2 || exit 2
# The unprivileged user runs an installed copy it can read.
inst=$work/install
make -s -C "$top" install INSTALL_PATH="$inst" >/dev/null || exit 2
chmod -R a+rX "$work"

start_load() {
	local kb
	# A CPU hog on every core but one, and a memory hog holding a quarter
	# of MemAvailable, touching it now and then so that it stays resident.
	for ((i = 1; i < $(nproc); i++)); do
		(while :; do :; done) & hogs+=($!)
	done
	kb=$(awk '/^MemAvailable:/ {print int($2 / 4)}' /proc/meminfo)
	python3 -c "
import time
b = bytearray($kb * 1024)
while True:
    for i in range(0, len(b), 4096):
        b[i] = (b[i] + 1) & 255
    time.sleep(1)
" & hogs+=($!)
	echo "# load: $(( $(nproc) - 1 )) CPU hog(s), memory hog of $((kb / 1024)) MiB" >&2
}

# verdicts KTAP: "binary:test verdict" for each nested result.
verdicts() {
	awk '
	/^    (not ok|ok) [0-9]+ / {
		line = $0; sub(/^    /, "", line)
		v = (line ~ /^not ok/) ? "not-ok" : "ok"
		if (line ~ / # XFAIL flaky/) v = "XFAIL-flaky"
		else if (line ~ / # XFAIL/) v = "XFAIL"
		else if (line ~ / # XPASS/) v = "XPASS"
		else if (line ~ / # SKIP/) v = "SKIP"
		sub(/^(not ok|ok) [0-9]+ /, "", line); sub(/ # .*$/, "", line)
		pending[++n] = line " " v
		next
	}
	/^(not ok|ok) [0-9]+ / {
		bin = $0; sub(/^(not ok|ok) [0-9]+ /, "", bin); sub(/ # .*$/, "", bin)
		for (i = 1; i <= n; i++) print bin ":" pending[i]
		n = 0
	}' "$1"
}

stats() {	# seconds... -> "min median max"
	printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f %.1f", a[1], a[int((NR+1)/2)], a[NR]}'
}

flips_total=0
# soak NAME RUNS CMD...: run CMD RUNS times, report flips.
soak() {
	local name=$1 runs=$2 i s times=() out res
	shift 2
	[ "$runs" -gt 0 ] || return 0
	res=$work/$name.verdicts
	: > "$res"
	for ((i = 1; i <= runs; i++)); do
		out=$work/$name.$i.ktap
		s=$(date +%s.%N)
		"$@" > "$out" 2>&1
		times+=("$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')")
		verdicts "$out" >> "$res"
		[ -z "$keep" ] || cp "$out" "$keep/"
		printf '\r%s: run %d/%d' "$name" "$i" "$runs" >&2
	done
	printf '\n' >&2
	read -r mn md mx <<< "$(stats "${times[@]}")"
	local ntests nflips
	ntests=$(awk '{print $1}' "$res" | sort -u | wc -l)
	# test -> "verdict xcount ..." for tests with more than one verdict
	# A test whose verdicts are only ok and XFAIL of a 'flaky' expectation
	# is a declared flake (expectations/ names the evidence): listed apart.
	awk '{c[$1" "$2]++; t[$1]} END {for (k in c) {split(k, a, " "); v[a[1]] = v[a[1]] " " a[2] "x" c[k]; n[a[1]]++
		if (a[2] != "ok" && a[2] != "XFAIL-flaky") other[a[1]] = 1}
		for (x in n) if (n[x] > 1) print (other[x] ? "flip" : "flaky"), x v[x]}' "$res" | sort > "$work/$name.flips"
	nflips=$(grep -c '^flip ' "$work/$name.flips")
	printf '%-28s runs %3d  tests %4d  flips %3d  declared flaky %d  wall s min/median/max %s/%s/%s\n' \
		"$name" "$runs" "$ntests" "$nflips" "$(grep -c '^flaky ' "$work/$name.flips")" "$mn" "$md" "$mx"
	sed 's/^\(flip\|flaky\) /    \1: /' "$work/$name.flips"
	flips_total=$((flips_total + nflips))
}

echo "# soak on $(uname -r), $(nproc) cores, $(date -u +%FT%TZ)${args[*]:+, run_tests.sh ${args[*]}}"
[ $load = 1 ] && start_load
soak "native-$(id -un)$([ $load = 1 ] && echo -load)" "$native" \
	"$top/run_tests.sh" --no-build "${args[@]}"
soak "native-$user$([ $load = 1 ] && echo -load)" "$unpriv" \
	setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
	env HOME=/ "$inst/run_tests.sh" "${args[@]}"
if [ ${#hogs[@]} -gt 0 ]; then
	kill "${hogs[@]}" 2>/dev/null
	wait "${hogs[@]}" 2>/dev/null
	hogs=()
fi
for k in $kernels; do
	[ "$vmruns" -gt 0 ] || break
	soak "vm-$k" "$vmruns" "$top/run_tests.sh" --vm "$k" "${args[@]}"
done
echo "# flipped tests in all: $flips_total"
[ "$flips_total" = 0 ]
