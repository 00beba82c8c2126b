#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-state.sh [--vm KERNEL]: the runner's global state check sees a
# leak of every kind of state lib's state registry (lib/kstate.c) lists.
#
#  - run_tests.sh --print-state is the registry's own print (lib/iopin-hold
#    --print-state): the runner and the keeper cannot know different lists;
#  - natively, with the keeper's self-test fault IOPIN_SELFTEST_LEAK=ROW (it
#    leaves that row's state as the test left it), a binary that changes a
#    THP knob or swaps to a file of its own is reported "global state not
#    restored", naming the knob or the swap file, and the hugetlb pool the
#    keeper of lib/iopin-hold raised stays raised; afterwards this script
#    puts every value back from the state it printed first;
#  - with --vm KERNEL, in one guest: a PCI binding and one of iopin's
#    modules (ptrace_access/access_gate unbinds the claim device and loads
#    iopin_gate) are reported as not restored (the guest is thrown away).
#
# No planted leak here: nd namespace bindings and PCI presence (the tests,
# devmem_revoke/pmem and pci_mmap/remove, put those back themselves, the
# keeper only after a kill), RDMA devices (the kernel removes them with
# the test's network namespace, whatever the keeper does).
# Needs root (the knobs and swap); exit 0 all seen, 1 a leak went unseen,
# 4 skipped (not root, or no state of a kind to change here).
. "$(dirname "$0")/lib.sh"
lib_init check-state
[ "$(id -u)" = 0 ] || skip "needs root"
cd "$top" || die "cannot enter $top"
[ -x lib/iopin-hold ] || die "lib/iopin-hold is not built (run make)"
vm=""
[ "${1:-}" = --vm ] && { [ $# = 2 ] || usage "--vm KERNEL"; vm=$2; }
lib_tmpdir work

# The runs below use their own state lock (hence their own run lock) and
# hold the machine's run lock throughout: no other run of the suite sees
# the leaked state before it is put back.
export IOPIN_STATE_LOCK=$work/state.lock
machine_lock="/run/iopin-run.lock"
if [ -f "$machine_lock" ] && [ ! -L "$machine_lock" ]; then
	exec {lockfd}>> "$machine_lock" && flock -w 900 "$lockfd"
fi

state() { lib/iopin-hold --print-state; }

# put_back BEFORE: write back the THP and hugetlb knobs (/sys/kernel/mm,
# the rows leaked natively) BEFORE lists; swap off (and remove) the swap
# areas it does not list.
put_back() {
	local line f v
	while IFS= read -r line; do
		case $line in
		/sys/kernel/mm/*=*)
			f=${line%%=*} v=${line#*=}
			[[ $v == *'['*']'* ]] && { v=${v#*[}; v=${v%%]*}; }
			[ "$(cat "$f" 2>/dev/null)" = "${line#*=}" ] || echo "$v" > "$f" ;;
		esac
	done <<< "$1"
	state | sed -n 's/^swap: //p' | while IFS= read -r f; do
		grep -qxF "swap: $f" <<< "$1" && continue
		swapoff "$f" && case $f in /dev/*) ;; *) rm -f -- "$f" ;; esac
	done
}

[ "$(./run_tests.sh --print-state)" = "$(state)" ] ||
	bad "run_tests.sh --print-state is not lib/iopin-hold --print-state"
ok "run_tests.sh --print-state is the registry's print ($(state | wc -l) lines)"

# leak_seen ROW WANT TEST...: a run of TEST with ROW's restore left out is
# a binary whose global state is not restored, WANT (a regex) among the
# lines named.
leak_seen() {
	local row=$1 want=$2 before out
	shift 2
	before=$(state)
	IOPIN_SELFTEST_LEAK=$row ./run_tests.sh --no-build "$@" > "$work/$row.out" 2>&1
	out=$(grep -m1 ': global state not restored: ' "$work/$row.out")
	put_back "$before"
	[ "$(state)" = "$before" ] || bad "$row: could not put the state back: $(diff <(echo "$before") <(state) | tr '\n' ' ')"
	if [ -z "$out" ]; then
		tail -5 "$work/$row.out"
		bad "$row: a leak with IOPIN_SELFTEST_LEAK=$row was not reported"
	elif ! grep -qE "$want" <<< "$out"; then
		bad "$row: the report does not name $want: $out"
	else
		ok "$row: leak reported: ${out:0:150}"
	fi
}

if [ -z "$vm" ]; then
	t=cow/fork:fork.thp_16kB.child_keeps_its_copy_when_parent_writes
	if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/hugepages-16kB/enabled 2>/dev/null; then
		leak_seen thp 'hugepages-16kB/enabled=' -t "$t"
	else
		echo "check-state: thp: the 16kB THP knob is not 'never' here: nothing to change"
	fi
	if [ "$(grep -c . /proc/swaps)" -le 1 ]; then
		leak_seen swap 'swap: ' -t cow/fork:fork.anon_swapped.child_keeps_its_copy_when_parent_writes
	else
		echo "check-state: swap: the machine swaps already: the tests add no swap file"
	fi
	# The pool lib/iopin-hold raises (its keeper restores it for a run).
	pool=/sys/kernel/mm/hugepages/hugepages-2048kB
	if [ -r "$pool/free_hugepages" ]; then
		before=$(state)
		n=$(( $(cat "$pool/free_hugepages") + 1 ))
		IOPIN_SELFTEST_LEAK=hugetlb lib/iopin-hold "hugetlb:2048:$n" < /dev/null > "$work/hold.out" 2>&1
		# The keeper restores (or leaves) once its lock is free.
		flock "$IOPIN_STATE_LOCK" true
		after=$(state)
		put_back "$before"
		if grep -q '^ok' "$work/hold.out" &&
		   diff <(echo "$before") <(echo "$after") | grep -q "^> $pool/nr_hugepages="; then
			ok "hugetlb: the raised pool shows in the state ($(grep '^ok' "$work/hold.out"))"
		elif grep -q '^skip' "$work/hold.out"; then
			echo "check-state: hugetlb: $(cat "$work/hold.out")"
		else
			bad "hugetlb: a pool left raised does not show in the state"
		fi
	fi
else
	# access_gate unbinds the claim device and loads iopin_gate: with the
	# keeper's restore of both left out, both must be named.
	out=$work/vm.out
	IOPIN_SELFTEST_LEAK=pci,nd,module ./run_tests.sh --vm "$vm" --no-expect -s \
		-t ptrace_access/access_gate > "$out" 2>&1
	line=$(grep -m1 "^# ptrace_access:access_gate: global state not restored: " "$out")
	for want in "/sys/bus/pci/devices/[0-9a-f:.]*: driver= " "module: iopin_gate"; do
		if grep -q "> $want" <<< "$line"; then
			ok "VM $vm: leak reported: $(grep -o "> $want[^<>]*" <<< "$line" | head -1)"
		else
			grep -E "^# ptrace_access|^(not )?ok [0-9]+ ptrace_access" "$out"
			bad "VM $vm: no leak of '$want' reported"
		fi
	done
fi
lib_done
