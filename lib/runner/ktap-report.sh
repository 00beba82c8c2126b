# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: the KTAP stream (each binary's output nested and
# counted) and the --json/--junit reports made from it.

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
