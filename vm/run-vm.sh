#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/run-vm.sh - run the iopin suite inside a throw-away QEMU guest.
#
# Boots KERNEL with an initramfs holding busybox, bash, the installed suite
# and the modules of vm/modules.list, runs /iopin/run_tests.sh there with the
# arguments after "--", and streams the guest's KTAP output live to stdout,
# preceded by a few "# iopin-vm:" diagnostic lines.  Progress and errors go
# to stderr.  See vm/README.md for the topology, caching and exit codes.

set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORIG_ARGS=("$@")	# to start over on TCG (see KVM_BOOT_LIMIT)
TOP_DIR=${VM_DIR%/*}
# shellcheck source=vm/lib/common.sh
. "$VM_DIR/lib/common.sh"
# shellcheck source=vm/lib/kernel.sh
. "$VM_DIR/lib/kernel.sh"
# shellcheck source=vm/lib/initramfs.sh
. "$VM_DIR/lib/initramfs.sh"
# shellcheck source=vm/lib/kmod.sh
. "$VM_DIR/lib/kmod.sh"

# Fixed guest topology; vm/README.md documents it and tests rely on it.
# IOPIN_VM_MEM_MB: more guest memory (make check's boot for the 1 GiB
# hugetlb cases); the default topology is what every other run uses.
MEM_MB=${IOPIN_VM_MEM_MB:-2048}
[[ $MEM_MB =~ ^[1-9][0-9]*$ ]] && ((MEM_MB >= 2048 && MEM_MB <= 16384 && MEM_MB % 2 == 0)) ||
	die "$EXIT_USAGE" "IOPIN_VM_MEM_MB=$MEM_MB: an even number of MiB from 2048 to 16384"
readonly MEM_MB SMP=2
readonly EDU_BDF=0000:00:03.0 IVSHMEM_BDF=0000:00:04.0 RNG_BDF=0000:00:05.0
readonly SWAP_BDF=0000:00:06.0 SCRATCH_BDF=0000:00:07.0 CLAIM_BDF=0000:00:08.0
readonly SWAP_MB=256 SCRATCH_MB=256 IVSHMEM_SIZE=1M
readonly IVSHMEM_PATTERN=le32-index-xor-a5a5a5a5
readonly CONSOLE_TAIL=40
readonly KVM_BOOT_LIMIT=30	# s; a KVM guest needs ~2 to reach /init

usage() {
	cat <<USAGE
usage: ${0##*/} --kernel KERNEL [--modules DIR] [--expect FILE] [--timeout SECS]
                [--prepare-only] -- [run_tests.sh arguments]

  --kernel KERNEL   debian-6.1 | debian-6.12 (newest Debian build, fetched
                    into the cache), a kernel image .deb, a bzImage, or an
                    ELF vmlinux with a PVH note
  --modules DIR     module tree of a bzImage: DIR/lib/modules/<release>, as
                    'make modules_install INSTALL_MOD_PATH=DIR' lays it out
  --expect FILE     expectations file; copied into the guest and passed to
                    run_tests.sh as --expect /iopin/expectations/<name>
                    (may be repeated)
  --timeout SECS    hard limit for the whole run (default 900)
  --prepare-only    fetch the kernel and build the cached initramfs parts,
                    then exit 0 without booting

environment: IOPIN_CACHE, IOPIN_SUITE_DIR (prebuilt suite install dir instead
of 'make install'), IOPIN_VM_ACCEL=tcg|kvm, IOPIN_VM_BOOT=bzimage,
IOPIN_VM_BOOT_TIMEOUT (default 180), IOPIN_VM_STALL_SILENCE (default 120),
IOPIN_VM_APPEND, IOPIN_VM_MEM_MB, IOPIN_VM_CONSOLE_LOG, IOPIN_VM_KEEP=1, IOPIN_KERNEL_LOCK (pins, default
vm/kernels.lock), IOPIN_VM_EXPECT_AS=VERSION (apply package-bounded expectations
as for that Debian package version), IOPIN_VM_MAX_REBOOTS (fresh guests after
a crash, default 3), IOPIN_VM_OOPS_GRACE (default 60), IOPIN_VM_HANG_GRACE
(default 60).
exit: run_tests.sh's code (0 pass, 1 failure, 4 all skipped), 125 kernel
could not be tested, 2 usage error, 255 host-side setup error.
USAGE
}

usage_error() {
	printf 'iopin-vm: %s\n' "$*" >&2
	usage >&2
	exit "$EXIT_USAGE"
}

# --- command line ---------------------------------------------------------

KERNEL= MODULES= TIMEOUT=900 PREPARE_ONLY=0
GUEST_ARGS=() EXPECTS=()

# optval OPTION "$@": the value of OPTION (next word), or a usage error.
optval() {
	[[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"
	printf '%s' "$2"
}

while (($#)); do
	case $1 in
	--kernel)	KERNEL=$(optval "$@") || exit; shift ;;
	--kernel=*)	KERNEL=${1#*=} ;;
	--modules)	MODULES=$(optval "$@") || exit; shift ;;
	--modules=*)	MODULES=${1#*=} ;;
	--expect)	EXPECTS+=("$(optval "$@")") || exit; shift ;;
	--expect=*)	EXPECTS+=("${1#*=}") ;;
	--timeout)	TIMEOUT=$(optval "$@") || exit; shift ;;
	--timeout=*)	TIMEOUT=${1#*=} ;;
	--prepare-only)	PREPARE_ONLY=1 ;;
	-h|--help)	usage; exit 0 ;;
	--)		shift; GUEST_ARGS=("$@"); break ;;
	*)		usage_error "unknown argument '$1' (guest arguments go after --)" ;;
	esac
	shift
done

