#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The project's own tests (`make check`), in order:
#  1. lib unit tests;
#  2. usage errors exit 2; an unprivileged user's planted links and files
#     (tools/check-hostile.sh) do not redirect root's writes; a SIGKILL of
#     the runner leaves no process, file or global state change (natively
#     here; with --vm before step 7);
#  3. the suite natively: no unexpected "not ok";
#  4. the stream parses with the kernel's KTAP parser (kunit.py parse) with
#     0 errors and the runner's own pass/skip counts;
#  5. self-test switch (--selftest-fault verify): every test that passed
#     in 3. must now report "not ok" (every check can fail); in the VM too;
#  6. make install: the installed suite runs without the source tree;
#  7. the suite in QEMU on Debian's kernels of every line, the builds
#     vm/kernels.lock pins (never "the newest today": that is make
#     check-newest), each against its expectations file, and the
#     livepatch mutants on 6.12 and 6.1 (tools/check-livepatch-mutants.sh)
#     (skipped with --native-only).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
KSFT=$(tools/deps.sh --print-ksft-dir)
out=$(mktemp -d /tmp/iopin-check.XXXXXX)
trap 'rm -rf "$out"' EXIT
native_only=0
[ "${1:-}" = --native-only ] && native_only=1
failures=0
# The kernel builds the VM steps boot: pinned, so that a package Debian
# publishes tomorrow cannot change today's verdicts.
pinned() { vm/kernels.sh pinned "$1" || echo "unpinned-$1"; }
# Every Debian line vm/kernels.lock pins gets the whole suite.
VM_LINES="debian-6.12 debian-6.1 debian-7.3 debian-7.2 debian-5.10"

step() { printf '\n== %s\n' "$*"; }
bad() {
	echo "check: FAIL: $*"
	echo "$*" >> "$out/failed"
	failures=$((failures + 1))
}
# bad, for a suite run: the run's unexpected "not ok" lines (test names,
# with the test's last diagnostics) go into the summary at the end too, so
# that the tail of the output (all a CI log may keep) names them.
bad_run() {
	local ktap=$1
	shift
	bad "$@"
	awk '/^ *# / { diag[n++ % 3] = $0 }
	     /^ *not ok/ { for (i = n - 3; i < n; i++) if (i >= 0) print "    " diag[i % 3];
			   print "    " $0; n = 0 }' "$ktap" | tail -n 24 >> "$out/failed"
}
ok() { echo "check: ok: $*"; }

step "lib unit tests"
if ./lib/selftest > "$out/lib.ktap" 2>&1; then
	ok "lib/selftest: $(grep -c '^ok' "$out/lib.ktap") passed"
else
	cat "$out/lib.ktap"
	bad "lib/selftest"
fi

step "usage errors exit 2, before anything runs"
# Malformed expectations files, one fault each.
printf 'cow/fork:fork.*.x\n' > "$out/exp-nofix"
printf '*.child_keeps_its_copy_when_parent_writes\tunfixed\twhy\n' > "$out/exp-noglobpart"
printf 'cow/fork:fork.*\tsometimes\twhy\n' > "$out/exp-badfix"
printf 'cow/fork:fork.*\t84209e87c696\tmm/gup: no version\n' > "$out/exp-noversion"
printf 'cow/nosuch:x.*\tunfixed\twhy\n' > "$out/exp-nobinary"
# Each case: environment assignments, then run_tests.sh arguments; stdout
# must stay empty (no partial run), the exit code must be 2.
while IFS= read -r c; do
	[ -n "$c" ] || continue
	eval "env $c" > "$out/usage.out" 2> "$out/usage.err"
	rc=$?
	if [ $rc != 2 ]; then
		bad "$c exited $rc, not 2"
	elif [ -s "$out/usage.out" ]; then
		bad "$c exited 2 but printed a partial run: $(head -3 "$out/usage.out" | tr '\n' ' ')"
	else
		ok "$c -> 2: $(head -1 "$out/usage.err")"
	fi
