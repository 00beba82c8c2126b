# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: which binaries (and tests) a run selects, and
# --list.

add_binary() {
	local b=$1 x
	for x in "${selected[@]}"; do [ "$x" = "$b" ] && return; done
	selected+=("$b")
}

# select_binaries: selected[] and filter[] (binary -> -r args) from -c and
# -t, every binary (tests.list) when none is named.
select_binaries() {
	local c b t bin one found match names
	mapfile -t all < "$HERE/tests.list"
	declare -gA filter=()	# binary -> -r args
	selected=()
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
}

# list_tests: --list, one line per test with the guard it names and, after
# a tab, what it needs (from the variant's rows and the test's own).
list_tests() {
	local b
	for b in "${selected[@]}"; do
		"$HERE/$b" --iopin-list=needs | while IFS=$'\t' read -r name guard needs; do
			printf '%s:%s\t[%s]%s\n' "$b" "$name" "$guard" "${needs:+	needs: $needs}"
		done
	done
}
