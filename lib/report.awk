# SPDX-License-Identifier: GPL-2.0-only
#
# lib/report.awk - turn iopin's KTAP stream (as run_tests.sh prints it, or
# run_tests.sh --vm, each binary nested by 4 spaces) into reports:
#
#   awk -v mode=summary -f lib/report.awk STREAM   failures grouped by guard,
#                                                  as KTAP diagnostic lines
#   awk -v mode=json    -f lib/report.awk STREAM   one JSON record per test
#   awk -v mode=junit   -f lib/report.awk STREAM   JUnit XML
#   awk -v mode=tsv     -f lib/report.awk STREAM   the records, tab separated
#
# A record: collection, binary, test (FIXTURE.VARIANT.TEST), verdict (pass,
# fail, xfail, xpass, skip), guard, needs, duration in ms, reason (SKIP
# reason, expectation of an XFAIL/XPASS, or the failure's diagnostics),
# kernel release. A binary that failed without a failing test (timed out,
# crashed before its first result, left global state changed: the runner
# prints "# COLL:BIN: problem" before its "not ok N COLL:BIN") is an error:
# JSON "errors", a JUnit testcase with <error>, a summary line. So is a
# binary inside which the stream ends (the runner's "# running COLL:BIN"
# names it): the tests it finished are kept.
# Written for POSIX awk (mawk, busybox awk).

function reset_test() {
	guard = ""; needs = ""; ms = ""; diag = ""
}

function add_diag(s) {
	if (length(diag) > 600)
		return
	diag = diag (diag == "" ? "" : " | ") s
}

# One finished test of the current binary.
function record(verdict, name, reason) {
	n++
	r_bin[n] = ""; r_test[n] = name; r_verdict[n] = verdict
	r_guard[n] = guard; r_needs[n] = needs; r_ms[n] = ms; r_reason[n] = reason
	pending[++npending] = n
	if (verdict == "fail" || verdict == "xpass")
		pending_bad++
	reset_test()
}

BEGIN {
	if (mode == "") mode = "summary"
	kernel = "unknown"; n = 0; npending = 0; pending_bad = 0; ne = 0
	reset_test()
}

# Kernel release: the runner's header (the guest's, inside a VM run).
/^# iopin on / {
	k = $0; sub(/^# iopin on /, "", k); sub(/,.*$/, "", k); kernel = k
	next
}

