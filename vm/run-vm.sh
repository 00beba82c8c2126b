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
readonly MEM_MB=2048 SMP=2
readonly EDU_BDF=0000:00:03.0 IVSHMEM_BDF=0000:00:04.0 RNG_BDF=0000:00:05.0
readonly SWAP_BDF=0000:00:06.0 SCRATCH_BDF=0000:00:07.0
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
IOPIN_VM_APPEND, IOPIN_VM_CONSOLE_LOG, IOPIN_VM_KEEP=1.
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
	if cat "$RUN_DIR/console.log" >"$tmp" && mv -fT -- "$tmp" "$dest" 2>/dev/null; then
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
if [[ -n $K_DEB_VERSION ]]; then
	if kmod_dir=$(with_cache_lock kmod_build_debian "$K_RELEASE" "$K_DEB_VERSION"); then
		kmod_root=$(new_stage_dir kmod) || exit "$EXIT_SETUP"
		mkdir -p "$kmod_root/usr/lib/modules/$K_RELEASE/iopin"
		cp "$kmod_dir"/*.ko "$kmod_root/usr/lib/modules/$K_RELEASE/iopin/"
		cpio_pack "$kmod_root" "$KMOD_CPIO" || exit "$EXIT_SETUP"
		rm -rf "$kmod_root"
		KMOD_NOTE="$(cd "$kmod_dir" && echo *.ko) (built against linux-headers-$K_RELEASE $K_DEB_VERSION)"
	else
		KMOD_NOTE="none (building kmod/ against linux-headers-$K_RELEASE $K_DEB_VERSION failed)"
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
	# What the tests that need iopin's modules say when there are none.
	printf 'export IOPIN_KMOD_NOTE=%q\n' "$KMOD_NOTE"
	# The self-test of the gate tests (tools/check-livepatch-mutants.sh).
	if [[ -n ${IOPIN_LIVEPATCH_MUTANT:-} ]]; then
		printf 'export IOPIN_LIVEPATCH_MUTANT=%q\n' "$IOPIN_LIVEPATCH_MUTANT"
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

# ivshmem BAR2 content: the 32-bit little-endian word at byte offset 4*i
# holds i ^ 0xa5a5a5a5 (pattern "le32-index-xor-a5a5a5a5").
perl -e 'print pack("V*", map { $_ ^ 0xa5a5a5a5 } 0 .. (1 << 18) - 1)' >"$RUN_DIR/ivshmem.bin" ||
	die "$EXIT_SETUP" "cannot write the ivshmem backing file"

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
echo "# iopin-vm: devices: intel-iommu (intremap, caching-mode), edu $EDU_BDF, ivshmem-plain $IVSHMEM_BDF (1 MiB, pattern $IVSHMEM_PATTERN), virtio-rng $RNG_BDF, swap virtio-blk $SWAP_BDF (${SWAP_MB} MiB), scratch ext4 virtio-blk $SCRATCH_BDF (${SCRATCH_MB} MiB)"
echo "# iopin-vm: modules: ${mods_load:-none}; built in: ${mods_builtin:-none}; not in this kernel (skipped): ${mods_missing:-none}"
echo "# iopin-vm: iopin modules: $KMOD_NOTE"
guest_cmd=/iopin/run_tests.sh
for a in "${GUEST_ARGV[@]}"; do guest_cmd+=" $(printf %q "$a")"; done
echo "# iopin-vm: guest command: $guest_cmd"

# The result channel is a FIFO held open read-write here, so that neither
# side blocks on open and QEMU never sees a missing reader.
mkfifo "$RUN_DIR/results" || die "$EXIT_SETUP" "mkfifo failed"
exec {RES_FD}<>"$RUN_DIR/results"

printf "%q " "${QEMU[@]}" >"$RUN_DIR/qemu.cmd"
T0=$(now)
# QEMU dies with this script, SIGKILL included: setpriv gives it a parent-
# death signal, and the sh in between execs QEMU only if this script is
# still its parent once that is set (else it died first: nothing to run).
# A simple command run with & is forked straight from this shell (no
# subshell in between), so the parent whose death counts is this script.
setpriv --pdeathsig KILL -- sh -c '[ "$PPID" = "$1" ] || exit 1; shift; exec "$@"' \
	sh $$ "${QEMU[@]}" </dev/null >"$RUN_DIR/qemu.out" 2>&1 {RUN_GUARD}>&- &
QEMU_PID=$!

# --- streaming and verdict --------------------------------------------------

INIT_SEEN=0 SUITE_SEEN=0 GUEST_RC= QEMU_RC= TIMED_OUT=

handle_line() {
	local line=${1%$'\r'}

	case $line in
	IOPIN-INIT:*)
		INIT_SEEN=1
		echo "# iopin-vm: guest /init started after $(elapsed "$T0") s (guest uptime ${line#IOPIN-INIT: } s)"
		;;
	IOPIN-SUITE:*)
		SUITE_SEEN=1
		echo "# iopin-vm: suite started after $(elapsed "$T0") s (guest uptime ${line#IOPIN-SUITE: } s)"
		;;
	IOPIN-EXIT:*)
		[[ ${line#IOPIN-EXIT: } =~ ^[0-9]+$ ]] && GUEST_RC=${line#IOPIN-EXIT: } ||
			printf '%s\n' "$line" ;;
	*)
		printf '%s\n' "$line" ;;
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

# A guest whose timers stop (QEMU/TCG lost a CPU's timer interrupt: the
# kernel logs an RCU stall, "timer wakeup didn't happen", then nothing runs,
# not even the suite's own timeouts) is given up after STALL_SILENCE s of
# silence (IOPIN_VM_STALL_SILENCE, default 120: no test runs 30 s silently).
SECONDS=0
PARTIAL=
LAST_LINE=0
while :; do
	if IFS= read -r -t 0.5 -u "$RES_FD" chunk; then
		handle_line "$PARTIAL$chunk"
		PARTIAL=
		LAST_LINE=$SECONDS
		[[ -n $GUEST_RC ]] && break
	elif (($? > 128)); then
		PARTIAL+=$chunk		# timed out in the middle of a line
	fi
	if ! kill -0 "$QEMU_PID" 2>/dev/null; then
		wait "$QEMU_PID"
		QEMU_RC=$?
		QEMU_PID=
		read_available
		break
	fi
	if ((!INIT_SEEN && SECONDS >= BOOT_TIMEOUT)); then
		TIMED_OUT=boot
		break
	fi
	# KVM can pass the probe and still not run a real guest (seen on
	# this kind of paravirtual host: no console output at all). A KVM
	# guest reaches /init in a few seconds: past KVM_BOOT_LIMIT, start
	# over on TCG, unless KVM was asked for by name.
	if [[ $ACCEL == kvm && ${IOPIN_VM_ACCEL:-} != kvm ]] &&
		((!INIT_SEEN && SECONDS >= KVM_BOOT_LIMIT)); then
		TIMED_OUT=kvm
		break
	fi
	# The bzImage decompressor halts (and never reboots) on a corrupt
	# payload: no need to wait for the boot timeout.
	if ((!INIT_SEEN)) && grep -qs -- "-- System halted" "$RUN_DIR/console.log"; then
		TIMED_OUT=halted
		break
	fi
	if ((SECONDS >= TIMEOUT)); then
		TIMED_OUT=run
		break
	fi
	if ((INIT_SEEN && SECONDS - LAST_LINE >= STALL_SILENCE && SECONDS % 10 == 0)) &&
		grep -qs "timer wakeup didn't happen" "$RUN_DIR/console.log"; then
		TIMED_OUT=timers
		break
	fi
done

# Give the guest a moment to power off by itself after the last line.
if [[ -n $GUEST_RC && -n $QEMU_PID ]]; then
	for _ in $(seq 50); do
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.1
	done
fi
stop_qemu

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

if [[ -n $GUEST_RC ]]; then
	echo "# iopin-vm: run_tests.sh exit code $GUEST_RC, $(elapsed "$T0") s after boot"
	exit "$GUEST_RC"
fi

if [[ $TIMED_OUT == kvm ]]; then
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

case $TIMED_OUT in
timers)	echo "# iopin-vm: the guest's timers stopped (RCU stall: timer wakeup didn't happen) and it fell silent for ${STALL_SILENCE} s: given up"
	msg "the guest's timers stopped after $(elapsed "$T0") s: an emulator fault (seen with QEMU/TCG under load), not a verdict on the kernel"
	console_tail
	exit "$EXIT_SKIP_BISECT" ;;
halted)	untestable "the kernel decompressor halted (corrupt image)" ;;
boot)	untestable "no /init after ${BOOT_TIMEOUT} s (hung during boot)" ;;
run)	if ((INIT_SEEN)); then
		echo "# iopin-vm: killed after ${TIMEOUT} s (--timeout): the suite did not finish"
		msg "timeout: $( ((SUITE_SEEN)) && echo "the suite" || echo "the guest setup") did not finish within ${TIMEOUT} s (a test hung the kernel?)"
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
	echo "# iopin-vm: guest died before the suite finished"
	msg "the guest died after /init started (kernel panic or reboot during the $( ((SUITE_SEEN)) && echo suite || echo guest setup))"
	console_tail
	exit "$EXIT_FAIL"
fi
untestable "the guest stopped before /init (kernel panic, triple fault or early reboot)"
