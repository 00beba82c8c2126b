#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-newest.sh (make check-newest): kernel drift. make check boots
# the builds vm/kernels.lock pins; this boots the newest build of each
# pinned line that Debian's archive has today and prints, per kernel, what
# its verdicts change against the expectations as they stand for the pinned
# build (IOPIN_VM_EXPECT_AS: package-bounded entries apply as for the
# pinned version):
#   - tests that pass although the expectations say they fail there: the
#     fix is in the newer package (bump the lock and bound the entry:
#     "debian<VERSION"); where an entry's bound already names a version up
#     to the newest, the expectations knew it: listed, not a change;
#   - tests that fail and no expectation covers: a regression, or a fix
#     whose new behaviour a test does not know yet;
#   - binaries that did not complete.
# A line whose newest build is the pinned one is not booted.
#
#   tools/check-newest.sh [NAME...]     names from vm/kernels.lock (default: all)
#   tools/check-newest.sh --report JSON NAME NEWEST PINNED
#                                       only the report of a run already made
#
# Not part of make check: what Debian publishes must not turn CI red.
# Exit 0 no verdict changed, 1 something changed (listed), 2 bad usage,
# 255 a host-side problem.
. "$(dirname "$0")/lib.sh"
lib_init check-newest
cd "$top" || exit 255
lib_tmpdir out
names=("$@")
[ "${1:-}" = --report ] && names=()
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(vm/kernels.sh names)
for n in "${names[@]}"; do
	vm/kernels.sh pinned "$n" >/dev/null || exit 2
done

# report JSON NAME NEWEST PINNED: what the run in JSON (of build NEWEST)
# changes against the expectations for PINNED; fails if anything changed.
report() {
	python3 - "$@" <<'EOF'
import json, re, subprocess, sys
path, name, ver, pinned = sys.argv[1:]
rep = json.load(open(path))
def older_or_equal(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "le", b]).returncode == 0
xpass, fail = {}, {}
unknown = 0
for t in rep["tests"]:
    key = t["binary"] + ":" + t["test"]
    if t["verdict"] == "xpass":
        xpass.setdefault(t["guard"], []).append((key, t["reason"]))
    elif t["verdict"] == "fail":
        fail.setdefault(t["guard"], []).append((key, t["reason"]))
for guard, tests in sorted(xpass.items()):
    known = [k for k, r in tests
             if (m := re.search(r"fixed in Debian (\S+)\)", r)) and older_or_equal(m.group(1), ver)]
    note = f" (the expectations already bound {len(known)} of them: not a change)" if known else ""
    unknown += len(tests) - len(known)
    print(f"check-newest: {name}: {ver}: {len(tests)} test(s) pass that the expectations "
          f"for {pinned} call failing: the fix is in this package{note}: {guard}")
    for k, _ in tests[:5]:
        print(f"    {k}")
    if len(tests) > 5:
        print(f"    ... and {len(tests) - 5} more")
for guard, tests in sorted(fail.items()):
    print(f"check-newest: {name}: {ver}: {len(tests)} new failure(s), no expectation: {guard}")
    for k, r in tests[:5]:
        print(f"    {k}: {r[:160]}")
for e in rep.get("errors", []):
    print(f"check-newest: {name}: {ver}: {e['binary']} did not complete: {e['reason'][:160]}")
sys.exit(1 if unknown or fail or rep.get("errors") else 0)
EOF
}

if [ "${1:-}" = --report ]; then
	[ $# = 5 ] && [ -r "$2" ] || { echo "check-newest: --report JSON NAME NEWEST PINNED" >&2; exit 2; }
	shift
	report "$@"
	exit
fi

changed=0
for n in "${names[@]}"; do
	pinned=$(vm/kernels.sh pinned "$n")
	pinned=${pinned#debian:}
	series=${n#debian-}
	if ! newest=$(vm/kernels.sh newest "$series"); then
		echo "check-newest: $n: Debian's archive did not answer" >&2
		exit 255
	fi
	read -r pkg ver <<< "$newest"
	if [ "$ver" = "$pinned" ]; then
		echo "check-newest: $n: the newest build is the pinned $pinned: no drift"
		continue
	fi
	echo "check-newest: $n: pinned $pinned, newest $ver ($pkg): booting it"
	start=$(date +%s)
	IOPIN_VM_EXPECT_AS=$pinned ./run_tests.sh --vm "debian:$ver" --json "$out/$n.json" \
		> "$out/$n.ktap" 2> "$out/$n.err"
	rc=$?
	echo "check-newest: $n: $ver: exit $rc in $(( $(date +%s) - start )) s; $(grep '^# Totals' "$out/$n.ktap")"
	if [ ! -s "$out/$n.json" ]; then
		tail -n 20 "$out/$n.err" "$out/$n.ktap"
		echo "check-newest: $n: $ver: no report (the run did not complete)"
		changed=1
		continue
	fi
	report "$out/$n.json" "$n" "$ver" "$pinned" || changed=1
done
if [ $changed = 0 ]; then
	echo "check-newest: no verdict changed"
else
	echo "check-newest: verdicts changed (above): bump vm/kernels.lock with expectations that say so"
fi
exit $changed
