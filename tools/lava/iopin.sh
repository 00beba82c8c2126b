#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/lava/iopin.sh - LAVA run script for iopin (see iopin.yaml): install
# or unpack the suite, run it, and turn its KTAP stream into LAVA results.
#
# usage: iopin.sh [options] install|run|report
#   install  with -u: fetch and unpack the tarball into OUTPUT/suite, then
#            (unless -s true) install its runtime packages (DEPENDS) with apt-get
#   run      run the suite (-a arguments), keep the stream in OUTPUT/iopin.ktap
#            (with OUTPUT/iopin.json and iopin.xml), then report it
#   report   report an existing stream (-k FILE) without running anything
#
#   -u TARBALL  iopin.tar.gz (`make gen_tar`): http(s)://, file:// or a path
#   -d DIR      an installed suite (make install, /usr/lib/iopin); default: the
#               unpacked tarball, else the `iopin` command on PATH
#   -a ARGS     run_tests.sh arguments ("-c cow", "-t cow/fork"); default: all
#   -s BOOL     SKIP_INSTALL: true leaves packages alone
#   -k FILE     the KTAP stream to report (report)
#   -o DIR      output directory (default ./output): result.txt as
#               test-definitions write it ("NAME RESULT" lines)
#
# Results: a lava-test-set per test binary (COLLECTION_BINARY) holding one
# lava-test-case per test; then a case COLLECTION_BINARY with the binary's
# own verdict (it also fails on a timeout or leaked global state); then
# iopin-run: pass when the runner ran and printed its totals. KTAP "ok" is
# pass, "ok # XFAIL" (a failure an expectations file names) is pass, "not
# ok" and "not ok # XPASS" are fail, "# SKIP" is skip. LAVA names allow
# [A-Za-z0-9_.-]; anything else becomes "_", and a name longer than 100
# characters keeps its first 91 and a "-" and 8 hex digits of its checksum.
# Without lava-test-case on PATH only result.txt is written.

set -u
SKIP_INSTALL=false TARBALL="" SUITE_DIR="" ARGS="" KTAP="" OUTPUT=./output

usage() {
	sed -n '/^# usage:/,/^# Without/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while getopts "u:d:a:s:k:o:h" opt; do
	case $opt in
	u) TARBALL=$OPTARG ;;
	d) SUITE_DIR=$OPTARG ;;
	a) ARGS=$OPTARG ;;
	s) SKIP_INSTALL=$OPTARG ;;
	k) KTAP=$OPTARG ;;
	o) OUTPUT=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || usage
action=$1

msg() { echo "iopin-lava: $*" >&2; }
die() { msg "$*"; exit 1; }

mkdir -p "$OUTPUT" || die "cannot make $OUTPUT"
OUTPUT=$(cd "$OUTPUT" && pwd)

# suite_cmd: the runner to use, printed.
suite_cmd() {
	if [ -n "$SUITE_DIR" ]; then
		[ -x "$SUITE_DIR/run_tests.sh" ] || die "no run_tests.sh in $SUITE_DIR"
		echo "$SUITE_DIR/run_tests.sh"
	elif [ -x "$OUTPUT/suite/iopin/run_tests.sh" ]; then
		echo "$OUTPUT/suite/iopin/run_tests.sh"
	elif command -v iopin > /dev/null; then
		command -v iopin
	else
		die "no suite: give a tarball (-u, TARBALL), a directory (-d, SUITE_DIR) or install the iopin package"
	fi
}

