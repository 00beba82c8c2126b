# SPDX-License-Identifier: GPL-2.0-only
#
# run_tests.sh, sourced: --vm (the run in a QEMU guest), and in a guest
# the progress lines for the host and the resume after a crashed guest.

# run_in_vm: run the selection in a guest booting $vm; does not return.
run_in_vm() {
	# stream: global, the EXIT trap removes it.
	local args i f vm_expect rc
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
}

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

# resume_or_start: after a crashed guest (IOPIN_RESUME) the state so far
# and the stream so far; else the KTAP header.
resume_or_start() {
	local v
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
}
