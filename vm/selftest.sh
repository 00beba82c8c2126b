#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/selftest.sh [--boot [KERNEL]] - self-check of the VM runner.
#
# Default (fast, no guest boot, < 1 min): command line errors exit 2, kernel
# images that cannot boot exit 125 quickly and leave no QEMU behind; the
# payload of a bzImage is extracted byte for byte for every compression the
# kernel offers (synthetic images laid out as the kernel build does), and
# from the Debian kernels in the cache; truncated payloads count as corrupt.
# --boot additionally boots KERNEL (default debian-6.12, fetched into the
# cache if needed) with the stand-in suite of vm/stub-suite.sh: the run
# must pass, a hanging suite must be killed by --timeout with exit 1, and one
# whose kernel logs a stalled timer and falls silent is given up (exit 125).
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
	# The runner's helpers (its run-directory guardian) exit just after
	# it: give them a bounded moment before calling anything left over.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -f "$WORK/tmp/" >/dev/null || break
		sleep 0.5
	done
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

# skip NAME REASON: a check this host cannot make.
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# le16/le32 N: N as 2/4 bytes little-endian on stdout.
le16() {
	printf '%b' "$(printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)))"
}
le32() {
	le16 $(($1 & 0xffff))
	le16 $(($1 >> 16 & 0xffff))
}

# poke FILE OFFSET: overwrite FILE at OFFSET with stdin.
poke() {
	dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

# flip_byte FILE OFFSET: invert the bits of one byte of FILE.
flip_byte() {
	local b

	b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf '%b' "$(printf '\\x%02x' $((b ^ 0xff)))" | poke "$1" "$2"
}

# Compressions of CONFIG_KERNEL_*, the tool each needs here (compression and
# extraction), and the options of the kernel's rules (scripts/Makefile.lib,
# scripts/xz_wrap.sh for x86).
KERNEL_FORMATS="gzip bzip2 lzma xz lzo lz4 zstd"
format_tool() {
	case $1 in
	lzma|xz) echo xz ;;
	lzo) echo lzop ;;
	*) echo "$1" ;;
	esac
}
kernel_compress() {
	case $1 in
	gzip)	gzip -n -f -9 ;;
	bzip2)	bzip2 -9 ;;
	lzma)	xz --format=lzma -9 ;;
	xz)	xz --check=crc32 --x86 --lzma2=,dict=32MiB ;;
	lzo)	lzop -9 ;;
	lz4)	lz4 -l -9 - - ;;
	zstd)	zstd -q -22 --ultra ;;
	esac
}

# make_bzimage ELF FORMAT OUT [with-size|no-size]: a bzImage as the kernel
# build lays it out, around ELF instead of vmlinux.bin: boot sector and
# setup (setup_sects, boot flag, "HdrS", protocol 2.15, kernel_version
# string, syssize), then the protected-mode part with the payload at
# payload_offset between decompressor bytes (random here).  The payload is
# FORMAT's stream plus, for every format but gzip, the 4-byte uncompressed
# size (size_append); the last argument forces the trailer on or off.
make_bzimage() {
	local elf=$1 fmt=$2 out=$3 trailer=${4:-} sects=27 poff=$((0x3a40)) pay=$3.payload pm plen

	[[ -n $trailer ]] || { trailer=with-size; [[ $fmt == gzip ]] && trailer=no-size; }
	kernel_compress "$fmt" <"$elf" >"$pay" || return 1
	[[ $trailer == no-size ]] || le32 "$(stat -c %s "$elf")" >>"$pay"
	plen=$(stat -c %s "$pay")
	pm=$(((sects + 1) * 512))
	{
		head -c "$pm" /dev/zero
		head -c "$poff" /dev/urandom
		cat "$pay"
		head -c 4999 /dev/urandom
	} >"$out"
	rm -f "$pay"
	le16 "$sects" | head -c 1 | poke "$out" 0x1f1
	le32 $((($(stat -c %s "$out") - pm + 15) / 16)) | poke "$out" 0x1f4
	printf '\x55\xaa' | poke "$out" 0x1fe
	printf 'HdrS\x0f\x02' | poke "$out" 0x202
	le16 $((0x400 - 0x200)) | poke "$out" 0x20e
	printf '6.99.0-iopin-selftest (selftest@iopin) #1 SMP\0' | poke "$out" 0x400
	{ le32 "$poff"; le32 "$plen"; } | poke "$out" 0x248
}

# kernel_lib CMD...: run CMD, a function of the runner's vm/lib/kernel.sh.
kernel_lib() {
	(
		# shellcheck source=vm/lib/common.sh
		. "$VM_DIR/lib/common.sh"
		# shellcheck source=vm/lib/kernel.sh
		. "$VM_DIR/lib/kernel.sh"
		"$@"
	)
}

