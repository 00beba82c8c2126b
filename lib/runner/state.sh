# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: the global state each binary must leave as it
# found it, and the hugetlb pools held for the whole run.

# What a binary must leave as it found it (compared around each binary;
# --print-state prints it, for tools/check.sh's kill test): lib's state
# registry (lib/kstate_rows.c), the same table whose kinds the keeper restores.
state_files() {
	"$HERE/lib/iopin-hold" --print-state
}

# state_diff BEFORE AFTER: "> LINE " for each line only AFTER has, then
# "< LINE " for each only BEFORE has (grep, not diff: busybox's diff in the
# VM guest writes only the unified form).
state_diff() {
	{
		grep -vxF -f <(echo "$1") <<< "$2" | sed 's/^/> /'
		grep -vxF -f <(echo "$2") <<< "$1" | sed 's/^/< /'
	} | tr '\n' ' '
}

wait_state_restored() {
	# A test's state keeper holds the lock until it has put everything back.
	# Opened read-only on fd 9, never created here (flock(1) FILE would
	# create it, following a link), and only a regular file (a FIFO blocks).
	[ -f "$STATE_LOCK" ] && [ ! -L "$STATE_LOCK" ] && [ -r "$STATE_LOCK" ] &&
		command -v flock >/dev/null && { flock -s 9; } 9< "$STATE_LOCK" 2>/dev/null
	return 0
}

# ---- hugetlb pools held for the whole run -------------------------------
#
# lib/iopin-hold makes enough hugetlb pages of every size free and keeps
# them until its standard input closes: every test then finds its pages
# free, and gigantic pages are not handed back to the page allocator and
# allocated again around each test (which made 1 GiB cases pass or skip by
# luck under load). Its kstate keeper puts nr_hugepages back when the run
# ends, however it ends (also when this script is killed).
hold_pid="" hold_in=""
hold_pools() {
	local line
	[ "$(id -u)" = 0 ] && [ -x "$HERE/lib/iopin-hold" ] || return 0
	coproc HOLD { IOPIN_STATE_LOCK="$tmp/hold.lock" exec "$HERE/lib/iopin-hold" hugetlb 2>&1; }
	hold_pid=$HOLD_PID hold_in=${HOLD[1]}
	while IFS= read -r line <&"${HOLD[0]}"; do
		[ "$line" = ready ] && break
		echo "# hugetlb pool for this run: $line"
	done
}
release_pools() {
	[ -n "$hold_pid" ] || return 0
	exec {hold_in}>&-
	wait "$hold_pid" 2>/dev/null
	hold_pid=""
}
