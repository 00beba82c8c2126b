#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/matrix.sh (make matrix): the suite on every Debian kernel line, as
# one table a distro validation team reads first: a row per guard (the fix
# a test guards), a column per kernel, each cell one of
#   present            every test of the guard ran and passed
#   missing N/M        N of its M tests fail and an expectations file says
#                      the kernel lacks that fix (XFAIL naming a commit)
#   unfixed N/M        they fail as expected, and no fix exists (or flaky)
#   FAIL N/M           N fail and no expectation covers them (a regression,
#                      or an expectation missing): look here first
#   XPASS N/M          tests an expectation says fail now pass
#   n/t                not testable there: every test skipped (the reason)
# then wall time per kernel, and the same as JSON.
#
#   tools/matrix.sh [--kernels "K..."] [--flavours] [--from DIR] [--json FILE]
#                   [--out DIR] [-- run_tests.sh arguments, e.g. -c ptrace_access]
#
# --kernels: --vm specs (default: debian-5.10 debian-6.1 debian-6.12
# debian-7.2 debian-7.3, the newest build of each line; vm/kernels.sh pinned
# NAME gives make check's); --flavours adds each line's -cloud and -rt;
# --from DIR renders DIR's K.json reports (from an earlier --out DIR)
# without booting, each with the K+WHAT.json reports of more runs on that
# kernel (make check's boots with more options); --out DIR keeps each kernel's KTAP stream and JSON.
# Cached kernels are reused (vm/README.md, "Caching").
# Exit 0 when no cell is FAIL or XPASS, 1 otherwise, 2 bad usage.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
kernels="debian-5.10 debian-6.1 debian-6.12 debian-7.2 debian-7.3"
flavours=0 from="" json="" outdir="" args=()

usage() { sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) [ $# -ge 2 ] || { usage >&2; exit 2; }; kernels=$2; shift ;;
	--flavours) flavours=1 ;;
	--from) [ -d "${2:-}" ] || { echo "matrix: --from needs a directory" >&2; exit 2; }; from=$2; shift ;;
	--json) [ $# -ge 2 ] || { usage >&2; exit 2; }; json=$2; shift ;;
	--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; outdir=$2; shift ;;
	--) shift; args=("$@"); break ;;
	-h|--help) usage; exit 0 ;;
	*) echo "matrix: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
if [ $flavours = 1 ]; then
	all=""
	for k in $kernels; do
		all+=" $k"
		[[ $k == debian-[0-9]* ]] && all+=" $k-cloud $k-rt"
	done
	kernels=$all
fi

if [ -n "$from" ]; then
	dir=$from
else
	if [ -n "$outdir" ]; then
		mkdir -p -- "$outdir" || exit 2
		dir=$outdir
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/iopin-matrix.XXXXXX") || exit 2
		trap 'rm -rf "$dir"' EXIT
	fi
	for k in $kernels; do
		start=$(date +%s)
		echo "matrix: $k ..." >&2
		./run_tests.sh --vm "$k" --json "$dir/$k.json" "${args[@]}" > "$dir/$k.ktap" 2> "$dir/$k.err"
		rc=$?
		echo "$(( $(date +%s) - start )) $rc" > "$dir/$k.time"
		echo "matrix: $k: exit $rc in $(( $(date +%s) - start )) s; $(grep '^# Totals' "$dir/$k.ktap")" >&2
	done
fi

# shellcheck disable=SC2086
python3 - "$dir" "$json" $kernels <<'EOF'
import glob, json, os, re, sys
dir, jsonout, kernels = sys.argv[1], sys.argv[2], sys.argv[3:]
cells, guards, meta = {}, {}, {}
names = {}

def fixes(tag):
    """The fixes a guard tag names, one row each: a commit (by its id, with
    the first subject seen), a fix without a known id (by its subject), a
    CVE. A test with a combined guard counts in every row it names."""
    out = []
    for p in tag.split("; "):
        m = re.match(r"([0-9a-f]{12}) (v\S+)", p)
        if m:
            key = m.group(1)
        elif p.startswith("unknown-commit "):
            key = p
        else:
            key = p.split(" ", 1)[0]
        names.setdefault(key, re.sub(r" \(device removal: .*\)$", "", p))
        out.append(key)
    return out
