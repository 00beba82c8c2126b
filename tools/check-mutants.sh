#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-mutants.sh - prove that each guard kills the regression it names.
#
#   tools/check-mutants.sh [-m MUTANT]... [--list] [--timeout SECS] [--log-dir DIR]
#
# Builds the base kernel (iopin-6.12-gup_test, vm/build-kernel.sh) and each
# mutant (mutants/MUTANT.patch: the same kernel with one fix undone), boots
# each in the VM and runs, with --no-expect, the binaries of the tests the
# mutant's header expects to catch it (Kill: globs) plus its Control: binary,
# an unrelated one. Area: globs name other tests allowed to fail with it.
# The base kernel runs the union of all of them once (and once more per
# distinct Append: kernel parameter, with it).
#
#   base      every failure on the base kernel is one expectations/mainline
#             or expectations/debian-6.12 lists (known bugs of that source);
#             anything else fails the check
#   killed    at least one Kill: test reports not ok on the mutant and passed
#             on the base kernel
#   survived  none does: a finding about the suite (or, for a mutant whose
#             Kill: is "(none)", a guard no test carries yet)
#   precision a test outside Kill: and Area: that passed on the base kernel
#             reports not ok on the mutant: the suite blames the wrong fix
#
# A mutant that also has a livepatch form (tools/check-livepatch-mutants.sh
# --list: a module of kmod/ that gives one function of a stock kernel its
# pre-fix form) is not built: that script runs its binary on the stock
# pinned debian-6.12 kernel without and with the livepatch, and the same
# verdicts as above come from those two runs (its base run stands for the
# base kernel's; it must pass without a failure). Its Control: binary is
# not run. The built form stays buildable by hand (vm/build-kernel.sh
# --patch), e.g. where a livepatch cannot reach; mutants/README.md says
# what each form can show.
#
# Prints a table (guard tag -> mutant -> killed by which tests / survived),
# build and run times. Exit 0 if the base is clean and every mutant is killed
# with precision, 1 otherwise, 2 on bad usage. -m limits the run to some
# mutants, in the order given (repeatable). Logs (each run's KTAP stream, build messages) go to a
# new mktemp -d directory, or to --log-dir DIR (yours, not writable by others).
#
# Slow: the first build of the base kernel takes about an hour on 2 cores, a
# mutant a few minutes (only its files and the link are redone), and each run
# boots a TCG guest. Not part of `make check`; run as `make check-mutants`.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MUT_DIR=$TOP/mutants
run_timeout=1800 bin_timeout=900 log_dir="" list_only=0
only=()

