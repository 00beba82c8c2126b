#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-livepatch-mutants.sh - prove guards with mutants that need no
# kernel build: a livepatch (kmod/) gives one function of a stock Debian
# kernel its pre-fix form, and the tests that guard the fix must then fail.
#
#   tools/check-livepatch-mutants.sh [-k KERNEL]... [-m MUTANT]... [-n RUNS] [--log-dir DIR]
#
# For each kernel (default debian-6.12 debian-6.1) and each mutant below,
# RUNS times (default 1): the mutant's binary runs in the VM on the stock
# kernel (every test must pass: "base") and with IOPIN_LIVEPATCH_MUTANT
# set, with which the guest's /init loads the livepatch before the suite
# (every test must report not ok, none ok or skipped, and say the mutant is
# active: "killed"; the guest must not die). Prints one
# line per run and a table; exit 0 if every base run passed and every
# mutant run killed every test, 1 otherwise, 2 on bad usage.
#
# Mutants: NAME:BINARY, the livepatch in kmod/ that tests load for NAME
# (ptrace_access/access_gate.c, lp_mutants[]) and the binary whose tests
# must all fail with it.
#
# Time: one base run of ptrace_access/access_gate (24 tests) takes about
# 20-40 s with the boot, a mutant run about the same, so the default
# (2 kernels, 1 run) about 2 min on the project's machine.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MUTANTS=(
	"access-phys-no-recheck:ptrace_access/access_gate"
)
kernels=() only=() runs=1 log_dir=""

usage() { sed -n '4,/^set /{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "check-livepatch-mutants: $*" >&2; exit "${2:-1}"; }
say() { echo "check-livepatch-mutants: $*"; }

while [ $# -gt 0 ]; do
	case $1 in
	-k|--kernel) [ $# -ge 2 ] || die "$1 needs a kernel" 2; kernels+=("$2"); shift ;;
	-m|--mutant) [ $# -ge 2 ] || die "$1 needs a name" 2; only+=("$2"); shift ;;
	-n|--runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "$1 needs a count" 2; runs=$2; shift ;;
	--log-dir) [ $# -ge 2 ] || die "--log-dir needs a directory" 2; log_dir=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'" 2 ;;
	esac
	shift
done
((${#kernels[@]})) || kernels=(debian-6.12 debian-6.1)
if [ -n "$log_dir" ]; then
	[ -d "$log_dir" ] && [ ! -L "$log_dir" ] && [ -O "$log_dir" ] ||
		die "--log-dir $log_dir: not a directory of yours" 2
	[ -z "$(find "$log_dir" -maxdepth 0 -perm /022)" ] ||
		die "--log-dir $log_dir: writable by others" 2
else
	log_dir=$(mktemp -d /tmp/iopin-lp-mutants.XXXXXX) || die "mktemp failed"
fi
say "logs in $log_dir"

selected=()
for m in "${MUTANTS[@]}"; do
	if ((${#only[@]})); then
		for o in "${only[@]}"; do [ "$o" = "${m%%:*}" ] && selected+=("$m"); done
	else
		selected+=("$m")
	fi
done
((${#selected[@]})) || die "no such mutant: ${only[*]}" 2

# One build of the suite for every run.
suite=$log_dir/suite
make -s -C "$TOP" install INSTALL_PATH="$suite" >"$log_dir/make.log" 2>&1 ||
	die "building the suite failed (see $log_dir/make.log)"

# run_one KERNEL BINARY MUTANT(or "") LOG: one guest; prints "ok notok skip rc secs".
run_one() {
	local k=$1 bin=$2 mutant=$3 log=$4 t0 rc
	t0=$(date +%s)
	IOPIN_LIVEPATCH_MUTANT=$mutant IOPIN_SUITE_DIR=$suite \
		"$TOP/vm/run-vm.sh" --kernel "$k" -- --no-expect -t "$bin" >"$log" 2>"$log.err"
	rc=$?
	echo "$(grep -cE '^    ok [0-9]+ [^#]*$' "$log") $(grep -c '^    not ok ' "$log") $(grep -cE '^    ok .*# SKIP' "$log") $rc $(($(date +%s) - t0))"
}

failures=0
declare -A table
for k in "${kernels[@]}"; do
	for m in "${selected[@]}"; do
		name=${m%%:*} bin=${m#*:}
		for ((i = 1; i <= runs; i++)); do
			read -r ok nok skip rc secs <<<"$(run_one "$k" "$bin" "" "$log_dir/$k-base-$i.ktap")"
			if [ "$rc" = 0 ] && [ "$ok" -gt 0 ] && [ "$nok" = 0 ] && [ "$skip" = 0 ]; then
				verdict=pass
			else
				verdict=FAIL; failures=$((failures + 1))
			fi
			say "$k base ($bin) run $i: $ok ok, $nok not ok, $skip skipped, exit $rc, $secs s: $verdict"
			table[$k,base]="${table[$k,base]:-} $verdict"
			read -r ok nok skip rc secs <<<"$(run_one "$k" "$bin" "$name" "$log_dir/$k-$name-$i.ktap")"
			if grep -q 'guest died\|killed after\|timers stopped' "$log_dir/$k-$name-$i.ktap.err"; then
				verdict=GUEST-DIED; failures=$((failures + 1))
			elif [ "$rc" = 1 ] && [ "$ok" = 0 ] && [ "$nok" -gt 0 ] && [ "$skip" = 0 ] &&
			   grep -q "livepatch mutant $name" "$log_dir/$k-$name-$i.ktap"; then
				verdict=killed
			else
				verdict=SURVIVED; failures=$((failures + 1))
			fi
			say "$k $name run $i: $ok ok, $nok not ok, $skip skipped, exit $rc, $secs s: $verdict"
			table[$k,$name]="${table[$k,$name]:-} $verdict"
		done
	done
done

echo
printf '%-14s %-26s %s\n' kernel mutant "verdicts ($runs run(s))"
for k in "${kernels[@]}"; do
	printf '%-14s %-26s %s\n' "$k" "(none: base)" "${table[$k,base]}"
	for m in "${selected[@]}"; do
		printf '%-14s %-26s %s\n' "$k" "${m%%:*}" "${table[$k,${m%%:*}]}"
	done
done
if [ $failures -gt 0 ]; then
	say "$failures run(s) failed"
	exit 1
fi
say "every base run passed, every mutant was killed"
