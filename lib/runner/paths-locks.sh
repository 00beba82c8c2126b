# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: the paths it writes and the locks it takes.
#
# Nothing is written at a predictable name in a directory others can write:
# a name in /tmp can be planted (a symlink to a file of root's, a FIFO) by
# any user before root's run opens it. Logs go to a fresh mktemp -d
# directory, or to a directory the user names that private_dir() accepts.

# mode_of PATH: "uid octal-mode" of PATH itself (a link is not followed).
mode_of() {
	stat -c '%u %a' -- "$1" 2>/dev/null
}

# private_dir DIR: succeed if only we (and root) can change what DIR holds:
# DIR is a real directory owned by us, not writable by group or others, and
# every directory above it belongs to root or us and is either not writable
# by others or sticky (then others cannot rename or replace our entries).
# Else print why and fail.
private_dir() {
	local d=$1 me uid mode
	me=$(id -u)
	if [ -L "$d" ]; then echo "$d is a symbolic link"; return 1; fi
	if [ ! -d "$d" ]; then echo "$d is not a directory"; return 1; fi
	read -r uid mode <<< "$(mode_of "$d")"
	if [ "$uid" != "$me" ]; then echo "$d belongs to uid $uid, not to you (uid $me)"; return 1; fi
	if (( 8#$mode & 8#022 )); then echo "$d is writable by group or others (mode $mode)"; return 1; fi
	d=$(cd -P -- "$d" && pwd) || { echo "cannot enter $1"; return 1; }
	while [ "$d" != / ]; do
		d=$(dirname -- "$d")
		read -r uid mode <<< "$(mode_of "$d")"
		if [ "$uid" != 0 ] && [ "$uid" != "$me" ]; then
			echo "$d, above $1, belongs to uid $uid"; return 1
		fi
		if (( 8#$mode & 8#022 )) && ! (( 8#$mode & 8#1000 )); then
			echo "$d, above $1, is writable by others and not sticky (mode $mode)"; return 1
		fi
	done
}

# lock_problem: print why $STATE_LOCK is not safe to use, if it is not. The
# keeper (lib/kernel.c) creates it; anyone else's file there, a link or a
# FIFO, or a directory others can write without the sticky bit, is refused.
lock_problem() {
	local d uid mode
	d=$(dirname -- "$STATE_LOCK")
	if [ ! -d "$d" ]; then echo "$d is not a directory"; return; fi
	read -r uid mode <<< "$(mode_of "$d")"
	if [ "$uid" != 0 ] && [ "$uid" != "$(id -u)" ]; then
		echo "$d belongs to uid $uid"; return
	fi
	if (( 8#$mode & 8#022 )) && ! (( 8#$mode & 8#1000 )); then
		echo "$d is writable by others and not sticky (mode $mode)"; return
	fi
	if [ -L "$STATE_LOCK" ]; then echo "$STATE_LOCK is a symbolic link"; return; fi
	[ -e "$STATE_LOCK" ] || return 0
	if [ ! -f "$STATE_LOCK" ]; then echo "$STATE_LOCK is not a regular file"; return; fi
	read -r uid mode <<< "$(mode_of "$STATE_LOCK")"
	if [ "$uid" != "$(id -u)" ] && [ "$uid" != 0 ]; then
		echo "$STATE_LOCK belongs to uid $uid"; return
	fi
}

# The log of binary $1 in LOGDIR.
log_name() {
	echo "${1//\//_}.log"
}

# check_log_names: with -s and a given LOGDIR, no binary's log is there yet.
check_log_names() {
	local b f
	if [ $summary = 1 ] && [ $list = 0 ] && [ -n "$LOGDIR" ]; then
		for b in "${selected[@]}"; do
			f="$LOGDIR/$(log_name "$b")"
			if [ -e "$f" ] || [ -L "$f" ]; then
				die_usage "$f exists: give a new or empty log directory"
			fi
		done
	fi
}

# ---- one run at a time ------------------------------------------------------
#
# Tests change machine-wide knobs (THP, hugetlb pools, driver bindings) and
# each binary is checked for leaving them as it found them: two runs of the
# suite at once on one machine would trip over each other's changes. A run
# as root waits for any other on this machine; the lock lives beside the
# state lock, in a directory only root can write (checked above).
one_run_at_a_time() {
	local lock
	if ! command -v flock >/dev/null; then
		# The VM guest's busybox has none, and its run is the only one.
		[ "${IOPIN_VM:-}" = 1 ] && return 0
		die_usage "flock(1) (util-linux) is needed to keep runs apart"
	fi
	lock="$(dirname -- "$STATE_LOCK")/iopin-run.lock"
	if [ "$(id -u)" = 0 ]; then
		[ ! -L "$lock" ] || die_usage "refusing run lock $lock: a symbolic link"
		exec {runlock}>> "$lock" || die_usage "cannot open the run lock $lock"
	else
		# A root run's pools (held hugetlb pages) would decide whether
		# this user's hugetlb tests run or skip: wait for it too, on
		# root's lock, read-only (flock needs no write access).
		[ -f "$lock" ] && [ ! -L "$lock" ] && [ "$(stat -c %u -- "$lock")" = 0 ] ||
			return 0
		exec {runlock}< "$lock" || return 0
	fi
	if ! flock -n "$runlock"; then
		echo "# another iopin run holds $lock: waiting for it to finish"
		flock "$runlock"
	fi
}