[[ -n $KERNEL ]] || usage_error "--kernel is required"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout needs a positive number of seconds, not '$TIMEOUT'"
BOOT_TIMEOUT=${IOPIN_VM_BOOT_TIMEOUT:-180}
[[ $BOOT_TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage_error "IOPIN_VM_BOOT_TIMEOUT must be a positive number"
STALL_SILENCE=${IOPIN_VM_STALL_SILENCE:-120}
[[ $STALL_SILENCE =~ ^[1-9][0-9]*$ ]] || usage_error "IOPIN_VM_STALL_SILENCE must be a positive number"
MAX_REBOOTS=${IOPIN_VM_MAX_REBOOTS:-3}
[[ $MAX_REBOOTS =~ ^[0-9]+$ ]] || usage_error "IOPIN_VM_MAX_REBOOTS must be a number"
OOPS_GRACE=${IOPIN_VM_OOPS_GRACE:-60}
[[ $OOPS_GRACE =~ ^[1-9][0-9]*$ ]] || usage_error "IOPIN_VM_OOPS_GRACE must be a positive number"
HANG_GRACE=${IOPIN_VM_HANG_GRACE:-60}
[[ $HANG_GRACE =~ ^[0-9]+$ ]] || usage_error "IOPIN_VM_HANG_GRACE must be a number"
((BOOT_TIMEOUT > TIMEOUT)) && BOOT_TIMEOUT=$TIMEOUT
for f in "${EXPECTS[@]}"; do
	[[ -f $f ]] || usage_error "--expect $f: no such file"
done
[[ -z $MODULES || -d $MODULES ]] || usage_error "--modules $MODULES: no such directory"
case ${IOPIN_VM_ACCEL:-} in ''|tcg|kvm) ;; *) usage_error "IOPIN_VM_ACCEL must be tcg or kvm" ;; esac

