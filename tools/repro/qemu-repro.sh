#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot a kernel in plain QEMU (TCG, no virtio-balloon, no devices) with a
# busybox initramfs and run hugetlb-1g-cow-zero there: does the flake need
# the Firecracker host, or is it the kernel's?
#
#   tools/repro/qemu-repro.sh [--load] KERNEL [REPRO ARGS...]
#
# KERNEL: a bzImage/vmlinuz, or debian-6.1 / debian-6.12 for the kernels
# vm/run-vm.sh cached under ${IOPIN_CACHE:-~/.cache/iopin}/kernels.
# The guest has 6 GiB and 3 boot-time 1 GiB pages (use -p 0 so the
# reproducer takes them as they are). --load runs a busy loop in the guest
# (fork/exec, /proc reads, tmpfs files) next to the reproducer.
# Example (9/25 on Debian 6.12.117, 0/25 on 6.1.192):
#   tools/repro/qemu-repro.sh --load debian-6.12 -n 25 -p 0 -m pair -a same
# Needs qemu-system-x86_64, a static /usr/bin/busybox and gcc -static.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${IOPIN_CACHE:-$HOME/.cache/iopin}
load=0
if [ "${1:-}" = --load ]; then
	load=1
	shift
fi
[ $# -ge 1 ] || { sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
kernel=$1
shift
case "$kernel" in
debian-6.1)  kernel=$(ls "$CACHE"/kernels/linux-image-6.1.0-*/boot/vmlinuz-* | tail -n 1) ;;
debian-6.12) kernel=$(ls "$CACHE"/kernels/linux-image-6.12.*/boot/vmlinuz-* | tail -n 1) ;;
esac
[ -r "$kernel" ] || { echo "qemu-repro: no kernel '$kernel'" >&2; exit 2; }
for a in "$@"; do
	case "$a" in *[!A-Za-z0-9-]*) echo "qemu-repro: argument '$a': only [A-Za-z0-9-]" >&2; exit 2 ;; esac
done
busybox=$(command -v busybox)
file -L "$busybox" | grep -q 'statically linked' || { echo "qemu-repro: need a static busybox" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/bin "$root"/proc "$root"/sys "$root"/dev "$root"/run "$root"/tmp
cp "$busybox" "$root"/bin/busybox
gcc -O2 -static -o "$root"/bin/repro "$HERE"/hugetlb-1g-cow-zero.c
cat > "$root"/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "## kernel $(uname -r)"
for a in $(cat /proc/cmdline); do
	case $a in repro=*) ARGS=$(echo "${a#repro=}" | tr ':' ' ') ;; esac
done
case " $(cat /proc/cmdline) " in *" load=1 "*)
	echo "## background load: fork/exec, /proc reads, tmpfs files"
	mount -t tmpfs tmp /tmp
	( while :; do
		cat /proc/*/stat > /dev/null 2>&1
		for i in 1 2 3 4 5 6 7 8; do echo $i > /tmp/f$i; done
		rm -f /tmp/f*
	done ) &
	;;
esac
/bin/repro $ARGS
echo "## exit $?"
poweroff -f
EOF
chmod +x "$root"/init
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work"/initrd.gz

args=$(IFS=:; echo "$*")
timeout 3600 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 6144 \
	-nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$kernel" -initrd "$work"/initrd.gz \
	-append "console=ttyS0 quiet panic=-1 hugepagesz=1G hugepages=3 load=$load repro=$args" |
	tr -d '\r' | sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' |
	grep -a -E '^(##|#|run)'
