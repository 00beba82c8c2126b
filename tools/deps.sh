#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Make sure iopin can be built: Debian packages for the libraries and the
# kernel's kselftest headers + KTAP parser (from KSRC, or extracted once
# from Debian's linux-source-6.12 into the cache). Installs what is missing
# with apt-get when run as root on Debian, saying what it installs; else
# lists what to install and fails.
#
# Usage: tools/deps.sh [--print-ksft-dir | --vm | --kernel-build | --check]
#   --check: what `make check` needs besides a build (report parsers, .deb tools).
#   --kernel-build: what vm/build-kernel.sh needs.
#   --vm: what the QEMU runner needs (vm/run-vm.sh) instead.
set -eu

CACHE=${IOPIN_CACHE:-${HOME:-/root}/.cache/iopin}
KSRC_PKG=linux-source-6.12
# package  what needs it
PKGS="gcc make pkg-config liburing-dev libpci-dev libnuma-dev libibverbs-dev ibverbs-providers xz-utils python3"
KBUILD_PKGS="gcc make bc bison flex libelf-dev libssl-dev cpio kmod patch xz-utils"
CHECK_PKGS="python3-junitparser busybox-static mawk debhelper dpkg-dev lintian"
VM_PKGS="qemu-system-x86 busybox-static cpio zstd e2fsprogs util-linux binutils bzip2 xz-utils lzop lz4 gdb"

ksft_dir() {
	if [ -n "${KSRC:-}" ]; then
		echo "$KSRC/tools/testing"
	else
		echo "$CACHE/$KSRC_PKG/tools/testing"
	fi
}

missing_pkgs() {
	local p m=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || m="$m $p"
	done
	echo $m
}

apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "iopin: missing build dependencies: $*" >&2
		echo "iopin: install them (Debian/Ubuntu: apt-get install $*), or give KSRC=/path/to/linux for the kselftest headers" >&2
		exit 1
	fi
	echo "iopin: installing build dependencies with apt-get: $*" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
		apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
	fi
}

if [ "${1:-}" = --print-ksft-dir ]; then
	ksft_dir
	exit 0
fi

if [ "${1:-}" = --kernel-build ]; then
	# vm/build-kernel.sh: a kernel from linux-source-6.12.
	if command -v dpkg-query >/dev/null; then
		m=$(missing_pkgs $KBUILD_PKGS)
		[ -z "$m" ] || apt_install $m
	fi
	exit 0
fi

if [ "${1:-}" = --check ]; then
	if command -v dpkg-query >/dev/null; then
		m=$(missing_pkgs $CHECK_PKGS)
		[ -z "$m" ] || apt_install $m
	fi
	exit 0
fi

if [ "${1:-}" = --vm ]; then
	if command -v dpkg-query >/dev/null; then
		m=$(missing_pkgs $VM_PKGS)
		[ -z "$m" ] || apt_install $m
	fi
	exit 0
fi

if command -v dpkg-query >/dev/null; then
	m=$(missing_pkgs $PKGS)
	[ -z "$m" ] || apt_install $m
else
	for lib in liburing libpci numa; do
		pkg-config --exists "$lib" || {
			echo "iopin: no $lib development files (pkg-config $lib); install liburing, libpci and libnuma headers" >&2
			exit 1
		}
	done
fi

dir=$(ksft_dir)
if [ -n "${KSRC:-}" ]; then
	[ -d "$KSRC" ] && [ -r "$dir/selftests/kselftest_harness.h" ] || {
		echo "iopin: KSRC=$KSRC: cannot read tools/testing/selftests/kselftest_harness.h there" >&2
		exit 2
	}
	exit 0
fi
[ -f "$dir/selftests/kselftest_harness.h" ] && [ -f "$dir/kunit/kunit.py" ] && exit 0

tarball=$(ls /usr/src/$KSRC_PKG.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
	apt_install $KSRC_PKG
	tarball=$(ls /usr/src/$KSRC_PKG.tar.* | head -n1)
fi
echo "iopin: extracting kselftest headers and the KTAP parser from $tarball into $CACHE" >&2
mkdir -p -m 0700 "$CACHE"
# Extracted as root: the cache must be ours alone (no planted links in it).
if [ -L "$CACHE" ] || [ ! -O "$CACHE" ] || [ -n "$(find "$CACHE" -maxdepth 0 -perm /022)" ]; then
	echo "iopin: $CACHE must be a directory of yours, not writable by others (set IOPIN_CACHE)" >&2
	exit 2
fi
tar -C "$CACHE" -xf "$tarball" --wildcards \
	"$KSRC_PKG/tools/testing/selftests/kselftest.h" \
	"$KSRC_PKG/tools/testing/selftests/kselftest_harness.h" \
	"$KSRC_PKG/tools/testing/kunit/*"