# The cache holds fixed names (.lock, $out.tmp$$, kernels/, debs/.dl$$) that
# this script writes as root: safe only where no one else can plant a link
# or a file, so the cache must be ours and not writable by anyone else.
mkdir -p -m 0700 "$IOPIN_CACHE" 2>/dev/null
if [[ -L $IOPIN_CACHE || ! -d $IOPIN_CACHE || ! -O $IOPIN_CACHE ]] ||
	(( 8#$(stat -c %a -- "$IOPIN_CACHE") & 8#022 )); then
	usage_error "IOPIN_CACHE=$IOPIN_CACHE must be a directory of yours (not a link), not writable by group or others"
fi
if [[ -n ${IOPIN_VM_CONSOLE_LOG:-} && ! -d $(dirname -- "$IOPIN_VM_CONSOLE_LOG") ]]; then
	usage_error "IOPIN_VM_CONSOLE_LOG=$IOPIN_VM_CONSOLE_LOG: no such directory"
fi

need_tool qemu-system-x86_64 qemu-system-x86
need_tool busybox busybox-static
need_tool cpio
need_tool perl perl-base
need_tool setpriv util-linux
need_tool setsid util-linux

# --- per-run directory and cleanup ------------------------------------------

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/iopin-vm.XXXXXX") || die "$EXIT_SETUP" "mktemp failed"
# RUN_DIR goes away with this script however it ends, SIGKILL included: a
# process in a session of its own waits for EOF on a pipe that only this
# script holds (QEMU gets it closed), then removes RUN_DIR unless it was
# told "keep" (IOPIN_VM_KEEP=1).
exec {RUN_GUARD}> >(exec setsid sh -c 'k=$(cat); [ "$k" = keep ] || rm -rf "$1"' \
	sh "$RUN_DIR" >/dev/null 2>&1)
QEMU_PID=

stop_qemu() {
	[[ -n $QEMU_PID ]] || return 0
	if kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$QEMU_PID" 2>/dev/null
	fi
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
}

# save_console_log: copy the console log to IOPIN_VM_CONSOLE_LOG through a
# fresh mktemp name renamed over it: a link planted at that name is replaced,
# never followed, and someone else's file in a sticky directory is refused.
save_console_log() {
	local dest=$IOPIN_VM_CONSOLE_LOG tmp
	tmp=$(mktemp "$(dirname -- "$dest")/.iopin-console.XXXXXX") || return 1
	# Earlier guests' consoles first (a crash reboots the guest).
	if { [[ ! -e $RUN_DIR/console.before ]] || cat "$RUN_DIR/console.before"; } >"$tmp" &&
		cat "$RUN_DIR/console.log" >>"$tmp" && mv -fT -- "$tmp" "$dest" 2>/dev/null; then
		return 0
	fi
	rm -f -- "$tmp"
	return 1
}

cleanup() {
	stop_qemu
	if [[ -n ${IOPIN_VM_CONSOLE_LOG:-} && -f $RUN_DIR/console.log ]]; then
		save_console_log || warn "cannot write $IOPIN_VM_CONSOLE_LOG"
	fi
	if [[ ${IOPIN_VM_KEEP:-0} == 1 ]]; then
		echo keep >&"$RUN_GUARD"
		msg "run directory kept: $RUN_DIR"
	else
		rm -rf "$RUN_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- kernel and cached initramfs parts --------------------------------------

resolve_kernel "$KERNEL" "$MODULES"

mkdir -p "$IOPIN_CACHE/initramfs" "$IOPIN_CACHE/disks"
BASE_CPIO=$IOPIN_CACHE/initramfs/base-$({ file_stamp "$(command -v busybox)"
	file_stamp "$(command -v bash)"; cat "$VM_DIR/lib/initramfs.sh"; } | short_hash).cpio
with_cache_lock build_base "$BASE_CPIO" || exit "$EXIT_SETUP"

# Immutable (packaged) kernels get their module archive cached; a bzImage
# under test may be rebuilt with the same release, so it is built per run.
mods_key=$({ cat "$VM_DIR/modules.list" "$VM_DIR/lib/initramfs.sh"; echo "$K_MODDIR"; } | short_hash)
if [[ $KERNEL == debian-* || $KERNEL == *.deb ]]; then
	MODS_CPIO=$IOPIN_CACHE/initramfs/modules-$K_RELEASE-$mods_key.cpio
	with_cache_lock build_modules "$K_MODDIR" "$VM_DIR/modules.list" \
		"$MODS_CPIO" "$MODS_CPIO.summary" || exit "$EXIT_SETUP"
else
	MODS_CPIO=$RUN_DIR/modules.cpio
	build_modules "$K_MODDIR" "$VM_DIR/modules.list" "$MODS_CPIO" "$MODS_CPIO.summary" ||
		exit "$EXIT_SETUP"
fi

# iopin's own modules (kmod/), for a Debian kernel: built once against its
# headers packages, put in /lib/modules/RELEASE/iopin/ and loaded only by
# the tests that need them. Elsewhere (a bzImage) there are none, and those
# tests SKIP saying so.
KMOD_CPIO=$RUN_DIR/kmod.cpio
KMOD_NOTE="none (no Debian headers package for this kernel)"
: >"$KMOD_CPIO"
if [[ -n $K_HEADERS_VERSION ]]; then
	if kmod_dir=$(with_cache_lock kmod_build_debian "$K_RELEASE" "$K_HEADERS_VERSION"); then
		kmod_root=$(new_stage_dir kmod) || exit "$EXIT_SETUP"
		mkdir -p "$kmod_root/usr/lib/modules/$K_RELEASE/iopin"
		cp "$kmod_dir"/*.ko "$kmod_root/usr/lib/modules/$K_RELEASE/iopin/"
		cpio_pack "$kmod_root" "$KMOD_CPIO" || exit "$EXIT_SETUP"
		rm -rf "$kmod_root"
		KMOD_NOTE="$(cd "$kmod_dir" && echo *.ko) (built against linux-headers-$K_RELEASE $K_HEADERS_VERSION$(sed -n 's/.*; not built:/; not built for this kernel:/p' "$kmod_dir/build.log"))"
	else
		KMOD_NOTE="none ($(cat "$IOPIN_CACHE/kmod/$K_RELEASE-$(kmod_src_hash).why" 2>/dev/null ||
			echo "building kmod/ against linux-headers-$K_RELEASE $K_HEADERS_VERSION failed"))"
	fi
fi

# Pre-made disks, pristine in the cache; the guest writes to a snapshot.
SWAP_IMG=$IOPIN_CACHE/disks/swap-${SWAP_MB}M.img
SCRATCH_IMG=$IOPIN_CACHE/disks/scratch-${SCRATCH_MB}M.ext4

make_disks() {
	if [[ ! -s $SWAP_IMG ]]; then
		need_tool mkswap util-linux
		truncate -s "${SWAP_MB}M" "$SWAP_IMG.tmp" &&
			mkswap -L iopin-swap "$SWAP_IMG.tmp" >/dev/null 2>&1 &&
			mv "$SWAP_IMG.tmp" "$SWAP_IMG"
	fi
	if [[ ! -s $SCRATCH_IMG ]]; then
		need_tool mkfs.ext4 e2fsprogs
		# Initialise inode tables and journal now, so that the guest
		# does not spend TCG time on lazy init behind the tests' back.
		truncate -s "${SCRATCH_MB}M" "$SCRATCH_IMG.tmp" &&
			mkfs.ext4 -q -F -L iopin-scratch \
				-E lazy_itable_init=0,lazy_journal_init=0 "$SCRATCH_IMG.tmp" &&
			mv "$SCRATCH_IMG.tmp" "$SCRATCH_IMG"
	fi
}
with_cache_lock make_disks || die "$EXIT_SETUP" "cannot create the disk images in $IOPIN_CACHE/disks"

if ((PREPARE_ONLY)); then
	msg "prepared kernel $K_RELEASE ($K_DESC, $K_BOOT_MODE boot) in $IOPIN_CACHE"
	exit 0
fi

# --- accelerator ------------------------------------------------------------

# probe_kvm: set ACCEL and ACCEL_NOTE.  A KVM guest must really execute:
# /dev/kvm can exist and open fine while vCPUs cannot run (nested or
# paravirtual hosts), so a tiny firmware is booted with the CPU model and
# machine options a real run would use.  It writes 0x31 to an isa-debug-exit
# port, which makes QEMU exit with (0x31 << 1) | 1 = 99.  The result is
# cached per boot of the host.
probe_kvm() {
	local cache fw out rc

	if [[ -n ${IOPIN_VM_ACCEL:-} ]]; then
		ACCEL=$IOPIN_VM_ACCEL ACCEL_NOTE=${IOPIN_VM_ACCEL_NOTE:-"forced by IOPIN_VM_ACCEL"}
		return
	fi
	ACCEL=tcg
	if [[ ! -e /dev/kvm ]]; then
		ACCEL_NOTE="kvm unusable: no /dev/kvm"
		return
	elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		ACCEL_NOTE="kvm unusable: no access to /dev/kvm"
		return
	fi
	cache=$IOPIN_CACHE/kvm-probe.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)-$(file_stamp "$(command -v qemu-system-x86_64)")
	KVM_PROBE_CACHE=$cache
	if [[ ! -s $cache ]]; then
		rm -f "$IOPIN_CACHE"/kvm-probe.*
		# 64 KiB firmware; the reset vector (last 16 bytes) holds
		#   mov al, 0x31; out 0xf4, al; hlt; jmp $
		fw=$RUN_DIR/kvm-probe.bin
		{ head -c $((65536 - 16)) /dev/zero
		  printf '\xb0\x31\xe6\xf4\xf4\xeb\xfe'
		  head -c 9 /dev/zero; } >"$fw"
		out=$(timeout 5 qemu-system-x86_64 -accel kvm -machine q35,kernel-irqchip=split \
			-cpu host -smp "$SMP" -m 64 -bios "$fw" -display none -nodefaults \
			-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=1 2>&1 </dev/null)
		rc=$?
		if ((rc == 99)); then
			echo ok >"$cache"
		elif ((rc == 124)); then
			echo "probe guest hung" >"$cache"
		else
			out=$(grep -m1 -iE 'error|fail|assert' <<<"$out" || echo "probe exit $rc")
			echo "${out#qemu-system-x86_64: }" >"$cache"
		fi
	fi
	if [[ $(<"$cache") == ok ]]; then
		ACCEL=kvm ACCEL_NOTE="kvm probe ok"
	else
		ACCEL_NOTE="kvm unusable: $(<"$cache")"
	fi
}
probe_kvm

# --- suite --------------------------------------------------------------

if [[ -n ${IOPIN_SUITE_DIR:-} ]]; then
	SUITE_DIR=$IOPIN_SUITE_DIR
else
	SUITE_DIR=$RUN_DIR/stage/iopin
	msg "building the suite: make -C $TOP_DIR install INSTALL_PATH=$SUITE_DIR"
	make -C "$TOP_DIR" install INSTALL_PATH="$SUITE_DIR" >&2 ||
		die "$EXIT_SETUP" "building the suite failed (set IOPIN_SUITE_DIR to use a prebuilt install dir)"
fi
[[ -x $SUITE_DIR/run_tests.sh ]] ||
	die "$EXIT_SETUP" "$SUITE_DIR/run_tests.sh missing or not executable"

GUEST_ARGV=()
for f in "${EXPECTS[@]}"; do
	GUEST_ARGV+=(--expect "/iopin/expectations/${f##*/}")
done
GUEST_ARGV+=("${GUEST_ARGS[@]}")
: >"$RUN_DIR/args"
((${#GUEST_ARGV[@]})) && printf '%s\0' "${GUEST_ARGV[@]}" >"$RUN_DIR/args"

{
	printf 'export IOPIN_VM=1\n'
	printf 'export IOPIN_EDU_BDF=%s\n' "$EDU_BDF"
	printf 'export IOPIN_IVSHMEM_BDF=%s\n' "$IVSHMEM_BDF"
	printf 'export IOPIN_IVSHMEM_SIZE=%s\n' $((1 << 20))
	printf 'export IOPIN_IVSHMEM_PATTERN=%s\n' "$IVSHMEM_PATTERN"
	printf 'export IOPIN_RNG_BDF=%s\n' "$RNG_BDF"
	printf 'export IOPIN_SWAP_BDF=%s\n' "$SWAP_BDF"
	printf 'export IOPIN_SCRATCH_BDF=%s\n' "$SCRATCH_BDF"
	printf 'export IOPIN_CLAIM_BDF=%s\n' "$CLAIM_BDF"
	# The Debian package version the kernel was built from, where the
	# kernel's own /proc/version cannot tell (iopin's builds of a Debian
	# source package): version-bounded expectations go by it.
	# IOPIN_VM_EXPECT_AS=VERSION judges by another version's expectations
	# (make check-newest: a newer build against the pinned one's).
	debver=${IOPIN_VM_EXPECT_AS:-$K_DEBVER}
	[[ -z $debver ]] || printf 'export IOPIN_KERNEL_DEBVER=%q\n' "$debver"
	# What the tests that need iopin's modules say when there are none.
	printf 'export IOPIN_KMOD_NOTE=%q\n' "$KMOD_NOTE"
	# The self-test of the gate tests (tools/check-livepatch-mutants.sh).
	if [[ -n ${IOPIN_LIVEPATCH_MUTANT:-} ]]; then
		printf 'export IOPIN_LIVEPATCH_MUTANT=%q\n' "$IOPIN_LIVEPATCH_MUTANT"
	fi
	# The self-test of the runner's state check (tools/check-state.sh).
	if [[ -n ${IOPIN_SELFTEST_LEAK:-} ]]; then
		printf 'export IOPIN_SELFTEST_LEAK=%q\n' "$IOPIN_SELFTEST_LEAK"
	fi
} >"$RUN_DIR/env"

build_suite "$RUN_DIR/suite-root" "$RUN_DIR/suite.cpio" "$SUITE_DIR" \
	"$RUN_DIR/args" "$RUN_DIR/env" "${EXPECTS[@]}" || die "$EXIT_SETUP" "cannot build the suite initramfs"
# Mark the cached pieces as used; drop those that no run used for a week.
touch "$BASE_CPIO" "$MODS_CPIO" "$MODS_CPIO.summary"
find "$IOPIN_CACHE/initramfs" -maxdepth 1 -name '*.cpio*' -mtime +7 -delete 2>/dev/null
cat "$BASE_CPIO" "$MODS_CPIO" "$KMOD_CPIO" "$RUN_DIR/suite.cpio" >"$RUN_DIR/initrd.cpio" ||
	die "$EXIT_SETUP" "cannot write $RUN_DIR/initrd.cpio"
rm -rf "$RUN_DIR/suite-root" "$RUN_DIR/stage"

# --- QEMU ---------------------------------------------------------------

machine=q35
cpu=max
if [[ $ACCEL == kvm ]]; then
	machine+=,kernel-irqchip=split	# needed by intel-iommu intremap=on
	cpu=host
fi
half=$((MEM_MB / 2))
# memmap=32M!1536M: fake legacy persistent memory for devmem_revoke/pmem.
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can fail and panic the boot ("timer doesn't work through
# Interrupt-remapped IO-APIC"), seen with other VMs busy on both cores.
# secretmem.enable: memfd_secret() is off by default on 6.1 (gup_longterm's
# secretmem case). No ZONE_MOVABLE by default: hugetlb pages would land in
# it and every long-term pin of them would need a spare page to migrate
# to; `make check` boots once more with movablecore= for gup_longterm/movable.
append="console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=6 no_timer_check memmap=32M!0x60000000 secretmem.enable=1 ${IOPIN_VM_APPEND:-}"
# The bzImage decompressor only talks to a serial port named by earlyprintk;
# with it a corrupt image shows "-- System halted" instead of a silent hang.
[[ $K_BOOT_MODE == bzimage ]] && append="earlyprintk=ttyS0 $append"

# shellcheck disable=SC2054  # commas belong to QEMU option values
QEMU=(qemu-system-x86_64
	-machine "$machine" -accel "$ACCEL" -cpu "$cpu" -smp "$SMP,sockets=$SMP,cores=1,threads=1" -m "$MEM_MB"
	-object "memory-backend-ram,id=mem0,size=${half}M"
	-object "memory-backend-ram,id=mem1,size=${half}M"
	-numa node,nodeid=0,cpus=0,memdev=mem0
	-numa node,nodeid=1,cpus=1,memdev=mem1
	-device intel-iommu,intremap=on,caching-mode=on
	-device "edu,addr=${EDU_BDF#0000:00:}"
	-object "memory-backend-file,id=ivshmem,share=on,mem-path=$RUN_DIR/ivshmem.bin,size=$IVSHMEM_SIZE"
	-device "ivshmem-plain,memdev=ivshmem,addr=${IVSHMEM_BDF#0000:00:}"
	-device "virtio-rng-pci,addr=${RNG_BDF#0000:00:}"
	-drive "if=none,id=swap,format=raw,snapshot=on,file=$SWAP_IMG"
	-device "virtio-blk-pci,drive=swap,serial=iopin-swap,addr=${SWAP_BDF#0000:00:}"
	-drive "if=none,id=scratch,format=raw,snapshot=on,file=$SCRATCH_IMG"
	-device "virtio-blk-pci,drive=scratch,serial=iopin-scratch,addr=${SCRATCH_BDF#0000:00:}"
	-blockdev "driver=null-co,node-name=claim,size=1048576,read-zeroes=on"
	-device "virtio-blk-pci,drive=claim,serial=iopin-claim,addr=${CLAIM_BDF#0000:00:}"
	-kernel "$K_BOOT_IMAGE" -initrd "$RUN_DIR/initrd.cpio" -append "$append"
	-nic none -display none -vga none -nodefaults -no-reboot -monitor none
	-serial "file:$RUN_DIR/console.log"
	-chardev "file,id=results,path=$RUN_DIR/results"
	-serial chardev:results
)

# Header: KTAP diagnostic lines, before anything from the guest.
read -r _ mods_load <<<"$(grep '^load' "$MODS_CPIO.summary")"
read -r _ mods_builtin <<<"$(grep '^builtin' "$MODS_CPIO.summary")"
read -r _ mods_missing <<<"$(grep '^missing' "$MODS_CPIO.summary")"
echo "# iopin-vm: kernel $K_RELEASE ($K_DESC, $K_BOOT_MODE boot), accel $ACCEL ($ACCEL_NOTE), machine q35, cpu $cpu, $SMP cpus, $MEM_MB MiB in 2 NUMA nodes"
echo "# iopin-vm: devices: intel-iommu (intremap, caching-mode), edu $EDU_BDF, ivshmem-plain $IVSHMEM_BDF (1 MiB, pattern $IVSHMEM_PATTERN), virtio-rng $RNG_BDF, swap virtio-blk $SWAP_BDF (${SWAP_MB} MiB), scratch ext4 virtio-blk $SCRATCH_BDF (${SCRATCH_MB} MiB), claim virtio-blk $CLAIM_BDF (1 MiB null-co, for the iomem claim tests)"
echo "# iopin-vm: modules: ${mods_load:-none}; built in: ${mods_builtin:-none}; not in this kernel (skipped): ${mods_missing:-none}"
echo "# iopin-vm: iopin modules: $KMOD_NOTE"
guest_cmd=/iopin/run_tests.sh
for a in "${GUEST_ARGV[@]}"; do guest_cmd+=" $(printf %q "$a")"; done
echo "# iopin-vm: guest command: $guest_cmd"

# The result channel is a FIFO held open read-write here, so that neither
# side blocks on open and QEMU never sees a missing reader.
mkfifo "$RUN_DIR/results" || die "$EXIT_SETUP" "mkfifo failed"
exec {RES_FD}<>"$RUN_DIR/results"

# Everything forwarded from the guests (and what the host adds for a crashed
# binary): the stream a fresh guest's run_tests.sh summarises after a crash.
STREAM=$RUN_DIR/stream.ktap
exec {STREAM_FD}>"$STREAM"

# start_qemu INITRD: boot a guest (console.log and ivshmem.bin fresh).
start_qemu() {
	local i
	for ((i = 0; i < ${#QEMU[@]}; i++)); do
		[[ ${QEMU[i]} == -initrd ]] && QEMU[i + 1]=$1
	done
	# ivshmem BAR2 content: the 32-bit little-endian word at byte offset
	# 4*i holds i ^ 0xa5a5a5a5 (pattern "le32-index-xor-a5a5a5a5").
	perl -e 'print pack("V*", map { $_ ^ 0xa5a5a5a5 } 0 .. (1 << 18) - 1)' >"$RUN_DIR/ivshmem.bin" ||
		die "$EXIT_SETUP" "cannot write the ivshmem backing file"
	# Earlier boots' consoles, for IOPIN_VM_CONSOLE_LOG.
	[[ -s $RUN_DIR/console.log ]] && cat "$RUN_DIR/console.log" >>"$RUN_DIR/console.before"
	: >"$RUN_DIR/console.log"
	CUR_CONSOLE=0
	printf "%q " "${QEMU[@]}" >"$RUN_DIR/qemu.cmd"
	T0=$(now)
	# QEMU dies with this script, SIGKILL included: setpriv gives it a
	# parent-death signal, and the sh in between execs QEMU only if this
	# script is still its parent once that is set (else it died first:
	# nothing to run). A simple command run with & is forked straight
	# from this shell (no subshell in between), so the parent whose death
	# counts is this script.
	setpriv --pdeathsig KILL -- sh -c '[ "$PPID" = "$1" ] || exit 1; shift; exec "$@"' \
		sh $$ "${QEMU[@]}" </dev/null >"$RUN_DIR/qemu.out" 2>&1 {RUN_GUARD}>&- {STREAM_FD}>&- &
	QEMU_PID=$!
}

# --- streaming and verdict --------------------------------------------------
#
# A binary that crashes or hangs the guest costs that binary only: the
# guest's run_tests.sh announces each binary (IOPIN-RUNNING) and the totals
# after it (IOPIN-STATE); when the guest dies inside a binary (panic: QEMU
# exits, -no-reboot), the binary is still running OOPS_GRACE s after the
# console showed an Oops/BUG (a kernel that oopsed while a task held a lock
# lets every later test wait for it: seen on 5.10, each test then ends by
# its harness timeout), or it outlives its timeout by HANG_GRACE s (its
# runner could not kill it), the host closes that binary in the stream
# (the test that was running fails with the console excerpt), boots a fresh
# guest that goes on after it (IOPIN_RESUME), at most MAX_REBOOTS times.
# What the kernel prints when it oopses or panics.
readonly CRASH_RE='Kernel panic - not syncing|Oops[:#]|BUG: |kernel BUG at |general protection fault'

REBOOTS=0
PLAN=() PLAN_MISMATCH=0
STATE=(0 0 0 0 0 0 0 0 0)	# n pass fail xfail xpass skip errors failed skipped

# out LINE: a line of the run's stream (stdout and the stream file).
out() {
	printf '%s\n' "$1"
	printf '%s\n' "$1" >&"$STREAM_FD"
}

# mark_console: the console lines from here on belong to the next binary
# (taken when the suite starts and after each binary: the host may read the
# guest's "IOPIN-RUNNING" only after the console shows what it caused).
mark_console() {
	CUR_CONSOLE=$(stat -c %s "$RUN_DIR/console.log" 2>/dev/null || echo 0)
}
CUR_CONSOLE=0

# new_binary N NAME TIMEOUT: the guest started binary N.
new_binary() {
	CUR_N=$1 CUR_NAME=$2 CUR_TIMEOUT=$3 CUR_START=$SECONDS
	[[ $CUR_TIMEOUT =~ ^[0-9]{1,9}$ ]] || CUR_TIMEOUT=900
	NEST_SEEN=0 NEST_PLAN="" NEST_DONE=0 NEST_RUN="" OOPS_AT="" OOPS_LINE="" OOPS_TEST=""
	NEST_COUNTS=(0 0 0 0 0)	# pass fail xfail xpass skip
}
new_binary "" "" 0

# track_nested LINE: follow the current binary's nested results, to close
# it if the guest dies inside it.
track_nested() {
	local re_res='^    (not ok|ok) [0-9]+ ([^#]*[^# ])( # (.*))?$'
	case $1 in
	"    KTAP version 1") NEST_SEEN=1 ;;
	"    1.."*) [[ $1 =~ ^\ {4}1\.\.([0-9]+) ]] && NEST_PLAN=${BASH_REMATCH[1]} ;;
	"    #  RUN "*) [[ $1 =~ ^\ {4}#\ \ RUN\ +([^ ]+) ]] && NEST_RUN=${BASH_REMATCH[1]} ;;
	"    ok "*|"    not ok "*)
		[[ $1 =~ $re_res ]] || return 0
		NEST_DONE=$((NEST_DONE + 1)) NEST_RUN=
		case ${BASH_REMATCH[1]}:${BASH_REMATCH[4]} in
		"ok:XFAIL"*)	((NEST_COUNTS[2]++)) ;;
		"not ok:XPASS"*) ((NEST_COUNTS[3]++)) ;;
		"ok:SKIP"*)	((NEST_COUNTS[4]++)) ;;
		"not ok:"*)	((NEST_COUNTS[1]++)) ;;
		*)		((NEST_COUNTS[0]++)) ;;
		esac ;;
	esac
}

handle_line() {
	local line=${1%$'\r'} a

	case $line in
	IOPIN-INIT:*)
		INIT_SEEN=1
		echo "# iopin-vm: guest /init started after $(elapsed "$T0") s (guest uptime ${line#IOPIN-INIT: } s)"
		;;
	IOPIN-SUITE:*)
		SUITE_SEEN=1
		mark_console
		echo "# iopin-vm: suite started after $(elapsed "$T0") s (guest uptime ${line#IOPIN-SUITE: } s)"
		;;
	IOPIN-EXIT:*)
		[[ ${line#IOPIN-EXIT: } =~ ^[0-9]+$ ]] && GUEST_RC=${line#IOPIN-EXIT: } ||
			out "$line" ;;
	IOPIN-TICK) ;;		# -s: the binary printed a line (to its log)
	IOPIN-PLAN:*)
		read -r -a a <<<"${line#IOPIN-PLAN:}"
		if ((!${#PLAN[@]})); then
			PLAN=("${a[@]}")
		elif [[ ${a[*]} != "${PLAN[*]}" ]]; then
			PLAN_MISMATCH=1	# a fresh guest selected other binaries
		fi ;;
	IOPIN-RUNNING:*)
		read -r -a a <<<"${line#IOPIN-RUNNING:}"
		new_binary "${a[0]}" "${a[1]}" "${a[2]:-900}" ;;
	IOPIN-STATE:*)
		read -r -a a <<<"${line#IOPIN-STATE:}"
		((${#a[@]} == 9)) && STATE=("${a[@]}")
		new_binary "" "" 0
		mark_console ;;
	*)
		[[ -n $CUR_NAME ]] && track_nested "$line"
		out "$line" ;;
	esac
}

# read_available: forward what is already in the FIFO (after QEMU exited).
read_available() {
	local chunk
	while IFS= read -r -t 0.2 -u "$RES_FD" chunk; do
		handle_line "$PARTIAL$chunk"
		PARTIAL=
	done
	[[ -n $PARTIAL$chunk ]] && handle_line "$PARTIAL$chunk"
	PARTIAL=
}

# crash_line: the first Oops/BUG/panic line the console printed since the
# current binary started (empty if none).
crash_line() {
	tail -c +$((CUR_CONSOLE + 1)) "$RUN_DIR/console.log" 2>/dev/null |
		grep -a -m1 -E "$CRASH_RE" | tr -d '\r' | tr -c '[:print:]\n' '?' |
		sed 's/^\[ *[0-9.]*\] *//' | cut -c1-160
}

# stream_guest: forward one guest's output until it ends; sets OUTCOME:
# exit (IOPIN-EXIT seen), died (QEMU gone), crash, hang (see above), run
# (--timeout), boot, kvm, halted, timers.
stream_guest() {
	local chunk b0=$SECONDS last=$SECONDS checked=0
	INIT_SEEN=0 SUITE_SEEN=0 GUEST_RC="" QEMU_RC="" OUTCOME="" PARTIAL="" WHY=""
	while :; do
		if IFS= read -r -t 0.5 -u "$RES_FD" chunk; then
			handle_line "$PARTIAL$chunk"
			PARTIAL=
			last=$SECONDS
			[[ -n $GUEST_RC ]] && { OUTCOME="exit"; break; }
		elif (($? > 128)); then
			PARTIAL+=$chunk		# timed out in the middle of a line
		fi
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			wait "$QEMU_PID"
			QEMU_RC=$?
			QEMU_PID=
			read_available
			OUTCOME=died
			[[ -n $GUEST_RC ]] && OUTCOME="exit"
			break
		fi
		if ((!INIT_SEEN && SECONDS - b0 >= BOOT_TIMEOUT)); then
			OUTCOME=boot
			break
		fi
		# KVM can pass the probe and still not run a real guest (seen on
		# this kind of paravirtual host: no console output at all). A KVM
		# guest reaches /init in a few seconds: past KVM_BOOT_LIMIT, start
		# over on TCG, unless KVM was asked for by name.
		if [[ $ACCEL == kvm && ${IOPIN_VM_ACCEL:-} != kvm ]] && ((REBOOTS == 0)) &&
			((!INIT_SEEN && SECONDS - b0 >= KVM_BOOT_LIMIT)); then
			OUTCOME=kvm
			break
		fi
		# The bzImage decompressor halts (and never reboots) on a corrupt
		# payload: no need to wait for the boot timeout.
		if ((!INIT_SEEN)) && grep -qs -- "-- System halted" "$RUN_DIR/console.log"; then
			OUTCOME=halted
			break
		fi
		if ((SECONDS >= TIMEOUT)); then
			OUTCOME=run
			break
		fi
		if ((INIT_SEEN && SECONDS - last >= STALL_SILENCE && SECONDS % 10 == 0)) &&
			grep -qs "timer wakeup didn't happen" "$RUN_DIR/console.log"; then
			OUTCOME=timers
			break
		fi
		[[ -n $CUR_NAME ]] || continue
		if ((SECONDS - CUR_START >= CUR_TIMEOUT + HANG_GRACE)); then
			OUTCOME=hang
			WHY="no progress: still running ${HANG_GRACE} s past its timeout (${CUR_TIMEOUT} s), its runner could not stop it"
			break
		fi
		# A panic normally ends QEMU at once (panic=-1, -no-reboot): one
		# on the console with 5 s of silence is a guest that did not
		# reboot. After an Oops or BUG the binary has OOPS_GRACE s to end.
		if [[ -z $OOPS_AT ]] && ((SECONDS - checked >= 2)); then
			checked=$SECONDS
			OOPS_LINE=$(crash_line)
			[[ -n $OOPS_LINE ]] && OOPS_AT=$SECONDS OOPS_TEST=$NEST_RUN
		fi
		if { [[ $OOPS_LINE == *"Kernel panic"* ]] && ((SECONDS - last >= 5)); } ||
			{ [[ -n $OOPS_AT ]] && ((SECONDS - OOPS_AT >= OOPS_GRACE)); }; then
			OUTCOME=crash
			WHY="kernel bug: the kernel logged \"$OOPS_LINE\"${OOPS_TEST:+ (first seen during $OOPS_TEST)} and the binary did not end within $((SECONDS - OOPS_AT)) s"
			break
		fi
	done
	# Give the guest a moment to power off by itself after the last line.
	if [[ $OUTCOME == exit && -n $QEMU_PID ]]; then
		for _ in $(seq 50); do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	stop_qemu
}

# console_excerpt: the current binary's console lines as KTAP diagnostics:
# from a few lines before the first Oops/BUG/panic on, else the last lines.
console_excerpt() {
	tail -c +$((CUR_CONSOLE + 1)) "$RUN_DIR/console.log" 2>/dev/null |
		tr -d '\r' | tr -c '[:print:]\n' '?' | cut -c1-200 |
		awk -v re="$CRASH_RE" '{ l[NR] = $0 } $0 ~ re && !at { at = NR }
			END { from = at ? at - 2 : NR - 11; to = at ? at + 17 : NR
			      if (from < 1) from = 1
			      for (i = from; i <= to && i <= NR; i++) print "# console: " l[i]
			      if (!NR) print "# console: (nothing since the binary started)" }'
}

# close_binary WHY: end the current binary in the stream as failed (the test
# that was running, if known, fails with the console excerpt; the rest of
# its plan is reported skipped) and count it into STATE.
close_binary() {
	local why=$1 i fail
	[[ -n $PARTIAL ]] && out "    # iopin-vm: cut off: ${PARTIAL//$'\r'/}"
	PARTIAL=
	if ((NEST_SEEN)); then
		out "    # iopin-vm: $why"
		while IFS= read -r i; do out "    $i"; done < <(console_excerpt)
		if [[ -n $NEST_RUN ]]; then
			NEST_DONE=$((NEST_DONE + 1))
			out "    not ok $NEST_DONE $NEST_RUN"
			((NEST_COUNTS[1]++))
		fi
		while ((NEST_DONE < ${NEST_PLAN:-0})); do
			NEST_DONE=$((NEST_DONE + 1))
			out "    ok $NEST_DONE unreached.$NEST_DONE # SKIP not run: the guest crashed or hung in ${NEST_RUN:-$CUR_NAME}"
			((NEST_COUNTS[4]++))
		done
	fi
	out "# $CUR_NAME: $why"
	out "not ok $CUR_N $CUR_NAME"
	fail=$((NEST_COUNTS[1] + NEST_COUNTS[3]))
	STATE=("$CUR_N" $((STATE[1] + NEST_COUNTS[0])) $((STATE[2] + NEST_COUNTS[1]))
		$((STATE[3] + NEST_COUNTS[2])) $((STATE[4] + NEST_COUNTS[3]))
		$((STATE[5] + NEST_COUNTS[4])) $((STATE[6] + (fail ? 0 : 1)))
		$((STATE[7] + 1)) "${STATE[8]}")
	new_binary "" "" 0
}

# finish_stream WHY: no guest goes on: the binaries left get "not ok" with
# WHY, then the summary and totals that run_tests.sh would have printed.
finish_stream() {
	local i name
	for ((i = STATE[0] + 1; i <= ${#PLAN[@]}; i++)); do
		name=${PLAN[i - 1]/\//:}
		out "# $name: not run: $1"
		out "not ok $i $name"
		STATE[6]=$((STATE[6] + 1)) STATE[7]=$((STATE[7] + 1))
	done
	exec {STREAM_FD}>&-
	awk -v mode=summary -f "$TOP_DIR/lib/report.awk" "$STREAM"
	echo "# Totals: pass:${STATE[1]} fail:${STATE[2]} xfail:${STATE[3]} xpass:${STATE[4]} skip:${STATE[5]} error:${STATE[6]}"
}

# resume_initrd: the first boot's initramfs plus the run state so far, which
# /init hands to run_tests.sh as IOPIN_RESUME.
resume_initrd() {
	local root=$RUN_DIR/resume-root
	rm -rf "$root"
	mkdir -p "$root" && stage_dir "$root" || return 1
	mkdir -p "$root/etc/iopin-vm"
	{ echo "${STATE[*]}"; cat "$STREAM"; } >"$root/etc/iopin-vm/resume" &&
		cpio_pack "$root" "$RUN_DIR/resume.cpio" &&
		cat "$RUN_DIR/initrd.cpio" "$RUN_DIR/resume.cpio" >"$RUN_DIR/initrd-resume.cpio" &&
		rm -rf "$root"
}

console_tail() {
	msg "last $CONSOLE_TAIL lines of the kernel console:"
	tail -n "$CONSOLE_TAIL" "$RUN_DIR/console.log" 2>/dev/null | sed 's/\r$//; s/^/  | /' >&2
}

# untestable REASON: the kernel never reached /init.
untestable() {
	msg "kernel $K_RELEASE could not be tested: $*"
	console_tail
	exit "$EXIT_SKIP_BISECT"
}

# give_up WHY: after a crash was recorded, no fresh guest finishes the run.
give_up() {
	msg "$1"
	console_tail
	if ((${#PLAN[@]})); then
		finish_stream "$1"
	fi
	echo "# iopin-vm: $1"
	exit "$EXIT_FAIL"
}

# --timeout counts from the first boot on, across fresh guests.
SECONDS=0
start_qemu "$RUN_DIR/initrd.cpio"
while :; do
	stream_guest
	((PLAN_MISMATCH)) && give_up "the fresh guest selected other binaries than the first: given up"
	[[ $OUTCOME == exit ]] && break
	# A binary crashed or hung the guest: close it, go on in a fresh one.
	if [[ -n $CUR_NAME && $OUTCOME =~ ^(died|crash|hang)$ ]]; then
		if [[ $OUTCOME == died ]]; then
			WHY=$(crash_line)
			WHY="${WHY:+kernel bug: }the guest died${WHY:+ (the kernel logged \"$WHY\")}"
		fi
		crashed=$CUR_NAME
		msg "$crashed: $WHY"
		close_binary "$WHY"
		if ((STATE[0] >= ${#PLAN[@]})); then
			finish_stream "-"
			echo "# iopin-vm: $crashed was the last binary: no fresh guest needed"
			exit "$EXIT_FAIL"
		fi
		if ((REBOOTS >= MAX_REBOOTS)); then
			give_up "$MAX_REBOOTS fresh guest(s) booted already (IOPIN_VM_MAX_REBOOTS): the kernel crashed or hung again in $crashed"
		fi
		REBOOTS=$((REBOOTS + 1))
		echo "# iopin-vm: $crashed crashed or hung the guest: booting a fresh one (reboot $REBOOTS of at most $MAX_REBOOTS) for binaries $((STATE[0] + 1))..${#PLAN[@]}"
		resume_initrd || die "$EXIT_SETUP" "cannot write the resume initramfs"
		start_qemu "$RUN_DIR/initrd-resume.cpio"
		continue
	fi
	break
done

if [[ $OUTCOME == exit ]]; then
	echo "# iopin-vm: run_tests.sh exit code $GUEST_RC, $(elapsed "$T0") s after boot"
	exit "$GUEST_RC"
fi

# A fresh guest after a crash that did not finish: the run has a failure
# already; close the stream.
if ((REBOOTS)); then
	case $OUTCOME in
	run)	[[ -n $CUR_NAME ]] && close_binary "killed by --timeout ${TIMEOUT} s"
		give_up "killed after ${TIMEOUT} s (--timeout): the suite did not finish" ;;
	*)	[[ -n $CUR_NAME ]] && close_binary "the guest stopped ($OUTCOME)"
		give_up "the fresh guest booted after a crash stopped ($OUTCOME) before the suite finished" ;;
	esac
fi

if [[ $OUTCOME == kvm ]]; then
	# Remembered until the host reboots (the probe cache is per boot).
	[[ -n ${KVM_PROBE_CACHE:-} ]] &&
		echo "guest did not reach /init within ${KVM_BOOT_LIMIT} s" >"$KVM_PROBE_CACHE"
	echo "# iopin-vm: kvm guest did not reach /init within ${KVM_BOOT_LIMIT} s: starting over with tcg"
	msg "kvm passed its probe but the guest did not reach /init in ${KVM_BOOT_LIMIT} s: retrying with tcg"
	cleanup
	trap - EXIT
	IOPIN_VM_ACCEL=tcg IOPIN_VM_ACCEL_NOTE="kvm guest hung before /init" \
		exec "$0" "${ORIG_ARGS[@]}"
fi

case $OUTCOME in
timers)	echo "# iopin-vm: the guest's timers stopped (RCU stall: timer wakeup didn't happen) and it fell silent for ${STALL_SILENCE} s: given up"
	msg "the guest's timers stopped after $(elapsed "$T0") s: an emulator fault, not a verdict on the kernel"
	console_tail
	exit "$EXIT_SKIP_BISECT" ;;
halted)	untestable "the kernel decompressor halted (corrupt image)" ;;
boot)	untestable "no /init after ${BOOT_TIMEOUT} s (hung during boot)" ;;
run)	if ((INIT_SEEN)); then
		msg "timeout: $( ((SUITE_SEEN)) && echo "the suite" || echo "the guest setup") did not finish within ${TIMEOUT} s (a test hung the kernel?)"
		[[ -n $CUR_NAME ]] && close_binary "killed by --timeout ${TIMEOUT} s"
		((${#PLAN[@]})) && give_up "killed after ${TIMEOUT} s (--timeout): the suite did not finish"
		echo "# iopin-vm: killed after ${TIMEOUT} s (--timeout): the suite did not finish"
		console_tail
		exit "$EXIT_FAIL"
	fi
	untestable "no /init within --timeout ${TIMEOUT} s" ;;
esac

# QEMU went away without the final marker.
if ((QEMU_RC != 0)) && [[ ! -s $RUN_DIR/console.log ]]; then
	# QEMU itself refused to run (bad image for its loader, missing
	# feature, ...): show its own message.
	msg "qemu exited with status $QEMU_RC:"
	sed 's/^/  | /' "$RUN_DIR/qemu.out" >&2
	grep -qiE 'kernel|initrd|pvh|elf' "$RUN_DIR/qemu.out" &&
		untestable "qemu could not load the kernel"
	exit "$EXIT_SETUP"
fi
if ((INIT_SEEN)); then
	msg "the guest died after /init started (kernel panic or reboot during the $( ((SUITE_SEEN)) && echo suite || echo guest setup))"
	((SUITE_SEEN && ${#PLAN[@]})) && give_up "the guest died between binaries"
	echo "# iopin-vm: guest died before the suite finished"
	console_tail
	exit "$EXIT_FAIL"
fi
untestable "the guest stopped before /init (kernel panic, triple fault or early reboot)"
