#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-reports.sh - part of `make check`: the reports run_tests.sh
# writes (--json, --junit and the summary by guard) are checked against a
# real run's KTAP stream and totals, with the tools their consumers use:
# python3's json module and python3-junitparser (tools/deps.sh --check).
#
# Three small native runs (a few seconds), into a fresh temporary directory:
#   A: cow/collapse + pci_mmap/procfs under --selftest-fault verify, with an
#      expectation planted for two of the failing tests: fail, xfail, skip;
#   B: cow/collapse with an expectation planted for a passing test: pass, xpass;
#   C: pci_mmap/procfs: all skipped, a summary that names no failure.
# Then lib/report.awk on run A's stream under mawk and busybox awk (and gawk
# if installed) must give byte-identical reports, and a synthetic stream
# with quotes, backslashes, markup and stray bytes must stay valid JSON/XML;
# one that ends inside a binary keeps that binary's finished tests.
#
# Prints "check-reports: ok ..." / "check-reports: FAIL ..." lines; exit 0
# when everything holds, 1 on a failure, 2 when it cannot run.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_init check-reports
cd "$top" || die "cannot enter $top"
PY=/usr/bin/python3	# Debian's, with python3-junitparser (not a pyenv one)

tools/deps.sh --check >&2 || die "tools/deps.sh --check failed"
"$PY" -c 'import junitparser' 2>/dev/null || die "$PY has no junitparser"
[ -x cow/collapse ] && [ -x pci_mmap/procfs ] || die "build first (make)"

lib_tmpdir out

# Planted expectations (run A: two failing tests XFAIL; run B: one passing test XPASS).
printf 'cow/collapse:collapse.before_fork.*\t84209e87c696 v6.2 planted by check-reports\n' > "$out/plant-xfail"
printf 'cow/collapse:collapse.in_child_fully_shared.child_keeps_its_copy_when_parent_writes\t6c287605fd56 v5.19 planted by check-reports\n' > "$out/plant-xpass"

# run NAME WANT-RC ARGS...: run_tests.sh ARGS with both reports.
run() {
	local name=$1 want=$2 rc
	shift 2
	./run_tests.sh --no-build --json "$out/$name.json" --junit "$out/$name.xml" "$@" \
		> "$out/$name.ktap" 2> "$out/$name.err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		tail -5 "$out/$name.ktap" "$out/$name.err"
		bad "run $name ($*) exited $rc, not $want"
		return 1
	fi
	[ -s "$out/$name.json" ] && [ -s "$out/$name.xml" ] || { bad "run $name wrote no report"; return 1; }
	echo "check-reports: run $name: $(grep '^# Totals' "$out/$name.ktap")"
}

start=$(date +%s.%N)
run A 1 -t cow/collapse -t pci_mmap/procfs --selftest-fault verify --expect "$out/plant-xfail"
run B 1 -t cow/collapse --expect "$out/plant-xpass"
run C 4 -t pci_mmap/procfs

# The checker: for each run, the KTAP stream parsed here on its own, the
# JSON with json, the JUnit XML with junitparser; everything must agree.
cat > "$out/check.py" <<'EOF'
import json, re, sys
import junitparser
from junitparser import JUnitXml, Failure, Skipped, Error, Properties

out, name, want = sys.argv[1], sys.argv[2], sys.argv[3]
want = dict(kv.split("=") for kv in want.split(",")) if want else {}
problems = []
def bad(msg):
    problems.append(msg)

# --- the KTAP stream, parsed independently of lib/report.awk ---------------
stream = open(f"{out}/{name}.ktap", encoding="utf-8").read().splitlines()
kernel = None
tests, pending = [], []
res = re.compile(r"^    (not ok|ok) \d+ (.*?)(?: # (XFAIL|XPASS|SKIP)\b ?(.*))?$")
top = re.compile(r"^(not ok|ok) \d+ ([a-z_]+):([a-z_]+)\b")
guard = None
for line in stream:
    if line.startswith("# iopin on ") and kernel is None:
        kernel = line[len("# iopin on "):].split(",")[0]
    m = re.match(r"^    # guards: (.*)$", line)
    if m:
        guard = m.group(1)
    m = res.match(line)
    if m:
        r, tname, d, why = m.groups()
        v = {"XFAIL": "xfail", "XPASS": "xpass", "SKIP": "skip"}.get(d, "pass" if r == "ok" else "fail")
        pending.append({"test": tname, "verdict": v, "guard": guard, "why": why})
        guard = None
        continue
    m = top.match(line)
    if m:
        for t in pending:
            t["binary"] = m.group(2) + "/" + m.group(3)
        tests += pending
        pending = []
