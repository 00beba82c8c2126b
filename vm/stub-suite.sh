#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/stub-suite.sh DIR [--hang|--stall] - write a stand-in suite install dir.
#
# DIR gets the layout of 'make install INSTALL_PATH=DIR' (run_tests.sh,
# <collection>/<binary>, expectations/) with a run_tests.sh that checks what
# the VM promises (devices at their BDFs, modules, swap, NUMA, scratch disk,
# ivshmem pattern) and prints the result as KTAP.  Used by vm/selftest.sh
# and bench/vm-boot.sh to exercise the runner without the real suite.
# With --hang, run_tests.sh never returns (to test the timeout path); with
# --stall, it also logs the RCU stall of a guest whose timers stopped.
# With --crash, DIR holds the real run_tests.sh (its lib/runner/ parts and
# lib/iopin-hold, which prints the global state: built) and six stand-in binaries
# (collection stub), in this order: first (2 passes; logs a BUG line and
# goes on: not a crash), panic (1 pass, then panics the kernel in its second
# test with sysrq-c; a third test is never reached), second (2 passes), oops
# (logs a BUG line, then hangs in its only test, unkillable: a write to a
# frozen ext4), hang (the same hang before its first test, no kernel
# message), last (1 pass): a run that keeps going must give every binary a
# verdict.

set -eu

dir=${1:?usage: stub-suite.sh DIR [--hang|--stall|--crash]}
hang=${2:-}

rm -rf "$dir"
if [[ $hang == --crash ]]; then
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$dir/lib/runner" "$dir/stub"
	cp "$top/run_tests.sh" "$dir/"
	cp "$top/lib/report.awk" "$top/lib/debver.sh" "$top/lib/iopin-hold" "$dir/lib/"
	cp "$top/lib/runner/"*.sh "$dir/lib/runner/"
	printf 'stub/%s\n' first panic second oops hang last >"$dir/tests.list"
	# stand_in NAME BODY: a binary printing KTAP as the kselftest harness
	# does under KSFT_TAP_LEVEL=1; BODY may use pass TEST and run TEST.
	stand_in() {
		cat >"$dir/stub/$1" <<BIN
#!/bin/bash
# Stand-in test binary written by vm/stub-suite.sh --crash.
n=0
run() { echo "#  RUN           stub.$1.\$1 ..."; }
pass() { run "\$1"; n=\$((n + 1)); echo "#            OK  stub.$1.\$1"; echo "ok \$n stub.$1.\$1"; }
# An unkillable hang: a write to the frozen scratch ext4 (D state).
freeze() { sync; fsfreeze --freeze /mnt/scratch && echo x >/mnt/scratch/frozen; sleep 100000; }
$2
BIN
		chmod +x "$dir/stub/$1"
	}
	stand_in first 'echo 1..2; pass a
echo "BUG: stand-in, logged by stub/first; the guest goes on" >/dev/kmsg; sleep 1; pass b'
	# The pause lets the guest's serial driver hand the lines above to
	# QEMU: what is still in its buffer when the kernel panics is lost.
	stand_in panic 'echo 1..3; pass a; run b; sync; sleep 1; echo c >/proc/sysrq-trigger; sleep 100000'
	stand_in second 'echo 1..2; pass a; pass b'
	stand_in oops 'echo 1..1; run a
echo "BUG: kernel NULL pointer dereference, address: 0000000000000000 (stand-in)" >/dev/kmsg; freeze'
	stand_in hang 'echo 1..2; freeze'
	stand_in last 'echo 1..1; pass a'
	exit 0
fi
mkdir -p "$dir/vmcheck" "$dir/expectations"
# A dynamic ELF from the host, so the runner's library resolution is used.
cp "$(command -v stat)" "$dir/vmcheck/stat"
echo "# stand-in expectations" >"$dir/expectations/stub"

cat >"$dir/run_tests.sh" <<'STUB'
#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Stand-in run_tests.sh written by vm/stub-suite.sh.
cd "$(dirname "$0")"
[[ -e .hang ]] && { echo "KTAP version 1"; echo "1..1"; sleep 100000; }
# What the kernel logs when QEMU/TCG loses a CPU's timer, then silence.
[[ -e .stall ]] && { echo "KTAP version 1"; echo "1..1"
	echo "rcu: rcu_preempt kthread timer wakeup didn't happen for 9999 jiffies! (stand-in)" >/dev/kmsg
	sleep 100000; }

n=0 failed=0
check() {	# check NAME COMMAND...
	n=$((n + 1))
	if "${@:2}" >/dev/null 2>&1; then
		echo "    ok $n vm.$1"
	else
		echo "    not ok $n vm.$1"
		failed=1
	fi
}
pci_id() {	# pci_id BDF VENDOR:DEVICE...
	local bdf=$1 id
	id=$(cut -c3- "/sys/bus/pci/devices/$bdf/vendor"):$(cut -c3- "/sys/bus/pci/devices/$bdf/device")
	shift
	[[ " $* " == *" $id "* ]]
}
ivshmem_pattern() {	# first two words of BAR2 through /dev/mem
	local base w0 w1
	[[ $IOPIN_IVSHMEM_PATTERN == le32-index-xor-a5a5a5a5 ]] || return 1
	base=$(sed -n 3p "/sys/bus/pci/devices/$IOPIN_IVSHMEM_BDF/resource" | cut -d' ' -f1)
	w0=$(devmem $((base)) 32); w1=$(devmem $((base + 4092)) 32)
	[[ $((w0)) == $((0xa5a5a5a5)) && $((w1)) == $((1023 ^ 0xa5a5a5a5)) ]]
}
vfio_bind_edu() {
	echo vfio-pci >"/sys/bus/pci/devices/$IOPIN_EDU_BDF/driver_override" &&
		echo "$IOPIN_EDU_BDF" >/sys/bus/pci/drivers_probe &&
		[[ -e /dev/vfio/vfio && $(readlink "/sys/bus/pci/devices/$IOPIN_EDU_BDF/driver") == */vfio-pci ]]
}

echo "KTAP version 1"
echo "1..2"
echo "    KTAP version 1"
echo "    1..12"
check edu_present pci_id "$IOPIN_EDU_BDF" 1234:11e8
check ivshmem_present pci_id "$IOPIN_IVSHMEM_BDF" 1af4:1110
check rng_present pci_id "$IOPIN_RNG_BDF" 1af4:1005 1af4:1044
check vfio_pci_loaded test -d /sys/module/vfio_pci
check vfio_bind_edu vfio_bind_edu
check swap_on test "$(wc -l </proc/swaps)" -ge 2
check numa_node1 test -d /sys/devices/system/node/node1
check scratch_ext4 sh -c 'grep -q " /mnt/scratch ext4 " /proc/mounts && echo x >"$IOPIN_DISK_DIR/f" && test -s "$IOPIN_DISK_DIR/f"'
check ivshmem_pattern ivshmem_pattern
check dynamic_elf ./vmcheck/stat -c %s /init
check hwrng test -c /dev/hwrng
n=$((n + 1)); echo "    ok $n vm.sample # SKIP no gup_test"
[[ $failed == 0 ]] && echo "ok 1 vm:checks" || echo "not ok 1 vm:checks"
echo "# args:$(printf ' [%s]' "$@")"
echo "ok 2 stub:args"
exit $failed
STUB
chmod +x "$dir/run_tests.sh"
[[ $hang == --hang ]] && touch "$dir/.hang"
[[ $hang == --stall ]] && touch "$dir/.stall"
exit 0