usage() { sed -n '4,/^set /{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "check-mutants: $*" >&2; exit "${2:-1}"; }
say() { echo "check-mutants: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	-m|--mutant) [ $# -ge 2 ] || die "$1 needs a name" 2; only+=("${2%.patch}"); shift ;;
	--list) list_only=1 ;;
	--timeout) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--timeout needs seconds" 2
		run_timeout=$2; shift ;;
	--log-dir) [ $# -ge 2 ] || die "--log-dir needs a directory" 2; log_dir=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'" 2 ;;
	esac
	shift
done

# ---- mutant headers ---------------------------------------------------------

# Header: "Key: value" lines before the diff. Guard: repeats; Kill:, Area:
# are space-separated test globs (COLLECTION/BINARY:FIXTURE.VARIANT.TEST, as
# in expectations files); Control: one binary; Append: kernel parameters.
declare -A M_GUARDS M_KILL M_AREA M_CONTROL M_APPEND M_WHAT
mutants=() patches=()
for o in "${only[@]}"; do
	[ -f "$MUT_DIR/$o.patch" ] || die "-m $o: no mutants/$o.patch" 2
	patches+=("$MUT_DIR/$o.patch")	# in the order given
done
[ ${#only[@]} -gt 0 ] || patches=("$MUT_DIR"/*.patch)
for p in "${patches[@]}"; do
	[ -e "$p" ] || continue
	m=$(basename "$p" .patch)
	M_GUARDS[$m]="" M_KILL[$m]="" M_AREA[$m]="" M_CONTROL[$m]="" M_APPEND[$m]="" M_WHAT[$m]=""
	while IFS= read -r line; do
		case $line in
		"--- "*|"diff "*) break ;;
		"Guard: "*) M_GUARDS[$m]+="${line#Guard: }"$'\n' ;;
		"Kill: (none)") ;;
		"Kill: "*) M_KILL[$m]=${line#Kill: } ;;
		"Area: "*) M_AREA[$m]=${line#Area: } ;;
		"Control: "*) M_CONTROL[$m]=${line#Control: } ;;
		"Append: "*) M_APPEND[$m]=${line#Append: } ;;
		"Mutant: "*) M_WHAT[$m]=${line#Mutant: } ;;
		esac
	done < "$p"
	[ -n "${M_GUARDS[$m]}" ] || die "$p: no Guard: line"
	mutants+=("$m")
done
[ ${#mutants[@]} -gt 0 ] || die "no mutants in $MUT_DIR" 2

# Every guard a mutant names must be a guard the suite carries (exactly as
# the tests spell it: a whole tag, or one of its "; "-separated parts).
[ -r "$TOP/tests.list" ] || make -s -C "$TOP" >&2 || die "build failed"
guards_now=$("$TOP/run_tests.sh" --no-build -l 2>/dev/null | cut -f2 |
	sed 's/^\[//; s/\]$//; p; s/; /\n/g' | sort -u)
declare -A M_MISSING
for m in "${mutants[@]}"; do
	M_MISSING[$m]=""
	while IFS= read -r g; do
		[ -z "$g" ] && continue
		grep -qxF "$g" <<<"$guards_now" && continue
		say "mutants/$m.patch: no test carries the guard \"$g\""
		M_MISSING[$m]+="$g"$'\n'
	done <<<"${M_GUARDS[$m]}"
done

mapfile -t all_bins < "$TOP/tests.list"

# binaries_of GLOB...: the binaries (tests.list entries) the test globs name.
binaries_of() {
	local g b
	for g in "$@"; do
		for b in "${all_bins[@]}"; do
			# shellcheck disable=SC2053  # the glob is meant to match
			[[ $b == ${g%%:*} ]] && echo "$b"
		done
	done | sort -u
}

# matches TEST GLOB...: true if TEST (BINARY:FIXTURE.VARIANT.TEST) matches one.
matches() {
	local t=$1 g
	shift
	for g in "$@"; do
		# shellcheck disable=SC2053
		[[ $t == $g ]] && return 0
	done
	return 1
}

# The mutants with a livepatch form for 6.12: NAME -> the binary it runs.
declare -A M_LP
while IFS=$'\t' read -r name bin lines; do
	[ "$lines" = all ] || [[ ,$lines, == *,6.12,* ]] || continue
	M_LP[$name]=$bin
done < <("$TOP/tools/check-livepatch-mutants.sh" --list)
LP_KERNEL=$("$TOP/vm/kernels.sh" pinned debian-6.12) || die "vm/kernels.lock pins no debian-6.12"

declare -A M_BINS
built=()
for m in "${mutants[@]}"; do
	if [ -n "${M_LP[$m]:-}" ]; then
		M_BINS[$m]="${M_LP[$m]} "
		continue
	fi
	built+=("$m")
	# shellcheck disable=SC2086
	M_BINS[$m]=$(binaries_of ${M_KILL[$m]} ${M_CONTROL[$m]} | tr '\n' ' ')
done

if [ $list_only = 1 ]; then
	for m in "${mutants[@]}"; do
		printf '%s: %s\n' "$m" "${M_WHAT[$m]}"
		printf '%s' "${M_GUARDS[$m]}" | sed 's/^/  guard: /'
		printf '  kill: %s\n  area: %s\n  runs: %s%s%s\n' "${M_KILL[$m]:-(none)}" \
			"${M_AREA[$m]:-(none)}" "${M_BINS[$m]}" \
			"${M_APPEND[$m]:+ (kernel: ${M_APPEND[$m]})}" \
			"${M_LP[$m]:+(livepatch, on the stock $LP_KERNEL)}"
	done
	exit 0
fi

# ---- logs -----------------------------------------------------------------

if [ -n "$log_dir" ]; then
	[ -d "$log_dir" ] && [ ! -L "$log_dir" ] && [ -O "$log_dir" ] &&
		! (( 8#$(stat -c %a -- "$log_dir") & 8#022 )) ||
		die "--log-dir $log_dir: must be a directory of yours, not a link, not writable by others" 2
else
	log_dir=$(mktemp -d "${TMPDIR:-/tmp}/iopin-mutants.XXXXXX") || die "mktemp failed"
fi
say "logs in $log_dir"
start_all=$(date +%s)

# ---- expected failures: expectations/mainline and, as the kernels are built
# from Debian's 6.12 source, expectations/debian-6.12 ------------------------

# An entry bounded by the Debian package version counts only if its bound
# holds for the source the kernels are built from (vm/kernels.lock).
. "$TOP/lib/debver.sh"
read -r _ srcver _ < <("$TOP/vm/kernels.sh" entry source-6.12) || die "vm/kernels.lock pins no source-6.12"
known=() flaky=()
while read -r glob kind rest; do
	case $glob in ''|'#'*) continue ;; esac
	if [[ $kind =~ ^debian(<|>=)(.+)$ ]]; then
		debver_bound_holds "$srcver" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || continue
		read -r kind _ <<< "$rest"
	fi
	known+=("$glob")
	[ "$kind" = flaky ] && flaky+=("$glob")
done < <(cat "$TOP/expectations/mainline" "$TOP/expectations/debian-6.12")

# ---- build, run, parse --------------------------------------------------------

declare -A BUILD_S RUN_S RUN_RC

# build NAME [PATCH]: build (or find cached) the kernel; records seconds.
build() {
	local name=$1 patch=${2:-} t0 args=()
	[ -n "$patch" ] && args=(--patch "$patch")
	t0=$(date +%s)
	if "$TOP/vm/build-kernel.sh" "${args[@]}" --print >/dev/null 2>&1; then
		BUILD_S[$name]=cached
		return 0
	fi
	say "building $name"
	if ! "$TOP/vm/build-kernel.sh" "${args[@]}" >"$log_dir/$name.build" 2>&1; then
		BUILD_S[$name]=failed
		tail -n 20 "$log_dir/$name.build" >&2
		return 1
	fi
	BUILD_S[$name]=$(( $(date +%s) - t0 ))
}

# run NAME KERNEL APPEND BINARY...: boot KERNEL, run the binaries with
# --no-expect; the verdicts land in $log_dir/NAME.tsv (binary:test verdict).
run() {
	local name=$1 kernel=$2 append=$3 t0 args=() b try
	shift 3
	for b in "$@"; do args+=(-t "$b"); done
	t0=$(date +%s)
	for try in 1 2; do
		say "running $name on $kernel${append:+ ($append)}: $*"
		IOPIN_VM_APPEND=$append IOPIN_VM_BUILD=0 "$TOP/vm/run-vm.sh" --kernel "$kernel" \
			--timeout "$run_timeout" -- --no-expect --timeout "$bin_timeout" "${args[@]}" \
			>"$log_dir/$name.ktap" 2>"$log_dir/$name.err"
		RUN_RC[$name]=$?
		# A guest whose timers stopped (QEMU/TCG, seen once in ~60 runs:
		# an RCU stall, then silence; vm/run-vm.sh gives it up) is the
		# emulator's fault, not the mutant's: run it once more.
		grep -qs "the guest's timers stopped" "$log_dir/$name.err" || break
		[ $try = 1 ] && cp "$log_dir/$name.err" "$log_dir/$name.stalled.err" &&
			say "$name: the guest's timers stopped (RCU stall, see $name.stalled.err): running it again"
	done
	RUN_S[$name]=$(( $(date +%s) - t0 ))
	awk -v mode=tsv -f "$TOP/lib/report.awk" "$log_dir/$name.ktap" |
		awk -F'\t' '{ print $1 ":" $2 "\t" $3 }' >"$log_dir/$name.tsv"
}

declare -A BASE	# "append|binary:test" -> verdict on the base kernel
fail=0 BASE_SUMMARY=""

# The base kernel only for the mutants that are built.
if [ ${#built[@]} -gt 0 ]; then
	build base || die "the base kernel does not build (log: $log_dir/base.build)"
else
	BUILD_S[base]="not needed"
fi
# One base run per distinct Append: value, over the binaries of its mutants.
declare -A appends=()
for m in "${built[@]}"; do appends[${M_APPEND[$m]:-none}]=1; done
n=0
for a in "${!appends[@]}"; do
	bins=()
	for m in "${built[@]}"; do
		[ "${M_APPEND[$m]:-none}" = "$a" ] || continue
		# shellcheck disable=SC2206
		bins+=(${M_BINS[$m]})
	done
	mapfile -t bins < <(printf '%s\n' "${bins[@]}" | sort -u)
	name=base
	[ "$a" = none ] || name=base-$((++n))
	run "$name" iopin-6.12-gup_test "${a#none}" "${bins[@]}"
	unexpected=()
	while IFS=$'\t' read -r t v; do
		BASE["$a|$t"]=$v
		[ "$v" = fail ] && ! matches "$t" "${known[@]}" && unexpected+=("$t")
	done <"$log_dir/$name.tsv"
	read -r np nf ns < <(awk -F'\t' '{ c[$2]++ } END { print c["pass"]+0, c["fail"]+0, c["skip"]+0 }' \
		"$log_dir/$name.tsv")
	say "$name: ${RUN_S[$name]} s, exit ${RUN_RC[$name]}: $np passed, $nf failed, $ns skipped"
	label=iopin-6.12-gup_test
	[ "$a" = none ] || label+=" $a"
	BASE_SUMMARY+="# $name ($label): run ${RUN_S[$name]} s, exit ${RUN_RC[$name]}: $np passed, $nf failed (${#unexpected[@]} unexpected), $ns skipped"$'\n'
	if [ ${#unexpected[@]} -gt 0 ]; then
		fail=1
		say "$name: unexpected failures on the unpatched kernel:"
		printf '  not ok %s\n' "${unexpected[@]}" >&2
	fi
	if [ $((np + nf + ns)) = 0 ]; then
		fail=1
		say "$name: no results (see $log_dir/$name.err)"
	fi
done

# run_livepatch NAME: the mutant's livepatch form, by
# tools/check-livepatch-mutants.sh on the stock LP_KERNEL; its base run's
# verdicts go into BASE under "lp-NAME", the mutant's into NAME.tsv.
run_livepatch() {
	local m=$1 dir t0 rc t v base_tsv
	dir=$log_dir/lp-$m
	mkdir -m 700 "$dir" || return 1
	t0=$(date +%s)
	say "running $m as a livepatch on $LP_KERNEL: ${M_LP[$m]}"
	"$TOP/tools/check-livepatch-mutants.sh" -k "$LP_KERNEL" -m "$m" --log-dir "$dir" \
		>"$log_dir/$m.lp" 2>&1
	rc=$?
	RUN_S[$m]=$(( $(date +%s) - t0 ))
	RUN_RC[$m]=$rc
	cp "$dir/$LP_KERNEL-$m-1.tsv" "$log_dir/$m.tsv" 2>/dev/null || : >"$log_dir/$m.tsv"
	base_tsv=$dir/$(awk -F'\t' '{ print $8 }' "$dir/results.tsv" 2>/dev/null)
	[ -f "$base_tsv" ] || base_tsv=/dev/null
	while IFS=$'\t' read -r t v; do
		# The base run has the binaries of every mutant: only this one's.
		[ "${t%%:*}" = "${M_LP[$m]}" ] && BASE["lp-$m|$t"]=$v
	done <"$base_tsv"
	LP_VERDICT[$m]=$(awk -F'\t' '{ print "base " $4 ", mutant " $5 }' "$dir/results.tsv")
	return $rc
}

# times_of NAME: how long its build and run took.
times_of() {
	if [ -n "${M_LP[$1]:-}" ]; then
		echo "livepatch on the stock $LP_KERNEL, no build, run ${RUN_S[$1]:-?} s"
	else
		echo "build ${BUILD_S[$1]:-?} s, run ${RUN_S[$1]:-?} s"
	fi
}

declare -A RESULT KILLERS IMPRECISE LP_VERDICT
for m in "${mutants[@]}"; do
	# shellcheck disable=SC2086
	if [ -z "$(binaries_of ${M_KILL[$m]})" ]; then
		RESULT[$m]="not run: no binary in tests.list has a test its Kill: names"
		fail=1
		continue
	fi
	if [ -n "${M_LP[$m]:-}" ]; then
		if ! run_livepatch "$m"; then
			fail=1
			say "$m: tools/check-livepatch-mutants.sh failed: ${LP_VERDICT[$m]:-no result} (see $log_dir/$m.lp)"
		fi
		a=lp-$m
	else
		if ! build "$m" "$MUT_DIR/$m.patch"; then
			RESULT[$m]="build failed"
			fail=1
			continue
		fi
		# shellcheck disable=SC2086
		run "$m" "iopin-6.12-$m" "${M_APPEND[$m]}" ${M_BINS[$m]}
		a=${M_APPEND[$m]:-none}
	fi
	killers=() imprecise=() nores=0
	# shellcheck disable=SC2206
	kill_globs=(${M_KILL[$m]}) area_globs=(${M_AREA[$m]})
	declare -A MUT=()
	while IFS=$'\t' read -r t v; do
		MUT[$t]=$v
		[ "$v" = fail ] || continue
		[ "${BASE["$a|$t"]:-}" = pass ] || continue
		# A test known to flip (expectations/mainline: flaky) proves nothing.
		[ ${#flaky[@]} -gt 0 ] && matches "$t" "${flaky[@]}" && continue
		if [ ${#kill_globs[@]} -gt 0 ] && matches "$t" "${kill_globs[@]}"; then
			killers+=("$t")
		elif [ ${#area_globs[@]} -eq 0 ] || ! matches "$t" "${area_globs[@]}"; then
			imprecise+=("$t")
		fi
	done <"$log_dir/$m.tsv"
	# Tests of these binaries the base kernel reported and the mutant did
	# not (the kernel died or hung?).
	for k in "${!BASE[@]}"; do
		[ "${k%%|*}" = "$a" ] || continue
		t=${k#*|}
		[[ " ${M_BINS[$m]} " == *" ${t%%:*} "* ]] || continue
		[ -n "${MUT[$t]:-}" ] || nores=$((nores + 1))
	done
	unset MUT
	KILLERS[$m]=$(printf '%s\n' "${killers[@]}")
	IMPRECISE[$m]=$(printf '%s\n' "${imprecise[@]}")
	if [ ${#killers[@]} -gt 0 ]; then
		RESULT[$m]="killed by ${#killers[@]}"
	else
		RESULT[$m]=survived
		fail=1
	fi
	if [ ${#imprecise[@]} -gt 0 ]; then
		RESULT[$m]+=", imprecise: ${#imprecise[@]} other(s) fail"
		fail=1
	fi
	[ $nores -gt 0 ] && RESULT[$m]+=", $nores without result (exit ${RUN_RC[$m]})"
	if [ -n "${M_LP[$m]:-}" ] && [ "${RUN_RC[$m]}" != 0 ]; then
		RESULT[$m]+=", livepatch check failed (${LP_VERDICT[$m]:-no result})"
		fail=1
	fi
	say "$m: ${RESULT[$m]} ($(times_of "$m"))"
done

# ---- table -------------------------------------------------------------------

# first_of LIST N: the first N lines of LIST joined with ", ", and "+k more".
first_of() {
	local list=$1 n=$2 total
	total=$(grep -c . <<<"$list")
	printf '%s' "$(grep . <<<"$list" | head -n "$n" | paste -sd, | sed 's/,/, /g')"
	[ "$total" -gt "$n" ] && printf ' (+%d more)' $((total - n))
}

echo "# iopin mutants: guard tag -> mutant -> verdict"
if [ ${#built[@]} -gt 0 ]; then
	echo "# base kernel iopin-6.12-gup_test: build ${BUILD_S[base]} s"
fi
printf '%s' "$BASE_SUMMARY"
for m in "${mutants[@]}"; do
	while IFS= read -r g; do
		[ -n "$g" ] && echo "[$g]"
	done <<<"${M_GUARDS[$m]}"
	echo "  -> $m: ${M_WHAT[$m]}"
	echo "  -> ${RESULT[$m]:-not run}  ($(times_of "$m"))"
	while IFS= read -r g; do
		[ -n "$g" ] && echo "     no test carries [$g]"
	done <<<"${M_MISSING[$m]}"
	if [ -n "${KILLERS[$m]:-}" ]; then
		echo "     killed by: $(first_of "${KILLERS[$m]}" 4)"
	elif [ -z "${M_KILL[$m]}" ]; then
		echo "     no test carries this guard (Kill: (none))"
	elif [ -n "${RUN_RC[$m]:-}" ]; then
		echo "     survived: none of ${M_KILL[$m]} reported not ok"
	fi
	if [ -n "${IMPRECISE[$m]:-}" ]; then
		echo "     outside its area: $(first_of "${IMPRECISE[$m]}" 4)"
	fi
done
echo "# wall time $(( $(date +%s) - start_all )) s; logs: $log_dir"
exit $fail
