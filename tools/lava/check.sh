#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/lava/check.sh - part of `make check`: the LAVA test definition and
# `make gen_tar`, the way a fleet uses them.
#
# 1. Two small real runs are recorded into a temporary directory (cow/collapse
#    and pci_mmap/procfs under --selftest-fault verify with two failures
#    mapped to XFAIL; cow/collapse with an XPASS), plus a synthetic binary
#    whose test names are too long or hold characters LAVA does not take.
#    tools/lava/iopin.sh reports each with stub lava-test-case and
#    lava-test-set commands on PATH that log their calls; the calls must
#    match the stream: one case per test in a set per binary, the binary's
#    verdict, iopin-run, counts per result, names LAVA accepts, unique.
# 2. `make gen_tar` into the temporary directory; iopin.sh unpacks it
#    (install step, file:// URL) and runs -t cow/collapse from there with the
#    working directory /, through the stubs; the binaries need no shared
#    library beyond what the tarball's DEPENDS names.
#
# Prints "check-lava: ok ..." / "check-lava: FAIL ..."; exit 0, 1 on a
# failure, 2 when it cannot run.

set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top" || exit 2
failures=0
ok() { echo "check-lava: ok $*"; }
bad() { echo "check-lava: FAIL $*"; failures=$((failures + 1)); }
[ -x cow/collapse ] && [ -x pci_mmap/procfs ] || { echo "check-lava: build first (make)" >&2; exit 2; }

