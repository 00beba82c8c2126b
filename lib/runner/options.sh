# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: usage, command line and environment.

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

die_usage() {
	echo "run_tests.sh: $*" >&2
	echo "Try '$0 --help'." >&2
	exit 2
}

# parse_args ARGS...: the options into the run's settings (globals).
parse_args() {
	tests=()
	collections=()
	reports=()	# pairs: mode file, written from the run's KTAP by lib/report.awk
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
}

positive_int() {
	[[ "$1" =~ ^[1-9][0-9]{0,8}$ ]]
}

# check_env: the environment, checked once, before anything runs.
check_env() {
	local v d why
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
}
