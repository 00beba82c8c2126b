#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Wall time of the cow suite on the running kernel: the whole collection
# through run_tests.sh, then each binary alone, REPEAT times (default 3),
# printing min/median/max seconds. A benchmark, not a test: it never fails
# on time, it only reports.
#
# Usage: bench/cow.sh [REPEAT]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
repeat=${1:-3}
make -s -C "$top" >&2

stats() {	# seconds... -> "min median max"
	printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f", a[1], a[int((NR+1)/2)], a[NR]}'
}

now() { date +%s.%N; }

run_times() {
	local t=() i s
	for ((i = 0; i < repeat; i++)); do
		s=$(now)
		"$@" > /dev/null 2>&1 || true
		t+=("$(awk -v a="$s" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}')")
	done
	stats "${t[@]}"
}

printf '# kernel %s, %s cores, %d runs each\n' "$(uname -r)" "$(nproc)" "$repeat"
printf '%-28s %8s %8s %8s\n' "what" "min" "median" "max"
read -r mn md mx <<< "$(run_times "$top/run_tests.sh" --no-build -c cow)"
printf '%-28s %8s %8s %8s\n' "run_tests.sh -c cow" "$mn" "$md" "$mx"
while read -r b; do
	case "$b" in cow/*) ;; *) continue ;; esac
	read -r mn md mx <<< "$(run_times "$top/$b")"
	printf '%-28s %8s %8s %8s\n' "$b" "$mn" "$md" "$mx"
done < "$top/tests.list"
