#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# iopin test runner: runs the built test binaries and prints one KTAP v1
# stream, each binary's output nested as a subtest (indented by 4 spaces).
# Run it from the source tree (it builds first, installing missing build
# dependencies) or from a `make install` directory.
#
# Exit: 0 nothing failed, 1 a failure, 2 bad usage, 4 everything skipped.
#
# The parts, sourced from lib/runner/: options.sh (usage, command line,
# environment), paths-locks.sh (where it writes, one run at a time),
# expect.sh (expectations files), select.sh (the selection, --list),
# state.sh (the global state compared around each binary, the hugetlb
# pools held for the run), ktap-report.sh (the nested stream, reports),
# vm.sh (--vm, and the guest's side of it); guardian.sh runs on its own.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${IOPIN_TIMEOUT:-900}
# Empty: -s makes a fresh directory with mktemp -d (never a predictable name).
LOGDIR=${IOPIN_LOGDIR:-}
STATE_LOCK=${IOPIN_STATE_LOCK:-/run/iopin-state.lock}

for part in options paths-locks expect select state ktap-report vm; do
	# shellcheck source=/dev/null
	. "$HERE/lib/runner/$part.sh"
done

cleanup() {
	release_pools
	rm -rf "$tmp"
}

# start_guardian: timeouts, and nothing left behind after a SIGKILL
# (lib/runner/guardian.sh): its pipe is fd $guard, in the runner only.
start_guardian() {
	exec {guard}> >(exec setsid "$BASH" "$HERE/lib/runner/guardian.sh" \
		"$TIMEOUT" "$tmp" > /dev/null 2>&1)
}

# run_binary N B: run binary B as the run's Nth, nested into the stream,
# and judge it: its tests, its exit, its time and the global state.
run_binary() {
	local n=$1 b=$2 bin name before after rc p f xf xp s problem
	bin="$HERE/$b"
	name="${b/\//:}"
	rm -f "$tmp/timed_out" "$tmp/rc" "$tmp/counts"
	vm_note "RUNNING: $n $name $TIMEOUT"
	# Names the binary for lib/report.awk if the stream ends inside it.
	[ $summary = 1 ] || echo "# running $name"
	wait_state_restored
	before=$(state_files)
	# shellcheck disable=SC2086
	set -- ${filter[$b]:-}
	# The binary in a session of its own (setsid execs in place: a
	# pipeline member of a non-interactive shell leads no process group),
	# announced to the guardian; only the runner keeps the guardian's pipe.
	{
		KSFT_TAP_LEVEL=1 setsid "$bin" "$@" 2>&1 {guard}>&- &
		echo "run $!" >&"$guard"
		exec {guard}>&-
		wait $!
		echo $? > "$tmp/rc"
	} | nest "$b" {guard}>&-
	echo done >&"$guard"
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
	read -r p f xf xp s < "$tmp/counts"
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	total_xfail=$((total_xfail + xf)); total_xpass=$((total_xpass + xp))
	total_skip=$((total_skip + s))

	wait_state_restored
	after=$(state_files)
	problem=""
	if [ -e "$tmp/timed_out" ]; then
		problem="timed out after ${TIMEOUT}s"
	elif [ "$before" != "$after" ]; then
		problem="global state not restored: $(state_diff "$before" "$after")"
	elif [ $((f + xp)) -gt 0 ]; then
		problem="$((f + xp)) test(s) failed"
	elif [ "$rc" != 0 ] && [ $xf = 0 ]; then
		problem="exit code $rc"
	elif [ $((p + f + xf + xp + s)) = 0 ]; then
		problem="ran no test (exit code $rc)"
	fi
	if [ -n "$problem" ]; then
		[ $((f + xp)) = 0 ] && errors=$((errors + 1))
		echo "# $name: $problem"
		echo "not ok $n $name"
		# The reports list a binary that failed without a failing test.
		printf '%s\n' "# $name: $problem" "not ok $n $name" >&"$full"
		failed=$((failed + 1))
	elif [ $((p + xf)) = 0 ]; then
		echo "ok $n $name # SKIP all $s test(s) skipped"
		skipped=$((skipped + 1))
	else
		echo "ok $n $name"
	fi
	vm_note "STATE: $n $total_pass $total_fail $total_xfail $total_xpass $total_skip $errors $failed $skipped"
}

main() {
	parse_args "$@"
	check_env
	expect_init
	[ -z "$vm" ] || run_in_vm
	if [ $build = 1 ] && [ -f "$HERE/Makefile" ]; then
		# Installs missing build dependencies (make and gcc included) first.
		"$HERE/tools/deps.sh" >&2 || { echo "run_tests.sh: missing build dependencies" >&2; exit 2; }
		make -s -C "$HERE" >&2 || { echo "run_tests.sh: build failed" >&2; exit 2; }
	fi

	[ -r "$HERE/tests.list" ] || die_usage "no tests.list in $HERE: build with make first"
	# Known unfixed failures apply everywhere; --expect files add to them.
	if [ $default_expect = 1 ] && [ -r "$HERE/expectations/mainline" ]; then
		expects=("$HERE/expectations/mainline" "${expects[@]}")
	fi
	select_binaries
	check_log_names
	[ $list = 1 ] && { list_tests; exit 0; }
	load_expectations "${expects[@]}"

	[ -x "$HERE/lib/iopin-hold" ] || die_usage "lib/iopin-hold is not built (run make)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/iopin-run.XXXXXX") || { echo "run_tests.sh: mktemp failed" >&2; exit 2; }
	# The whole nested stream, also with -s: what lib/report.awk reads.
	exec {full}> "$tmp/full.ktap"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ $summary = 1 ] && [ -z "$LOGDIR" ]; then
		LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/iopin-logs.XXXXXX") ||
			die_usage "cannot make a log directory in ${TMPDIR:-/tmp} (give --log-dir)"
	fi
	start_guardian

	total_pass=0 total_fail=0 total_xfail=0 total_xpass=0 total_skip=0
	failed=0 skipped=0 errors=0
	resume_or_start
	hdr="# iopin on $(uname -r), $(uname -m)$([ "$(id -u)" = 0 ] || echo ', not root: tests that need root skip')"
	echo "$hdr"
	[ $resume = 0 ] && echo "$hdr" >&"$full"
	[ ${#expects[@]} -gt 0 ] && echo "# expectations: ${expects[*]##*/}"
	[ $summary = 1 ] && echo "# logs: $LOGDIR"
	[ $resume = 0 ] && echo "1..${#selected[@]}"
	vm_note "PLAN: ${selected[*]}"
	one_run_at_a_time
	hold_pools
	local i
	for ((i = resume; i < ${#selected[@]}; i++)); do
		run_binary $((i + 1)) "${selected[i]}"
	done

	# Which fixes does this kernel lack? Failures grouped by the guard they name.
	exec {full}>&-
	awk -v mode=summary -f "$HERE/lib/report.awk" "$tmp/full.ktap"
	[ ${#reports[@]} = 0 ] || write_reports "$tmp/full.ktap"
	echo "# Totals: pass:$total_pass fail:$total_fail xfail:$total_xfail xpass:$total_xpass skip:$total_skip error:$errors"
	if [ $failed -gt 0 ]; then
		exit 1
	elif [ $skipped = ${#selected[@]} ]; then
		exit 4
	fi
	exit 0
}

main "$@"