totals = None
for line in stream:
    m = re.match(r"^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)$", line)
    if m:
        totals = dict(zip(["pass", "fail", "xfail", "xpass", "skip", "error"], map(int, m.groups())))
if kernel is None or totals is None or not tests:
    bad(f"stream: no header, totals or results (kernel {kernel}, totals {totals}, {len(tests)} results)")
    print("\n".join(problems)); sys.exit(1)
count = {v: sum(t["verdict"] == v for t in tests) for v in ("pass", "fail", "xfail", "xpass", "skip")}
for v, n in count.items():
    if totals[v] != n:
        bad(f"stream: {n} {v} results, but the runner's totals say {totals[v]}")
for v, n in want.items():
    if count.get(v) != int(n):
        bad(f"stream: {count.get(v)} {v} results, the planted run should give {n}")

# --- JSON: one record per test, in stream order ----------------------------
fields = {"collection": str, "binary": str, "test": str, "verdict": str, "guard": str,
          "needs": str, "duration_ms": (int, type(None)), "reason": str, "kernel": str}
try:
    doc = json.load(open(f"{out}/{name}.json", encoding="utf-8"))
except ValueError as e:
    bad(f"json: does not parse: {e}")
    doc = {"kernel": None, "tests": [], "errors": []}
if set(doc) != {"kernel", "tests", "errors"}:
    bad(f"json: top-level keys {sorted(doc)}, want errors, kernel, tests")
errs = doc.get("errors", [])
if len(errs) != totals["error"]:
    bad(f"json: {len(errs)} binary errors, the runner's totals say {totals['error']}")
for e in errs:
    if set(e) != {"collection", "binary", "reason", "kernel"} or not e["reason"] or e["kernel"] != kernel:
        bad(f"json: error record {e}")
if doc.get("kernel") != kernel:
    bad(f"json: kernel {doc.get('kernel')!r}, the stream says {kernel!r}")
recs = doc.get("tests", [])
if len(recs) != len(tests):
    bad(f"json: {len(recs)} records for {len(tests)} results in the stream")
jcount = {}
for i, (r, t) in enumerate(zip(recs, tests)):
    where = f"json record {i + 1} ({t['binary']}:{t['test']})"
    if set(r) != set(fields):
        bad(f"{where}: fields {sorted(r)}, want {sorted(fields)}")
        continue
    for f, ty in fields.items():
        if not isinstance(r[f], ty) or isinstance(r[f], bool):
            bad(f"{where}: {f} is {type(r[f]).__name__}")
    jcount[r["verdict"]] = jcount.get(r["verdict"], 0) + 1
    for f in ("binary", "test", "verdict"):
        if r[f] != t[f]:
            bad(f"{where}: {f} {r[f]!r}, the stream says {t[f]!r}")
    if r["collection"] != t["binary"].split("/")[0]:
        bad(f"{where}: collection {r['collection']!r}")
    if r["kernel"] != kernel:
        bad(f"{where}: kernel {r['kernel']!r}")
    if t["guard"] is not None and r["guard"] != t["guard"]:
        bad(f"{where}: guard {r['guard']!r}, the stream says {t['guard']!r}")
    if not re.match(r"^([0-9a-f]{12} v\d+\.\d+\S* \S.*|CVE-\d{4}-\d{4,}.*)$", r["guard"]):
        bad(f"{where}: guard {r['guard']!r} is not a 12-hex commit + version, nor a CVE")
    if isinstance(r["duration_ms"], int) and not 0 <= r["duration_ms"] < 3600 * 1000:
        bad(f"{where}: duration_ms {r['duration_ms']}")
    if r["verdict"] == "pass" and (r["reason"] or r["duration_ms"] is None):
        bad(f"{where}: a pass with reason {r['reason']!r}, duration {r['duration_ms']}")
    if r["verdict"] in ("skip", "xfail", "xpass") and r["reason"] != (t["why"] or ""):
        bad(f"{where}: reason {r['reason']!r}, the stream's directive says {t['why']!r}")
    if r["verdict"] in ("skip", "fail", "xfail", "xpass") and not r["reason"]:
        bad(f"{where}: a {r['verdict']} without a reason")
