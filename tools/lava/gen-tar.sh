#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/lava/gen-tar.sh OUT.tar.gz - `make gen_tar`: the installed suite
# (what `make install` lays out) as a tarball that runs on a target without
# the source tree or a compiler. Its binaries are relinked with the static
# archive of every library whose archive (and those of its own
# dependencies) Debian ships; the rest stay shared, and iopin/DEPENDS names
# the Debian packages a target needs (with the runner's tools).
#
# Called by make with CC, CPPFLAGS, CFLAGS and LIB (lib/libiopin.a) set.
# Layout: iopin/{run_tests.sh,tests.list,expectations/,lib/,COLLECTION/BINARY,
# DEPENDS,VERSION}; unpack anywhere and run iopin/run_tests.sh as root.
set -eu

out=${1:?usage: gen-tar.sh OUT.tar.gz}
: "${CC:=gcc}" "${CPPFLAGS:=}" "${CFLAGS:=-O2 -g}" "${LIB:=lib/libiopin.a}"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
[ "$(cat .build-flavour 2> /dev/null)" != sanitize ] ||
	{ echo "gen-tar: the tree is built with SANITIZE=1: run make first" >&2; exit 2; }
case $out in /*) ;; *) out=$PWD/$out ;; esac
[ -d "$(dirname "$out")" ] || { echo "gen-tar: no directory $(dirname "$out")" >&2; exit 2; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/iopin-gen-tar.XXXXXX")
trap 'rm -rf "$stage"' EXIT
make -s --no-print-directory install INSTALL_PATH="$stage/iopin" > /dev/null

# Link line: static where every archive a library needs is there.
link="" static="" shared=""
for pkg in liburing numa libpci; do
	libs=$(pkg-config --static --libs-only-l "$pkg")
	all=1
	for l in $libs; do
		a=lib${l#-l}.a
		[ "$($CC -print-file-name="$a")" != "$a" ] || { all=0; missing=$a; }
	done
	if [ $all = 1 ]; then
		link+=" -Wl,-Bstatic $libs -Wl,-Bdynamic"
		static+=" $pkg"
	else
		link+=" $(pkg-config --libs "$pkg")"
		shared+=" $pkg (no $missing)"
	fi
done
link+=" -pthread"

while read -r t; do
	# shellcheck disable=SC2086
	$CC $CPPFLAGS $CFLAGS -o "$stage/iopin/$t" "$t.c" "$LIB" $link
done < tests.list
# shellcheck disable=SC2086
$CC $CPPFLAGS $CFLAGS -o "$stage/iopin/lib/iopin-hold" lib/hold.c "$LIB" $link

# Debug info off (a third of the size); the symbols stay for backtraces.
for f in $(cat tests.list) lib/iopin-hold; do
	${STRIP:-strip} --strip-debug "$stage/iopin/$f"
done

# The shared libraries the binaries still need, as Debian packages.
needed=$(for f in $(cat tests.list) lib/iopin-hold; do
	objdump -p "$stage/iopin/$f" | awk '$1 == "NEEDED" { print $2 }'
done | sort -u)
pkgs=""
for so in $needed; do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|x86_64|64bit/ { print $NF; exit }')
	[ -n "$path" ] || path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	p=""
	for cand in "$path" "/usr$path" "$(readlink -f "$path")"; do
		p=$(dpkg -S "$cand" 2> /dev/null | head -1 | cut -d: -f1) && [ -n "$p" ] && break
	done
	[ -n "$p" ] || { echo "gen-tar: no Debian package holds $so ($path)" >&2; exit 1; }
	pkgs+=" $p ($so)"
done
{
	echo "# Debian packages iopin needs on the target, one a line ('a | b': either)."
	echo "# Shared libraries the binaries link (the rest is static:${static:- none}):"
	for p in $pkgs; do
		case $p in \(*) ;; *) echo "$p" ;; esac
	done | sort -u
	echo "# The runner (run_tests.sh) and its tools:"
	printf '%s\n' bash coreutils util-linux grep sed diffutils findutils "mawk | gawk"
} > "$stage/iopin/DEPENDS"
{
	echo "iopin $(git describe --always --dirty 2> /dev/null || echo unknown)"
	echo "built $(date -u +%Y-%m-%dT%H:%MZ) on $(. /etc/os-release && echo "$PRETTY_NAME") $(uname -m), $($CC --version | head -1)"
	echo "static:${static:- none}; shared:${shared:- none} (see DEPENDS); debug info stripped"
	echo "shared objects needed: $(echo $needed)"
} > "$stage/iopin/VERSION"

tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$stage/out.tar.gz" iopin
mv -f "$stage/out.tar.gz" "$out"
echo "gen-tar: $out: $(du -k "$out" | cut -f1) KiB, $(tar -tzf "$out" | grep -vc '/$') files; static:${static:- none}; shared:${shared:- none}"