# Nested: one binary's harness output.
/^    / {
	line = substr($0, 5)
	if (line ~ /^#  RUN /) { reset_test(); next }
	if (line ~ /^# guards: /) { guard = substr(line, 11); next }
	if (line ~ /^# needs: /) { needs = substr(line, 10); next }
	if (line ~ /^# time: [0-9]+ ms$/) { ms = line; gsub(/[^0-9]/, "", ms); next }
	if (line ~ /^(not ok|ok) [0-9]+ /) {
		res = line
		verdict = (res ~ /^not ok/) ? "fail" : "pass"
		sub(/^(not ok|ok) [0-9]+ /, "", res)
		name = res; dir = ""
		if (match(res, / # /)) {
			name = substr(res, 1, RSTART - 1)
			dir = substr(res, RSTART + 3)
		}
		reason = diag
		if (dir ~ /^XFAIL/) { verdict = "xfail"; reason = substr(dir, 7) }
		else if (dir ~ /^XPASS/) { verdict = "xpass"; reason = substr(dir, 7) }
		else if (dir ~ /^SKIP/) { verdict = "skip"; reason = substr(dir, 6) }
		else if (verdict == "pass") reason = ""
		record(verdict, name, reason)
		next
	}
	# Failure diagnostics, less the harness's and runner's own markers.
	if (line ~ /^# / && line !~ /^#  *(OK|FAIL|SKIP|XFAIL|XPASS)  / &&
	    line !~ / failed as expected on this kernel/ &&
	    line !~ / passed but is expected to fail/ &&
	    line !~ /^# (Starting|PASSED|FAILED|Totals|Planned)/)
		add_diag(substr(line, 3))
	next
}

# Top level: the runner's "# cow:fork: timed out after 900s".
/^# [A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+: / {
	b = substr($0, 3); p = index(b, ": ")
	problem[substr(b, 1, p - 1)] = substr(b, p + 2)
	next
}

# Top level: the runner names each binary before running it; a stream that
# ends inside one (a guest that died) keeps what it reported (END).
/^# running [A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/ {
	running = substr($0, 11)
	next
}

# Top level: "ok 3 cow:pin_rw" closes a binary; "not ok" after a problem
# line, with no failing test of the binary, is a binary error.
/^(not ok|ok) [0-9]+ / {
	b = $0; sub(/^(not ok|ok) [0-9]+ /, "", b); sub(/ # .*$/, "", b)
	key = b
	sub(/:/, "/", b)
	for (i = 1; i <= npending; i++)
		r_bin[pending[i]] = b
	nbad[b] += pending_bad
	npending = 0; pending_bad = 0
	if ($0 ~ /^not ok/ && problem[key] != "" && !nbad[b] && !(b in e_of)) {
		e_bin[++ne] = b; e_reason[ne] = problem[key]; e_of[b] = ne
	}
	next
}

# replace_all(s, from, to): every FROM in S by TO, both literal strings.
# Not gsub(): what "\\" and "\\&" stand for in its replacement differs
# between awks (mawk turns gsub(/\\/, "\\\\") into a single backslash).
function replace_all(s, from, to,    out, i) {
	out = ""
	while ((i = index(s, from)) > 0) {
		out = out substr(s, 1, i - 1) to
		s = substr(s, i + length(from))
	}
	return out s
}

function json_str(s) {
	s = replace_all(s, "\\", "\\\\"); s = replace_all(s, "\"", "\\\"")
	s = replace_all(s, "\t", "\\t"); s = replace_all(s, "\r", "\\r")
	gsub(/[\001-\037]/, "?", s)
	gsub(/[\200-\377]/, "?", s)	# ASCII only: a stray byte would not be UTF-8
	return "\"" s "\""
}

function xml_attr(s) {
	s = replace_all(s, "&", "&amp;"); s = replace_all(s, "<", "&lt;")
	s = replace_all(s, ">", "&gt;"); s = replace_all(s, "\"", "&quot;")
	s = replace_all(s, "\t", "&#9;")	# a parser turns a raw tab into a space
	gsub(/[\001-\010\013\014\016-\037]/, "?", s)
	gsub(/[\200-\377]/, "?", s)
	return "\"" s "\""
}

function collection(b) {
	return substr(b, 1, index(b, "/") - 1)
}

function emit_json(    i) {
	printf "{\n  \"kernel\": %s,\n  \"tests\": [", json_str(kernel)
	for (i = 1; i <= n; i++) {
		printf "%s\n    {\"collection\": %s, \"binary\": %s, \"test\": %s, \"verdict\": %s, ",
			(i > 1 ? "," : ""), json_str(collection(r_bin[i])), json_str(r_bin[i]),
			json_str(r_test[i]), json_str(r_verdict[i])
		printf "\"guard\": %s, \"needs\": %s, \"duration_ms\": %s, \"reason\": %s, \"kernel\": %s}",
			json_str(r_guard[i]), json_str(r_needs[i]), (r_ms[i] == "" ? "null" : r_ms[i]),
			json_str(r_reason[i]), json_str(kernel)
	}
	printf "\n  ],\n  \"errors\": ["
	for (i = 1; i <= ne; i++)
		printf "%s\n    {\"collection\": %s, \"binary\": %s, \"reason\": %s, \"kernel\": %s}",
			(i > 1 ? "," : ""), json_str(collection(e_bin[i])), json_str(e_bin[i]),
			json_str(e_reason[i]), json_str(kernel)
	printf "%s]\n}\n", (ne ? "\n  " : "")
}

function emit_junit(    i, j, b, nb, order, tests, fails, skips, secs, t, tfails, tskips, tsecs) {
	nb = 0
	for (i = 1; i <= n; i++) {
		b = r_bin[i]
		if (!(b in tests)) { order[++nb] = b; tests[b] = fails[b] = skips[b] = secs[b] = 0 }
		tests[b]++
		if (r_verdict[i] == "fail" || r_verdict[i] == "xpass") fails[b]++
		if (r_verdict[i] == "skip") skips[b]++
		secs[b] += r_ms[i] / 1000
	}
	for (i = 1; i <= ne; i++) {
		b = e_bin[i]
		if (!(b in tests)) { order[++nb] = b; tests[b] = fails[b] = skips[b] = secs[b] = 0 }
		tests[b]++
	}
	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	for (j = 1; j <= nb; j++) {
		b = order[j]
		tfails += fails[b]; tskips += skips[b]; tsecs += secs[b]
	}
	printf "<testsuites name=\"iopin\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
		n + ne, tfails, ne, tskips, tsecs
	for (j = 1; j <= nb; j++) {
		b = order[j]
		printf "  <testsuite name=%s tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
			xml_attr(b), tests[b], fails[b], (b in e_of) ? 1 : 0, skips[b], secs[b]
		printf "    <properties><property name=\"kernel\" value=%s/></properties>\n", xml_attr(kernel)
		for (i = 1; i <= n; i++) {
			if (r_bin[i] != b) continue
			t = (r_ms[i] == "") ? 0 : r_ms[i] / 1000
			printf "    <testcase classname=%s name=%s time=\"%.3f\">\n",
				xml_attr(b), xml_attr(r_test[i]), t
			printf "      <properties><property name=\"guard\" value=%s/>", xml_attr(r_guard[i])
			if (r_needs[i] != "")
				printf "<property name=\"needs\" value=%s/>", xml_attr(r_needs[i])
			if (r_verdict[i] == "xfail")
				printf "<property name=\"xfail\" value=%s/>", xml_attr(r_reason[i])
			printf "</properties>\n"
			if (r_verdict[i] == "skip")
				printf "      <skipped message=%s/>\n", xml_attr(r_reason[i])
			else if (r_verdict[i] == "fail")
				printf "      <failure message=%s/>\n", xml_attr(r_reason[i])
			else if (r_verdict[i] == "xpass")
				printf "      <failure message=%s/>\n",
					xml_attr("passed, but an expectation says it fails here: " r_reason[i])
			printf "    </testcase>\n"
		}
		if (b in e_of) {
			printf "    <testcase classname=%s name=%s time=\"0.000\">\n", xml_attr(b), xml_attr(b)
			printf "      <error message=%s/>\n", xml_attr(e_reason[e_of[b]])
			printf "    </testcase>\n"
		}
		printf "  </testsuite>\n"
	}
	print "</testsuites>"
}

# Failures (and expected failures) grouped by the fix they guard.
function emit_summary(    i, j, pass, g, ng, gorder, nfail, nx, nxp, what) {
	ng = 0
	for (i = 1; i <= n; i++) {
		if (r_verdict[i] != "fail" && r_verdict[i] != "xfail" && r_verdict[i] != "xpass")
			continue
		g = r_guard[i] == "" ? "(no guard)" : r_guard[i]
		if (!(g in nfail)) { gorder[++ng] = g; nfail[g] = nx[g] = nxp[g] = 0 }
		if (r_verdict[i] == "fail") nfail[g]++
		else if (r_verdict[i] == "xfail") nx[g]++
		else nxp[g]++
	}
	if (!ng && !ne) {
		printf "# summary: kernel %s fails no test\n", kernel
		return
	}
	printf "# summary: kernel %s, failures by the fix each test guards:\n", kernel
	for (i = 1; i <= ne; i++)
		printf "# kernel %s: %s did not complete: %s\n", kernel, e_bin[i], e_reason[i]
	# Unexpected failures first: they are what a reader must act on.
	for (pass = 1; pass <= 2; pass++)
		for (j = 1; j <= ng; j++) {
			g = gorder[j]
			if ((pass == 1) != (nfail[g] + nxp[g] > 0))
				continue
			what = (g ~ /^CVE-/) ? "" : " -- missing fix or a regression of it"
			if (nfail[g] + nx[g] > 0)
				printf "# kernel %s fails %d test(s) guarded by %s%s: %d unexpected, %d expected (XFAIL)%s\n",
					kernel, nfail[g] + nx[g], g, what, nfail[g], nx[g],
					(nxp[g] ? ", and " nxp[g] " expected to fail passed (XPASS)" : "")
			else
				# Only XPASSes: the kernel has the fix; an expectation is stale.
				printf "# kernel %s passes %d test(s) guarded by %s that an expectation says fail here (XPASS): stale expectation?\n",
					kernel, nxp[g], g
			for (i = 1; i <= n; i++) {
				if ((r_guard[i] == "" ? "(no guard)" : r_guard[i]) != g) continue
				if (r_verdict[i] == "fail")
					printf "#   not ok  %s:%s\n", r_bin[i], r_test[i]
				else if (r_verdict[i] == "xpass")
					printf "#   XPASS   %s:%s (%s)\n", r_bin[i], r_test[i], r_reason[i]
			}
			for (i = 1; i <= n; i++) {
				if ((r_guard[i] == "" ? "(no guard)" : r_guard[i]) != g) continue
				if (r_verdict[i] == "xfail")
					printf "#   XFAIL   %s:%s (%s)\n", r_bin[i], r_test[i], r_reason[i]
			}
		}
}

END {
	if (npending > 0 && running != "") {
		b = running
		sub(/:/, "/", b)
		for (i = 1; i <= npending; i++)
			r_bin[pending[i]] = b
		e_bin[++ne] = b; e_of[b] = ne
		e_reason[ne] = "the stream ended inside it (no result line): the run died"
	}
	if (mode == "json") emit_json()
	else if (mode == "junit") emit_junit()
	else if (mode == "tsv")
		for (i = 1; i <= n; i++)
			printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r_bin[i], r_test[i], r_verdict[i],
				r_guard[i], r_needs[i], r_ms[i], r_reason[i], kernel
	else emit_summary()
}
