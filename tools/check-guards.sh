#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/check-guards.sh [run_tests.sh]: every test's guard tag is well formed
# and consistent, so that a typo in a hash cannot ship. A guard is one or
# more parts separated by "; ", each either
#   <12 hex digits> v<major>.<minor>[.<n>][-rcN] <subject>
#   unknown-commit v<major>.<minor>[-rcN] <subject>
#   CVE-<year>-<number> [for <what>] [(<12 hex> v<ver>[, <12 hex> v<ver>]...)]
# "unknown-commit" names a fix whose mainline commit id is not known yet
# by its subject and the first mainline release that has it (replace it by
# the id once found). A commit named in several tags always carries the
# same version (and the same subject where one is given); an unknown-commit
# subject always the same version. Prints each offence; exit 1 if any.
. "$(dirname "$0")/lib.sh"
lib_init check-guards
runner=${1:-$top/run_tests.sh}

"$runner" --no-build -l 2>&1 | awk -F'\t' '
function bad(msg) { printf "check-guards: %s: %s\n", test, msg; errors++ }
# (mawk has no {n} intervals: the 12-digit pattern is built in BEGIN.)
BEGIN { for (i = 0; i < 12; i++) HEX12 = HEX12 "[0-9a-f]" }
function commit(ref, subject,    h, v) {
	if (ref !~ ("^" HEX12 " v[0-9]+\\.[0-9]+(\\.[0-9]+)?(-rc[0-9]+)?$")) {
		bad("commit reference \"" ref "\" is not <12 hex> v<version>")
		return
	}
	h = substr(ref, 1, 12); v = substr(ref, 14)
	if (h in ver && ver[h] != v)
		bad("commit " h " is " v " here but " ver[h] " in " where[h])
	if (subject != "" && (h in subj) && subj[h] != subject)
		bad("commit " h " is \"" subject "\" here but \"" subj[h] "\" in " where[h])
	if (!(h in ver)) { ver[h] = v; where[h] = test }
	if (subject != "" && !(h in subj)) subj[h] = subject
}
{
	tests++
	# Each distinct guard is checked once, named by its first test.
	if ($2 in seen) next
	seen[$2]; test = $1; guard = $2
	if (guard !~ /^\[.*\]$/) { bad("no guard column"); next }
	guard = substr(guard, 2, length(guard) - 2)
	if (guard == "(no guard declared)") { bad("no guard declared"); next }
	n = split(guard, part, /; /)
	for (i = 1; i <= n; i++) {
		p = part[i]
		if (p ~ /^unknown-commit /) {
			if (p !~ /^unknown-commit v[0-9]+\.[0-9]+(-rc[0-9]+)? [^ ]/) {
				bad("\"" p "\" is not unknown-commit v<version> <subject>")
				continue
			}
			split(p, w, " ")
			subject = p; sub(/^[^ ]+ [^ ]+ /, "", subject)
			if ((subject in uver) && uver[subject] != w[2])
				bad("fix \"" subject "\" is " w[2] " here but " uver[subject] " in " uwhere[subject])
			if (!(subject in uver)) { uver[subject] = w[2]; uwhere[subject] = test; nunknown++ }
		} else if (p ~ /^[0-9a-f]+ v[0-9]/) {
			# <hash> <version> <subject>
			split(p, w, " ")
			subject = p; sub(/^[^ ]+ [^ ]+ ?/, "", subject)
			if (subject == "") bad("commit " w[1] " has no subject")
			commit(w[1] " " w[2], subject)
		} else if (p ~ /^CVE-/) {
			if (p !~ /^CVE-[12][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]*( |$)/) { bad("malformed CVE id in \"" p "\""); continue }
			rest = p; sub(/^CVE-[0-9]+-[0-9]+ ?/, "", rest)
			# "[for <what>] [(<refs>)]", in either order
			if (match(rest, /\([^)]*\)/)) {
				inner = substr(rest, RSTART + 1, RLENGTH - 2)
				rest = substr(rest, 1, RSTART - 1) substr(rest, RSTART + RLENGTH)
				m = split(inner, refs, /, /)
				for (j = 1; j <= m; j++) commit(refs[j], "")
			}
			sub(/ +$/, "", rest)
			if (rest != "" && rest !~ /^for [^ ]/) bad("unexpected text after the CVE: \"" rest "\"")
		} else {
			bad("guard part \"" p "\" is neither <12 hex> v<version> <subject> nor a CVE id")
		}
	}
}
END {
	for (h in ver) ncommits++
	for (g in seen) nguards++
	printf "check-guards: %d tests, %d distinct guards, %d commits, %d fix(es) without a known commit id, %d problem(s)\n", tests, nguards, ncommits, nunknown, errors
	exit errors > 0 || tests == 0
}'