done <<EOF2
./run_tests.sh --no-build --bogus
./run_tests.sh --no-build -t no/such
./run_tests.sh --no-build -c nosuch
./run_tests.sh --no-build -t cow/collapse:NoSuch.test
./run_tests.sh --no-build --timeout x
./run_tests.sh --no-build --expect /nonexistent
./run_tests.sh --no-build --modules /tmp
./run_tests.sh --no-build -s --log-dir /nonexistent
./run_tests.sh --no-build -t cow/collapse --expect $out/exp-nofix
./run_tests.sh --no-build -t cow/collapse --expect $out/exp-noglobpart
./run_tests.sh --no-build -t cow/collapse --expect $out/exp-badfix
./run_tests.sh --no-build -t cow/collapse --expect $out/exp-noversion
./run_tests.sh --no-build -t cow/collapse --expect $out/exp-nobinary
./run_tests.sh --vm debian-6.12 -t cow/collapse --expect $out/exp-badfix
IOPIN_TIMEOUT=soon ./run_tests.sh --no-build -t cow/collapse
IOPIN_RACE_MS=-5 ./run_tests.sh --no-build -t cow/collapse
IOPIN_SELFTEST_FAULT=everything ./run_tests.sh --no-build -t cow/collapse
IOPIN_DISK_DIR=/nonexistent ./run_tests.sh --no-build -t cow/collapse
IOPIN_TMPFS_DIR=/etc/hostname ./run_tests.sh --no-build -t cow/collapse
IOPIN_LOGDIR=/nonexistent ./run_tests.sh --no-build -s -t cow/collapse
IOPIN_STATE_LOCK=/nonexistent/lock ./run_tests.sh --no-build -t cow/collapse
IOPIN_EDU_BDF=edu ./run_tests.sh --no-build -t cow/collapse
KSRC=/nonexistent ./run_tests.sh -t cow/collapse
KSRC=/nonexistent tools/deps.sh
KSRC=/nonexistent make -s --no-print-directory
EOF2

step "expectations bounded by the kernel's Debian package version"
# lib/debver.sh orders versions as dpkg does: every pair of the kernel
# versions the lock file names plus hand-picked hard ones, both ways.
vers="$(awk '!/^#/ && NF >= 4 { print $3 }' vm/kernels.lock) 6.12.117-1~deb12u1 6.12.117-1
6.12.118-1 6.12.118-1~deb12u2 7.3.4-1~bpo13+1 7.3.4-1 5.10.262-1 1:0.1 1.0~rc1 1.0 1.0+b1 1.0a 1.0-1~ 1.0-1"
n=0 miss=0
for a in $vers; do
	for b in $vers; do
		r=$(bash -c '. lib/debver.sh; debver_cmp "$1" "$2"' _ "$a" "$b")
		if dpkg --compare-versions "$a" lt "$b"; then w=-1
		elif dpkg --compare-versions "$a" eq "$b"; then w=0; else w=1; fi
		n=$((n + 1))
		[ "$r" = "$w" ] || { miss=$((miss + 1)); echo "debver_cmp $a $b: $r, dpkg says $w"; }
	done
done
[ $miss = 0 ] && ok "lib/debver.sh: $n comparisons as dpkg --compare-versions" ||
	bad "lib/debver.sh: $miss of $n comparisons differ from dpkg"
