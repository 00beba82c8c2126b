#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/pkg-bisect.sh - git bisect over Debian's kernel packages: between
# two builds of one line, the first build whose verdict on a test differs
# from the older build's (which package brought a fix, or a regression).
#
#   tools/pkg-bisect.sh OLD-VERSION NEW-VERSION -t TEST [-t TEST]... [run_tests.sh args]
#   e.g. tools/pkg-bisect.sh 6.12.107-1~deb12u1 6.12.118-1~deb12u1 \
#          -t 'ptrace_access/iomem:bar.devmem_proc_pid_mem.read_running_past_the_end_of_a_mapping_returns_no_byte_beyond'
#
# The builds between are those Debian's archive has now of the same line,
# flavour and distribution suffix as the two given (vm/kernels.sh builds):
# 6.12.107-1~deb12u1 .. 6.12.118-1~deb12u1 are bookworm's, +deb13 trixie's.
# Each step boots one build with --no-expect (a test's own verdict) and
# the given selection: pass (exit 0) or fail (exit 1); a build that cannot
# be tested (125, 4 = all skipped, anything else) is skipped, as git bisect
# skips. Prints every step and the first build with the other verdict.
# Exit 0 found, 1 the two ends agree or no build between decides, 2 usage.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
usage() { sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'; }
[ $# -ge 4 ] || { usage >&2; exit 2; }
old=$1 new=$2
shift 2
. lib/debver.sh
for v in "$old" "$new"; do
	debver_valid "$v" && [[ $v =~ ^[0-9]+\.[0-9]+[.-] ]] || { echo "pkg-bisect: '$v' is not a package version" >&2; exit 2; }
done
[ "$(debver_cmp "$old" "$new")" = -1 ] || { echo "pkg-bisect: $old must be older than $new" >&2; exit 2; }
grep -qE '(^| )-t' <<< " $*" || { echo "pkg-bisect: name the test(s) with -t" >&2; exit 2; }
series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<< "$old")
[ "$series" = "$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<< "$new")" ] ||
	{ echo "pkg-bisect: $old and $new are not of one kernel line" >&2; exit 2; }

# The builds of the line between (and including) the two, oldest first,
# from the same suite as the ends (the package name's +debNN / revision).
suffix() { sed -nE 's/.*(~deb[0-9]+u[0-9]+|~bpo[0-9]+\+[0-9]+)$/\1/p' <<< "$1" | sed -E 's/u[0-9]+$//; s/\+[0-9]+$//'; }
sfx=$(suffix "$old")
mapfile -t builds < <(vm/kernels.sh builds "$series" | awk '{ print $2 }' | sort -u |
	while read -r v; do
		[ "$(suffix "$v")" = "$sfx" ] || continue
		[ "$(debver_cmp "$v" "$old")" != -1 ] && [ "$(debver_cmp "$v" "$new")" != 1 ] && echo "$v"
	done | sort -V)
[ ${#builds[@]} -ge 2 ] && [ "${builds[0]}" = "$old" ] && [ "${builds[-1]}" = "$new" ] ||
	{ echo "pkg-bisect: Debian's archive does not have both $old and $new of one suite (have: ${builds[*]})" >&2; exit 2; }
echo "pkg-bisect: ${#builds[@]} builds of $series from $old to $new: ${builds[*]}"

declare -A verdict
# judge I ARGS...: pass, fail or skip for builds[I] with run_tests.sh ARGS.
judge() {
	local v=${builds[$1]} rc
	shift
	[ -n "${verdict[$v]:-}" ] && { echo "${verdict[$v]}"; return; }
	./run_tests.sh --vm "debian:$v" --no-expect "$@" > /dev/null 2>&1
	rc=$?
	case $rc in 0) verdict[$v]=pass ;; 1) verdict[$v]=fail ;; *) verdict[$v]=skip ;; esac
	echo "${verdict[$v]}"
}
sel=("$@")
step() {
	local i=$1 r
	r=$(judge "$i" "${sel[@]}")
	echo "pkg-bisect: ${builds[$i]}: $r" >&2
	echo "$r"
}

lo=0 hi=$((${#builds[@]} - 1))
vlo=$(step $lo) vhi=$(step $hi)
if [ "$vlo" = skip ] || [ "$vhi" = skip ] || [ "$vlo" = "$vhi" ]; then
	echo "pkg-bisect: $old is $vlo, $new is $vhi: nothing to bisect"
	exit 1
fi
# Invariant: builds[lo] has vlo, builds[hi] the other verdict.
while [ $((hi - lo)) -gt 1 ]; do
	mid=$(( (lo + hi) / 2 ))
	r=$(step $mid)
	probe=$mid
	# A build that cannot be tested: try its neighbours towards hi, then lo.
	while [ "$r" = skip ]; do
		probe=$((probe + 1))
		[ $probe -lt $hi ] || break
		r=$(step $probe)
	done
	if [ "$r" = skip ]; then
		echo "pkg-bisect: no build between ${builds[$lo]} and ${builds[$hi]} could be tested"
		exit 1
	fi
	if [ "$r" = "$vlo" ]; then lo=$probe; else hi=$probe; fi
done
echo "pkg-bisect: first build with verdict $vhi: ${builds[$hi]} (${builds[$lo]}: $vlo)"
exit 0
