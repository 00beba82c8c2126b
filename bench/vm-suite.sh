#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/vm-suite.sh [--from KTAP]... [KERNEL...] - where a VM run's time goes.
#
# For each KERNEL (default: the builds vm/kernels.lock pins) runs the whole
# suite in the VM (./run_tests.sh --vm KERNEL), time-stamping every line as
# it streams, and prints
#   boot      host start to the guest's /init, and /init to the suite
#   binary    wall time of each binary (from its "# running" line to the
#             next), the sum of its tests' own "# time:" lines, its count of
#             tests and skips
#   total     the whole run
# sorted by cost, largest first: what to attack to make `make check` fit.
# --from FILE reads a time-stamped stream kept by an earlier run
# (IOPIN_BENCH_KEEP=DIR keeps them as DIR/KERNEL.tktap) instead of booting.
# Extra arguments for run_tests.sh can be given in IOPIN_BENCH_ARGS.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
froms=()
while [ $# -gt 0 ]; do
	case $1 in
	--from) [ -r "${2:-}" ] || { echo "vm-suite: --from needs a file" >&2; exit 2; }; froms+=("$2"); shift ;;
	-h|--help) sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
	shift
done
kernels=("$@")
if [ ${#froms[@]} = 0 ] && [ ${#kernels[@]} = 0 ]; then
	for n in $(vm/kernels.sh names); do kernels+=("$(vm/kernels.sh pinned "$n")"); done
fi

# stamp: prefix every line of stdin with the seconds since the start.
stamp() {
	local t0=$EPOCHREALTIME line
	while IFS= read -r line; do
		printf '%s %s\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')" "$line"
	done
}

report() {
	awk -v name="$1" '
	function close_bin(t) {
		if (cur != "") { wall[cur] = t - start[cur]; order[++n] = cur }
	}
	{ t = $1; l = substr($0, length($1) + 2); split(l, w, " ") }
	l ~ /^# iopin-vm: guest \/init started after/ { init = w[7] }
	l ~ /^# iopin-vm: suite started after/ { suite = w[6] }
	l ~ /^# running / { close_bin(t); cur = w[3]; start[cur] = t; tests[cur] = 0; skips[cur] = 0; own[cur] = 0 }
	l ~ /^    # time: [0-9]+ ms/ && cur != "" { own[cur] += w[3] / 1000 }
	l ~ /^    (not )?ok [0-9]+ / && cur != "" { tests[cur]++; if (l ~ /# SKIP/) skips[cur]++ }
	l ~ /^# Totals/ { close_bin(t); cur = ""; end = t }
	END {
		if (cur != "") close_bin(t)
		if (end == "") end = t
		printf "%s: /init after %s s, suite after %s s, total %.1f s\n", name, init, suite, end
		printf "  %-36s %8s %8s %6s %6s\n", "binary", "wall s", "tests s", "tests", "skips"
		# sorted by wall time, largest first (POSIX awk: no asort)
		for (i = 1; i <= n; i++) {
			best = ""
			for (j = 1; j <= n; j++)
				if (!(order[j] in done) && (best == "" || wall[order[j]] > wall[best])) best = order[j]
			done[best]
			printf "  %-36s %8.1f %8.1f %6d %6d\n", best, wall[best], own[best], tests[best], skips[best]
		}
	}' "$2"
}

keep=${IOPIN_BENCH_KEEP:-}
for f in "${froms[@]}"; do report "${f##*/}" "$f"; done
for k in "${kernels[@]}"; do
	t=$(mktemp "${TMPDIR:-/tmp}/iopin-bench.XXXXXX") || exit 2
	# shellcheck disable=SC2086
	./run_tests.sh --vm "$k" ${IOPIN_BENCH_ARGS:-} 2>/dev/null | stamp > "$t"
	report "$k" "$t"
	if [ -n "$keep" ]; then mv -f "$t" "$keep/${k//[:\/]/_}.tktap"; else rm -f "$t"; fi
done