# One entry, bounded: it applies to a build before the bound (cow/collapse
# passes here: XPASS, exit 1), not to the bound itself nor to a kernel
# whose package version is unknown (exit 0).
printf 'cow/collapse:*\tdebian<6.12.118-1~deb12u1\tunknown-commit\tv7.4 a fix\n' > "$out/exp-bounded"
for c in "6.12.117-1~deb12u1 1" "6.12.118-1~deb12u1 0" "6.12.119-1~deb12u1 0" "- 0"; do
	read -r v want <<< "$c"
	[ "$v" = - ] && v=""
	IOPIN_KERNEL_DEBVER=$v ./run_tests.sh --no-build -t cow/collapse --expect "$out/exp-bounded" > "$out/bounded.out" 2>&1
	rc=$?
	if [ $rc != "$want" ]; then
		grep -E 'XPASS|XFAIL|^# Totals' "$out/bounded.out" | head -5
		bad "bounded expectation on package ${v:-unknown}: exit $rc, not $want"
	elif [ "$want" = 1 ] && ! grep -q '# XPASS.*fixed in Debian 6.12.118-1~deb12u1' "$out/bounded.out"; then
		bad "bounded expectation on package $v: the XPASS does not name the first fixed version"
	else
		ok "bounded expectation on package ${v:-unknown}: exit $rc"
	fi
done

# linux<V / linux>=V bound the upstream version, here the host's own.
up=$(bash -c '. lib/debver.sh; kernel_upstream')
for c in "linux>=$up 1" "linux<$up 0"; do
	read -r b want <<< "$c"
	printf 'cow/collapse:*\t%s\tunfixed\twhy\n' "$b" > "$out/exp-linux"
	./run_tests.sh --no-build -t cow/collapse --expect "$out/exp-linux" > /dev/null 2>&1
	rc=$?
	[ $rc = "$want" ] && ok "expectation bounded $b on $up: exit $rc" ||
		bad "expectation bounded $b on $up: exit $rc, not $want"
done

# make check-newest's report on a run of a newer build (here cow/collapse,
# natively, judged as for 6.12.117): a test it fixes that no bound knows is
# a change (exit 1), one a bound already names is listed, not a change.
printf 'cow/collapse:*\tunknown-commit\tv7.4 a fix\n' > "$out/exp-unbounded"
for c in "exp-unbounded 1 the fix is in this package:" "exp-bounded 0 already bound"; do
	read -r e want text <<< "$c"
	IOPIN_KERNEL_DEBVER=6.12.117-1~deb12u1 ./run_tests.sh --no-build -t cow/collapse \
		--expect "$out/$e" --json "$out/newer.json" > /dev/null 2>&1
	tools/check-newest.sh --report "$out/newer.json" debian-6.12 6.12.118-1~deb12u1 \
		6.12.117-1~deb12u1 > "$out/newer.txt" 2>&1
	rc=$?
	if [ $rc = "$want" ] && grep -q "$text" "$out/newer.txt"; then
		ok "check-newest --report, $e: exit $rc, \"$text\""
	else
		cat "$out/newer.txt"
		bad "check-newest --report, $e: exit $rc (want $want and \"$text\")"
	fi
done

step "hostile user: planted links, FIFOs and directories do not redirect root's writes"
tools/check-hostile.sh > "$out/hostile.txt" 2>&1
rc=$?
grep -E '^check-hostile: (FAIL|SKIP)' "$out/hostile.txt"
case $rc in
0) ok "tools/check-hostile.sh: $(grep -c '^check-hostile: ok' "$out/hostile.txt") attack checks" ;;
4) echo "check: tools/check-hostile.sh skipped" ;;
*) tail -20 "$out/hostile.txt"; bad "tools/check-hostile.sh (exit $rc)" ;;
esac

# ---- SIGKILL of the runner leaves nothing behind ---------------------------

# The runner's global state, as it compares it around each binary.
state_files() { ./run_tests.sh --print-state; }

