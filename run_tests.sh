#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# iopin test runner: runs the built test binaries and prints one KTAP v1
# stream, each binary's output nested as a subtest (indented by 4 spaces).
# Run it from the source tree (it builds first, installing missing build
# dependencies) or from a `make install` directory.
#
# Exit: 0 nothing failed, 1 a failure, 2 bad usage, 4 everything skipped.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${IOPIN_TIMEOUT:-900}
# Empty: -s makes a fresh directory with mktemp -d (never a predictable name).
LOGDIR=${IOPIN_LOGDIR:-}
STATE_LOCK=${IOPIN_STATE_LOCK:-/run/iopin-state.lock}

usage() {
	cat <<EOF
Usage: $0 [options]

  -l, --list              list the selected tests with what each guards, run nothing
  -t, --test NAME         run NAME: COLLECTION/BINARY or COLLECTION/BINARY:FIXTURE.VARIANT.TEST
                          (repeatable)
  -c, --collection DIR    run every binary of collection DIR, e.g. cow (repeatable)
  -s, --summary           print only one result line per binary; full output in a new
                          directory (mktemp -d), named by a "# logs:" line
      --log-dir DIR       with -s: write the logs into DIR instead (also IOPIN_LOGDIR);
                          DIR must be yours, not a symlink, not writable by group or
                          others, and hold no log of the same name
      --timeout SECS      per-binary timeout (default $TIMEOUT)
      --expect FILE       also map failures listed in FILE to XFAIL (repeatable);
                          expectations/mainline (unfixed upstream) always applies
      --no-expect         apply no expectations file: every failure is a failure
                          (with --vm: not even expectations/KERNEL)
      --selftest-fault verify
                          self-test switch: lib's data checks expect a corrupted first
                          byte, so every test that verifies data must report not ok
                          (same as IOPIN_SELFTEST_FAULT=verify; passed on into a --vm guest)
      --pci BDF           the PCI device iomem tests may map (IOPIN_PCI_BDF), e.g.
                          0000:01:00.0; without it they skip (the VM names its own)
      --allow-destructive let iomem tests unbind, bind, remove and rescan that device
                          (IOPIN_ALLOW_DESTRUCTIVE=1; bindings are restored after each test)
      --no-build          do not run make first (source tree only)
      --json FILE         also write one JSON record per test to FILE (see README, "Reports")
      --junit FILE        also write JUnit XML to FILE
      --vm KERNEL         run inside QEMU booting KERNEL: debian-5.10, debian-6.1,
                          debian-6.12, debian-7.2, debian-7.3 (the newest package of
                          that line; -cloud or -rt appended: that flavour), debian:VERSION (that
                          exact package, e.g. debian:6.12.117-1~deb12u1),
                          iopin-6.12-gup_test or iopin-6.12-MUTANT (built from
                          linux-source-6.12, see mutants/), a .deb or a bzImage
                          (see README, "Running in a VM"; vm/kernels.lock pins
                          the packages make check boots)
      --modules DIR       with --vm and a bzImage: modules_install tree for it
      --print-state       print the global state (THP knobs, hugetlb pools, PCI and
                          nvdimm bindings, swap areas, iopin's modules, RDMA devices)
                          each binary must leave as it found it, run nothing
  -h, --help              this help

Environment: IOPIN_DISK_DIR (ext4/xfs/btrfs dir for pagecache cases), IOPIN_TMPFS_DIR,
IOPIN_RACE_MS (race test length), IOPIN_SELFTEST_FAULT=verify (self-test: corrupt
every expected byte; every data check must then fail).
EOF
}

# report_dir_ok FILE: FILE can be written (its directory exists, it is not one).
report_dir_ok() {
	[ -d "$(dirname -- "$1")" ] && [ ! -d "$1" ]
}

# write_reports STREAM: the --json/--junit files, from a run's KTAP stream.
# Each goes through a fresh name in the target directory renamed over FILE:
# a link planted at FILE is replaced, never followed.
write_reports() {
	local i mode file t
	for ((i = 0; i < ${#reports[@]}; i += 2)); do
		mode=${reports[i]} file=${reports[i + 1]}
		t=$(mktemp "$(dirname -- "$file")/.iopin-report.XXXXXX") &&
			awk -v mode="$mode" -f "$HERE/lib/report.awk" "$1" > "$t" &&
			chmod 0644 "$t" && mv -fT -- "$t" "$file" ||
			{ rm -f -- "$t"; echo "run_tests.sh: cannot write $file" >&2; }
	done
}

die_usage() {
	echo "run_tests.sh: $*" >&2
	echo "Try '$0 --help'." >&2
	exit 2
}

# ---- paths the runner writes ---------------------------------------------
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

tests=()
collections=()
reports=()	# pairs: mode file, written from the run's KTAP by lib/report.awk
# ---- global state guard ---------------------------------------------------

# What a binary must leave as it found it (compared around each binary;
# --print-state prints it, for tools/check.sh's kill test): lib's state
# registry (lib/kstate.c), the same table whose kinds the keeper restores.
state_files() {
	"$HERE/lib/iopin-hold" --print-state
}

expects=()
default_expect=1
summary=0
list=0
build=1
vm=""
modules=""
passthrough=()

while [ $# -gt 0 ]; do
	case "$1" in
	-l|--list) list=1 ;;
	-s|--summary) summary=1 ;;
	--log-dir)
		[ $# -ge 2 ] || die_usage "--log-dir needs a directory"
		LOGDIR=$2; shift ;;
	-t|--test)
		[ $# -ge 2 ] || die_usage "$1 needs a test name"
		tests+=("$2"); passthrough+=("$1" "$2"); shift ;;
	-c|--collection)
		[ $# -ge 2 ] || die_usage "$1 needs a collection"
		collections+=("${2%/}"); passthrough+=("$1" "$2"); shift ;;
	--timeout)
		[ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] ||
			die_usage "--timeout needs a positive number of seconds"
		TIMEOUT=$2; passthrough+=("$1" "$2"); shift ;;
	--expect)
		[ $# -ge 2 ] || die_usage "--expect needs a file"
		[ -r "$2" ] || die_usage "cannot read expectations file '$2'"
		expects+=("$2"); shift ;;
	--no-expect) default_expect=0; passthrough+=("$1") ;;
	--selftest-fault)
		[ "${2:-}" = verify ] || die_usage "--selftest-fault takes 'verify'"
		export IOPIN_SELFTEST_FAULT=$2; passthrough+=("$1" "$2"); shift ;;
	--pci)
		[[ "${2:-}" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
			die_usage "--pci needs a PCI address like 0000:01:00.0"
		export IOPIN_PCI_BDF=$2; passthrough+=("$1" "$2"); shift ;;
	--allow-destructive) export IOPIN_ALLOW_DESTRUCTIVE=1; passthrough+=("$1") ;;
	--no-build) build=0 ;;
	--json|--junit)
		[ $# -ge 2 ] || die_usage "$1 needs a file"
		report_dir_ok "$2" || die_usage "$1 $2: no such directory, or it is a directory"
		reports+=("${1#--}" "$2"); shift ;;
	--vm)
		[ $# -ge 2 ] || die_usage "--vm needs a kernel"
		vm=$2; shift ;;
	--modules)
		[ $# -ge 2 ] || die_usage "--modules needs a directory"
		modules=$2; shift ;;
	--print-state)
		[ -x "$HERE/lib/iopin-hold" ] || die_usage "lib/iopin-hold is not built (run make)"
		state_files; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
