#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-deb.sh - part of `make check`: the Debian package.
#
# Copies the tree (tracked and new files, not what .gitignore names) into a
# temporary directory, builds it there with `dpkg-buildpackage -us -uc -b`
# (never in the tree: the package's clean step runs `make clean`), runs
# lintian (no error allowed; warnings are printed), installs the .deb with
# dpkg -i, runs `iopin -t cow/collapse` from / and `iopin --help`, checks
# the man page, and removes the package again (also when interrupted).
# Refuses to run when an iopin package is already installed (it would be
# replaced and then removed).
#
# Prints "check-deb: ok ..." / "check-deb: FAIL ..."; exit 0, 1 on a failure,
# 2 when it cannot run, 4 when skipped (not root, no dpkg).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_init check-deb
cd "$top" || die "cannot enter $top"

if [ "$(id -u)" != 0 ] || ! command -v dpkg > /dev/null; then
	skip "needs root and dpkg"
fi
if dpkg-query -W -f='${Status}' iopin 2> /dev/null | grep -q 'ok installed'; then
	die "an iopin package is installed already; not replacing it"
fi
tools/deps.sh --check >&2 || die "tools/deps.sh --check failed"

lib_tmpdir out
installed=0
lib_on_exit '[ $installed = 1 ] && dpkg -r iopin > /dev/null 2>&1'
start=$SECONDS

mkdir "$out/iopin"
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2> /dev/null | tar -C "$out/iopin" -xf -
[ -f "$out/iopin/debian/rules" ] || { bad "no debian/ copied"; exit 1; }

step=$SECONDS
if (cd "$out/iopin" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1; then
	deb=$(ls "$out"/iopin_*.deb 2> /dev/null | head -1)
fi
if [ -z "${deb:-}" ]; then
	grep -E 'error|Error|dpkg-checkbuilddeps' "$out/build.log" | head -20
	tail -20 "$out/build.log"
	bad "dpkg-buildpackage -us -uc -b"
	exit 1
fi
ok "dpkg-buildpackage -us -uc -b: ${deb##*/}, $(du -k "$deb" | cut -f1) KiB, $(dpkg-deb -c "$deb" | grep -vc '/$') files ($((SECONDS - step)) s)"
echo "check-deb: Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { printf "  %s %s\n", $3, $6 }'

lintian --fail-on error --display-info "$out"/iopin_*.changes > "$out/lintian.txt" 2>&1
rc=$?
sed 's/^/  lintian: /' "$out/lintian.txt"
if [ $rc != 0 ] || grep -q '^E: ' "$out/lintian.txt"; then
	bad "lintian reports errors (exit $rc)"
else
	ok "lintian: no error, $(grep -c '^W: ' "$out/lintian.txt") warning(s), $(grep -c '^I: ' "$out/lintian.txt") info"
fi

if ! dpkg -i "$deb" > "$out/install.log" 2>&1; then
	tail -10 "$out/install.log"
	bad "dpkg -i ${deb##*/}"
	installed=1
	exit 1
fi
installed=1
iopin_cmd=$(command -v iopin)
if [ "$iopin_cmd" != /usr/bin/iopin ]; then
	bad "iopin on PATH is '$iopin_cmd', not /usr/bin/iopin"
fi
if (cd / && iopin -t cow/collapse --json "$out/deb.json") > "$out/run.ktap" 2>&1 &&
   grep -q '^ok 1 cow:collapse$' "$out/run.ktap" && grep -q '^# Totals: pass:10 ' "$out/run.ktap" &&
   [ -s "$out/deb.json" ]; then
	ok "installed: iopin -t cow/collapse from /: $(grep '^# Totals' "$out/run.ktap")"
else
	tail -10 "$out/run.ktap"
	bad "installed iopin -t cow/collapse"
fi
if iopin --help 2>&1 | grep -q -- '--vm KERNEL' && iopin -l -t cow/collapse | grep -q '^cow/collapse:'; then
	ok "installed: iopin --help and iopin -l"
else
	bad "installed: iopin --help or iopin -l"
fi
if man -w iopin 2> /dev/null | grep -q '/usr/share/man/man1/iopin.1' &&
   [ -z "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings iopin 2>&1 > /dev/null)" ]; then
	ok "man iopin: $(man -w iopin), no roff warnings"
else
	bad "man page iopin(1) missing or with warnings"
fi
if dpkg -r iopin > "$out/remove.log" 2>&1 && installed=0 &&
   [ ! -e /usr/bin/iopin ] && [ ! -e /usr/lib/iopin ]; then
	ok "dpkg -r iopin: /usr/bin/iopin and /usr/lib/iopin gone"
else
	tail -5 "$out/remove.log"
	bad "dpkg -r iopin left files behind"
fi

echo "check-deb: $((SECONDS - start)) s"
lib_done