# run_procs PID: PID's descendants, and every process in a session one of
# them leads (a test binary's session holds its tests and lib's keeper).
run_procs() {
	local p c mysid sids="" f line pid sid
	desc() { for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; desc "$c"; done; }
	mysid=$(ps -o sid= -p $$ | tr -d ' ')
	for p in $(desc "$1"); do
		echo "$p"
		sid=$(ps -o sid= -p "$p" | tr -d ' ')
		[ -n "$sid" ] && [ "$sid" != "$mysid" ] && sids+=" $sid"
	done
	for f in /proc/[0-9]*/stat; do
		{ read -r line < "$f"; } 2>/dev/null || continue
		read -r _ _ _ sid _ <<< "${line##*) }"
		[[ " $sids " == *" $sid "* ]] && { pid=${f#/proc/}; echo "${pid%/stat}"; }
	done
}

# runs_exe EXE PID...: one of PIDs runs EXE.
runs_exe() {
	local exe=$1 p
	shift
	for p in "$@"; do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] && return 0
	done
	return 1
}

# sigkill_leaves_nothing WHAT EXE WAIT ARGS...: start ./run_tests.sh ARGS
# with a fresh TMPDIR, wait (up to WAIT s) until one of its processes runs
# EXE, SIGKILL the runner (only it), and require within 20 s: no process of
# the run left, TMPDIR empty, the global state files as before.
# with_run_lock CMD...: run CMD while no run of the suite holds the run lock.
with_run_lock() {
	local lock
	lock="$(dirname -- "${IOPIN_STATE_LOCK:-/run/iopin-state.lock}")/iopin-run.lock"
	local fd rc
	[ "$(id -u)" = 0 ] && [ -f "$lock" ] && [ ! -L "$lock" ] || { "$@"; return; }
	exec {fd}>> "$lock" || { "$@"; return; }
	flock -w 900 "$fd"
	"$@"
	rc=$?
	exec {fd}>&-
	return $rc
}

sigkill_leaves_nothing() {
	local what=$1 exe=$2 wait=$3 r procs left p i before after tmpd
	shift 3
	tmpd=$(mktemp -d "$out/kill.XXXXXX")
	# Other runs of the suite on this machine change the same knobs: take
	# the state while none is running (their run lock free), and again
	# after the kill under that lock.
	with_run_lock true
	before=$(state_files)
	TMPDIR=$tmpd ./run_tests.sh "$@" > "$out/kill.out" 2>&1 &
	r=$!
	for ((i = 0; i < wait * 10; i++)); do
		runs_exe "$exe" $(run_procs $r) && break
		kill -0 $r 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	procs=$(run_procs $r | sort -un)
	if ! kill -0 $r 2>/dev/null || ! runs_exe "$exe" $procs; then
		tail -5 "$out/kill.out"
		bad "$what: no $exe within ${wait}s"
		kill -KILL $r 2>/dev/null
		wait $r 2>/dev/null
		return
	fi
	echo "$what: SIGKILL of run_tests.sh (pid $r) with $(echo $procs | wc -w) processes of the run, $exe among them"
	kill -KILL $r
	wait $r 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		left=""
		for p in $procs; do [ -e "/proc/$p" ] && left+=" $p"; done
		[ -z "$left" ] && [ -z "$(ls -A "$tmpd")" ] && break
		sleep 0.2
	done
	after=$(with_run_lock state_files)
	if [ -n "$left" ]; then
		ps -o pid,ppid,sid,pgid,stat,args -p "${left# }" 2>/dev/null | cut -c1-120 | sed 's/^/  /'
		bad "$what: $(echo $left | wc -w) process(es) of the run left 20 s after the SIGKILL"
	elif [ -n "$(ls -A "$tmpd")" ]; then
		bad "$what: left in TMPDIR: $(ls -A "$tmpd" | tr '\n' ' ')"
	elif [ "$before" != "$after" ]; then
		bad "$what: global state changed: $(diff <(echo "$before") <(echo "$after") | grep '^>' | tr '\n' ' ')"
	else
		ok "$what: nothing left after $((i / 5)) s, TMPDIR empty, global state as before"
	fi
	rm -rf "$tmpd"
}

step "guard tags are well formed and consistent"
if tools/check-guards.sh > "$out/guards.txt" 2>&1; then
	ok "$(tail -n1 "$out/guards.txt")"
else
	head -20 "$out/guards.txt"
	bad "tools/check-guards.sh"
fi

# Its own self-test: a malformed unknown-commit part, one subject with two
# versions, a three-part version: two problems, found.
printf '%s\n' '#!/bin/sh' "printf 'a:x\\t[unknown-commit a fix]\\n'" \
	"printf 'a:y\\t[unknown-commit v7.4 a fix]\\n'" "printf 'a:z\\t[unknown-commit v7.3 a fix]\\n'" \
	"printf 'a:w\\t[28b2ee20c7cb v2.6.27 access_process_vm device memory infrastructure]\\n'" > "$out/guards-stub"
chmod +x "$out/guards-stub"
tools/check-guards.sh "$out/guards-stub" > "$out/guards-stub.txt" 2>&1
if [ $? = 1 ] && grep -q ' 2 problem(s)' "$out/guards-stub.txt"; then
	ok "tools/check-guards.sh finds a bad unknown-commit part and a subject with two versions"
else
	cat "$out/guards-stub.txt"
	bad "tools/check-guards.sh on planted guard tags"
fi

step "SIGKILL of the runner mid-binary leaves no process, file or state change"
sigkill_leaves_nothing "native" "$top/cow/fork" 60 --no-build -t cow/fork

step "suite, natively"
start=$(date +%s)
./run_tests.sh --no-build > "$out/native.ktap" 2>&1
rc=$?
echo "native run: exit $rc in $(( $(date +%s) - start )) s; $(tail -n1 "$out/native.ktap")"
unexpected=$(grep -E '^ *not ok' "$out/native.ktap")
if [ $rc != 0 ] || [ -n "$unexpected" ]; then
	echo "$unexpected"
	grep -E '^# .*: ' "$out/native.ktap" | grep -v '^# iopin' | head -20
	bad_run "$out/native.ktap" "native run (exit $rc)"
else
	ok "native run"
fi

step "suite as an unprivileged user: exit 0 or 4, never a failure"
if tools/check-unpriv.sh > "$out/unpriv.txt" 2>&1; then
	ok "$(head -n1 "$out/unpriv.txt")"
else
	tail -30 "$out/unpriv.txt"
	bad "tools/check-unpriv.sh"
fi

step "KTAP stream parses with the kernel's kunit.py"
# shellcheck disable=SC2207
totals=($(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\).*/\1 \2 \3 \4 \5/p' "$out/native.ktap"))
python3 "$KSFT/kunit/kunit.py" parse "$out/native.ktap" > "$out/kunit.txt" 2>&1
line=$(grep 'Testing complete' "$out/kunit.txt")
echo "kunit.py: ${line#*] }"
# kunit counts XFAIL ("ok ... # XFAIL") as passed.
want_pass=$(( ${totals[0]:-0} + ${totals[2]:-0} ))
if echo "$line" | grep -q 'errors:'; then
	grep -iE 'error|expected' "$out/kunit.txt" | head
	bad "kunit.py reports errors"
elif ! echo "$line" | grep -q "passed: $want_pass\b" ||
     { [ "${totals[4]:-0}" != 0 ] && ! echo "$line" | grep -q "skipped: ${totals[4]}\b"; }; then
	bad "kunit.py counts differ from the runner's (pass $want_pass, skip ${totals[4]:-0})"
else
	ok "kunit.py: 0 errors, pass $want_pass, skip ${totals[4]:-0} as counted by run_tests.sh"
fi

step "self-test switch: IOPIN_SELFTEST_FAULT=verify flips every passing test"
./run_tests.sh --no-build --no-expect --selftest-fault verify > "$out/fault.ktap" 2>&1
# expect_all_flipped NORMAL FAULTED WHAT: every test passing (or XFAIL) in
# NORMAL must not pass in FAULTED.
expect_all_flipped() {
	local passed still survivors npassed
	passed=$(sed -n 's/^    ok [0-9]* \([^#]*[^# ]\)\( # XFAIL.*\)\{0,1\}$/\1/p' "$1" | sort -u)
	still=$(sed -n 's/^    ok [0-9]* \([^#]*[^# ]\)$/\1/p' "$2" | sort -u)
	survivors=$(comm -12 <(echo "$passed") <(echo "$still"))
	npassed=$(echo "$passed" | grep -c .)
	if [ "$npassed" = 0 ]; then
		bad "$3: no passing test to flip"
	elif [ -n "$survivors" ]; then
		echo "$survivors" | head -20
		bad "$3: $(echo "$survivors" | grep -c .) of $npassed passing tests still pass with corrupted expectations"
	else
		ok "$3: all $npassed passing tests report not ok under the injected fault"
	fi
}
expect_all_flipped "$out/native.ktap" "$out/fault.ktap" native

step "make install: the suite runs from the install directory"
inst="$out/install"
if make -s install INSTALL_PATH="$inst" > "$out/install.log" 2>&1 &&
   (cd / && "$inst/run_tests.sh" -t cow/collapse > "$out/installed.ktap" 2>&1) &&
   grep -q '^ok 1 cow:collapse$' "$out/installed.ktap"; then
	ok "installed run_tests.sh -t cow/collapse"
else
	cat "$out/install.log" "$out/installed.ktap" 2>/dev/null | tail -20
	bad "install"
fi

# run_script NAME CMD...: a check script that prints NAME: ok/FAIL lines and
# exits 0 ok, 4 skipped (e.g. not root), anything else a failure.
run_script() {
	local name=$1 rc
	shift
	"$@" > "$out/$name.txt" 2>&1
	rc=$?
	case $rc in
	0) ok "$name: $(grep -c ": ok" "$out/$name.txt") check(s)" ;;
	4) echo "check: $name skipped: $(tail -n1 "$out/$name.txt")" ;;
	*) tail -n 25 "$out/$name.txt"; bad "$name (exit $rc)" ;;
	esac
}