[ $list = 1 ] && passthrough+=(--list)
[ $summary = 1 ] && passthrough+=(--summary)

if [ -n "$modules" ] && [ -z "$vm" ]; then
	die_usage "--modules only makes sense with --vm"
fi

# ---- environment: checked once, before anything runs -----------------------

positive_int() {
	[[ "$1" =~ ^[1-9][0-9]{0,8}$ ]]
}
positive_int "$TIMEOUT" || die_usage "IOPIN_TIMEOUT must be a positive number of seconds, not '$TIMEOUT'"
[ -z "${IOPIN_RACE_MS:-}" ] || positive_int "$IOPIN_RACE_MS" ||
	die_usage "IOPIN_RACE_MS must be a positive number of milliseconds, not '$IOPIN_RACE_MS'"
case "${IOPIN_SELFTEST_FAULT:-}" in
''|verify) ;;
*) die_usage "IOPIN_SELFTEST_FAULT takes 'verify' (or nothing), not '$IOPIN_SELFTEST_FAULT'" ;;
esac
for v in IOPIN_DISK_DIR IOPIN_TMPFS_DIR; do
	d=${!v:-}
	[ -z "$d" ] || [ -d "$d" ] || die_usage "$v=$d is not a directory"
done
[ -z "${IOPIN_EDU_BDF:-}" ] || [[ "$IOPIN_EDU_BDF" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
	die_usage "IOPIN_EDU_BDF must be a PCI address like 0000:00:03.0, not '$IOPIN_EDU_BDF'"
[ -z "${IOPIN_PCI_BDF:-}" ] || [[ "$IOPIN_PCI_BDF" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
	die_usage "IOPIN_PCI_BDF must be a PCI address like 0000:01:00.0, not '$IOPIN_PCI_BDF'"
if [ -n "$LOGDIR" ]; then
	why=$(private_dir "$LOGDIR") || die_usage "refusing log directory: $why"
fi
why=$(lock_problem)
[ -z "$why" ] || die_usage "refusing state lock ${IOPIN_STATE_LOCK:+(IOPIN_STATE_LOCK) }$STATE_LOCK: $why"
if [ -n "${KSRC:-}" ] && [ $build = 1 ] && [ -f "$HERE/Makefile" ]; then
	[ -d "$KSRC" ] && [ -r "$KSRC/tools/testing/selftests/kselftest_harness.h" ] ||
		die_usage "KSRC=$KSRC: cannot read tools/testing/selftests/kselftest_harness.h there"
fi

# ---- expectations files: checked before anything runs --------------------

# load_expectations FILE...: one entry a line (see expectations/mainline),
#   COLLECTION/BINARY:TEST-GLOB  [debian<V | debian>=V | linux<V | linux>=V]  FIX  WHY
# FIX is a 12-hex commit followed by its version (v6.2), 'unknown-commit'
# and the version (a fix whose commit id is not known yet), 'unfixed' or
# 'flaky'. A bound limits the entry to kernels built from a Debian package
# version before (or from) VERSION (lib/debver.sh: /proc/version, or
# IOPIN_KERNEL_DEBVER); on a kernel whose package version is unknown a
# bounded entry does not apply. linux<V / linux>=V bound the kernel's
# upstream version (lib/debver.sh kernel_upstream): known for every kernel. A malformed line is a usage error. When the
# suite's binaries are known (all[]), COLLECTION/BINARY must be one of
# them: a typo would otherwise never match and silently map nothing.
exp_pat=()
exp_fix=()
exp_src=()
all=()
. "$HERE/lib/debver.sh"
kdebver=$(kernel_debver)
kupstream=$(kernel_upstream)
load_expectations() {
	local f pat fix rest n ver bin b known op bound note kind
	for f in "$@"; do
		n=0
		while read -r pat fix rest || [ -n "$pat" ]; do
			n=$((n + 1))
			case "$pat" in ''|'#'*) continue ;; esac
			[[ "$pat" =~ ^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+):[^[:space:]]+$ ]] ||
				die_usage "$f:$n: '$pat' is not COLLECTION/BINARY:FIXTURE.VARIANT.TEST (a glob after the colon)"
			bin=${BASH_REMATCH[1]}
			if [ ${#all[@]} -gt 0 ]; then
				known=0
				for b in "${all[@]}"; do [ "$b" = "$bin" ] && known=1; done
				[ $known = 1 ] || die_usage "$f:$n: no test binary '$bin'"
			fi
			op="" bound="" note="" kind=""
			if [[ "$fix" == debian* || "$fix" == linux* ]]; then
				[[ "$fix" =~ ^(debian|linux)(<|>=)(.+)$ ]] &&
					kind=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} bound=${BASH_REMATCH[3]} &&
					debver_valid "$bound" ||
					die_usage "$f:$n: '$fix' is not a version bound (debian<VERSION, debian>=VERSION, linux<VERSION, linux>=VERSION)"
				read -r fix rest <<< "$rest"
			fi
			case "$fix" in
			unfixed|flaky) ;;
			'') die_usage "$f:$n: '$pat' names no fix: a 12-hex commit and version, 'unfixed' or 'flaky'" ;;
			*)
				[[ "$fix" =~ ^([0-9a-f]{12}|unknown-commit)$ ]] ||
					die_usage "$f:$n: '$fix' is none of: a 12-hex fix commit (or unknown-commit) and version, 'unfixed', 'flaky'"
				read -r ver _ <<< "$rest"
				[[ "$ver" =~ ^v[0-9]+\.[0-9]+(\.[0-9]+)?(-rc[0-9]+)?$ ]] ||
					die_usage "$f:$n: fix commit $fix must be followed by its version (like v6.2), not '$ver'"
				;;
			esac
			if [ "$kind" = debian ]; then
				debver_bound_holds "$kdebver" "$op" "$bound" || continue
				[ "$op" = '<' ] && note="; fixed in Debian $bound"
			elif [ "$kind" = linux ]; then
				debver_bound_holds "$kupstream" "$op" "$bound" || continue
			fi
			exp_pat+=("$pat")
			exp_fix+=("$fix ${rest%%#*}")
			exp_src+=("$(basename "$f")$note")
		done < "$f"
	done
}