for v in ("pass", "fail", "xfail", "xpass", "skip"):
    if jcount.get(v, 0) != totals[v]:
        bad(f"json: {jcount.get(v, 0)} {v} records, the runner's totals say {totals[v]}")

# --- JUnit XML, read by junitparser ----------------------------------------
try:
    xml = JUnitXml.fromfile(f"{out}/{name}.xml")
except Exception as e:
    bad(f"junit: junitparser cannot read it: {e}")
    xml = []
jrecs = {}
jerrs = []
nsuites = 0
for suite in xml:
    nsuites += 1
    cases = list(suite)
    nf = sum(any(isinstance(x, Failure) for x in c.result) for c in cases)
    ns = sum(any(isinstance(x, Skipped) for x in c.result) for c in cases)
    ne = sum(any(isinstance(x, Error) for x in c.result) for c in cases)
    if (suite.tests, suite.failures, suite.skipped, suite.errors) != (len(cases), nf, ns, ne):
        bad(f"junit suite {suite.name}: says tests {suite.tests} failures {suite.failures} "
            f"skipped {suite.skipped} errors {suite.errors}, holds {len(cases)}/{nf}/{ns}/{ne}")
    for c in cases:
        if any(isinstance(x, Error) for x in c.result):
            jerrs.append((suite.name, c.name, [x.message for x in c.result]))
            continue
        if c.classname != suite.name:
            bad(f"junit {suite.name}:{c.name}: classname {c.classname}")
        props = {}
        for p in c.iterchildren(Properties):
            for q in p:
                props[q.name] = q.value
        kinds = sorted(type(x).__name__ for x in c.result)
        msg = [x.message for x in c.result]
        jrecs[(suite.name, c.name)] = (kinds, msg, props, c.time)
if nsuites != len({t["binary"] for t in tests} | {e["binary"] for e in errs}):
    bad(f"junit: {nsuites} testsuites for {len({t['binary'] for t in tests})} binaries")
if sorted(jerrs) != sorted((e["binary"], e["binary"], [e["reason"]]) for e in errs):
    bad(f"junit: error testcases {jerrs}, the JSON errors are {errs}")
if len(jrecs) != len(tests):
    bad(f"junit: {len(jrecs)} testcases for {len(tests)} results")
for r in recs:
    key = (r["binary"], r["test"])
    if key not in jrecs:
        bad(f"junit: no testcase {key}")
        continue
    kinds, msg, props, secs = jrecs[key]
    want_kind = {"fail": ["Failure"], "xpass": ["Failure"], "skip": ["Skipped"]}.get(r["verdict"], [])
    if kinds != want_kind:
        bad(f"junit {key}: results {kinds} for verdict {r['verdict']}")
    elif r["verdict"] in ("fail", "skip") and msg != [r["reason"]]:
        bad(f"junit {key}: message {msg}, the JSON reason is {r['reason']!r}")
    if props.get("guard") != r["guard"]:
        bad(f"junit {key}: guard property {props.get('guard')!r}")
    if (r["verdict"] == "xfail") != ("xfail" in props):
        bad(f"junit {key}: xfail property {props.get('xfail')!r} for verdict {r['verdict']}")
    if r["duration_ms"] is not None and abs(secs - r["duration_ms"] / 1000) > 0.001:
        bad(f"junit {key}: time {secs}, duration_ms {r['duration_ms']}")

# --- the summary by guard: every failure, XFAIL and XPASS, once ------------
summ = [l for l in stream if l.startswith("# summary:") or l.startswith("# kernel ") or l.startswith("#   ")]
listed = {}
for l in summ:
    m = re.match(r"^#   (not ok|XFAIL|XPASS) +(\S+?):(\S+)", l)
    if m:
        listed.setdefault((m.group(2), m.group(3)), []).append(m.group(1))
tag = {"fail": "not ok", "xfail": "XFAIL", "xpass": "XPASS"}
for r in recs:
    key = (r["binary"], r["test"])
    if r["verdict"] in tag:
        if listed.get(key) != [tag[r["verdict"]]]:
            bad(f"summary: {key} ({r['verdict']}) listed as {listed.get(key)}")
    elif key in listed:
        bad(f"summary: {key} ({r['verdict']}) listed as {listed[key]}")
bad_groups = {}
for r in recs:
    if r["verdict"] in ("fail", "xfail"):
        g = bad_groups.setdefault(r["guard"], [0, 0])
        g[r["verdict"] == "xfail"] += 1