step "state registry: a planted leak of each kind the machine has is reported"
run_script check-state tools/check-state.sh
step "reports: --json (json module), --junit (junitparser), the summary by guard"
run_script check-reports tools/check-reports.sh
step "fleets: make gen_tar and the LAVA test definition against recorded streams"
run_script check-lava tools/lava/check.sh
step "Debian package: dpkg-buildpackage, lintian, dpkg -i, iopin -t cow/collapse"
run_script check-deb tools/check-deb.sh
step "sanitizers and static analysis: ASan+UBSan suite, valgrind, cppcheck, clang-tidy"
if tools/check-sanitize.sh > "$out/sanitize.txt" 2>&1; then
	ok "tools/check-sanitize.sh: $(grep -c 'ok' "$out/sanitize.txt") line(s) ok"
else
	tail -n 30 "$out/sanitize.txt"
	bad "tools/check-sanitize.sh"
fi

if [ $native_only = 0 ] && [ -x vm/run-vm.sh ]; then
	step "SIGKILL of the runner with --vm: QEMU and the run directory go with it"
	sigkill_leaves_nothing "--vm" "$(readlink -f "$(command -v qemu-system-x86_64)")" 600 \
		--vm "$(pinned debian-6.12)" -t cow/nonanon
	mkdir -p "$out/matrix"
	for k in $VM_LINES; do
		step "suite in QEMU on $k ($(pinned $k))"
		start=$(date +%s)
		./run_tests.sh --vm "$(pinned "$k")" --json "$out/matrix/$k.json" > "$out/$k.ktap" 2>&1
		rc=$?
		echo "$(( $(date +%s) - start )) $rc" > "$out/matrix/$k.time"
		echo "$k: exit $rc in $(( $(date +%s) - start )) s; $(grep '^# Totals' "$out/$k.ktap")"
		# The VM builds kmod/ for every Debian line: a gate test that
		# skips there hides a broken build, not a missing feature.
		if grep -qE '^    ok [0-9]+ gate\..* # SKIP' "$out/$k.ktap"; then
			grep -m1 '^# iopin-vm: iopin modules:' "$out/$k.ktap"
			bad "VM run on $k: ptrace_access/access_gate skipped (kmod/ not built?)"
		fi
		if [ $rc != 0 ] || grep -qE '^ *not ok' "$out/$k.ktap"; then
			grep -E '^ *not ok|^# iopin-vm|^# .*: ' "$out/$k.ktap" | head -30
			tail -n 40 "$out/$k.ktap"
			bad_run "$out/$k.ktap" "VM run on $k (exit $rc)"
		else
			ok "VM run on $k"
		fi
	done
	# The tests that only run in the VM (VFIO + edu) must be able to fail too.
	step "self-test switch in QEMU on debian-6.12"
	./run_tests.sh --vm "$(pinned debian-6.12)" --no-expect --selftest-fault verify > "$out/fault-vm.ktap" 2>&1
	expect_all_flipped "$out/debian-6.12.ktap" "$out/fault-vm.ktap" "debian-6.12"
	if [ -x vm/selftest.sh ]; then
		step "VM runner self-test, with the boots (a stand-in suite: passing, hanging, stalled)"
		vm/selftest.sh --boot "$(pinned debian-6.12)" && ok "vm/selftest.sh --boot" || bad "vm/selftest.sh --boot"
	fi
