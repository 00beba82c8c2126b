#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/selftest.sh [--boot [KERNEL]] - self-check of the VM runner.
#
# Default (fast, no guest boot, < 1 min): command line errors exit 2, kernel
# images that cannot boot exit 125 quickly and leave no QEMU behind.
# --boot additionally boots KERNEL (default debian-6.12, fetched into the
# cache if needed) with the stand-in suite of vm/stub-suite.sh: the run
# must pass, and a hanging suite must be killed by --timeout with exit 1.
# Prints TAP-style lines and a closing "N passed, N failed" line.

set -u

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_VM=$VM_DIR/run-vm.sh
BOOT=0 BOOT_KERNEL=debian-6.12
if [[ ${1:-} == --boot ]]; then
	BOOT=1
	BOOT_KERNEL=${2:-$BOOT_KERNEL}
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iopin-vm-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp"
# Runs below use their own TMPDIR, so a QEMU left behind is recognisable.
export TMPDIR=$WORK/tmp
"$VM_DIR/stub-suite.sh" "$WORK/suite"
export IOPIN_SUITE_DIR=$WORK/suite

n=0 passed=0 failed=0

# expect NAME WANT_RC MAX_SECONDS CMD...: run CMD, check exit code and time.
expect() {
	local name=$1 want=$2 max=$3 rc start took
	shift 3
	start=$SECONDS
	"$@" >"$WORK/out" 2>&1
	rc=$?
	took=$((SECONDS - start))
	n=$((n + 1))
	if ((rc == want && took <= max)) && ! pgrep -f "$WORK/tmp/" >/dev/null; then
		echo "ok $n - $name (exit $rc, ${took} s)"
		passed=$((passed + 1))
	else
		echo "not ok $n - $name (exit $rc, wanted $want; ${took} s, limit $max s)"
		sed 's/^/# /' "$WORK/out" | tail -n 20
		pgrep -af "$WORK/tmp/" | sed 's/^/# left running: /'
		failed=$((failed + 1))
	fi
}

# A syntactically valid bzImage header whose gzip payload is garbage.
fake_bzimage() {
	local f=$1
	head -c 8192 /dev/zero >"$f"
	printf '\x01' | dd of="$f" bs=1 seek=$((0x1f1)) conv=notrunc status=none	# setup_sects
	printf 'HdrS\x0f\x02' | dd of="$f" bs=1 seek=$((0x202)) conv=notrunc status=none
	printf '\x00\x00\x00\x00\x00\x10\x00\x00' |				# payload @0x400, 4 KiB
		dd of="$f" bs=1 seek=$((0x248)) conv=notrunc status=none
	{ printf '\x1f\x8b\x08\x00'; head -c 4092 /dev/urandom; } |
		dd of="$f" bs=1 seek=1024 conv=notrunc status=none
}

head -c 4194304 /dev/urandom >"$WORK/garbage"
fake_bzimage "$WORK/fake-bzImage"
: >"$WORK/empty"

expect "help exits 0" 0 5 "$RUN_VM" --help
expect "no arguments: usage error" 2 5 "$RUN_VM"
expect "unknown option: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --bogus
expect "--kernel without value: usage error" 2 5 "$RUN_VM" --kernel
expect "--timeout abc: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --timeout abc
expect "--timeout 0: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --timeout 0
expect "--expect missing file: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --expect "$WORK/nope"
expect "--modules missing dir: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --modules "$WORK/nope"
expect "--kernel missing file: usage error" 2 5 "$RUN_VM" --kernel "$WORK/nope"
expect "garbage bzImage: untestable" 125 30 "$RUN_VM" --kernel "$WORK/garbage"
expect "empty bzImage: untestable" 125 30 "$RUN_VM" --kernel "$WORK/empty"
expect "corrupt bzImage payload: untestable" 125 30 "$RUN_VM" --kernel "$WORK/fake-bzImage"

if ((BOOT)); then
	"$VM_DIR/stub-suite.sh" "$WORK/hang" --hang
	expect "boot $BOOT_KERNEL, stand-in suite passes" 0 300 \
		"$RUN_VM" --kernel "$BOOT_KERNEL" --timeout 280 -- one "two words"
	grep -q '^    not ok' "$WORK/out" && echo "# (a VM check failed, see above)"
	expect "hanging suite killed by --timeout: failure" 1 60 \
		env IOPIN_SUITE_DIR="$WORK/hang" "$RUN_VM" --kernel "$BOOT_KERNEL" --timeout 30
fi

echo "1..$n"
echo "vm-selftest: $passed passed, $failed failed"
((failed == 0))