for g, (nf, nx) in bad_groups.items():
    line = (f"# kernel {kernel} fails {nf + nx} test(s) guarded by {g}"
            + ("" if g.startswith("CVE-") else " -- missing fix or a regression of it")
            + f": {nf} unexpected, {nx} expected (XFAIL)")
    if not any(l.startswith(line) for l in summ):
        bad(f"summary: no line {line!r}")
for e in errs:
    if f"# kernel {kernel}: {e['binary']} did not complete: {e['reason']}" not in summ:
        bad(f"summary: no line for the error of {e['binary']}")
if not errs and (not recs or all(r["verdict"] in ("pass", "skip") for r in recs)):
    if f"# summary: kernel {kernel} fails no test" not in summ:
        bad("summary: a run without failures does not say 'fails no test'")
for l in summ:
    print(f"  {name}| {l}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(recs)} records, {len(errs)} binary errors ({', '.join(f'{v} {n}' for v, n in sorted(count.items()) if n)}) agree: "
      f"stream, totals, JSON, JUnit ({nsuites} testsuites, junitparser {junitparser.version}), summary")
EOF

# D: a stream as a --vm run prints it when binaries fail without a failing
# test (timeout, crash): what the runner counts as error:N.
cat > "$out/D.ktap" <<'STREAM'
KTAP version 1
# iopin on 6.1.0-0-amd64, x86_64
1..3
    KTAP version 1
    1..1
    #  RUN           f.v.one ...
    # guards: 84209e87c696 v6.2 mm/gup: reliable R/O long-term pinning in COW mappings
    # time: 5 ms
    ok 1 f.v.one
# cow:fork: timed out after 900s
not ok 1 cow:fork
    KTAP version 1
    1..1
    #  RUN           g.v.one ...
    # guards: 84209e87c696 v6.2 mm/gup: reliable R/O long-term pinning in COW mappings
    # g.v.one: Test terminated by assertion
    not ok 1 g.v.one
# cow:pin_ro: 1 test(s) failed
not ok 2 cow:pin_ro
# cow:pin_rw: exit code 139
not ok 3 cow:pin_rw
STREAM
awk -v mode=summary -f lib/report.awk "$out/D.ktap" >> "$out/D.ktap"
echo "# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:2" >> "$out/D.ktap"
awk -v mode=json -f lib/report.awk "$out/D.ktap" > "$out/D.json"
awk -v mode=junit -f lib/report.awk "$out/D.ktap" > "$out/D.xml"

for r in A B C D; do
	[ -s "$out/$r.json" ] || continue
	case $r in
	A) want="fail=8,xfail=2,skip=3,pass=0,xpass=0" ;;
	B) want="pass=9,xpass=1,fail=0,xfail=0,skip=0" ;;
	C) want="skip=3,pass=0,fail=0,xfail=0,xpass=0" ;;
	D) want="pass=1,fail=1" ;;
	esac
	if "$PY" "$out/check.py" "$out" "$r" "$want" > "$out/check-$r.txt" 2>&1; then
		grep -v '^  ' "$out/check-$r.txt" | tail -1 | sed "s/^/run $r: /" | while read -r l; do ok "$l"; done
		[ "$r" = A ] && grep '^  A| # kernel' "$out/check-A.txt" | head -2
	else
		cat "$out/check-$r.txt" | head -30
		bad "run $r: the reports disagree with the stream"
	fi
done

# ---- the same reports from every POSIX awk ----------------------------------
if [ -s "$out/A.json" ]; then
	awks="mawk"
	busybox awk 'BEGIN { exit 0 }' 2>/dev/null && awks+=" busybox"
	command -v gawk > /dev/null && awks+=" gawk"
	same=1
	for st in A D; do
		for mode in json junit summary tsv; do
			ref=""
			for a in $awks; do
				[ "$a" = busybox ] && a="busybox awk"
				f="$out/awk.$st.$mode.${a// /_}"
				$a -v mode=$mode -f lib/report.awk "$out/$st.ktap" > "$f" 2>&1
				if [ -z "$ref" ]; then
					ref=$f
				elif ! cmp -s "$ref" "$f"; then
					diff "$ref" "$f" | head -5
					bad "lib/report.awk mode=$mode on stream $st: $a differs from ${ref##*.}"
					same=0
				fi
			done
		done
	done
	cmp -s "$out/awk.A.json.mawk" "$out/A.json" || { bad "mawk's JSON differs from run_tests.sh --json"; same=0; }
	[ $same = 1 ] && ok "lib/report.awk: byte-identical json, junit, summary, tsv (streams A, D) under: $awks"
