#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vm/build-kernel.sh - build iopin's own test kernels from Debian's
# linux-source-6.12 at the version vm/kernels.lock pins (source-6.12), for
# `run_tests.sh --vm iopin-6.12-gup_test` and the mutants.
#
#   vm/build-kernel.sh [--patch FILE] [--name NAME] [--print]
#
# Config: Debian's own 6.12 config (from the pinned debian-6.12 kernel
# package), with every module turned off, plus vm/kernel.config: what the
# suite needs built in (so the VM loads no modules) and CONFIG_GUP_TEST=y.
# --patch applies FILE (a mutant) on top for this build only.
#
# Cache (IOPIN_CACHE, default ~/.cache/iopin):
#   build/linux-<srcver>/        one source tree and object tree, reused by
#                                every build: a mutant rebuilds only what
#                                its patch touches
#   kernels/iopin-<name>-<key>/  the result (bzImage, config, build.log),
#                                key = hash of source version, config and
#                                the patch's diff: a build that exists is
#                                not redone
# Prints the bzImage path on stdout. Needs only Debian packages (installed
# with tools/deps.sh --kernel-build). IOPIN_KERNEL_JOBS: make -j (default
# nproc). Exit 0, 1 on a build failure, 2 on bad usage.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=${VM_DIR%/*}
CACHE=${IOPIN_CACHE:-$HOME/.cache/iopin}
patch_file="" name="" print_only=0

usage() { sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "build-kernel: $*" >&2; exit "${2:-1}"; }

while [ $# -gt 0 ]; do
	case $1 in
	--patch) [ $# -ge 2 ] || die "--patch needs a file" 2; patch_file=$(realpath -e -- "$2") ||
			die "--patch $2: no such file" 2; shift ;;
	--name) [ $# -ge 2 ] || die "--name needs a name" 2; name=$2; shift ;;
	--print) print_only=1 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1'" 2 ;;
	esac
	shift
done
[[ -z $name || $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "--name: letters, digits, . _ - only" 2
if [ -z "$name" ]; then
	name=6.12-gup_test
	[ -n "$patch_file" ] && name=6.12-$(basename "$patch_file" .patch)
fi

"$TOP/tools/deps.sh" --kernel-build >&2

# The source and the config are the builds vm/kernels.lock pins
# (source-6.12, debian-6.12), fetched into the cache, SHA256-checked.
read -r srcpkg srcver _ < <("$VM_DIR/kernels.sh" entry source-6.12) ||
	die "vm/kernels.lock pins no source-6.12"
read -r imgpkg imgver _ < <("$VM_DIR/kernels.sh" entry debian-6.12) ||
	die "vm/kernels.lock pins no debian-6.12"
imgtree=$("$VM_DIR/kernels.sh" fetch "$imgpkg" "$imgver") || die "cannot fetch $imgpkg $imgver"
debcfg=$(ls "$imgtree"/boot/config-* 2>/dev/null | head -n1)
[ -n "$debcfg" ] || die "$imgpkg $imgver holds no boot/config-*"

# The key covers the patch's diff, not the text before it (a mutant's
# header): editing a header does not rebuild.
key=$({ echo "$srcver"; cat "$debcfg" "$VM_DIR/kernel.config"
	[ -z "$patch_file" ] || sed -n '/^\(--- \|diff \)/,$p' "$patch_file"; } |
	sha256sum | cut -c1-12)
out=$CACHE/kernels/iopin-$name-$key
if [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi
[ $print_only = 1 ] && { echo "$out/bzImage (not built)"; exit 1; }
srctree=$("$VM_DIR/kernels.sh" fetch "$srcpkg" "$srcver") || die "cannot fetch $srcpkg $srcver"
tarball=$(ls "$srctree"/usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
[ -n "$tarball" ] || die "$srcpkg $srcver holds no usr/src/linux-source-6.12.tar.*"

build=$CACHE/build/linux-$srcver
src=$build/src obj=$build/obj
mkdir -p "$build" "$CACHE/kernels"
exec 9>"$build/.lock"
flock 9
if [ ! -e "$src/.complete" ]; then
	echo "build-kernel: extracting $tarball" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf "$tarball"
	touch "$src.tmp/.complete"
	mv "$src.tmp" "$src"
fi

# The source tree is shared by every build: a patch is applied for this
# build and taken back out whatever happens. A copy of it is kept as
# .applied while it is in: a build killed with SIGKILL leaves it there, and
# the next build reverses it before anything else.
applied=""
unapply() {
	[ -n "$applied" ] || return 0
	patch -d "$src" -p1 -R -s --no-backup-if-mismatch < "$applied" &&
		rm -f "$build/.applied"
	applied=""
}
trap unapply EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -e "$build/.applied" ]; then
	echo "build-kernel: taking back a patch an interrupted build left in $src" >&2
	patch -d "$src" -p1 -R -s --no-backup-if-mismatch < "$build/.applied" ||
		die "cannot reverse $build/.applied: remove $src to extract it again"
	rm -f "$build/.applied"
fi
if [ -n "$patch_file" ]; then
	patch -d "$src" -p1 -s --dry-run --no-backup-if-mismatch < "$patch_file" >/dev/null ||
		die "$patch_file does not apply to linux-source $srcver"
	cp "$patch_file" "$build/.applied"
	applied=$build/.applied
	patch -d "$src" -p1 -s --no-backup-if-mismatch < "$patch_file"
fi

mkdir -p "$obj"
# Debian's config, modules off, then what the suite needs.
sed -e 's/=m$/=n/' "$debcfg" > "$obj/.config.new"
cat "$VM_DIR/kernel.config" >> "$obj/.config.new"
# .config.in records the input of the last olddefconfig that succeeded.
if ! cmp -s "$obj/.config.new" "$obj/.config.in" 2>/dev/null; then
	rm -f "$obj/.config.in"
	cp "$obj/.config.new" "$obj/.config"
	# (kernel.config overrides Debian's values on purpose: not worth a warning)
	make -s -C "$src" O="$obj" olddefconfig > "$obj/olddefconfig.log" 2>&1 || {
		cat "$obj/olddefconfig.log" >&2
		die "make olddefconfig failed"
	}
	cp "$obj/.config.new" "$obj/.config.in"
fi
# What kernel.config asks for must have survived olddefconfig.
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$VM_DIR/kernel.config" | while read -r want; do
	grep -qx "$want" "$obj/.config" || echo "$want"
done)
[ -z "$missing" ] || die "olddefconfig dropped: $(echo $missing)"

jobs=${IOPIN_KERNEL_JOBS:-$(nproc)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "IOPIN_KERNEL_JOBS must be a number" 2
echo "build-kernel: building $name in $obj ($jobs jobs)" >&2
start=$(date +%s)
mkdir -p "$out.tmp"
if ! make -C "$src" O="$obj" -j"$jobs" bzImage > "$out.tmp/build.log" 2>&1; then
	tail -n 30 "$out.tmp/build.log" >&2
	die "build of $name failed (log: $out.tmp/build.log)"
fi
cp "$obj/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$obj/.config" "$out.tmp/config"
# The Debian source version: package-bounded expectations go by it.
echo "$srcver" > "$out.tmp/debian-version"
[ -n "$patch_file" ] && cp "$patch_file" "$out.tmp/"
echo "build-kernel: $name built in $(( $(date +%s) - start )) s" >&2
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/bzImage"
