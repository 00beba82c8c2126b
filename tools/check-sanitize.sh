#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-sanitize.sh [run_tests.sh -t/-c selection] - sanitizer and
# static-analysis checks (`make check-sanitize`); fails on any finding:
#  1. cppcheck over lib/ and the test sources (.cppcheck-suppressions says
#     what is suppressed, and why);
#  2. clang-tidy over the same (.clang-tidy: checks on, checks off and why);
#  3. valgrind memcheck over lib/selftest (normal build);
#  4. make SANITIZE=1 (ASan + UBSan), then lib/selftest and the native
#     suite (every binary of tests.list, or the selection given) under it:
#     no unexpected "not ok", no sanitizer report.
# Builds happen in a private copy of the working tree, so the tree's own
# binaries (which other runs may be using) are left alone.
. "$(dirname "$0")/lib.sh"
lib_init check-sanitize
KSFT=$("$top/tools/deps.sh" --print-ksft-dir)
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d /tmp/iopin-sanitize.XXXXXX) || exit 1
# On failure the logs stay (path printed); the tree copy never does.
lib_on_exit 'rm -rf "$work/src"; ((failures)) && say "logs in $work/out" || rm -rf "$work"'
src=$work/src out=$work/out
mkdir -p "$src" "$out"
t0=$(date +%s)

step() { printf '\n== %s\n' "$*"; }
since() { echo "$(( $(date +%s) - $1 )) s"; }

# Runtime options of the sanitized build (README.md, "Sanitizers"); options
# already in the environment come last, so they win.
# ASan handle_segv=0:handle_sigbus=0: tests take faults on purpose (a
#   revoked iomem mapping must raise SIGBUS in the test's own handler; a
#   child may die of a fault, which lib/task.c reports as that signal).
#   ASan's handler would turn such a death into "exit 1" plus a report.
# Leak detection stays on: test children end with _exit() (the harness,
#   lib/task.c), so LeakSanitizer checks each binary's main process when
#   it exits.  It stops that process with ptrace, so under strace or gdb
#   give detect_leaks=0.
# UBSan: built with -fno-sanitize-recover=all, the first report ends the
#   process (a test child: "not ok"; a main process: non-zero exit);
#   print_stacktrace=1 says where it came from.
export ASAN_OPTIONS="handle_segv=0:handle_sigbus=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
SAN_REPORT='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

for tool in cppcheck clang-tidy valgrind; do
	command -v "$tool" >/dev/null ||
		bad "$tool not installed (Debian: apt-get install cppcheck clang-tidy valgrind)"
done
((failures == 0)) || exit 1

step "private copy of the tree, normal build"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files, without build outputs (.gitignore).
	git -C "$top" ls-files -co --exclude-standard -z |
		tar -C "$top" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./install -cf - . | tar -C "$src" -xf -
	make -C "$src" -s clean
fi
start=$(date +%s)
if make -C "$src" -s -j"$jobs" > "$out/build.log" 2>&1; then
	ok "make ($(since "$start"))"
else
	tail -n 30 "$out/build.log"
	bad "make"
	exit 1
fi
cd "$src" || exit 1
mapfile -t sources < <(printf '%s\n' lib/*.c; sed 's/$/.c/' tests.list)

step "cppcheck"
start=$(date +%s)
if cppcheck -q --enable=warning,style,performance,portability --std=c11 \
	--platform=unix64 --inline-suppr --suppress=missingIncludeSystem \
	--suppressions-list=.cppcheck-suppressions --error-exitcode=1 -j"$jobs" \
	--template='{file}:{line}: {severity}: {id}: {message}' \
	-Ilib -I"$KSFT/selftests" "${sources[@]}" > "$out/cppcheck.txt" 2>&1; then
	ok "cppcheck: ${#sources[@]} files, no report ($(since "$start"))"
else
	grep -v '^ ' "$out/cppcheck.txt" | head -40
	bad "cppcheck: $(grep -c '^[^ ].*: .*: ' "$out/cppcheck.txt") report(s)"
fi

step "clang-tidy"
start=$(date +%s)
if printf '%s\n' "${sources[@]}" |
	xargs -P "$jobs" -I{} clang-tidy -quiet {} -- -std=gnu11 -Ilib \
		-isystem "$KSFT/selftests" > "$out/clang-tidy.txt" 2>/dev/null; then
	ok "clang-tidy: ${#sources[@]} files, no report ($(since "$start"))"
else
	head -60 "$out/clang-tidy.txt"
	bad "clang-tidy: $(grep -c ': \(warning\|error\): ' "$out/clang-tidy.txt") report(s)"
fi

step "valgrind memcheck: lib/selftest"
# Forked children (the harness runs each test in one; the kstate keeper)
# are checked too: fork is not exec, so --trace-children=no only leaves out
# programs lib/ executes (gzip for /proc/config.gz).  A child with an error
# exits 1, which fails its test.  Only definitely lost blocks count as
# leaks; memory still reachable at exit (libc, the harness) does not.
start=$(date +%s)
if valgrind -q --error-exitcode=1 --trace-children=no --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	./lib/selftest > "$out/valgrind.txt" 2>&1; then
	ok "valgrind: lib/selftest, $(grep -c '^ok' "$out/valgrind.txt") passed, no error ($(since "$start"))"
else
	grep -v '^#  \|^ok' "$out/valgrind.txt" | head -40
	bad "valgrind: lib/selftest"
fi

step "make SANITIZE=1 (ASan + UBSan)"
start=$(date +%s)
if make -s -j"$jobs" SANITIZE=1 > "$out/build-san.log" 2>&1 &&
	nm lib/selftest | grep -q __asan_init; then
	ok "make SANITIZE=1 ($(since "$start"))"
else
	tail -n 30 "$out/build-san.log"
	bad "make SANITIZE=1"
	exit 1
fi

step "lib/selftest under ASan + UBSan"
if ./lib/selftest > "$out/lib-san.txt" 2>&1 && ! grep -qE "$SAN_REPORT" "$out/lib-san.txt"; then
	ok "lib/selftest: $(grep -c '^ok' "$out/lib-san.txt") passed"
else
	grep -v '^#  \|^ok' "$out/lib-san.txt" | head -40
	bad "lib/selftest under ASan + UBSan"
fi

step "suite under ASan + UBSan"
start=$(date +%s)
./run_tests.sh --no-build "$@" > "$out/suite-san.ktap" 2>&1
rc=$?
echo "sanitized run: exit $rc in $(since "$start"); $(tail -n1 "$out/suite-san.ktap")"
if grep -qE "$SAN_REPORT" "$out/suite-san.ktap"; then
	grep -E -B2 -A12 "$SAN_REPORT" "$out/suite-san.ktap" | head -60
	bad "sanitizer report(s) in the suite"
fi
unexpected=$(grep -E '^ *not ok' "$out/suite-san.ktap")
if [ "$rc" != 0 ] || [ -n "$unexpected" ]; then
	echo "$unexpected" | head -20
	grep -E '^# .*: ' "$out/suite-san.ktap" | grep -v '^# iopin' | head -20
	bad "sanitized suite (exit $rc)"
else
	ok "sanitized suite"
fi

echo
echo "check-sanitize: $(since "$t0") in all"
lib_done "all checks passed"
