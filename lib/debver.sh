# SPDX-License-Identifier: GPL-2.0-only
#
# Debian package versions of kernels, for expectations bounded by the
# package version (sourced by run_tests.sh; bash, no dpkg needed: the VM
# guest has none).

# kernel_debver: the Debian package version the running kernel was built
# from ("6.12.118-1~deb12u1"): IOPIN_KERNEL_DEBVER if set (the VM runner
# sets it for kernels it knows, e.g. iopin's own builds of a Debian source
# package), else what Debian's kernels print in /proc/version
# ("... #1 SMP PREEMPT_DYNAMIC Debian 6.12.118-1~deb12u1 (2026-11-28)").
# Prints nothing for a kernel that is not a Debian build.
kernel_debver() {
	local v
	if [ -n "${IOPIN_KERNEL_DEBVER:-}" ]; then
		echo "$IOPIN_KERNEL_DEBVER"
		return
	fi
	v=$(sed -n 's/.* Debian \([0-9][A-Za-z0-9.+~:-]*\) .*/\1/p' /proc/version 2>/dev/null)
	echo "${v%% *}"
}

# kernel_upstream: the upstream version of the running kernel ("6.12.118"):
# that of its Debian package version when known (Debian's uname -r names an
# ABI, "5.10.0-46-amd64", not the version), else uname -r's leading numbers.
kernel_upstream() {
	local v
	v=$(kernel_debver)
	if [ -n "$v" ]; then
		v=${v#*:}
		echo "${v%%[-~+]*}"
		return
	fi
	uname -r | sed -n 's/^\([0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p'
}

# debver_valid V: V has the shape of a Debian version.
debver_valid() {
	[[ "$1" =~ ^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$ ]]
}

# _debver_order C: the weight dpkg gives character C in a non-digit run:
# '~' sorts before everything, even the end of the part; letters before
# other characters.
_debver_order() {
	local c=$1 n
	case $c in
	'~') echo -1 ;;
	'') echo 0 ;;
	[A-Za-z]) printf -v n '%d' "'$c"; echo "$n" ;;
	*) printf -v n '%d' "'$c"; echo $((n + 256)) ;;
	esac
}

# _debver_part_cmp A B: dpkg's comparison of one part (upstream version or
# revision): alternating runs of non-digits (by _debver_order) and digits
# (as numbers). Prints -1, 0 or 1.
_debver_part_cmp() {
	local a=$1 b=$2 ca cb oa ob da db
	while [ -n "$a" ] || [ -n "$b" ]; do
		while :; do
			ca=${a:0:1} cb=${b:0:1}
			[[ $ca == [0-9] ]] && ca=""
			[[ $cb == [0-9] ]] && cb=""
			[ -z "$ca" ] && [ -z "$cb" ] && break
			oa=$(_debver_order "$ca") ob=$(_debver_order "$cb")
			((oa < ob)) && { echo -1; return; }
			((oa > ob)) && { echo 1; return; }
			a=${a:1} b=${b:1}
		done
		da=${a%%[!0-9]*} db=${b%%[!0-9]*}
		a=${a:${#da}} b=${b:${#db}}
		da=$((10#${da:-0})) db=$((10#${db:-0}))
		((da < db)) && { echo -1; return; }
		((da > db)) && { echo 1; return; }
	done
	echo 0
}

# debver_cmp A B: -1, 0 or 1 as A sorts before, equal to or after B in
# Debian's version order (epoch, upstream version, revision), as
# `dpkg --compare-versions` has it.
debver_cmp() {
	local a=$1 b=$2 ea=0 eb=0 ra="" rb="" r
	[[ $a == *:* ]] && { ea=${a%%:*}; a=${a#*:}; }
	[[ $b == *:* ]] && { eb=${b%%:*}; b=${b#*:}; }
	((10#$ea < 10#$eb)) && { echo -1; return; }
	((10#$ea > 10#$eb)) && { echo 1; return; }
	[[ $a == *-* ]] && { ra=${a##*-}; a=${a%-*}; }
	[[ $b == *-* ]] && { rb=${b##*-}; b=${b%-*}; }
	r=$(_debver_part_cmp "$a" "$b")
	[ "$r" != 0 ] && { echo "$r"; return; }
	_debver_part_cmp "$ra" "$rb"
}

# debver_bound_holds KERNEL_VERSION OP BOUND: the bound of an expectations
# entry ("debian<BOUND" or "debian>=BOUND") holds for KERNEL_VERSION; never
# for an unknown (empty) version.
debver_bound_holds() {
	local r
	[ -n "$1" ] || return 1
	r=$(debver_cmp "$1" "$3")
	case $2 in
	'<') [ "$r" = -1 ] ;;
	'>=') [ "$r" != -1 ] ;;
	*) return 1 ;;
	esac
}