do_install() {
	local_tar="$OUTPUT/iopin.tar.gz"
	if [ -n "$TARBALL" ]; then
		case $TARBALL in
		http://*|https://*|ftp://*)
			if command -v wget > /dev/null; then
				wget -q -O "$local_tar" "$TARBALL"
			else
				curl -fsSL -o "$local_tar" "$TARBALL"
			fi || die "cannot fetch $TARBALL" ;;
		file://*) cp "${TARBALL#file://}" "$local_tar" || die "cannot read $TARBALL" ;;
		*) cp "$TARBALL" "$local_tar" || die "cannot read $TARBALL" ;;
		esac
		rm -rf "$OUTPUT/suite"
		mkdir -p "$OUTPUT/suite"
		tar -C "$OUTPUT/suite" -xzf "$local_tar" || die "cannot unpack $TARBALL"
		[ -x "$OUTPUT/suite/iopin/run_tests.sh" ] || die "$TARBALL holds no iopin/run_tests.sh"
		msg "unpacked $TARBALL into $OUTPUT/suite/iopin ($(cat "$OUTPUT/suite/iopin/VERSION" 2>/dev/null))"
	fi
	deps="$OUTPUT/suite/iopin/DEPENDS"
	if [ "$SKIP_INSTALL" = true ] || [ ! -r "$deps" ]; then
		return 0
	fi
	if ! command -v apt-get > /dev/null || ! command -v dpkg-query > /dev/null; then
		msg "not Debian: install by hand what $deps names: $(grep -v '^#' "$deps" | tr '\n' ' ')"
		return 0
	fi
	missing=""
	# One package a line; "a | b" takes the first when none is installed.
	for alts in $(grep -v '^#' "$deps" | tr -d ' '); do
		have=""
		for p in $(echo "$alts" | tr '|' ' '); do
			dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'ok installed' && have=$p
		done
		[ -n "$have" ] || missing="$missing ${alts%%|*}"
	done
	if [ -n "$missing" ]; then
		msg "installing runtime packages:$missing"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing ||
			{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; } ||
			die "cannot install$missing"
	fi
}

# lava_name NAME: NAME as LAVA takes it (see the header).
lava_name() {
	n=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_')
	if [ ${#n} -gt 100 ]; then
		n="$(printf '%s' "$n" | cut -c1-91)-$(printf '%s' "$1" | cksum | awk '{ printf "%08x", $1 }')"
	fi
	printf '%s' "$n"
}

# result LINE: one "set-start SET", "set-stop SET" or "case NAME RESULT".
result() {
	case $1 in
	set-start|set-stop)
		command -v lava-test-set > /dev/null && lava-test-set "${1#set-}" "$2"
		;;
	case)
		echo "$2 $3" >> "$OUTPUT/result.txt"
		command -v lava-test-case > /dev/null && lava-test-case "$2" --result "$3"
		;;
	esac
}

# The stream's results, in order: the tests of a binary come before the
# top-level line that closes it, so they are kept until then.
do_report() {
	[ -r "$1" ] || die "cannot read KTAP stream $1"
	: > "$OUTPUT/result.txt"
	awk '
	function verdict(line) {
		if (line ~ /^not ok/) return "fail"
		if (line ~ / # SKIP/) return "skip"
		return "pass"	# ok, ok # XFAIL
	}
	function name_of(line) {
		sub(/^(not ok|ok) [0-9]+ /, "", line); sub(/ # .*$/, "", line)
		return line
	}
	/^    (not ok|ok) [0-9]+ / {
		l = substr($0, 5); nt++; tn[nt] = name_of(l); tv[nt] = verdict(l)
		next
	}
	/^(not ok|ok) [0-9]+ [^ ]+/ {
		b = name_of($0); gsub(/[:\/]/, "_", b)
		print "set-start\t" b
		for (i = 1; i <= nt; i++) print "case\t" tn[i] "\t" tv[i]
		print "set-stop\t" b
		print "case\t" b "\t" verdict($0)
		nt = 0
		next
	}
	/^# Totals: / { totals = 1 }
	END { print "case\tiopin-run\t" (totals ? "pass" : "fail") }
	' "$1" > "$OUTPUT/results.tsv" || die "cannot parse $1"
	tab=$(printf '\t')
	while IFS=$tab read -r what a b; do
		case $what in
		case) result case "$(lava_name "$a")" "$b" ;;
		*) result "$what" "$(lava_name "$a")" ;;
		esac
	done < "$OUTPUT/results.tsv"
	msg "$(grep -c . "$OUTPUT/result.txt") results: $(awk '{ n[$2]++ } END { for (r in n) printf "%s %d ", r, n[r] }' "$OUTPUT/result.txt")"
}

case $action in
install) do_install ;;
run)
	cmd=$(suite_cmd) || exit 1
	msg "running: $cmd $ARGS"
	# A pipe loses the runner's exit code in sh: it goes through a file.
	# shellcheck disable=SC2086
	{ "$cmd" $ARGS --json "$OUTPUT/iopin.json" --junit "$OUTPUT/iopin.xml"; echo $? > "$OUTPUT/rc"; } 2>&1 |
		tee "$OUTPUT/iopin.ktap"
	msg "run_tests.sh exit code $(cat "$OUTPUT/rc")"
	do_report "$OUTPUT/iopin.ktap"
	;;
report)
	[ -n "$KTAP" ] || die "report needs -k FILE"
	do_report "$KTAP"
	;;
*) usage ;;
esac
exit 0
