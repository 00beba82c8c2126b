#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-livepatch-mutants.sh - prove guards with mutants that need no
# kernel build: a livepatch (kmod/) gives one function of a stock Debian
# kernel its pre-fix form, and the tests that guard the fix must then fail.
#
#   tools/check-livepatch-mutants.sh [-k KERNEL]... [-m MUTANT]... [-n RUNS] [--log-dir DIR]
#   tools/check-livepatch-mutants.sh --list
#
# For each kernel (default debian-6.12 debian-6.1), RUNS times (default 1):
# the binaries of the mutants below run in one VM boot on the stock kernel
# ("base"), then each mutant's binary in a boot of its own with
# IOPIN_LIVEPATCH_MUTANT set, with which the guest's /init loads the
# livepatch before the suite, for the whole boot.
# The tests that must fail are the Kill: globs of the mutant's header in
# mutants/NAME.patch (as tools/check-mutants.sh reads them; every test of
# the binary if it has no such file), those allowed to fail its Area: globs;
# both runs boot with the kernel parameters of its Append: line, if any.
#
#   base      no test reports not ok (but those expectations/mainline calls
#             unfixed: no kernel has their fix), and every Kill: test of
#             the binary passes (none skipped)
#   killed    the base run passed, /init says the livepatch is loaded and
#             its transition done, the guest did not die, every Kill: test
#             of the binary reports not ok and no test outside Kill: and
#             Area: does
#
# A boot that stops before /init (run-vm.sh exit 125) is retried once.
#
# Prints one line per run and a table; exit 0 if every base run passed and
# every mutant run killed, 1 otherwise, 2 on bad usage. Each run leaves, in
# the log directory, KERNEL-base-I.ktap (-appendJ: with a mutant's Append:)
# and KERNEL-NAME-I.ktap (the KTAP streams), the same with .tsv
# (BINARY:TEST<tab>verdict), and per mutant a line in results.tsv (kernel,
# mutant, run, base verdict, mutant verdict, base and mutant seconds, the
# base run's .tsv): tools/check-mutants.sh runs the mutants that have a
# livepatch form through this script and reads those. --list prints the
# mutants (NAME<tab>BINARY<tab>LINES).
#
# Mutants: NAME:BINARY[:LINES], one a line: the livepatch in kmod/ that the
# VM's /init loads for NAME (vm/init), the binary that runs, and the Debian
# lines (comma-separated, e.g. 6.12) whose kernels have the fix in the form
# the livepatch replaces (default: every kernel given); on other kernels
# the mutant is not run ("n/a").
#
# Time: a run is one boot of a TCG guest and the binary: about 15-40 s for
# each of base and mutant; measured per mutant in mutants/README.md.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MUTANTS=(
	"access-phys-no-recheck:ptrace_access/access_gate"
	"frame-vector-follow-pfn:gup_longterm/v4l2_pfnmap"
	"no-access-phys:ptrace_access/iomem:6.12"
	"procfs-busy-bar:devmem_revoke/map"
	"sysfs-lseek:pci_mmap/sysfs:6.12"
	"vfio-pfn-write-ignored:gup_longterm/pfnmap"
)
kernels=() only=() runs=1 log_dir="" list_only=0