out=$(mktemp -d "${TMPDIR:-/tmp}/iopin-check-lava.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
start=$SECONDS

# Stubs: log each call as LAVA's shell helpers would get it, and refuse
# a malformed one.
mkdir "$out/bin"
cat > "$out/bin/lava-test-case" <<'EOF'
#!/bin/sh
[ $# = 3 ] && [ "$2" = --result ] || { echo "bad lava-test-case call: $*" >&2; exit 1; }
echo "case $1 $3" >> "$LAVA_LOG"
EOF
cat > "$out/bin/lava-test-set" <<'EOF'
#!/bin/sh
[ $# = 2 ] && { [ "$1" = start ] || [ "$1" = stop ]; } || { echo "bad lava-test-set call: $*" >&2; exit 1; }
echo "set $1 $2" >> "$LAVA_LOG"
EOF
chmod +x "$out/bin/"*

printf 'cow/collapse:collapse.before_fork.*\t84209e87c696 v6.2 planted by check-lava\n' > "$out/plant-xfail"
printf 'cow/collapse:collapse.in_child_fully_shared.child_keeps_its_copy_when_parent_writes\t6c287605fd56 v5.19 planted by check-lava\n' > "$out/plant-xpass"
./run_tests.sh --no-build -t cow/collapse -t pci_mmap/procfs --selftest-fault verify \
	--expect "$out/plant-xfail" > "$out/A.ktap" 2>&1
./run_tests.sh --no-build -t cow/collapse --expect "$out/plant-xpass" > "$out/B.ktap" 2>&1
long=$(printf 'fixture.variant_%s.test' "$(printf 'x%.0s' $(seq 1 100))")
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    1..4"
	echo "    ok 1 $long"
	echo "    ok 2 ${long}_too # SKIP no such thing"
	echo "    not ok 3 f.v.with spaces/and:colons"
	echo "    ok 4 f.v.x # XFAIL 84209e87c696 v6.2 why"
	echo "not ok 1 coll:odd"
	echo "# Totals: pass:1 fail:1 xfail:1 xpass:0 skip:1 error:0"
} > "$out/C.ktap"

# The checker: the calls the stubs logged against the stream.
cat > "$out/check.py" <<'EOF'
import re, sys, zlib
ktap, log = sys.argv[1], sys.argv[2]
problems = []
bad = problems.append
want, tests = [], []
for line in open(ktap, encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^    (not ok|ok) \d+ (.*?)(?: # (XFAIL|XPASS|SKIP)\b.*)?$", line)
    if m:
        r = {"XFAIL": "pass", "XPASS": "fail", "SKIP": "skip"}.get(m.group(3), "pass" if m.group(1) == "ok" else "fail")
        tests.append((m.group(2), r))
        continue
    m = re.match(r"^(not ok|ok) \d+ (\S+)(?: # (SKIP)\b.*)?$", line)
    if m:
        b = re.sub(r"[:/]", "_", m.group(2))
        want.append(("set", "start", b))
        want += [("case", n, r) for n, r in tests]
        want.append(("set", "stop", b))
        want.append(("case", b, "skip" if m.group(3) else ("pass" if m.group(1) == "ok" else "fail")))
        tests = []
want.append(("case", "iopin-run", "pass"))
got = [tuple(l.split(" ", 2)) for l in open(log).read().splitlines()]
def lava(n):
    s = re.sub(r"[^A-Za-z0-9_.-]", "_", n)
    if len(s) > 100:
        s = s[:91] + "-%08x" % cksum(n.encode())
    return s
def cksum(data):
    # POSIX cksum: CRC-32 (polynomial 0x04C11DB7, MSB first) over the data and its length.
    crc = 0
    def feed(byte):
        nonlocal crc
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    for b in data:
        feed(b)
    n = len(data)
    while n:
        feed(n & 0xFF)
        n >>= 8
    return ~crc & 0xFFFFFFFF
want = [(k, lava(a), b) if k == "case" else (k, a, lava(b)) for k, a, b in want]
if got != want:
    for i, (g, w) in enumerate(zip(got + [None] * len(want), want + [None] * len(got))):
        if g != w:
            bad(f"call {i + 1}: got {g}, want {w}")
            break
    bad(f"{len(got)} calls, {len(want)} expected")
names, inset = set(), None
for k, a, b in got:
    if k == "set":
        if (a == "start") != (inset is None) or (a == "stop" and b != inset):
            bad(f"unbalanced lava-test-set {a} {b}")
        inset = b if a == "start" else None
        continue
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", a):
        bad(f"case name {a!r} is not one LAVA takes")
    if (inset, a) in names:
        bad(f"case {a} twice in set {inset}")
    names.add((inset, a))
count = {}
for k, a, b in got:
    if k == "case":
        count[b] = count.get(b, 0) + 1
if problems:
    print("\n".join(problems[:10]))
    sys.exit(1)
print(f"{sum(k == 'set' for k, _, _ in got) // 2} sets, {sum(count.values())} cases ("
      + ", ".join(f"{r} {n}" for r, n in sorted(count.items())) + ")")
EOF

for r in A B C; do
	: > "$out/$r.log"
	if ! PATH="$out/bin:$PATH" LAVA_LOG="$out/$r.log" tools/lava/iopin.sh -o "$out/out-$r" -k "$out/$r.ktap" report \
		> "$out/$r.report" 2>&1; then
		tail -3 "$out/$r.report"
		bad "iopin.sh report of recorded stream $r"
	elif line=$(python3 "$out/check.py" "$out/$r.ktap" "$out/$r.log"); then
		ok "stream $r ($(grep '^# Totals' "$out/$r.ktap" | cut -c3-)): lava-test-case/set calls match it: $line"
	else
		echo "$line"
		bad "stream $r: the lava-test-case calls do not match the stream"
	fi
	# result.txt (test-definitions' format) holds the same cases.
	if [ "$(grep -c '^case' "$out/$r.log")" != "$(grep -c . "$out/out-$r/result.txt" 2>/dev/null)" ]; then
		bad "stream $r: result.txt and the lava-test-case calls differ"
	fi
done

# ---- make gen_tar, unpacked and run as a fleet would ------------------------
tar_start=$SECONDS
if ! make -s --no-print-directory gen_tar GEN_TAR="$out/iopin.tar.gz" > "$out/gen_tar.log" 2>&1; then
	tail -5 "$out/gen_tar.log"
	bad "make gen_tar"
else
	ok "$(tail -1 "$out/gen_tar.log") ($((SECONDS - tar_start)) s)"
	: > "$out/T.log"
	if (cd / && PATH="$out/bin:$PATH" LAVA_LOG="$out/T.log" "$top/tools/lava/iopin.sh" -o "$out/fleet" \
		-u "file://$out/iopin.tar.gz" -s true install &&
	    cd / && PATH="$out/bin:$PATH" LAVA_LOG="$out/T.log" "$top/tools/lava/iopin.sh" -o "$out/fleet" \
		-a "-t cow/collapse" run) > "$out/T.out" 2>&1 &&
	   grep -q '^ok 1 cow:collapse$' "$out/T.out" &&
	   line=$(python3 "$out/check.py" "$out/fleet/iopin.ktap" "$out/T.log") &&
	   [ "$(grep -c '^case .* pass$' "$out/T.log")" = 12 ]; then
		ok "the tarball unpacked by iopin.sh (install) runs -t cow/collapse from $out/fleet/suite: $line"
	else
		tail -8 "$out/T.out"
		bad "the unpacked tarball does not run cow/collapse through iopin.sh"
	fi
	# Shared objects: only those DEPENDS answers for (libc6's and what it names).
	suite=$out/fleet/suite/iopin
	if [ -r "$suite/DEPENDS" ]; then
		needed=$(for f in $(cat "$suite/tests.list") lib/iopin-hold; do
			objdump -p "$suite/$f" | awk '$1 == "NEEDED" { print $2 }'; done | sort -u | tr '\n' ' ')
		extra=""
		for so in $needed; do
			case $so in
			libc.so.*|libm.so.*|ld-linux*) grep -qx libc6 "$suite/DEPENDS" || extra+=" $so" ;;
			libpci.so.3) grep -qx libpci3 "$suite/DEPENDS" || extra+=" $so" ;;
			*) extra+=" $so" ;;
			esac
		done
		if [ -n "$extra" ]; then
			bad "tarball binaries need shared objects DEPENDS does not name:$extra"
		else
			ok "tarball binaries need only: $needed(DEPENDS: $(grep -v '^#' "$suite/DEPENDS" | tr '\n' ' '))"
		fi
	else
		bad "no DEPENDS in the tarball"
	fi
fi

echo "check-lava: $((SECONDS - start)) s"
if [ $failures -gt 0 ]; then
	echo "check-lava: $failures check(s) failed"
	exit 1
fi
exit 0