fi

# ---- a hostile stream: quotes, backslashes, markup, control and stray bytes --
weird=$(printf 'a "quoted" \\back\\slash <tag> & amp\ttab \001ctl \351byte ]]> end')
{
	echo "KTAP version 1"
	echo "# iopin on 6.1.0-\"odd\"<&>, x86_64"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    1..3"
	echo "    #  RUN           f.v.one ..."
	echo "    # guards: 84209e87c696 v6.2 mm/gup: \"quoted\" & <subject>"
	echo "    # needs: root"
	echo "    # $weird"
	echo "    not ok 1 f.v.one"
	echo "    #  RUN           f.v.two ..."
	echo "    # guards: CVE-2022-2590"
	echo "    ok 2 f.v.two # SKIP $weird"
	echo "    #  RUN           f.v.three ..."
	echo "    # guards: 84209e87c696 v6.2 mm/gup"
	echo "    # time: 12 ms"
	echo "    ok 3 f.v.three # XFAIL $weird"
	echo "ok 0 x:y"
} > "$out/weird.ktap"
awk -v mode=json -f lib/report.awk "$out/weird.ktap" > "$out/weird.json"
awk -v mode=junit -f lib/report.awk "$out/weird.ktap" > "$out/weird.xml"
if "$PY" - "$out" > "$out/weird.txt" 2>&1 <<'EOF'
import json, sys
from junitparser import JUnitXml, Failure, Skipped
out = sys.argv[1]
raw = open(f"{out}/weird.json", "rb").read()
raw.decode("ascii")
d = json.loads(raw)
t = d["tests"]
assert d["kernel"] == '6.1.0-"odd"<&>', d["kernel"]
assert [x["verdict"] for x in t] == ["fail", "skip", "xfail"], t
assert all(x["binary"] == "x/y" for x in t), t
assert t[0]["guard"] == '84209e87c696 v6.2 mm/gup: "quoted" & <subject>', t[0]
assert t[0]["needs"] == "root" and t[2]["duration_ms"] == 12 and t[0]["duration_ms"] is None, t
for x in t:
    assert 'a "quoted" \\back\\slash <tag> & amp\ttab ?ctl ?byte ]]> end' in x["reason"], x["reason"]
xml = JUnitXml.fromfile(f"{out}/weird.xml")
cases = [c for s in xml for c in s]
assert len(cases) == 3
assert isinstance(cases[0].result[0], Failure) and cases[0].result[0].message == t[0]["reason"], (cases[0].result[0].message, t[0]["reason"])
assert isinstance(cases[1].result[0], Skipped) and cases[1].result[0].message == t[1]["reason"]
print("ok")
EOF
then
	ok "quotes, backslashes, markup, a tab, a control byte and a non-ASCII byte: valid JSON (ASCII) and JUnit XML, values kept"
else
	cat "$out/weird.txt" | tail -5
	bad "a stream with quotes, markup and stray bytes breaks the JSON or the XML"
fi

# ---- a stream that ends inside a binary (a VM guest that died) ---------------
{
	echo "KTAP version 1"
	echo "# iopin on 6.12.117, x86_64"
	echo "1..2"
	echo "# running a:done"
	echo "    ok 1 f.v.one"
	echo "ok 1 a:done"
	echo "# running b:cut"
	echo "    #  RUN           g.v.one ..."
	echo "    not ok 1 g.v.one"
	echo "    ok 2 g.v.two"
	echo "    #  RUN           g.v.three ..."
} > "$out/cut.ktap"
awk -v mode=tsv -f lib/report.awk "$out/cut.ktap" | cut -f1-3 > "$out/cut.tsv"
awk -v mode=json -f lib/report.awk "$out/cut.ktap" > "$out/cut.json"
printf 'a/done\tf.v.one\tpass\nb/cut\tg.v.one\tfail\nb/cut\tg.v.two\tpass\n' > "$out/cut.want"
if cmp -s "$out/cut.tsv" "$out/cut.want" &&
   "$PY" -c 'import json, sys; e = json.load(open(sys.argv[1]))["errors"]; assert [x["binary"] for x in e] == ["b/cut"], e' \
	"$out/cut.json" 2>/dev/null; then
	ok "a stream ending inside a binary keeps its finished tests under its name and reports it as an error"
else
	bad "a stream ending inside a binary: $(tr '\t\n' ' |' < "$out/cut.tsv")"
fi

echo "check-reports: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
lib_done