for k in kernels:
    path = os.path.join(dir, k + ".json")
    t = None
    if os.path.exists(os.path.join(dir, k + ".time")):
        t = open(os.path.join(dir, k + ".time")).read().split()
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        meta[k] = {"kernel": "?", "seconds": int(t[0]) if t else None,
                   "exit": int(t[1]) if t else None, "complete": False}
        continue
    rep = json.load(open(path))
    meta[k] = {"kernel": rep.get("kernel", "?"), "seconds": int(t[0]) if t else None,
               "exit": int(t[1]) if t else None, "complete": True,
               "errors": [e["binary"] + ": " + e["reason"][:120] for e in rep.get("errors", [])]}
    # K+WHAT.json: more runs on that kernel (make check's boot with the
    # options the suite run lacks): what they ran counts in K's column.
    tests = list(rep["tests"])
    for extra in sorted(glob.glob(glob.escape(os.path.join(dir, k)) + "+*.json")):
        if os.path.getsize(extra):
            tests += json.load(open(extra))["tests"]
    for r in tests:
        parts = fixes(r["guard"] or "(no guard)")
        blame = None
        if r["verdict"] == "xfail":
            # An expectation names the fix this failure is due to: with a
            # combined guard, the failure counts in that fix's row only.
            m = re.match(r"([0-9a-f]{12}) |unknown-commit (v\S+ .*?) \(expectations/", r["reason"])
            if m:
                key = m.group(1) or "unknown-commit " + m.group(2)
                if key in parts:
                    blame = key
        for g in parts:
            if blame and g != blame:
                continue
            guards.setdefault(g, 0)
            c = cells.setdefault((g, k), {"n": 0, "pass": 0, "fail": 0, "xpass": 0,
                                          "missing": 0, "unfixed": 0, "skip": 0, "why": set()})
            c["n"] += 1
            v = r["verdict"]
            if v == "xfail":
                fix = r["reason"].split(" ", 1)[0]
                if re.fullmatch(r"[0-9a-f]{12}|unknown-commit", fix):
                    c["missing"] += 1
                else:
                    c["unfixed"] += 1
            elif v in c:
                c[v] += 1
            if v == "skip":
                c["why"].add(r["reason"][:90])

def cell(g, k):
    c = cells.get((g, k))
    if not meta.get(k, {}).get("complete"):
        return "no run"
    if not c:
        return "-"
    ran = c["n"] - c["skip"]
    if c["fail"]:
        return f"FAIL {c['fail']}/{ran}"
    if c["xpass"]:
        return f"XPASS {c['xpass']}/{ran}"
    if c["missing"]:
        return f"missing {c['missing']}/{ran}"
    if c["unfixed"]:
        return f"unfixed {c['unfixed']}/{ran}"
    if ran == 0:
        return "n/t"
    return "present"

def order(g):
    m = re.search(r"\bv(\d+)\.(\d+)", g)
    return (int(m.group(1)), int(m.group(2)), g) if m else (99, 99, g)

rows = sorted(guards, key=lambda g: order(names[g]))
w = max([len(x) for x in kernels] + [len(cell(g, k)) for g in rows for k in kernels] + [12])
print("# iopin kernel matrix: a row per guard, a column per kernel")
print("guard".ljust(60) + "".join(k.rjust(w + 2) for k in kernels))
bad = 0
for g in rows:
    n = names[g]
    line = (n[:57] + "...") if len(n) > 60 else n
    vals = [cell(g, k) for k in kernels]
    bad += sum(v.startswith(("FAIL", "XPASS")) for v in vals)
    print(line.ljust(60) + "".join(v.rjust(w + 2) for v in vals))
print("kernel".ljust(60) + "".join(meta[k]["kernel"][:w].rjust(w + 2) for k in kernels))
print("wall s".ljust(60) + "".join(str(meta[k]["seconds"] or "?").rjust(w + 2) for k in kernels))
print("exit".ljust(60) + "".join(str(meta[k]["exit"] if meta[k]["exit"] is not None else "?").rjust(w + 2) for k in kernels))
for k in kernels:
    for e in meta[k].get("errors", []):
        print(f"# {k}: did not complete: {e}")
    nt = [(g, cells[(g, k)]["why"]) for g in rows
          if (g, k) in cells and cell(g, k) == "n/t"]
    for g, why in nt:
        print(f"# {k}: n/t {names[g][:50]}: {'; '.join(sorted(why))[:160]}")
if jsonout:
    out = {"kernels": meta, "guards": {
        names[g]: {k: {"cell": cell(g, k), **({kk: vv for kk, vv in cells[(g, k)].items() if kk != "why"}
                                        if (g, k) in cells else {})} for k in kernels} for g in rows}}
    with open(jsonout, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
sys.exit(1 if bad or any(not m.get("complete") for m in meta.values()) else 0)
EOF