usage() { sed -n '4,/^set /{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "check-livepatch-mutants: $*" >&2; exit "${2:-1}"; }
say() { echo "check-livepatch-mutants: $*"; }

while [ $# -gt 0 ]; do
	case $1 in
	-k|--kernel) [ $# -ge 2 ] || die "$1 needs a kernel" 2; kernels+=("$2"); shift ;;
	-m|--mutant) [ $# -ge 2 ] || die "$1 needs a name" 2; only+=("$2"); shift ;;
	-n|--runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "$1 needs a count" 2; runs=$2; shift ;;
	--log-dir) [ $# -ge 2 ] || die "--log-dir needs a directory" 2; log_dir=$2; shift ;;
	--list) list_only=1 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'" 2 ;;
	esac
	shift
done

if [ $list_only = 1 ]; then
	for m in "${MUTANTS[@]}"; do
		IFS=: read -r name bin lines <<<"$m"
		printf '%s\t%s\t%s\n' "$name" "$bin" "${lines:-all}"
	done
	exit 0
fi

((${#kernels[@]})) || kernels=(debian-6.12 debian-6.1)
selected=()
for m in "${MUTANTS[@]}"; do
	if ((${#only[@]})); then
		for o in "${only[@]}"; do [ "$o" = "${m%%:*}" ] && selected+=("$m"); done
	else
		selected+=("$m")
	fi
done
((${#selected[@]})) || die "no such mutant: ${only[*]}" 2

if [ -n "$log_dir" ]; then
	[ -d "$log_dir" ] && [ ! -L "$log_dir" ] && [ -O "$log_dir" ] ||
		die "--log-dir $log_dir: not a directory of yours" 2
	[ -z "$(find "$log_dir" -maxdepth 0 -perm /022)" ] ||
		die "--log-dir $log_dir: writable by others" 2
else
	log_dir=$(mktemp -d /tmp/iopin-lp-mutants.XXXXXX) || die "mktemp failed"
fi
say "logs in $log_dir"

# header_globs NAME KEY: the globs of KEY: in mutants/NAME.patch's header.
header_globs() {
	local p=$TOP/mutants/$1.patch
	[ -r "$p" ] || return 0
	awk -v key="$2: " '/^(--- |diff )/ { exit }
		index($0, key) == 1 && $0 != key "(none)" { print substr($0, length(key) + 1) }' "$p"
}

# matches TEST GLOB...: true if TEST (BINARY:FIXTURE.VARIANT.TEST) matches one.
matches() {
	local t=$1 g
	shift
	for g in "$@"; do
		# shellcheck disable=SC2053  # the glob is meant to match
		[[ $t == $g ]] && return 0
	done
	return 1
}

# The tests expectations/mainline calls unfixed (no kernel has a fix): on
# the base kernel they fail by what they guard, not as a fault of the base
# run. They are named, never counted as a pass; in mutant runs they need
# the mutant's Area: like any other failure.
mapfile -t UNFIXED < <(awk -F'\t' '$2 == "unfixed" { print $1 }' "$TOP/expectations/mainline")

# kernel_line KERNEL: its Debian line (debian-6.12, debian:6.12.118-1~deb12u1: 6.12).
kernel_line() {
	sed -E 's/^debian[-:]//; s/^([0-9]+\.[0-9]+).*/\1/' <<<"$1"
}

# One build of the suite for every run.
suite=$log_dir/suite
make -s -C "$TOP" install INSTALL_PATH="$suite" >"$log_dir/make.log" 2>&1 ||
	die "building the suite failed (see $log_dir/make.log)"

# run_one KERNEL LOG MUTANT(or "") APPEND BINARY...: one guest, booted with
# the kernel parameters APPEND, runs the binaries; LOG.tsv gets their
# verdicts; prints "rc secs".
run_one() {
	local k=$1 log=$2 mutant=$3 append=$4 t0 rc b try args=()
	shift 4
	for b in "$@"; do args+=(-t "$b"); done
	t0=$(date +%s)
	for try in 1 2; do
		IOPIN_LIVEPATCH_MUTANT=$mutant IOPIN_SUITE_DIR=$suite IOPIN_VM_APPEND=$append \
			"$TOP/vm/run-vm.sh" --kernel "$k" -- --no-expect "${args[@]}" >"$log" 2>"$log.err"
		rc=$?
		# 125: the kernel could not be tested, the guest stopped before
		# /init (seen once under TCG on a loaded host: a stock 6.12
		# panicked in a timer interrupt at 1.3 s, before any module
		# was loaded). Not a verdict: boot it once more.
		[ $rc = 125 ] && [ $try = 1 ] || break
		cp "$log.err" "$log.before-init.err"
		say "$k: the guest stopped before /init (see ${log##*/}.before-init.err): booting it again" >&2
	done
	awk -v mode=tsv -f "$TOP/lib/report.awk" "$log" |
		awk -F'\t' '{ print $1 ":" $2 "\t" $3 }' >"${log%.ktap}.tsv"
	echo "$rc $(($(date +%s) - t0))"
}

# count TSV VERDICT: how many tests of the run had that verdict.
count() { awk -F'\t' -v v="$2" '$2 == v { n++ } END { print n + 0 }' "$1"; }

failures=0
declare -A table
: >"$log_dir/results.tsv"
for k in "${kernels[@]}"; do
	line=$(kernel_line "$k")
	# The mutants that apply to this kernel, and their headers.
	here=()
	declare -A KILL=() AREA=() APPEND=() BIN=()
	for m in "${selected[@]}"; do
		IFS=: read -r name bin lines <<<"$m"
		if [ -n "$lines" ] && [[ ,$lines, != *,"$line",* ]]; then
			say "$k $name: n/a (the fix is in its livepatchable form only on $lines)"
			table[$k,$name]=" n/a"
			printf '%s\t%s\t-\tn/a\tn/a\t0\t0\t-\n' "$k" "$name" >>"$log_dir/results.tsv"
			continue
		fi
		here+=("$name")
		BIN[$name]=$bin
		KILL[$name]=$(header_globs "$name" Kill | tr '\n' ' ')
		[ -r "$TOP/mutants/$name.patch" ] || KILL[$name]="$bin:*"
		AREA[$name]=$(header_globs "$name" Area | tr '\n' ' ')
		APPEND[$name]=$(header_globs "$name" Append)
	done
	# Base runs: one boot per distinct Append: value, of all their binaries.
	mapfile -t appends < <(for name in "${here[@]}"; do echo "${APPEND[$name]}"; done | sort -u)
	for ((i = 1; i <= runs; i++)); do
		declare -A BASE_LOG=() BASE_RC=() BASE_S=()
		j=0
		for a in "${appends[@]}"; do
			bins=()
			for name in "${here[@]}"; do
				[ "${APPEND[$name]}" = "$a" ] && bins+=("${BIN[$name]}")
			done
			mapfile -t bins < <(printf '%s\n' "${bins[@]}" | sort -u)
			base=$log_dir/$k-base-$i
			[ -z "$a" ] || base+=-append$((++j))
			read -r rc secs <<<"$(run_one "$k" "$base.ktap" "" "$a" "${bins[@]}")"
			BASE_LOG[x$a]=$base BASE_RC[x$a]=$rc BASE_S[x$a]=$secs
			say "$k base run $i (${bins[*]}${a:+, $a}): $(count "$base.tsv" pass) ok, $(count "$base.tsv" fail) not ok, $(count "$base.tsv" skip) skipped, exit $rc, $secs s"
		done
		for name in "${here[@]}"; do
			bin=${BIN[$name]} a=${APPEND[$name]}
			base=${BASE_LOG[x$a]} bsecs=${BASE_S[x$a]}
			# shellcheck disable=SC2206
			kill=(${KILL[$name]}) area=(${AREA[$name]})
			# Base: no failure in the binary, every Kill: test passed.
			nkill=0 why="" known=0
			while IFS=$'\t' read -r t v; do
				[ "${t%%:*}" = "$bin" ] || continue
				if [ "$v" = fail ] && matches "$t" "${UNFIXED[@]}" && ! matches "$t" "${kill[@]}"; then
					known=$((known + 1))
				elif [ "$v" = fail ]; then
					why+=" $t fails;"
				fi
				matches "$t" "${kill[@]}" || continue
				nkill=$((nkill + 1))
				[ "$v" = pass ] || [ "$v" = fail ] || why+=" $t: $v;"
			done <"$base.tsv"
			[ "$nkill" -gt 0 ] || why+=" no test of ${kill[*]};"
			# Exit 1 is "a test failed": fine when all were unfixed ones.
			[ "${BASE_RC[x$a]}" = 0 ] || { [ "${BASE_RC[x$a]}" = 1 ] && [ $known -gt 0 ]; } ||
				why+=" exit ${BASE_RC[x$a]};"
			[ $known = 0 ] || say "$k $name base ($bin) run $i: $known test(s) fail that expectations/mainline calls unfixed (not the mutant's)"
			if [ -z "$why" ]; then
				bverdict=pass
			else
				bverdict=FAIL; failures=$((failures + 1))
			fi
			say "$k $name base ($bin) run $i: $bverdict${why:+ (${why% ;})}"
			table[$k,base-$name]="${table[$k,base-$name]:-} $bverdict"

			mut=$log_dir/$k-$name-$i
			read -r rc secs <<<"$(run_one "$k" "$mut.ktap" "$name" "$a" "$bin")"
			survivors=0 imprecise=0 killed=0
			while IFS=$'\t' read -r t v; do
				if matches "$t" "${kill[@]}"; then
					if [ "$v" = fail ]; then killed=$((killed + 1)); else survivors=$((survivors + 1)); fi
				elif [ "$v" = fail ] && { ((${#area[@]} == 0)) || ! matches "$t" "${area[@]}"; }; then
					imprecise=$((imprecise + 1))
				fi
			done <"$mut.tsv"
			if grep -q 'guest died\|killed after\|timers stopped' "$mut.ktap.err"; then
				verdict=GUEST-DIED
			elif ! grep -q "guest: livepatch mutant $name: .* loaded, transition 0\$" "$mut.ktap"; then
				verdict=NOT-LOADED
			elif [ "$killed" = 0 ] || [ "$survivors" -gt 0 ] || [ "$killed" -lt "$nkill" ]; then
				verdict=SURVIVED
			elif [ "$imprecise" -gt 0 ]; then
				verdict=IMPRECISE
			elif [ "$bverdict" != pass ]; then
				verdict=UNPROVEN	# the base run is the reference
			else
				verdict=killed
			fi
			[ "$verdict" = killed ] || failures=$((failures + 1))
			say "$k $name run $i: $killed Kill: tests not ok ($nkill passed on base), $imprecise other(s) not ok, $(count "$mut.tsv" pass) ok, exit $rc, $secs s: $verdict"
			table[$k,$name]="${table[$k,$name]:-} $verdict"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$name" "$i" "$bverdict" "$verdict" \
				"$bsecs" "$secs" "${base##*/}.tsv" >>"$log_dir/results.tsv"
		done
	done
done

echo
printf '%-26s %-26s %s\n' kernel mutant "verdicts ($runs run(s)): base / mutant"
for k in "${kernels[@]}"; do
	for m in "${selected[@]}"; do
		name=${m%%:*}
		printf '%-26s %-26s%s /%s\n' "$k" "$name" "${table[$k,base-$name]:- n/a}" "${table[$k,$name]}"
	done
done
if [ $failures -gt 0 ]; then
	say "$failures run(s) failed"
	exit 1
fi
say "every base run passed, every mutant was killed"