fi

# Livepatch mutants: a stock kernel with one fix undone by a livepatch of
# kmod/ (access-phys-no-recheck, frame-vector-follow-pfn, procfs-busy-bar,
# sysfs-lseek on 6.12, vfio-pfn-write-ignored): the tests of the mutant's
# Kill: must fail with it, and everything pass without it. 11 boots: about
# 4 min for both kernels at a load of 4-6 (mutants/README.md).
if [ $native_only = 0 ] && [ -x vm/run-vm.sh ]; then
	step "livepatch mutants in QEMU on debian-6.12 and debian-6.1"
	# All but no-access-phys: its boot fails 133 tests in 205 s, and what
	# it proves (debugger access to iomem at all) the self-test switch
	# shows too; make check-mutants runs it.
	lp_args=()
	while IFS=$'\t' read -r m _; do
		[ "$m" = no-access-phys ] || lp_args+=(-m "$m")
	done < <(tools/check-livepatch-mutants.sh --list)
	if tools/check-livepatch-mutants.sh -k "$(pinned debian-6.12)" -k "$(pinned debian-6.1)" \
		"${lp_args[@]}" > "$out/lp-mutants.txt" 2>&1; then
		grep -E '^(kernel|debian)' "$out/lp-mutants.txt"
		ok "tools/check-livepatch-mutants.sh"
	else
		tail -n 20 "$out/lp-mutants.txt"
		bad "tools/check-livepatch-mutants.sh"
	fi
