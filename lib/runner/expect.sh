# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: expectations files.

. "$HERE/lib/debver.sh"

# expect_init: no entries yet, the running kernel's versions known.
expect_init() {
	exp_pat=()
	exp_fix=()
	exp_src=()
	all=()
	kdebver=$(kernel_debver)
	kupstream=$(kernel_upstream)
}

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