if [ -n "$vm" ]; then
	[ -x "$HERE/vm/run-vm.sh" ] || die_usage "--vm needs the source tree (vm/run-vm.sh)"
	args=(--kernel "$vm")
	[ -n "$modules" ] && args+=(--modules "$modules")
	for f in "${expects[@]}"; do args+=(--expect "$f"); done
	# Per-kernel expectations: expectations/debian-<line> for Debian's
	# kernels, named by line (debian-6.12) or exact package version
	# (debian:6.12.117-1~deb12u1); iopin's own (vm/build-kernel.sh) are
	# Debian's 6.12 source. Entries bounded by a package version apply
	# by the version the guest's kernel was built from.
	case $vm in
	iopin-6.12-*) vm_expect=debian-6.12 ;;
	debian:*)
		[[ ${vm#debian:} =~ ^([0-9]+\.[0-9]+)[.-] ]] && vm_expect=debian-${BASH_REMATCH[1]} &&
			debver_valid "${vm#debian:}" ||
			die_usage "--vm $vm: not a Debian kernel package version (like debian:6.12.117-1~deb12u1)" ;;
	debian-*-cloud|debian-*-rt) vm_expect=${vm%-*} ;;	# a flavour: its line's
	*) vm_expect=$vm ;;
	esac
	if [ $default_expect = 1 ] && [ -r "$HERE/expectations/$vm_expect" ]; then
		args+=(--expect "$HERE/expectations/$vm_expect")
	fi
	# Syntax here, before the guest boots; the guest's runner checks the
	# binaries named against its tests.list.
	for ((i = 1; i < ${#args[@]}; i++)); do
		[ "${args[i - 1]}" = --expect ] && load_expectations "${args[i]}"
	done
	"$HERE/tools/deps.sh" --vm >&2 || { echo "run_tests.sh: missing VM dependencies" >&2; exit 2; }
	[ ${#reports[@]} = 0 ] && exec "$HERE/vm/run-vm.sh" "${args[@]}" -- "${passthrough[@]}"
	# Reports are made here from the guest's stream, kept as it passes.
	stream=$(mktemp "${TMPDIR:-/tmp}/iopin-vm-stream.XXXXXX") || exit 2
	trap 'rm -f "$stream"' EXIT
	"$HERE/vm/run-vm.sh" "${args[@]}" -- "${passthrough[@]}" | tee "$stream"
	rc=${PIPESTATUS[0]}
	write_reports "$stream"
	exit "$rc"
fi

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

# ---- selection ----------------------------------------------------------

mapfile -t all < "$HERE/tests.list"
declare -A filter=()	# binary -> -r args
selected=()

add_binary() {
	local b=$1 x
	for x in "${selected[@]}"; do [ "$x" = "$b" ] && return; done
	selected+=("$b")
}

for c in "${collections[@]}"; do
	found=0
	for b in "${all[@]}"; do
		[ "${b%%/*}" = "$c" ] && { add_binary "$b"; found=1; }
	done
	[ $found = 1 ] || die_usage "no collection '$c' (have: $(printf '%s\n' "${all[@]%%/*}" | sort -u | tr '\n' ' '))"
done
for t in "${tests[@]}"; do
	bin=${t%%:*}
	case "$t" in *:*) one=${t#*:} ;; *) one="" ;; esac
	bin=${bin/://}
	match=""
	for b in "${all[@]}"; do
		if [ "$b" = "$bin" ] || [ "${b#*/}" = "$bin" ]; then match=$b; fi
	done
	[ -n "$match" ] || die_usage "no test binary '$bin' (try --list)"
	add_binary "$match"
	if [ -n "$one" ]; then
		filter[$match]="${filter[$match]:-} -r $one"
	fi
done
[ ${#selected[@]} = 0 ] && selected=("${all[@]}")

# A -t filter must name a test the binary has: else the harness would run
# nothing and the binary would look like an empty pass.
for b in "${!filter[@]}"; do
	[ -x "$HERE/$b" ] || die_usage "$b is not built (run make)"
	names=$("$HERE/$b" --iopin-list | cut -f1)
	for one in ${filter[$b]}; do
		[ "$one" = -r ] && continue
		grep -qxF -- "$one" <<< "$names" || die_usage "$b has no test '$one' (try --list)"
	done
done

# The log of binary $1 in LOGDIR.
log_name() {
	echo "${1//\//_}.log"
}
if [ $summary = 1 ] && [ $list = 0 ] && [ -n "$LOGDIR" ]; then
	for b in "${selected[@]}"; do
		f="$LOGDIR/$(log_name "$b")"
		if [ -e "$f" ] || [ -L "$f" ]; then
			die_usage "$f exists: give a new or empty log directory"
		fi
	done
fi

# ---- listing --------------------------------------------------------------

if [ $list = 1 ]; then
	for b in "${selected[@]}"; do
		"$HERE/$b" --iopin-list | while IFS=$'\t' read -r name guard; do
			printf '%s:%s\t[%s]\n' "$b" "$name" "$guard"
		done
	done
	exit 0
fi

# ---- expectations --------------------------------------------------------

load_expectations "${expects[@]}"

# Is $1 an expected failure? Sets $fix (no subshell: called per result).
expected_fix() {
	local i
	for i in "${!exp_pat[@]}"; do
		# shellcheck disable=SC2053
		if [[ "$1" == ${exp_pat[$i]} ]]; then
			fix="${exp_fix[$i]% } (expectations/${exp_src[$i]})"
			return 0
		fi
	done
	return 1
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

# ---- running ----------------------------------------------------------------

[ -x "$HERE/lib/iopin-hold" ] || die_usage "lib/iopin-hold is not built (run make)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iopin-run.XXXXXX") || { echo "run_tests.sh: mktemp failed" >&2; exit 2; }
# The whole nested stream, also with -s: what lib/report.awk reads.
exec {full}> "$tmp/full.ktap"
cleanup() {
	release_pools
	rm -rf "$tmp"
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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ $summary = 1 ] && [ -z "$LOGDIR" ]; then
	LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/iopin-logs.XXXXXX") ||
		die_usage "cannot make a log directory in ${TMPDIR:-/tmp} (give --log-dir)"
fi

# ---- the guardian: timeouts, and nothing left behind after a SIGKILL ------
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

# The guardian's pipe: fd $guard in the runner only.
exec {guard}> >(exec setsid "$BASH" -c "$(declare -f session_procs kill_binary binary_alive guardian); guardian \"\$@\"" \
	guardian "$TIMEOUT" "$tmp" > /dev/null 2>&1)

# Nest a binary's output, counting results and applying expectations.
# Writes "pass fail xfail xpass skip" to $tmp/counts.
nest() {
	local b=$1 line indent="    " pass=0 fail=0 xfail=0 xpass=0 skip=0 fix tick=0
	local re='^(not ok|ok) ([0-9]+) ([^#]*[^# ])( # (.*))?$'
	# fd 3: stdout, or the binary's log file with --summary.
	if [ $summary = 1 ]; then
		# LOGDIR is private (checked) and the name was checked free:
		# noclobber's O_EXCL create then refuses anything planted.
		set -C
		exec 3> "$LOGDIR/$(log_name "$b")" || exit 2
		set +C
	else
		exec 3>&1
	fi
	# A VM host that sees no output takes a silent guest for a dead one.
	[ $summary = 1 ] && [ "${IOPIN_VM:-}" = 1 ] && tick=1
	echo "${indent}KTAP version 1" >&3
	while IFS= read -r line; do
		if [[ "$line" =~ $re ]]; then
			local res=${BASH_REMATCH[1]} num=${BASH_REMATCH[2]} name=${BASH_REMATCH[3]}
			local dir=${BASH_REMATCH[5]:-}
			if expected_fix "$b:$name"; then
				if [ "$res" = "not ok" ]; then
					echo "$indent# $name failed as expected on this kernel (not ok from the test)" >&3
					line="ok $num $name # XFAIL $fix"
					xfail=$((xfail + 1))
				elif [[ "$dir" != SKIP* ]] && [[ "$fix" == flaky* ]]; then
					pass=$((pass + 1))
				elif [[ "$dir" != SKIP* ]]; then
					echo "$indent# $name passed but is expected to fail: stale expectation? $fix" >&3
					line="not ok $num $name # XPASS $fix"
					xpass=$((xpass + 1))
				else
					skip=$((skip + 1))
				fi
			elif [ "$res" = "not ok" ]; then
				fail=$((fail + 1))
			elif [[ "$dir" == SKIP* ]]; then
				skip=$((skip + 1))
			else
				pass=$((pass + 1))
			fi
		fi
		echo "$indent$line" >&3
		echo "$indent$line" >&"$full"
		[ $tick = 0 ] || echo "IOPIN-TICK"
	done
	echo "ok 0 ${b/\//:}" >&"$full"	# closes the binary for lib/report.awk
	echo "$pass $fail $xfail $xpass $skip" > "$tmp/counts"
}

total_pass=0 total_fail=0 total_xfail=0 total_xpass=0 total_skip=0
n=0 failed=0 skipped=0 errors=0

# ---- VM guest: progress for the host, resuming after a crashed guest -------
#
# In a VM guest (IOPIN_VM=1) the runner tells vm/run-vm.sh, on lines the host
# swallows, what it runs: "IOPIN-PLAN: B..." (the selection), "IOPIN-RUNNING:
# N COLL:BIN TIMEOUT" before binary N and "IOPIN-STATE: N PASS FAIL XFAIL
# XPASS SKIP ERRORS FAILED SKIPPED" (the running totals) after it, and
# with -s "IOPIN-TICK" for each line of output the log takes. When a
# binary crashes or hangs the guest, the host boots a fresh one with
# IOPIN_RESUME=FILE: its first line is such a state (the crashed binary
# included), the rest the stream so far. This run then goes on after binary
# N of the same selection, numbering on from there, without a second KTAP
# header or plan, and counts and summarises the whole run.
resume=0
vm_note() {
	[ "${IOPIN_VM:-}" = 1 ] && echo "IOPIN-$*"
	return 0
}
if [ -n "${IOPIN_RESUME:-}" ]; then
	read -r resume total_pass total_fail total_xfail total_xpass total_skip \
		errors failed skipped < "$IOPIN_RESUME" 2>/dev/null
	for v in "$resume" "$total_pass" "$total_fail" "$total_xfail" "$total_xpass" \
		 "$total_skip" "$errors" "$failed" "$skipped"; do
		[[ "$v" =~ ^[0-9]{1,9}$ ]] || die_usage "IOPIN_RESUME=$IOPIN_RESUME: not a run state"
	done
	[ "$resume" -le ${#selected[@]} ] || die_usage "IOPIN_RESUME: $resume binaries done, ${#selected[@]} selected"
	tail -n +2 "$IOPIN_RESUME" >&"$full"
else
	echo "KTAP version 1"
fi
hdr="# iopin on $(uname -r), $(uname -m)$([ "$(id -u)" = 0 ] || echo ', not root: tests that need root skip')"
echo "$hdr"
[ $resume = 0 ] && echo "$hdr" >&"$full"
[ ${#expects[@]} -gt 0 ] && echo "# expectations: ${expects[*]##*/}"
[ $summary = 1 ] && echo "# logs: $LOGDIR"
[ $resume = 0 ] && echo "1..${#selected[@]}"
vm_note "PLAN: ${selected[*]}"
one_run_at_a_time
hold_pools
for b in "${selected[@]}"; do
	n=$((n + 1))
	[ $n -le $resume ] && continue
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
