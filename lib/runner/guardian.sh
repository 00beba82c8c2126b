#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lib/runner/guardian.sh TIMEOUT TMP: run_tests.sh's guardian, started by
# it in a session of its own with its commands on standard input.
#
# Each test binary runs in a session of its own (setsid, so its pid S is the
# session and process group id). The harness forks each test into a process
# group of its own inside S, and the test's children stay in that group.
# lib's state keeper moves to a group of its own but stays in S; it must
# outlive the test: it restores the global state once the last test process
# holding its pipe is gone, then exits by itself.
#
# One guardian per run, in a session of its own (a Ctrl-C or a kill of the
# runner's process group does not reach it; its stdout and stderr hold no
# pipe of the caller's), reads commands on a pipe only the runner holds:
# every child closes its copy. "run S" (sent by the pipeline member that
# starts binary S) starts the per-binary timeout, "done" stops it. EOF on
# the pipe means the runner is gone, however it ended, SIGKILL included:
# the guardian then kills the binary that was running, waits (bounded) for
# the runner's pipeline to write its last files, removes $tmp and exits.
#
# Killing binary S: stop S's group (no new test fork after that), take the
# process groups of S's children (the tests), signal them and S's group;
# only processes of session S in those groups are hit. The keeper's own
# group is spared. The groups are taken once, so a TERM-then-KILL still
# finds the tests after S itself is gone.

# session_procs S: "pid ppid pgrp" of every process in session S.
session_procs() {
	local f line pid ppid pgrp sid
	for f in /proc/[0-9]*/stat; do
		{ read -r line < "$f"; } 2>/dev/null || continue
		pid=${f#/proc/}
		read -r _ ppid pgrp sid _ <<< "${line##*) }"
		[ "$sid" = "$1" ] && echo "${pid%/stat} $ppid $pgrp"
	done
}

# kill_binary SIG S GROUPS: signal the test groups of binary S (GROUPS, or
# found now when empty); prints the groups. Alive afterwards: any left?
kill_binary() {
	local sig=$1 s=$2 groups=$3 pid ppid pgrp g
	if [ -z "$groups" ]; then
		kill -STOP -- "-$s" 2>/dev/null
		groups=$s
		while read -r pid ppid pgrp; do
			[ "$ppid" = "$s" ] && [[ " $groups " != *" $pgrp "* ]] && groups+=" $pgrp"
		done < <(session_procs "$s")
	fi
	for g in $groups; do
		# The group must still be one of S's: a pid is not reused while
		# a process of session S still has it as its group.
		session_procs "$s" | grep -q " $g\$" && kill "-$sig" -- "-$g" 2>/dev/null
	done
	kill -CONT -- "-$s" 2>/dev/null
	echo "$groups"
}

# binary_alive S GROUPS: does a process of S's test groups remain?
binary_alive() {
	local pid ppid pgrp
	while read -r pid ppid pgrp; do
		[[ " $2 " == *" $pgrp "* ]] && return 0
	done < <(session_procs "$1")
	return 1
}

guardian() {
	local timeout=$1 tmp=$2 cmd arg s="" deadline=0 left groups i rc
	trap '' INT TERM HUP PIPE
	while :; do
		left=86400
		[ -n "$s" ] && left=$((deadline - SECONDS))
		# Past the deadline: still take a "done" already in the pipe.
		[ "$left" -gt 0 ] || left=0.01
		read -r -t "$left" cmd arg
		rc=$?
		if [ $rc = 0 ]; then
			case "$cmd" in
			run) s=$arg deadline=$((SECONDS + timeout)) ;;
			done) s="" ;;
			esac
		elif [ $rc -gt 128 ] && [ -n "$s" ]; then
			[ -n "$(session_procs "$s")" ] || { s=""; continue; }
			echo timeout > "$tmp/timed_out"
			groups=$(kill_binary TERM "$s" "")
			for ((i = 0; i < 25; i++)); do
				binary_alive "$s" "$groups" || break
				sleep 0.2
			done
			kill_binary KILL "$s" "$groups" > /dev/null
			s=""
		else
			# EOF: the runner is gone.
			[ -n "$s" ] && kill_binary KILL "$s" "" > /dev/null
			for ((i = 0; i < 25; i++)); do
				[ -d "$tmp" ] && [ -n "$s" ] && ! [ -e "$tmp/rc" -a -e "$tmp/counts" ] || break
				sleep 0.2
			done
			rm -rf "$tmp" 2>/dev/null || { sleep 0.5; rm -rf "$tmp"; }
			exit 0
		fi
	done
}

guardian "$@"
