#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/kernels.sh - Debian's kernel packages as the VM runner sees them:
# the builds pinned in vm/kernels.lock and what Debian's archive has now
# (through the runner's private apt configuration, vm/lib/kernel.sh).
#
#   vm/kernels.sh pinned NAME          --vm spec of the pinned build NAME (debian:VERSION)
#   vm/kernels.sh names                the lock file's kernel image names (debian-6.1 ...)
#   vm/kernels.sh entry NAME           "package version sha256" the lock file pins as NAME
#   vm/kernels.sh newest SERIES [FLAVOUR]   "package version" of the newest build of a line
#                                      (6.12; flavour amd64, cloud or rt)
#   vm/kernels.sh builds SERIES [FLAVOUR]   every build of the line, oldest first
#   vm/kernels.sh fetch PKG VERSION    download (SHA256-checked) and extract once: the tree
#
# IOPIN_KERNEL_LOCK names another lock file (default vm/kernels.lock).
# Exit 0; 1 not found; 2 bad usage; 255 a host-side problem.
set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm/lib/common.sh
. "$VM_DIR/lib/common.sh"
# shellcheck source=vm/lib/kernel.sh
. "$VM_DIR/lib/kernel.sh"

usage() { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'; }

[ $# -ge 1 ] || { usage >&2; exit "$EXIT_USAGE"; }
cmd=$1
shift
case $cmd in
pinned)
	[ $# = 1 ] || die "$EXIT_USAGE" "pinned NAME"
	e=$(lock_lookup "\$1 == \"$1\" && \$2 ~ /^linux-(image|binary)-/") ||
		die 1 "$KERNEL_LOCK pins no kernel image named '$1'"
	read -r _ _ ver _ <<<"$e"
	echo "debian:$ver"
	;;
entry)
	[ $# = 1 ] || die "$EXIT_USAGE" "entry NAME"
	e=$(lock_lookup "\$1 == \"$1\"") || die 1 "$KERNEL_LOCK pins nothing named '$1'"
	echo "${e#* }"
	;;
names)
	awk '!/^#/ && NF >= 4 && $2 ~ /^linux-(image|binary)-/ { print $1 }' "$KERNEL_LOCK"
	;;
newest|builds)
	[[ $# -ge 1 && $# -le 2 && $1 =~ ^[0-9]+\.[0-9]+$ && ${2:-amd64} =~ ^(amd64|cloud|rt)$ ]] ||
		die "$EXIT_USAGE" "$cmd SERIES [amd64|cloud|rt] (like 6.12)"
	f=${2:-amd64}
	[ "$f" = amd64 ] && f=""
	if [ "$cmd" = newest ]; then
		with_cache_lock debian_newest "$1" "$f" || die 1 "no build of Debian's $1 line found"
	else
		with_cache_lock apt_private_update --if-stale || exit "$EXIT_SETUP"
		debian_builds "$1" "$f" || die 1 "no build of Debian's $1 line found"
	fi
	;;
fetch)
	[ $# = 2 ] || die "$EXIT_USAGE" "fetch PACKAGE VERSION"
	with_cache_lock fetch_deb "$1" "$2"
	;;
-h|--help) usage ;;
*) usage >&2; exit "$EXIT_USAGE" ;;
esac