fi

# What the suite runs skip for want of a boot option, once more per line
# in one boot with it: gup_longterm/movable needs a ZONE_MOVABLE
# (movablecore=, not the default: hugetlb pages would land there), and on
# Debian's 7.x (CONFIG_PROC_MEM_FORCE_PTRACE=y: /proc/self/mem does not
# force there) cow/foll_force and ptrace_access/shmem_race need
# proc_mem.force_override=always. Their tests SKIP without it, so a SKIP
# here (but CONFIG_GUP_TEST's, which no Debian kernel has) is a failure.
if [ $native_only = 0 ] && [ -x vm/run-vm.sh ]; then
	for k in $VM_LINES; do
		append="movablecore=256M" what="gup_longterm/movable"
		set -- -t gup_longterm/movable
		case $k in
		debian-7.*)
			append="$append proc_mem.force_override=always"
			what="$what, cow/foll_force, ptrace_access/shmem_race"
			set -- "$@" -t cow/foll_force -t ptrace_access/shmem_race ;;
		esac
		step "$what in QEMU on $k with $append"
		IOPIN_VM_APPEND="$append" ./run_tests.sh --vm "$(pinned "$k")" "$@" \
			--json "$out/matrix/$k+boot-options.json" > "$out/boot-options-$k.ktap" 2>&1
		rc=$?
		echo "$k with $append: exit $rc; $(grep '^# Totals' "$out/boot-options-$k.ktap")"
		if [ $rc != 0 ] || grep -qE '^ *not ok' "$out/boot-options-$k.ktap" ||
		   grep -E '^    ok .*# SKIP' "$out/boot-options-$k.ktap" | grep -qv gup_test; then
			grep -E '^ *not ok|# SKIP' "$out/boot-options-$k.ktap" | grep -v gup_test | head -10
			bad_run "$out/boot-options-$k.ktap" "$what on $k with $append (exit $rc)"
		else
			ok "$what on $k with $append"
		fi
	done
