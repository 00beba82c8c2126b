#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/vm-boot.sh [--stub] [--runs N] [KERNEL...] - VM boot latency.
#
# For each KERNEL (default: debian-6.12 debian-6.1) prints the host wall
# time from starting vm/run-vm.sh to
#   userspace   the guest's /init announcing itself on the result channel
#   first test  the first "ok"/"not ok" line of the suite
#   full        the end of the run (guest powered off, runner exited)
# Each line is time-stamped as it streams.  Downloads and cache building
# happen in an untimed --prepare-only step first, so the numbers are those
# of a warm cache (the normal case).
#
# --stub      run the stand-in suite of vm/stub-suite.sh instead of the
#             real one ('make install'), e.g. while the suite does not build
# --runs N    repeat each measurement N times (default 1)
# Arguments for the guest's run_tests.sh can be given in IOPIN_BENCH_ARGS.

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_VM=$TOP/vm/run-vm.sh
runs=1 stub=0

while (($#)); do
	case $1 in
	--stub)	stub=1 ;;
	--runs)	runs=${2:?--runs needs a number}; shift ;;
	-h|--help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*)	echo "vm-boot: unknown option $1" >&2; exit 2 ;;
	*)	break ;;
	esac
	shift
done
kernels=("$@")
((${#kernels[@]})) || kernels=(debian-6.12 debian-6.1)

if ((stub)); then
	work=$(mktemp -d "${TMPDIR:-/tmp}/iopin-bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	"$TOP/vm/stub-suite.sh" "$work/suite"
	export IOPIN_SUITE_DIR=$work/suite
fi

# shellcheck disable=SC2206
guest_args=(${IOPIN_BENCH_ARGS:-})

delta() {
	[[ -n $2 ]] || { echo "-"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

printf '%-14s %4s %10s %11s %8s %5s  %s\n' kernel run userspace "first test" full exit release
for k in "${kernels[@]}"; do
	if ! "$RUN_VM" --kernel "$k" --prepare-only 2>/dev/null; then
		printf '%-14s %4s %s\n' "$k" - "cannot prepare (see: vm/run-vm.sh --kernel $k --prepare-only)"
		continue
	fi
	# Like run_tests.sh --vm: the kernel's own expectations, if any.
	expect=()
	((stub)) || [[ ! -r $TOP/expectations/$k ]] || expect=(--expect "$TOP/expectations/$k")
	for ((r = 1; r <= runs; r++)); do
		t_user= t_first= rel="?" rc="?"
		t0=$(date +%s.%N)
		while IFS= read -r line; do
			case $line in
			"# rc "*)
				rc=${line#\# rc } ;;
			"# iopin-vm: kernel "*)
				rel=${line#\# iopin-vm: kernel }; rel=${rel%% *} ;;
			"# iopin-vm: guest /init started"*)
				[[ -n $t_user ]] || t_user=$(date +%s.%N) ;;
			ok\ *|not\ ok\ *|[[:space:]]*ok\ *|[[:space:]]*not\ ok\ *)
				[[ -n $t_first ]] || t_first=$(date +%s.%N) ;;
			esac
		done < <("$RUN_VM" --kernel "$k" "${expect[@]}" -- "${guest_args[@]}" 2>/dev/null; echo "# rc $?")
		t_end=$(date +%s.%N)
		printf '%-14s %4s %9ss %10ss %7ss %5s  %s\n' "$k" "$r" \
			"$(delta "$t0" "$t_user")" "$(delta "$t0" "$t_first")" \
			"$(delta "$t0" "$t_end")" "$rc" "$rel"
	done
done