# extract BZIMAGE OUT: the runner's own extraction.
extract() {
	kernel_lib bzimage_to_vmlinux "$@"
}

# extracts_same BZIMAGE ELF: extraction succeeds and gives back ELF exactly.
extracts_same() {
	extract "$1" "$WORK/vmlinux" || { echo "bzimage_to_vmlinux: $?"; return 1; }
	cmp "$WORK/vmlinux" "$2"
}

# truncated BZIMAGE: the same image with payload_length 100 bytes shorter
# (cutting the stream) must extract as corrupt (1), not as unknown (3).
truncated() {
	local len rc

	len=$(kernel_lib u_le "$1" $((0x24c)) 4)
	le32 $((len - 100)) | poke "$1" 0x24c
	extract "$1" "$WORK/vmlinux"
	rc=$?
	[[ ! -e $WORK/vmlinux ]] || { echo "output left behind"; return 2; }
	return "$rc"
}

# debian_extracts VMLINUZ: a real image extracts to an ELF with a PVH note,
# identical to the vmlinux cached beside it (when there is one).
debian_extracts() {
	local cached=${1%/boot/*}/vmlinux rc=0

	extract "$1" "$WORK/vmlinux" || { echo "bzimage_to_vmlinux: $?"; return 1; }
	if ! kernel_lib elf_has_pvh_note "$WORK/vmlinux"; then
		echo "no PVH note"
		rc=1
	elif [[ -s $cached ]]; then
		cmp "$WORK/vmlinux" "$cached" || rc=1
	fi
	rm -f "$WORK/vmlinux"
	return "$rc"
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
expect "IOPIN_VM_STALL_SILENCE=x: usage error" 2 5 env IOPIN_VM_STALL_SILENCE=x "$RUN_VM" --kernel "$WORK/garbage"
expect "--expect missing file: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --expect "$WORK/nope"
expect "--modules missing dir: usage error" 2 5 "$RUN_VM" --kernel "$WORK/garbage" --modules "$WORK/nope"
expect "--kernel missing file: usage error" 2 5 "$RUN_VM" --kernel "$WORK/nope"
expect "garbage bzImage: untestable" 125 30 "$RUN_VM" --kernel "$WORK/garbage"
expect "empty bzImage: untestable" 125 30 "$RUN_VM" --kernel "$WORK/empty"
expect "corrupt bzImage payload: untestable" 125 30 "$RUN_VM" --kernel "$WORK/fake-bzImage"

cp /bin/true "$WORK/small.elf"
for fmt in $KERNEL_FORMATS; do
	need=$(format_tool "$fmt")
	if ! command -v "$need" >/dev/null 2>&1; then
		skip "$fmt bzImage payload extracts byte for byte" "no $need here (tools/deps.sh --vm installs it)"
		continue
	fi
	make_bzimage "$WORK/small.elf" "$fmt" "$WORK/bz-$fmt"
	expect "$fmt bzImage payload extracts byte for byte" 0 30 \
		extracts_same "$WORK/bz-$fmt" "$WORK/small.elf"
	if [[ $fmt == gzip ]]; then
		make_bzimage "$WORK/small.elf" "$fmt" "$WORK/bz-odd" with-size
		expect "gzip payload with an appended size still extracts" 0 30 \
			extracts_same "$WORK/bz-odd" "$WORK/small.elf"
	else
		make_bzimage "$WORK/small.elf" "$fmt" "$WORK/bz-odd" no-size
		expect "$fmt payload without the size trailer still extracts" 0 30 \
			extracts_same "$WORK/bz-odd" "$WORK/small.elf"
	fi
	expect "truncated $fmt payload is corrupt" 1 30 truncated "$WORK/bz-$fmt"
done
if [[ -e $WORK/bz-xz ]]; then
	make_bzimage "$WORK/small.elf" xz "$WORK/bz-flip"
	# One byte in the middle of the xz stream (its CRC32 catches it).
	flip_byte "$WORK/bz-flip" $((28 * 512 + 0x3a40 + $(kernel_lib u_le "$WORK/bz-flip" $((0x24c)) 4) / 2))
	expect "corrupt xz bzImage payload: untestable" 125 30 "$RUN_VM" --kernel "$WORK/bz-flip"
fi
found=0
for vmlinuz in "${IOPIN_CACHE:-$HOME/.cache/iopin}"/kernels/linux-image-*/boot/vmlinuz-*; do
	[[ -f $vmlinuz ]] || continue
	found=1
	expect "cached Debian ${vmlinuz##*/} extracts" 0 120 debian_extracts "$vmlinuz"
done
((found)) || skip "a Debian kernel extracts" "no Debian kernel in the cache (run with --boot once)"

# Guest trees are only ever built inside the run directory. Checked without
# running a builder (a regression would write over the host's files):
# every function that writes under "$root" guards it, and the guards refuse
# an empty root, "/" and a directory outside RUN_DIR.
unguarded_builders() {
	awk '/^[a-z_]+\(\) \{/ { fn = $1; guarded = 0; writes = 0 }
	     /stage_dir/ { guarded = 1 }
	     /"\$root\// { writes = 1 }
	     /^}/ && fn != "" { if (writes && !guarded) print fn; fn = "" }' \
		"$VM_DIR/lib/initramfs.sh"
}
guards_refuse() {
	(
		VM_DIR=$VM_DIR
		. "$VM_DIR/lib/common.sh" && . "$VM_DIR/lib/initramfs.sh" || exit 1
		RUN_DIR=$WORK/run
		mkdir -p "$RUN_DIR/ok" "$WORK/outside"
		stage_dir "$RUN_DIR/ok" || exit 1
		for bad in "" / "$RUN_DIR" "$WORK/outside" "$RUN_DIR/missing"; do
			stage_dir "$bad" 2>/dev/null && { echo "accepted '$bad'"; exit 1; }
			guest_path "$bad" /usr/lib/x >/dev/null 2>&1 && { echo "guest_path accepted '$bad'"; exit 1; }
		done
		RUN_DIR=
		new_stage_dir base >/dev/null 2>&1 && { echo "new_stage_dir without RUN_DIR"; exit 1; }
		exit 0
	)
}
expect "every guest-tree builder guards its root" 0 5 test -z "$(unguarded_builders)"
expect "root guards refuse empty, / and outside trees" 0 5 guards_refuse

# run_to FILE CMD...: run CMD with its stdout in FILE (and shown).
run_to() {
	local f=$1 rc
	shift
	"$@" >"$f"
	rc=$?
	cat "$f"
	return "$rc"
}

# crash_stream_ok FILE REBOOTS RESULT... TOTALS: the stream of a run whose
# guest crashed: one KTAP header and plan, the top-level results (exactly
# these, in order), one totals line, REBOOTS fresh guests, the crash reasons
# and console excerpts, lib/report.awk's JSON and JUnit (the crashed tests
# fail, stub/hang is an error), and the kernel's KTAP parser (0 errors).
crash_stream_ok() {
	local f=$1 reboots=$2 top=${VM_DIR%/*} ksft want got
	shift 2
	want=$(printf '%s\n' "$@")
	got=$(grep -E '^(not ok|ok) [0-9]+ |^# Totals:' "$f")
	[[ $got == "$want" ]] || { echo "results:"; echo "$got"; echo "wanted:"; echo "$want"; return 1; }
	[[ $(grep -c '^KTAP version 1$' "$f") == 1 ]] || { echo "not one KTAP header"; return 1; }
	[[ $(grep -c '^1\.\.' "$f") == 1 ]] || { echo "not one plan"; return 1; }
	[[ $(grep -c '^# iopin-vm: .* booting a fresh one' "$f") == "$reboots" ]] ||
		{ echo "not $reboots fresh guests"; return 1; }
	grep -q '^    # console: .*Kernel panic - not syncing: sysrq triggered crash' "$f" ||
		{ echo "no console excerpt of the panic"; return 1; }
	grep -q '^    not ok 2 stub.panic.b$' "$f" || { echo "stub.panic.b not failed"; return 1; }
	grep -q '^    ok 3 unreached.3 # SKIP' "$f" || { echo "stub:panic's plan not completed"; return 1; }
	grep -q '^# stub:first: ' "$f" && { echo "stub:first's BUG line was taken for a crash"; return 1; }
	if ((reboots)); then
		grep -q '^# stub:oops: kernel bug: the kernel logged "BUG: kernel NULL pointer dereference' "$f" ||
			{ echo "stub:oops not failed for its BUG line"; return 1; }
		grep -q '^    not ok 1 stub.oops.a$' "$f" || { echo "stub.oops.a not failed"; return 1; }
		grep -q '^# stub:hang: no progress: still running 10 s past its timeout' "$f" ||
			{ echo "stub:hang not failed for its budget"; return 1; }
	fi
	awk -v mode=json -f "$top/lib/report.awk" "$f" >"$WORK/report.json"
	python3 - "$reboots" "$WORK/report.json" <<'PY' || return 1
import json, sys
r = json.load(open(sys.argv[2]))
v = {(t["binary"], t["test"]): t for t in r["tests"]}
assert v[("stub/panic", "stub.panic.b")]["verdict"] == "fail", "stub.panic.b"
assert "sysrq triggered crash" in v[("stub/panic", "stub.panic.b")]["reason"], "panic reason"
errors = [e["binary"] for e in r["errors"]]
if sys.argv[1] != "0":
    assert v[("stub/oops", "stub.oops.a")]["verdict"] == "fail", "stub.oops.a"
    assert v[("stub/last", "stub.last.a")]["verdict"] == "pass", "stub.last.a"
    assert errors == ["stub/hang"], errors
else:
    assert errors == ["stub/second", "stub/oops", "stub/hang", "stub/last"], errors
PY
	awk -v mode=junit -f "$top/lib/report.awk" "$f" | grep -q '<testsuite name="stub/hang" .* errors="1"' ||
		{ echo "JUnit: stub/hang not an error"; return 1; }
	ksft=$("$top/tools/deps.sh" --print-ksft-dir 2>/dev/null)
	if [[ -r $ksft/kunit/kunit.py ]]; then
		python3 "$ksft/kunit/kunit.py" parse "$f" >"$WORK/kunit.txt" 2>&1
		grep 'Testing complete' "$WORK/kunit.txt" | grep -qv 'errors:' ||
			{ echo "kunit.py:"; tail -n 15 "$WORK/kunit.txt"; return 1; }
	fi
}

if ((BOOT)); then
	"$VM_DIR/stub-suite.sh" "$WORK/hang" --hang
	expect "boot $BOOT_KERNEL, stand-in suite passes" 0 300 \
		"$RUN_VM" --kernel "$BOOT_KERNEL" --timeout 280 -- one "two words"
	grep -q '^    not ok' "$WORK/out" && echo "# (a VM check failed, see above)"
	expect "hanging suite killed by --timeout: failure" 1 60 \
		env IOPIN_SUITE_DIR="$WORK/hang" "$RUN_VM" --kernel "$BOOT_KERNEL" --timeout 30
	# A guest that panics, oopses and hangs inside three binaries costs
	# those three only: each gets a verdict (not ok, with the console
	# excerpt), a fresh guest goes on with the next, and the stream stays
	# one KTAP stream. Then without reboots: the rest is reported not run.
	"$VM_DIR/stub-suite.sh" "$WORK/crash" --crash
	expect "panic, oops and hang cost one binary each: 3 fresh guests" 1 270 \
		run_to "$WORK/crash.ktap" env IOPIN_SUITE_DIR="$WORK/crash" \
		IOPIN_VM_OOPS_GRACE=10 IOPIN_VM_HANG_GRACE=10 "$RUN_VM" \
		--kernel "$BOOT_KERNEL" --timeout 280 -- --timeout 6
	expect "crashed run: one KTAP stream, verdicts and reports right" 0 60 \
		crash_stream_ok "$WORK/crash.ktap" 3 "ok 1 stub:first" "not ok 2 stub:panic" \
		"ok 3 stub:second" "not ok 4 stub:oops" "not ok 5 stub:hang" "ok 6 stub:last" \
		"# Totals: pass:6 fail:2 xfail:0 xpass:0 skip:3 error:1"
	expect "IOPIN_VM_MAX_REBOOTS=0: a panic ends the run, the rest not run" 1 110 \
		run_to "$WORK/crash0.ktap" env IOPIN_SUITE_DIR="$WORK/crash" IOPIN_VM_MAX_REBOOTS=0 \
		"$RUN_VM" --kernel "$BOOT_KERNEL" --timeout 120 -- --timeout 6
	expect "run without reboots: one KTAP stream, the rest not ok" 0 60 \
		crash_stream_ok "$WORK/crash0.ktap" 0 "ok 1 stub:first" "not ok 2 stub:panic" \
		"not ok 3 stub:second" "not ok 4 stub:oops" "not ok 5 stub:hang" "not ok 6 stub:last" \
		"# Totals: pass:3 fail:1 xfail:0 xpass:0 skip:1 error:4"
	"$VM_DIR/stub-suite.sh" "$WORK/stall" --stall
	expect "guest whose timers stopped given up: bisect skip" 125 90 \
		env IOPIN_SUITE_DIR="$WORK/stall" IOPIN_VM_STALL_SILENCE=15 "$RUN_VM" \
		--kernel "$BOOT_KERNEL" --timeout 300
fi

echo "1..$n"
echo "vm-selftest: $passed passed, $failed failed"
((failed == 0))
