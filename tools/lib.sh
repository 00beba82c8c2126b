# SPDX-License-Identifier: GPL-2.0-only
#
# tools/lib.sh: the preamble the check scripts (tools/check-*.sh) share.
#
#	. "$(dirname "$0")/lib.sh"
#	lib_init NAME
#
# Sets -u and $top (the source tree) and gives:
#	say MSG			"NAME: MSG" on stdout
#	ok MSG, bad MSG		a check passed ("NAME: ok MSG"), failed ("NAME: FAIL
#				MSG"; counted in $failures)
#	die MSG			"NAME: MSG" on stderr, exit 2: cannot check at all
#	usage ARGS		"usage: tools/NAME.sh ARGS" on stderr, exit 2
#	skip MSG		"NAME: SKIP MSG", exit 4: nothing to check here
#	lib_tmpdir VAR [TAG]	VAR = a fresh directory ${TMPDIR:-/tmp}/iopin-NAME[-TAG].*
#				(mktemp -d: never a predictable name), removed
#				when the script exits
#	lib_on_exit CMD		also run CMD when the script exits (before the
#				directories are removed)
#	lib_done [MSG]		exit 1 when a check failed ("NAME: N check(s)
#				failed"), else say MSG (if given) and exit 0
# INT and TERM end the script (130, 143) through the same cleanup.

set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
failures=0
lib_name=${0##*/}
lib_name=${lib_name%.sh}
lib_dirs=()
lib_exit_cmds=()

lib_init() {
	lib_name=$1
	trap lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

say() { echo "$lib_name: $*"; }
ok() { say "ok $*"; }
bad() { say "FAIL $*"; failures=$((failures + 1)); }
die() { echo "$lib_name: $*" >&2; exit 2; }
usage() { echo "usage: tools/$lib_name.sh $*" >&2; exit 2; }
skip() { say "SKIP $*"; exit 4; }

lib_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/iopin-$lib_name${2:+-$2}.XXXXXX") || die "mktemp -d failed"
	lib_dirs+=("$d")
	printf -v "$1" %s "$d"
}

lib_on_exit() { lib_exit_cmds+=("$*"); }

lib_cleanup() {
	local c
	for c in "${lib_exit_cmds[@]}"; do eval "$c"; done
	[ ${#lib_dirs[@]} = 0 ] || rm -rf -- "${lib_dirs[@]}"
}

lib_done() {
	if [ "$failures" -gt 0 ]; then
		say "$failures check(s) failed"
		exit 1
	fi
	[ $# = 0 ] || say "$*"
	exit 0
}