fi

# ptrace_access under every proc_mem.force_override mode: one VM boot per
# mode; the tests must see the mode on the command line and pass.
if [ $native_only = 0 ] && [ -x vm/run-vm.sh ]; then
	for mode in always ptrace never; do
		step "ptrace_access in QEMU on debian-6.12, proc_mem.force_override=$mode"
		start=$(date +%s)
		IOPIN_VM_APPEND="proc_mem.force_override=$mode" \
			./run_tests.sh --vm "$(pinned debian-6.12)" -c ptrace_access > "$out/force-$mode.ktap" 2>&1
		rc=$?
		echo "force_override=$mode: exit $rc in $(( $(date +%s) - start )) s; $(grep '^# Totals' "$out/force-$mode.ktap")"
		if [ $rc != 0 ] || grep -qE '^ *not ok' "$out/force-$mode.ktap" ||
		   ! grep -q "proc_mem.force_override=$mode: kernel command line" "$out/force-$mode.ktap"; then
			grep -E '^ *not ok|^# iopin-vm|^ *# .*force_override' "$out/force-$mode.ktap" | head -30
			bad_run "$out/force-$mode.ktap" "ptrace_access with proc_mem.force_override=$mode (exit $rc)"
		else
			ok "ptrace_access with proc_mem.force_override=$mode"
		fi
	done
fi

# The guard x kernel matrix of those runs (tools/matrix.sh): what a distro
# team reads first; its exit says whether a cell is FAIL or XPASS.
if [ -d "$out/matrix" ]; then
	step "kernel matrix of the pinned builds (tools/matrix.sh)"
	if tools/matrix.sh --from "$out/matrix" --kernels "$VM_LINES"; then
		ok "kernel matrix: no FAIL or XPASS cell"
	else
		bad "kernel matrix: a FAIL or XPASS cell, or a kernel without a report"
	fi
fi

# Tests run over all suite runs (native and VM), as one plain line.
sum_pass=0 sum_fail=0 sum_skip=0
for k in "$out"/native.ktap "$out"/debian-*.ktap; do
	[ -r "$k" ] || continue
	read -r p f xf xp s <<< "$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\).*/\1 \2 \3 \4 \5/p' "$k")"
	sum_pass=$((sum_pass + ${p:-0} + ${xf:-0})); sum_fail=$((sum_fail + ${f:-0} + ${xp:-0}))
	sum_skip=$((sum_skip + ${s:-0}))
done

echo
echo "suite: $sum_pass passed, $sum_fail failed, $sum_skip skipped"
if [ $failures -gt 0 ]; then
	echo "check: $failures check(s) failed:"
	sed 's/^/  /' "$out/failed"
	exit 1
fi
echo "check: all checks passed"
